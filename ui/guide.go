package ui

// The first-run guide takes an admin from a fresh install to a running
// sync in five steps: connect ActiveDEMAND, connect HighLevel, review the
// mapping, dry run, start. Every step can be skipped, and skipping the
// first two keeps the demo.
//
// It is a large dialog over the console rather than a screen of its own.
// The dialog is modal, so the admin finishes a step (or closes the guide)
// before wandering off to a screen that would show half-saved accounts;
// the console behind it keeps its place; and leaving the demo at step 3,
// which rebuilds the window on the real accounts, only has to open the
// guide again on the new console, at the step it was on.

import (
	"context"
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/connect"
	"parley/ui/screenshot"
)

// guideDoneKey is the preference set once the guide was finished or
// closed: it then opens only from Help > Setup Guide.
const guideDoneKey = "guide.done"

const (
	guideTitle     = "Set up Parley"
	guideMenuTitle = "Setup Guide…"
	// guideLeaveDemo is what step 3 says before opening the accounts.
	guideLeaveDemo = "Parley now opens your accounts; the demo's data stays in its own folder."
	guideNotSent   = "Nothing was sent: the dry run only read both accounts."
	// guideReportLines is how many findings of the dry run are listed.
	guideReportLines = 20
)

// The steps, in order; the guide counts them from 1 where it shows them.
const (
	stepAD = iota
	stepGHL
	stepMapping
	stepDryRun
	stepStart
	guideSteps
)

var guideStepNames = [guideSteps]string{"ActiveDEMAND", "HighLevel", "Mapping", "Dry run", "Start"}

// guideMark is how a step was left.
type guideMark int

const (
	markTodo guideMark = iota
	markDone
	markSkipped
)

// guide is the open guide: its dialog, where the admin is, and each
// step's widgets, kept while the guide is open so that Back and Next find
// a step as it was left.
type guide struct {
	c    *Console
	deps Deps
	bg   background
	// ctx ends when the guide closes (or the window does); stepCtx when
	// the step on display is left.
	ctx, stepCtx       context.Context
	cancel, stepCancel context.CancelFunc
	dlg                *dialog.CustomDialog
	// root is the dialog's content.
	root    *fyne.Container
	prevKey func(*fyne.KeyEvent)
	closed  bool

	step  int
	marks [guideSteps]guideMark
	// ready says which steps Next may leave: a step whose account failed
	// its test is left only with Skip.
	ready [guideSteps]bool
	busy  bool
	// status is what the keyring held when last read.
	status connect.Status

	views    [guideSteps]fyne.CanvasObject
	rowIcons [guideSteps]*widget.Icon
	rowNames [guideSteps]*widget.Label
	rowMarks [guideSteps]*widget.Label
	progress *widget.Label
	body     *fyne.Container
	back     *keyButton
	skip     *keyButton
	next     *keyButton
	closeBtn *keyButton

	// Step 1.
	appKey, apiKey, webhook *guideEntry
	adState, adResult       *widget.Label
	adSave                  *widget.Button
	// Step 2.
	clientID, clientSecret  *guideEntry
	pit, location, provider *guideEntry
	access                  *widget.RadioGroup
	ghlState, ghlResult     *widget.Label
	connectBtn, pitSave     *widget.Button
	// Step 3.
	mapping    *mappingScreen
	switchNote *widget.Label
	switchBtn  *widget.Button
	// Step 4.
	dryBar  *widget.ProgressBarInfinite
	dryText *widget.Label
	dryBtn  *widget.Button
	dryOK   bool
	// Step 5.
	startText *widget.Label
}

// showGuide opens the guide at step (from 1), or moves the open one there.
func (c *Console) showGuide(step int) {
	if c.guide != nil {
		c.guide.show(step - 1)
		return
	}
	c.openGuide(step-1, [guideSteps]guideMark{})
}

// offerGuide opens the guide on a first start: the demo on display, no
// account connected yet and the guide never finished or closed. It hands
// the opening to the UI loop, which runs it once the window is up.
func (c *Console) offerGuide() {
	d := c.deps
	if !d.Demo || d.Connected || d.Connections == nil || c.app.Preferences().Bool(guideDoneKey) {
		return
	}
	if os.Getenv(screenshot.Env) != "" {
		return // the screen tour pictures the screens, not the guide over them
	}
	c.background().run(c.ctx, func(context.Context) func() {
		return func() {
			if !c.app.Preferences().Bool(guideDoneKey) {
				c.showGuide(1)
			}
		}
	})
}

