package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/engine"
)

// ConversationBrowser is what the Conversations screen reads and drives:
// both systems' conversations with their sync state, one pair's aligned
// threads, and its re-sync. *engine.Browser implements it.
type ConversationBrowser interface {
	ADConversations(ctx context.Context, q engine.ADConversationQuery) ([]engine.ADConversation, string, error)
	GHLConversations(ctx context.Context, q engine.GHLConversationQuery) ([]engine.GHLConversation, int64, error)
	Pair(ctx context.Context, adContactID, ghlConversationID string) (engine.Pair, error)
	ResyncConversation(ctx context.Context, adContactID string) (engine.ResyncResult, error)
}

const (
	// conversationPage is how many conversations one read brings; the
	// next page is read when the list scrolls near its end.
	conversationPage = 100
	// pageAhead is how close to the end of a list the next page is read.
	pageAhead = 20
	// maxSkippedPages bounds the HighLevel pages read in a row that the
	// channel, unread or date filter keeps nothing of (HighLevel's search
	// cannot filter by them), so a filter that matches nothing does not
	// read the whole location.
	maxSkippedPages = 10

	anyState   = "Any state"
	anyChannel = "Any channel"
	allStatus  = "All"
	unreadOnly = "Unread"

	conversationsHelp = "ActiveDEMAND's conversations as Parley has them (ActiveDEMAND lists conversations only as changes, so this side is what the sync has seen) next to HighLevel's, read live. Select one to see its partner and both threads message by message."
	pairLegend        = "Highlighted rows are on one side only: missing in HighLevel (not mirrored yet, or failed) or only in HighLevel (typed there, or recorded by something else)."
)

var channelChoices = map[string]string{
	anyChannel: "", "SMS": "TYPE_SMS", "Email": "TYPE_EMAIL", "Call": "TYPE_CALL", "Live chat": "TYPE_LIVE_CHAT",
}

// conversationsScreen shows both systems' conversations side by side, and
// a selected pair's two threads aligned. Both lists read a page at a time
// and ask for the next only when scrolled near their end, so 100,000
// conversations cost a few rows of widgets and one page in memory per
// hundred scrolled.
type conversationsScreen struct {
	deps Deps
	win  fyne.Window
	bg   background
	ctx  context.Context
	// openContact, openHistory and openSearch switch screens.
	openContact func(engine.ContactSummary)
	openHistory func(text string)
	openSearch  func()

	ad        []engine.ADConversation
	adNext    string
	adGen     int
	adLoading bool
	adSearch  *widget.Entry
	adState   *widget.Select
	adList    *sideList
	adNote    *widget.Label
	// adTyping delays a search until typing pauses: a search by name
	// reads every contact (about 0.7 s at 100,000).
	adTyping debounce

	ghl        []engine.GHLConversation
	ghlNext    int64
	ghlGen     int
	ghlLoading bool
	// ghlSkipped counts the pages in a row the filters kept nothing of.
	ghlSkipped int
	ghlSearch  *widget.Entry
	ghlChannel *widget.Select
	ghlStatus  *widget.Select
	ghlRange   *widget.Select
	ghlList    *sideList
	ghlNote    *widget.Label

	pair       engine.Pair
	pairGen    int
	pairTitle  *widget.Label
	pairNote   *widget.Label
	rows       *widget.List
	contactBtn *widget.Button
	resyncBtn  *widget.Button
	historyBtn *widget.Button
	// partnering is set while one list's selection moves the other's, so
	// the partner's OnSelected does not open the pair a second time.
	partnering bool

	// landed counts answers that reached the screen, for tests.
	landed int
}

func newConversationsScreen(deps Deps, win fyne.Window, bg background, openContact func(engine.ContactSummary),
	openHistory func(string), openSearch func()) *conversationsScreen {
	return &conversationsScreen{deps: deps, win: win, bg: bg, openContact: openContact, openHistory: openHistory, openSearch: openSearch}
}

// sideList is a conversation list that lets Tab jump to the other side's
// list (a plain list would hand Tab to the focus chain, through every
// filter in between) and opens the selected pair on Enter.
type sideList struct {
	widget.List
	other *sideList
	// selected is the selected row, -1 for none.
	selected int
}

