package activedemand_test

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/internal/apierr"
	"parley/sync/internal/sandboxkit"
	"parley/sync/internal/secret"
)

// Keys with characters that JSON, HTML and URLs escape. The fragments
// around them are what a leak would show, whatever the escaping.
const (
	escAppKey   = `appPRE<&>"'\/+ appSUF`
	escAPIKey   = `acctPRE<&>"'\/+ acctSUF`
	escWrongKey = `wrongPRE<&>"'\/+ wrongSUF`
)

var escFragments = []string{"appPRE", "appSUF", "acctPRE", "acctSUF", "wrongPRE", "wrongSUF"}

// leakIn returns the first key fragment in s, or "".
func leakIn(s string) string {
	for _, f := range escFragments {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

// checkNoLeak looks for a key in every rendering of err and of each error
// its chain hands out, in the logs and in the observer's reports.
func checkNoLeak(t *testing.T, err error, logs string, calls []activedemand.CallInfo) {
	t.Helper()
	check := func(what, text string) {
		t.Helper()
		if f := leakIn(text); f != "" {
			t.Errorf("%s shows a key (%s): %s", what, f, text)
		}
	}
	for i, e := range secret.Chain(err) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			check(fmt.Sprintf("chain[%d] %s", i, verb), fmt.Sprintf(verb, e))
		}
		var sl bytes.Buffer
		slog.New(slog.NewJSONHandler(&sl, nil)).Info("failed", "err", e)
		slog.New(slog.NewTextHandler(&sl, nil)).Info("failed", "err", e)
		check(fmt.Sprintf("chain[%d] slog", i), sl.String())
	}
	var apiErr *activedemand.APIError
	if errors.As(err, &apiErr) {
		check("APIError.Body", apiErr.Body)
	}
	check("debug log", logs)
	if len(calls) == 0 {
		t.Error("the observer got no report to check")
	}
	for _, ci := range calls {
		check("observer", fmt.Sprintf("%+v %v", ci, ci.Err))
	}
}

// TestEscapedKeysScrubbed: keys the server echoes JSON-, HTML- or
// URL-escaped are scrubbed from the error, the debug log and the
// observer, and errors.Unwrap hands out no unscrubbed error (issue 9
// item 2).
func TestEscapedKeysScrubbed(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime, AppKey: escAppKey, APIKey: escAPIKey})
	var logs bytes.Buffer
	var obs observer
	cfg := s.ClientConfig()
	cfg.APIKey = escWrongKey
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Observer = obs.observe
	cfg.Retry = fastRetry
	c, err := activedemand.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A 503 echoing the keys HTML-, query- and path-escaped (which the
	// sandbox then JSON-encodes, a second layer) makes the client log a
	// retry with that text; the sandbox then echoes the wrong key
	// JSON-escaped (\u003c\u0026\u003e).
	body := "busy " + html.EscapeString(escAppKey) + " " + html.EscapeString(escWrongKey) +
		" " + url.QueryEscape(escWrongKey) + " " + url.PathEscape(escAppKey)
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteContactsList, Kind: sandboxkit.FaultStatus, Status: 503, Body: body}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListContacts(t.Context(), "")
	if !errors.Is(err, activedemand.ErrBadKey) || !errors.Is(err, apierr.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrBadKey, a kind of the shared ErrUnauthorized", err)
	}
	if !strings.Contains(logs.String(), "activedemand retry") {
		t.Fatalf("expected a retry log line, got %s", logs.String())
	}
	checkNoLeak(t, err, logs.String(), obs.calls)
}

// TestRedirectURLKeyScrubbed: an error from net/http names the request
// URL; a redirect whose query carries the key (escaped) must not bring it
// into the error or out through errors.Unwrap.
func TestRedirectURLKeyScrubbed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now: following the redirect fails
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get(activedemand.HeaderAPIKey)
		http.Redirect(w, r, "http://"+dead+"/elsewhere?key="+url.QueryEscape(k)+"&p="+url.PathEscape(k), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	var obs observer
	c, err := activedemand.New(activedemand.Config{
		BaseURL: srv.URL + "/v1/", AppKey: escAppKey, APIKey: escAPIKey, RateLimit: rate.Inf, Retry: fastRetry,
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: obs.observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListContacts(t.Context(), "")
	if err == nil {
		t.Fatal("a redirect to a closed port succeeded")
	}
	var ue *url.Error
	if errors.As(err, &ue) && leakIn(ue.URL) != "" {
		t.Errorf("errors.As hands out the *url.Error with the key: %s", ue.URL)
	}
	checkNoLeak(t, err, logs.String(), obs.calls)
}
