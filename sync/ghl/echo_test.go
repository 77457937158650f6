package ghl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"parley/sync/internal/apierr"
	"parley/sync/internal/secret"
)

// escaped are characters JSON, HTML and URLs escape; the credentials hold
// them between fragments that a leak would show, whatever the escaping.
const escaped = `<&>"'\/+`

var (
	echoPrivate = "pitPRE" + escaped + "pitSUF"
	echoAccess  = "accPRE" + escaped + "accSUF"
	echoAccess2 = "acc2PRE" + escaped + "acc2SUF"
	echoRefresh = "refPRE" + escaped + " refSUF"
	echoSecret  = "secPRE" + escaped + " secSUF"
	echoCode    = "codePRE" + escaped + " codeSUF"
)

var echoFragments = []string{"pitPRE", "pitSUF", "accPRE", "accSUF", "acc2PRE", "acc2SUF",
	"refPRE", "refSUF", "secPRE", "secSUF", "codePRE", "codeSUF"}

func echoLeak(s string) string {
	for _, f := range echoFragments {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

// echoEncodings are the ways a server may put a credential back into its
// answer.
var echoEncodings = map[string]func(string) string{
	"raw":  func(s string) string { return s },
	"json": func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) },
	// PHP's json_encode escapes the slash too.
	"json slashes": func(s string) string {
		b, _ := json.Marshal(s)
		return strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`)
	},
	"html":         html.EscapeString,
	"html numeric": strings.NewReplacer("<", "&#60;", "&", "&#x26;", ">", "&#X3E;", `"`, "&quot;", "'", "&apos;").Replace,
	"query":        url.QueryEscape,
	"path":         url.PathEscape,
}

// echoServer answers every API call 401 and every token request 400, each
// repeating the credentials it was sent, encoded with enc. When
// refreshOK is set, a refresh succeeds with echoAccess2.
func echoServer(t *testing.T, enc func(string) string, refreshOK bool) *httptest.Server {
	var refreshed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			_ = r.ParseForm()
			if refreshOK && r.PostForm.Get("grant_type") == "refresh_token" && !refreshed.Swap(true) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": echoAccess2, "refresh_token": echoRefresh,
					"token_type": "Bearer", "expires_in": 86399})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"bad grant %s / %s / %s / secret %s"}`,
				enc(r.PostForm.Get("refresh_token")), enc(r.PostForm.Get("code")), enc(r.PostForm.Get("client_id")), enc(r.PostForm.Get("client_secret")))
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"statusCode":401,"message":"Invalid JWT %s","msg":"%s"}`, enc(tok), enc(tok))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func checkEcho(t *testing.T, err error, logs string, reports []CallInfo) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for i, e := range secret.Chain(err) {
		for how, s := range formats(e) {
			if f := echoLeak(s); f != "" {
				t.Errorf("chain[%d] with %s shows %s: %s", i, how, f, s)
			}
		}
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if f := echoLeak(strings.Join(ae.Messages, " ")); f != "" {
			t.Errorf("APIError.Messages show %s: %q", f, ae.Messages)
		}
	}
	if f := echoLeak(logs); f != "" {
		t.Errorf("log shows %s: %s", f, logs)
	}
	if len(reports) == 0 {
		t.Error("the observer got no report to check")
	}
	for _, ci := range reports {
		if f := echoLeak(fmt.Sprintf("%+v %v", ci, ci.Err)); f != "" {
			t.Errorf("observer report shows %s: %+v", f, ci)
		}
	}
}

// TestEchoedCredentialsScrubbed: HighLevel answers that repeat a credential
// (the private token in a 401, the access token in a 401, the refresh token
// and client secret in a refresh's 400, the code and client secret in an
// exchange's 400), in any common escaping, keep it out of the error, its
// chain, the log and the observer (issue 9 items 1 and 2).
func TestEchoedCredentialsScrubbed(t *testing.T) {
	for name, enc := range echoEncodings {
		t.Run(name, func(t *testing.T) {
			setup := func(t *testing.T, refreshOK bool) (*httptest.Server, *bytes.Buffer, *calls, *slog.Logger) {
				var logs bytes.Buffer
				return echoServer(t, enc, refreshOK), &logs, &calls{},
					slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			t.Run("private token", func(t *testing.T) {
				srv, logs, obs, lg := setup(t, false)
				c, err := New(Config{BaseURL: srv.URL, LocationID: "loc", PrivateToken: Secret(echoPrivate), RateLimit: RateLimit{Disabled: true},
					Observer: obs.observe, Logger: lg, Retry: RetryPolicy{Sleep: (&sleeps{}).sleep}})
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.GetConversation(ctxT(t), "c1")
				if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, apierr.ErrUnauthorized) {
					t.Fatalf("err = %v, want ErrUnauthorized, a kind of the shared ErrUnauthorized", err)
				}
				checkEcho(t, err, logs.String(), obs.all())
			})
			oauthCfg := func(srv *httptest.Server, obs *calls, lg *slog.Logger, tok *oauth2.Token) Config {
				return Config{BaseURL: srv.URL, LocationID: "loc", RateLimit: RateLimit{Disabled: true},
					OAuth:     &OAuthApp{ClientID: "cid", ClientSecret: Secret(echoSecret), BaseURL: srv.URL, Observer: obs.observe},
					Token:     tok,
					SaveToken: func(*oauth2.Token) error { return nil }, Observer: obs.observe, Logger: lg,
					Retry: RetryPolicy{Sleep: (&sleeps{}).sleep}}
			}
			// A 401 repeats the access token, and then either the refresh's
			// 400 repeats the refresh token and the client secret, or the
			// refresh succeeds and the next 401 repeats the new token.
			for name, refreshOK := range map[string]bool{"access token then refresh": false, "refreshed access token": true} {
				t.Run(name, func(t *testing.T) {
					srv, logs, obs, lg := setup(t, refreshOK)
					c, err := New(oauthCfg(srv, obs, lg, &oauth2.Token{AccessToken: echoAccess, RefreshToken: echoRefresh, Expiry: time.Now().Add(time.Hour)}))
					if err != nil {
						t.Fatal(err)
					}
					_, err = c.GetConversation(ctxT(t), "c1")
					if !errors.Is(err, ErrUnauthorized) {
						t.Fatalf("err = %v, want ErrUnauthorized", err)
					}
					if !strings.Contains(logs.String(), "trying again") {
						t.Fatalf("no retry log line to check: %s", logs.String())
					}
					checkEcho(t, err, logs.String(), obs.all())
				})
			}
			t.Run("exchange", func(t *testing.T) {
				srv, logs, obs, _ := setup(t, false)
				app := &OAuthApp{ClientID: "cid", ClientSecret: Secret(echoSecret), BaseURL: srv.URL, Observer: obs.observe}
				_, err := app.Exchange(ctxT(t), echoCode)
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("err = %v, want ErrUnauthorized", err)
				}
				checkEcho(t, err, logs.String(), obs.all())
			})
		})
	}
}
