package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/engine"
	"parley/sync/transcript"
	"parley/ui/player"
)

// ContactBrowser is what the Contact screen reads: contacts, a contact's
// timeline across both systems and every transcript. *engine.Browser
// implements it.
type ContactBrowser interface {
	Contacts(ctx context.Context, query string, limit int) ([]engine.ContactSummary, error)
	Timeline(ctx context.Context, ghlContactID string) (engine.Timeline, error)
	SearchTranscripts(ctx context.Context, q engine.TranscriptQuery) (engine.TranscriptResults, error)
}

const (
	// contactListLimit bounds the contact list; the search box narrows it.
	contactListLimit = 500
	// tickEvery is how often the player and transcript catch up with the
	// sound while the screen is shown.
	tickEvery = 100 * time.Millisecond

	anySide      = "Either side"
	anyTime      = "Any time"
	last7Days    = "Last 7 days"
	last30Days   = "Last 30 days"
	lastMonth    = "Last month"
	thisMonth    = "This month"
	contactsHelp = "Per contact, everything both systems know: messages, calls with their recordings and transcripts, status changes, routing decisions and notes."
)

// contactScreen lists linked contacts and shows one contact's timeline. A
// call in the timeline opens in the player with its transcript. The search
// at the top searches every transcript at once; a hit opens its contact at
// that sentence, playing from there. (The Conversations screen, where the
// design puts that search too, is not built yet.)
type contactScreen struct {
	deps Deps
	win  fyne.Window
	bg   background
	// app is the console's context, which outlives a showing: the open
	// recording file is closed when it ends.
	app context.Context
	// ctx ends when the screen is left or the window closes.
	ctx context.Context

	contacts   []engine.ContactSummary
	contactGen int
	search     *widget.Entry
	list       *widget.List
	listNote   *widget.Label

	current  engine.ContactSummary
	timeline engine.Timeline
	tlGen    int
	title    *widget.Label
	problems *widget.Label
	entries  *widget.List
	empty    *widget.Label

	// call is the timeline entry open in the player.
	call       *engine.TimelineEntry
	callGen    int
	callTitle  *widget.Label
	player     *player.Widget
	transcript *transcriptView
	audioFile  *os.File
	// pending is where to play from once the timeline of a search hit's
	// contact has landed.
	pending *engine.TranscriptHit

	tsearch  *widget.Entry
	tside    *widget.Select
	trange   *widget.Select
	results  engine.TranscriptResults
	tsGen    int
	hits     *widget.List
	hitsNote *widget.Label
	right    *fyne.Container
	detail   fyne.CanvasObject
	found    fyne.CanvasObject

	// landed counts answers that reached the screen, for tests.
	landed int
}

func newContactScreen(deps Deps, win fyne.Window, bg background, app context.Context) *contactScreen {
	return &contactScreen{deps: deps, win: win, bg: bg, app: app}
}