func (c *Console) openGuide(step int, marks [guideSteps]guideMark) *guide {
	g := &guide{c: c, deps: c.deps, bg: c.background(), marks: marks}
	g.ctx, g.cancel = context.WithCancel(c.ctx)
	c.guide = g
	g.progress = widget.NewLabel("")
	g.back = newKeyButton("Back", theme.NavigateBackIcon(), func() { g.show(g.step - 1) })
	g.skip = newKeyButton("Skip", theme.MediaSkipNextIcon(), g.skipStep)
	g.next = newKeyButton("Next", theme.NavigateNextIcon(), g.nextStep)
	g.next.Importance = widget.HighImportance
	g.next.IconPlacement = widget.ButtonIconTrailingText
	g.closeBtn = newKeyButton("Close", theme.CancelIcon(), g.finish)
	for _, b := range []*keyButton{g.back, g.skip, g.next, g.closeBtn} {
		b.escape = g.finish
	}
	side := container.NewVBox()
	for i, name := range guideStepNames {
		g.rowIcons[i] = widget.NewIcon(nil)
		g.rowNames[i] = widget.NewLabel(fmt.Sprintf("%d  %s", i+1, name))
		g.rowMarks[i] = widget.NewLabel("")
		g.rowMarks[i].SizeName = theme.SizeNameCaptionText
		side.Add(container.NewBorder(nil, nil, g.rowIcons[i], nil, container.NewVBox(g.rowNames[i], g.rowMarks[i])))
	}
	g.body = container.NewStack()
	bar := container.NewBorder(nil, nil, g.closeBtn, container.NewHBox(g.back, g.skip, g.next), g.progress)
	g.root = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), bar),
		container.NewHBox(container.NewPadded(side), widget.NewSeparator()), nil, g.body)

	g.dlg = dialog.NewCustomWithoutButtons(guideTitle, g.root, c.win)
	size := c.win.Canvas().Size()
	g.dlg.Resize(fyne.NewSize(max(size.Width-80, 640), max(size.Height-80, 480)))
	// Enter and Escape reach the guide's entries and buttons through
	// their own TypedKey; with nothing focused, through the canvas.
	canvas := c.win.Canvas()
	g.prevKey = canvas.OnTypedKey()
	canvas.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if !g.key(ev) && g.prevKey != nil {
			g.prevKey(ev)
		}
	})
	g.ready[stepMapping] = !g.deps.Demo
	// The account steps are built at once: the saved state fills them
	// whichever step the guide opens at.
	g.views[stepAD], g.views[stepGHL] = g.adStep(), g.ghlStep()
	g.dlg.Show()
	g.show(step)
	g.readStatus()
	return g
}

// key handles the guide's keys: Enter is Next (or, while Next waits for
// a test, the step's own Save and test), Escape closes the guide, which
// loses nothing: what was saved is in the keyring, the rest was typed.
func (g *guide) key(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyEscape:
		g.finish()
	case fyne.KeyReturn, fyne.KeyEnter:
		g.enter()
	default:
		return false
	}
	return true
}

func (g *guide) enter() {
	if g.closed || g.busy {
		return
	}
	if !g.next.Disabled() {
		g.nextStep()
		return
	}
	switch g.step {
	case stepAD:
		g.saveAD()
	case stepGHL:
		g.savePIT()
	}
}

// show puts step on display, building it the first time: what was typed
// or found in a step stays there when the admin goes Back or Next.
func (g *guide) show(step int) {
	if g.closed || step < 0 || step >= guideSteps {
		return
	}
	if g.stepCancel != nil {
		g.stepCancel()
	}
	g.step = step
	if g.views[step] == nil {
		g.views[step] = g.build(step)
	}
	g.body.Objects = []fyne.CanvasObject{g.views[step]}
	g.body.Refresh()
	g.stepCtx, g.stepCancel = context.WithCancel(g.ctx)
	switch step {
	case stepMapping:
		if g.mapping != nil {
			g.mapping.shown(g.stepCtx)
		}
	case stepDryRun:
		if !g.dryOK {
			g.dryRun()
		}
	}
	g.paint()
}

