package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// ConnectedAccounts are the saved credentials and settings a console sync
// runs against; *connect.Service implements it. Each start reads them
// again, so a reconnected account takes effect at the next start.
type ConnectedAccounts interface {
	GHLConfig() (ghl.Config, error)
	ADConfig() (activedemand.Config, error)
	ProviderID() string
}

// ConsoleSyncOptions configure a ConsoleSync.
type ConsoleSyncOptions struct {
	Store    *store.Store
	Accounts ConnectedAccounts
	// Control is the Sync screen's handle; each run attaches its engine
	// to it and detaches it when the run ends.
	Control *Control
	Logger  *slog.Logger
	// Remember, if set, is told whether the admin wants the sync running
	// (true after Start, false after Stop), so that the next start of the
	// console picks up where this one left off.
	Remember func(running bool)
}

// ConsoleSync is the console's sync against the real accounts: the same
// Run as `parley sync`, in the window's process, started and stopped from
// the window. Stopping drains in-flight work, as SIGTERM does headless; a
// job cut short is taken up again at the next start, as after a crash.
// It is safe for concurrent use.
type ConsoleSync struct {
	o ConsoleSyncOptions

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	lastErr error
}

// NewConsoleSync returns a stopped sync.
func NewConsoleSync(o ConsoleSyncOptions) *ConsoleSync {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &ConsoleSync{o: o}
	if o.Control != nil {
		o.Control.SetStandby(s.Standby)
	}
	return s
}

// ErrAccountsIncomplete is what Start returns when the saved credentials
// are not enough to sync; its message says which is missing.
var ErrAccountsIncomplete = errors.New("connect both accounts on the Connections screen first")

// Start begins syncing in the background. It returns at once: an error
// when the accounts are not connected (nothing starts), nil when the run
// is under way or already was. A run that stops by itself (an error the
// engine cannot get past) is reported by State.
func (s *ConsoleSync) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return nil
	}
	cfg, err := s.config()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.cancel, s.done, s.lastErr = cancel, done, nil
	go func() {
		defer close(done)
		_, err := Run(ctx, cfg)
		s.o.Control.Attach(nil)
		if ctx.Err() != nil {
			err = nil // stopped on purpose
		}
		if err != nil {
			s.o.Logger.Error("the sync stopped", "err", err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.done == done { // ended by itself, not by a Stop
			s.cancel, s.done, s.lastErr = nil, nil, err
			cancel()
		}
	}()
	if s.o.Remember != nil {
		s.o.Remember(true)
	}
	s.o.Logger.Info("the console's sync started", "location", cfg.GHL.LocationID)
	return nil
}

func (s *ConsoleSync) config() (RunConfig, error) {
	if s.o.Accounts == nil {
		return RunConfig{}, ErrAccountsIncomplete
	}
	ad, err := s.o.Accounts.ADConfig()
	if err != nil {
		return RunConfig{}, fmt.Errorf("%w: %w", ErrAccountsIncomplete, err)
	}
	gc, err := s.o.Accounts.GHLConfig()
	if err != nil {
		return RunConfig{}, fmt.Errorf("%w: %w", ErrAccountsIncomplete, err)
	}
	if gc.LocationID == "" {
		return RunConfig{}, fmt.Errorf("%w: HighLevel has no location yet (connect with HighLevel, or save the private integration token with its location id)", ErrAccountsIncomplete)
	}
	provider := s.o.Accounts.ProviderID()
	if provider == "" {
		return RunConfig{}, fmt.Errorf("%w: the HighLevel conversation provider id is not saved (Connections, HighLevel)", ErrAccountsIncomplete)
	}
	return RunConfig{Store: s.o.Store, GHL: gc, AD: ad, ProviderID: provider, Logger: s.o.Logger, Control: s.o.Control}, nil
}

// Standby builds an engine on the saved accounts without running it, so
// that the Mapping screen, the dry run, verify and backfill work before
// the sync is started. Each call reads the accounts again.
func (s *ConsoleSync) Standby() (*Engine, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	gc, ad, err := newClients(cfg)
	if err != nil {
		return nil, err
	}
	return New(engineConfig(cfg, gc, ad))
}

// Stop ends the run and waits for its in-flight work to drain. It is a
// no-op when nothing runs.
func (s *ConsoleSync) Stop() {
	s.halt()
	if s.o.Remember != nil {
		s.o.Remember(false)
	}
}

// Close ends the run like Stop without changing what the next start of
// the console does: closing the window is not a decision to stop syncing.
func (s *ConsoleSync) Close() { s.halt() }

func (s *ConsoleSync) halt() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// State reports whether a run is under way and, when none is, why the
// last one stopped by itself (nil after a Stop or before any start).
func (s *ConsoleSync) State() (running bool, lastErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancel != nil, s.lastErr
}