func (c *contactScreen) view() fyne.CanvasObject {
	c.search = widget.NewEntry()
	c.search.SetPlaceHolder("Find a contact…")
	c.search.OnChanged = func(string) { c.loadContacts() }
	c.list = widget.NewList(
		func() int { return len(c.contacts) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			sub := widget.NewLabel("")
			sub.Truncation = fyne.TextTruncateEllipsis
			sub.SizeName = theme.SizeNameCaptionText
			return container.NewVBox(name, sub)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(c.contacts) {
				return
			}
			s := c.contacts[id]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(s.Label())
			box.Objects[1].(*widget.Label).SetText(firstNonEmptyText(s.Email, s.Phone, "AD "+s.ADID))
		})
	c.list.OnSelected = func(id widget.ListItemID) {
		if id < len(c.contacts) {
			c.openContact(c.contacts[id])
		}
	}
	c.listNote = widget.NewLabel("")
	c.listNote.Wrapping = fyne.TextWrapWord
	c.listNote.Hide()
	left := container.NewBorder(c.search, c.listNote, nil, nil, c.list)

	c.title = widget.NewLabelWithStyle("Choose a contact", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.problems = widget.NewLabel("")
	c.problems.Wrapping = fyne.TextWrapWord
	c.problems.Importance = widget.WarningImportance
	c.problems.Hide()
	c.entries = widget.NewList(
		func() int { return len(c.timeline.Entries) },
		func() fyne.CanvasObject {
			at := widget.NewLabel("2006-01-02 15:04")
			kind := widget.NewLabel("message")
			side := widget.NewLabel("both")
			text := widget.NewLabel("")
			text.Truncation = fyne.TextTruncateEllipsis
			h := at.MinSize().Height
			return container.NewBorder(nil, nil, container.NewHBox(at, container.NewGridWrap(fyne.NewSize(130, h), kind),
				container.NewGridWrap(fyne.NewSize(70, h), side)), nil, text)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(c.timeline.Entries) {
				return
			}
			c.showEntry(&c.timeline.Entries[id], o.(*fyne.Container))
		})
	c.entries.OnSelected = func(id widget.ListItemID) {
		if id < len(c.timeline.Entries) && c.timeline.Entries[id].Kind == engine.EntryCall {
			c.openCall(&c.timeline.Entries[id], nil)
		}
	}
	c.empty = widget.NewLabel("")
	c.empty.Hide()

	c.callTitle = widget.NewLabelWithStyle("Select a call to play it and read its transcript.", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	c.player = player.NewWidget(c.deps.Sound, c.deps.SoundErr)
	c.transcript = newTranscriptView(c.win, func(d time.Duration) {
		c.player.SeekTo(d)
		// A click on a sentence would leave the keys with the list, where
		// space selects again instead of playing.
		c.win.Canvas().Focus(c.player)
	})
	c.player.OnPosition = c.transcript.follow
	callPane := container.NewBorder(container.NewVBox(widget.NewSeparator(), c.callTitle, c.player), nil, nil, nil, c.transcript.view)

	timelinePane := container.NewBorder(container.NewVBox(c.title, c.problems), nil, nil, nil, container.NewStack(c.entries, c.empty))
	split := container.NewVSplit(timelinePane, callPane)
	split.Offset = 0.45
	c.detail = split

	c.tsearch = widget.NewEntry()
	c.tsearch.SetPlaceHolder("Search every transcript, e.g. refund…")
	c.tsearch.OnSubmitted = func(string) { c.searchTranscripts() }
	c.tside = widget.NewSelect([]string{anySide, "Side 1", "Side 2"}, func(string) { c.searchTranscripts() })
	c.tside.SetSelected(anySide)
	c.trange = widget.NewSelect([]string{anyTime, last7Days, last30Days, thisMonth, lastMonth}, func(string) { c.searchTranscripts() })
	c.trange.SetSelected(anyTime)
	searchBtn := widget.NewButtonWithIcon("Search", theme.SearchIcon(), c.searchTranscripts)
	searchRow := container.NewBorder(nil, nil, nil, container.NewHBox(wide(c.tside, 130), wide(c.trange, 130), searchBtn), c.tsearch)

	c.hits = widget.NewList(
		func() int { return len(c.results.Hits) },
		func() fyne.CanvasObject {
			meta := widget.NewLabel("")
			text := widget.NewLabel("")
			text.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, meta, nil, text)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(c.results.Hits) {
				return
			}
			h := c.results.Hits[id]
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Label).SetText(h.Sentence.Text)
			row.Objects[1].(*widget.Label).SetText(fmt.Sprintf("%s · %s · %s %s", h.CallAt.In(c.deps.Location).Format("2006-01-02 15:04"),
				c.contactLabel(h.ContactID), player.Clock(h.Sentence.Start), sideName(h.Sentence.Channel)))
		})
	c.hits.OnSelected = func(id widget.ListItemID) {
		c.hits.UnselectAll()
		if id < len(c.results.Hits) {
			c.openHit(c.results.Hits[id])
		}
	}
	c.hitsNote = widget.NewLabel("")
	c.hitsNote.Wrapping = fyne.TextWrapWord
	back := widget.NewButtonWithIcon("Back to the contact", theme.NavigateBackIcon(), c.showDetail)
	c.found = container.NewBorder(container.NewBorder(nil, nil, nil, back, c.hitsNote), nil, nil, nil, c.hits)
	c.found.Hide()
	c.right = container.NewStack(c.detail, c.found)

	body := container.NewHSplit(left, c.right)
	body.Offset = 0.26
	top := container.NewVBox(header("Contacts", contactsHelp), searchRow)
	if c.deps.Browse == nil {
		c.listNote.SetText("Contacts appear here once the sync runs: start it from the Sync screen or with parley sync.")
		c.listNote.Show()
	}
	return container.NewBorder(top, nil, nil, nil, body)
}

