package engine

// The Automations catalog: what starts the engine's work (triggers) and
// what it does (actions), each said so a person who does not program can
// read it, with what it calls. Each action has a switch, stored in the
// store; workers check it when they run a job, not when the job is
// queued, so switching an action off also holds back work already queued.
// A switched-off action is not an error: its job writes one skipped
// history row saying so and completes. Work skipped that way is not done
// later when the switch goes back on; a backfill does it.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"parley/store"
	"parley/sync/routing"
)

// Switch names one switch of the Automations screen, as the store keeps it.
type Switch string

// The switches. Mirror is the core of Parley: the contact, its
// conversation and its messages go together or not at all, since a
// message cannot be recorded without its contact and conversation.
const (
	// SwitchMirror upserts contacts and conversations and records
	// messages in HighLevel.
	SwitchMirror Switch = "mirror"
	// SwitchNonCallMessages records SMS, email and chat messages; off,
	// only calls are recorded (Calls archive).
	SwitchNonCallMessages Switch = "messages.noncall"
	// SwitchMirrorStatus mirrors message statuses and a conversation's
	// unread and starred marks.
	SwitchMirrorStatus Switch = "status"
	// SwitchUploadMedia uploads a message's attachments.
	SwitchUploadMedia Switch = "media.upload"
	// SwitchFetchRecording fetches a call's recording into the data folder.
	SwitchFetchRecording Switch = "call.recording"
	// SwitchFetchTranscript fetches a call's transcript into the data
	// folder; off, nothing is put on the timeline or routed either.
	SwitchFetchTranscript Switch = "call.transcript"
	// SwitchTimeline puts a call's transcript on the contact's timeline in
	// HighLevel (a note) and ActiveDEMAND (a history entry).
	SwitchTimeline Switch = "call.timeline"
	// SwitchRoute runs the routing rules on transcripts and takes their
	// tag, assign and task actions.
	SwitchRoute Switch = "route"
	// SwitchAlert raises the routing rules' alerts, in Parley and as a
	// task in ActiveDEMAND.
	SwitchAlert Switch = "alert"
)

// CatalogEntry is one line of the Automations catalog.
type CatalogEntry struct {
	// Switch turns the action on and off; empty for a trigger. Two
	// actions may share one switch (Mirror).
	Switch Switch
	// Name is a few words; What a sentence on what it does; Calls what
	// it calls, with the route ("POST /contacts/upsert in HighLevel").
	Name, What, Calls string
}

// Triggers are what starts the engine's work.
var Triggers = []CatalogEntry{
	{Name: "AD conversation created or updated", What: "A conversation appears or changes in ActiveDEMAND; its contact and messages are mirrored and its unread and starred marks follow.",
		Calls: "GET conversations in ActiveDEMAND every poll (15 s by default), or its webhook when enabled"},
	{Name: "Inbound message", What: "A customer's message or call reaches ActiveDEMAND and is recorded in the contact's HighLevel conversation.",
		Calls: "GET messages in ActiveDEMAND, from the saved cursor on"},
	{Name: "Media uploaded", What: "A message arrives with attachments; they are uploaded before the message is recorded.",
		Calls: "the message's attachment URLs in ActiveDEMAND"},
	{Name: "Transcription created", What: "HighLevel has transcribed a recorded call; the transcript is stored, put on the timeline and routed.",
		Calls: "GET the call's transcription in HighLevel, tried until it is ready"},
	{Name: "Status changed", What: "A message's status (read, failed, pending) changes in ActiveDEMAND.",
		Calls: "GET messages in ActiveDEMAND"},
	{Name: "Import", What: "An ActiveDEMAND export file is imported from the Import screen; its rows go through the same actions.",
		Calls: "nothing remote: the file on this computer"},
}

// Actions are what the engine does, each with its switch.
var Actions = []CatalogEntry{
	{Switch: SwitchMirror, Name: "Upsert contact and conversation", What: "Finds or creates the customer in HighLevel and their conversation.",
		Calls: "POST /contacts/upsert and POST /conversations in HighLevel"},
	{Switch: SwitchMirror, Name: "Record message", What: "Records each message in the HighLevel conversation without sending it again.",
		Calls: "POST /conversations/messages/inbound (calls: …/outbound) in HighLevel"},
	{Switch: SwitchNonCallMessages, Name: "Record SMS, email and chat", What: "Records SMS, email and chat messages too; off, only calls are recorded and the others are skipped.",
		Calls: "POST /conversations/messages/inbound in HighLevel"},
	{Switch: SwitchMirrorStatus, Name: "Mirror status", What: "Copies a message's status and a conversation's unread and starred marks.",
		Calls: "PUT /conversations/messages/{id}/status and PUT /conversations/{id} in HighLevel"},
	{Switch: SwitchUploadMedia, Name: "Upload media", What: "Uploads attachments and attaches them to their message; off, messages are recorded without them.",
		Calls: "POST /conversations/messages/upload in HighLevel"},
	{Switch: SwitchFetchRecording, Name: "Fetch recording", What: "Keeps each call's recording in the data folder, to play in Contacts.",
		Calls: "GET /conversations/messages/{id}/locations/{location}/recording in HighLevel"},
	{Switch: SwitchFetchTranscript, Name: "Fetch transcript", What: "Keeps each call's transcript in the data folder; the timeline and routing need it.",
		Calls: "GET /conversations/locations/{location}/messages/{id}/transcription in HighLevel"},
	{Switch: SwitchTimeline, Name: "Attach to timeline (notes)", What: "Puts the transcript on the contact as a HighLevel note and an ActiveDEMAND history entry.",
		Calls: "POST /contacts/{id}/notes in HighLevel; history in ActiveDEMAND"},
	{Switch: SwitchRoute, Name: "Tag, assign and task by rule", What: "Runs the routing rules below on each transcript and tags, assigns or creates a task.",
		Calls: "POST /contacts/{id}/tags, PUT /contacts/{id}, POST /contacts/{id}/tasks in HighLevel"},
	{Switch: SwitchAlert, Name: "Alert", What: "Raises a rule's alert in Parley and, when the rule says so, a task in ActiveDEMAND.",
		Calls: "Parley's alerts; tasks in ActiveDEMAND"},
}

