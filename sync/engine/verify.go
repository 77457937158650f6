package engine

// The reconcile: `parley verify` compares, per ActiveDEMAND contact, the
// messages ActiveDEMAND lists with the records in the contact's HighLevel
// conversation (by altId, the AD message id every record carries) and with
// the id map, and reports what disagrees. It only reads, unless asked to
// repair, and then it only queues: the missing messages become ordinary
// outbox jobs that the engine mirrors like any other. It never deletes
// anything, in HighLevel or in the store; a duplicate or an orphan is for
// a person to judge.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// ProblemKind names what a reconcile found wrong.
type ProblemKind string

// Problem kinds.
const (
	// ProblemMissing: a message ActiveDEMAND has and HighLevel does not.
	ProblemMissing ProblemKind = "missing"
	// ProblemDuplicated: one AD message recorded more than once.
	ProblemDuplicated ProblemKind = "duplicated"
	// ProblemOrphaned: a HighLevel record whose altId ActiveDEMAND does
	// not list for the contact, or an id-map link to something that is
	// not there.
	ProblemOrphaned ProblemKind = "orphaned"
	// ProblemIDMap: HighLevel holds the message, but the id map links it
	// to another HighLevel id or not at all.
	ProblemIDMap ProblemKind = "id-map"
)

// Problem is one disagreement, with the ids a person needs to look at it.
type Problem struct {
	Kind            ProblemKind `json:"kind"`
	ADContact       string      `json:"ad_contact,omitempty"`
	ADConversation  string      `json:"ad_conversation,omitempty"`
	ADMessage       string      `json:"ad_message,omitempty"`
	GHLConversation string      `json:"ghl_conversation,omitempty"`
	GHLMessages     []string    `json:"ghl_messages,omitempty"`
	// Detail says what is wrong and what to do, in words.
	Detail string `json:"detail"`
	// Queued is set when --repair queued the message again.
	Queued bool `json:"queued,omitempty"`
}

// VerifyReport is what a reconcile found.
type VerifyReport struct {
	// Contacts, Conversations and ADMessages count what ActiveDEMAND
	// lists; GHLMessages the records read from HighLevel.
	Contacts, Conversations, ADMessages, GHLMessages int
	Problems                                         []Problem
	// Repaired counts the missing messages queued by a repair;
	// AlreadyQueued those the outbox already holds as pending work.
	Repaired, AlreadyQueued int
}

// Count is how many problems of kind the report holds.
func (r VerifyReport) Count(kind ProblemKind) int {
	n := 0
	for _, p := range r.Problems {
		if p.Kind == kind {
			n++
		}
	}
	return n
}

// VerifyProgress is how far a reconcile is, for a bar.
type VerifyProgress struct {
	// Done and Total count ActiveDEMAND contacts.
	Done, Total int
	Elapsed     time.Duration
}

// VerifyConfig configures [Verify]. Store, GHL and AD are required;
// Contacts too when Repair is set.
type VerifyConfig struct {
	Store    *store.Store
	GHL      *ghl.Client
	AD       activedemand.Conversations
	Contacts ContactSource
	// Repair queues the missing messages as outbox jobs.
	Repair bool
	// Progress, if set, is called after each contact.
	Progress func(VerifyProgress)
}

// repairSep separates a message's outbox key from the suffix of a repair:
// the outbox never forgets a key, so a message whose first job is done
// needs a new key to be queued again.
const repairSep = "#repair"

