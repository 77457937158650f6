package engine_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
	"parley/sync/routing"
)

// TestAutomationCatalog keeps the catalog readable and whole: every entry
// says what it calls, every switch an action or template names is in the
// catalog, and every template switch exists.
func TestAutomationCatalog(t *testing.T) {
	if len(engine.Triggers) < 6 {
		t.Errorf("%d triggers, want at least the six the screen promises", len(engine.Triggers))
	}
	switches := map[engine.Switch]bool{}
	for _, e := range append(append([]engine.CatalogEntry{}, engine.Triggers...), engine.Actions...) {
		if e.Name == "" || e.Calls == "" || e.What == "" {
			t.Errorf("catalog entry %+v lacks a name, what it does or what it calls", e)
		}
	}
	for _, a := range engine.Actions {
		if a.Switch == "" {
			t.Errorf("action %q has no switch", a.Name)
		}
		switches[a.Switch] = true
	}
	for _, s := range engine.Switches() {
		if !switches[s] {
			t.Errorf("switch %q is in no catalog entry", s)
		}
	}
	for _, tp := range engine.Templates {
		for s := range tp.Switches {
			if !switches[s] {
				t.Errorf("template %q sets unknown switch %q", tp.Name, s)
			}
		}
		for _, r := range tp.Rules {
			if err := r.Validate(); err != nil {
				t.Errorf("template %q: %v", tp.Name, err)
			}
		}
	}
}

// TestAutomationTranscriptOffSkipsIt switches off "fetch transcript": a
// call's recording is still fetched, its transcript is not (no request to
// HighLevel), one skipped row says it is off in Automations, and nothing
// is put on the timeline or routed.
func TestAutomationTranscriptOffSkipsIt(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	if err := m.st.SetAutomationSwitches(context.Background(), map[string]bool{string(engine.SwitchFetchTranscript): false}); err != nil {
		t.Fatal(err)
	}
	call := callJob("ad-call-1", m.contact, "inbound", "completed", t0)
	m.queue(m.contact, call)
	m.run(m.engine(), m.idle)

	if n := m.gs.Calls(transcriptionRoute); n != 0 {
		t.Errorf("%d transcription requests with fetching transcripts switched off", n)
	}
	if n := m.gs.Calls(recordingRoute); n != 1 {
		t.Errorf("%d recording requests, want 1", n)
	}
	var off []store.HistoryEntry
	for _, h := range m.rows(store.OpMediaFetch) {
		if h.Outcome == store.OutcomeSkipped {
			off = append(off, h)
		}
		if h.Outcome == store.OutcomeFailed || h.Outcome == store.OutcomeRetrying {
			t.Errorf("a switched-off action is an error: %+v", h)
		}
	}
	if len(off) != 1 || !strings.Contains(off[0].Error, "switched off in Automations") || off[0].LocalID != call.MessageID {
		t.Errorf("skipped media rows %+v, want one for %s saying it is switched off in Automations", off, call.MessageID)
	}
	if n := len(m.itemsOf(engine.JobRouteTranscript)); n != 0 {
		t.Errorf("%d routing jobs without a transcript", n)
	}
	if n := len(m.rows(engine.OpNoteCreate)); n != 0 {
		t.Errorf("%d note rows without a transcript", n)
	}
}

