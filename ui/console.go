// Package ui is Parley's desktop console: a window with one screen per part of
// the sync (connections, mapping, conversations, contacts, sync, history,
// rules). Screens read the store and ask the engine for anything live through
// the small interfaces in deps.go; they never talk to AD or GHL themselves.
//
// Threading: every widget is created and changed on the Fyne main goroutine.
// Work that may block (queries, engine calls) runs in a goroutine and hands
// its result back with fyne.Do. Every such goroutine has an owner: it runs
// with a context that ends when its screen is left or the window closes,
// and closing the window waits for it (see background.go).
package ui

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/assets"
	"parley/store"
)

// Console is the main window and its navigation.
type Console struct {
	app     fyne.App
	win     fyne.Window
	deps    Deps
	screens []*screen
	nav     *widget.List
	content *fyne.Container
	current int
	status  *widget.Label
	history *historyScreen
	alerts  *alertsScreen
	// contacts is the Contacts screen, kept for tests.
	contacts *contactScreen
	// connections is the Connections screen, kept for the demo banner
	// and tests.
	connections *connectionsScreen
	// badge is the number of open alerts, shown beside Alerts in the
	// sidebar.
	badge int
	// importer is the import of export files (File > Import, Ctrl+I).
	importer *importFlow
	// guide is the first-run guide while it is open.
	guide *guide

	// ctx ends when the window closes; each screen's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc
	// bg owns every goroutine the screens start; closing the window waits
	// for them, so none outlives the console (or the database main closes
	// after it).
	bg sync.WaitGroup
	// closed is set (on the UI goroutine) once the window has closed.
	closed bool
	// closeGrace bounds that wait. A keyring probe cannot be cancelled
	// (go-keyring takes no context) and may sit behind an unlock prompt; a
	// window that does not close because of it would look hung.
	closeGrace time.Duration
}

// defaultCloseGrace is long enough for any cancelled query to return.
const defaultCloseGrace = 5 * time.Second

// NewConsole builds the console window for app. It does not show it; call
// ShowAndRun (or Window().Show() in tests).
func NewConsole(app fyne.App, deps Deps) *Console {
	c := &Console{app: app, closeGrace: defaultCloseGrace}
	c.win = app.NewWindow("Parley")
	c.win.SetMaster()
	c.win.Resize(c.savedSize())
	c.win.SetOnClosed(func() {
		c.closed = true
		c.saveSize()
		c.retire()
	})
	if icon := app.Icon(); icon != nil {
		c.win.SetIcon(icon)
	}
	c.build(deps)
	c.watch()
	c.offerGuide()
	return c
}

// build lays the window out for deps: every screen, the navigation, the
// menu and the shortcuts. A mode switch builds again with the new deps.
func (c *Console) build(deps Deps) {
	if deps.OpenFolder == nil {
		deps.OpenFolder = OpenFolderWith(c.app)
	}
	c.deps, c.current, c.badge = deps.withDefaults(), -1, 0
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.importer = newImportFlow(c.win, c.deps.Importer, c.deps.Do, c.app.Preferences(), c.showHistory)
	c.screens = c.buildScreens()
	c.content = container.NewStack()
	c.nav = c.buildNav()
	c.status = widget.NewLabel(c.statusText())
	c.status.Truncation = fyne.TextTruncateEllipsis

	split := container.NewHSplit(c.nav, c.content)
	split.Offset = 0.18
	c.win.SetContent(container.NewBorder(c.demoBanner(), container.NewVBox(widget.NewSeparator(), c.status), nil, nil, split))
	c.win.SetMainMenu(c.buildMenu())
	c.addShortcuts()
	c.nav.Select(c.startScreen())
	c.alerts.start()
}

// retire stops the work of the deps on display and hands them back.
func (c *Console) retire() {
	c.importer.stop()
	c.stop()
	if c.deps.Release != nil {
		c.deps.Release()
	}
}

// SwitchMode shows the console's other mode in this window: the accounts
// in the keyring (demo false) or the built-in sandboxes. Opening the mode
// runs off the UI goroutine behind a progress dialog; on success the old
// mode's screens stop, its sync and database are released, and then runs
// with the new console (e.g. to carry on with the first-run guide). The
// two modes keep separate databases, so nothing is mixed.
func (c *Console) SwitchMode(demo bool, then func(*Console)) {
	if !c.mayLeave(func() { c.SwitchMode(demo, then) }) {
		return
	}
	if c.deps.SwitchMode == nil {
		dialog.ShowInformation("Cannot switch here", "This window cannot change mode. Restart Parley (with --demo for the demo).", c.win)
		return
	}
	what := "Opening your accounts…"
	if demo {
		what = "Starting the demo…"
	}
	bar := widget.NewProgressBarInfinite()
	wait := dialog.NewCustomWithoutButtons(what, bar, c.win)
	wait.Show()
	open := c.deps.SwitchMode
	do := c.deps.Do
	// Not one of c.bg's: retiring the old mode waits for those, from the
	// UI goroutine this one hands its result to. It ends with that hand-
	// over, and a window closed meanwhile releases what it opened.
	go func() {
		next, err := open(context.Background(), demo)
		do(func() {
			bar.Stop()
			wait.Hide()
			if c.closed {
				if err == nil && next.Release != nil {
					next.Release() // the window closed while the mode opened
				}
				return
			}
			if err != nil {
				dialog.ShowError(fmt.Errorf("could not switch: %w", err), c.win)
				return
			}
			c.retire()
			c.build(next)
			if then != nil {
				then(c)
			}
		})
	}()
}

