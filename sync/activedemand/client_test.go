package activedemand_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/internal/demobiz"
	"parley/sync/internal/sandboxkit"
)

// refTime fixes the demo business so tests are repeatable.
var refTime = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// fastRetry keeps retry waits short in tests.
var fastRetry = activedemand.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// newPair starts a sandbox and a client for it; mod adjusts the client
// config.
func newPair(t *testing.T, opts adtest.Options, mod func(*activedemand.Config)) (*adtest.Server, *activedemand.Client) {
	t.Helper()
	if opts.SeedTime.IsZero() {
		opts.SeedTime = refTime
	}
	s := adtest.NewTestServer(t, opts)
	cfg := s.ClientConfig()
	cfg.Retry = fastRetry
	if mod != nil {
		mod(&cfg)
	}
	c, err := activedemand.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// observer collects CallInfo reports.
type observer struct {
	mu    sync.Mutex
	calls []activedemand.CallInfo
}

func (o *observer) observe(ci activedemand.CallInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, ci)
}

func (o *observer) last() activedemand.CallInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.calls) == 0 {
		return activedemand.CallInfo{}
	}
	return o.calls[len(o.calls)-1]
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestKnownEndpoints(t *testing.T) {
	ctx := t.Context()
	s, c := newPair(t, adtest.Options{Seed: 1}, nil)

	contacts := collect(t, c.AllContacts(ctx))
	if want := s.Contacts(); !reflect.DeepEqual(contacts, want) {
		t.Fatalf("AllContacts: got %d contacts, want %d; first got %+v want %+v", len(contacts), len(want), contacts[0], want[0])
	}
	if len(contacts) != len(s.Business().Contacts) {
		t.Fatalf("got %d contacts, demo business has %d", len(contacts), len(s.Business().Contacts))
	}
	if contacts[0].Email == "" || contacts[0].Custom["custom_2"] == "" {
		t.Errorf("contact fields missing: %+v", contacts[0])
	}

	fields, err := c.ContactFields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]activedemand.ContactField{}
	for _, f := range fields {
		byKey[f.Key] = f
	}
	if f := byKey["custom_1"]; !f.Custom || f.Label != "Company" || f.Type != "text" {
		t.Errorf("custom_1 = %+v, want a custom text field labelled Company", f)
	}
	if f := byKey["emails.email_address"]; f.Custom || f.Type != "email" {
		t.Errorf("emails.email_address = %+v, want a standard email field", f)
	}
	if f := byKey["custom_5"]; f.Type != "password" {
		t.Errorf("custom_5 = %+v, want the password field", f)
	}

	lists, err := c.ContactLists(ctx)
	if err != nil || len(lists) != 3 || lists[0].Name != "Newsletter" {
		t.Fatalf("ContactLists = %+v, %v", lists, err)
	}
	before := len(s.ListMembers(lists[2].ID))
	if err := c.AddListMembers(ctx, lists[2].ID, contacts[0].ID, contacts[1].ID); err != nil {
		t.Fatal(err)
	}
	members := s.ListMembers(lists[2].ID)
	if !slices.Contains(members, contacts[0].ID) || !slices.Contains(members, contacts[1].ID) || len(members) < before {
		t.Errorf("list members after add = %v", members)
	}
	req := s.Requests(activedemand.RouteListAddMembers)[0]
	if req.Path != "/v1/contact_lists/add_members/"+string(lists[2].ID) || req.RawQuery != "contact_ids="+url.QueryEscape(string(contacts[0].ID)+","+string(contacts[1].ID)) {
		t.Errorf("add members request = %s ? %s", req.Path, req.RawQuery)
	}

	forms, err := c.Forms(ctx)
	if err != nil || len(forms) != 2 {
		t.Fatalf("Forms = %+v, %v", forms, err)
	}
	ff, err := c.FormFields(ctx, forms[0].ID)
	if err != nil || len(ff) != 5 || ff[2].Key != "email_address" || !ff[0].Required {
		t.Fatalf("FormFields = %+v, %v", ff, err)
	}
	if err := c.SubmitForm(ctx, forms[0].ID, map[string]string{"first_name": "Nina", "email_address": "nina@example.com", "message": "Hello"}); err != nil {
		t.Fatal(err)
	}
	subs := s.Submissions()
	if len(subs) != 1 || subs[0].FormID != forms[0].ID || subs[0].Values.Get("message") != "Hello" {
		t.Errorf("submissions = %+v", subs)
	}

	id, err := c.CreateContact(ctx, activedemand.NewContact{FirstName: "Ruth", LastName: "Ng", Email: "ruth.ng@example.com", Phone: "+19025559999",
		Fields: map[string]string{"custom_1": "Ng Studio"}})
	if err != nil {
		t.Fatal(err)
	}
	var created activedemand.Contact
	for _, ct := range s.Contacts() {
		if ct.ID == id {
			created = ct
		}
	}
	if created.Email != "ruth.ng@example.com" || created.Phone != "+19025559999" || created.Custom["custom_1"] != "Ng Studio" || created.FirstName != "Ruth" {
		t.Errorf("created contact = %+v", created)
	}
	creq := s.Requests(activedemand.RouteContactsCreate)[0]
	form, _ := url.ParseQuery(creq.Body)
	for k, v := range map[string]string{"contact[first_name]": "Ruth", "contact[emails.email_address]": "ruth.ng@example.com", "contact[phones.phone_number]": "+19025559999", "contact[custom_1]": "Ng Studio"} {
		if form.Get(k) != v {
			t.Errorf("create body %s = %q, want %q (body %s)", k, form.Get(k), v, creq.Body)
		}
	}
	if ct := creq.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("create Content-Type = %q", ct)
	}

	// Keys travel in headers on every call, never in a URL.
	for _, route := range []string{activedemand.RouteContactsList, activedemand.RouteContactsCreate, activedemand.RouteFormSubmit} {
		for _, r := range s.Requests(route) {
			if r.Header.Get(activedemand.HeaderAppKey) != adtest.DefaultAppKey || r.Header.Get(activedemand.HeaderAPIKey) != adtest.DefaultAPIKey {
				t.Errorf("%s: key headers missing", route)
			}
			if strings.Contains(r.RawQuery, "key") || strings.Contains(r.Path, adtest.DefaultAPIKey) {
				t.Errorf("%s: a key in the URL: %s?%s", route, r.Path, r.RawQuery)
			}
		}
	}
}

