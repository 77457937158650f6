package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestStore opens a fresh database in a temporary directory. The search
// indexer is manual so tests decide what is indexed.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := open(context.Background(), filepath.Join(t.TempDir(), DatabaseFile), options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// fakeClock is a settable clock for Store.now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newClockStore(t testing.TB) (*Store, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, err := open(context.Background(), filepath.Join(t.TempDir(), DatabaseFile), options{manualIndex: true, now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

// indexAll brings the search index fully up to date.
func indexAll(t testing.TB, s *Store) {
	t.Helper()
	for {
		more, err := s.indexHistory(context.Background(), 50000)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
}

// History generator with the shape of real sync traffic: eight operations
// with skewed frequencies, mostly "ok", a few percent failures whose error
// texts follow a long tail, AD ids like "ad-msg-123456" and 20-character GHL
// ids.

var genOps = []struct {
	op     Operation
	sys    System
	prefix string
	weight int
}{
	{OpMessagePush, SystemGHL, "ad-msg-", 30},
	{OpInboundRecord, SystemAD, "ad-msg-", 20},
	{OpContactUpsert, SystemGHL, "ad-contact-", 18},
	{OpConversationUpsert, SystemGHL, "ad-conv-", 10},
	{OpStatusUpdate, SystemGHL, "ad-msg-", 10},
	{OpMediaFetch, SystemGHL, "ad-msg-", 6},
	{OpMediaUpload, SystemAD, "ad-msg-", 4},
	{OpContactLookup, SystemGHL, "ad-contact-", 2},
}

// genErrors are failure texts with weights out of 1000: "certificate ..."
// is the rare one (about 0.15 per mille of all rows).
var genErrors = []struct {
	text   string
	status int
	weight int
}{
	{"429 rate limited", 429, 300},
	{"timeout after 30s", 0, 200},
	{"validation: phone invalid", 422, 150},
	{"500 internal server error", 500, 100},
	{"connection reset by peer", 0, 80},
	{"401 unauthorized: token expired", 401, 60},
	{"404 contact not found", 404, 50},
	{"validation: email invalid", 422, 40},
	{"dns lookup failed: no such host", 0, 15},
	{"tls: certificate has expired", 0, 5},
}

const ghlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func genGHLID(r *rand.Rand) string {
	var b [20]byte
	for i := range b {
		b[i] = ghlAlphabet[r.IntN(len(ghlAlphabet))]
	}
	return string(b[:])
}

func pickError(r *rand.Rand) (string, int) {
	w := r.IntN(1000)
	for _, e := range genErrors {
		if w < e.weight {
			return e.text, e.status
		}
		w -= e.weight
	}
	return genErrors[0].text, genErrors[0].status
}

func genEntry(r *rand.Rand, at time.Time) HistoryEntry {
	w := r.IntN(100)
	o := genOps[0]
	for _, x := range genOps {
		if w < x.weight {
			o = x
			break
		}
		w -= x.weight
	}
	e := HistoryEntry{
		At:        at,
		Operation: o.op,
		System:    o.sys,
		LocalID:   fmt.Sprintf("%s%06d", o.prefix, r.IntN(1000000)),
		RemoteID:  genGHLID(r),
		Attempts:  1,
		Latency:   time.Duration(40+r.IntN(900)) * time.Millisecond,
	}
	switch p := r.IntN(1000); {
	case p < 30:
		e.Outcome = OutcomeFailed
		e.Error, e.HTTPStatus = pickError(r)
		e.Attempts = 1 + r.IntN(5)
	case p < 45:
		e.Outcome = OutcomeRetrying
		e.Error, e.HTTPStatus = pickError(r)
		e.Attempts = 1 + r.IntN(3)
	case p < 50:
		e.Outcome = OutcomeSkipped
		e.Error = "skipped: no phone number"
	default:
		e.Outcome = OutcomeOK
		e.HTTPStatus = 200
		if p < 52 {
			e.Error = "ok after retry: 429 rate limited"
		}
	}
	return e
}

// genHistory returns n entries, one every 50 ms from start.
func genHistory(seed uint64, n int, start time.Time) []HistoryEntry {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]HistoryEntry, n)
	for i := range out {
		out[i] = genEntry(r, start.Add(time.Duration(i)*50*time.Millisecond))
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	closeHistoryFixture()
	os.Exit(code)
}

