package engine

// Routing a call: its transcript is matched against the enabled routing
// rules (sync/routing), and each action of each matching rule becomes an
// outbox job of its own, queued in the transaction that completes the
// routing job. Each action then runs, fails and is retried alone, so a
// task HighLevel refused does not tag the contact twice, and each leaves
// one history row. Actions are applied exactly once: a tag is a set and an
// assignment a field (repeating them changes nothing); a task carries a
// marker in its body and is looked up by it before it is created; a Parley
// alert is stored with a key in one transaction. An ActiveDEMAND task
// cannot be looked up (the route table has no task list), so it is the
// one action that a crash between its call and its commit can repeat.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
	"parley/sync/routing"
	"parley/sync/transcript"
)

// JobRouteAction takes one action of one routing rule for one call; its
// payload is a RouteAction. JobRouteTranscript queues it.
const JobRouteAction = "route.action"

func init() {
	jobWorkers[JobRouteTranscript] = (*Engine).routeTranscript
	jobWorkers[JobRouteAction] = (*Engine).routeAction
}

// Route actions (RouteAction.Action).
const (
	ActionTag    = "tag"
	ActionAssign = "assign"
	ActionTask   = "task"
	ActionAlert  = "alert"
	ActionADTask = "ad_task"
)

// routeAlertSource names routing in the alerts it raises.
const routeAlertSource = "sync.routing"

// RouteAction is the payload of a JobRouteAction item: everything the
// action needs, rendered when the rule matched, so that editing the rule
// later does not change work already decided.
type RouteAction struct {
	// V is JobVersion.
	V      int    `json:"v"`
	Action string `json:"action"`
	// RuleID and RuleName are the rule that matched; Why says how.
	RuleID   int64  `json:"rule_id"`
	RuleName string `json:"rule_name"`
	Why      string `json:"why"`
	// The call and its contact on both sides.
	GHLContactID string `json:"ghl_contact_id"`
	ADContactID  string `json:"ad_contact_id,omitempty"`
	GHLMessageID string `json:"ghl_message_id"`
	ADMessageID  string `json:"ad_message_id,omitempty"`
	// Tag for ActionTag, UserID for ActionAssign (and a task's assignee).
	Tag    string `json:"tag,omitempty"`
	UserID string `json:"user_id,omitempty"`
	// Title, Body and Due for tasks and alerts.
	Title string    `json:"title,omitempty"`
	Body  string    `json:"body,omitempty"`
	Due   time.Time `json:"due,omitzero"`
}

// Key makes each action of each rule happen once per call.
func (a RouteAction) Key() string {
	return fmt.Sprintf("route:action:%s:%d:%s", a.GHLMessageID, a.RuleID, a.Action)
}

// marker is written into a task's body so that a retried job finds the
// task it created before.
func (a RouteAction) marker() string {
	return fmt.Sprintf("[parley route %s rule %d]", a.GHLMessageID, a.RuleID)
}

// DecodeRouteAction reads a JobRouteAction payload.
func DecodeRouteAction(payload []byte) (RouteAction, error) {
	var a RouteAction
	if err := decodeJob(JobRouteAction, payload, &a, func() int { return a.V }); err != nil {
		return RouteAction{}, err
	}
	switch {
	case a.GHLMessageID == "" || a.GHLContactID == "" || a.RuleID == 0:
		return RouteAction{}, fmt.Errorf("decode %s: %w: ghl_message_id, ghl_contact_id and rule_id are required", JobRouteAction, ErrJobPayload)
	case a.Action == ActionTag && a.Tag == "", a.Action == ActionAssign && a.UserID == "",
		(a.Action == ActionTask || a.Action == ActionADTask || a.Action == ActionAlert) && a.Title == "":
		return RouteAction{}, fmt.Errorf("decode %s: %w: action %q lacks what it needs", JobRouteAction, ErrJobPayload, a.Action)
	}
	return a, nil
}