func TestAuthErrors(t *testing.T) {
	tests := []struct {
		name       string
		appKey     string
		apiKey     string
		want       error
		status     int
		wantInText []string
	}{
		{"wrong account key", adtest.DefaultAppKey, "wrong-key-1234", activedemand.ErrBadKey, 401, []string{"profile icon > Account Settings > API Key", "account API key"}},
		{"wrong application key", "wrong-app-5678", adtest.DefaultAPIKey, activedemand.ErrBadKey, 401, []string{"application key", "Account Settings > API Key"}},
		{"no application key", "", adtest.DefaultAPIKey, activedemand.ErrBadKey, 401, []string{"no application key is configured"}},
		{"key of another account", adtest.DefaultAppKey, adtest.DefaultOtherAccountKey, activedemand.ErrNoAccess, 403, []string{"this key has no access to that ActiveDEMAND account"}},
	}
	s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := s.ClientConfig()
			cfg.AppKey, cfg.APIKey = activedemand.Secret(tt.appKey), activedemand.Secret(tt.apiKey)
			c, err := activedemand.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ContactFields(t.Context())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var apiErr *activedemand.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status {
				t.Fatalf("err = %#v, want an APIError with status %d", err, tt.status)
			}
			for _, w := range tt.wantInText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{tt.appKey, tt.apiKey} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a key: %q", err)
				}
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	const appKey, apiKey = "app-SECRET-aaaa1111", "acct-SECRET-bbbb2222"
	s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime, AppKey: appKey, APIKey: apiKey})
	var logs bytes.Buffer
	var obs observer
	cfg := activedemand.Config{
		BaseURL: s.URL(), AppKey: appKey, APIKey: "acct-SECRET-wrong-3333",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Observer: obs.observe,
		Retry: fastRetry, RateLimit: rate.Inf,
	}
	secrets := []string{appKey, apiKey, "acct-SECRET-wrong-3333", "SECRET"}
	check := func(what, text string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("%s shows a secret (%s): %s", what, sec, text)
			}
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		check("Config "+verb, fmt.Sprintf(verb, cfg))
		check("*Config "+verb, fmt.Sprintf(verb, &cfg))
		check("Secret "+verb, fmt.Sprintf(verb, cfg.AppKey))
	}
	js, _ := json.Marshal(cfg.APIKey)
	check("JSON", string(js))
	var sl bytes.Buffer
	slog.New(slog.NewJSONHandler(&sl, nil)).Info("config", "key", cfg.APIKey, "app", cfg.AppKey)
	check("slog", sl.String())

	c, err := activedemand.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check("client", fmt.Sprintf("%v %+v %s", c, c, c))
	// The sandbox echoes a wrong key in its 401 body; a 503 echoing the
	// client's keys makes the client log a retry with that error text.
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteContactsList, Kind: sandboxkit.FaultStatus, Status: 503, Body: "busy " + appKey + " acct-SECRET-wrong-3333"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListContacts(t.Context(), "")
	if !errors.Is(err, activedemand.ErrBadKey) {
		t.Fatalf("err = %v, want ErrBadKey", err)
	}
	var apiErr *activedemand.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Body, "invalid API key [redacted]") {
		t.Errorf("the 401 body should be kept with the key replaced: %q", apiErr.Body)
	}
	check("error", err.Error())
	check("error %+v", fmt.Sprintf("%+v", err))
	check("logs", logs.String())
	if !strings.Contains(logs.String(), "activedemand retry") {
		t.Errorf("expected a retry log line, got %s", logs.String())
	}
	for _, ci := range obs.calls {
		check("observer", fmt.Sprintf("%+v %v", ci, ci.Err))
	}

	r, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: "whsec-SECRET-cccc"})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, "whsec-SECRET-cccc")
	check("receiver", fmt.Sprintf("%v %+v", r, r))
	check("webhook config", fmt.Sprintf("%v %+v %#v", activedemand.WebhookConfig{Secret: "whsec-SECRET-cccc"}, activedemand.WebhookConfig{Secret: "whsec-SECRET-cccc"}, activedemand.WebhookConfig{Secret: "whsec-SECRET-cccc"}))
}

