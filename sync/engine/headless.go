package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/demo"
	"parley/sync/ghl"
)

// HeadlessOptions configures [RunHeadless].
type HeadlessOptions struct {
	// Out receives what a person at the terminal should read.
	Out io.Writer
	// Store is the open database.
	Store *store.Store
	// DataDir is the data folder, for the routes file and the message.
	DataDir string
	// Demo runs against the built-in sandboxes instead of real accounts.
	Demo bool
	// Sandbox configures the demo sandboxes (listen addresses, activity).
	Sandbox demo.Options
	// Accounts says where the real accounts are and holds their
	// credentials; unused in demo mode.
	Accounts Accounts
	// Once catches up and returns instead of running until ctx ends.
	Once bool
	// Workers is how many jobs run at once (default DefaultWorkers).
	Workers int
	// PollEvery is the ActiveDEMAND poll interval (default
	// DefaultPollEvery).
	PollEvery time.Duration
	// ProgressEvery is the interval of progress lines (default
	// DefaultProgressEvery).
	ProgressEvery time.Duration
	// Logger receives the run's log lines; nil discards them.
	Logger *slog.Logger
	// DryRun says what a sync would do and does none of it.
	DryRun bool
	// Backfill, if set, queues the messages ActiveDEMAND sent in this
	// range before syncing (with DryRun: predicts it instead).
	Backfill *DateRange
	// MaxChanges holds a backlog of more jobs than this unsent, and
	// Confirm lets it go (RunConfig.MaxChanges).
	MaxChanges int
	Confirm    bool
	// WebhookListen, if set, serves ActiveDEMAND's webhooks on this
	// address (RunConfig.Webhook), signed with the secret from
	// Accounts.Vault; WebhookURL is the public URL to subscribe, if any.
	WebhookListen, WebhookURL string
}

// Accounts locates the real accounts for a headless run.
type Accounts struct {
	// Vault holds the credentials (the keyring, then PARLEY_* variables).
	Vault secrets.Vault
	// GHLBaseURL and ADBaseURL override the live APIs' addresses.
	GHLBaseURL, ADBaseURL string
	// GHLLocation is the HighLevel location (sub-account) id.
	GHLLocation string
	// GHLProvider is the location's conversation provider id.
	GHLProvider string
	// ADRate is ActiveDEMAND's request rate a second; 0 means the
	// client's default (activedemand.DefaultRateLimit). ActiveDEMAND does
	// not publish its limits, so the default is cautious, and a first
	// catch-up of a big account spends most of its time waiting on it.
	ADRate float64
}

// RunHeadless is `parley sync`, and the console's fallback without a
// display: it syncs ActiveDEMAND into HighLevel until ctx ends (SIGINT or
// SIGTERM, in the command) or, with Once, until it has caught up, and
// writes a summary. In demo mode it starts the built-in sandboxes, with an
// empty HighLevel location, and mirrors the demo business between them.
func RunHeadless(ctx context.Context, o HeadlessOptions) error {
	ss, err := openSession(ctx, o)
	if err != nil {
		return err
	}
	defer ss.close()
	cfg := ss.cfg
	if o.DryRun {
		return dryRunHeadless(ctx, o, cfg)
	}
	cfg.Once, cfg.Progress, cfg.ProgressEvery = o.Once, o.Out, o.ProgressEvery
	cfg.MaxChanges, cfg.Confirm, cfg.Backfill, cfg.StopWhenHeld = o.MaxChanges, o.Confirm, o.Backfill, true
	if o.Once {
		fmt.Fprintln(o.Out, "Catching up once: one poll, then the outbox is drained.")
	} else {
		fmt.Fprintf(o.Out, "Polling ActiveDEMAND every %s until interrupted (Ctrl+C drains in-flight work and stops).\n", orDefaultDuration(o.PollEvery, DefaultPollEvery))
	}
	ss.log.Info("headless sync started", "demo", o.Demo, "once", o.Once)
	sum, err := Run(ctx, cfg)
	if ctx.Err() != nil && !o.Once {
		fmt.Fprintln(o.Out, "Stopping.")
	}
	if _, held := errors.AsType[GuardStop](err); held && !o.Once {
		fmt.Fprintln(o.Out, "Stopped: the max-changes guard holds the backlog.")
	}
	if b := sum.Backfill; b != nil {
		fmt.Fprintf(o.Out, "Backfill: %d of %d conversations read, %d messages in the range, %d jobs new to the outbox.\n", b.Done, b.Total, b.Messages, b.Queued)
	}
	sum.WriteSummary(o.Out)
	ss.traffic(o.Out)
	var stop GuardStop
	if errors.As(err, &stop) {
		return fmt.Errorf("%w; check them with `parley sync --dry-run`, then run again with --confirm to send them, or with --max-changes %d or more", err, stop.Pending)
	}
	if err != nil {
		return err
	}
	if failed := failedJobs(sum); failed > 0 && o.Once {
		return fmt.Errorf("%w: %d jobs failed for good in this run; History shows why, and they can be replayed once the cause is fixed", ErrNeedsAPerson, failed)
	}
	return nil
}