func firstNonEmptyText(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// shown runs whenever the screen comes to the front.
func (c *contactScreen) shown(ctx context.Context) {
	c.ctx = ctx
	c.loadContacts()
	c.tick(ctx)
	context.AfterFunc(ctx, func() {
		// Leaving the screen stops the sound; the position stays.
		if p := c.playback(); p != nil {
			p.Pause()
		}
	})
}

// playback is read from the tick goroutine's AfterFunc, so it goes through
// the widget's own thread-safe Playback.
func (c *contactScreen) playback() *player.Playback {
	if c.player == nil {
		return nil
	}
	return c.player.Playback()
}

// tick keeps the player and the transcript up with the sound while the
// screen is shown: one update on the UI goroutine at a time, each waited
// for, so a slow UI never queues up ticks.
func (c *contactScreen) tick(ctx context.Context) {
	c.bg.run(ctx, func(ctx context.Context) func() {
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		done := make(chan struct{}, 1)
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			c.bg.do(func() {
				if ctx.Err() == nil && c.player.Playback() != nil {
					c.player.Tick()
				}
				done <- struct{}{}
			})
			select {
			case <-ctx.Done():
				return nil
			case <-done:
			}
		}
	})
}

func (c *contactScreen) loadContacts() {
	if c.deps.Browse == nil || c.list == nil {
		return
	}
	c.contactGen++
	gen := c.contactGen
	q := c.search.Text
	c.bg.run(c.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		list, err := c.deps.Browse.Contacts(ctx, q, contactListLimit)
		return func() {
			if gen != c.contactGen {
				return
			}
			c.landed++
			c.contacts = list
			c.list.UnselectAll()
			c.list.Refresh()
			switch {
			case err != nil && len(list) == 0:
				c.listNote.SetText("Could not list the contacts: " + err.Error())
				c.listNote.Show()
			case err != nil:
				c.listNote.SetText("Some names could not be read from HighLevel, so those contacts show their ids: " + err.Error())
				c.listNote.Show()
			case len(list) == 0 && q != "":
				c.listNote.SetText("No contact matches “" + q + "”.")
				c.listNote.Show()
			case len(list) == 0:
				c.listNote.SetText("No linked contacts yet. They appear once the sync has mirrored a contact.")
				c.listNote.Show()
			default:
				c.listNote.Hide()
			}
		}
	})
}

func (c *contactScreen) contactLabel(ghlID string) string {
	for _, s := range c.contacts {
		if s.GHLID == ghlID {
			return s.Label()
		}
	}
	return "Contact " + ghlID
}

// openContact loads a contact's timeline.
func (c *contactScreen) openContact(s engine.ContactSummary) {
	c.showDetail()
	c.current = s
	c.title.SetText("Loading " + s.Label() + "…")
	c.tlGen++
	gen := c.tlGen
	c.bg.run(c.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		tl, err := c.deps.Browse.Timeline(ctx, s.GHLID)
		return func() {
			if gen != c.tlGen {
				return
			}
			c.landed++
			c.applyTimeline(s, tl, err)
		}
	})
}

func (c *contactScreen) applyTimeline(s engine.ContactSummary, tl engine.Timeline, err error) {
	if err != nil {
		c.title.SetText(s.Label())
		c.timeline = engine.Timeline{}
		c.entries.Refresh()
		c.problems.SetText("Could not read this contact's timeline: " + err.Error())
		c.problems.Show()
		return
	}
	if tl.Contact.Name == "" {
		tl.Contact.Name, tl.Contact.Email, tl.Contact.Phone = s.Name, s.Email, s.Phone
	}
	c.timeline = tl
	c.title.SetText(fmt.Sprintf("%s — %s", tl.Contact.Label(), engine.Count(len(tl.Entries), "entry", "entries")))
	if len(tl.Problems) > 0 {
		c.problems.SetText(strings.Join(tl.Problems, "\n"))
		c.problems.Show()
	} else {
		c.problems.Hide()
	}
	if len(tl.Entries) == 0 {
		c.empty.SetText("Nothing on either side yet for this contact.")
		c.empty.Show()
	} else {
		c.empty.Hide()
	}
	c.entries.UnselectAll()
	c.entries.Refresh()
	c.entries.ScrollToBottom()
	if h := c.pending; h != nil && h.ContactID == tl.Contact.GHLID {
		c.pending = nil
		for i := range c.timeline.Entries {
			if e := &c.timeline.Entries[i]; e.Kind == engine.EntryCall && e.GHLMessageID == h.MessageID {
				c.entries.ScrollTo(i)
				c.openCall(e, h)
				return
			}
		}
		c.problems.SetText(fmt.Sprintf("The call of that sentence (message %s) is not in this contact's timeline any more.", h.MessageID))
		c.problems.Show()
	}
}