// Demo reports whether the console shows the built-in sandboxes' data.
func (c *Console) Demo() bool { return c.deps.Demo }

// demoBanner says, above every screen, that the data is the demo's, with
// the way out one click away; nil outside demo mode.
func (c *Console) demoBanner() fyne.CanvasObject {
	if !c.deps.Demo {
		return nil
	}
	text := widget.NewLabelWithStyle(demoBannerText, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	leave := widget.NewButtonWithIcon("Use my accounts", theme.LoginIcon(), c.leaveDemo)
	leave.Importance = widget.HighImportance
	return container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), leave, text), widget.NewSeparator())
}

// leaveDemo is the banner's one click: with both accounts connected it
// switches to them (after saying what happens to the demo data);
// otherwise it opens the setup guide to connect them.
func (c *Console) leaveDemo() {
	if c.deps.Connections == nil || c.deps.SwitchMode == nil {
		c.Show("Connections")
		return
	}
	conns := c.deps.Connections
	c.background().run(c.ctx, func(ctx context.Context) func() {
		st, err := conns.Status(ctx)
		return func() {
			if err != nil {
				c.Show("Connections")
				c.connections.say("Cannot read the saved credentials (" + err.Error() + "): check the credential storage below, then click \"Use my accounts\" again.")
				return
			}
			if !st.GHL.Connected() || !st.AD.Connected() {
				c.showGuide(1)
				return
			}
			dialog.ShowConfirm("Use your accounts?",
				"Parley switches to your ActiveDEMAND account and HighLevel location, with a history and id map of their own.\n"+
					"The demo's data stays in its own folder; File > Open the Demo brings it back.",
				func(ok bool) {
					if ok {
						c.SwitchMode(false, nil)
					}
				}, c.win)
		}
	})
}

// demoBannerText heads the window in demo mode.
const demoBannerText = "Demo data: connect your accounts"

// setBadge shows n open alerts beside Alerts in the sidebar.
func (c *Console) setBadge(n int) {
	if c.badge == n {
		return
	}
	c.badge = n
	c.nav.Refresh()
}

// badgeText is the sidebar badge of screen title.
func (c *Console) badgeText(title string) string {
	if title == "Alerts" && c.badge > 0 {
		return fmt.Sprint(c.badge)
	}
	return ""
}

// jumpTo shows where an alert's cause is: a screen, and for History the
// row its reference finds.
func (c *Console) jumpTo(t store.AlertTarget) {
	if !c.Show(t.Screen) {
		return
	}
	if t.Screen == store.TargetHistory && t.Ref != "" {
		c.history.search.SetText(t.Ref)
	}
}

// stop cancels every screen's work and waits for its goroutines, at most
// closeGrace.
func (c *Console) stop() {
	c.cancel()
	done := make(chan struct{})
	go func() {
		c.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(c.closeGrace):
		slog.Warn("closed the console with background work still running", "waited", c.closeGrace)
	}
}

// background starts goroutines owned by the console.
func (c *Console) background() background { return background{wg: &c.bg, do: c.deps.Do} }

// importShortcut opens the import of an export file.
var importShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyI, Modifier: fyne.KeyModifierShortcutDefault}

// quitShortcut quits as the window's close button does, asking first when
// the screen on display holds unsaved edits. Fyne's desktop driver gives
// its own Quit item no key on Linux and Windows, and its Quit would close
// the window past that question in the test driver.
var quitShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}

// The window comes back at the size it was closed at.
const (
	widthKey    = "console.width"
	heightKey   = "console.height"
	startWidth  = 1100
	startHeight = 720
	// Smaller than this and the History table has no room; a saved size
	// below it (e.g. from a tiny screen) is not restored.
	minWidth, minHeight = 640, 400
)

func (c *Console) savedSize() fyne.Size {
	p := c.app.Preferences()
	w, h := p.FloatWithFallback(widthKey, startWidth), p.FloatWithFallback(heightKey, startHeight)
	if w < minWidth || h < minHeight {
		return fyne.NewSize(startWidth, startHeight)
	}
	return fyne.NewSize(float32(w), float32(h))
}