// paint shows where the guide is: the step list, the progress line and
// which buttons apply.
func (g *guide) paint() {
	for i := range guideSteps {
		icon, mark := fyne.Resource(nil), ""
		switch g.marks[i] {
		case markDone:
			icon, mark = theme.ConfirmIcon(), "done"
		case markSkipped:
			icon, mark = theme.MediaSkipNextIcon(), "skipped"
		}
		if i == g.step {
			icon, mark = theme.NavigateNextIcon(), "now"
		}
		g.rowIcons[i].SetResource(icon)
		g.rowMarks[i].SetText(mark)
		g.rowNames[i].TextStyle = fyne.TextStyle{Bold: i == g.step}
		g.rowNames[i].Refresh()
	}
	g.progress.SetText(fmt.Sprintf("Step %d of %d: %s", g.step+1, guideSteps, guideStepNames[g.step]))
	enable(&g.back.Button, g.step > 0 && !g.busy)
	enable(&g.skip.Button, !g.busy)
	g.next.SetText("Next")
	if g.step == stepStart {
		g.next.SetText("Start the sync")
	}
	enable(&g.next.Button, g.ready[g.step] && !g.busy)
	if g.step == stepMapping {
		enable(g.switchBtn, g.ready[stepMapping] && !g.busy)
	}
}

func (g *guide) nextStep() {
	if g.closed || g.busy || !g.ready[g.step] {
		return
	}
	switch g.step {
	case stepMapping:
		if g.deps.Demo {
			g.openAccounts()
			return
		}
	case stepDryRun:
		if !g.dryOK {
			g.marks[g.step] = markSkipped
			g.show(g.step + 1)
			return
		}
	case stepStart:
		g.start()
		return
	}
	g.marks[g.step] = markDone
	g.show(g.step + 1)
	if g.step == stepMapping && g.deps.Demo && g.ready[stepMapping] {
		g.openAccounts() // both accounts work: on to them
	}
}

func (g *guide) skipStep() {
	if g.closed || g.busy {
		return
	}
	if g.marks[g.step] != markDone {
		g.marks[g.step] = markSkipped
	}
	if g.step == stepStart {
		g.finish()
		return
	}
	g.show(g.step + 1)
}

// finish ends the guide for good: it opens by itself no more.
func (g *guide) finish() {
	g.end()
	g.c.app.Preferences().SetBool(guideDoneKey, true)
}

// end closes the guide's dialog and stops its work.
func (g *guide) end() {
	if g.closed {
		return
	}
	g.closed = true
	g.cancel()
	g.c.win.Canvas().SetOnTypedKey(g.prevKey)
	g.dlg.Hide()
	if g.c.guide == g {
		g.c.guide = nil
	}
}

// run runs work off the UI goroutine while the guide shows it is busy,
// and hands its result to the widgets while the guide is open.
func (g *guide) run(work func(ctx context.Context) func()) {
	g.busy = true
	g.paint()
	g.bg.run(g.ctx, func(ctx context.Context) func() {
		apply := work(ctx)
		return func() {
			g.busy = false
			if apply != nil {
				apply()
			}
			g.paint()
		}
	})
}

// readStatus reads what the keyring holds: what was saved before counts
// as connected until a test in the guide says otherwise.
func (g *guide) readStatus() {
	conns := g.deps.Connections
	if conns == nil {
		return
	}
	g.bg.run(g.ctx, func(ctx context.Context) func() {
		st, err := conns.Status(ctx)
		return func() {
			if err != nil {
				g.adState.SetText("Cannot read the saved credentials: " + err.Error())
				g.ghlState.SetText(g.adState.Text)
				return
			}
			g.setStatus(st)
			g.ready[stepAD] = st.AD.Connected()
			g.ready[stepGHL] = st.GHL.Connected() && st.GHL.ProviderID != ""
			g.paint()
		}
	})
}