var entryKindNames = map[engine.EntryKind]string{
	engine.EntryMessage: "Message", engine.EntryCall: "Call", engine.EntryStatus: "Status change",
	engine.EntryRouting: "Routing", engine.EntrySync: "Sync", engine.EntryNote: "Note",
}

func (c *contactScreen) showEntry(e *engine.TimelineEntry, row *fyne.Container) {
	text := row.Objects[0].(*widget.Label)
	meta := row.Objects[1].(*fyne.Container)
	meta.Objects[0].(*widget.Label).SetText(e.At.In(c.deps.Location).Format("2006-01-02 15:04"))
	kind := entryKindNames[e.Kind]
	if e.Direction != "" {
		kind += " " + map[string]string{"inbound": "in", "outbound": "out"}[e.Direction]
	}
	meta.Objects[1].(*fyne.Container).Objects[0].(*widget.Label).SetText(kind)
	side := map[engine.Side]string{engine.SideBoth: "AD+GHL", engine.SideGHL: "GHL", engine.SideAD: "AD"}[e.Side]
	meta.Objects[2].(*fyne.Container).Objects[0].(*widget.Label).SetText(side)
	body := e.Text
	if e.Kind == engine.EntryCall {
		body = fmt.Sprintf("%s call", map[string]string{"inbound": "Incoming", "outbound": "Outgoing"}[e.Direction])
		if e.CallDuration > 0 {
			body += ", " + player.Clock(e.CallDuration)
		}
		switch {
		case e.Recording != "" && e.Transcript != "":
			body += " — recording and transcript"
		case e.Recording != "":
			body += " — recording"
		default:
			body += " — recording not fetched yet"
		}
	}
	text.Importance = widget.MediumImportance
	if e.Outcome == "failed" {
		text.Importance = widget.DangerImportance
	}
	// One line a row: a note's or a transcript's line breaks would draw
	// over the rows below; the row's ellipsis ends what does not fit.
	text.SetText(strings.Join(strings.Fields(body), " "))
}

// openCall loads a call's recording and transcript; from, if set, is the
// sentence to play from.
func (c *contactScreen) openCall(e *engine.TimelineEntry, from *engine.TranscriptHit) {
	c.call = e
	c.callGen++
	gen := c.callGen
	c.callTitle.SetText(fmt.Sprintf("Call of %s", e.At.In(c.deps.Location).Format("2006-01-02 15:04")))
	c.player.Unload()
	c.transcript.set(nil, "Loading…")
	rec, trPath, rtype := e.Recording, e.Transcript, e.RecordingType
	c.bg.run(c.ctx, func(context.Context) func() {
		var (
			audio    *player.Audio
			f        *os.File
			audioErr error
		)
		if rec != "" {
			f, audioErr = os.Open(rec) // #nosec G304 -- a recording path from the media index, under the data folder
			if audioErr == nil {
				var st os.FileInfo
				if st, audioErr = f.Stat(); audioErr == nil {
					audio, audioErr = player.Decode(f, st.Size(), rtype, rec)
				}
				if audioErr != nil {
					f.Close() // #nosec G104 -- a read-only file: closing it cannot lose data
					f = nil
				}
			}
		}
		var sentences []transcript.Sentence
		var trErr error
		if trPath != "" {
			sentences, trErr = engine.ReadTranscript(trPath)
		}
		return func() {
			if gen != c.callGen {
				if f != nil {
					f.Close() // #nosec G104 -- a read-only file: closing it cannot lose data
				}
				return
			}
			c.landed++
			c.setAudioFile(f)
			switch {
			case rec == "":
				c.player.ShowError("This call's recording has not been fetched yet; the sync fetches it with the call.")
			case audioErr != nil:
				c.player.ShowError(recordingProblem(rec, audioErr))
			default:
				c.player.Load(audio)
			}
			switch {
			case trPath == "":
				c.transcript.set(nil, "No transcript for this call yet.")
			case trErr != nil:
				c.transcript.set(nil, fmt.Sprintf("The transcript %s could not be read: %v. Fetch it again from the History screen.", trPath, trErr))
			default:
				c.transcript.set(sentences, "")
			}
			if from != nil {
				c.transcript.follow(from.Sentence.Start)
				c.player.PlayFrom(from.Sentence.Start)
			}
			c.win.Canvas().Focus(c.player)
		}
	})
}

