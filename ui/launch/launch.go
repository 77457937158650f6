// Package launch opens one mode of the console: its database, its sync and,
// in demo mode, the built-in sandboxes, wired into the ui's Deps. main
// opens the first mode with it, and the console opens the other through
// Deps.SwitchMode, so leaving the demo (or going back to it) happens in the
// same window. It is the one place under ui/ that builds engine objects; the
// screens only see the interfaces in ui.Deps.
package launch

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/connect"
	"parley/sync/demo"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/routing"
	"parley/ui"
	"parley/ui/player"
)

// Options is what every mode shares: where data lives, the app's
// preferences and the sound device (oto allows one per process).
type Options struct {
	DataDir     string
	Preferences fyne.Preferences
	Logger      *slog.Logger
	Sound       player.Output
	SoundErr    error
	// Vault holds the real accounts' credentials: the system keyring,
	// then the PARLEY_* variables, as for `parley sync`.
	Vault secrets.Vault
	// GHLBaseURL and ADBaseURL override the live APIs' addresses (the
	// --ghl-base-url and --ad-base-url flags).
	GHLBaseURL, ADBaseURL string
	// ADRate is ActiveDEMAND's request rate a second for the real
	// account (--ad-rate); 0 means the client's default.
	ADRate float64
}

// RunningKey is the preference that remembers whether the admin left the
// sync on the real accounts running: the next console start resumes it.
const RunningKey = "sync.running"