// Switches lists every switch once, in catalog order.
func Switches() []Switch {
	var out []Switch
	for _, a := range Actions {
		if !slices.Contains(out, a.Switch) {
			out = append(out, a.Switch)
		}
	}
	return out
}

// SwitchName is what the screen and history call a switch: its catalog
// name, or "Mirror" for the core mirror's two actions.
func SwitchName(s Switch) string {
	if s == SwitchMirror {
		return "Mirror"
	}
	for _, a := range Actions {
		if a.Switch == s {
			return a.Name
		}
	}
	return string(s)
}

// switchOps are the history operations of each switch's skipped rows.
var switchOps = map[Switch]store.Operation{
	SwitchNonCallMessages: store.OpInboundRecord,
	SwitchMirrorStatus:    store.OpStatusUpdate,
	SwitchUploadMedia:     store.OpMediaUpload,
	SwitchFetchRecording:  store.OpMediaFetch,
	SwitchFetchTranscript: store.OpMediaFetch,
	SwitchTimeline:        OpNoteCreate,
	SwitchRoute:           store.OpRouteMatch,
	SwitchAlert:           store.OpRouteAlert,
}

// routeSwitch is the switch of a routing action: alerts have their own.
func routeSwitch(action string) Switch {
	if action == ActionAlert || action == ActionADTask {
		return SwitchAlert
	}
	return SwitchRoute
}

// off reports whether s is switched off and, if so, adds job j's skipped
// row for localID/remoteID saying so. A switch that cannot be read counts
// as on: doing the work is what Parley did before Automations existed.
func (e *Engine) off(ctx context.Context, j *job, s Switch, localID, remoteID string) bool {
	on, err := e.st.AutomationEnabled(ctx, string(s))
	if err != nil {
		e.log.Warn("sync engine: could not read an Automations switch; doing the work", "switch", s, "err", err)
		return false
	}
	if on {
		return false
	}
	op, ok := switchOps[s]
	if !ok {
		op = opFor(j.item.Kind)
	}
	j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: op, System: store.SystemGHL, LocalID: localID, RemoteID: remoteID,
		Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
		Error: fmt.Sprintf("%q is switched off in Automations; not done (switch it on there to do it for new work)", SwitchName(s))})
	return true
}

// Template names.
const (
	TemplateMirrorEverything = "Mirror everything"
	TemplateCallsArchive     = "Calls archive"
	TemplateSupportTriage    = "Support triage"
)

// Template is a ready set of switches, and for Support triage starter
// routing rules, to start from.
type Template struct {
	Name, Summary string
	// Switches are set as given; a switch not named is left alone.
	Switches map[Switch]bool
	// Rules are added unless a rule of the same name exists.
	Rules []routing.Rule
}

func allSwitches(on bool, except map[Switch]bool) map[Switch]bool {
	m := map[Switch]bool{}
	for _, s := range Switches() {
		m[s] = on
	}
	for s, v := range except {
		m[s] = v
	}
	return m
}

func starterRule(name, tag string, keywords ...string) routing.Rule {
	return routing.Rule{Name: name, Enabled: true,
		Conditions: routing.Conditions{Keywords: keywords, Channels: []string{"call"}},
		Actions:    routing.Actions{TeamTag: tag}}
}