// routeTranscript is a JobRouteTranscript: read the call's transcript,
// match the enabled rules, record why each matched and queue its actions.
func (e *Engine) routeTranscript(ctx context.Context, j *job) error {
	rj, err := DecodeRouteJob(j.item.Payload)
	if err != nil {
		return err
	}
	if e.off(ctx, j, SwitchRoute, rj.ADMessageID, rj.GHLMessageID) {
		return nil
	}
	row := func(outcome store.Outcome, details string) {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpRouteMatch, System: store.SystemGHL,
			LocalID: rj.ADMessageID, RemoteID: rj.GHLMessageID, Outcome: outcome, Attempts: j.item.Attempts, Error: details})
	}
	fail := func(err error) error {
		row(store.OutcomeFailed, err.Error())
		return err
	}
	sentences, err := e.callTranscript(ctx, rj)
	if err != nil {
		return fail(err)
	}
	rules, bad, err := routing.LoadEnabled(ctx, e.st)
	if err != nil {
		return fail(fmt.Errorf("route call %s: read the routing rules: %w", rj.GHLMessageID, err))
	}
	for _, b := range bad {
		// One broken rule must not stop the others; a person must fix it.
		row(store.OutcomeSkipped, b.Error())
		if _, aerr := e.st.RaiseAlert(ctx, store.Alert{Severity: store.SeverityWarning, Source: routeAlertSource,
			Message: b.Error(), Hint: "open the rule in Automations, fix what it names and save it"}); aerr != nil {
			e.log.Error("sync engine: could not raise an alert", "err", aerr)
		}
	}
	decisions := routing.Match(rules, sentences, rj.Channel, rj.Direction)
	if len(decisions) == 0 {
		why := fmt.Sprintf("no routing rule matched this call's transcript (%d sentences, %d rules enabled)", len(sentences), len(rules))
		if len(rules) == 0 {
			why = "no routing rule is enabled; add one in Automations to route calls by what was said"
		}
		row(store.OutcomeSkipped, why)
		return nil
	}

	contact := rj.GHLContactID
	if needsContactName(decisions) {
		if c, err := e.ghl.GetContact(ctx, rj.GHLContactID); err == nil && strings.TrimSpace(c.Name+c.FirstName+c.LastName) != "" {
			contact = strings.TrimSpace(c.FirstName + " " + c.LastName)
			if contact == "" {
				contact = c.Name
			}
		}
	}
	recs := make([]store.RouteDecision, 0, len(decisions))
	for _, d := range decisions {
		h := d.Hits[0]
		why := fmt.Sprintf("rule %q %s", d.RuleName, d.Why())
		recs = append(recs, store.RouteDecision{At: e.now(), MessageID: rj.GHLMessageID, ContactID: rj.GHLContactID, RuleID: d.RuleID,
			RuleName: d.RuleName, Sentence: h.Sentence, Offset: h.At, Matched: h.Matched, Why: why})
		row(store.OutcomeOK, why)
		for _, a := range e.routeActions(rj, d, contact, why) {
			a.V = JobVersion
			job, err := outboxJob(JobRouteAction, a.Key(), a)
			if err != nil {
				return fail(err)
			}
			j.then(job.Kind, job.Key, job.Payload)
		}
	}
	// Stored before the job completes (the completion carries only
	// history and follow-up jobs); a retried job replaces them, so they
	// are never doubled.
	if err := e.st.RecordRouteDecisions(ctx, recs); err != nil {
		return fail(fmt.Errorf("route call %s: %w", rj.GHLMessageID, err))
	}
	return nil
}

// callTranscript reads the transcript the media flow stored for the call.
// Not there yet (not fetched, or the file is missing) is a passing failure,
// retried; a file that is not a transcript is not.
func (e *Engine) callTranscript(ctx context.Context, rj RouteJob) ([]transcript.Sentence, error) {
	if e.cfg.DataDir == "" {
		return nil, fmt.Errorf("%w: route call %s: no data folder is configured, so no transcript is kept; set the data folder and fetch the call's media",
			errPermanent, rj.GHLMessageID)
	}
	files, err := e.st.MediaForMessage(ctx, rj.GHLMessageID)
	if err != nil {
		return nil, fmt.Errorf("route call %s: %w", rj.GHLMessageID, err)
	}
	for _, f := range files {
		if f.Kind != store.MediaTranscript {
			continue
		}
		ss, err := routing.ReadTranscript(e.cfg.DataDir, f)
		if errors.Is(err, transcript.ErrInvalid) {
			err = fmt.Errorf("%w: %w", errPermanent, err)
		}
		return ss, err
	}
	return nil, fmt.Errorf("route call %s: %w: its transcript has not been fetched yet; routing tries again after the media fetch",
		rj.GHLMessageID, routing.ErrNoTranscript)
}

// needsContactName reports whether a decision's texts name the contact.
func needsContactName(ds []routing.Decision) bool {
	for _, d := range ds {
		if t := d.Actions.CreateTask; t != nil && strings.Contains(t.Title+t.Body, "{contact}") {
			return true
		}
	}
	return false
}

