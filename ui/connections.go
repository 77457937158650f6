package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/connect"
)

const keyringOK = "API keys and tokens are kept in the system keyring, never in Parley's database or logs."

// Where an admin finds each credential, shown beside its field.
const (
	helpGHLApp = "From your app in the HighLevel marketplace (marketplace.gohighlevel.com > My Apps > your app > Advanced Settings > Auth): " +
		"the client id and a client secret. Register the redirect URI below there, exactly as shown."
	helpPIT = "Or, without a marketplace app: in HighLevel, Settings > Private Integrations > Create new integration; " +
		"copy the token, and the location id from Settings > Business Profile."
	helpProvider = "The conversation provider records are made under: in your marketplace app, Modules > Conversation Providers; " +
		"copy the provider's id (it is not a secret)."
	helpAD = "The application key comes with ActiveDEMAND's API developer program approval; the account API key is in ActiveDEMAND " +
		"under your profile icon > Account Settings > API Key."
	helpWebhook = "The secret ActiveDEMAND signs webhooks with, from the webhook's settings in ActiveDEMAND; Parley uses it to refuse forged calls."
)

const (
	accessReadOnly  = "Read only"
	accessReadWrite = "Read and write (needed to sync)"
)

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// connectionsScreen shows which accounts the sync talks to, lets the admin
// connect them, and whether credentials can be kept safely on this computer.
type connectionsScreen struct {
	deps Deps
	imp  *importFlow
	bg   background
	win  fyne.Window
	clip fyne.Clipboard
	// life is the console's: a connection started here finishes (or times
	// out) even if the admin looks at another screen meanwhile.
	life context.Context

	adLabel, ghlLabel *widget.Label
	keyringStatus     *widget.Label
	keyringIcon       *widget.Icon

	// With a Connections service:
	ghlState, adState       *widget.Label
	ghlResult, adResult     *widget.Label
	ghlAge, adAge           *widget.Label
	clientID, clientSecret  *widget.Entry
	redirect                *widget.Label
	port                    *widget.Entry
	access                  *widget.RadioGroup
	connectButton           *widget.Button
	pit, pitLocation        *widget.Entry
	provider                *widget.Entry
	appKey, apiKey, webhook *widget.Entry
	rotateDays              *widget.Entry
	status                  connect.Status
	// notice is a line above the cards for what brought the admin here;
	// pending holds it until the view is built.
	notice  *widget.Label
	pending string
}

// say shows text above the cards, e.g. what to connect before leaving
// the demo.
func (s *connectionsScreen) say(text string) {
	s.pending = text
	if s.notice == nil {
		return
	}
	s.notice.SetText(text)
	s.notice.Show()
}

func newConnectionsScreen(d Deps, imp *importFlow, bg background, win fyne.Window, clip fyne.Clipboard, life context.Context) *connectionsScreen {
	return &connectionsScreen{deps: d, imp: imp, bg: bg, win: win, clip: clip, life: life}
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
	adBody := container.NewVBox(s.adLabel)
	ghlBody := container.NewVBox(s.ghlLabel)
	var settings fyne.CanvasObject
	if d.Connections != nil {
		adBody.Add(s.adForm())
		ghlBody.Add(s.ghlForm())
		settings = s.settingsCard()
	}
	adBody.Add(container.NewBorder(nil, nil, importButton, nil, importHelp))
	ad := widget.NewCard("ActiveDEMAND", "Source of contacts, conversations and calls", adBody)
	ghl := widget.NewCard("HighLevel", "Conversations are mirrored into one location", ghlBody)

	s.keyringStatus = widget.NewLabel("Checking the system keyring…")
	s.keyringStatus.Wrapping = fyne.TextWrapWord
	s.keyringIcon = widget.NewIcon(theme.InfoIcon())
	storage := widget.NewCard("Credential storage", "", container.NewBorder(nil, nil, s.keyringIcon, nil, s.keyringStatus))

	s.notice = wrapped(s.pending)
	s.notice.Importance = widget.WarningImportance
	if s.pending == "" {
		s.notice.Hide()
	}
	body := container.NewVBox(s.notice, ad, ghl, storage)
	if settings != nil {
		body.Add(settings)
	}
	return container.NewBorder(header("Connections",
		"The ActiveDEMAND account and HighLevel location Parley keeps in sync."), nil, nil, nil,
		container.NewVScroll(body))
}

