// Package browsertest starts a real headless Chromium for the tests of the
// OAuth flow, in the connect package and in the console alike.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium starts headless Chromium for one test and returns the context
// to drive it with; it stops when the test ends. Without Chromium the test
// is skipped, except in CI, where a missing browser is a broken setup.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: scripts/deps.sh test installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium, or scripts/deps.sh test); skipping the browser test of the OAuth flow")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Flag("headless", "new"), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser and must not carry a timeout,
	// which would end the browser with it; later ones get theirs per step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
