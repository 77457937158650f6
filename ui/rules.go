package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/routing"
)

// Alt+Up and Alt+Down move the selected rule while the rules are shown.
var (
	ruleUpShortcut   = &desktop.CustomShortcut{KeyName: fyne.KeyUp, Modifier: fyne.KeyModifierAlt}
	ruleDownShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyDown, Modifier: fyne.KeyModifierAlt}
)

// previewCalls is how many recent transcripts a rule is tested against.
const previewCalls = 200

// previewShown bounds the matches listed; the count says how many more.
const previewShown = 50

// rulesPanel is the routing rules editor: the ordered list with its
// buttons, and the form of the rule being edited.
type rulesPanel struct {
	deps Deps
	bg   background
	win  fyne.Window
	ctx  context.Context

	rules    []routing.Rule
	selected int
	list     *widget.List
	status   *widget.Label
	undo     *widget.Button
	undoFn   func()
	edit     *widget.Button
	del      *widget.Button
	up, down *widget.Button

	// active is true while the Routing rules tab is the one shown.
	active   bool
	listView *fyne.Container
	form     *ruleForm
	stack    *fyne.Container
}

func newRulesPanel(d Deps, bg background, win fyne.Window, life context.Context) *rulesPanel {
	return &rulesPanel{deps: d, bg: bg, win: win, ctx: life, selected: -1}
}

func (p *rulesPanel) view() fyne.CanvasObject {
	p.list = widget.NewList(func() int { return len(p.rules) },
		func() fyne.CanvasObject { return widget.NewLabel("rule") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			r := p.rules[id]
			state := ""
			if !r.Enabled {
				state = " (disabled)"
			}
			o.(*widget.Label).SetText(fmt.Sprintf("%d. %s%s: %s", id+1, r.Name, state, ruleSummary(r)))
		})
	p.list.OnSelected = func(id widget.ListItemID) { p.selected = id; p.buttons() }
	p.list.OnUnselected = func(widget.ListItemID) { p.selected = -1; p.buttons() }
	add := widget.NewButtonWithIcon("Add rule", theme.ContentAddIcon(), func() {
		p.open(routing.Rule{Enabled: true, Conditions: routing.Conditions{Channels: []string{"call"}}})
	})
	p.edit = widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() { p.open(p.rules[p.selected]) })
	p.del = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), p.confirmDelete)
	p.up = widget.NewButtonWithIcon("Move up", theme.MoveUpIcon(), func() { p.move(-1) })
	p.down = widget.NewButtonWithIcon("Move down", theme.MoveDownIcon(), func() { p.move(1) })
	if p.deps.Automations == nil {
		add.Disable()
	}
	p.status = widget.NewLabel("Rules are applied top to bottom to each new call transcript; every rule that matches acts.")
	p.status.Wrapping = fyne.TextWrapWord
	p.undo = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), func() {
		if f := p.undoFn; f != nil {
			p.undoFn = nil
			p.undo.Hide()
			f()
		}
	})
	p.undo.Hide()
	p.buttons()
	for sc, delta := range map[fyne.Shortcut]int{ruleUpShortcut: -1, ruleDownShortcut: 1} {
		p.win.Canvas().AddShortcut(sc, func(fyne.Shortcut) {
			if p.active && p.ctx.Err() == nil && p.listView.Visible() && p.deps.Automations != nil {
				p.move(delta)
			}
		})
	}
	bar := container.NewHBox(add, p.edit, p.del, p.up, p.down)
	p.listView = container.NewBorder(container.NewVBox(bar, container.NewBorder(nil, nil, nil, p.undo, p.status)), nil, nil, nil, p.list)
	p.form = newRuleForm(p)
	p.form.box.Hide()
	p.stack = container.NewStack(p.listView, p.form.box)
	return p.stack
}

