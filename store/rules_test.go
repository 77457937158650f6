package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRulesCRUDAndOrder(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	body := []byte(`{"conditions":{"keywords":["refund"]},"actions":{"team_tag":"billing"}}`)
	a, err := s.SaveRule(ctx, RuleRecord{Name: "Refunds", Enabled: true, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SaveRule(ctx, RuleRecord{Name: "Sales", Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.SaveRule(ctx, RuleRecord{Name: "Churn", Enabled: true, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	names := func() string {
		rs, err := s.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, r := range rs {
			n = append(n, r.Name)
		}
		return strings.Join(n, ",")
	}
	if got := names(); got != "Refunds,Sales,Churn" {
		t.Fatalf("order %s", got)
	}
	if _, err := s.SaveRule(ctx, RuleRecord{Name: " Sales ", Body: []byte(`{}`)}); !errors.Is(err, ErrRuleNameTaken) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := s.SaveRule(ctx, RuleRecord{Name: "x", Body: []byte(`{`)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad body: %v", err)
	}
	if _, err := s.SaveRule(ctx, RuleRecord{ID: 999, Name: "x", Body: []byte(`{}`)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing rule: %v", err)
	}

	clock.t = clock.t.Add(time.Hour)
	if _, err := s.SaveRule(ctx, RuleRecord{ID: a, Name: "Refunds and returns", Enabled: false, Body: body}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Rule(ctx, a)
	if err != nil || r.Name != "Refunds and returns" || r.Enabled || string(r.Body) != string(body) || r.Position != 1 || !r.UpdatedAt.Equal(clock.t) {
		t.Fatalf("Rule = %+v, %v", r, err)
	}

	if err := s.ReorderRules(ctx, []int64{c, a, b}); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "Churn,Refunds and returns,Sales" {
		t.Fatalf("after reorder %s", got)
	}
	if err := s.ReorderRules(ctx, []int64{c, a}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("partial reorder: %v", err)
	}
	if err := s.DeleteRule(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Rule(ctx, c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted rule: %v", err)
	}
	// A new rule goes last.
	if _, err := s.SaveRule(ctx, RuleRecord{Name: "New", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "Refunds and returns,Sales,New" {
		t.Fatalf("after insert %s", got)
	}
}

func TestRecentTranscripts(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	sum := strings.Repeat("a", 64)
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range []string{"m1", "m2", "m3"} {
		for _, k := range []MediaKind{MediaRecording, MediaTranscript} {
			if _, err := s.AddMedia(ctx, MediaFile{MessageID: m, ContactID: "c", Kind: k, Path: "media/" + m + string(k), SHA256: sum, FetchedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := s.RecentTranscripts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MessageID != "m3" || got[1].MessageID != "m2" || got[0].Kind != MediaTranscript {
		t.Fatalf("RecentTranscripts = %+v", got)
	}
	if _, err := s.RecentTranscripts(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("n=0: %v", err)
	}
}

func TestRouteDecisions(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	d := RouteDecision{MessageID: "msg1", ContactID: "c1", RuleID: 7, RuleName: "Refunds", Sentence: 3, Offset: 42 * time.Second, Matched: "refund", Why: `matched "refund" at 0:42`}
	if err := s.RecordRouteDecisions(ctx, []RouteDecision{d}); err != nil {
		t.Fatal(err)
	}
	d.Why = `matched "refund" at 0:43`
	if err := s.RecordRouteDecisions(ctx, []RouteDecision{d, {MessageID: "msg2", ContactID: "c1", RuleID: 7, RuleName: "Refunds", Why: "w"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.RouteDecisionsForContact(ctx, "c1")
	if err != nil || len(got) != 2 {
		t.Fatalf("decisions %+v, %v", got, err)
	}
	var one RouteDecision
	for _, g := range got {
		if g.MessageID == "msg1" {
			one = g
		}
	}
	if one.Why != d.Why || one.Offset != 42*time.Second || one.Sentence != 3 || one.Matched != "refund" {
		t.Fatalf("decision %+v", one)
	}
	if err := s.RecordRouteDecisions(ctx, []RouteDecision{{MessageID: "m"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no rule id: %v", err)
	}
}

func TestRaiseAlertOnce(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	a := Alert{Severity: SeverityWarning, Source: "routing", Message: "Refunds matched a call"}
	id, raised, err := s.RaiseAlertOnce(ctx, "route:msg1:7", a)
	if err != nil || !raised {
		t.Fatalf("first: %d %v %v", id, raised, err)
	}
	if err := s.AckAlert(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Acknowledged or not, the same key never raises it again.
	again, raised, err := s.RaiseAlertOnce(ctx, "route:msg1:7", a)
	if err != nil || raised || again != id {
		t.Fatalf("again: %d %v %v", again, raised, err)
	}
	if _, raised, _ := s.RaiseAlertOnce(ctx, "route:msg2:7", a); !raised {
		t.Fatal("another key must raise")
	}
	all, _ := s.RecentAlerts(ctx, 10)
	if len(all) != 2 {
		t.Fatalf("%d alerts, want 2", len(all))
	}
}
