package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/demo"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRunHeadlessWithAccountsSaysThereIsNothingYet: without an engine in
// the build, a run against real accounts reports and returns at once.
func TestRunHeadlessWithAccountsSaysThereIsNothingYet(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{dir, "schema version", "not part of this build", "connected accounts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not say %q:\n%s", want, out.String())
		}
	}
}

// TestRunHeadlessDemoRunsUntilCancelled: in demo mode the sandboxes serve
// until the context ends, which is how SIGINT and SIGTERM stop `parley sync`.
func TestRunHeadlessDemoRunsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, activedemand.RoutesFile)
	if err := os.WriteFile(routes, []byte("[routes.\"messages.list\"]\npath = \"v2/messages.json\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- RunHeadless(ctx, HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Demo: true, Sandbox: demo.Options{ActivityEvery: -1}})
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "until interrupted"); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("RunHeadless returned before being stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing useful printed in 30 s:\n%s", out.String())
		}
	}
	printed := out.String()
	if !strings.Contains(printed, routes) || !strings.Contains(printed, "demo sandboxes") {
		t.Errorf("output does not name the routes file and the demo:\n%s", printed)
	}
	ad := regexp.MustCompile(`ActiveDEMAND (http://\S+),`).FindStringSubmatch(printed)
	if ad == nil {
		t.Fatalf("no ActiveDEMAND address in:\n%s", printed)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunHeadless = %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after cancel")
	}
	if resp, err := http.Get(ad[1]); err == nil {
		resp.Body.Close()
		t.Error("the demo sandbox still answers after the run ended")
	}
}

type failingStore struct{}

func (failingStore) SchemaVersion(context.Context) (int, error) {
	return 0, errors.New("disk I/O error")
}

func TestRunHeadlessReportsStoreAndRoutesErrors(t *testing.T) {
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &bytes.Buffer{}, Store: failingStore{}, DataDir: t.TempDir()}); err == nil {
		t.Error("a store error was swallowed")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, activedemand.RoutesFile)
	if err := os.WriteFile(file, []byte("[routes.\"messages.lst\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := RunHeadless(context.Background(), HeadlessOptions{Out: &bytes.Buffer{}, Store: openStore(t, dir), DataDir: dir, Demo: true})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("RunHeadless = %v, want an error naming %s", err, file)
	}
}