// buttons enables what the selection allows.
func (p *rulesPanel) buttons() {
	sel := p.selected >= 0 && p.selected < len(p.rules)
	for _, b := range []*widget.Button{p.edit, p.del} {
		if sel {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	enableIf(p.up, sel && p.selected > 0)
	enableIf(p.down, sel && p.selected < len(p.rules)-1)
}

func enableIf(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func (p *rulesPanel) shown(ctx context.Context) {
	p.ctx = ctx
	p.reload()
}

// reload reads the rules, keeping the selection on the same rule.
func (p *rulesPanel) reload() {
	if p.deps.Automations == nil || p.list == nil {
		return
	}
	var keep int64
	if p.selected >= 0 && p.selected < len(p.rules) {
		keep = p.rules[p.selected].ID
	}
	p.bg.run(p.ctx, func(ctx context.Context) func() {
		rules, err := loadRules(ctx, p.deps.Automations)
		return func() {
			if err != nil {
				p.say("Could not read the routing rules: " + err.Error() + ". Close and reopen the screen to try again.")
				return
			}
			p.rules = rules
			p.list.UnselectAll()
			p.selected = -1
			if i := slices.IndexFunc(rules, func(r routing.Rule) bool { return r.ID == keep }); keep != 0 && i >= 0 {
				p.list.Select(i)
			}
			p.list.Refresh()
			p.buttons()
		}
	})
}

func loadRules(ctx context.Context, st Automations) ([]routing.Rule, error) {
	recs, err := st.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]routing.Rule, 0, len(recs))
	for _, rec := range recs {
		r, err := routing.FromRecord(rec)
		if err != nil {
			// A rule this build cannot read is still listed, to delete.
			r = routing.Rule{ID: rec.ID, Name: rec.Name, Enabled: rec.Enabled}
		}
		out = append(out, r)
	}
	return out, nil
}

func (p *rulesPanel) say(text string) { p.status.SetText(text) }

func (p *rulesPanel) offerUndo(f func()) {
	p.undoFn = f
	p.undo.Show()
}

// move moves the selected rule by delta places and stores the order.
func (p *rulesPanel) move(delta int) {
	i, j := p.selected, p.selected+delta
	if i < 0 || j < 0 || j >= len(p.rules) {
		return
	}
	p.rules[i], p.rules[j] = p.rules[j], p.rules[i]
	p.selected = j
	p.list.Select(j)
	p.list.Refresh()
	p.buttons()
	p.saveOrder(ruleIDs(p.rules), "")
}

func ruleIDs(rules []routing.Rule) []int64 {
	out := make([]int64, len(rules))
	for i, r := range rules {
		out[i] = r.ID
	}
	return out
}

func (p *rulesPanel) saveOrder(order []int64, done string) {
	p.bg.run(p.ctx, func(ctx context.Context) func() {
		err := p.deps.Automations.ReorderRules(ctx, order)
		return func() {
			if err != nil {
				p.say("Could not store the new order: " + err.Error() + ". The list shows the stored order again.")
			} else if done != "" {
				p.say(done)
			}
			p.reload()
		}
	})
}

// confirmDelete deletes the selected rule once confirmed, offering undo.
func (p *rulesPanel) confirmDelete() {
	if p.selected < 0 || p.selected >= len(p.rules) {
		return
	}
	r, at, order := p.rules[p.selected], p.selected, ruleIDs(p.rules)
	d := dialog.NewConfirm("Delete rule?", fmt.Sprintf("Delete the rule %q? Calls routed by it keep their tags and tasks.", r.Name), func(ok bool) {
		if !ok {
			return
		}
		p.bg.run(p.ctx, func(ctx context.Context) func() {
			err := p.deps.Automations.DeleteRule(ctx, r.ID)
			return func() {
				if err != nil {
					p.say(fmt.Sprintf("Could not delete %q: %v. Try again.", r.Name, err))
					return
				}
				p.say(fmt.Sprintf("Deleted the rule %q.", r.Name))
				p.selected = -1
				p.reload()
				p.offerUndo(func() { p.restore(r, at, order) })
			}
		})
	}, p.win)
	d.SetConfirmText("Delete")
	d.Show()
}

// restore saves a deleted rule again and puts it back at its place.
func (p *rulesPanel) restore(r routing.Rule, at int, order []int64) {
	r.ID = 0
	p.bg.run(p.ctx, func(ctx context.Context) func() {
		id, err := engine.SaveRule(ctx, p.deps.Automations, r)
		if err == nil {
			order = slices.Clone(order)
			order[at] = id
			var cur []store.RuleRecord
			if cur, err = p.deps.Automations.Rules(ctx); err == nil {
				// The rules still there keep their places; any added
				// since the delete go last.
				var keep []int64
				for _, o := range order {
					if slices.ContainsFunc(cur, func(c store.RuleRecord) bool { return c.ID == o }) {
						keep = append(keep, o)
					}
				}
				for _, c := range cur {
					if !slices.Contains(keep, c.ID) {
						keep = append(keep, c.ID)
					}
				}
				err = p.deps.Automations.ReorderRules(ctx, keep)
			}
		}
		return func() {
			if err != nil {
				p.say(fmt.Sprintf("Could not bring back %q: %v.", r.Name, err))
			} else {
				p.say(fmt.Sprintf("The rule %q is back.", r.Name))
			}
			p.reload()
		}
	})
}

// open shows the form on r.
func (p *rulesPanel) open(r routing.Rule) {
	p.form.load(r)
	p.listView.Hide()
	p.form.box.Show()
}

// closeForm goes back to the list.
func (p *rulesPanel) closeForm() {
	p.form.cancelPreview()
	p.form.box.Hide()
	p.listView.Show()
}

// ruleSummary says a rule's conditions and actions in one line.
func ruleSummary(r routing.Rule) string {
	var when []string
	c := r.Conditions
	if len(c.Keywords) > 0 {
		when = append(when, "says "+strings.Join(c.Keywords, ", "))
	}
	if len(c.Phrases) > 0 {
		when = append(when, "says \""+strings.Join(c.Phrases, "\", \"")+"\"")
	}
	if c.Regex != "" {
		when = append(when, "matches /"+c.Regex+"/")
	}
	var then []string
	a := r.Actions
	if a.TeamTag != "" {
		then = append(then, "tag "+a.TeamTag)
	}
	if a.AssignUserID != "" {
		then = append(then, "assign "+a.AssignUserID)
	}
	if a.CreateTask != nil {
		then = append(then, "task")
	}
	if a.RaiseAlert {
		then = append(then, "alert")
	}
	if a.ADAlert {
		then = append(then, "AD task")
	}
	return strings.Join(when, " or ") + " → " + strings.Join(then, ", ")
}

// ruleField names a field of the form, to show a problem at it.
type ruleField int

const (
	fieldGeneral ruleField = iota
	fieldName
	fieldKeywords
	fieldPhrases
	fieldRegex
	fieldChannels
	fieldDirection
	fieldSpeaker
	fieldTag
	fieldUser
	fieldTask
	fieldCount
)

// problemField is the field a routing.Validate problem is about.
func problemField(problem string) ruleField {
	for _, m := range []struct {
		prefix string
		f      ruleField
	}{
		{"give the rule a name", fieldName}, {"the name", fieldName},
		{"keyword", fieldKeywords}, {"the rule has", fieldKeywords}, {"add at least one keyword", fieldKeywords},
		{"phrase", fieldPhrases}, {"the regular expression", fieldRegex},
		{"channel", fieldChannels}, {"direction", fieldDirection}, {"speaker", fieldSpeaker},
		{"choose at least one action", fieldTag}, {"team tag", fieldTag}, {"user id", fieldUser},
		{"the task", fieldTask}, {"task text", fieldTask},
	} {
		if strings.HasPrefix(problem, m.prefix) {
			return m.f
		}
	}
	return fieldGeneral
}

// ruleForm edits one rule: its fields with their problems beside them,
// Save (enabled only for a valid rule), and the test against recent
// transcripts.
type ruleForm struct {
	p   *rulesPanel
	box *fyne.Container
	id  int64

	name, keywords, regex, tag, user, taskTitle *widget.Entry
	phrases                                     *widget.Entry
	enabled, task, alert, adTask                *widget.Check
	channels                                    *widget.CheckGroup
	direction, speaker                          *widget.Select
	problems                                    [fieldCount]*widget.Label
	save, test, stop                            *widget.Button
	spinner                                     *widget.ProgressBarInfinite
	results                                     *fyne.Container
	resultNote                                  *widget.Label
	// cancel ends the running test, if any; gen drops the answers of
	// tests that were replaced.
	cancel context.CancelFunc
	gen    int
}

func newRuleForm(p *rulesPanel) *ruleForm {
	f := &ruleForm{p: p}
	changed := func(string) { f.validate() }
	entry := func(place string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(place)
		e.OnChanged = changed
		return e
	}
	f.name = entry("e.g. Refunds to billing")
	f.keywords = entry("words, separated by commas; refund* matches refunds, refunded")
	f.phrases = widget.NewMultiLineEntry()
	f.phrases.SetPlaceHolder("one phrase a line, e.g. cancel my account")
	f.phrases.SetMinRowsVisible(2)
	f.phrases.OnChanged = changed
	f.regex = entry("optional RE2 regular expression, e.g. order #?\\d{5}")
	f.tag = entry("HighLevel tag, e.g. team-billing")
	f.user = entry("optional HighLevel user id")
	f.taskTitle = entry("task title; may use {contact}, {phrase}, {at}")
	check := func(text string) *widget.Check { return widget.NewCheck(text, func(bool) { f.validate() }) }
	f.enabled = check("Enabled (applied to new calls)")
	f.task = check("Create a HighLevel task")
	f.alert = check("Raise an alert in Parley")
	f.adTask = check("Create a task in ActiveDEMAND")
	f.channels = widget.NewCheckGroup([]string{"call", "sms", "email", "chat"}, func([]string) { f.validate() })
	f.channels.Horizontal = true
	f.direction = widget.NewSelect([]string{"either", routing.DirectionInbound, routing.DirectionOutbound}, changed)
	f.speaker = widget.NewSelect([]string{"either side", "side 1", "side 2"}, changed)
	for i := range f.problems {
		l := widget.NewLabel("")
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		l.Hide()
		f.problems[i] = l
	}
	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.saveRule)
	f.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", p.closeForm)
	f.test = widget.NewButtonWithIcon("Test this rule against recent transcripts", theme.SearchIcon(), f.runPreview)
	if p.deps.RulePreview == nil {
		f.test.Disable()
	}
	f.stop = widget.NewButton("Stop the test", f.cancelPreview)
	f.stop.Hide()
	f.spinner = widget.NewProgressBarInfinite()
	f.spinner.Stop()
	f.spinner.Hide()
	f.resultNote = wrapped("")
	f.results = container.NewVBox()

	row := func(label string, field fyne.CanvasObject, fl ruleField) fyne.CanvasObject {
		return container.NewVBox(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(150, 36), widget.NewLabel(label)), nil, field), f.problems[fl])
	}
	form := container.NewVBox(
		f.problems[fieldGeneral],
		row("Name", f.name, fieldName),
		f.enabled,
		autoHeading("When a call's transcript…"),
		row("has keywords", f.keywords, fieldKeywords),
		row("has phrases", f.phrases, fieldPhrases),
		row("matches regex", f.regex, fieldRegex),
		row("on channels", f.channels, fieldChannels),
		row("direction", f.direction, fieldDirection),
		row("said by", f.speaker, fieldSpeaker),
		autoHeading("…then"),
		row("tag with team", f.tag, fieldTag),
		row("assign to user", f.user, fieldUser),
		container.NewVBox(f.task, row("task title", f.taskTitle, fieldTask)),
		f.alert, f.adTask,
		widget.NewSeparator(),
		container.NewHBox(f.test, f.stop),
		f.spinner, f.resultNote, f.results,
	)
	f.box = container.NewBorder(nil, container.NewHBox(f.save, cancel), nil, nil, container.NewVScroll(form))
	return f
}