func TestFaults(t *testing.T) {
	newContact := activedemand.NewContact{FirstName: "Fay", Email: "fay@example.com"}
	tests := []struct {
		name    string
		route   string
		fault   sandboxkit.Fault
		timeout time.Duration
		// wantErr is nil for success; wantAlso must match too.
		wantErr, wantAlso error
		// calls is how many requests the sandbox must have seen.
		calls int
		// created says whether the contact exists afterwards (writes).
		created bool
	}{
		{name: "GET 503 twice is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 503, Times: 2}, calls: 3},
		{name: "GET 500 is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 500}, calls: 2},
		{name: "GET 502 is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 502}, calls: 2},
		{name: "GET 504 is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 504}, calls: 2},
		{name: "GET 503 forever gives up", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 503, Times: -1}, wantErr: &activedemand.APIError{}, calls: 4},
		{name: "GET 429 waits Retry-After", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 429, RetryAfter: time.Second}, calls: 2},
		{name: "GET 429 beyond MaxRetryAfter fails at once", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 429, RetryAfter: 2 * time.Minute}, wantErr: activedemand.ErrRateLimited, calls: 1},
		{name: "GET drop before reply is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultDropBefore}, calls: 2},
		// A cut-off reply to a read is read again, as the HighLevel client
		// does: a poller that failed on it would start its page over.
		{name: "GET malformed body is retried", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultMalformedAfter}, calls: 2},
		{name: "GET malformed body forever gives up", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultMalformedBefore, Times: -1}, wantErr: activedemand.ErrBadResponse, calls: 4},
		{name: "GET slow within deadline", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultSlow, Delay: 30 * time.Millisecond}, calls: 1},
		{name: "GET slow past deadline", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultSlow, Delay: 2 * time.Second}, timeout: 50 * time.Millisecond, wantErr: context.DeadlineExceeded, calls: 1},
		{name: "GET 401", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 401}, wantErr: activedemand.ErrBadKey, calls: 1},
		{name: "GET 403", route: activedemand.RouteContactsList, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 403}, wantErr: activedemand.ErrNoAccess, calls: 1},
		{name: "POST 503 is retried (not processed)", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 503}, calls: 2, created: true},
		{name: "POST 429 is retried", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 429, RetryAfter: time.Second}, calls: 2, created: true},
		{name: "POST 502 outcome unknown", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 502}, wantErr: activedemand.ErrOutcomeUnknown, calls: 1},
		{name: "POST 500 is not retried", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 500}, wantErr: &activedemand.APIError{}, calls: 1},
		{name: "POST drop before applying", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultDropBefore}, wantErr: activedemand.ErrOutcomeUnknown, calls: 1, created: false},
		{name: "POST drop after applying", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultDropAfter}, wantErr: activedemand.ErrOutcomeUnknown, calls: 1, created: true},
		{name: "POST malformed reply", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultMalformedAfter}, wantErr: activedemand.ErrOutcomeUnknown, wantAlso: activedemand.ErrBadResponse, calls: 1, created: true},
		{name: "POST slow past deadline", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultSlow, Delay: 2 * time.Second}, timeout: 50 * time.Millisecond, wantErr: activedemand.ErrOutcomeUnknown, wantAlso: context.DeadlineExceeded, calls: 1},
		{name: "POST 403", route: activedemand.RouteContactsCreate, fault: sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: 403}, wantErr: activedemand.ErrNoAccess, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observer
			s, c := newPair(t, adtest.Options{}, func(cfg *activedemand.Config) { cfg.Observer = obs.observe })
			if _, err := s.AddContact(adtest.NewContact{FirstName: "Al", Email: "al@example.com"}); err != nil {
				t.Fatal(err)
			}
			tt.fault.Route = tt.route
			if err := s.InjectFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			var err error
			if tt.route == activedemand.RouteContactsCreate {
				_, err = c.CreateContact(ctx, newContact)
			} else {
				var p activedemand.Page[activedemand.Contact]
				p, err = c.ListContacts(ctx, "")
				if err == nil && (len(p.Items) != 1 || p.Items[0].Email != "al@example.com") {
					t.Errorf("page = %+v", p)
				}
			}
			elapsed := time.Since(start)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
			case *activedemand.APIError:
				var apiErr *activedemand.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != tt.fault.Status {
					t.Fatalf("err = %v, want an APIError %d", err, tt.fault.Status)
				}
				_ = want
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			}
			if tt.wantAlso != nil && !errors.Is(err, tt.wantAlso) {
				t.Errorf("err = %v, want it to match %v too", err, tt.wantAlso)
			}
			if got := s.Calls(tt.route); got != tt.calls {
				t.Errorf("sandbox saw %d calls, want %d", got, tt.calls)
			}
			if tt.route == activedemand.RouteContactsCreate {
				created := slices.ContainsFunc(s.Contacts(), func(c activedemand.Contact) bool { return c.Email == newContact.Email })
				if created != tt.created {
					t.Errorf("contact created = %v, want %v", created, tt.created)
				}
			}
			if tt.fault.Status == 429 && tt.wantErr == nil && elapsed < 900*time.Millisecond {
				t.Errorf("429 with Retry-After 1s retried after %v", elapsed)
			}
			if tt.fault.Kind == sandboxkit.FaultSlow && tt.wantErr == nil && elapsed < tt.fault.Delay {
				t.Errorf("slow call took %v, less than the delay %v", elapsed, tt.fault.Delay)
			}
			ci := obs.last()
			if ci.Route != tt.route || ci.Attempts < 1 || ci.Latency <= 0 || (err == nil) != (ci.Err == nil) {
				t.Errorf("observer got %+v", ci)
			}
			if tt.wantErr == nil && ci.Attempts != tt.calls && tt.fault.Kind != sandboxkit.FaultDropBefore {
				// A dropped GET on a reused connection may be retried by
				// net/http itself, so only other faults pin attempts.
				t.Errorf("observer attempts = %d, want %d", ci.Attempts, tt.calls)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("client side", func(t *testing.T) {
		_, c := newPair(t, adtest.Options{}, func(cfg *activedemand.Config) { cfg.RateLimit, cfg.Burst = 50, 1 })
		start := time.Now()
		for range 6 {
			if _, err := c.ContactLists(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Errorf("6 calls at 50/s took %v, want at least 100ms", d)
		}
	})
	t.Run("server side 429", func(t *testing.T) {
		var obs observer
		s, c := newPair(t, adtest.Options{RateLimit: sandboxkit.RateLimit{Burst: 1, Window: time.Second}}, func(cfg *activedemand.Config) { cfg.Observer = obs.observe })
		start := time.Now()
		for range 2 {
			if _, err := c.Forms(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("second call came back after %v; the 429's Retry-After was not honoured", d)
		}
		if got := s.Calls(activedemand.RouteFormsList); got != 3 {
			t.Errorf("sandbox saw %d calls, want 3 (one refused)", got)
		}
		if ci := obs.last(); ci.Attempts != 2 || ci.Status != 200 {
			t.Errorf("observer = %+v, want 2 attempts ending in 200", ci)
		}
	})
}

func TestObserver(t *testing.T) {
	var obs observer
	_, c := newPair(t, adtest.Options{Seed: 1}, func(cfg *activedemand.Config) { cfg.Observer = obs.observe })
	if _, err := c.CreateContact(t.Context(), activedemand.NewContact{Email: "obs@example.com"}); err != nil {
		t.Fatal(err)
	}
	ci := obs.last()
	if ci.Op != "create contact" || ci.Route != activedemand.RouteContactsCreate || ci.Method != "POST" || ci.Status != 200 ||
		ci.Attempts != 1 || ci.BytesSent == 0 || ci.BytesReceived == 0 || ci.Latency <= 0 || ci.Err != nil {
		t.Errorf("CallInfo = %+v", ci)
	}
	if _, err := c.FormFields(t.Context(), "999"); !errors.Is(err, activedemand.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if ci := obs.last(); ci.Status != 404 || ci.Err == nil || ci.Route != activedemand.RouteFormFields {
		t.Errorf("CallInfo = %+v", ci)
	}
}

func TestConversationsOverHTTP(t *testing.T) {
	ctx := t.Context()
	s, c := newPair(t, adtest.Options{Seed: 1}, nil)

	convs := collect(t, activedemand.AllChangedConversations(ctx, c, ""))
	if want := s.Conversations(); len(convs) != len(want) || len(want) == 0 {
		t.Fatalf("got %d conversations, want %d", len(convs), len(want))
	}
	for i := 1; i < len(convs); i++ {
		if convs[i].UpdatedAt.Before(convs[i-1].UpdatedAt) {
			t.Fatalf("conversations not oldest first at %d", i)
		}
	}
	page, cursor, err := c.ChangedConversations(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if ct, _ := cursor.Time(); !ct.Equal(page.Items[len(page.Items)-1].UpdatedAt) {
		t.Errorf("cursor %s, want the last item's update time %v", cursor, page.Items[len(page.Items)-1].UpdatedAt)
	}

	// Every conversation's messages arrive exactly as the sandbox holds them.
	var sawCall, sawAttachment bool
	for _, cv := range convs {
		msgs := collect(t, activedemand.AllMessages(ctx, c, cv.ID))
		want := s.Messages(cv.ID)
		if !reflect.DeepEqual(msgs, want) {
			t.Fatalf("conversation %s: messages differ:\n got %+v\nwant %+v", cv.ID, msgs, want)
		}
		for _, m := range msgs {
			if m.Call != nil && m.Call.RecordingURL != "" && !sawCall {
				sawCall = true
				if m.Call.Transcription == "" || m.Call.Duration <= 0 {
					t.Errorf("call without transcript or duration: %+v", m.Call)
				}
				var buf bytes.Buffer
				n, err := c.DownloadMedia(ctx, m.Call.RecordingURL, &buf)
				if err != nil {
					t.Fatal(err)
				}
				key, _ := s.MessageKey(m.ID)
				call := findDemoCall(t, s.Business(), key)
				if n != demobiz.WAVSize(call) || !bytes.HasPrefix(buf.Bytes(), []byte("RIFF")) {
					t.Errorf("recording: %d bytes (want %d), starts %q", n, demobiz.WAVSize(call), buf.Bytes()[:4])
				}
			}
			if len(m.Media) > 0 && !sawAttachment {
				sawAttachment = true
				var buf bytes.Buffer
				if _, err := c.DownloadMedia(ctx, m.Media[0].URL, &buf); err != nil {
					t.Fatal(err)
				}
				want, _ := demobiz.AttachmentBytes(m.Media[0].Name)
				if !bytes.Equal(buf.Bytes(), want) || int64(len(want)) != m.Media[0].Size {
					t.Errorf("attachment %s: got %d bytes, want %d", m.Media[0].Name, buf.Len(), len(want))
				}
			}
		}
	}
	if !sawCall || !sawAttachment {
		t.Fatalf("demo data has no call recording (%v) or attachment (%v)", sawCall, sawAttachment)
	}

	// A new message moves its conversation past the cursor.
	_, all, _ := lastCursor(t, c)
	m, err := s.AddMessage(adtest.NewMessage{ConversationID: convs[0].ID, Direction: activedemand.Inbound, Body: "New!", At: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.ChangedConversations(ctx, all, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) == 0 || p.Items[len(p.Items)-1].ID != m.ConversationID {
		t.Errorf("after a new message, changed since %s = %+v", all, p.Items)
	}

	// Status, history, tasks.
	if err := c.SetMessageStatus(ctx, m.ID, activedemand.MessageRead); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Message(m.ID); got.Status != activedemand.MessageRead {
		t.Errorf("status = %s, want read", got.Status)
	}
	var apiErr *activedemand.APIError
	if err := c.SetMessageStatus(ctx, m.ID, "bogus"); !errors.As(err, &apiErr) || apiErr.Status != 422 {
		t.Errorf("bad status: err = %v, want a 422", err)
	}
	hid, err := c.AddHistory(ctx, activedemand.NewHistoryEntry{ContactID: m.ContactID, Type: "note", Subject: "Synced", Body: "Mirrored to HighLevel", At: refTime})
	if err != nil {
		t.Fatal(err)
	}
	hist := collect(t, activedemand.AllHistory(ctx, c, m.ContactID))
	if len(hist) != 1 || hist[0].ID != hid || hist[0].Body != "Mirrored to HighLevel" || !hist[0].At.Equal(refTime) || !reflect.DeepEqual(hist, s.History(m.ContactID)) {
		t.Errorf("history = %+v", hist)
	}
	tid, err := c.RaiseTask(ctx, activedemand.NewTask{ContactID: m.ContactID, Title: "Check mirroring", Priority: "high", Due: refTime})
	if err != nil {
		t.Fatal(err)
	}
	if tasks := s.Tasks(); len(tasks) != 1 || tasks[0].ID != tid || tasks[0].Priority != "high" || !tasks[0].Due.Equal(refTime) {
		t.Errorf("tasks = %+v", tasks)
	}
}

// lastCursor reads every changed conversation and returns the cursor to
// save afterwards.
func lastCursor(t *testing.T, c *activedemand.Client) (int, activedemand.Cursor, error) {
	t.Helper()
	var cur activedemand.Cursor
	var tok activedemand.PageToken
	n := 0
	for {
		p, next, err := c.ChangedConversations(t.Context(), "", tok)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		cur = next
		if p.Next == "" {
			return n, cur, nil
		}
		tok = p.Next
	}
}

func findDemoCall(t *testing.T, b demobiz.Business, key string) *demobiz.Call {
	t.Helper()
	for _, cv := range b.Conversations {
		for _, m := range cv.Messages {
			if m.Key == key {
				return m.Call
			}
		}
	}
	t.Fatalf("no demo message %q", key)
	return nil
}

func TestWebhookSubscription(t *testing.T) {
	ctx := t.Context()
	s, c := newPair(t, adtest.Options{Seed: 1}, nil)
	recv, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: adtest.DefaultWebhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	u, err := recv.Listen(lctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop()
		if err := recv.Wait(); err != nil {
			t.Error(err)
		}
	}()
	id, err := c.SubscribeWebhook(ctx, u, activedemand.EventMessageCreated)
	if err != nil {
		t.Fatal(err)
	}
	if subs := s.Subscriptions(); len(subs) != 1 || subs[0].ID != id || subs[0].URL != u {
		t.Fatalf("subscriptions = %+v", subs)
	}
	conv := s.Conversations()[0]
	m, err := s.AddMessage(adtest.NewMessage{ConversationID: conv.ID, Direction: activedemand.Inbound, Body: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-recv.Events():
		if ev.Type != activedemand.EventMessageCreated || ev.MessageID != m.ID || ev.ConversationID != conv.ID {
			t.Errorf("event = %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook arrived")
	}
	if err := c.UnsubscribeWebhook(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.UnsubscribeWebhook(ctx, id); !errors.Is(err, activedemand.ErrNotFound) {
		t.Errorf("second unsubscribe: err = %v, want ErrNotFound", err)
	}
	if len(s.Subscriptions()) != 0 {
		t.Error("subscription still there")
	}
}

// TestKeysStayOnAPIHost checks that media on another host, and redirects
// to another host, never receive the keys.
func TestKeysStayOnAPIHost(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		_, _ = w.Write([]byte("file-bytes"))
	}))
	defer files.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(activedemand.HeaderAPIKey) != "k" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, files.URL+"/redirected.pdf", http.StatusFound)
	}))
	defer api.Close()
	c, err := activedemand.New(activedemand.Config{BaseURL: api.URL + "/v1/", AppKey: "a", APIKey: "k", RateLimit: rate.Inf, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{files.URL + "/direct.pdf", "media/x.pdf"} {
		var buf bytes.Buffer
		if _, err := c.DownloadMedia(t.Context(), u, &buf); err != nil || buf.String() != "file-bytes" {
			t.Fatalf("download %s: %q, %v", u, buf.String(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("file host saw %d requests, want 2", len(seen))
	}
	for _, h := range seen {
		if h.Get(activedemand.HeaderAPIKey) != "" || h.Get(activedemand.HeaderAppKey) != "" {
			t.Errorf("file host received a key: %v", h)
		}
	}
}

// TestPagingIgnored checks that a server ignoring the paging parameters
// ends in an error that says what to change, not an endless loop.
func TestPagingIgnored(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id": 1, "emails.email_address": "a@example.com"}, {"id": "2"}]`))
	}))
	defer srv.Close()
	c, err := activedemand.New(activedemand.Config{BaseURL: srv.URL, APIKey: "k", RateLimit: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	var got []activedemand.ID
	var last error
	for ct, err := range c.AllContacts(t.Context()) {
		if err != nil {
			last = err
			break
		}
		got = append(got, ct.ID)
	}
	if !errors.Is(last, activedemand.ErrPagingIgnored) || !strings.Contains(last.Error(), "routes file") {
		t.Fatalf("err = %v, want ErrPagingIgnored naming the routes file", last)
	}
	if !reflect.DeepEqual(got, []activedemand.ID{"1", "2"}) {
		t.Errorf("items = %v, want each once", got)
	}
}

// TestWriteRetriedWhenNothingWasSent checks that a POST that never reached
// the server (connection refused) is retried, and is not reported as an
// unknown outcome.
func TestWriteRetriedWhenNothingWasSent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	var obs observer
	c, err := activedemand.New(activedemand.Config{BaseURL: addr, APIKey: "k", RateLimit: rate.Inf, Retry: fastRetry, Observer: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateContact(t.Context(), activedemand.NewContact{Email: "x@example.com"})
	if err == nil || errors.Is(err, activedemand.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want a connection error that is not an unknown outcome", err)
	}
	if ci := obs.last(); ci.Attempts != 4 || ci.Status != 0 {
		t.Errorf("observer = %+v, want 4 attempts and no status", ci)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  activedemand.Config
		want string
	}{
		{"no account key", activedemand.Config{}, "Account Settings > API Key"},
		{"bad base URL", activedemand.Config{BaseURL: "ftp://x", APIKey: "k"}, "http(s) URL"},
		{"base URL with query", activedemand.Config{BaseURL: "https://x/v1/?a=1", APIKey: "k"}, "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := activedemand.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