// setStatus shows what the keyring holds and fills the fields that are
// not secret.
func (g *guide) setStatus(st connect.Status) {
	g.status = st
	if st.AD.Connected() {
		g.adState.SetText("Keys are saved in the system keyring. Save and test checks them; paste new ones to replace them.")
	} else {
		g.adState.SetText("ActiveDEMAND is not connected yet.")
	}
	switch gs := st.GHL; {
	case gs.OAuth.Set:
		g.ghlState.SetText("Connected with OAuth to location " + gs.LocationID + ".")
	case gs.PrivateToken.Set:
		g.ghlState.SetText("Connected with a private integration token to location " + gs.LocationID + ".")
	default:
		g.ghlState.SetText("HighLevel is not connected yet.")
	}
	fill := func(e *guideEntry, v string) {
		if e.Text == "" {
			e.SetText(v)
		}
	}
	fill(g.clientID, st.GHL.ClientID)
	fill(g.location, st.GHL.LocationID)
	fill(g.provider, st.GHL.ProviderID)
	g.ready[stepMapping] = !g.deps.Demo || st.AD.Connected() && st.GHL.Connected() && st.GHL.ProviderID != ""
	g.paintSwitch()
}

func (g *guide) build(step int) fyne.CanvasObject {
	switch step {
	case stepAD:
		return g.adStep()
	case stepGHL:
		return g.ghlStep()
	case stepMapping:
		return g.mappingStep()
	case stepDryRun:
		return g.dryRunStep()
	}
	return g.startStep()
}

// guidePage is a step's layout: its heading and what it is for above, its
// form below, scrolled if the window is small.
func guidePage(step int, intro string, form fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(header(fmt.Sprintf("%d. %s", step+1, guideStepNames[step]), intro), nil, nil, nil,
		container.NewVScroll(form))
}

// guideEntry is an entry of the guide: Enter and Escape act on the guide
// (Next, close) wherever the cursor is.
type guideEntry struct {
	widget.Entry
	keys func(*fyne.KeyEvent) bool
}

func (g *guide) entry(placeholder string, secret bool) *guideEntry {
	e := &guideEntry{keys: g.key}
	e.Password = secret
	if secret {
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	}
	e.ExtendBaseWidget(e)
	e.SetPlaceHolder(placeholder)
	return e
}

// TypedKey gives Enter and Escape to the guide, the rest to the entry.
func (e *guideEntry) TypedKey(ev *fyne.KeyEvent) {
	if e.keys != nil && e.keys(ev) {
		return
	}
	e.Entry.TypedKey(ev)
}

func resultLabel() *widget.Label {
	l := wrapped("")
	l.Importance = widget.MediumImportance
	return l
}

// sayResult shows how an action went: what was found, or what is wrong and
// what to do next.
func sayResult(l *widget.Label, text string, failed bool) {
	l.Importance = widget.SuccessImportance
	if failed {
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
}

// testText is a successful test in words, as the Connections screen puts
// it.
func testText(res connect.TestResult) string {
	parts := []string{"Connection works: " + res.Account}
	if res.Detail != "" {
		parts = append(parts, res.Detail)
	}
	if len(res.Scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(res.Scopes, ", "))
	}
	parts = append(parts, fmt.Sprintf("answered in %d ms", res.Latency.Milliseconds()))
	return strings.Join(parts, " · ")
}

// clearSecrets empties secret entries once their values are in the keyring, so
// that a secret does not sit in a widget.
func clearSecrets(es ...*guideEntry) {
	for _, e := range es {
		if e.Text != "" {
			e.SetText("")
			e.SetPlaceHolder("Saved in the keyring (paste a new one to replace it)")
		}
	}
}

func (g *guide) adStep() fyne.CanvasObject {
	g.adState = wrapped("Reading what is saved…")
	g.adResult = resultLabel()
	g.appKey = g.entry("Application key", true)
	g.apiKey = g.entry("Account API key", true)
	g.webhook = g.entry("Webhook secret (optional)", true)
	g.adSave = widget.NewButtonWithIcon("Save and test", theme.MediaPlayIcon(), g.saveAD)
	form := container.NewVBox(g.adState,
		wrapped(helpAD),
		widget.NewForm(widget.NewFormItem("Application key", g.appKey), widget.NewFormItem("Account API key", g.apiKey)),
		wrapped(helpWebhook),
		widget.NewForm(widget.NewFormItem("Webhook secret", g.webhook)),
		container.NewHBox(g.adSave),
		g.adResult,
	)
	return guidePage(stepAD, "Parley reads contacts, conversations and calls from your ActiveDEMAND account. "+
		"Paste its keys, then Save and test; they go to the system keyring. Skip keeps the demo.", form)
}