// session is what a headless command runs against: the clients'
// configuration and, in demo mode, the sandboxes.
type session struct {
	cfg RunConfig
	sb  *demo.Sandboxes
	log *slog.Logger
	bg  *demo.Background
}

func (s *session) close() {
	if s.bg != nil {
		s.bg.Close() // #nosec G104 -- the sandboxes' shutdown errors change nothing at exit
	}
}

// traffic writes the demo HighLevel sandbox's record and delivery counts.
func (s *session) traffic(w io.Writer) {
	if s.sb != nil {
		tr := s.sb.GHL.Traffic()
		fmt.Fprintf(w, "HighLevel sandbox: %d messages recorded, %d delivered to customers.\n", tr.Records, tr.Deliveries)
	}
}

// openSession reads the routes file and finds the accounts (or, in demo
// mode, starts the sandboxes with an empty HighLevel location), saying on
// o.Out what it runs against.
func openSession(ctx context.Context, o HeadlessOptions) (*session, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	version, err := o.Store.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "Data folder: %s (database schema version %d).\n", o.DataDir, version)
	routes, routesFile, err := activedemand.RoutesFromDir(o.DataDir)
	if err != nil {
		return nil, err
	}
	if routesFile != "" {
		fmt.Fprintf(o.Out, "ActiveDEMAND routes: the defaults, corrected by %s.\n", routesFile)
	}
	ss := &session{log: log, cfg: RunConfig{Store: o.Store, PollEvery: o.PollEvery, Workers: o.Workers, Logger: log}}
	if !o.Demo {
		if ss.cfg.GHL, ss.cfg.AD, ss.cfg.ProviderID, err = o.Accounts.configs(routes); err != nil {
			return nil, err
		}
		if ss.cfg.Webhook, err = o.webhook(func() (activedemand.Secret, error) { return WebhookSecret(o.Accounts.Vault) }); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Out, "Syncing ActiveDEMAND (%s) into HighLevel location %s (%s).\n",
			orDefault(ss.cfg.AD.BaseURL, activedemand.DefaultBaseURL), ss.cfg.GHL.LocationID, orDefault(ss.cfg.GHL.BaseURL, "the live API"))
		return ss, nil
	}
	opts := o.Sandbox
	opts.Logger = log
	opts.GHLEmpty = true
	now, err := StartDemoSession(ctx, o.Store, time.Now())
	if err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = now
	}
	if o.Once || o.DryRun {
		opts.ActivityEvery = -1 // a catch-up has nothing to wait for
	}
	ss.bg = demo.StartBackground(o.DataDir, opts)
	if ss.sb, err = ss.bg.Wait(); err != nil {
		ss.close()
		return nil, err
	}
	ss.cfg.GHL, ss.cfg.AD, ss.cfg.ProviderID = ss.sb.GHLConfig(), ss.sb.ADConfig(), ss.sb.ProviderID()
	if ss.cfg.Webhook, err = o.webhook(func() (activedemand.Secret, error) { return adtest.DefaultWebhookSecret, nil }); err != nil {
		ss.close()
		return nil, err
	}
	fmt.Fprintf(o.Out, "Demo mode: mirroring the demo business from the built-in ActiveDEMAND sandbox (%s) into an empty HighLevel sandbox (%s).\n", ss.sb.AD.URL(), ss.sb.GHL.URL())
	return ss, nil
}

// webhook is the receiver's configuration when WebhookListen is set, with
// the signing secret from secret.
func (o HeadlessOptions) webhook(secret func() (activedemand.Secret, error)) (*WebhookOptions, error) {
	if o.WebhookListen == "" {
		if o.WebhookURL != "" {
			return nil, errors.New("--webhook-url needs --webhook-listen: the address the receiver serves on, which the URL leads to")
		}
		return nil, nil
	}
	sec, err := secret()
	if err != nil {
		return nil, err
	}
	if o.Once {
		fmt.Fprintln(o.Out, "Webhooks: not served with --once, which polls once and exits.")
		return nil, nil
	}
	fmt.Fprintf(o.Out, "Webhooks: served on %s; each accepted event triggers a poll, and polling goes on as the safety net.\n", o.WebhookListen)
	return &WebhookOptions{Listen: o.WebhookListen, Secret: sec, URL: o.WebhookURL}, nil
}