// load fills the form from r.
func (f *ruleForm) load(r routing.Rule) {
	f.cancelPreview()
	f.id = r.ID
	c, a := r.Conditions, r.Actions
	f.name.SetText(r.Name)
	f.enabled.SetChecked(r.Enabled)
	f.keywords.SetText(strings.Join(c.Keywords, ", "))
	f.phrases.SetText(strings.Join(c.Phrases, "\n"))
	f.regex.SetText(c.Regex)
	f.channels.SetSelected(c.Channels)
	f.direction.SetSelectedIndex(max(0, slices.Index([]string{"", routing.DirectionInbound, routing.DirectionOutbound}, c.Direction)))
	f.speaker.SetSelectedIndex(min(max(c.Speaker, 0), 2))
	f.tag.SetText(a.TeamTag)
	f.user.SetText(a.AssignUserID)
	f.task.SetChecked(a.CreateTask != nil)
	f.taskTitle.SetText("")
	if a.CreateTask != nil {
		f.taskTitle.SetText(a.CreateTask.Title)
	}
	f.alert.SetChecked(a.RaiseAlert)
	f.adTask.SetChecked(a.ADAlert)
	f.results.RemoveAll()
	f.resultNote.SetText("")
	f.validate()
}

// rule is the rule the form holds now.
func (f *ruleForm) rule() routing.Rule {
	split := func(s, sep string) []string {
		var out []string
		for _, v := range strings.Split(s, sep) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	r := routing.Rule{ID: f.id, Name: strings.TrimSpace(f.name.Text), Enabled: f.enabled.Checked,
		Conditions: routing.Conditions{Keywords: split(f.keywords.Text, ","), Phrases: split(f.phrases.Text, "\n"),
			Regex: strings.TrimSpace(f.regex.Text), Channels: slices.Clone(f.channels.Selected)},
		Actions: routing.Actions{TeamTag: strings.TrimSpace(f.tag.Text), AssignUserID: strings.TrimSpace(f.user.Text),
			RaiseAlert: f.alert.Checked, ADAlert: f.adTask.Checked}}
	if d := f.direction.SelectedIndex(); d > 0 {
		r.Conditions.Direction = f.direction.Selected
	}
	r.Conditions.Speaker = max(f.speaker.SelectedIndex(), 0)
	if f.task.Checked {
		r.Actions.CreateTask = &routing.TaskTemplate{Title: strings.TrimSpace(f.taskTitle.Text)}
	}
	return r
}

// validate shows each problem at its field and enables Save only for a
// rule that validates.
func (f *ruleForm) validate() {
	if f.save == nil {
		return // still being built
	}
	var texts [fieldCount][]string
	err := f.rule().Validate()
	var ve *routing.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fl := problemField(p)
			texts[fl] = append(texts[fl], p)
		}
	}
	for i, l := range f.problems {
		if len(texts[i]) == 0 {
			l.Hide()
			continue
		}
		l.SetText(strings.Join(texts[i], "; "))
		l.Show()
	}
	enableIf(f.save, err == nil && f.p.deps.Automations != nil)
}