// Verify reconciles ActiveDEMAND, HighLevel and the id map. It reads every
// conversation ActiveDEMAND lists (from the beginning, not from the
// poller's cursor) and every record of the linked HighLevel conversations;
// it writes nothing unless cfg.Repair is set, and then only outbox jobs.
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyReport, error) {
	var rep VerifyReport
	if cfg.Store == nil || cfg.GHL == nil || cfg.AD == nil || (cfg.Repair && cfg.Contacts == nil) {
		return rep, errors.New("verify: store, HighLevel client and ActiveDEMAND are required (and ActiveDEMAND contacts to repair)")
	}
	start := time.Now()
	byContact := map[activedemand.ID][]activedemand.Conversation{}
	for cv, err := range activedemand.AllChangedConversations(ctx, cfg.AD, "") {
		if err != nil {
			return rep, fmt.Errorf("verify: list ActiveDEMAND conversations: %w", err)
		}
		byContact[cv.ContactID] = append(byContact[cv.ContactID], cv)
		rep.Conversations++
	}
	links := map[store.EntityKind]map[string]string{}
	for _, k := range []store.EntityKind{store.KindContact, store.KindConversation, store.KindMessage} {
		l, err := cfg.Store.IDLinks(ctx, k)
		if err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
		links[k] = l
	}
	v := &verifier{cfg: cfg, links: links, rep: &rep, seen: map[string]bool{}}
	contacts := slices.SortedFunc(func(yield func(activedemand.ID) bool) {
		for id := range byContact {
			if !yield(id) {
				return
			}
		}
	}, func(a, b activedemand.ID) int { return cmpIDs(string(a), string(b)) })
	rep.Contacts = len(contacts)
	for i, id := range contacts {
		if err := v.contact(ctx, id, byContact[id]); err != nil {
			return rep, err
		}
		if cfg.Progress != nil {
			cfg.Progress(VerifyProgress{Done: i + 1, Total: len(contacts), Elapsed: time.Since(start)})
		}
	}
	// Message links to AD messages no conversation lists any more.
	for _, ad := range slices.Sorted(mapKeys(links[store.KindMessage])) {
		if !v.seen[ad] && !imported(ad) {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemOrphaned, ADMessage: ad, GHLMessages: []string{links[store.KindMessage][ad]},
				Detail: fmt.Sprintf("the id map links ActiveDEMAND message %s, which ActiveDEMAND no longer lists, to HighLevel message %s; check whether the message was deleted in ActiveDEMAND", ad, links[store.KindMessage][ad])})
		}
	}
	if cfg.Repair {
		if err := v.repair(ctx); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// imported says whether an AD id is one the importer derived for a row
// without one: no ActiveDEMAND listing can hold it.
func imported(id string) bool { return strings.HasPrefix(id, "imp-") }

// cmpIDs orders numeric ids as numbers and the rest as text.
func cmpIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type verifier struct {
	cfg   VerifyConfig
	links map[store.EntityKind]map[string]string
	rep   *VerifyReport
	// seen holds every AD message id ActiveDEMAND listed.
	seen map[string]bool
	// missing are the repairable missing messages, for repair.
	missing []missingMessage
}

type missingMessage struct {
	problem int // index in rep.Problems
	m       activedemand.Message
	cv      activedemand.Conversation
}

// contact reconciles one AD contact's conversations with its one HighLevel
// conversation.
func (v *verifier) contact(ctx context.Context, contactID activedemand.ID, convs []activedemand.Conversation) error {
	type adMsg struct {
		m  activedemand.Message
		cv activedemand.Conversation
	}
	var msgs []adMsg
	ids := map[string]bool{}
	for _, cv := range convs {
		for m, err := range activedemand.AllMessages(ctx, v.cfg.AD, cv.ID) {
			if err != nil {
				return fmt.Errorf("verify: list messages of ActiveDEMAND conversation %s: %w", cv.ID, err)
			}
			msgs = append(msgs, adMsg{m, cv})
			ids[string(m.ID)] = true
			v.seen[string(m.ID)] = true
			v.rep.ADMessages++
		}
	}
	convKey := conversationKey(string(contactID))
	ghlConv, linked := v.links[store.KindConversation][convKey]
	if !linked {
		// Not linked yet: HighLevel may still hold one the engine would
		// find by its contact; compare with that.
		if ghlContact, ok := v.links[store.KindContact][string(contactID)]; ok {
			page, err := v.cfg.GHL.SearchConversationsPage(ctx, ghl.SearchConversationsRequest{ContactID: ghlContact, Limit: 5})
			if err != nil {
				return fmt.Errorf("verify: search the HighLevel conversation of contact %s: %w", ghlContact, err)
			}
			for _, cv := range page.Conversations {
				if cv.ContactID == ghlContact {
					ghlConv = cv.ID
				}
			}
		}
	}
	byAlt := map[string][]string{}
	ghlIDs := map[string]bool{}
	stale := false
	if ghlConv != "" {
		for m, err := range v.cfg.GHL.ListMessages(ctx, ghlConv, ghl.ListMessagesRequest{Limit: 100}) {
			if errors.Is(err, ghl.ErrNotFound) && linked {
				stale = true
				v.rep.Problems = append(v.rep.Problems, Problem{Kind: ProblemOrphaned, ADContact: string(contactID), GHLConversation: ghlConv,
					Detail: fmt.Sprintf("the id map links ActiveDEMAND contact %s's conversation to HighLevel conversation %s, which HighLevel does not have (deleted?); its messages cannot be repaired until that link is removed", contactID, ghlConv)})
				break
			}
			if err != nil {
				return fmt.Errorf("verify: list the messages of HighLevel conversation %s: %w", ghlConv, err)
			}
			v.rep.GHLMessages++
			ghlIDs[m.ID] = true
			if m.AltID != "" {
				byAlt[m.AltID] = append(byAlt[m.AltID], m.ID)
			}
		}
	}
	msgLinks := v.links[store.KindMessage]
	for _, am := range msgs {
		id := string(am.m.ID)
		p := Problem{ADContact: string(contactID), ADConversation: string(am.cv.ID), ADMessage: id, GHLConversation: ghlConv, GHLMessages: byAlt[id]}
		link, hasLink := msgLinks[id]
		switch got := byAlt[id]; {
		case len(got) == 0:
			p.Kind = ProblemMissing
			p.Detail = fmt.Sprintf("ActiveDEMAND message %s (%s, %s) is not recorded in HighLevel", id, am.m.Channel, am.m.SentAt.UTC().Format(time.RFC3339))
			switch {
			case stale:
				p.Detail += "; its contact's conversation link is stale (see above)"
			case hasLink:
				p.Detail += fmt.Sprintf("; the id map links it to HighLevel message %s, which is not there, so repair cannot queue it until that link is removed", link)
			default:
				p.Detail += "; `parley verify --repair` queues it"
				v.missing = append(v.missing, missingMessage{problem: len(v.rep.Problems), m: am.m, cv: am.cv})
			}
		case len(got) > 1:
			p.Kind = ProblemDuplicated
			p.Detail = fmt.Sprintf("ActiveDEMAND message %s is recorded %d times in HighLevel conversation %s (%s); delete the extra records in HighLevel", id, len(got), ghlConv, strings.Join(got, ", "))
		case !hasLink:
			p.Kind = ProblemIDMap
			p.Detail = fmt.Sprintf("ActiveDEMAND message %s is recorded in HighLevel as %s, but the id map does not link them: a sync running now explains it; otherwise it was recorded outside this database (another Parley, a restored backup), and a sync that has not queued it yet would record it again", id, got[0])
		case link != got[0]:
			p.Kind = ProblemIDMap
			p.Detail = fmt.Sprintf("the id map links ActiveDEMAND message %s to HighLevel message %s, but HighLevel holds it as %s", id, link, got[0])
		default:
			continue
		}
		v.rep.Problems = append(v.rep.Problems, p)
	}
	for _, alt := range slices.Sorted(mapKeys(byAlt)) {
		if ids[alt] || imported(alt) {
			continue
		}
		v.rep.Problems = append(v.rep.Problems, Problem{Kind: ProblemOrphaned, ADContact: string(contactID), ADMessage: alt, GHLConversation: ghlConv, GHLMessages: byAlt[alt],
			Detail: fmt.Sprintf("HighLevel conversation %s holds a record with altId %s, which ActiveDEMAND does not list for contact %s; check it in HighLevel before deleting it", ghlConv, alt, contactID)})
	}
	return nil
}

// repair queues the missing messages: under their usual outbox key when
// it was never used, under a repair key when their first job is done, and
// not at all when a job for them is still pending.
func (v *verifier) repair(ctx context.Context) error {
	if len(v.missing) == 0 {
		return nil
	}
	contacts := map[activedemand.ID]activedemand.Contact{}
	for c, err := range v.cfg.Contacts.AllContacts(ctx) {
		if err != nil {
			return fmt.Errorf("verify --repair: list ActiveDEMAND contacts: %w", err)
		}
		contacts[c.ID] = c
	}
	var jobs []store.OutboxJob
	for _, mm := range v.missing {
		key := MessageKey(string(mm.m.ID))
		states, err := v.cfg.Store.OutboxStatesByKey(ctx, key, repairSep)
		if err != nil {
			return fmt.Errorf("verify --repair: %w", err)
		}
		if pendingIn(states) {
			v.rep.AlreadyQueued++
			continue
		}
		c, ok := contacts[mm.cv.ContactID]
		if !ok {
			c = activedemand.Contact{ID: mm.cv.ContactID}
		}
		job, err := APIMessageJob(mm.m, mm.cv, c)
		if err != nil {
			return fmt.Errorf("verify --repair: %w", err)
		}
		if len(states) > 0 {
			job.Key = key + repairSep + strconv.Itoa(len(states))
		}
		jobs = append(jobs, job)
		v.rep.Problems[mm.problem].Queued = true
	}
	n, err := v.cfg.Store.EnqueueBatch(ctx, jobs)
	if err != nil {
		return fmt.Errorf("verify --repair: %w", err)
	}
	v.rep.Repaired = n
	return nil
}

func pendingIn(states map[string]store.OutboxState) bool {
	for _, s := range states {
		if s == store.OutboxPending || s == store.OutboxInFlight {
			return true
		}
	}
	return false
}

// ErrProblemsFound is what RunVerify returns (wrapped, with the counts)
// when the reconcile found problems; `parley verify` exits 2 on it.
var ErrProblemsFound = errors.New("the reconcile found problems")

// VerifyOptions configures [RunVerify].
type VerifyOptions struct {
	// HeadlessOptions says where the accounts and the store are, as for
	// `parley sync`; its sync fields are unused.
	HeadlessOptions
	// Repair queues the missing messages as outbox jobs.
	Repair bool
	// JSON writes the report as one JSON object instead of text.
	JSON bool
}

// RunVerify is `parley verify`: it reconciles the accounts and writes a
// summary and one line per problem (or JSON). In demo mode the sandboxes
// start afresh, so it mirrors the demo business once first. It returns an
// error matching ErrProblemsFound when it found any.
func RunVerify(ctx context.Context, o VerifyOptions) error {
	out := o.Out
	if o.JSON {
		// The JSON is the whole of stdout; the talk goes nowhere.
		o.Out = io.Discard
	}
	// A snapshot to compare: in demo mode, no activity adds messages
	// while it is read.
	o.Once = true
	ss, err := openSession(ctx, o.HeadlessOptions)
	if err != nil {
		return err
	}
	defer ss.close()
	if o.Demo {
		fmt.Fprintln(o.Out, "Demo mode: the sandboxes start afresh, so the demo business is mirrored once before it is verified.")
		cfg := ss.cfg
		cfg.Once = true
		sum, err := Run(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "Mirrored %d messages.\n", sum.Messages())
	}
	gc, ad, err := newClients(ss.cfg)
	if err != nil {
		return err
	}
	defer gc.CloseIdleConnections()
	mode := "read-only"
	if o.Repair {
		mode = "repair: missing messages are queued, nothing is deleted"
	}
	fmt.Fprintf(o.Out, "Verifying every ActiveDEMAND conversation against HighLevel and the id map (%s).\n", mode)
	meter := newProgressMeter(o.Out, "contacts", o.ProgressEvery)
	rep, err := Verify(ctx, VerifyConfig{Store: o.Store, GHL: gc, AD: ad, Contacts: ad, Repair: o.Repair,
		Progress: func(p VerifyProgress) {
			rate, eta := 0.0, time.Duration(0)
			if s := p.Elapsed.Seconds(); s > 0 {
				rate = float64(p.Done) / s
				eta = time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second)).Round(time.Second)
			}
			meter.update("verify:", p.Done, p.Total, rate, eta)
		}})
	if err != nil {
		return err
	}
	if o.JSON {
		if err := rep.WriteJSON(out); err != nil {
			return err
		}
	} else {
		rep.WriteSummary(out)
	}
	if n := len(rep.Problems); n > 0 {
		return fmt.Errorf("%w: %d (%d missing, %d duplicated, %d orphaned, %d id-map)", ErrProblemsFound, n,
			rep.Count(ProblemMissing), rep.Count(ProblemDuplicated), rep.Count(ProblemOrphaned), rep.Count(ProblemIDMap))
	}
	return nil
}