func newSideList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *sideList {
	l := &sideList{selected: -1}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.OnUnselected = func(widget.ListItemID) { l.selected = -1 }
	l.ExtendBaseWidget(l)
	return l
}

// AcceptsTab keeps Tab for the list, which gives it to the other side.
func (l *sideList) AcceptsTab() bool { return true }

// TypedKey moves to the other side on Tab; up, down and Enter are the
// list's own (Enter selects the row in focus, which opens its pair).
func (l *sideList) TypedKey(e *fyne.KeyEvent) {
	if e.Name == fyne.KeyTab && l.other != nil {
		if c := fyne.CurrentApp().Driver().CanvasForObject(l); c != nil {
			c.Focus(l.other)
		}
		return
	}
	if e.Name == fyne.KeyReturn || e.Name == fyne.KeyEnter {
		e = &fyne.KeyEvent{Name: fyne.KeySpace}
	}
	l.List.TypedKey(e)
}

func (s *conversationsScreen) view() fyne.CanvasObject {
	s.adSearch = widget.NewEntry()
	s.adSearch.SetPlaceHolder("Find a name, email, phone or id…")
	s.adSearch.OnChanged = func(string) { s.loadADSoon() }
	s.adState = widget.NewSelect([]string{anyState, string(engine.PairInSync), string(engine.PairPending), string(engine.PairFailed), string(engine.PairOnlyAD)},
		func(string) { s.loadAD(false) })
	s.adState.SetSelected(anyState)
	s.adList = newSideList(func() int { return len(s.ad) }, conversationRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id >= len(s.ad) {
			return
		}
		c := s.ad[id]
		sub := "Not in HighLevel yet"
		if c.GHLConversationID != "" {
			sub = "Linked to HighLevel"
		}
		if c.Failed > 0 {
			sub += fmt.Sprintf(" · %d failed", c.Failed)
		}
		if c.Pending > 0 {
			sub += fmt.Sprintf(" · %d waiting", c.Pending)
		}
		title := "ActiveDEMAND contact " + c.ADContactID
		if c.Name != "" {
			sub = c.ADContactID + " · " + sub
			title = c.Name
		}
		showConversationRow(o, title, sub, c.State)
		if id >= len(s.ad)-pageAhead {
			s.loadAD(true)
		}
	})
	s.adList.OnSelected = func(id widget.ListItemID) {
		s.adList.selected = id
		if id < len(s.ad) && !s.partnering {
			c := s.ad[id]
			s.selectPartner(s.ghlList, func(i int) bool { return c.GHLConversationID != "" && s.ghl[i].ID == c.GHLConversationID }, len(s.ghl))
			s.loadPair(c.ADContactID, c.GHLConversationID)
		}
	}
	s.adNote = note()
	// The transcript search sits in this filter row rather than a row of
	// its own: at 720 pixels high every row is one fewer conversation.
	searchAll := widget.NewButtonWithIcon("Search every transcript…", theme.SearchIcon(), s.openSearch)
	adPane := container.NewBorder(container.NewVBox(boldLabel("ActiveDEMAND (as Parley has it)"),
		s.adSearch, container.NewBorder(nil, nil, wide(s.adState, 210), searchAll)), s.adNote, nil, nil, s.adList)

	s.ghlSearch = widget.NewEntry()
	s.ghlSearch.SetPlaceHolder("Search HighLevel: name, email, phone, last message…")
	s.ghlSearch.OnSubmitted = func(string) { s.loadGHL(false) }
	s.ghlChannel = widget.NewSelect([]string{anyChannel, "SMS", "Email", "Call", "Live chat"}, func(string) { s.loadGHL(false) })
	s.ghlChannel.SetSelected(anyChannel)
	s.ghlStatus = widget.NewSelect([]string{allStatus, unreadOnly}, func(string) { s.loadGHL(false) })
	s.ghlStatus.SetSelected(allStatus)
	s.ghlRange = widget.NewSelect([]string{anyTime, last7Days, last30Days}, func(string) { s.loadGHL(false) })
	s.ghlRange.SetSelected(anyTime)
	s.ghlList = newSideList(func() int { return len(s.ghl) }, conversationRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id >= len(s.ghl) {
			return
		}
		c := s.ghl[id]
		sub := strings.TrimPrefix(c.LastMessageType, "TYPE_")
		if !c.LastMessageDate.IsZero() {
			sub += " · " + c.LastMessageDate.In(s.deps.Location).Format("2006-01-02 15:04")
		}
		if c.UnreadCount > 0 {
			sub += fmt.Sprintf(" · %d unread", c.UnreadCount)
		}
		if c.LastMessageBody != "" {
			sub += " · " + c.LastMessageBody
		}
		showConversationRow(o, firstNonEmptyText(c.FullName, c.ContactName, c.Email, c.Phone, "Conversation "+c.ID), sub, c.State)
		if id >= len(s.ghl)-pageAhead {
			s.loadGHL(true)
		}
	})
	s.ghlList.OnSelected = func(id widget.ListItemID) {
		s.ghlList.selected = id
		if id < len(s.ghl) && !s.partnering {
			c := s.ghl[id]
			s.selectPartner(s.adList, func(i int) bool { return c.ADContactID != "" && s.ad[i].ADContactID == c.ADContactID }, len(s.ad))
			s.loadPair(c.ADContactID, c.ID)
		}
	}
	s.adList.other, s.ghlList.other = s.ghlList, s.adList
	s.ghlNote = note()
	filters := container.NewHBox(wide(s.ghlChannel, 140), wide(s.ghlStatus, 110), wide(s.ghlRange, 140))
	ghlPane := container.NewBorder(container.NewVBox(boldLabel("HighLevel (live)"), s.ghlSearch, filters),
		s.ghlNote, nil, nil, s.ghlList)

	s.pairTitle = widget.NewLabelWithStyle("Select a conversation on either side.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.pairNote = note()
	s.pairNote.Importance = widget.WarningImportance
	legend := widget.NewLabel(pairLegend)
	legend.Wrapping = fyne.TextWrapWord
	legend.SizeName = theme.SizeNameCaptionText
	s.contactBtn = widget.NewButtonWithIcon("Open the contact", theme.AccountIcon(), func() {
		s.openContact(engine.ContactSummary{GHLID: s.pair.GHLContactID, ADID: s.pair.ADContactID})
	})
	s.resyncBtn = widget.NewButtonWithIcon("Re-sync…", theme.ViewRefreshIcon(), s.confirmResync)
	s.historyBtn = widget.NewButtonWithIcon("History rows", theme.HistoryIcon(), func() {
		s.openHistory(firstNonEmptyText(s.pair.GHLConversationID, s.pair.ADContactID))
	})
	s.enablePairButtons()
	s.rows = widget.NewList(func() int { return len(s.pair.Rows) }, pairRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(s.pair.Rows) {
			s.showPairRow(s.pair.Rows[id], o.(*fyne.Container))
		}
	})
	columns := container.NewBorder(nil, nil, widget.NewLabel("                "), nil,
		container.NewGridWithColumns(2, boldLabel("ActiveDEMAND"), boldLabel("HighLevel")))
	s.pairTitle.Wrapping = fyne.TextWrapWord
	pairTop := container.NewVBox(s.pairTitle, container.NewHBox(s.contactBtn, s.resyncBtn, s.historyBtn), s.pairNote, legend, columns)
	pairPane := container.NewBorder(pairTop, nil, nil, nil, s.rows)

	sides := container.NewHSplit(adPane, ghlPane)
	body := container.NewVSplit(sides, pairPane)
	// Half each: both lists and the selected pair show a few rows at the
	// smallest window; the divider moves either way.
	body.Offset = 0.5
	top := header("Conversations", conversationsHelp)
	if s.deps.Conversations == nil {
		s.adNote.SetText("Conversations appear here once the sync runs: start it from the Sync screen or with parley sync.")
		s.adNote.Show()
	}
	return container.NewBorder(top, nil, nil, nil, body)
}