func (f *ruleForm) saveRule() {
	r := f.rule()
	if r.Validate() != nil {
		return
	}
	p := f.p
	p.bg.run(p.ctx, func(ctx context.Context) func() {
		id, err := engine.SaveRule(ctx, p.deps.Automations, r)
		return func() {
			if err != nil {
				f.problems[fieldGeneral].SetText("Not saved: " + err.Error())
				f.problems[fieldGeneral].Show()
				return
			}
			p.say(fmt.Sprintf("Saved the rule %q.", r.Name))
			p.closeForm()
			for i, x := range p.rules {
				if x.ID == id {
					p.selected = i
				}
			}
			p.reload()
		}
	})
}

// runPreview tests the unsaved rule against recent transcripts, off the
// UI goroutine, with a spinner and a way to stop it.
func (f *ruleForm) runPreview() {
	r := f.rule()
	if err := r.Validate(); err != nil {
		f.resultNote.SetText("Fix the problems shown in red first; the test runs only a rule that could be saved.")
		return
	}
	f.cancelPreview()
	f.gen++
	gen := f.gen
	ctx, cancel := context.WithCancel(f.p.ctx)
	f.cancel = cancel
	f.spinner.Show()
	f.spinner.Start()
	f.stop.Show()
	f.test.Disable()
	f.results.RemoveAll()
	f.resultNote.SetText(fmt.Sprintf("Testing %q against the %d most recent call transcripts…", r.Name, previewCalls))
	f.p.bg.run(ctx, func(ctx context.Context) func() {
		res, err := f.p.deps.RulePreview.Preview(ctx, r, previewCalls)
		return func() {
			if gen != f.gen {
				return
			}
			f.done()
			if err != nil {
				f.resultNote.SetText("The test did not finish: " + err.Error() + ". Try again.")
				return
			}
			f.show(res)
		}
	})
}