func recordingProblem(path string, err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("The recording %s is missing from the data folder. Fetch it again from the History screen.", path)
	case errors.Is(err, player.ErrInvalid):
		return fmt.Sprintf("The recording %s cannot be played: %v. Fetch it again from the History screen.", path, err)
	}
	return fmt.Sprintf("The recording %s could not be opened: %v.", path, err)
}

// setAudioFile keeps the open recording until the next one or the end of
// the console.
func (c *contactScreen) setAudioFile(f *os.File) {
	if c.audioFile != nil {
		c.audioFile.Close() // #nosec G104 -- a read-only file: closing it cannot lose data
	}
	c.audioFile = f
	if f != nil {
		context.AfterFunc(c.app, func() { f.Close() }) // #nosec G104 -- a read-only file: closing it cannot lose data
	}
}

func (c *contactScreen) showDetail() {
	c.found.Hide()
	c.detail.Show()
}

// transcriptQuery is what the search row asks for.
func (c *contactScreen) transcriptQuery() engine.TranscriptQuery {
	q := engine.TranscriptQuery{Text: c.tsearch.Text}
	switch c.tside.Selected {
	case "Side 1":
		q.Channel = 1
	case "Side 2":
		q.Channel = 2
	}
	now := c.deps.Now().In(c.deps.Location)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, c.deps.Location)
	switch c.trange.Selected {
	case last7Days:
		q.Since = now.AddDate(0, 0, -7)
	case last30Days:
		q.Since = now.AddDate(0, 0, -30)
	case thisMonth:
		q.Since = month
	case lastMonth:
		q.Since, q.Until = month.AddDate(0, -1, 0), month
	}
	return q
}

func (c *contactScreen) searchTranscripts() {
	if c.tsearch == nil || c.found == nil || strings.TrimSpace(c.tsearch.Text) == "" || c.deps.Browse == nil {
		return
	}
	q := c.transcriptQuery()
	c.tsGen++
	gen := c.tsGen
	c.hitsNote.SetText("Searching…")
	c.detail.Hide()
	c.found.Show()
	c.bg.run(c.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		res, err := c.deps.Browse.SearchTranscripts(ctx, q)
		return func() {
			if gen != c.tsGen {
				return
			}
			c.landed++
			c.results = res
			c.hits.Refresh()
			c.hits.ScrollToTop()
			switch {
			case err != nil:
				c.hitsNote.SetText("Could not search: " + err.Error())
			case len(res.Hits) == 0:
				c.hitsNote.SetText(fmt.Sprintf("No sentence matches in %s.", engine.Count(res.Searched, "transcript", "transcripts")))
			default:
				more := ""
				if res.More {
					more = " (the first ones; narrow the search for the rest)"
				}
				c.hitsNote.SetText(fmt.Sprintf("%s in %s%s. Select one to play the call from there.",
					engine.Count(len(res.Hits), "sentence", "sentences"), engine.Count(res.Searched, "transcript", "transcripts"), more))
			}
			if res.Skipped > 0 {
				c.hitsNote.SetText(c.hitsNote.Text + fmt.Sprintf(" %s not searched: %s.", engine.Count(res.Skipped, "transcript was", "transcripts were"), res.Problem))
			}
		}
	})
}

// openHit opens the hit's contact and plays its call from the sentence.
func (c *contactScreen) openHit(h engine.TranscriptHit) {
	s := engine.ContactSummary{GHLID: h.ContactID}
	for i, known := range c.contacts {
		if known.GHLID == h.ContactID {
			s = known
			// Mark it in the list without opening it twice.
			onSelected := c.list.OnSelected
			c.list.OnSelected = nil
			c.list.Select(i)
			c.list.OnSelected = onSelected
			break
		}
	}
	c.pending = &h
	c.openContact(s)
}