func note() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func boldLabel(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func conversationRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("")
	sub.Truncation = fyne.TextTruncateEllipsis
	sub.SizeName = theme.SizeNameCaptionText
	state := widget.NewLabel("only in ActiveDEMAND")
	return container.NewBorder(nil, nil, nil, state, container.NewVBox(name, sub))
}

// stateImportance colours a state: failed needs a person, pending and a
// one-sided conversation may, in sync does not.
var stateImportance = map[engine.PairState]widget.Importance{
	engine.PairInSync: widget.SuccessImportance, engine.PairPending: widget.WarningImportance,
	engine.PairFailed: widget.DangerImportance, engine.PairOnlyAD: widget.MediumImportance, engine.PairOnlyGHL: widget.MediumImportance,
}

func showConversationRow(o fyne.CanvasObject, name, sub string, st engine.PairState) {
	row := o.(*fyne.Container)
	box := row.Objects[0].(*fyne.Container)
	box.Objects[0].(*widget.Label).SetText(name)
	box.Objects[1].(*widget.Label).SetText(sub)
	state := row.Objects[1].(*widget.Label)
	state.Importance = stateImportance[st]
	state.SetText(string(st))
}

func pairRow() fyne.CanvasObject {
	mark := canvas.NewRectangle(color.Transparent)
	at := widget.NewLabelWithStyle("2006-01-02 15:04", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	ad := widget.NewLabel("")
	ad.Truncation = fyne.TextTruncateEllipsis
	gh := widget.NewLabel("")
	gh.Truncation = fyne.TextTruncateEllipsis
	return container.NewStack(mark, container.NewBorder(nil, nil, at, nil, container.NewGridWithColumns(2, ad, gh)))
}

// mismatchColor marks a row that is on one side only.
func mismatchColor() color.Color {
	r, g, b, _ := theme.Color(theme.ColorNameWarning).RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x50} // #nosec G115 -- RGBA() is 16-bit per channel: >>8 fits
}