func (c *Console) saveSize() {
	size := c.win.Canvas().Size()
	c.app.Preferences().SetFloat(widthKey, float64(size.Width))
	c.app.Preferences().SetFloat(heightKey, float64(size.Height))
}

// lastScreenKey remembers the screen on display between runs: an admin who
// lives in History should not have to click there every morning.
const lastScreenKey = "console.lastScreen"

func (c *Console) startScreen() int {
	last := c.app.Preferences().String(lastScreenKey)
	for i, s := range c.screens {
		if s.title == last {
			return i
		}
	}
	return 0
}

// showHistory brings the History screen to the front with its newest rows.
func (c *Console) showHistory() {
	if c.Current() == "History" {
		c.history.refresh()
		return
	}
	c.Show("History")
}

// Window returns the console window.
func (c *Console) Window() fyne.Window { return c.win }

// ShowAndRun shows the window and runs the app until it is closed.
func (c *Console) ShowAndRun() { c.win.ShowAndRun() }

// Current returns the title of the screen on display.
func (c *Console) Current() string {
	if c.current < 0 {
		return ""
	}
	return c.screens[c.current].title
}

// Titles lists the screens in navigation order.
func (c *Console) Titles() []string {
	titles := make([]string, len(c.screens))
	for i, s := range c.screens {
		titles[i] = s.title
	}
	return titles
}

// Show switches to the screen with the given title; it reports false if
// there is no such screen.
func (c *Console) Show(title string) bool {
	for i, s := range c.screens {
		if s.title == title {
			c.nav.Select(i)
			return true
		}
	}
	return false
}

func (c *Console) buildNav() *widget.List {
	nav := widget.NewList(
		func() int { return len(c.screens) },
		func() fyne.CanvasObject {
			badge := widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
			badge.Importance = widget.DangerImportance
			return container.NewBorder(nil, nil, widget.NewIcon(nil), badge, widget.NewLabel("Conversations"))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			row := o.(*fyne.Container)
			// Border keeps its objects in the order given: centre, then
			// left, then right.
			row.Objects[0].(*widget.Label).SetText(c.screens[id].title)
			row.Objects[1].(*widget.Icon).SetResource(c.screens[id].icon)
			row.Objects[2].(*widget.Label).SetText(c.badgeText(c.screens[id].title))
		},
	)
	nav.OnSelected = func(id widget.ListItemID) { c.activate(id) }
	return nav
}

// activate builds a screen the first time it is shown (so start-up does no
// work for screens nobody opens) and swaps it in.
func (c *Console) activate(i int) {
	if i == c.current || i < 0 || i >= len(c.screens) {
		return
	}
	if !c.mayLeave(func() { c.nav.Select(i) }) {
		c.nav.Select(c.current) // the sidebar stays on the screen kept
		return
	}
	if c.current >= 0 {
		c.screens[c.current].leave()
	}
	s := c.screens[i]
	if s.view == nil {
		s.view = s.build()
	}
	c.current = i
	c.app.Preferences().SetString(lastScreenKey, s.title)
	c.content.Objects = []fyne.CanvasObject{s.view}
	c.content.Refresh()
	ctx, cancel := context.WithCancel(c.ctx)
	s.cancel = cancel
	if s.shown != nil {
		s.shown(ctx)
	}
}

func (c *Console) addShortcuts() {
	keys := []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7, fyne.Key8, fyne.Key9}
	for i := range c.screens {
		if i >= len(keys) {
			break
		}
		c.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: keys[i], Modifier: fyne.KeyModifierShortcutDefault},
			func(fyne.Shortcut) { c.nav.Select(i) })
	}
	c.win.Canvas().AddShortcut(importShortcut, func(fyne.Shortcut) { c.importer.open() })
	c.win.Canvas().AddShortcut(quitShortcut, func(fyne.Shortcut) { c.requestClose() })
	c.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) {
			c.Show("History")
			c.win.Canvas().Focus(c.history.search)
		})
}

