package ui

import (
	"context"

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

// connectionsScreen shows which accounts the sync talks to and whether
// credentials can be kept safely on this computer.
type connectionsScreen struct {
	deps Deps
	imp  *importFlow
	bg   background

	adLabel, ghlLabel *widget.Label
	keyringStatus     *widget.Label
	keyringIcon       *widget.Icon
}

func newConnectionsScreen(d Deps, imp *importFlow, bg background) *connectionsScreen {
	return &connectionsScreen{deps: d, imp: imp, bg: bg}
}

func (s *connectionsScreen) view() fyne.CanvasObject {
	d := s.deps
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
	s.adLabel, s.ghlLabel = wrapped(adAccount), wrapped(ghlAccount)
	importButton := widget.NewButtonWithIcon("Import export file…", theme.DownloadIcon(), s.imp.open)
	importHelp := widget.NewLabel("No API access? Import a contacts or activity export (CSV or JSON) instead: its messages go through the same sync.")
	if !s.imp.available() {
		importButton.Disable()
		importHelp.SetText(importUnavailable)
	}
	importHelp.Wrapping = fyne.TextWrapWord
	ad := widget.NewCard("ActiveDEMAND", "Source of contacts, conversations and calls", container.NewVBox(
		s.adLabel,
		container.NewBorder(nil, nil, importButton, nil, importHelp)))
	ghl := widget.NewCard("HighLevel", "Conversations are mirrored into one location", s.ghlLabel)

	s.keyringStatus = widget.NewLabel("Checking the system keyring…")
	s.keyringStatus.Wrapping = fyne.TextWrapWord
	s.keyringIcon = widget.NewIcon(theme.InfoIcon())
	storage := widget.NewCard("Credential storage", "", container.NewBorder(nil, nil, s.keyringIcon, nil, s.keyringStatus))

	body := container.NewVBox(ad, ghl, storage)
	return container.NewBorder(header("Connections",
		"The ActiveDEMAND account and HighLevel location Parley keeps in sync."), nil, nil, nil,
		container.NewVScroll(body))
}

// shown asks again each time the screen comes to the front: an answer
// abandoned when the user left is not coming, and a keyring unlocked
// meanwhile should show as such.
func (s *connectionsScreen) shown(ctx context.Context) {
	if s.deps.Demo && s.deps.DemoSandboxes != nil {
		s.bg.run(ctx, func(context.Context) func() {
			// Starting the sandboxes takes a fifth of a second and is
			// not ours to cancel; main stops them when the console ends.
			adURL, ghlURL, err := s.deps.DemoSandboxes()
			return func() {
				if err != nil {
					s.adLabel.SetText("The demo sandbox did not start: " + err.Error())
					s.ghlLabel.SetText(s.adLabel.Text)
					return
				}
				s.adLabel.SetText("Demo sandbox, running on this computer at " + adURL)
				s.ghlLabel.SetText("Demo sandbox, running on this computer at " + ghlURL)
			}
		})
	}
	// A Secret Service that is starting up can take seconds to answer over
	// D-Bus, so the probe never runs on the UI goroutine.
	s.bg.run(ctx, func(context.Context) func() {
		err := s.deps.Keyring.Probe()
		return func() {
			if err != nil {
				s.keyringIcon.SetResource(theme.WarningIcon())
				s.keyringStatus.SetText("Credentials cannot be saved: " + err.Error())
				return
			}
			s.keyringIcon.SetResource(theme.ConfirmIcon())
			s.keyringStatus.SetText(keyringOK)
		}
	})
}