func (s *conversationsScreen) showPairRow(r engine.PairRow, row *fyne.Container) {
	mark := row.Objects[0].(*canvas.Rectangle)
	inner := row.Objects[1].(*fyne.Container)
	cells := inner.Objects[0].(*fyne.Container)
	inner.Objects[1].(*widget.Label).SetText(r.At.In(s.deps.Location).Format("2006-01-02 15:04"))
	arrow := map[string]string{"inbound": "← ", "outbound": "→ "}[r.Direction]
	ad, gh := "—", "—"
	if r.ADMessageID != "" {
		ad = fmt.Sprintf("%s%s  [%s]", arrow, r.ADText, adStateWord(r))
	}
	if r.GHLMessageID != "" {
		gh = arrow + r.GHLText
	}
	switch r.Mismatch {
	case engine.MissingInGHL:
		gh = "missing in HighLevel"
	case engine.OnlyInGHL:
		ad = "not in ActiveDEMAND"
	}
	cells.Objects[0].(*widget.Label).SetText(ad)
	cells.Objects[1].(*widget.Label).SetText(gh)
	if r.Mismatch != "" {
		mark.FillColor = mismatchColor()
	} else {
		mark.FillColor = color.Transparent
	}
	mark.Refresh()
}

// adStateWord is a message job's state in the lists' words.
func adStateWord(r engine.PairRow) string {
	switch r.ADState {
	case "dead":
		if r.ADError != "" {
			return "failed: " + r.ADError
		}
		return "failed"
	case "pending", "in_flight":
		return "pending"
	case "done":
		return "synced"
	}
	return string(r.ADState)
}

// selectPartner selects the row of list that match finds, or clears the
// list's selection when the partner is not among the rows read so far.
func (s *conversationsScreen) selectPartner(list *sideList, match func(int) bool, n int) {
	s.partnering = true
	defer func() { s.partnering = false }()
	for i := range n {
		if match(i) {
			list.Select(i)
			list.ScrollTo(i)
			return
		}
	}
	list.UnselectAll()
}

// shown runs whenever the screen comes to the front.
func (s *conversationsScreen) shown(ctx context.Context) {
	s.ctx = ctx
	s.loadAD(false)
	s.loadGHL(false)
}

// loadAD reads the first page of ActiveDEMAND conversations, or with more
// the next one.
// loadADSoon reloads the ActiveDEMAND side once typing pauses.
func (s *conversationsScreen) loadADSoon() {
	s.adTyping.after(s.ctx, searchDelay, s.bg.do, func() { s.loadAD(false) })
}