// Open opens the demo (demo true) or the real accounts' mode and returns
// the console's Deps for it. Their Release stops its sync and closes its
// database; SwitchMode opens the other mode the same way.
func Open(ctx context.Context, o Options, demoMode bool) (ui.Deps, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// Demo data lives in a folder of its own, so leaving demo mode never
	// mixes sandbox records into the real history and id map.
	dbDir := store.ModeDir(o.DataDir, demoMode)
	db, err := store.Open(ctx, filepath.Join(dbDir, store.DatabaseFile))
	if err != nil {
		return ui.Deps{}, err
	}
	routes, _, err := activedemand.RoutesFromDir(o.DataDir)
	if err != nil {
		db.Close() // #nosec G104 -- the open failed already; that error is the one to report
		return ui.Deps{}, err
	}
	// The Connections screen always edits the real accounts: an admin
	// trying the demo connects them there, then leaves the demo.
	real, err := connect.New(connect.Options{Vault: o.Vault, Settings: envSettings{o.Preferences}, ADRoutes: routes,
		GHLBaseURL: o.GHLBaseURL, ADBaseURL: o.ADBaseURL, ADRate: o.ADRate})
	if err != nil {
		db.Close() // #nosec G104 -- the open failed already; that error is the one to report
		return ui.Deps{}, err
	}
	ctl := engine.NewControl(db) // queue, history and replay work without a running engine
	tools := ui.SyncTools{Control: ctl}
	d := ui.Deps{History: db, Alerts: db, Keyring: secrets.Keyring{}, DataDir: o.DataDir, Demo: demoMode,
		Connected:   secrets.AccountsConnected(o.Vault),
		Connections: real, Sync: ctl, Mapping: ctl, Backfill: tools, DryRun: tools, Verify: tools,
		Automations: db, RulePreview: &routing.Previewer{Store: db, DataDir: dbDir},
		Sound: o.Sound, SoundErr: o.SoundErr,
	}
	d.SwitchMode = func(ctx context.Context, demoMode bool) (ui.Deps, error) { return Open(ctx, o, demoMode) }
	// An import leaves out the fields ActiveDEMAND types as passwords,
	// which only its field list tells: the real account's, read with the
	// keys saved when the import starts, or the demo sandbox's.
	fields := adFields{config: real.ADConfig}

	var stopSync func()
	if demoMode {
		at, err := engine.StartDemoSession(ctx, db, time.Now())
		if err != nil {
			db.Close() // #nosec G104 -- the demo session failed already; that error is the one to report
			return ui.Deps{}, err
		}
		sandboxes := demo.StartBackground(o.DataDir, demo.Options{Logger: o.Logger, GHLEmpty: true, Now: at})
		fields.config = func() (activedemand.Config, error) {
			sb, err := sandboxes.Wait()
			if err != nil {
				return activedemand.Config{}, err
			}
			return sb.ADConfig(), nil
		}
		d.DemoSandboxes = sandboxes.URLs
		// The screens browse the sandboxes live, as they would the real
		// accounts, once they are up: the window does not wait for them.
		lb := &lazyBrowser{build: func() *engine.Browser {
			sb, err := sandboxes.Wait()
			if err != nil {
				o.Logger.Error("the demo sandboxes did not start", "err", err)
				return browser(db, nil, dbDir, o.Logger)
			}
			return browser(db, sandboxAccounts{sb}, dbDir, o.Logger)
		}}
		d.Browse, d.Conversations = lb, lb
		syncCtx, cancel := context.WithCancel(context.Background())
		var syncing sync.WaitGroup
		syncing.Go(func() {
			if err := engine.RunDemo(syncCtx, db, sandboxes, o.Logger, ctl.Wire); err != nil {
				o.Logger.Error("the demo sync stopped", "err", err)
			}
		})
		stopSync = func() {
			cancel()
			syncing.Wait()
			if err := sandboxes.Close(); err != nil {
				o.Logger.Warn("the demo sandboxes did not stop cleanly", "err", err)
			}
		}
	} else {
		runner := engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: db, Accounts: real, Control: ctl, Logger: o.Logger,
			Remember: func(on bool) { o.Preferences.SetBool(RunningKey, on) }})
		d.Runner = runner
		if o.Preferences.Bool(RunningKey) {
			if err := runner.Start(); err != nil {
				o.Logger.Warn("the sync was left running but cannot start", "err", err)
			}
		}
		stopSync = runner.Close
	}
	d.Importer = engine.NewImporter(db, engine.ImporterOptions{Location: time.Local, Fields: fields})
	if !demoMode {
		if b := browser(db, real, dbDir, o.Logger); b != nil {
			d.Browse, d.Conversations = b, b // a nil *Browser in the interface would not be nil
		}
	}
	var once sync.Once
	d.Release = func() {
		once.Do(func() {
			stopSync()
			if err := db.Close(); err != nil {
				o.Logger.Warn("closing the database", "err", err)
			}
		})
	}
	o.Logger.Info("console mode opened", "demo", demoMode, "data", dbDir)
	return d, nil
}

// browser is the Contacts and Conversations screens' read access: the
// store, plus whichever accounts are connected (neither is required to
// show what is stored).
func browser(db *store.Store, conns engine.ConnectedAccounts, dataDir string, log *slog.Logger) *engine.Browser {
	cfg := engine.BrowseConfig{Store: db, DataDir: dataDir}
	if conns == nil {
		conns = noAccounts{}
	}
	if gc, err := conns.GHLConfig(); err == nil {
		cfg.GHL, _ = ghl.New(gc)
	}
	if ac, err := conns.ADConfig(); err == nil {
		if c, err := activedemand.New(ac); err == nil {
			cfg.AD = c
		}
	}
	b, err := engine.NewBrowser(cfg)
	if err != nil {
		log.Error("the Contacts screen shows nothing", "err", err)
		return nil
	}
	return b
}

// adFields lists ActiveDEMAND's contact fields with the account config
// returns when asked.
type adFields struct {
	config func() (activedemand.Config, error)
}

func (f adFields) ContactFields(ctx context.Context) ([]activedemand.ContactField, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	c, err := activedemand.New(cfg)
	if err != nil {
		return nil, err
	}
	return c.ContactFields(ctx)
}

// sandboxAccounts are the demo sandboxes as accounts to browse.
type sandboxAccounts struct{ sb *demo.Sandboxes }