// adTestFailed is the way on after a failed ActiveDEMAND test.
const adTestFailed = " Check both keys (where to find them is written above), paste them again and click Save and test; or Skip to keep the demo for now."

// saveAD saves what was typed and tests the account with it.
func (g *guide) saveAD() {
	if g.busy || g.deps.Connections == nil {
		return
	}
	conns, app, api, hook := g.deps.Connections, strings.TrimSpace(g.appKey.Text), strings.TrimSpace(g.apiKey.Text), strings.TrimSpace(g.webhook.Text)
	saved := g.status.AD.Connected()
	g.adResult.SetText("Saving and testing…")
	g.run(func(ctx context.Context) func() {
		var err error
		if app != "" || api != "" || !saved {
			err = conns.SaveAD(app, api)
		}
		if err == nil && hook != "" {
			err = conns.SaveADWebhookSecret(hook)
		}
		if err != nil {
			return func() { g.ready[stepAD] = false; sayResult(g.adResult, "Not saved: "+err.Error(), true) }
		}
		res, err := conns.Test(ctx, connect.ActiveDEMAND)
		st, serr := conns.Status(ctx)
		return func() {
			clearSecrets(g.appKey, g.apiKey, g.webhook)
			if serr == nil {
				g.setStatus(st)
			}
			g.ready[stepAD] = err == nil
			if err != nil {
				sayResult(g.adResult, strings.TrimSuffix(err.Error(), ".")+"."+adTestFailed, true)
				return
			}
			sayResult(g.adResult, testText(res), false)
		}
	})
}

func (g *guide) ghlStep() fyne.CanvasObject {
	g.ghlState = wrapped("Reading what is saved…")
	g.ghlResult = resultLabel()
	g.clientID = g.entry("Client id", false)
	g.clientSecret = g.entry("Client secret", true)
	g.access = widget.NewRadioGroup([]string{accessReadOnly, accessReadWrite}, nil)
	g.access.Horizontal = true
	g.access.Required = true
	g.access.SetSelected(accessReadWrite)
	redirect := widget.NewLabelWithStyle(g.redirectURL(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	copyRedirect := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		g.c.app.Clipboard().SetContent(redirect.Text)
	})
	g.connectBtn = widget.NewButtonWithIcon("Connect with HighLevel", theme.LoginIcon(), g.connectGHL)
	g.pit = g.entry("Private integration token", true)
	g.location = g.entry("Location id", false)
	g.pitSave = widget.NewButtonWithIcon("Save and test", theme.MediaPlayIcon(), g.savePIT)
	g.provider = g.entry("Conversation provider id", false)

	oauth := widget.NewCard("", "With your marketplace app", container.NewVBox(
		wrapped(helpGHLApp),
		widget.NewForm(widget.NewFormItem("Client id", g.clientID), widget.NewFormItem("Client secret", g.clientSecret)),
		container.NewBorder(nil, nil, widget.NewLabel("Redirect URI:"), copyRedirect, redirect),
		container.NewBorder(nil, nil, nil, g.connectBtn, g.access),
	))
	pit := widget.NewCard("", "Or with a private integration token", container.NewVBox(
		wrapped(helpPIT),
		widget.NewForm(widget.NewFormItem("Token", g.pit), widget.NewFormItem("Location id", g.location)),
		container.NewHBox(g.pitSave),
	))
	form := container.NewVBox(g.ghlState,
		wrapped(helpProvider),
		widget.NewForm(widget.NewFormItem("Provider id", g.provider)),
		oauth, pit, g.ghlResult)
	return guidePage(stepGHL, "Conversations are mirrored into one HighLevel location. Connect with your marketplace app, "+
		"or paste a private integration token; either way, give the conversation provider id. Skip keeps the demo.", form)
}

func (g *guide) redirectURL() string {
	if g.deps.Connections == nil {
		return ""
	}
	return g.deps.Connections.RedirectURL()
}

// ghlTestFailed is the way on after a failed HighLevel test.
const ghlTestFailed = " Check the token and location id (or connect again), then try once more; or Skip to keep the demo for now."