func password(placeholder string) *widget.Entry {
	e := widget.NewPasswordEntry()
	e.SetPlaceHolder(placeholder)
	return e
}

func entry(placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	return e
}

func (s *connectionsScreen) ghlForm() fyne.CanvasObject {
	s.ghlState = wrapped("Reading what is saved…")
	s.ghlResult = wrapped("")
	s.ghlAge = wrapped("")
	s.clientID = entry("Client id")
	s.clientSecret = password("Client secret (kept in the keyring)")
	saveApp := widget.NewButton("Save app", func() {
		id, secret := s.clientID.Text, s.clientSecret.Text
		s.act(s.ghlResult, "Saving the app…", func(context.Context) (string, error) {
			return "App saved. Its secret is in the system keyring.", s.deps.Connections.SaveGHLApp(id, secret)
		}, s.clientSecret)
	})
	s.redirect = widget.NewLabelWithStyle(s.deps.Connections.RedirectURL(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	copyRedirect := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		s.clip.SetContent(s.redirect.Text)
	})
	s.port = entry("Port")
	s.port.SetText(strings.TrimPrefix(portOf(s.redirect.Text), ":"))
	usePort := widget.NewButton("Use port", func() {
		p, err := strconv.Atoi(strings.TrimSpace(s.port.Text))
		if err == nil {
			err = s.deps.Connections.SetPort(p)
		} else {
			err = fmt.Errorf("%q is not a port number: type a number from 1024 to 65535", s.port.Text)
		}
		if err != nil {
			s.ghlResult.SetText(err.Error())
			return
		}
		s.redirect.SetText(s.deps.Connections.RedirectURL())
		s.ghlResult.SetText("Register the new redirect URI in the HighLevel app before connecting.")
	})
	s.access = widget.NewRadioGroup([]string{accessReadOnly, accessReadWrite}, nil)
	s.access.Horizontal = true
	s.access.Required = true
	s.access.SetSelected(accessReadWrite)
	s.connectButton = widget.NewButtonWithIcon("Connect with HighLevel", theme.LoginIcon(), s.connectGHL)

	s.pit = password("Private integration token (kept in the keyring)")
	s.pitLocation = entry("Location id")
	savePIT := widget.NewButton("Save token", func() {
		tok, loc := s.pit.Text, s.pitLocation.Text
		s.act(s.ghlResult, "Saving the token…", func(context.Context) (string, error) {
			return "Token saved in the system keyring. Test the connection to check it.", s.deps.Connections.SaveGHLPrivateToken(tok, loc)
		}, s.pit)
	})
	s.provider = entry("Conversation provider id")
	saveProvider := widget.NewButton("Save provider", func() {
		id := s.provider.Text
		s.act(s.ghlResult, "Saving…", func(context.Context) (string, error) {
			return "Provider id saved.", s.deps.Connections.SaveProviderID(id)
		})
	})
	test := widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), func() { s.test(connect.HighLevel, s.ghlResult) })
	disconnect := widget.NewButtonWithIcon("Disconnect", theme.DeleteIcon(), func() { s.disconnect(connect.HighLevel, s.ghlResult) })

	return container.NewVBox(
		s.ghlState, s.ghlAge,
		widget.NewSeparator(),
		wrapped(helpGHLApp),
		container.NewGridWithColumns(3, s.clientID, s.clientSecret, saveApp),
		container.NewBorder(nil, nil, widget.NewLabel("Redirect URI:"), container.NewHBox(copyRedirect, s.port, usePort), s.redirect),
		container.NewBorder(nil, nil, nil, s.connectButton, s.access),
		widget.NewSeparator(),
		wrapped(helpPIT),
		container.NewGridWithColumns(3, s.pit, s.pitLocation, savePIT),
		widget.NewSeparator(),
		wrapped(helpProvider),
		container.NewBorder(nil, nil, nil, saveProvider, s.provider),
		container.NewHBox(test, disconnect),
		s.ghlResult,
	)
}

