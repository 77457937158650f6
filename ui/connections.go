package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

const keyringOK = "API keys and tokens are kept in the system keyring, never in Parley's database or logs."

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// newConnectionsView shows which accounts the sync talks to and whether
// credentials can be kept safely on this computer.
func newConnectionsView(d Deps, imp *importFlow) fyne.CanvasObject {
	adAccount, ghlAccount := "Not connected", "Not connected"
	switch {
	case d.Demo:
		adAccount = "Demo sandbox (built in, runs on this computer)"
		ghlAccount = adAccount
		if d.DemoSandboxes != nil {
			adAccount, ghlAccount = "Starting the demo sandbox…", "Starting the demo sandbox…"
		}
	case d.Connected:
		adAccount = "Credentials saved in the system keyring"
		ghlAccount = adAccount
	}
	adLabel, ghlLabel := wrapped(adAccount), wrapped(ghlAccount)
	if d.Demo && d.DemoSandboxes != nil {
		go func() {
			adURL, ghlURL, err := d.DemoSandboxes()
			d.Do(func() {
				if err != nil {
					adLabel.SetText("The demo sandbox did not start: " + err.Error())
					ghlLabel.SetText(adLabel.Text)
					return
				}
				adLabel.SetText("Demo sandbox, running on this computer at " + adURL)
				ghlLabel.SetText("Demo sandbox, running on this computer at " + ghlURL)
			})
		}()
	}
	importButton := widget.NewButtonWithIcon("Import export file…", theme.DownloadIcon(), imp.open)
	importHelp := widget.NewLabel("No API access? Import a contacts or activity export (CSV or JSON) instead: its messages go through the same sync.")
	if !imp.available() {
		importButton.Disable()
		importHelp.SetText(importUnavailable)
	}
	importHelp.Wrapping = fyne.TextWrapWord
	ad := widget.NewCard("ActiveDEMAND", "Source of contacts, conversations and calls", container.NewVBox(
		adLabel,
		container.NewBorder(nil, nil, importButton, nil, importHelp)))
	ghl := widget.NewCard("HighLevel", "Conversations are mirrored into one location", ghlLabel)

	keyringStatus := widget.NewLabel("Checking the system keyring…")
	keyringStatus.Wrapping = fyne.TextWrapWord
	keyringIcon := widget.NewIcon(theme.InfoIcon())
	// A Secret Service that is starting up can take seconds to answer over
	// D-Bus, so the probe never runs on the UI goroutine.
	go func() {
		err := d.Keyring.Probe()
		d.Do(func() {
			if err != nil {
				keyringIcon.SetResource(theme.WarningIcon())
				keyringStatus.SetText("Credentials cannot be saved: " + err.Error())
				return
			}
			keyringIcon.SetResource(theme.ConfirmIcon())
			keyringStatus.SetText(keyringOK)
		})
	}()
	storage := widget.NewCard("Credential storage", "", container.NewBorder(nil, nil, keyringIcon, nil, keyringStatus))

	body := container.NewVBox(ad, ghl, storage)
	return container.NewBorder(header("Connections",
		"The ActiveDEMAND account and HighLevel location Parley keeps in sync."), nil, nil, nil,
		container.NewVScroll(body))
}
