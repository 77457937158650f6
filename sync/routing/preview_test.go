package routing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/transcript"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// putTranscript writes sentences as the media flow does: a file under
// dataDir/media and its index row.
func putTranscript(t testing.TB, st *store.Store, dataDir, contactID, messageID string, at time.Time, ss []transcript.Sentence) {
	t.Helper()
	var b bytes.Buffer
	if err := transcript.Encode(&b, ss); err != nil {
		t.Fatal(err)
	}
	rel := "media/" + messageID + ".transcript.json"
	if err := os.MkdirAll(filepath.Join(dataDir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, filepath.FromSlash(rel)), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	if _, err := st.AddMedia(context.Background(), store.MediaFile{MessageID: messageID, ContactID: contactID, Kind: store.MediaTranscript,
		Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(b.Len()), ContentType: transcript.ContentType, FetchedAt: at}); err != nil {
		t.Fatal(err)
	}
}

func TestPreview(t *testing.T) {
	ctx := context.Background()
	st, dir := openStore(t), t.TempDir()
	t0 := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	putTranscript(t, st, dir, "c1", "m1", t0, say("hello", "I need a refund"))
	putTranscript(t, st, dir, "c2", "m2", t0.Add(time.Minute), say("all good, thanks"))
	putTranscript(t, st, dir, "c3", "m3", t0.Add(2*time.Minute), say("refund please", "yes a REFUND"))
	putTranscript(t, st, dir, "c4", "gone", t0.Add(3*time.Minute), say("refund"))
	os.Remove(filepath.Join(dir, "media", "gone.transcript.json"))

	r := Rule{Name: "Refunds", Conditions: Conditions{Keywords: []string{"refund"}, Direction: DirectionOutbound}, Actions: Actions{TeamTag: "billing"}}
	res, err := Preview(ctx, st, dir, r, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range res.Matches {
		got = append(got, fmt.Sprintf("%s/%s@%s:%s", m.ContactID, m.MessageID, Clock(m.Hit.At), m.Matched))
	}
	if want := "c3/m3@0:00:refund,c3/m3@0:10:REFUND,c1/m1@0:10:refund"; strings.Join(got, ",") != want {
		t.Fatalf("matches %s, want %s", strings.Join(got, ","), want)
	}
	if res.Calls != 3 || res.Matched != 2 || len(res.Skipped) != 1 || !errors.Is(res.Skipped[0], ErrNoTranscript) {
		t.Fatalf("calls %d matched %d skipped %v", res.Calls, res.Matched, res.Skipped)
	}
	if !res.Matches[0].At.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("At %s", res.Matches[0].At)
	}
	// Nothing was stored or done: a preview is read-only.
	if rs, _ := st.Rules(ctx); len(rs) != 0 {
		t.Fatal("preview saved the rule")
	}
	// Only the n most recent are read.
	if res, _ := Preview(ctx, st, dir, r, 2); res.Calls != 1 || len(res.Skipped) != 1 {
		t.Fatalf("n=2: %+v", res)
	}
	if _, err := Preview(ctx, st, dir, Rule{Name: "bad"}, 10); !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("invalid rule: %v", err)
	}
}

func TestReadTranscriptTampered(t *testing.T) {
	st, dir := openStore(t), t.TempDir()
	putTranscript(t, st, dir, "c1", "m1", time.Now(), say("hello"))
	f := filepath.Join(dir, "media", "m1.transcript.json")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte("hello"), []byte("hellO"), 1), 0o644)
	files, _ := st.RecentTranscripts(context.Background(), 1)
	_, err := ReadTranscript(dir, files[0])
	if !errors.Is(err, transcript.ErrInvalid) || !strings.Contains(err.Error(), "fetch the call's media again") {
		t.Fatalf("got %v", err)
	}
}

func TestSaveAndLoadEnabled(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := Save(ctx, st, Rule{Name: "bad", Actions: Actions{TeamTag: "x"}}); !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("invalid rule saved: %v", err)
	}
	a, err := Save(ctx, st, Rule{Name: "A", Enabled: true, Conditions: Conditions{Keywords: []string{"a"}}, Actions: Actions{TeamTag: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Save(ctx, st, Rule{Name: "B", Conditions: Conditions{Keywords: []string{"b"}}, Actions: Actions{TeamTag: "x"}}); err != nil {
		t.Fatal(err)
	}
	// A rule stored by another build that no longer validates.
	if _, err := st.SaveRule(ctx, store.RuleRecord{Name: "C", Enabled: true, Body: []byte(`{"conditions":{"regex":"("},"actions":{"team_tag":"x"}}`)}); err != nil {
		t.Fatal(err)
	}
	rules, bad, err := LoadEnabled(ctx, st)
	if err != nil || len(rules) != 1 || rules[0].ID != a || rules[0].Name != "A" || len(bad) != 1 || !strings.Contains(bad[0].Error(), `"C" is skipped`) {
		t.Fatalf("LoadEnabled: %v %v %v", rules, bad, err)
	}
	all, err := Load(ctx, st)
	if err != nil || len(all) != 3 || all[1].Name != "B" || all[1].Conditions.Keywords[0] != "b" {
		t.Fatalf("Load: %+v %v", all, err)
	}
}

// TestPreviewerCaches: a second preview reads no file; a file fetched again
// (new checksum) is read anew.
func TestPreviewerCaches(t *testing.T) {
	ctx := context.Background()
	st, dir := openStore(t), t.TempDir()
	putTranscript(t, st, dir, "c1", "m1", time.Now(), say("a refund"))
	p := &Previewer{Store: st, DataDir: dir}
	r := Rule{Name: "Refunds", Conditions: Conditions{Keywords: []string{"refund"}}, Actions: Actions{TeamTag: "billing"}}
	if res, err := p.Preview(ctx, r, 10); err != nil || len(res.Matches) != 1 {
		t.Fatalf("first: %+v %v", res, err)
	}
	os.Remove(filepath.Join(dir, "media", "m1.transcript.json"))
	if res, err := p.Preview(ctx, r, 10); err != nil || len(res.Matches) != 1 || len(res.Skipped) != 0 {
		t.Fatalf("from the cache: %+v %v", res, err)
	}
	putTranscript(t, st, dir, "c1", "m1", time.Now(), say("no match now"))
	if res, err := p.Preview(ctx, r, 10); err != nil || len(res.Matches) != 0 || res.Calls != 1 {
		t.Fatalf("after a new fetch: %+v %v", res, err)
	}
}

// An index row is data: one naming a path outside the data folder (a
// damaged or hand-edited database) must not make Parley read that file.
func TestReadTranscriptStaysInTheDataFolder(t *testing.T) {
	st, parent := openStore(t), t.TempDir()
	dir, outside := filepath.Join(parent, "data"), filepath.Join(parent, "elsewhere")
	putTranscript(t, st, outside, "c1", "m1", time.Now(), say("hello"))
	files, _ := st.RecentTranscripts(context.Background(), 1)
	f := files[0]
	f.Path = "../elsewhere/" + f.Path
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if ss, err := ReadTranscript(dir, f); err == nil {
		t.Fatalf("read %d sentences from outside the data folder", len(ss))
	}
}
