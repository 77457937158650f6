package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
	"parley/sync/routing"
	"parley/sync/transcript"
)

// routeRig is a rig with ActiveDEMAND, a data folder and one call of a
// contact known on both sides, ready to be routed.
type routeRig struct {
	*rig
	as      *adtest.Server
	dataDir string
	contact ghltest.Contact
	job     engine.RouteJob
}

func newRouteRig(t *testing.T, o rigOptions) *routeRig {
	t.Helper()
	r := &routeRig{rig: newRig(t, o), dataDir: t.TempDir()}
	r.as = adtest.NewTestServer(t, adtest.Options{})
	adc, err := r.as.AddContact(adtest.NewContact{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := activedemand.New(r.as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	r.contact = r.gs.AddContact(ghltest.Contact{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"})
	r.cfg.AD, r.cfg.DataDir = ad, r.dataDir
	r.cfg.RetryBase, r.cfg.RetryCap = 10*time.Millisecond, 50*time.Millisecond
	r.job = engine.RouteJob{ADContactID: string(adc.ID), GHLContactID: r.contact.ID, ADMessageID: "ad-call-1", GHLMessageID: "ghl-call-1",
		Channel: "call", Direction: "inbound", At: t0}
	return r
}

// saveTranscript writes the call's transcript as the media flow does.
func (r *routeRig) saveTranscript(ss []transcript.Sentence) {
	r.t.Helper()
	var b bytes.Buffer
	if err := transcript.Encode(&b, ss); err != nil {
		r.t.Fatal(err)
	}
	rel := "media/" + r.job.GHLMessageID + ".transcript.json"
	if err := os.MkdirAll(filepath.Join(r.dataDir, "media"), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dataDir, filepath.FromSlash(rel)), b.Bytes(), 0o644); err != nil {
		r.t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	if _, err := r.st.AddMedia(context.Background(), store.MediaFile{MessageID: r.job.GHLMessageID, ContactID: r.job.GHLContactID,
		Kind: store.MediaTranscript, Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(b.Len()), ContentType: transcript.ContentType}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *routeRig) queueRoute() {
	r.t.Helper()
	if _, err := r.st.EnqueueBatch(context.Background(), []store.OutboxJob{{Kind: engine.JobRouteTranscript, Key: r.job.Key(), Payload: r.job.Payload()}}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *routeRig) saveRule(rule routing.Rule) int64 {
	r.t.Helper()
	id, err := routing.Save(context.Background(), r.st, rule)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// refundRule matches the call below and takes every action.
var refundRule = routing.Rule{Name: "Refunds", Enabled: true,
	Conditions: routing.Conditions{Keywords: []string{"refund"}, Channels: []string{"call"}, Direction: routing.DirectionInbound},
	Actions: routing.Actions{TeamTag: "team-billing", AssignUserID: "user_jo", RaiseAlert: true, ADAlert: true,
		CreateTask: &routing.TaskTemplate{Title: "Refund request from {contact}", Body: "They said {phrase} at {at}: {sentence}", DueHours: 4}}}

var refundCall = []transcript.Sentence{
	{Channel: 1, Start: 0, End: 3 * time.Second, Text: "Hello, Harbourview, how can I help?"},
	{Channel: 2, Start: 42 * time.Second, End: 45 * time.Second, Text: "I was charged twice and want a Refund."},
	{Channel: 1, Start: 50 * time.Second, End: 52 * time.Second, Text: "Let me look at that."},
}

// ops counts history rows per operation and outcome ("contact.tag ok").
func ops(hs []store.HistoryEntry) map[string]int {
	n := map[string]int{}
	for _, h := range hs {
		n[string(h.Operation)+" "+string(h.Outcome)]++
	}
	return n
}

func rowOf(t *testing.T, hs []store.HistoryEntry, op store.Operation, outcome store.Outcome) store.HistoryEntry {
	t.Helper()
	for _, h := range hs {
		if h.Operation == op && h.Outcome == outcome {
			return h
		}
	}
	t.Fatalf("no %s %s row in %v", op, outcome, ops(hs))
	return store.HistoryEntry{}
}

// TestRouteTranscriptEndToEnd routes one call over real HTTP: the rule
// tags and assigns the HighLevel contact, creates its task, raises the
// Parley alert and the ActiveDEMAND task, and history says why.
func TestRouteTranscriptEndToEnd(t *testing.T) {
	ctx := context.Background()
	r := newRouteRig(t, rigOptions{})
	r.saveRule(refundRule)
	r.saveRule(routing.Rule{Name: "Sales", Enabled: true, Conditions: routing.Conditions{Phrases: []string{"buy more"}}, Actions: routing.Actions{TeamTag: "team-sales"}})
	r.saveRule(routing.Rule{Name: "Outbound refunds", Enabled: true, Conditions: routing.Conditions{Keywords: []string{"refund"}, Direction: routing.DirectionOutbound},
		Actions: routing.Actions{TeamTag: "team-outbound"}})
	r.saveRule(routing.Rule{Name: "Disabled", Conditions: routing.Conditions{Keywords: []string{"refund"}}, Actions: routing.Actions{TeamTag: "team-disabled"}})
	r.saveTranscript(refundCall)
	r.queueRoute()
	r.run(r.engine(), nil)

	var ct ghltest.Contact
	for _, c := range r.gs.Contacts() {
		if c.ID == r.contact.ID {
			ct = c
		}
	}
	if !slices.Equal(ct.Tags, []string{"team-billing"}) || ct.AssignedTo != "user_jo" {
		t.Fatalf("GHL contact: tags %v, assigned to %q", ct.Tags, ct.AssignedTo)
	}
	tasks := r.gs.Tasks(r.contact.ID)
	if len(tasks) != 1 {
		t.Fatalf("%d GHL tasks, want 1", len(tasks))
	}
	task := tasks[0]
	if task.Title != "Refund request from Ann Lee" || !strings.HasPrefix(task.Body, "They said Refund at 0:42: I was charged twice") ||
		task.AssignedTo != "user_jo" || !task.DueDate.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("GHL task: %+v", task)
	}
	alerts, err := r.st.OpenAlerts(ctx)
	if err != nil || len(alerts) != 1 || alerts[0].Source != "sync.routing" || alerts[0].Message != "Refund request from Ann Lee" {
		t.Fatalf("alerts %+v, %v", alerts, err)
	}
	// The console jumps from the alert to the call's routing row.
	if tg, err := r.st.AlertTarget(ctx, alerts[0].ID); err != nil || tg != (store.AlertTarget{Screen: store.TargetHistory, Ref: "ghl-call-1"}) {
		t.Fatalf("alert target %+v, %v", tg, err)
	}
	adTasks := r.as.Tasks()
	if len(adTasks) != 1 || string(adTasks[0].ContactID) != r.job.ADContactID || adTasks[0].Title != "Refund request from Ann Lee" || adTasks[0].Priority != "high" {
		t.Fatalf("AD tasks %+v", adTasks)
	}

	hs := r.history()
	want := map[string]int{"route.match ok": 1, "contact.tag ok": 1, "contact.assign ok": 1, "task.create ok": 1, "route.alert ok": 1, "ad.task ok": 1}
	if got := ops(hs); !mapsEqual(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	match := rowOf(t, hs, store.OpRouteMatch, store.OutcomeOK)
	if match.Error != `rule "Refunds" matched "Refund" at 0:42` || match.LocalID != "ad-call-1" || match.RemoteID != "ghl-call-1" {
		t.Fatalf("match row %+v", match)
	}
	if tag := rowOf(t, hs, store.OpContactTag, store.OutcomeOK); tag.RemoteID != r.contact.ID || tag.HTTPStatus != http.StatusCreated ||
		!strings.Contains(tag.Error, `tag team-billing by rule "Refunds"`) {
		t.Fatalf("tag row %+v", tag)
	}
	if tr := rowOf(t, hs, store.OpTaskCreate, store.OutcomeOK); tr.RemoteID != task.ID {
		t.Fatalf("task row %+v", tr)
	}
	if at := rowOf(t, hs, store.OpADTask, store.OutcomeOK); at.System != store.SystemAD || at.RemoteID != string(adTasks[0].ID) {
		t.Fatalf("AD task row %+v", at)
	}
	ds, err := r.st.RouteDecisionsForContact(ctx, r.contact.ID)
	if err != nil || len(ds) != 1 || ds[0].Offset != 42*time.Second || ds[0].Matched != "Refund" || ds[0].Sentence != 1 || ds[0].RuleName != "Refunds" {
		t.Fatalf("decisions %+v, %v", ds, err)
	}
	r.noSecrets()
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRouteActionsAppliedOnceAfterFaults: HighLevel applies the tag and
// the task but the answers are lost, and checking for the task fails too,
// so the task job itself fails after its effect. The retried job finds the
// task by its marker: one tag, one task.
func TestRouteActionsAppliedOnceAfterFaults(t *testing.T) {
	var gs atomic.Pointer[ghltest.Server]
	var posted atomic.Bool
	r := newRouteRig(t, rigOptions{client: func(c *ghl.Config) { c.Retry.MaxAttempts = 2 }, transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/tasks") && !posted.Swap(true) {
				// The client's own look after the lost answer fails (both
				// of its attempts), so the outcome stays unknown to the job.
				if err := gs.Load().InjectFault(sandboxkit.Fault{Route: "GET /contacts/{contactId}/tasks", Kind: sandboxkit.FaultStatus,
					Status: http.StatusServiceUnavailable, Times: 2}); err != nil {
					return nil, err
				}
			}
			return rt.RoundTrip(req)
		})
	}})
	gs.Store(r.gs)
	for _, route := range []string{"POST /contacts/{contactId}/tags", "POST /contacts/{contactId}/tasks"} {
		if err := r.gs.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropAfter}); err != nil {
			t.Fatal(err)
		}
	}
	r.saveRule(refundRule)
	r.saveTranscript(refundCall)
	r.queueRoute()
	r.run(r.engine(), nil)

	if n := len(r.gs.Tasks(r.contact.ID)); n != 1 {
		t.Fatalf("%d GHL tasks, want 1", n)
	}
	if n := r.gs.Calls("POST /contacts/{contactId}/tasks"); n != 1 {
		t.Fatalf("%d task creations sent, want 1", n)
	}
	if n := r.gs.Calls("POST /contacts/{contactId}/tags"); n != 2 {
		t.Fatalf("%d tag calls, want 2 (the lost one repeated)", n)
	}
	for _, c := range r.gs.Contacts() {
		if c.ID == r.contact.ID && !slices.Equal(c.Tags, []string{"team-billing"}) {
			t.Fatalf("tags %v", c.Tags)
		}
	}
	taskJob := r.item(engine.RouteAction{GHLMessageID: r.job.GHLMessageID, RuleID: 1, Action: engine.ActionTask}.Key())
	if taskJob.State != store.OutboxDone || taskJob.Attempts != 2 {
		t.Fatalf("task job %+v, want done on its second attempt", taskJob)
	}
	hs := r.history()
	if got := ops(hs); got["task.create retrying"] != 1 || got["task.create ok"] != 1 {
		t.Fatalf("history %v", got)
	}
	if row := rowOf(t, hs, store.OpTaskCreate, store.OutcomeOK); !strings.Contains(row.Error, "created by an earlier attempt; not created again") {
		t.Fatalf("second attempt's row %+v", row)
	}
	if n := len(r.as.Tasks()); n != 1 {
		t.Fatalf("%d AD tasks", n)
	}
}

// TestRouteWaitsForTranscript: routing before the transcript is stored
// leaves a clear row and retries; once the file is there the call is
// routed.
func TestRouteWaitsForTranscript(t *testing.T) {
	r := newRouteRig(t, rigOptions{})
	r.saveRule(routing.Rule{Name: "Refunds", Enabled: true, Conditions: routing.Conditions{Keywords: []string{"refund"}}, Actions: routing.Actions{TeamTag: "team-billing"}})
	r.queueRoute()
	r.run(r.engine(), func() bool {
		for _, h := range r.history() {
			if h.Operation == store.OpRouteMatch && h.Outcome == store.OutcomeRetrying {
				return true
			}
		}
		return false
	})
	row := rowOf(t, r.history(), store.OpRouteMatch, store.OutcomeRetrying)
	if !strings.Contains(row.Error, "route call ghl-call-1: transcript not in the data folder: its transcript has not been fetched yet") {
		t.Fatalf("row %+v", row)
	}
	r.saveTranscript(refundCall)
	r.run(r.engine(), nil)
	if got := ops(r.history()); got["route.match ok"] != 1 || got["contact.tag ok"] != 1 {
		t.Fatalf("history %v", got)
	}
}

// TestRouteDefaultTexts: without a task template, the alert and the
// ActiveDEMAND task say which rule matched what, and when.
func TestRouteDefaultTexts(t *testing.T) {
	r := newRouteRig(t, rigOptions{})
	r.saveRule(routing.Rule{Name: "Refunds", Enabled: true, Conditions: routing.Conditions{Keywords: []string{"refund"}},
		Actions: routing.Actions{RaiseAlert: true, ADAlert: true}})
	r.saveTranscript(refundCall)
	r.queueRoute()
	r.run(r.engine(), nil)
	alerts, err := r.st.OpenAlerts(context.Background())
	want := `Refunds: matched "Refund" at 0:42`
	if err != nil || len(alerts) != 1 || alerts[0].Message != want {
		t.Fatalf("alerts %+v, %v; want %q", alerts, err, want)
	}
	if ts := r.as.Tasks(); len(ts) != 1 || ts[0].Title != want || !strings.Contains(ts[0].Body, "I was charged twice") {
		t.Fatalf("AD tasks %+v", ts)
	}
}

// TestRouteBadInput: a stored rule that no longer validates is skipped
// with an alert while the others apply; a transcript in a script no rule
// expects, and one that is not a transcript, each get a clear row.
func TestRouteBadInput(t *testing.T) {
	ctx := context.Background()
	r := newRouteRig(t, rigOptions{})
	r.saveRule(routing.Rule{Name: "Refunds", Enabled: true, Conditions: routing.Conditions{Keywords: []string{"refund", "退款"}}, Actions: routing.Actions{TeamTag: "team-billing"}})
	if _, err := r.st.SaveRule(ctx, store.RuleRecord{Name: "Broken", Enabled: true, Body: []byte(`{"conditions":{"regex":"(a"},"actions":{"team_tag":"x"}}`)}); err != nil {
		t.Fatal(err)
	}
	// Chinese speech with no spaces: the keyword is found as a run of
	// characters. A long call: 20,000 sentences.
	long := make([]transcript.Sentence, 20000)
	for i := range long {
		long[i] = transcript.Sentence{Channel: 1, Start: time.Duration(i) * time.Second, End: time.Duration(i)*time.Second + 900*time.Millisecond, Text: "Привет, это обычный разговор."}
	}
	long[15000].Text = "我想要退款，谢谢。"
	r.saveTranscript(long)
	r.queueRoute()
	r.run(r.engine(), nil)
	hs := r.history()
	if got := ops(hs); got["route.match ok"] != 1 || got["route.match skipped"] != 1 || got["contact.tag ok"] != 1 {
		t.Fatalf("history %v", got)
	}
	if row := rowOf(t, hs, store.OpRouteMatch, store.OutcomeOK); row.Error != `rule "Refunds" matched "退款" at 4:10:00` {
		t.Fatalf("match row %q", row.Error)
	}
	skipped := rowOf(t, hs, store.OpRouteMatch, store.OutcomeSkipped)
	if !strings.Contains(skipped.Error, `routing rule 2 "Broken" is skipped until it is fixed in the rules screen`) {
		t.Fatalf("skipped row %q", skipped.Error)
	}
	alerts, _ := r.st.OpenAlerts(ctx)
	if len(alerts) != 1 || !strings.Contains(alerts[0].Message, `"Broken"`) {
		t.Fatalf("alerts %+v", alerts)
	}

	// A second call whose file is not a transcript is given up with a
	// row saying what to do; nothing else stops.
	r.job.GHLMessageID, r.job.ADMessageID = "ghl-call-2", "ad-call-2"
	r.saveTranscript(refundCall)
	if err := os.WriteFile(filepath.Join(r.dataDir, "media", "ghl-call-2.transcript.json"), []byte(`{"version":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.queueRoute()
	r.run(r.engine(), nil)
	if it := r.item(r.job.Key()); it.State != store.OutboxDead || !strings.Contains(it.LastError, "fetch the call's media again") {
		t.Fatalf("bad transcript job %+v", it)
	}
	failed := rowOf(t, r.history(), store.OpRouteMatch, store.OutcomeFailed)
	if failed.RemoteID != "ghl-call-2" || !strings.Contains(failed.Error, "changed since it was fetched") {
		t.Fatalf("failed row %+v", failed)
	}
}

// TestRouteWithoutDataFolderOrAD: with no data folder there is no
// transcript to route, which no retry changes; without ActiveDEMAND the AD
// task is skipped with a row saying why while the other actions apply.
func TestRouteWithoutDataFolderOrAD(t *testing.T) {
	r := newRouteRig(t, rigOptions{})
	r.saveRule(routing.Rule{Name: "Refunds", Enabled: true, Conditions: routing.Conditions{Keywords: []string{"refund"}},
		Actions: routing.Actions{TeamTag: "team-billing", ADAlert: true}})
	r.saveTranscript(refundCall)
	r.queueRoute()
	r.run(r.engine(func(c *engine.Config) { c.DataDir = "" }), nil)
	if it := r.item(r.job.Key()); it.State != store.OutboxDead || it.Attempts != 1 {
		t.Fatalf("job %+v, want dead at once", it)
	}
	if row := rowOf(t, r.history(), store.OpRouteMatch, store.OutcomeFailed); !strings.Contains(row.Error, "no data folder is configured") {
		t.Fatalf("row %q", row.Error)
	}

	r.job.GHLMessageID = "ghl-call-2"
	r.saveTranscript(refundCall)
	r.queueRoute()
	r.run(r.engine(func(c *engine.Config) { c.AD = nil }), nil)
	hs := r.history()
	if got := ops(hs); got["contact.tag ok"] != 1 || got["ad.task skipped"] != 1 {
		t.Fatalf("history %v", got)
	}
	if row := rowOf(t, hs, store.OpADTask, store.OutcomeSkipped); !strings.Contains(row.Error, "ActiveDEMAND is not connected; connect it in Connections") {
		t.Fatalf("row %q", row.Error)
	}
	if n := len(r.as.Tasks()); n != 0 {
		t.Fatalf("%d AD tasks", n)
	}
}