func (s *conversationsScreen) loadAD(more bool) {
	if s.deps.Conversations == nil || s.adList == nil || (more && (s.adNext == "" || s.adLoading)) {
		return
	}
	s.adGen++
	gen := s.adGen
	s.adLoading = true
	q := engine.ADConversationQuery{Text: s.adSearch.Text, Limit: conversationPage}
	if v := s.adState.Selected; v != anyState && v != "" {
		q.State = engine.PairState(v)
	}
	if more {
		q.After = s.adNext
	}
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		list, next, err := s.deps.Conversations.ADConversations(ctx, q)
		return func() {
			if gen != s.adGen {
				return
			}
			s.landed++
			s.adLoading = false
			if err != nil {
				s.adNote.SetText("Could not read ActiveDEMAND's conversations from Parley's database: " + err.Error())
				s.adNote.Show()
				return
			}
			if more {
				s.ad = append(s.ad, list...)
			} else {
				s.ad = list
				s.adList.UnselectAll()
			}
			s.adNext = next
			s.adList.Refresh()
			switch {
			case len(s.ad) == 0 && (q.Text != "" || q.State != ""):
				s.adNote.SetText("No ActiveDEMAND conversation matches these filters.")
				s.adNote.Show()
			case len(s.ad) == 0:
				s.adNote.SetText("No conversations yet. They appear once the sync has mirrored an ActiveDEMAND message.")
				s.adNote.Show()
			default:
				s.adNote.Hide()
			}
		}
	})
}

// loadGHL reads the first page of HighLevel conversations, or with more
// the next one.
func (s *conversationsScreen) loadGHL(more bool) {
	if s.deps.Conversations == nil || s.ghlList == nil || (more && (s.ghlNext == 0 || s.ghlLoading)) {
		return
	}
	s.ghlGen++
	gen := s.ghlGen
	s.ghlLoading = true
	q := engine.GHLConversationQuery{Text: s.ghlSearch.Text, Channel: channelChoices[s.ghlChannel.Selected],
		Unread: s.ghlStatus.Selected == unreadOnly, Limit: conversationPage}
	now := s.deps.Now()
	switch s.ghlRange.Selected {
	case last7Days:
		q.Since = now.AddDate(0, 0, -7)
	case last30Days:
		q.Since = now.AddDate(0, 0, -30)
	}
	if more {
		q.StartAfter = s.ghlNext
	} else {
		s.ghlSkipped = 0
	}
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		list, next, err := s.deps.Conversations.GHLConversations(ctx, q)
		return func() {
			if gen != s.ghlGen {
				return
			}
			s.landed++
			s.ghlLoading = false
			if err != nil {
				s.ghlNote.SetText("Could not read HighLevel's conversations: " + err.Error())
				s.ghlNote.Show()
				return
			}
			if more {
				s.ghl = append(s.ghl, list...)
			} else {
				s.ghl = list
				s.ghlList.UnselectAll()
			}
			s.ghlNext = next
			s.ghlList.Refresh()
			if len(list) == 0 {
				s.ghlSkipped++
			} else {
				s.ghlSkipped = 0
			}
			switch {
			case len(s.ghl) == 0 && next != 0 && s.ghlSkipped < maxSkippedPages:
				// The filters kept nothing of this page: read on.
				s.loadGHL(true)
			case len(s.ghl) == 0 && next != 0:
				s.ghlNote.SetText(fmt.Sprintf("None of HighLevel's newest %d conversations matches these filters. Narrow the search text or widen the filters.",
					maxSkippedPages*conversationPage))
				s.ghlNote.Show()
			case len(s.ghl) == 0:
				s.ghlNote.SetText("No HighLevel conversation matches these filters.")
				s.ghlNote.Show()
			default:
				s.ghlNote.Hide()
			}
		}
	})
}

// loadPair reads a pair's two threads.
func (s *conversationsScreen) loadPair(adContactID, ghlConversationID string) {
	s.pairGen++
	gen := s.pairGen
	s.pairTitle.SetText("Loading the conversation…")
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		p, err := s.deps.Conversations.Pair(ctx, adContactID, ghlConversationID)
		return func() {
			if gen != s.pairGen {
				return
			}
			s.landed++
			s.applyPair(p, err)
		}
	})
}