// dryRunHeadless is `parley sync --dry-run`: the prediction, as a summary.
func dryRunHeadless(ctx context.Context, o HeadlessOptions, cfg RunConfig) error {
	gc, ad, err := newClients(cfg)
	if err != nil {
		return err
	}
	defer gc.CloseIdleConnections()
	what := "a sync from the last poll"
	if o.Backfill != nil {
		what = "a backfill of " + o.Backfill.String()
	}
	fmt.Fprintf(o.Out, "Dry run of %s: reading only; nothing is written to HighLevel or queued.\n", what)
	res, err := DryRun(ctx, DryRunConfig{Store: cfg.Store, GHL: gc, AD: ad, Contacts: ad, Range: o.Backfill, MaxItems: 5})
	if err != nil {
		return err
	}
	res.WriteSummary(o.Out)
	return nil
}

// WriteSummary writes a dry run's prediction for the terminal: a count per
// category and its first items.
func (r DryRunResult) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "Read %d changed conversations (%d messages) from ActiveDEMAND; %d jobs were already waiting in the outbox.\n", r.Conversations, r.Messages, r.Pending)
	total := 0
	for _, c := range DryRunCategories {
		n := r.Counts[c]
		total += n
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "Would %s: %d\n", c, n)
		for _, it := range r.Items[c] {
			fmt.Fprintf(w, "  - %s\n", it.Detail)
		}
		if more := n - len(r.Items[c]); more > 0 {
			fmt.Fprintf(w, "  … and %d more\n", more)
		}
	}
	if total == 0 {
		fmt.Fprintln(w, "Nothing to do: HighLevel is up to date with what ActiveDEMAND lists.")
	}
}

func failedJobs(s Summary) int {
	n := 0
	for _, k := range s.Jobs {
		n += k.Failed
	}
	return n
}

// configs builds the clients' configurations from the vault and the
// options, as the console's Connections screen does; a missing credential
// or setting is an error naming the variable to set.
func (a Accounts) configs(routes activedemand.Routes) (ghlCfg ghl.Config, adCfg activedemand.Config, provider string, err error) {
	svc, err := connect.New(connect.Options{Vault: a.Vault, Settings: fixedSettings{
		connect.SettingLocation: a.GHLLocation, connect.SettingProvider: a.GHLProvider,
	}, GHLBaseURL: a.GHLBaseURL, ADBaseURL: a.ADBaseURL, ADRoutes: routes, ADRate: a.ADRate})
	if err != nil {
		return ghlCfg, adCfg, "", err
	}
	if adCfg, err = svc.ADConfig(); err != nil {
		return ghlCfg, adCfg, "", missingHint(err)
	}
	if ghlCfg, err = svc.GHLConfig(); err != nil {
		return ghlCfg, adCfg, "", missingHint(err)
	}
	if ghlCfg.LocationID == "" && ghlCfg.PrivateToken != "" {
		return ghlCfg, adCfg, "", errors.New("no HighLevel location id: pass --ghl-location or set PARLEY_GHL_LOCATION to the sub-account the private integration token belongs to")
	}
	if provider = svc.ProviderID(); provider == "" {
		return ghlCfg, adCfg, "", errors.New("no HighLevel conversation provider id: pass --ghl-provider or set PARLEY_GHL_PROVIDER (the console's Connections screen shows it)")
	}
	return ghlCfg, adCfg, provider, nil
}

func missingHint(err error) error {
	// An unreachable keyring's error already names the variable to set.
	var m *connect.MissingError
	if !errors.As(err, &m) {
		return err
	}
	return fmt.Errorf("%w: save it on the console's Connections screen, or set %s for a headless run", err, strings.Join(m.Vars, " or "))
}

// fixedSettings are the non-secret settings of a headless run, from its
// flags and environment; nothing is saved.
type fixedSettings map[string]string

func (s fixedSettings) String(key string) string { return s[key] }
func (fixedSettings) SetString(string, string)   {}
func (fixedSettings) RemoveValue(string)         {}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orDefaultDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// RunDemo is the console's demo sync: it waits for the demo sandboxes
// started beside the window, then mirrors the demo business between them
// until ctx ends, so that History fills with real mirrored work. The
// sandboxes must have been started with demo.Options.GHLEmpty and the
// time from StartDemoSession. Each of configure adjusts the run's
// configuration before it starts, e.g. (*Control).Wire.
func RunDemo(ctx context.Context, st *store.Store, sandboxes *demo.Background, log *slog.Logger, configure ...func(*RunConfig)) error {
	sb, err := sandboxes.Wait()
	if err != nil {
		return err
	}
	cfg := RunConfig{Store: st, GHL: sb.GHLConfig(), AD: sb.ADConfig(), ProviderID: sb.ProviderID(), Logger: log}
	for _, f := range configure {
		f(&cfg)
	}
	_, err = Run(ctx, cfg)
	return err
}