// routeActions are the jobs decision d of call rj leads to.
func (e *Engine) routeActions(rj RouteJob, d routing.Decision, contact, why string) []RouteAction {
	base := RouteAction{RuleID: d.RuleID, RuleName: d.RuleName, Why: why, GHLContactID: rj.GHLContactID, ADContactID: rj.ADContactID,
		GHLMessageID: rj.GHLMessageID, ADMessageID: rj.ADMessageID}
	at := rj.At
	if at.IsZero() {
		at = e.now()
	}
	title := fmt.Sprintf("%s: %s", d.RuleName, d.Why())
	body := fmt.Sprintf("%s\n\n%q", why, d.Hits[0].Text)
	due := at.Add(routing.DefaultTaskDue)
	if t := d.Actions.CreateTask; t != nil {
		title, body = routing.Render(t.Title, d, contact), routing.Render(t.Body, d, contact)
		if t.DueHours > 0 {
			due = at.Add(time.Duration(t.DueHours) * time.Hour)
		}
	}
	var out []RouteAction
	add := func(action string, f func(*RouteAction)) {
		a := base
		a.Action = action
		f(&a)
		out = append(out, a)
	}
	a := d.Actions
	if a.TeamTag != "" {
		add(ActionTag, func(r *RouteAction) { r.Tag = a.TeamTag })
	}
	if a.AssignUserID != "" {
		add(ActionAssign, func(r *RouteAction) { r.UserID = a.AssignUserID })
	}
	if a.CreateTask != nil {
		add(ActionTask, func(r *RouteAction) { r.Title, r.Body, r.Due, r.UserID = title, body, due, a.AssignUserID })
	}
	if a.RaiseAlert {
		add(ActionAlert, func(r *RouteAction) { r.Title, r.Body = title, body })
	}
	if a.ADAlert {
		add(ActionADTask, func(r *RouteAction) { r.Title, r.Body, r.Due = title, body, due })
	}
	return out
}

// routeAction is a JobRouteAction.
func (e *Engine) routeAction(ctx context.Context, j *job) error {
	a, err := DecodeRouteAction(j.item.Payload)
	if err != nil {
		return err
	}
	if e.off(ctx, j, routeSwitch(a.Action), a.ADMessageID, a.GHLMessageID) {
		return nil
	}
	rule := fmt.Sprintf("rule %q", a.RuleName)
	switch a.Action {
	case ActionTag:
		_, err = e.routeCall(ctx, j, store.OpContactTag, http.MethodPost, a, "tag "+a.Tag+" by "+rule, func(ctx context.Context) (string, error) {
			_, err := e.ghl.AddContactTags(ctx, a.GHLContactID, a.Tag)
			return a.GHLContactID, err
		})
	case ActionAssign:
		_, err = e.routeCall(ctx, j, store.OpContactAssign, http.MethodPut, a, "assigned to user "+a.UserID+" by "+rule, func(ctx context.Context) (string, error) {
			_, err := e.ghl.AssignContact(ctx, a.GHLContactID, a.UserID)
			return a.GHLContactID, err
		})
	case ActionTask:
		err = e.routeTask(ctx, j, a, rule)
	case ActionAlert:
		err = e.routeAlert(ctx, j, a)
	case ActionADTask:
		err = e.routeADTask(ctx, j, a, rule)
	default:
		err = fmt.Errorf("%w: routing action %q is unknown to this build", errPermanent, a.Action)
	}
	return err
}

// routeCall runs one HighLevel write of a routing action with its history
// row, whose details say what was done and why.
func (e *Engine) routeCall(ctx context.Context, j *job, op store.Operation, method string, a RouteAction, what string, fn func(context.Context) (string, error)) (string, error) {
	id, err := e.call(ctx, j, op, method, a.ADMessageID, true, fn)
	if n := len(j.history); n > 0 && j.history[n-1].Operation == op {
		r := &j.history[n-1]
		details := what + " (" + a.Why + ")"
		if r.Error != "" {
			details = what + ": " + r.Error
		}
		r.Error = details
	}
	return id, err
}