// Templates are the three templates of the Automations screen.
var Templates = []Template{
	{Name: TemplateMirrorEverything, Summary: "Every action on: contacts, conversations, every message, status, media, calls and their transcripts, rules and alerts.",
		Switches: allSwitches(true, nil)},
	{Name: TemplateCallsArchive, Summary: "Calls, recordings and transcripts only: SMS, email and chat are skipped, and so are status, attachments, rules and alerts.",
		Switches: allSwitches(true, map[Switch]bool{SwitchNonCallMessages: false, SwitchMirrorStatus: false, SwitchUploadMedia: false, SwitchRoute: false, SwitchAlert: false})},
	{Name: TemplateSupportTriage, Summary: "Everything on, and routing rules on call transcripts that tag the contact with the team: refunds to billing, cancellations to retention, complaints to support.",
		Switches: allSwitches(true, nil),
		Rules: []routing.Rule{
			starterRule("Refunds to billing", "team-billing", "refund*", "chargeback"),
			starterRule("Cancellations to retention", "team-retention", "cancel*", "unsubscribe"),
			starterRule("Complaints to support", "team-support", "complaint*", "complain*", "unhappy"),
		}},
}

// TemplateNamed returns the template called name.
func TemplateNamed(name string) (Template, bool) {
	i := slices.IndexFunc(Templates, func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, false
	}
	return Templates[i], true
}

// SwitchChange is one switch a template turns on or off.
type SwitchChange struct {
	Switch   Switch
	From, To bool
}

// TemplatePlan is what applying a template would change, for the screen to
// show before the person confirms.
type TemplatePlan struct {
	Changes  []SwitchChange
	NewRules []routing.Rule
}

// AutomationStore is where the switches and routing rules live;
// *store.Store implements it.
type AutomationStore interface {
	AutomationSwitches(ctx context.Context) (map[string]bool, error)
	SetAutomationSwitches(ctx context.Context, set map[string]bool) error
	Rules(ctx context.Context) ([]store.RuleRecord, error)
	SaveRule(ctx context.Context, r store.RuleRecord) (int64, error)
	DeleteRule(ctx context.Context, id int64) error
}

// SaveRule validates r and stores it (a new rule when r.ID is 0, placed
// last), as routing.Save does, through any AutomationStore.
func SaveRule(ctx context.Context, st AutomationStore, r routing.Rule) (int64, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	body, err := r.Body()
	if err != nil {
		return 0, fmt.Errorf("save routing rule %q: %w", r.Name, err)
	}
	return st.SaveRule(ctx, store.RuleRecord{ID: r.ID, Name: r.Name, Enabled: r.Enabled, Body: body})
}

// PlanTemplate says what applying t to the store's switches and rules
// would change.
func PlanTemplate(ctx context.Context, st AutomationStore, t Template) (TemplatePlan, error) {
	cur, err := st.AutomationSwitches(ctx)
	if err != nil {
		return TemplatePlan{}, err
	}
	var p TemplatePlan
	for _, s := range Switches() {
		to, ok := t.Switches[s]
		from, set := cur[string(s)]
		if !set {
			from = true
		}
		if ok && to != from {
			p.Changes = append(p.Changes, SwitchChange{Switch: s, From: from, To: to})
		}
	}
	if len(t.Rules) > 0 {
		recs, err := st.Rules(ctx)
		if err != nil {
			return TemplatePlan{}, err
		}
		for _, r := range t.Rules {
			if !slices.ContainsFunc(recs, func(rec store.RuleRecord) bool { return rec.Name == r.Name }) {
				p.NewRules = append(p.NewRules, r)
			}
		}
	}
	return p, nil
}

// TemplateUndo puts back what applying a template changed.
type TemplateUndo struct {
	// Switches are the changed switches' earlier values.
	Switches map[string]bool
	// RuleIDs are the rules the template added.
	RuleIDs []int64
}

// ApplyTemplate sets t's switches and adds its missing rules, and returns
// how to undo that.
func ApplyTemplate(ctx context.Context, st AutomationStore, t Template) (TemplateUndo, error) {
	p, err := PlanTemplate(ctx, st, t)
	if err != nil {
		return TemplateUndo{}, fmt.Errorf("apply template %q: %w", t.Name, err)
	}
	u := TemplateUndo{Switches: map[string]bool{}}
	set := map[string]bool{}
	for _, c := range p.Changes {
		u.Switches[string(c.Switch)], set[string(c.Switch)] = c.From, c.To
	}
	if err := st.SetAutomationSwitches(ctx, set); err != nil {
		return TemplateUndo{}, fmt.Errorf("apply template %q: %w", t.Name, err)
	}
	for _, r := range p.NewRules {
		id, err := SaveRule(ctx, st, r)
		if err != nil {
			// Half a template is worse than none: put back what was done.
			return TemplateUndo{}, fmt.Errorf("apply template %q: %w", t.Name, errors.Join(err, u.Apply(ctx, st)))
		}
		u.RuleIDs = append(u.RuleIDs, id)
	}
	return u, nil
}

// Apply undoes the template: the switches get their earlier values and
// the rules it added are deleted (a rule deleted since is left alone).
func (u TemplateUndo) Apply(ctx context.Context, st AutomationStore) error {
	if err := st.SetAutomationSwitches(ctx, u.Switches); err != nil {
		return fmt.Errorf("undo template: %w", err)
	}
	for _, id := range u.RuleIDs {
		if err := st.DeleteRule(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("undo template: %w", err)
		}
	}
	return nil
}