func TestOpenCreatesDirectoriesAndDatabase(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", DatabaseFile)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() {
		t.Errorf("SchemaVersion = %d, %v", v, err)
	}
	if runtime.GOOS != "windows" {
		for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b")} {
			fi, err := os.Stat(d)
			if err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
			}
		}
	}
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v", fk, err)
	}
	// The read pool must refuse writes even if a bug sent one there.
	if _, err := s.r.Exec(`INSERT INTO cursors (stream, value, updated_at) VALUES ('x', 'y', 0)`); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestOpenRelativePathAndEmptyPath(t *testing.T) {
	t.Chdir(t.TempDir())
	s, err := Open(context.Background(), filepath.Join("data", DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !filepath.IsAbs(s.Path()) {
		t.Errorf("Path() = %q, want an absolute path", s.Path())
	}
	if _, err := Open(context.Background(), ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

// TestOpenPathsNeedingEscape: the path goes into an SQLite URI, where these
// characters mean something.
func TestOpenPathsNeedingEscape(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"with space", "what?", "hash#tag", "100%", "amp&eq=x"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			path := filepath.Join(dir, DatabaseFile)
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SaveCursor(ctx, "stream", "v1"); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 2 || entries[0].Name() != DatabaseFile || entries[1].Name() != DatabaseFile+".lock" {
				t.Fatalf("directory holds %v (%v), want just %s and its lock", entries, err, DatabaseFile)
			}
			s, err = Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, ok, err := s.Cursor(ctx, "stream"); err != nil || !ok || v != "v1" {
				t.Errorf("after reopen: %q %v %v", v, ok, err)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if exists(s.Path()+"-wal") || exists(s.Path()+"-shm") {
		t.Error("Close left WAL files behind")
	}
}

// TestBackgroundIndexer checks that, with the real Open, appended history
// ends up in the search index without anyone asking.
func TestBackgroundIndexer(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := indexChunk*2 + 10 // more than one chunk
	if err := s.AppendHistory(ctx, genHistory(5, n, time.Now())...); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for indexedThrough(t, s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("indexer reached %d of %d rows", indexedThrough(t, s), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConcurrentReadersDuringWrites runs readers against a database being
// written to, with the background indexer moving the watermark underneath
// them. Every read must succeed and see a consistent snapshot. Run with -race.
func TestConcurrentReadersDuringWrites(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Open(ctx, filepath.Join(t.TempDir(), DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const batches, perBatch = 30, 40
	entries := genHistory(11, batches*perBatch, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	done := make(chan struct{})
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		defer close(done)
		for i := range batches {
			if err := s.AppendHistory(ctx, entries[i*perBatch:(i+1)*perBatch]...); err != nil {
				errs <- err
				return
			}
			if err := s.LinkIDs(ctx, KindMessage, fmt.Sprintf("ad-%d", i), fmt.Sprintf("ghl-%d", i)); err != nil {
				errs <- err
				return
			}
			if i%5 == 0 { // let the indexer in now and then
				time.Sleep(indexQuiet + 50*time.Millisecond)
			}
		}
	}()
	filters := []HistoryFilter{{}, {Text: "rate"}, {Outcome: OutcomeFailed}, {Operation: OpMessagePush, Text: "ad msg"}}
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := filters[r]
			lastNewest := int64(0)
			for {
				select {
				case <-done:
					return
				default:
				}
				page, err := s.HistoryPage(ctx, f)
				if err != nil {
					errs <- err
					return
				}
				if err := checkPage(page, f, entries); err != nil {
					errs <- err
					return
				}
				if f == (HistoryFilter{}) && len(page) > 0 {
					// Unfiltered pages are whole batches: a snapshot
					// never shows part of a transaction.
					if page[0].ID%perBatch != 0 || page[0].ID < lastNewest {
						errs <- fmt.Errorf("newest id %d after %d: torn or stale snapshot", page[0].ID, lastNewest)
						return
					}
					lastNewest = page[0].ID
				}
				if _, _, err := s.GHLIDFor(ctx, KindMessage, "ad-0"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	page, err := s.HistoryPage(ctx, HistoryFilter{Limit: MaxHistoryLimit})
	if err != nil || len(page) != min(MaxHistoryLimit, len(entries)) {
		t.Errorf("after writes: %d rows, %v", len(page), err)
	}
}

// checkPage verifies a page against the entries it was drawn from (ids are
// index+1): newest first, contiguous in the reference order, all matching f.
func checkPage(page []HistoryEntry, f HistoryFilter, entries []HistoryEntry) error {
	for i, e := range page {
		want := entries[e.ID-1]
		want.ID = e.ID
		if e != want {
			return fmt.Errorf("row %d differs from what was written", e.ID)
		}
		if i > 0 && e.ID >= page[i-1].ID {
			return fmt.Errorf("page not newest first: %d after %d", e.ID, page[i-1].ID)
		}
		if (f.Operation != "" && e.Operation != f.Operation) || (f.Outcome != "" && e.Outcome != f.Outcome) ||
			!matchesEntry(e, parseSearch(f.Text)) {
			return fmt.Errorf("row %d does not match %+v", e.ID, f)
		}
	}
	return nil
}

func TestFileURI(t *testing.T) {
	tests := []struct {
		path string
		q    url.Values
		want string
	}{
		{"/home/u/parley.db", nil, "file:///home/u/parley.db"},
		{"/a b/x?y#z%.db", url.Values{"mode": {"ro"}}, "file:///a%20b/x%3Fy%23z%25.db?mode=ro"},
		{`C:\Users\u\parley.db`, nil, "file:///C:/Users/u/parley.db"},
	}
	for _, tt := range tests {
		if runtime.GOOS != "windows" && strings.Contains(tt.path, `\`) {
			continue // backslash is a file name character here
		}
		if got := fileURI(tt.path, tt.q); got != tt.want {
			t.Errorf("fileURI(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