// done ends the test's busy state.
func (f *ruleForm) done() {
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	f.spinner.Stop()
	f.spinner.Hide()
	f.stop.Hide()
	if f.p.deps.RulePreview != nil {
		f.test.Enable()
	}
}

// cancelPreview stops a running test; its answer is dropped.
func (f *ruleForm) cancelPreview() {
	if f.cancel == nil {
		return
	}
	f.gen++
	f.done()
	f.resultNote.SetText("Test stopped.")
}

// show lists what the rule would have matched.
func (f *ruleForm) show(res routing.PreviewResult) {
	note := fmt.Sprintf("It would have matched %d of the %d most recent calls.", res.Matched, res.Calls)
	if res.Calls == 0 {
		note = "There are no call transcripts yet to test against; they arrive as calls are mirrored."
	}
	if len(res.Skipped) > 0 {
		note += fmt.Sprintf(" %d transcripts could not be read (first: %v).", len(res.Skipped), res.Skipped[0])
	}
	if len(res.Matches) > previewShown {
		note += fmt.Sprintf(" The first %d places are shown.", previewShown)
	}
	f.resultNote.SetText(note)
	loc := f.p.deps.Location
	for _, m := range res.Matches[:min(len(res.Matches), previewShown)] {
		f.results.Add(wrapped(fmt.Sprintf("%s · call of %s · at %s · %q (sentence: %s)",
			m.ContactID, m.At.In(loc).Format("2 Jan 2006 15:04"), callOffset(m.Hit.At), m.Matched, markMatch(m.Hit))))
	}
}

// markMatch is the sentence with the matched words in »guillemets«.
func markMatch(h routing.Hit) string {
	t := h.Text
	if h.Pos < 0 || h.Pos+len(h.Matched) > len(t) {
		return t
	}
	return t[:h.Pos] + "»" + h.Matched + "«" + t[h.Pos+len(h.Matched):]
}

// offset is m:ss into the call.
func callOffset(d time.Duration) string {
	s := int(d / time.Second)
	return strconv.Itoa(s/60) + ":" + fmt.Sprintf("%02d", s%60)
}