// savePIT saves the private integration token, its location and the
// provider id, and tests the location with them.
func (g *guide) savePIT() {
	if g.busy || g.deps.Connections == nil {
		return
	}
	conns, tok, loc, prov := g.deps.Connections, strings.TrimSpace(g.pit.Text), strings.TrimSpace(g.location.Text), strings.TrimSpace(g.provider.Text)
	saved := g.status.GHL.Connected()
	g.ghlResult.SetText("Saving and testing…")
	g.run(func(ctx context.Context) func() {
		var err error
		if tok != "" || !saved {
			err = conns.SaveGHLPrivateToken(tok, loc)
		}
		return g.afterGHL(ctx, err, prov)
	})
}

// connectGHL saves the app, then waits for the admin to allow Parley in
// the browser and tests the location it was given.
func (g *guide) connectGHL() {
	if g.busy || g.deps.Connections == nil {
		return
	}
	conns, id, secret, prov := g.deps.Connections, strings.TrimSpace(g.clientID.Text), strings.TrimSpace(g.clientSecret.Text), strings.TrimSpace(g.provider.Text)
	readWrite := g.access.Selected != accessReadOnly
	g.ghlResult.SetText("Waiting for you to allow Parley in the browser window that opened…")
	g.run(func(ctx context.Context) func() {
		var err error
		if secret != "" {
			err = conns.SaveGHLApp(id, secret)
		}
		if err == nil {
			_, err = conns.ConnectGHL(ctx, readWrite)
		}
		return g.afterGHL(ctx, err, prov)
	})
}

// afterGHL saves the provider id and tests HighLevel after a token was
// saved (saveErr tells whether it was), off the UI goroutine.
func (g *guide) afterGHL(ctx context.Context, saveErr error, prov string) func() {
	conns := g.deps.Connections
	err := saveErr
	if err == nil && prov != "" {
		err = conns.SaveProviderID(prov)
	}
	if err != nil {
		return func() { g.ready[stepGHL] = false; sayResult(g.ghlResult, "Not connected: "+err.Error(), true) }
	}
	res, err := conns.Test(ctx, connect.HighLevel)
	st, serr := conns.Status(ctx)
	return func() {
		clearSecrets(g.clientSecret, g.pit)
		if serr == nil {
			g.setStatus(st)
		}
		g.ready[stepGHL] = false
		switch {
		case err != nil:
			sayResult(g.ghlResult, strings.TrimSuffix(err.Error(), ".")+"."+ghlTestFailed, true)
		case st.GHL.ProviderID == "":
			sayResult(g.ghlResult, testText(res)+". Now paste the conversation provider id (see above) and click Save and test again: records are made under it.", true)
		default:
			g.ready[stepGHL] = true
			sayResult(g.ghlResult, testText(res), false)
		}
	}
}

func (g *guide) mappingStep() fyne.CanvasObject {
	g.switchNote = wrapped("")
	g.switchBtn = widget.NewButtonWithIcon("Open my accounts", theme.LoginIcon(), g.openAccounts)
	g.switchBtn.Importance = widget.HighImportance
	if g.deps.Demo {
		g.paintSwitch()
		return guidePage(stepMapping, "The mapping says which ActiveDEMAND field fills which HighLevel field. It is reviewed on your accounts.",
			container.NewVBox(g.switchNote, container.NewHBox(g.switchBtn)))
	}
	g.mapping = newMappingScreen(g.deps, g.bg, guideWindow{g.c.win})
	intro := "The default mapping is ready. Check that no field HighLevel requires is flagged and that the sample contact's preview " +
		"looks right. Next saves nothing: the editor's Save keeps a change as a new version."
	// The editor brings its own heading.
	return container.NewBorder(wrapped(intro), nil, nil, nil, g.mapping.view())
}

// paintSwitch says, in demo mode, whether step 3 can leave the demo.
func (g *guide) paintSwitch() {
	if g.switchNote == nil {
		return
	}
	switch {
	case !g.deps.Demo:
		g.switchBtn.Hide()
	case g.ready[stepMapping]:
		g.switchNote.SetText(guideLeaveDemo)
	default:
		g.switchNote.SetText("To review the mapping on your accounts, connect both first (Back to steps 1 and 2). Skip or Close keeps the demo.")
	}
}

