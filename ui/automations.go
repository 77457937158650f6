package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/routing"
)

// Automations is what the Automations screen reads and writes: the
// engine's switches and the routing rules. *store.Store implements it.
type Automations interface {
	engine.AutomationStore
	// ReorderRules puts the rules in the order of ids.
	ReorderRules(ctx context.Context, ids []int64) error
}

// RulePreviewer runs a rule, saved or not, over the most recent
// transcripts. *routing.Previewer implements it.
type RulePreviewer interface {
	Preview(ctx context.Context, r routing.Rule, n int) (routing.PreviewResult, error)
}

// mirrorOffWarning is what switching off the core mirror costs, said
// before it is done.
const mirrorOffWarning = "While Mirror is off, contacts and messages from ActiveDEMAND do not reach HighLevel: " +
	"each is skipped with a history row saying so, and it is not mirrored later when you switch Mirror back on " +
	"(run a backfill from the Sync screen for that). Calls, statuses and rules that follow from messages stop too."

// automationsScreen shows what Parley does as a catalog with a switch per
// action, the templates, and the routing rules editor. Store reads and
// writes run off the UI goroutine; their results come back through
// Deps.Do.
type automationsScreen struct {
	deps Deps
	bg   background
	win  fyne.Window
	life context.Context
	// ctx is the context of the current showing.
	ctx context.Context

	checks map[engine.Switch]*widget.Check
	// quiet is set while the screen sets a check itself, so that its
	// OnChanged does not store what was just read.
	quiet bool
	// status says what the last change did; undo, when shown, reverts it.
	status *widget.Label
	undo   *widget.Button
	// statusRow holds both; hidden while neither has anything to show.
	statusRow *fyne.Container
	undoFn    func()
	rules     *rulesPanel
}

func newAutomationsScreen(d Deps, bg background, win fyne.Window, life context.Context) *automationsScreen {
	s := &automationsScreen{deps: d, bg: bg, win: win, life: life, ctx: life, checks: map[engine.Switch]*widget.Check{}}
	s.rules = newRulesPanel(d, bg, win, life)
	return s
}

func (s *automationsScreen) screen() *screen {
	return &screen{title: "Automations", icon: theme.SettingsIcon(), build: s.view, shown: s.shown}
}

func (s *automationsScreen) view() fyne.CanvasObject {
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.undo = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), func() {
		if f := s.undoFn; f != nil {
			s.undoFn = nil
			s.undo.Hide()
			f()
		}
	})
	s.undo.Hide()
	tabs := container.NewAppTabs(
		container.NewTabItem("Actions", container.NewVScroll(s.catalog())),
		container.NewTabItem("Templates", container.NewVScroll(s.templates())),
		container.NewTabItem("Routing rules", s.rules.view()),
	)
	tabs.OnSelected = func(it *container.TabItem) { s.rules.active = it.Text == "Routing rules" }
	s.statusRow = container.NewBorder(nil, nil, nil, s.undo, s.status)
	s.statusRow.Hide()
	top := container.NewVBox(header("Automations",
		"What Parley does for you, and when. Switch an action off and the sync skips it, saying so in History; start from a template; route calls by what was said."),
		s.statusRow)
	return container.NewBorder(top, nil, nil, nil, tabs)
}

// catalog lists the actions grouped under their switches, then the
// triggers.
func (s *automationsScreen) catalog() fyne.CanvasObject {
	box := container.NewVBox(autoHeading("What Parley does (actions): switch one off and the sync skips it"))
	for _, sw := range engine.Switches() {
		c := widget.NewCheck(engine.SwitchName(sw), nil)
		c.SetChecked(true)
		c.OnChanged = func(on bool) { s.toggled(sw, on) }
		if s.deps.Automations == nil {
			c.Disable()
		}
		s.checks[sw] = c
		box.Add(c)
		for _, a := range engine.Actions {
			if a.Switch == sw {
				box.Add(wrapped("    " + a.Name + ": " + a.What + " Calls " + a.Calls + "."))
			}
		}
	}
	box.Add(widget.NewSeparator())
	box.Add(autoHeading("When (triggers)"))
	for _, t := range engine.Triggers {
		box.Add(wrapped("• " + t.Name + ": " + t.What + " Calls " + t.Calls + "."))
	}
	return box
}

func autoHeading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func (s *automationsScreen) shown(ctx context.Context) {
	s.ctx = ctx
	if s.deps.Automations == nil {
		s.say("The switches and rules are not available in this window: Parley's database is not open.")
		return
	}
	s.reload()
	s.rules.shown(ctx)
}

// reload reads the switches and shows them.
func (s *automationsScreen) reload() {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		set, err := s.deps.Automations.AutomationSwitches(ctx)
		return func() {
			if err != nil {
				s.say("Could not read the switches: " + err.Error() + ". Close and reopen the screen to try again.")
				return
			}
			s.quiet = true
			defer func() { s.quiet = false }()
			for sw, c := range s.checks {
				on, ok := set[string(sw)]
				c.SetChecked(on || !ok)
			}
		}
	})
}