// WriteSummary writes the report for a person: the counts, then one line
// per problem.
func (r VerifyReport) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "Checked %d ActiveDEMAND messages in %d conversations of %d contacts against %d HighLevel records.\n",
		r.ADMessages, r.Conversations, r.Contacts, r.GHLMessages)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "No problems: every message is recorded once in HighLevel and the id map agrees.")
		return
	}
	fmt.Fprintf(w, "Problems: %d missing, %d duplicated, %d orphaned, %d id-map disagreements.\n",
		r.Count(ProblemMissing), r.Count(ProblemDuplicated), r.Count(ProblemOrphaned), r.Count(ProblemIDMap))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%-10s %s\n", p.Kind, p.Detail)
	}
	if r.Repaired > 0 || r.AlreadyQueued > 0 {
		fmt.Fprintf(w, "Repair: %d missing messages queued (the next `parley sync` records them); %d were already queued.\n", r.Repaired, r.AlreadyQueued)
	} else if r.Count(ProblemMissing) > 0 {
		fmt.Fprintln(w, "Run `parley verify --repair` to queue the missing messages; duplicates and orphans are for a person to check in HighLevel.")
	}
}

// WriteJSON writes the report as one JSON object.
func (r VerifyReport) WriteJSON(w io.Writer) error {
	type counts struct {
		Contacts      int `json:"contacts"`
		Conversations int `json:"conversations"`
		ADMessages    int `json:"ad_messages"`
		GHLMessages   int `json:"ghl_messages"`
	}
	problems := r.Problems
	if problems == nil {
		problems = []Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Checked       counts              `json:"checked"`
		Counts        map[ProblemKind]int `json:"counts"`
		Problems      []Problem           `json:"problems"`
		Repaired      int                 `json:"repaired"`
		AlreadyQueued int                 `json:"already_queued"`
	}{counts{r.Contacts, r.Conversations, r.ADMessages, r.GHLMessages},
		map[ProblemKind]int{ProblemMissing: r.Count(ProblemMissing), ProblemDuplicated: r.Count(ProblemDuplicated),
			ProblemOrphaned: r.Count(ProblemOrphaned), ProblemIDMap: r.Count(ProblemIDMap)},
		problems, r.Repaired, r.AlreadyQueued})
}