// openAccounts switches the window to the real accounts and opens the
// guide again on them, at this step. A failed switch says why and leaves
// the guide where it is, to try again or skip.
func (g *guide) openAccounts() {
	if !g.deps.Demo || !g.ready[stepMapping] || g.busy {
		return
	}
	marks := g.marks
	g.switchNote.SetText(guideLeaveDemo)
	g.c.SwitchMode(false, func(c *Console) {
		g.end()
		c.openGuide(stepMapping, marks)
	})
}

func (g *guide) dryRunStep() fyne.CanvasObject {
	g.dryBar = widget.NewProgressBarInfinite()
	g.dryBar.Stop()
	g.dryBar.Hide()
	g.dryText = wrapped("")
	g.dryBtn = widget.NewButtonWithIcon("Run again", theme.ViewRefreshIcon(), g.dryRun)
	g.dryBtn.Hide()
	return guidePage(stepDryRun, "A dry run reads both accounts and lists what the sync would create in HighLevel and which messages it would record there. "+
		"It sends nothing.", container.NewVBox(g.dryBar, g.dryText, container.NewHBox(g.dryBtn)))
}

// dryRun asks the engine what the sync would do now.
func (g *guide) dryRun() {
	switch {
	case g.deps.Demo:
		g.dryText.SetText("The dry run reads your accounts: connect them (steps 1 and 2) and open them (step 3) first. Skip or Close keeps the demo.")
		g.ready[stepDryRun] = true
		return
	case g.deps.DryRun == nil:
		g.dryText.SetText("This window cannot dry-run the sync. Next goes on without it.")
		g.ready[stepDryRun] = true
		return
	}
	run := g.deps.DryRun
	g.dryBtn.Hide()
	g.dryBar.Show()
	g.dryBar.Start()
	g.dryText.SetText("Reading both accounts…")
	g.run(func(ctx context.Context) func() {
		rep, err := run.DryRun(ctx)
		return func() {
			g.dryBar.Stop()
			g.dryBar.Hide()
			g.dryBtn.Show()
			g.ready[stepDryRun] = true
			if err != nil {
				g.dryText.SetText("The dry run failed: " + err.Error() + ". Check the accounts (Back), Run again, or Skip.")
				return
			}
			g.dryOK = true
			lines := rep.Lines
			if len(lines) > guideReportLines {
				lines = append(lines[:guideReportLines:guideReportLines], fmt.Sprintf("… and %d more", len(rep.Lines)-guideReportLines))
			}
			g.dryText.SetText(strings.Join(append(append([]string{rep.Summary}, lines...), "", guideNotSent), "\n"))
		}
	})
}

func (g *guide) startStep() fyne.CanvasObject {
	g.startText = wrapped("")
	switch {
	case g.deps.Runner != nil:
		g.startText.SetText("Parley mirrors every new ActiveDEMAND message into HighLevel while the console is open, " +
			"and starts again with it. The Sync screen shows the work; Stop sync there ends it.")
		g.ready[stepStart] = true
	case g.deps.Demo:
		g.startText.SetText("The demo's sync already runs on its sandboxes. To sync your accounts, connect them (steps 1 and 2) and open them (step 3).")
	default:
		g.startText.SetText("This window cannot start the sync.")
	}
	return guidePage(stepStart, "The last step: start the sync on your accounts.", g.startText)
}

// start starts the sync; once it runs, the guide is done and the Sync
// screen shows it.
func (g *guide) start() {
	runner := g.deps.Runner
	if runner == nil {
		return
	}
	g.startText.SetText("Starting the sync…")
	g.run(func(context.Context) func() {
		err := runner.Start()
		return func() {
			if err != nil {
				g.startText.SetText("Cannot start the sync: " + err.Error() + ".")
				return
			}
			g.marks[stepStart] = markDone
			g.finish()
			g.c.Show("Sync")
		}
	})
}

// guideWindow is the console window as the guide's Mapping editor sees
// it: the same window, except that the editor's Ctrl shortcuts are not
// registered. The console's Mapping screen holds them, and a second
// registration would take them from it for good.
type guideWindow struct {
	fyne.Window
}

// Canvas is the window's canvas without the shortcut registration.
func (w guideWindow) Canvas() fyne.Canvas { return guideCanvas{w.Window.Canvas()} }

type guideCanvas struct {
	fyne.Canvas
}

// AddShortcut registers nothing (see guideWindow).
func (guideCanvas) AddShortcut(fyne.Shortcut, func(fyne.Shortcut)) {}
