package activedemand_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/activedemand"
)

// zeros serves n zero bytes, without a Content-Length, and counts what it
// managed to write.
func zeros(n int64, wrote *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			m, err := w.Write(buf[:k])
			wrote.Add(int64(m))
			if err != nil {
				return
			}
			left -= int64(m)
		}
	})
}

func mediaClient(t *testing.T, base string, routes activedemand.Routes) *activedemand.Client {
	t.Helper()
	c, err := activedemand.New(activedemand.Config{BaseURL: base, APIKey: "k", AppKey: "a", Routes: routes, RateLimit: rate.Inf, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// limitedMedia is the default table with media.download capped at n bytes
// through the routes file.
func limitedMedia(t *testing.T, n int) activedemand.Routes {
	t.Helper()
	path := filepath.Join(t.TempDir(), "routes.toml")
	if err := os.WriteFile(path, fmt.Appendf(nil, "[routes.\"media.download\"]\nmax_bytes = %d\n", n), 0o600); err != nil {
		t.Fatal(err)
	}
	routes, err := activedemand.LoadRoutes(path)
	if err != nil {
		t.Fatal(err)
	}
	if rt, _ := routes.Route(activedemand.RouteMediaDownload); rt.MaxBytes != int64(n) {
		t.Fatalf("max_bytes %d read as %d", n, rt.MaxBytes)
	}
	return routes
}

// TestMediaSizeIsCapped checks that a download stops at the configured
// size (and at 100 MiB by default) with an error saying so, instead of
// reading whatever the host sends.
func TestMediaSizeIsCapped(t *testing.T) {
	t.Run("configured", func(t *testing.T) {
		var wrote atomic.Int64
		api := httptest.NewServer(zeros(1<<20, &wrote))
		defer api.Close()
		c := mediaClient(t, api.URL+"/v1/", limitedMedia(t, 1000))
		var buf bytes.Buffer
		n, err := c.DownloadMedia(t.Context(), "media/big.bin", &buf)
		if !errors.Is(err, activedemand.ErrMediaTooLarge) {
			t.Fatalf("err = %v, want ErrMediaTooLarge", err)
		}
		for _, w := range []string{"1000 bytes", "max_bytes", "media.download", "routes file"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error does not say %q: %v", w, err)
			}
		}
		if n != 1000 || buf.Len() != 1000 {
			t.Errorf("wrote %d bytes (reported %d), want the first 1000", buf.Len(), n)
		}
	})
	t.Run("default", func(t *testing.T) {
		var wrote atomic.Int64
		api := httptest.NewServer(zeros(activedemand.DefaultMaxMediaBytes+(8<<20), &wrote))
		defer api.Close()
		c := mediaClient(t, api.URL+"/v1/", activedemand.Routes{})
		var cw countWriter
		_, err := c.DownloadMedia(t.Context(), "media/huge.bin", &cw)
		if !errors.Is(err, activedemand.ErrMediaTooLarge) {
			t.Fatalf("err = %v, want ErrMediaTooLarge", err)
		}
		if cw.n != activedemand.DefaultMaxMediaBytes {
			t.Errorf("wrote %d bytes, want %d", cw.n, activedemand.DefaultMaxMediaBytes)
		}
	})
	t.Run("within the cap", func(t *testing.T) {
		var wrote atomic.Int64
		api := httptest.NewServer(zeros(1000, &wrote))
		defer api.Close()
		c := mediaClient(t, api.URL+"/v1/", limitedMedia(t, 1000))
		if n, err := c.DownloadMedia(t.Context(), "media/fits.bin", io.Discard); err != nil || n != 1000 {
			t.Errorf("download of exactly the cap: %d, %v", n, err)
		}
	})
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestMediaOffPrivateNetworks checks that a client whose base URL is a
// public address refuses media on loopback, private, link-local and other
// internal addresses, before connecting.
func TestMediaOffPrivateNetworks(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "internal secrets")
	}))
	defer internal.Close()
	port := internal.URL[strings.LastIndex(internal.URL, ":")+1:]
	// 203.0.113.0/24 is a documentation range: public, and never dialled
	// here because every URL below is refused first.
	c := mediaClient(t, "http://203.0.113.10/v1/", activedemand.Routes{})
	for _, u := range []string{
		internal.URL + "/x",
		"http://localhost:" + port + "/x",
		"http://[::1]:" + port + "/x",
		"http://[::ffff:127.0.0.1]:" + port + "/x",
		"http://0.0.0.0:" + port + "/x",
		"http://10.1.2.3/x",
		"http://172.16.0.1/x",
		"http://192.168.1.1/x",
		"http://169.254.169.254/latest/meta-data/",
		"http://100.64.0.1/x",
		"http://[fd00::1]/x",
		"http://[fe80::1]/x",
	} {
		t.Run(u, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			_, err := c.DownloadMedia(ctx, u, io.Discard)
			if !errors.Is(err, activedemand.ErrMediaBlocked) {
				t.Fatalf("err = %v, want ErrMediaBlocked", err)
			}
			if !strings.Contains(err.Error(), "private") {
				t.Errorf("error does not say why: %v", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}
}

// TestMediaStaysBelowTheAPIRoot checks that a media URL on the API host
// cannot take the keys outside the base URL's path, spelled plainly or
// percent-encoded.
func TestMediaStaysBelowTheAPIRoot(t *testing.T) {
	var mu sync.Mutex
	var keyed []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(activedemand.HeaderAPIKey) != "" {
			mu.Lock()
			keyed = append(keyed, r.URL.EscapedPath())
			mu.Unlock()
		}
		if r.URL.Path == "/v1/redirect" {
			http.Redirect(w, r, "/admin/export", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "bytes")
	}))
	defer api.Close()
	c := mediaClient(t, api.URL+"/v1/", activedemand.Routes{})
	for _, u := range []string{"../../admin", "media/../../admin", "%2e%2e/admin", "media/%2E%2E/%2e%2e/admin", "..%2fadmin", "/admin", api.URL + "/admin", "redirect"} {
		t.Run(u, func(t *testing.T) {
			_, err := c.DownloadMedia(t.Context(), u, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "outside the API root") {
				t.Errorf("err = %v, want the URL refused", err)
			}
		})
	}
	if _, err := c.DownloadMedia(t.Context(), "media/ok.pdf", io.Discard); err != nil {
		t.Errorf("media below the root: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range keyed {
		if !strings.HasPrefix(p, "/v1/") || strings.Contains(strings.ToLower(p), "%2e") {
			t.Errorf("the keys were sent to %s", p)
		}
	}
}

// TestMediaURLErrorScrubsKeys checks that a media URL the client refuses is
// not quoted back with a key in it, whatever part of the URL holds it.
func TestMediaURLErrorScrubsKeys(t *testing.T) {
	const key = "media-key-4f2a9c"
	c, err := activedemand.New(activedemand.Config{BaseURL: "http://127.0.0.1:1/v1/", APIKey: key, AppKey: "a", RateLimit: rate.Inf, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DownloadMedia(t.Context(), "ftp://files.example.com/x.png?token="+key, io.Discard)
	if err == nil {
		t.Fatal("an ftp URL was accepted")
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error quotes the key: %v", err)
	}
}