func (c *Console) buildMenu() *fyne.MainMenu {
	openData := fyne.NewMenuItem("Open Data Folder", func() {
		if err := c.deps.OpenFolder(c.deps.DataDir); err != nil {
			dialog.ShowError(fmt.Errorf("could not open %s: %w", c.deps.DataDir, err), c.win)
		}
	})
	importItem := fyne.NewMenuItem(importTitle+"…", c.importer.open)
	importItem.Icon = theme.DownloadIcon()
	importItem.Shortcut = importShortcut
	importItem.Disabled = !c.importer.available()
	file := fyne.NewMenu("File", importItem, fyne.NewMenuItemSeparator(), openData)
	if c.deps.SwitchMode != nil {
		switchItem := fyne.NewMenuItem("Open the Demo", func() { c.SwitchMode(true, nil) })
		if c.deps.Demo {
			switchItem = fyne.NewMenuItem("Use My Accounts…", c.leaveDemo)
		}
		file.Items = append(file.Items, switchItem)
	}
	quit := fyne.NewMenuItem("Quit", c.requestClose)
	quit.IsQuit, quit.Shortcut = true, quitShortcut
	file.Items = append(file.Items, fyne.NewMenuItemSeparator(), quit)
	goTo := make([]*fyne.MenuItem, len(c.screens))
	for i, s := range c.screens {
		goTo[i] = fyne.NewMenuItem(s.title, func() { c.nav.Select(i) })
		goTo[i].Icon = s.icon
		if i < 9 {
			goTo[i].Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyName(fmt.Sprint(i + 1)), Modifier: fyne.KeyModifierShortcutDefault}
		}
	}
	view := fyne.NewMenu("Go", goTo...)
	shortcuts := fyne.NewMenuItem("Keyboard Shortcuts", c.showShortcuts)
	about := fyne.NewMenuItem("About Parley", c.showAbout)
	guideItem := fyne.NewMenuItem(guideMenuTitle, func() { c.showGuide(1) })
	guideItem.Disabled = c.deps.Connections == nil
	help := fyne.NewMenu("Help", shortcuts, guideItem, about)
	return fyne.NewMainMenu(file, view, help)
}

func (c *Console) showAbout() {
	v := assets.Version(c.app.Metadata().Version)
	built := "unknown"
	if !v.Built.IsZero() {
		built = v.Built.Local().Format("2 January 2006, 15:04")
		if v.BuiltIsCommit {
			built += " (commit time)"
		}
	}
	commit := v.Commit
	if commit == "" {
		commit = "unknown"
	} else if v.Modified {
		commit += " (with local changes)"
	}
	form := widget.NewForm(
		widget.NewFormItem("Version", widget.NewLabel(v.Version)),
		widget.NewFormItem("Commit", widget.NewLabel(commit)),
		widget.NewFormItem("Built", widget.NewLabel(built)),
		widget.NewFormItem("Go", widget.NewLabel(v.Go+" "+v.Platform)),
		widget.NewFormItem("Data folder", widget.NewLabel(c.deps.DataDir)),
	)
	// The whole line, for pasting into a bug report.
	copyLine := widget.NewButtonWithIcon("Copy version", theme.ContentCopyIcon(), func() {
		c.app.Clipboard().SetContent(v.String())
	})
	intro := widget.NewLabel("Keeps ActiveDEMAND and HighLevel conversations in sync.")
	intro.Wrapping = fyne.TextWrapWord
	dialog.ShowCustom("About Parley", "Close", container.NewVBox(intro, form, container.NewHBox(copyLine)), c.win)
}

func (c *Console) showShortcuts() {
	mod := "Ctrl"
	if runtime.GOOS == "darwin" {
		mod = "⌘"
	}
	rows := [][2]string{
		{mod + "+1 … " + mod + "+" + fmt.Sprint(min(len(c.screens), 9)), "Go to a screen, in sidebar order"},
		{mod + "+F", "Search the history"},
		{mod + "+E", "Export the history shown to CSV (on History)"},
		{mod + "+I", "Import an ActiveDEMAND export"},
		{mod + "+P", "Pause or resume the sync (on Sync)"},
		{mod + "+Q", "Quit"},
	}
	rows = slices.Insert(rows, len(rows)-1, mappingShortcutRows(mod)...) // before Quit
	grid := container.NewGridWithColumns(2)
	for _, r := range rows {
		grid.Add(widget.NewLabelWithStyle(r[0], fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
		grid.Add(widget.NewLabel(r[1]))
	}
	dialog.ShowCustom("Keyboard Shortcuts", "Close", grid, c.win)
}

func (c *Console) statusText() string {
	var mode string
	switch {
	case c.deps.Demo:
		mode = "Demo mode: built-in sandbox accounts, nothing leaves this computer"
	case c.deps.Connected:
		mode = "Connected to your ActiveDEMAND and HighLevel accounts"
	default:
		mode = "No accounts connected: see Connections"
	}
	return fmt.Sprintf("%s  ·  Data: %s", mode, homeShort(c.deps.DataDir))
}

// homeShort writes a folder inside the user's home as ~/…, as a shell
// would, on the systems whose users read paths that way: the data folder
// is usually ~/.local/share/parley, and the status bar is narrow.
func homeShort(dir string) string {
	home, err := os.UserHomeDir()
	if runtime.GOOS == "windows" || err != nil || home == "" {
		return dir
	}
	rel, err := filepath.Rel(home, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return dir
	}
	if rel == "." {
		return "~"
	}
	return "~" + string(filepath.Separator) + rel
}