// portOf is the ":port" of a loopback URL.
func portOf(u string) string {
	rest := strings.TrimPrefix(u, "http://127.0.0.1")
	if i := strings.Index(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func (s *connectionsScreen) adForm() fyne.CanvasObject {
	s.adState = wrapped("Reading what is saved…")
	s.adResult = wrapped("")
	s.adAge = wrapped("")
	s.appKey = password("Application key (kept in the keyring)")
	s.apiKey = password("Account API key (kept in the keyring)")
	saveKeys := widget.NewButton("Save keys", func() {
		app, api := s.appKey.Text, s.apiKey.Text
		s.act(s.adResult, "Saving the keys…", func(context.Context) (string, error) {
			return "Keys saved in the system keyring. Test the connection to check them.", s.deps.Connections.SaveAD(app, api)
		}, s.appKey, s.apiKey)
	})
	s.webhook = password("Webhook secret (kept in the keyring)")
	saveWebhook := widget.NewButton("Save secret", func() {
		v := s.webhook.Text
		s.act(s.adResult, "Saving the secret…", func(context.Context) (string, error) {
			return "Webhook secret saved in the system keyring.", s.deps.Connections.SaveADWebhookSecret(v)
		}, s.webhook)
	})
	test := widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), func() { s.test(connect.ActiveDEMAND, s.adResult) })
	disconnect := widget.NewButtonWithIcon("Disconnect", theme.DeleteIcon(), func() { s.disconnect(connect.ActiveDEMAND, s.adResult) })
	return container.NewVBox(
		s.adState, s.adAge,
		widget.NewSeparator(),
		wrapped(helpAD),
		container.NewGridWithColumns(3, s.appKey, s.apiKey, saveKeys),
		wrapped(helpWebhook),
		container.NewBorder(nil, nil, nil, saveWebhook, s.webhook),
		container.NewHBox(test, disconnect),
		s.adResult,
	)
}

func (s *connectionsScreen) settingsCard() fyne.CanvasObject {
	s.rotateDays = entry("Days")
	s.rotateDays.SetText(strconv.Itoa(s.deps.Connections.RotateDays()))
	result := wrapped("")
	save := widget.NewButton("Save", func() {
		n, err := strconv.Atoi(strings.TrimSpace(s.rotateDays.Text))
		if err != nil {
			result.SetText(fmt.Sprintf("%q is not a number of days: type one from 1 to 3650.", s.rotateDays.Text))
			return
		}
		if err := s.deps.Connections.SetRotateDays(n); err != nil {
			result.SetText(err.Error())
			return
		}
		result.SetText(fmt.Sprintf("Parley reminds you to replace credentials older than %d days.", n))
		s.refresh()
	})
	return widget.NewCard("Rotation reminder", "Suggest replacing a key or token after this many days",
		container.NewVBox(container.NewBorder(nil, nil, nil, save, s.rotateDays), result))
}

// act runs a change off the UI goroutine (the keyring may take seconds to
// answer over D-Bus), then says how it went in out and reads the status
// again. The secret entries in clear are emptied once saved, so a secret
// does not sit in a widget after it is in the keyring.
func (s *connectionsScreen) act(out *widget.Label, busy string, work func(context.Context) (string, error), clear ...*widget.Entry) {
	out.SetText(busy)
	s.bg.run(s.life, func(ctx context.Context) func() {
		done, err := work(ctx)
		return func() {
			if err != nil {
				out.SetText(err.Error())
				return
			}
			for _, e := range clear {
				e.SetText("")
			}
			out.SetText(done)
			s.refresh()
		}
	})
}

func (s *connectionsScreen) connectGHL() {
	readWrite := s.access.Selected != accessReadOnly
	s.connectButton.Disable()
	s.ghlResult.SetText("Waiting for you to allow Parley in the browser window that opened…")
	s.bg.run(s.life, func(ctx context.Context) func() {
		st, err := s.deps.Connections.ConnectGHL(ctx, readWrite)
		return func() {
			s.connectButton.Enable()
			if err != nil {
				s.ghlResult.SetText("Not connected: " + err.Error())
				return
			}
			s.ghlResult.SetText("Connected to location " + st.LocationID + ".")
			s.refresh()
		}
	})
}

func (s *connectionsScreen) test(a connect.Account, out *widget.Label) {
	out.SetText("Testing the " + a.String() + " connection…")
	s.bg.run(s.life, func(ctx context.Context) func() {
		res, err := s.deps.Connections.Test(ctx, a)
		return func() {
			if err != nil {
				out.SetText(err.Error())
				return
			}
			parts := []string{"Connection works: " + res.Account}
			if res.Detail != "" {
				parts = append(parts, res.Detail)
			}
			if len(res.Scopes) > 0 {
				parts = append(parts, "scopes "+strings.Join(res.Scopes, ", "))
			}
			parts = append(parts, fmt.Sprintf("answered in %d ms", res.Latency.Milliseconds()))
			out.SetText(strings.Join(parts, " · "))
			s.refresh()
		}
	})
}

