package activedemand

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestMediaDialTimeCheck checks the address actually dialled, not only the
// one looked up first: a host that answers the check with a public address
// and the connection with a private one (DNS rebinding) is refused, and so
// is a redirect to a refused address.
func TestMediaDialTimeCheck(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "internal secrets")
	}))
	defer internal.Close()
	iu, _ := url.Parse(internal.URL)
	c, err := New(Config{BaseURL: "http://203.0.113.10/v1/", APIKey: "k", RateLimit: rate.Inf, Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The first answer for localhost is public; the dialer's own lookup
	// then finds loopback.
	rebinding := mediaGuard{lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = c.downloadMedia(ctx, "http://localhost:"+iu.Port()+"/x", io.Discard, rebinding)
	if !errors.Is(err, ErrMediaBlocked) {
		t.Errorf("rebinding: err = %v, want ErrMediaBlocked", err)
	}

	// A public-looking file host that redirects to a private address.
	var fileHits atomic.Int64
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fileHits.Add(1)
		http.Redirect(w, r, "http://127.0.0.1:"+iu.Port()+"/x", http.StatusFound)
	}))
	defer files.Close()
	fu, _ := url.Parse(files.URL)
	filesPort := fu.Port()
	onlyFiles := mediaGuard{
		lookup: rebinding.lookup,
		// Everything on loopback is refused except the file host's port,
		// standing in for a public host.
		blocked: func(ap netip.AddrPort) bool { return internalAddr(ap.Addr()) && ap.Port() != mustPort(t, filesPort) },
	}
	_, err = c.downloadMedia(ctx, "http://localhost:"+filesPort+"/file.pdf", io.Discard, onlyFiles)
	if !errors.Is(err, ErrMediaBlocked) {
		t.Errorf("redirect: err = %v, want ErrMediaBlocked", err)
	}
	if fileHits.Load() != 1 {
		t.Errorf("file host reached %d times, want 1", fileHits.Load())
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}
}

func mustPort(t *testing.T, s string) uint16 {
	t.Helper()
	ap, err := netip.ParseAddrPort("127.0.0.1:" + s)
	if err != nil {
		t.Fatal(err)
	}
	return ap.Port()
}