// TestAutomationCallsArchiveSkipsSMS applies the Calls archive template:
// an SMS is not recorded in HighLevel (a skipped row says why), a call
// beside it is.
func TestAutomationCallsArchiveSkipsSMS(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	tp, ok := engine.TemplateNamed(engine.TemplateCallsArchive)
	if !ok {
		t.Fatal("no Calls archive template")
	}
	if _, err := engine.ApplyTemplate(ctx, r.st, tp); err != nil {
		t.Fatal(err)
	}
	c := contactJob("ad-c-1", "Sam", "Ng", "sam@example.com", "+19025550101")
	sms := messageJob("ad-sms-1", c, "sms", "inbound", "where is my order", t0)
	call := callJob("ad-call-9", c, "inbound", "completed", t0.Add(time.Minute))
	r.queue(c, sms, call)
	r.run(r.engine(), nil)

	got := r.byAltID()
	if got[sms.MessageID] != 0 || got[call.MessageID] != 1 {
		t.Errorf("records by altId %v; want the call once and no SMS", got)
	}
	var skipped int
	for _, h := range r.history() {
		if h.LocalID == sms.MessageID {
			if h.Outcome != store.OutcomeSkipped || !strings.Contains(h.Error, "switched off in Automations") {
				t.Errorf("SMS row %+v, want skipped as switched off in Automations", h)
			}
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("%d rows for the SMS, want one", skipped)
	}
}

// TestAutomationSupportTriageAddsRules applies Support triage: its
// starter rules are stored and valid, the change it shows is what it does,
// and undo restores the switches and removes the rules it added.
func TestAutomationSupportTriageAddsRules(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	before := map[string]bool{string(engine.SwitchRoute): false}
	if err := st.SetAutomationSwitches(ctx, before); err != nil {
		t.Fatal(err)
	}
	tp, _ := engine.TemplateNamed(engine.TemplateSupportTriage)
	plan, err := engine.PlanTemplate(ctx, st, tp)
	if err != nil {
		t.Fatal(err)
	}
	var turnsOn bool
	for _, c := range plan.Changes {
		turnsOn = turnsOn || (c.Switch == engine.SwitchRoute && c.To)
	}
	if !turnsOn || len(plan.NewRules) < 3 {
		t.Fatalf("plan %+v; want routing switched on and the starter rules", plan)
	}
	undo, err := engine.ApplyTemplate(ctx, st, tp)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := routing.Load(ctx, st)
	if err != nil || len(rules) != len(plan.NewRules) {
		t.Fatalf("rules after applying: %+v, %v", rules, err)
	}
	tags := map[string]bool{}
	for _, r := range rules {
		if err := r.Validate(); err != nil || !r.Enabled {
			t.Errorf("starter rule %q: enabled %v, %v", r.Name, r.Enabled, err)
		}
		tags[r.Actions.TeamTag] = true
	}
	if len(tags) < 2 {
		t.Errorf("starter rules tag %v; want more than one team", tags)
	}
	if on, _ := st.AutomationEnabled(ctx, string(engine.SwitchRoute)); !on {
		t.Error("routing still off after Support triage")
	}
	// Applying it again adds no second copy of the rules.
	if p, err := engine.PlanTemplate(ctx, st, tp); err != nil || len(p.NewRules) != 0 {
		t.Errorf("plan again: %d new rules, %v; want none", len(p.NewRules), err)
	}

	if err := undo.Apply(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, _ := st.AutomationSwitches(ctx)
	for s, on := range got {
		if want, ok := before[s]; ok && want != on || !ok && !on {
			t.Errorf("after undo switch %s = %v; switches %v, want as before %v", s, on, got, before)
		}
	}
	if rules, _ := routing.Load(ctx, st); len(rules) != 0 {
		t.Errorf("%d rules after undo, want none", len(rules))
	}
	_ = maps.Clone(before)
}

// TestAutomationAlertOffKeepsTags switches alerts off while routing stays
// on: a matching call is tagged, but no alert is raised, and the alert's
// job says why.
func TestAutomationAlertOffKeepsTags(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	ctx := context.Background()
	if err := m.st.SetAutomationSwitches(ctx, map[string]bool{string(engine.SwitchAlert): false}); err != nil {
		t.Fatal(err)
	}
	call := callJob("ad-call-7", m.contact, "inbound", "completed", t0)
	words := strings.FieldsFunc(ghltest.RecordedTranscript(call.MessageID), func(r rune) bool { return !unicode.IsLetter(r) })
	if _, err := routing.Save(ctx, m.st, routing.Rule{Name: "any", Enabled: true,
		Conditions: routing.Conditions{Keywords: words[:1]}, Actions: routing.Actions{TeamTag: "team-x", RaiseAlert: true}}); err != nil {
		t.Fatal(err)
	}
	m.queue(m.contact, call)
	m.run(m.engine(), m.settled)
	if got := outcomes(m.rows(store.OpContactTag)); got[store.OutcomeOK] != 1 {
		t.Errorf("tag rows %v, want one ok", got)
	}
	if got := outcomes(m.rows(store.OpRouteAlert)); got[store.OutcomeSkipped] != 1 || len(got) != 1 {
		t.Errorf("alert rows %v, want one skipped", got)
	}
	alerts, _ := m.st.RecentAlerts(ctx, 10)
	for _, a := range alerts {
		if a.Source != "sync.engine" {
			t.Errorf("alert raised with alerts switched off: %+v", a)
		}
	}
}
