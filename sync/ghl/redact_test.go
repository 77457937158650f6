package ghl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"parley/sync/internal/sandboxkit"
)

const (
	secretValue  = "sEcReT-client-0001"
	accessValue  = "aCcEsS-token-0002"
	refreshValue = "rEfReSh-token-0003"
	privateValue = "pit-PrIvAtE-0004"
)

// leaks reports which secret s contains.
func leaks(s string) string {
	for _, v := range []string{secretValue, accessValue, refreshValue, privateValue} {
		if strings.Contains(s, v) {
			return v
		}
	}
	return ""
}

// formats renders v every way a log line or an error could.
func formats(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("x", "v", v)
		out[name] = buf.String()
	}
	if b, err := json.Marshal(v); err == nil {
		out["json"] = string(b)
	}
	return out
}

func TestRedaction(t *testing.T) {
	tok := &oauth2.Token{AccessToken: accessValue, RefreshToken: refreshValue, Expiry: time.Now().Add(time.Hour)}
	app := &OAuthApp{ClientID: "cid", ClientSecret: secretValue}
	cfg := Config{LocationID: "loc", OAuth: app, Token: tok, SaveToken: func(*oauth2.Token) error { return nil }}
	oc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := New(Config{LocationID: "loc", PrivateToken: privateValue})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"Secret":         Secret(secretValue),
		"Config":         cfg,
		"*Config":        &cfg,
		"private Config": Config{LocationID: "loc", PrivateToken: privateValue},
		"OAuthApp":       app,
		"oauth Client":   oc,
		"private Client": pc,
		"Installation":   &Installation{Token: tok, LocationID: "loc"},
		"TokenNotSaved":  &TokenNotSavedError{Err: errors.New("keyring locked")},
		"struct holding": struct{ S Secret }{Secret(secretValue)},
	}
	for name, v := range values {
		for how, s := range formats(v) {
			if leak := leaks(s); leak != "" {
				t.Errorf("%s with %s shows %s: %s", name, how, leak, s)
			}
		}
	}
	if got := Secret(secretValue).Reveal(); got != secretValue {
		t.Errorf("Reveal = %q", got)
	}
	if Secret("").String() != "" || Secret("x").String() != "[redacted]" {
		t.Error("Secret.String")
	}
}

// TestNoTokenInLogsOrErrors: the client's own log lines and errors around a
// refresh carry no token.
func TestNoTokenInLogsOrErrors(t *testing.T) {
	srv := sandbox(t)
	var logs bytes.Buffer
	clk := newClock()
	kr := &keyring{fail: 1}
	issued := srv.IssueToken()
	c := oauthClient(t, srv, clk, kr, issued, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	srv.ExpireAccessTokens()
	_, err1 := c.GetConversation(ctxT(t), srv.Conversations()[0].ID) // refresh, save fails
	_, err2 := c.GetConversation(ctxT(t), srv.Conversations()[0].ID) // saved now
	if err1 == nil || err2 != nil {
		t.Fatalf("errors %v, %v", err1, err2)
	}
	if logs.Len() == 0 {
		t.Fatal("no log lines")
	}
	secrets := []string{issued.AccessToken, issued.RefreshToken, kr.saved[0].AccessToken, kr.saved[0].RefreshToken, demoClientSecret}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) || strings.Contains(err1.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err1), s) {
			t.Errorf("a token or the client secret appears in a log line or error:\n%s\n%v", logs.String(), err1)
		}
	}
	// A rejected exchange's error does not carry the secret either.
	bad := demoApp(srv)
	bad.ClientSecret = Secret(secretValue)
	_, err := bad.Exchange(ctxT(t), srv.AuthorizationCode())
	if err == nil || leaks(err.Error()) != "" || leaks(fmt.Sprintf("%#v", err)) != "" {
		t.Errorf("exchange error %v", err)
	}
}

// TestObserverReports: one report per logical call, after its retries,
// with the bytes of every attempt.
func TestObserverReports(t *testing.T) {
	srv := sandbox(t)
	obs := &calls{}
	c := client(t, srv, func(cfg *Config) { cfg.Observer = obs.observe })
	f := arrange(t, srv)
	if err := srv.InjectFault(sandboxkit.Fault{Route: "POST /conversations/messages/inbound", Kind: sandboxkit.FaultStatus, Status: http.StatusBadGateway}); err != nil {
		t.Fatal(err)
	}
	req := RecordRequest{Type: ChannelSMS, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: f.provider, AltID: "ad-obs", Direction: Inbound, Message: "hello"}
	if _, err := c.RecordMessage(ctxT(t), req); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetConversation(ctxT(t), "does-not-exist")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	all := obs.all()
	if len(all) != 3 {
		t.Fatalf("%d reports, want 3 (the record, its altId lookup, the failed read): %+v", len(all), all)
	}
	lookup, rec, miss := all[0], all[1], all[2]
	if lookup.Op != "ghl: list messages" || lookup.Attempts != 1 || lookup.Status != 200 {
		t.Errorf("lookup report %+v", lookup)
	}
	body, _ := jsonBody("", recordBody{Type: ChannelSMS, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: f.provider, AltID: "ad-obs", Direction: Inbound, Message: "hello"})
	if rec.Op != "ghl: record message" || rec.Route != "POST /conversations/messages/inbound" || rec.Attempts != 2 ||
		rec.Status != 200 || rec.Err != nil || rec.BytesSent != 2*int64(len(body)) || rec.BytesReceived == 0 || rec.Latency <= 0 {
		t.Errorf("record report %+v, want 2 attempts of %d bytes ending in 200", rec, len(body))
	}
	if miss.Op != "ghl: get conversation" || miss.Status != 404 || !errors.Is(miss.Err, ErrNotFound) || miss.Attempts != 1 {
		t.Errorf("failed read report %+v", miss)
	}
}
