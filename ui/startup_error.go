package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// NewStartupErrorWindow is shown instead of the console when Parley cannot
// start, e.g. when the database is damaged or from a newer version. Someone
// who launched Parley from a desktop icon has no terminal to read an error
// in, so it says there what went wrong and what to do, and offers the data
// folder where the problem usually is (deps.DataDir; the folder opens
// through deps.OpenFolder, or the app's [OpenFolderWith] when that is nil).
func NewStartupErrorWindow(app fyne.App, err error, deps Deps) fyne.Window {
	if deps.OpenFolder == nil {
		deps.OpenFolder = OpenFolderWith(app)
	}
	deps = deps.withDefaults()
	win := app.NewWindow("Parley cannot start")
	win.SetMaster()
	if icon := app.Icon(); icon != nil {
		win.SetIcon(icon)
	}
	heading := widget.NewLabelWithStyle("Parley cannot start", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	detail := widget.NewLabel(err.Error())
	detail.Wrapping = fyne.TextWrapWord
	detail.Selectable = true // so it can be copied into a support request
	nothingChanged := widget.NewLabel("Nothing was changed. Your data is where it was.")

	openFolder := widget.NewButtonWithIcon("Open Data Folder", theme.FolderOpenIcon(), func() {
		if err := deps.OpenFolder(deps.DataDir); err != nil {
			dialog.ShowError(fmt.Errorf("could not open %s: %w", deps.DataDir, err), win)
		}
	})
	quit := widget.NewButtonWithIcon("Quit", theme.CancelIcon(), app.Quit)
	quit.Importance = widget.HighImportance
	buttons := container.NewHBox(layout.NewSpacer(), openFolder, quit)

	win.SetContent(container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewIcon(theme.ErrorIcon()), heading), widget.NewSeparator()),
		buttons, nil, nil,
		container.NewVScroll(container.NewVBox(detail, nothingChanged))))
	win.Resize(fyne.NewSize(640, 300))
	return win
}