func (s *conversationsScreen) applyPair(p engine.Pair, err error) {
	if err != nil {
		s.pair = engine.Pair{}
		s.pairTitle.SetText("Could not open the conversation")
		s.pairNote.SetText(err.Error())
		s.pairNote.Show()
	} else {
		s.pair = p
		title := fmt.Sprintf("%s — %s", pairName(p), p.State)
		if p.Missing > 0 || p.Extra > 0 {
			title += fmt.Sprintf(" — %d missing in HighLevel, %d only in HighLevel", p.Missing, p.Extra)
		}
		s.pairTitle.SetText(title)
		if len(p.Problems) > 0 {
			s.pairNote.SetText(strings.Join(p.Problems, "\n"))
			s.pairNote.Show()
		} else {
			s.pairNote.Hide()
		}
	}
	s.enablePairButtons()
	s.rows.UnselectAll()
	s.rows.Refresh()
	s.rows.ScrollToBottom()
}

func pairName(p engine.Pair) string {
	contact := adContactName(p)
	switch {
	case p.ADContactID != "" && p.GHLConversationID != "":
		return contact + " and its HighLevel conversation"
	case p.ADContactID != "":
		return contact
	}
	return "HighLevel conversation " + p.GHLConversationID
}

// adContactName names a pair's ActiveDEMAND contact for a sentence: by
// name with its id when the name is known.
func adContactName(p engine.Pair) string {
	if p.ADContactName != "" {
		return fmt.Sprintf("%s (ActiveDEMAND contact %s)", p.ADContactName, p.ADContactID)
	}
	return "ActiveDEMAND contact " + p.ADContactID
}

func (s *conversationsScreen) enablePairButtons() {
	enable(s.contactBtn, s.pair.GHLContactID != "")
	enable(s.resyncBtn, s.pair.ADContactID != "" && s.pair.GHLConversationID != "" || s.pair.State == engine.PairOnlyAD)
	enable(s.historyBtn, s.pair.ADContactID != "" || s.pair.GHLConversationID != "")
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// confirmResync asks before queueing the pair's messages again.
func (s *conversationsScreen) confirmResync() {
	p := s.pair
	msg := fmt.Sprintf("Parley queues again the %s that HighLevel does not hold (%d now), as parley verify --repair does. Messages HighLevel holds are left alone, so nothing is recorded twice.",
		"messages of "+adContactName(p), p.Missing)
	d := dialog.NewCustomConfirm("Re-sync this conversation?", "Re-sync", "Cancel", wrapLabel(msg), func(ok bool) {
		if ok {
			s.resync(p.ADContactID)
		}
	}, s.win)
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (s *conversationsScreen) resync(adContactID string) {
	s.resyncBtn.Disable()
	s.bg.run(s.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		res, err := s.deps.Conversations.ResyncConversation(ctx, adContactID)
		return func() {
			s.landed++
			s.enablePairButtons()
			if err != nil {
				s.pairNote.SetText("Could not re-sync: " + err.Error())
				s.pairNote.Show()
				return
			}
			s.pairNote.SetText(fmt.Sprintf("Queued %s again; %d already waiting. The sync sends them on its next pass (see the Sync screen).",
				engine.Count(res.Queued, "message", "messages"), res.AlreadyQueued))
			s.pairNote.Show()
			s.loadAD(false)
		}
	})
}

// conversationsView is the screen's root: its content, and the screen
// behind it for whoever holds the view (the console's tests).
type conversationsView struct {
	widget.BaseWidget
	s       *conversationsScreen
	content fyne.CanvasObject
}

// CreateRenderer shows the content.
func (v *conversationsView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.content)
}

// conversationsEntry is the Conversations screen's place in the
// navigation, with the ways it leads to the Contacts and History screens.
func (c *Console) conversationsEntry() *screen {
	s := newConversationsScreen(c.deps, c.win, c.background(),
		func(cs engine.ContactSummary) {
			if c.Show("Contacts") && cs.GHLID != "" {
				c.contacts.openContact(cs)
			}
		},
		func(text string) {
			if c.Show("History") {
				c.history.search.SetText(text)
			}
		},
		func() {
			if c.Show("Contacts") {
				c.win.Canvas().Focus(c.contacts.tsearch)
			}
		})
	return &screen{title: "Conversations", icon: theme.MailComposeIcon(), shown: s.shown, build: func() fyne.CanvasObject {
		v := &conversationsView{s: s, content: s.view()}
		v.ExtendBaseWidget(v)
		return v
	}}
}