// routeTask creates the rule's task on the contact unless an earlier
// attempt did: the task's body carries the action's marker.
func (e *Engine) routeTask(ctx context.Context, j *job, a RouteAction, rule string) error {
	marker := a.marker()
	var found bool
	var task ghl.Task
	_, err := e.call(ctx, j, store.OpTaskCreate, http.MethodGet, a.ADMessageID, false, func(ctx context.Context) (string, error) {
		var err error
		task, found, err = e.ghl.FindContactTask(ctx, a.GHLContactID, marker)
		return task.ID, err
	})
	if err != nil {
		return err
	}
	if found {
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpTaskCreate, System: store.SystemGHL,
			LocalID: a.ADMessageID, RemoteID: task.ID, Outcome: store.OutcomeOK, Attempts: j.item.Attempts,
			Error: fmt.Sprintf("task %q by %s was created by an earlier attempt; not created again", a.Title, rule)})
		return nil
	}
	body := strings.TrimSpace(a.Body + "\n\n" + marker)
	_, err = e.routeCall(ctx, j, store.OpTaskCreate, http.MethodPost, a, fmt.Sprintf("task %q by %s", a.Title, rule), func(ctx context.Context) (string, error) {
		t, err := e.ghl.CreateContactTask(ctx, a.GHLContactID, ghl.NewTask{Title: a.Title, Body: body, Due: a.Due, AssignedTo: a.UserID})
		return t.ID, err
	})
	return err
}

// routeAlert raises the rule's alert in Parley, once per call and rule
// even if the job runs again after the user acknowledged it.
func (e *Engine) routeAlert(ctx context.Context, j *job, a RouteAction) error {
	id, raised, err := e.st.RaiseAlertOnce(ctx, a.Key(), store.Alert{Severity: store.SeverityWarning, Source: routeAlertSource,
		Message: a.Title, Hint: "open the contact's timeline to read the transcript and hear the call"})
	row := store.HistoryEntry{At: e.now(), Operation: store.OpRouteAlert, System: store.SystemGHL, LocalID: a.ADMessageID,
		RemoteID: a.GHLContactID, Outcome: store.OutcomeOK, Attempts: j.item.Attempts}
	switch {
	case err != nil:
		row.Outcome, row.Error = store.OutcomeFailed, err.Error()
	case raised:
		row.Error = fmt.Sprintf("alert %d raised: %s", id, a.Title)
		// The console jumps from the alert to this call's routing rows.
		if terr := e.st.SetAlertTarget(ctx, id, store.AlertTarget{Screen: store.TargetHistory, Ref: a.GHLMessageID}); terr != nil {
			e.log.Warn("sync engine: could not point a routing alert at its call", "alert", id, "err", terr)
		}
	default:
		row.Error = fmt.Sprintf("alert %d was raised by an earlier attempt; not raised again", id)
	}
	j.history = append(j.history, row)
	return err
}

// routeADTask creates the rule's task in ActiveDEMAND where the route
// table has tasks.create.
func (e *Engine) routeADTask(ctx context.Context, j *job, a RouteAction, rule string) error {
	row := store.HistoryEntry{At: e.now(), Operation: store.OpADTask, System: store.SystemAD, LocalID: a.ADContactID,
		Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts}
	hasRoute := true
	if rt, ok := e.cfg.AD.(interface{ Routes() activedemand.Routes }); ok {
		_, hasRoute = rt.Routes().Route(activedemand.RouteTaskCreate)
	}
	switch {
	case e.cfg.AD == nil:
		row.Error = fmt.Sprintf("ActiveDEMAND task by %s not created: ActiveDEMAND is not connected; connect it in Connections", rule)
	case !hasRoute:
		row.Error = fmt.Sprintf("ActiveDEMAND task by %s not created: the route table has no %s route; add it to the routes file",
			rule, activedemand.RouteTaskCreate)
	case a.ADContactID == "":
		row.Error = fmt.Sprintf("ActiveDEMAND task by %s not created: the call has no ActiveDEMAND contact", rule)
	}
	if row.Error != "" {
		j.history = append(j.history, row)
		return nil
	}
	start := time.Now()
	id, err := e.cfg.AD.RaiseTask(ctx, activedemand.NewTask{ContactID: activedemand.ID(a.ADContactID), Title: a.Title,
		Body: strings.TrimSpace(a.Body + "\n\n" + a.marker()), Priority: "high", Due: a.Due})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	row.RemoteID, row.Latency = string(id), time.Since(start)
	if err != nil {
		row.Outcome, row.Error = store.OutcomeFailed, fmt.Sprintf("ActiveDEMAND task %q by %s: %v", a.Title, rule, err)
	} else {
		// An AD id is the local side; the task id is what was created.
		row.Outcome, row.Error = store.OutcomeOK, fmt.Sprintf("ActiveDEMAND task %q by %s (%s)", a.Title, rule, a.Why)
	}
	j.history = append(j.history, row)
	return err
}