// say shows text above the tabs; "" hides the line, which would
// otherwise leave an empty gap there.
func (s *automationsScreen) say(text string) {
	s.status.SetText(text)
	if text == "" && !s.undo.Visible() {
		s.statusRow.Hide()
	} else {
		s.statusRow.Show()
	}
}

// offerUndo shows Undo for the change just made.
func (s *automationsScreen) offerUndo(f func()) {
	s.undoFn = f
	s.undo.Show()
	s.statusRow.Show()
}

// toggled stores a switch the person changed; Mirror goes off only after
// a confirmation explaining what that stops.
func (s *automationsScreen) toggled(sw engine.Switch, on bool) {
	if s.quiet {
		return
	}
	if sw == engine.SwitchMirror && !on {
		d := dialog.NewConfirm("Switch off Mirror?", mirrorOffWarning, func(ok bool) {
			if ok {
				s.store(sw, on)
				return
			}
			s.quiet = true
			s.checks[sw].SetChecked(true)
			s.quiet = false
		}, s.win)
		d.SetConfirmText("Switch off")
		d.SetDismissText("Keep Mirror on")
		d.Show()
		return
	}
	s.store(sw, on)
}

func (s *automationsScreen) store(sw engine.Switch, on bool) {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		err := s.deps.Automations.SetAutomationSwitches(ctx, map[string]bool{string(sw): on})
		return func() {
			if err != nil {
				s.say(fmt.Sprintf("Could not switch %q: %v. Try again; if it keeps failing, see the log in the data folder.", engine.SwitchName(sw), err))
				s.reload()
				return
			}
			state := "off: the sync skips it from now on, with a history row saying so"
			if on {
				state = "on: the sync does it for new work"
			}
			s.say(fmt.Sprintf("%s is %s.", engine.SwitchName(sw), state))
			s.offerUndo(func() {
				s.quiet = true
				s.checks[sw].SetChecked(!on)
				s.quiet = false
				s.store(sw, !on)
			})
		}
	})
}

// templates lists the three templates with their Apply buttons.
func (s *automationsScreen) templates() fyne.CanvasObject {
	box := container.NewVBox()
	for _, t := range engine.Templates {
		apply := widget.NewButton("Apply "+t.Name+"…", func() { s.plan(t) })
		if s.deps.Automations == nil {
			apply.Disable()
		}
		box.Add(autoHeading(t.Name))
		box.Add(wrapped(t.Summary))
		box.Add(container.NewHBox(apply))
		box.Add(widget.NewSeparator())
	}
	return box
}

// plan works out what template t would change and asks to confirm it.
func (s *automationsScreen) plan(t engine.Template) {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		p, err := engine.PlanTemplate(ctx, s.deps.Automations, t)
		return func() {
			if err != nil {
				s.say(fmt.Sprintf("Could not work out what %s would change: %v. Try again.", t.Name, err))
				return
			}
			lines := planLines(p)
			if len(lines) == 0 {
				dialog.ShowInformation(t.Name, "Nothing to change: the switches and rules are already as "+t.Name+" sets them.", s.win)
				return
			}
			text := wrapped("Applying " + t.Name + " will:\n" + strings.Join(lines, "\n") + "\n\nYou can undo it afterwards.")
			d := dialog.NewCustomConfirm("Apply "+t.Name+"?", "Apply", "Cancel", text, func(ok bool) {
				if ok {
					s.apply(t)
				}
			}, s.win)
			d.Resize(fyne.NewSize(560, 0))
			d.Show()
		}
	})
}

// planLines says a template's changes in words.
func planLines(p engine.TemplatePlan) []string {
	onOff := map[bool]string{true: "on", false: "off"}
	var lines []string
	for _, c := range p.Changes {
		lines = append(lines, fmt.Sprintf("• switch %s %s", engine.SwitchName(c.Switch), onOff[c.To]))
	}
	for _, r := range p.NewRules {
		lines = append(lines, fmt.Sprintf("• add the rule %q: %s", r.Name, ruleSummary(r)))
	}
	return lines
}

func (s *automationsScreen) apply(t engine.Template) {
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		u, err := engine.ApplyTemplate(ctx, s.deps.Automations, t)
		return func() {
			if err != nil {
				s.say(fmt.Sprintf("%s was not applied: %v. Nothing was changed; fix what it names and try again.", t.Name, err))
				return
			}
			s.say(t.Name + " is applied.")
			s.reload()
			s.rules.reload()
			s.offerUndo(func() {
				s.bg.run(s.ctx, func(ctx context.Context) func() {
					err := u.Apply(ctx, s.deps.Automations)
					return func() {
						if err != nil {
							s.say(fmt.Sprintf("Could not undo %s: %v. Set the switches by hand.", t.Name, err))
						} else {
							s.say(t.Name + " is undone: the switches are as they were.")
						}
						s.reload()
						s.rules.reload()
					}
				})
			})
		}
	})
}

// storeAutomations is the compile-time proof that the store is what the
// screen needs.
var _ Automations = (*store.Store)(nil)
