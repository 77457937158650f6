package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSearchTokensMatchFTS5 feeds strings through the real index and checks
// that FTS5 made exactly the tokens searchTokens makes: the tail scan relies
// on the two agreeing.
func TestSearchTokensMatchFTS5(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	inputs := []string{
		"429 rate limited",
		"ad-msg-123456",
		"H3tsI3FbzSYvuz8NHwUz",
		"validation: phone invalid",
		"foo_bar.baz/qux\\quux",
		"tab\tnew\nline  spaces",
		"Ünïcödé ÉRROR naïve",
		"日本語 テキスト",
		"ΣΊΣΥΦΟΣ Straße",
		"x² ½ Ⅻ",
		"emoji 🎉 party",
		"quote \"it\" and 'it' (paren) [bracket] {brace}",
		"a*b -c +d ^e ~f",
		"",
	}
	for _, in := range inputs {
		e := HistoryEntry{Operation: OpMessagePush, System: SystemGHL, Outcome: OutcomeOK, Error: in}
		if err := s.AppendHistory(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	indexAll(t, s)
	conn, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, history_fts, instance)`); err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		rows, err := conn.QueryContext(ctx, `SELECT term FROM temp.vocab WHERE doc = ? AND col = 'error' ORDER BY offset`, i+1)
		if err != nil {
			t.Fatal(err)
		}
		var fts []string
		for rows.Next() {
			var term string
			if err := rows.Scan(&term); err != nil {
				t.Fatal(err)
			}
			fts = append(fts, term)
		}
		rows.Close()
		if got := searchTokens(in); !slices.Equal(got, fts) {
			t.Errorf("searchTokens(%q) = %q, FTS5 made %q", in, got, fts)
		}
	}
}

func TestParseSearch(t *testing.T) {
	tests := []struct {
		text string
		want []searchTerm
	}{
		{"", nil},
		{"  \t ", nil},
		{"Rate", []searchTerm{{[]string{"rate"}, true}}},
		{"rate limit", []searchTerm{{[]string{"rate"}, true}, {[]string{"limit"}, true}}},
		{"ad-msg-12", []searchTerm{{[]string{"ad", "msg", "12"}, true}}},
		{"ad-msg-1", []searchTerm{{[]string{"ad", "msg", "1"}, false}}},
		{"4", []searchTerm{{[]string{"4"}, false}}},
		{`" * - OR`, []searchTerm{{[]string{"or"}, true}}},
		{`"quoted"*`, []searchTerm{{[]string{"quoted"}, true}}},
		{strings.Repeat("w ", 40), slices.Repeat([]searchTerm{{[]string{"w"}, false}}, maxSearchWords)},
	}
	for _, tt := range tests {
		if got := parseSearch(tt.text); !slices.EqualFunc(got, tt.want, func(a, b searchTerm) bool {
			return slices.Equal(a.toks, b.toks) && a.prefix == b.prefix
		}) {
			t.Errorf("parseSearch(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestFTSQuery(t *testing.T) {
	ops := []Operation{OpMessagePush, OpContactUpsert, OpInboundRecord}
	tests := []struct {
		f    HistoryFilter
		want string
	}{
		{HistoryFilter{Text: "rate"}, `{local_id remote_id error} : "rate"*`},
		// A word matching operation names also matches rows of those operations.
		{HistoryFilter{Text: "message"}, `({local_id remote_id error} : "message"* OR tags : "op6D6573736167652E70757368" OR tags : "op6D6573736167652E696E626F756E64")`},
		// With an operation filter the word is implied by it...
		{HistoryFilter{Operation: OpMessagePush, Text: "push"}, `tags : "op6D6573736167652E70757368"`},
		// ... or must match elsewhere.
		{HistoryFilter{Operation: OpContactUpsert, Text: "push", Outcome: OutcomeOK, System: SystemGHL},
			`{local_id remote_id error} : "push"* AND tags : "op636F6E746163742E757073657274" AND tags : "oc6F6B" AND tags : "sy67686C"`},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.f, parseSearch(tt.f.Text), ops); got != tt.want {
			t.Errorf("ftsQuery(%+v) =\n %s\nwant\n %s", tt.f, got, tt.want)
		}
	}
}

// semanticsRows is a small hand-made history for TestSearchSemantics; row i
// gets id i+1.
var semanticsRows = []HistoryEntry{
	{Operation: OpMessagePush, System: SystemGHL, LocalID: "ad-msg-123456", RemoteID: "H3tsI3FbzSYvuz8NHwUz", Outcome: OutcomeFailed, HTTPStatus: 429, Error: "429 rate limited"},
	{Operation: OpContactUpsert, System: SystemGHL, LocalID: "ad-contact-000777", RemoteID: "Zq9xPLk2mN0aB1cD2eF3", Outcome: OutcomeOK, HTTPStatus: 200},
	{Operation: OpInboundRecord, System: SystemAD, LocalID: "ad-msg-123999", Outcome: OutcomeFailed, Error: "timeout after 30s"},
	{Operation: OpMediaFetch, System: SystemGHL, LocalID: "ad-rec-555", RemoteID: "mEdIa00000000000fetch", Outcome: OutcomeFailed, HTTPStatus: 422, Error: "validation: phone invalid"},
	{Operation: OpStatusUpdate, System: SystemGHL, LocalID: "ad-msg-000001", RemoteID: "StAtUs0000000000000x", Outcome: OutcomeOK, HTTPStatus: 200, Error: "ok after retry: 429 Rate Limited"},
	{Operation: "webhook.receive", System: SystemAD, LocalID: "", RemoteID: "", Outcome: OutcomeSkipped, Error: "Ünïcödé naïve café"},
}

// TestSearchSemantics pins down what a user typing in the search box gets,
// both for rows still waiting for the indexer and for indexed rows.
func TestSearchSemantics(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		f    HistoryFilter
		want []int64
	}{
		{HistoryFilter{}, []int64{6, 5, 4, 3, 2, 1}},
		{HistoryFilter{Text: "   "}, []int64{6, 5, 4, 3, 2, 1}},
		{HistoryFilter{Text: "rate"}, []int64{5, 1}},
		{HistoryFilter{Text: "RATE limit"}, []int64{5, 1}},
		{HistoryFilter{Text: "limit rate"}, []int64{5, 1}},
		{HistoryFilter{Text: "limited"}, []int64{5, 1}},
		{HistoryFilter{Text: "imited"}, nil}, // word starts only, not any substring
		{HistoryFilter{Text: "rate timeout"}, nil},
		{HistoryFilter{Text: "ad-msg-123"}, []int64{3, 1}},
		{HistoryFilter{Text: "ad-msg-123456"}, []int64{1}},
		{HistoryFilter{Text: "123456"}, []int64{1}},
		{HistoryFilter{Text: "msg-1239"}, []int64{3}},
		{HistoryFilter{Text: "h3tsi3"}, []int64{1}},
		{HistoryFilter{Text: "H3tsI3FbzSYvuz8NHwUz"}, []int64{1}},
		{HistoryFilter{Text: "push"}, []int64{1}},
		{HistoryFilter{Text: "message"}, []int64{3, 1}},
		{HistoryFilter{Text: "Message.Push"}, []int64{1}},
		{HistoryFilter{Text: "webhook"}, []int64{6}},
		{HistoryFilter{Text: "contact"}, []int64{2}},
		{HistoryFilter{Text: "phone invalid"}, []int64{4}},
		{HistoryFilter{Text: "phone-invalid"}, []int64{4}},
		{HistoryFilter{Text: "invalid-phone"}, nil}, // punctuation inside a word keeps word order
		{HistoryFilter{Text: "42"}, []int64{5, 1}},
		{HistoryFilter{Text: "4"}, nil}, // one character: whole words only
		{HistoryFilter{Text: "s"}, nil},
		{HistoryFilter{Text: "30"}, []int64{3}},
		{HistoryFilter{Text: "naïve"}, []int64{6}},
		{HistoryFilter{Text: "ÜNÏ"}, []int64{6}},
		{HistoryFilter{Text: "naive"}, nil}, // no accent folding
		{HistoryFilter{Text: "zzz"}, nil},
		// Query syntax is not interpreted.
		{HistoryFilter{Text: `"rate"`}, []int64{5, 1}},
		{HistoryFilter{Text: `rate*`}, []int64{5, 1}},
		{HistoryFilter{Text: `-rate`}, []int64{5, 1}},
		{HistoryFilter{Text: `rate OR timeout`}, nil},
		{HistoryFilter{Text: `NOT rate`}, nil},
		{HistoryFilter{Text: `error: rate`}, nil},
		// Filters.
		{HistoryFilter{Outcome: OutcomeFailed}, []int64{4, 3, 1}},
		{HistoryFilter{System: SystemAD}, []int64{6, 3}},
		{HistoryFilter{Operation: OpMessagePush, Text: "rate"}, []int64{1}},
		{HistoryFilter{Operation: OpMessagePush, Text: "push"}, []int64{1}},
		{HistoryFilter{Operation: OpContactUpsert, Text: "push"}, nil},
		{HistoryFilter{Operation: OpContactUpsert, Text: "contact"}, []int64{2}},
		{HistoryFilter{Outcome: OutcomeOK, Text: "rate"}, []int64{5}},
		{HistoryFilter{System: SystemAD, Text: "timeout"}, []int64{3}},
		{HistoryFilter{Operation: "no.such.op"}, nil},
		{HistoryFilter{Operation: OpMessagePush, Outcome: OutcomeOK}, nil},
		// Paging and limits.
		{HistoryFilter{Limit: 2}, []int64{6, 5}},
		{HistoryFilter{BeforeID: 5, Limit: 2}, []int64{4, 3}},
		{HistoryFilter{Text: "ad", BeforeID: 3}, []int64{2, 1}},
		{HistoryFilter{Outcome: OutcomeFailed, BeforeID: 4}, []int64{3, 1}},
	}
	for _, indexed := range []bool{false, true} {
		s := newTestStore(t)
		if err := s.AppendHistory(ctx, semanticsRows...); err != nil {
			t.Fatal(err)
		}
		if indexed {
			indexAll(t, s)
		}
		for _, tt := range tests {
			page, err := s.HistoryPage(ctx, tt.f)
			if err != nil {
				t.Errorf("indexed=%v %+v: %v", indexed, tt.f, err)
				continue
			}
			if got := ids(page); !slices.Equal(got, tt.want) {
				t.Errorf("indexed=%v %+v: got ids %v, want %v", indexed, tt.f, got, tt.want)
			}
		}
	}
}

func ids(page []HistoryEntry) []int64 {
	var out []int64
	for _, e := range page {
		out = append(out, e.ID)
	}
	return out
}

// TestSearchNeverErrors throws text at the search box that would be syntax
// errors if it reached FTS5 unescaped.
func TestSearchNeverErrors(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if err := s.AppendHistory(ctx, semanticsRows...); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	texts := []string{
		`"`, `""`, `"unbalanced`, `*`, `**`, `-`, `--`, `OR`, `AND`, `NOT`, `AND OR NOT`,
		`NEAR(rate limited)`, `NEAR`, `(`, `)`, `()`, `{`, `}`, `{local_id}: ad`, `tags:op`, `error:rate`,
		`^rate`, `+`, `'`, `\`, `\"`, `;`, `'; DROP TABLE history; --`, `%`, `_`, `rate%`, `🎉`,
		"\x00", "\xff\xfe", strings.Repeat("rate ", 500), strings.Repeat("x", 5000),
	}
	for _, text := range texts {
		for _, f := range []HistoryFilter{{Text: text}, {Text: text, Operation: OpMessagePush, Outcome: OutcomeFailed}} {
			if _, err := s.HistoryPage(ctx, f); err != nil {
				t.Errorf("HistoryPage(%q): %v", text, err)
			}
		}
	}
	if page, err := s.HistoryPage(ctx, HistoryFilter{}); err != nil || len(page) != len(semanticsRows) {
		t.Errorf("history damaged: %d rows, %v", len(page), err)
	}
}

// referencePage is the brute-force definition of HistoryPage over entries
// whose ids are their index+1; fields[i] are entryFields(entries[i]).
func referencePage(entries []HistoryEntry, fields [][4][]string, f HistoryFilter) []int64 {
	terms := parseSearch(f.Text)
	var out []int64
	for i := len(entries) - 1; i >= 0 && len(out) < f.Limit; i-- {
		e, id := entries[i], int64(i+1)
		if f.BeforeID != 0 && id >= f.BeforeID {
			continue
		}
		at := e.At.UnixMilli()
		if (f.Operation != "" && e.Operation != f.Operation) || (f.Outcome != "" && e.Outcome != f.Outcome) ||
			(f.System != "" && e.System != f.System) || !matchesFields(fields[i], terms) ||
			(!f.Since.IsZero() && at < f.Since.UnixMilli()) || (!f.Until.IsZero() && at >= f.Until.UnixMilli()) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// TestSearchIndexedAndTailAgree runs many queries over generated history
// with the index covering none, part and all of it, and compares each page,
// and every page of a full keyset walk, with the brute-force reference.
func TestSearchIndexedAndTailAgree(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := genHistory(42, 1200, start)
	// Operations beyond the known ones, and times out of order: a late
	// record of an early operation must still fall in its time range.
	for i := range entries {
		switch {
		case i%97 == 0:
			entries[i].Operation = Operation(fmt.Sprintf("custom.op%d", i%5))
		case i%89 == 0:
			entries[i].At = start.Add(time.Duration(i%7) * time.Second)
		}
	}
	entries = append(entries, semanticsRows...)
	for i := range semanticsRows {
		entries[len(entries)-1-i].At = start.Add(time.Minute)
	}
	if err := s.AppendHistory(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	fields := make([][4][]string, len(entries))
	for i, e := range entries {
		fields[i] = entryFields(e)
	}
	var filters []HistoryFilter
	texts := []string{"", "rate", "rate limited", "TIMEOUT", "phone invalid", "certificate", "nosuchthing", "push", "message",
		"contact", "ad", "ad-msg-12", "msg", "42", "4", entries[10].LocalID, entries[20].RemoteID, entries[900].RemoteID[:5]}
	for _, text := range texts {
		filters = append(filters,
			HistoryFilter{Text: text},
			HistoryFilter{Text: text, Operation: OpMessagePush},
			HistoryFilter{Text: text, Outcome: OutcomeFailed},
			HistoryFilter{Text: text, Operation: OpContactUpsert, Outcome: OutcomeOK, System: SystemGHL},
			HistoryFilter{Text: text, BeforeID: 600, Limit: 20},
			HistoryFilter{Text: text, Operation: Operation("custom.op3")},
			HistoryFilter{Text: text, Since: start.Add(20 * time.Second), Until: start.Add(40 * time.Second)},
			HistoryFilter{Text: text, Operation: OpMessagePush, Outcome: OutcomeOK, Until: start.Add(5 * time.Second)},
			HistoryFilter{Text: text, Since: start.Add(59 * time.Second)},
		)
	}
	for _, watermark := range []int{0, 500, 1199, len(entries)} {
		if delta := watermark - indexedThrough(t, s); delta > 0 {
			if _, err := s.indexHistory(ctx, delta); err != nil {
				t.Fatal(err)
			}
		}
		if got := indexedThrough(t, s); got != watermark {
			t.Fatalf("indexed through %d, want %d", got, watermark)
		}
		for _, f := range filters {
			page, err := s.HistoryPage(ctx, f)
			if err != nil {
				t.Fatalf("watermark %d, %+v: %v", watermark, f, err)
			}
			want, _ := f.validate()
			if got, want := ids(page), referencePage(entries, fields, want); !slices.Equal(got, want) {
				t.Errorf("watermark %d, %+v:\n got %v\nwant %v", watermark, f, got, want)
			}
		}
		// Walk all pages of a few queries across the watermark.
		for _, f := range []HistoryFilter{{Text: "rate", Limit: 7}, {Outcome: OutcomeFailed, Limit: 13}, {Text: "ad msg", Operation: OpMessagePush, Limit: 100},
			{Since: start.Add(10 * time.Second), Until: start.Add(50 * time.Second), Limit: 50}, {Text: "contact", Operation: OpContactUpsert, Since: start.Add(30 * time.Second), Limit: 9}} {
			var walked []int64
			for {
				page, err := s.HistoryPage(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				walked = append(walked, ids(page)...)
				if len(page) < f.Limit {
					break
				}
				f.BeforeID = page[len(page)-1].ID
			}
			all := f
			all.BeforeID, all.Limit = 0, len(entries)
			if want := referencePage(entries, fields, all); !slices.Equal(walked, want) {
				t.Errorf("watermark %d, paging %+v: walked %d ids, reference has %d", watermark, f, len(walked), len(want))
			}
		}
	}
}

func indexedThrough(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow(`SELECT indexed_through FROM history_fts_progress`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIndexHistoryProgress(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if more, err := s.indexHistory(ctx, 10); err != nil || more {
		t.Fatalf("indexing an empty history: more=%v err=%v", more, err)
	}
	if err := s.AppendHistory(ctx, genHistory(1, 25, time.Now())...); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		more    bool
		through int
	}{{true, 10}, {true, 20}, {false, 25}, {false, 25}} {
		more, err := s.indexHistory(ctx, 10)
		if err != nil || more != want.more || indexedThrough(t, s) != want.through {
			t.Errorf("step %d: more=%v through=%d err=%v; want %v %d", i, more, indexedThrough(t, s), err, want.more, want.through)
		}
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM history_fts`).Scan(&n); err != nil || n != 25 {
		t.Errorf("index has %d rows (%v), want 25: rows indexed twice or lost", n, err)
	}
}

func TestMatchesEntry(t *testing.T) {
	e := semanticsRows[0]
	for text, want := range map[string]bool{
		"":                     true,
		"rate":                 true,
		"push rate 429":        true,
		"message.push":         true,
		"message push":         true,
		"push.message":         false,
		"H3TS":                 true,
		"i3fbz":                false,
		"ad-msg-123456 failed": false, // the outcome is a filter, not text
	} {
		if got := matchesEntry(e, parseSearch(text)); got != want {
			t.Errorf("matchesEntry(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestScopedQuery(t *testing.T) {
	tests := []struct {
		f    HistoryFilter
		want string
		ok   bool
	}{
		{HistoryFilter{Operation: OpMessagePush, Outcome: OutcomeOK, Text: "contact"}, `scoped : "d1contact"*`, true},
		{HistoryFilter{Operation: OpContactUpsert, Outcome: OutcomeFailed, Text: "ad-msg-1"}, `scoped : "a2ad a2msg a21"`, true},
		// Without an outcome, the word under each of the operation's scopes.
		{HistoryFilter{Operation: OpMessagePush, Text: "rate"},
			`(scoped : "d1rate"* OR scoped : "d2rate"* OR scoped : "d3rate"* OR scoped : "d4rate"*)`, true},
		// A word the operation itself satisfies needs no index.
		{HistoryFilter{Operation: OpMessagePush, Outcome: OutcomeOK, Text: "push rate"}, `scoped : "d1rate"*`, true},
		{HistoryFilter{Operation: OpMessagePush, Outcome: OutcomeOK, Text: "push"}, "", false},
	}
	for _, tt := range tests {
		got, ok := scopedQuery(tt.f, parseSearch(tt.f.Text))
		if got != tt.want || ok != tt.ok {
			t.Errorf("scopedQuery(%+v) = %s, %v; want %s, %v", tt.f, got, ok, tt.want, tt.ok)
		}
	}
	// Known operations never share a scope; any other gets a valid one.
	seen := map[string]Operation{}
	for op := range knownOpCodes {
		c := scopeCode(op, OutcomeOK)
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share scope %q", op, other, c)
		}
		seen[c] = op
	}
	for _, op := range []Operation{"custom.op", "x", "ünïcode.op"} {
		if c := scopeCode(op, OutcomeSkipped); len(c) != 2 || !strings.Contains(otherOpCodes, c[:1]) || c[1] != '4' {
			t.Errorf("scopeCode(%q) = %q", op, c)
		}
	}
	// Fields stay apart: a phrase cannot run from the local id into the
	// remote id.
	if got := scopedText(OpMessagePush, OutcomeOK, "ad-msg-1", "X2", ""); got != "d1ad d1msg d11 d1 d1x2 d1 " {
		t.Errorf("scopedText = %q", got)
	}
}

// TestUpgradeReindexesHistory: a database indexed by the version 3 indexer
// (no scoped index, no time blocks) starts indexing over after the upgrade,
// and searches and time ranges are complete before and after it catches up.
func TestUpgradeReindexesHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	db := rawWriter(t, path)
	if err := migrate(ctx, db, path, 3, func() int64 { return 1 }); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := genHistory(3, 400, start)
	for _, e := range entries {
		if _, err := db.Exec(`INSERT INTO history (`+historyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.At.UnixMilli(), string(e.Operation), string(e.System), e.LocalID, e.RemoteID, string(e.Outcome),
			e.HTTPStatus, e.Attempts, e.Latency.Microseconds(), e.Error); err != nil {
			t.Fatal(err)
		}
	}
	// What the version 3 indexer did.
	if _, err := db.Exec(`INSERT INTO history_fts (rowid, local_id, remote_id, error, tags)
		SELECT id, local_id, remote_id, error, 'op' || hex(operation) || ' oc' || hex(outcome) || ' sy' || hex(system) FROM history`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE history_fts_progress SET indexed_through = 400`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := open(ctx, path, options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := indexedThrough(t, s); got != 0 {
		t.Fatalf("after the upgrade the index is complete through %d, want 0 (start over)", got)
	}
	fields := make([][4][]string, len(entries))
	for i, e := range entries {
		fields[i] = entryFields(e)
	}
	filters := []HistoryFilter{
		{Text: "contact", Operation: OpMessagePush, Outcome: OutcomeOK, Limit: 100},
		{Text: "msg", Operation: OpContactUpsert, Limit: 100},
		{Text: "rate", Limit: 100},
		{Since: start.Add(5 * time.Second), Until: start.Add(10 * time.Second), Operation: OpMessagePush, Limit: 100},
	}
	check := func(stage string) {
		for _, f := range filters {
			page, err := s.HistoryPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(page), referencePage(entries, fields, f); !slices.Equal(got, want) {
				t.Errorf("%s, %+v:\n got %v\nwant %v", stage, f, got, want)
			}
		}
	}
	check("before reindexing")
	indexAll(t, s)
	check("reindexed")
	var fts, scoped int
	if err := s.r.QueryRow(`SELECT (SELECT count(*) FROM history_fts), (SELECT count(*) FROM history_scoped_fts)`).Scan(&fts, &scoped); err != nil || fts != 400 || scoped != 400 {
		t.Errorf("indexes hold %d and %d rows (%v), want 400 each: rows indexed twice or lost", fts, scoped, err)
	}
}