func (a sandboxAccounts) GHLConfig() (ghl.Config, error)         { return a.sb.GHLConfig(), nil }
func (a sandboxAccounts) ADConfig() (activedemand.Config, error) { return a.sb.ADConfig(), nil }
func (a sandboxAccounts) ProviderID() string                     { return a.sb.ProviderID() }

// noAccounts browses the store alone.
type noAccounts struct{}

func (noAccounts) GHLConfig() (ghl.Config, error) { return ghl.Config{}, secrets.ErrNotFound }
func (noAccounts) ADConfig() (activedemand.Config, error) {
	return activedemand.Config{}, secrets.ErrNotFound
}
func (noAccounts) ProviderID() string { return "" }

// lazyBrowser builds the demo's browser on its first use, off the UI
// goroutine (the screens call it from their background work), so that the
// window does not wait for the sandboxes to start.
type lazyBrowser struct {
	build func() *engine.Browser
	once  sync.Once
	b     *engine.Browser
}

// errNoBrowser is what the screens show when the browser could not be
// built; the log says why.
var errNoBrowser = errors.New("the stored contacts cannot be read; the log says why")

func (l *lazyBrowser) get() (*engine.Browser, error) {
	l.once.Do(func() { l.b = l.build() })
	if l.b == nil {
		return nil, errNoBrowser
	}
	return l.b, nil
}

func (l *lazyBrowser) Contacts(ctx context.Context, query string, limit int) ([]engine.ContactSummary, error) {
	b, err := l.get()
	if err != nil {
		return nil, err
	}
	return b.Contacts(ctx, query, limit)
}

func (l *lazyBrowser) Timeline(ctx context.Context, ghlContactID string) (engine.Timeline, error) {
	b, err := l.get()
	if err != nil {
		return engine.Timeline{}, err
	}
	return b.Timeline(ctx, ghlContactID)
}

func (l *lazyBrowser) SearchTranscripts(ctx context.Context, q engine.TranscriptQuery) (engine.TranscriptResults, error) {
	b, err := l.get()
	if err != nil {
		return engine.TranscriptResults{}, err
	}
	return b.SearchTranscripts(ctx, q)
}

func (l *lazyBrowser) ADConversations(ctx context.Context, q engine.ADConversationQuery) ([]engine.ADConversation, string, error) {
	b, err := l.get()
	if err != nil {
		return nil, "", err
	}
	return b.ADConversations(ctx, q)
}

func (l *lazyBrowser) GHLConversations(ctx context.Context, q engine.GHLConversationQuery) ([]engine.GHLConversation, int64, error) {
	b, err := l.get()
	if err != nil {
		return nil, 0, err
	}
	return b.GHLConversations(ctx, q)
}

func (l *lazyBrowser) Pair(ctx context.Context, adContactID, ghlConversationID string) (engine.Pair, error) {
	b, err := l.get()
	if err != nil {
		return engine.Pair{}, err
	}
	return b.Pair(ctx, adContactID, ghlConversationID)
}

func (l *lazyBrowser) ResyncConversation(ctx context.Context, adContactID string) (engine.ResyncResult, error) {
	b, err := l.get()
	if err != nil {
		return engine.ResyncResult{}, err
	}
	return b.ResyncConversation(ctx, adContactID)
}

// envSettings are the preferences, with the PARLEY_GHL_LOCATION and
// PARLEY_GHL_PROVIDER variables standing in for a location or provider id
// never saved: the console reads the accounts as `parley sync` does,
// credentials from the keyring and then the environment.
type envSettings struct{ fyne.Preferences }

func (s envSettings) String(key string) string {
	if v := s.Preferences.String(key); v != "" {
		return v
	}
	switch key {
	case connect.SettingLocation:
		return os.Getenv("PARLEY_GHL_LOCATION")
	case connect.SettingProvider:
		return os.Getenv("PARLEY_GHL_PROVIDER")
	}
	return ""
}