func (s *connectionsScreen) disconnect(a connect.Account, out *widget.Label) {
	what := "the HighLevel token (OAuth or private integration). The app's client id and secret stay, so you can connect again with one click."
	if a == connect.ActiveDEMAND {
		what = "the ActiveDEMAND application key, account API key and webhook secret."
	}
	msg := wrapped("This removes from the system keyring " + what + " The sync stops reaching " + a.String() + " until you connect again.")
	d := dialog.NewCustomConfirm("Disconnect "+a.String()+"?", "Disconnect", "Cancel",
		container.NewGridWrap(fyne.NewSize(420, 110), msg), func(ok bool) {
			if !ok {
				return
			}
			s.act(out, "Disconnecting…", func(context.Context) (string, error) {
				return a.String() + " is disconnected: its credentials are gone from the keyring.", s.deps.Connections.Disconnect(a)
			})
		}, s.win)
	d.Show()
}

// refresh reads the saved state again and shows it.
func (s *connectionsScreen) refresh() {
	if s.deps.Connections == nil {
		return
	}
	s.bg.run(s.life, func(ctx context.Context) func() {
		st, err := s.deps.Connections.Status(ctx)
		return func() {
			if err != nil {
				s.ghlState.SetText("Cannot read the saved credentials: " + err.Error())
				s.adState.SetText(s.ghlState.Text)
				return
			}
			s.status = st
			s.showStatus()
		}
	})
}

func (s *connectionsScreen) showStatus() {
	st, now := s.status, s.deps.Now()
	g := st.GHL
	switch {
	case g.OAuth.Set:
		text := "Connected with OAuth to location " + g.LocationID + "."
		if len(g.Scopes) > 0 {
			text += " Granted scopes: " + strings.Join(g.Scopes, ", ") + "."
		}
		if !g.Expiry.IsZero() {
			text += " The access token expires " + g.Expiry.In(s.deps.Location).Format("2 Jan 2006 15:04") + "; Parley refreshes it before then."
		}
		s.ghlState.SetText(text)
		s.ghlAge.SetText(ageText(st, g.OAuth, now))
	case g.PrivateToken.Set:
		s.ghlState.SetText("Connected with a private integration token to location " + g.LocationID + ".")
		s.ghlAge.SetText(ageText(st, g.PrivateToken, now))
	default:
		s.ghlState.SetText("HighLevel is not connected: connect with the marketplace app, or paste a private integration token.")
		s.ghlAge.SetText("")
	}
	if s.clientID.Text == "" {
		s.clientID.SetText(g.ClientID)
	}
	if s.provider.Text == "" {
		s.provider.SetText(g.ProviderID)
	}
	if a := st.AD; a.Connected() {
		text := "Application key and account API key saved."
		if a.WebhookSecret.Set {
			text += " Webhook secret saved."
		} else {
			text += " No webhook secret yet: webhooks are refused until one is saved."
		}
		s.adState.SetText(text)
		s.adAge.SetText(ageText(st, a.APIKey, now))
	} else {
		s.adState.SetText("ActiveDEMAND is not connected: paste the application key and the account API key.")
		s.adAge.SetText("")
	}
}

// ageText says how old a credential is and whether it is time to replace it.
func ageText(st connect.Status, c connect.Credential, now time.Time) string {
	if c.SavedAt.IsZero() {
		return "Saved outside Parley: its age is unknown."
	}
	days := int(now.Sub(c.SavedAt).Hours() / 24)
	text := fmt.Sprintf("Saved %d days ago.", days)
	if st.Due(c, now) {
		text = fmt.Sprintf("Saved %d days ago: older than %d days. Replace it (create a new one, paste it here, then revoke the old one).",
			days, int(st.RotateAfter.Hours()/24))
	}
	return text
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
				own := ""
				if s.deps.Connections != nil {
					own = ". What you save below is your own account's, kept in the system keyring for when you leave the demo."
				}
				s.adLabel.SetText("The demo syncs a built-in sandbox running on this computer at " + adURL + own)
				s.ghlLabel.SetText("The demo syncs a built-in sandbox running on this computer at " + ghlURL + own)
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
	s.refresh()
}
