// Package connect connects Parley to the admin's accounts without a
// terminal: the HighLevel OAuth flow through the system browser and a
// loopback listener, credentials saved to and removed from the keyring,
// test calls through the real clients, and how old each credential is.
//
// The one thing a reader must not miss: nothing secret ever leaves the
// keyring for anywhere else. The client id, the provider id, the location,
// the granted scopes and when each credential was saved are not secrets and
// go to Settings; keys, the client secret, tokens and the webhook secret go
// to the Vault only.
package connect

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/browser"

	"parley/sync/ghl"
)

// DefaultPort is the loopback port HighLevel redirects to. HighLevel matches
// redirect URIs exactly as registered in the marketplace app, so the port
// cannot be picked at random. 27463 sits below every desktop OS's ephemeral
// range (Linux 32768–60999, Windows and macOS 49152–65535), so an outgoing
// connection never happens to hold it, and no well-known service uses it.
const DefaultPort = 27463

// DefaultTimeout is how long the listener waits for the browser to come back.
const DefaultTimeout = 5 * time.Minute

// CallbackPath is the redirect URI's path on the loopback listener.
const CallbackPath = "/oauth/callback"

// Scopes Parley asks HighLevel for. Read-only lets Parley look; read and
// write adds what the sync's flows need: recording and delivering messages,
// creating conversations and upserting contacts (the .write scopes of the
// operations Parley calls, from the specs' security sections).
var (
	ReadOnlyScopes  = []string{"conversations.readonly", "conversations/message.readonly", "contacts.readonly"}
	ReadWriteScopes = append(append([]string(nil), ReadOnlyScopes...), "conversations.write", "conversations/message.write", "contacts.write")
)

// RedirectURL is the redirect URI for a port, as the admin registers it in
// the marketplace app.
func RedirectURL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, CallbackPath)
}

// Errors of the OAuth flow that callers branch on; each comes wrapped with
// what to do next.
var (
	ErrDenied        = errors.New("access was denied on HighLevel's page")
	ErrStateMismatch = errors.New("the sign-in answer did not match the request Parley sent")
	ErrTimeout       = errors.New("nobody finished signing in")
	ErrPortBusy      = errors.New("the redirect port is in use")
)

// OAuthFlow is one way through HighLevel's consent page: it listens on
// 127.0.0.1, opens the browser, and exchanges the code that comes back.
type OAuthFlow struct {
	// App is the marketplace app (client id and secret, API base, consent
	// page). Its RedirectURL and Scopes are set by Run.
	App ghl.OAuthApp
	// Port is the loopback port (default DefaultPort).
	Port int
	// Timeout bounds the wait for the browser (default DefaultTimeout).
	Timeout time.Duration
	// Open shows a URL in the system browser (default pkg/browser: a
	// consent page must open in a browser, not in whatever handles URLs).
	Open func(url string) error
}

func (f *OAuthFlow) port() int {
	if f.Port == 0 {
		return DefaultPort
	}
	return f.Port
}

// callback is what the browser brought back.
type callback struct {
	code string
	err  error
	// reply is told the outcome, so the tab says whether it worked.
	reply chan error
}

// Run sends the user to the consent page asking for scopes and returns the
// installation once the redirect's code is exchanged. It returns when the
// flow succeeds, fails, times out or ctx ends; the listener is closed then.
func (f *OAuthFlow) Run(ctx context.Context, scopes []string) (*ghl.Installation, error) {
	port := f.port()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: another program is listening on 127.0.0.1:%d, where HighLevel sends the browser back; close that program, or choose another port in Connections and register its redirect URI in the HighLevel app",
				ErrPortBusy, port)
		}
		return nil, fmt.Errorf("listen for HighLevel's answer on 127.0.0.1:%d: %w", port, err)
	}
	state, err := randomState()
	if err != nil {
		ln.Close() // #nosec G104 -- already failing with err; the listener is unused
		return nil, err
	}
	app := f.App
	app.RedirectURL = RedirectURL(port)
	app.Scopes = scopes

	got := make(chan callback)
	// ended tells a late tab that Run is no longer listening for it.
	ended := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc(CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if !first {
			donePage(w, http.StatusGone, "This sign-in link was already used. Go back to Parley and click Connect again.")
			return
		}
		cb := callback{reply: make(chan error, 1)}
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			cb.err = fmt.Errorf("%w: it may be a stale tab or someone else's link; click Connect in Parley again", ErrStateMismatch)
		case q.Get("error") == "access_denied":
			cb.err = fmt.Errorf("%w: click Connect again and choose Allow to let Parley reach the location", ErrDenied)
		case q.Get("error") != "":
			cb.err = fmt.Errorf("HighLevel refused the sign-in (%s): check the app's settings in the HighLevel marketplace, then click Connect again", q.Get("error"))
		case q.Get("code") == "":
			cb.err = errors.New("HighLevel came back without a code: click Connect again")
		default:
			cb.code = q.Get("code")
		}
		select {
		case got <- cb:
		case <-ended:
			donePage(w, http.StatusGone, "This sign-in has ended. Go back to Parley and click Connect again.")
			return
		}
		if err := <-cb.reply; err != nil {
			donePage(w, http.StatusBadRequest, "Parley could not connect: "+err.Error())
			return
		}
		donePage(w, http.StatusOK, "Parley is connected to HighLevel. You can close this tab.")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		close(ended)
		// Shutdown waits for the tab's answer to be written.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()

	open := f.Open
	if open == nil {
		open = browser.OpenURL
	}
	authURL := app.AuthCodeURL(state)
	if err := open(authURL); err != nil {
		return nil, fmt.Errorf("open the browser: %w; open this address in a browser yourself: %s", err, authURL)
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, fmt.Errorf("%w within %s: click Connect again and finish on HighLevel's page", ErrTimeout, timeout)
	case cb := <-got:
		if cb.err != nil {
			cb.reply <- cb.err
			return nil, cb.err
		}
		inst, err := app.Exchange(ctx, cb.code)
		cb.reply <- err
		return inst, err
	}
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make the sign-in state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var donePageTmpl = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Parley</title></head>
<body><h1>Parley</h1><p id="result">{{.}}</p></body></html>
`))

func donePage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = donePageTmpl.Execute(w, msg)
}
