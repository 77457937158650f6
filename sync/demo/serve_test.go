package demo

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/sync/activedemand"
)

// lockedBuffer is written by Serve's goroutine while the test reads it.
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

func writeRoutes(t *testing.T, dir, body string) string {
	t.Helper()
	file := filepath.Join(dir, activedemand.RoutesFile)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestServeUntilCancelled is `parley sandbox`: it describes both sandboxes,
// they answer, and cancelling (what Ctrl+C does) stops them.
func TestServeUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	file := writeRoutes(t, dir, "[routes.\"messages.list\"]\npath = \"v2/messages.json\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, &out, dir, Options{ActivityEvery: -1}) }()

	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Serving until interrupted"); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("Serve returned early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Serve printed nothing useful in 30 s:\n%s", out.String())
		}
	}
	printed := out.String()
	if !strings.Contains(printed, file) {
		t.Errorf("the output does not name the routes file %s:\n%s", file, printed)
	}
	ghl := regexp.MustCompile(`HighLevel sandbox\s+(http://\S+)`).FindStringSubmatch(printed)
	if ghl == nil {
		t.Fatalf("no HighLevel address in:\n%s", printed)
	}
	resp, err := http.Get(ghl[1] + "/")
	if err != nil {
		t.Fatalf("the HighLevel sandbox does not answer: %v", err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10 s after cancel")
	}
	if resp, err := http.Get(ghl[1] + "/"); err == nil {
		resp.Body.Close()
		t.Error("the HighLevel sandbox still answers after Serve returned")
	}
}

func TestServeRefusesABrokenRoutesFile(t *testing.T) {
	dir := t.TempDir()
	file := writeRoutes(t, dir, "[routes.\"messages.lst\"]\npath = \"x.json\"\n")
	var out bytes.Buffer
	err := Serve(context.Background(), &out, dir, Options{ActivityEvery: -1})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Serve = %v, want an error naming %s", err, file)
	}
}

func TestStartBackground(t *testing.T) {
	b := StartBackground(t.TempDir(), Options{ActivityEvery: -1})
	sb, err := b.Wait()
	if err != nil {
		t.Fatal(err)
	}
	url := sb.AD.URL()
	if again, _ := b.Wait(); again != sb {
		t.Error("a second Wait returned other sandboxes")
	}
	if ad, ghl, err := b.URLs(); err != nil || ad != url || ghl != sb.GHL.URL() {
		t.Errorf("URLs = %q, %q, %v; want %q, %q", ad, ghl, err, url, sb.GHL.URL())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Error("the ActiveDEMAND sandbox still answers after Close")
	}

	dir := t.TempDir()
	file := writeRoutes(t, dir, "[routes.\"messages.lst\"]\npath = \"x.json\"\n")
	b = StartBackground(dir, Options{ActivityEvery: -1})
	if _, err := b.Wait(); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Wait = %v, want an error naming %s", err, file)
	}
	if _, _, err := b.URLs(); err == nil {
		t.Error("URLs after a failed start returned no error")
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close after a failed start = %v", err)
	}
}
