package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"parley/store"
	"parley/sync/connect"
	"parley/sync/engine"
	"parley/sync/mapping"
	"parley/ui/player"
)

// HistorySource is what the History screen reads: the store's sync history.
type HistorySource interface {
	HistoryPage(ctx context.Context, f store.HistoryFilter) ([]store.HistoryEntry, error)
	HistoryOperations(ctx context.Context) ([]store.Operation, error)
}

// KeyringProbe reports whether the system keyring can hold credentials
// (nil), or why not, as an error that says what to do.
type KeyringProbe interface {
	Probe() error
}

// ExportImporter imports ActiveDEMAND export files through the engine: the
// console's way in for an account without API access. The engine's
// *Importer implements it.
type ExportImporter interface {
	// Preview reads one file and returns its kind, first rows and counts.
	Preview(ctx context.Context, path string) (engine.ImportPreview, error)
	// Check reads files together, as Import would, queueing nothing.
	Check(ctx context.Context, paths []string) (engine.ExportCounts, error)
	// Import queues the files' contacts and messages for the sync.
	Import(ctx context.Context, paths []string, progress func(engine.ImportProgress)) (engine.ImportResult, error)
}

// Connections connects the accounts: the HighLevel OAuth flow, saving and
// removing credentials (secrets go to the keyring only), test calls and
// the rotation reminder. *connect.Service implements it.
type Connections interface {
	Status(ctx context.Context) (connect.Status, error)
	SaveGHLApp(clientID, clientSecret string) error
	// ConnectGHL opens the consent page in the browser and waits for it.
	ConnectGHL(ctx context.Context, readWrite bool) (connect.GHLStatus, error)
	SaveGHLPrivateToken(token, locationID string) error
	SaveProviderID(id string) error
	SaveAD(appKey, apiKey string) error
	SaveADWebhookSecret(secret string) error
	// Test makes one read call with the saved credentials.
	Test(ctx context.Context, a connect.Account) (connect.TestResult, error)
	Disconnect(a connect.Account) error
	// RedirectURL is the URI to register in the HighLevel app.
	RedirectURL() string
	SetPort(port int) error
	RotateDays() int
	SetRotateDays(days int) error
}

// Alerts is what needs a person: the store's alerts.
type Alerts interface {
	OpenAlerts(ctx context.Context) ([]store.Alert, error)
	RecentAlerts(ctx context.Context, limit int) ([]store.Alert, error)
	AckAlert(ctx context.Context, id int64) error
	AlertTarget(ctx context.Context, id int64) (store.AlertTarget, error)
}

// SyncControl is what the Sync screen reads and drives: the engine's
// state, the queue, throughput, errors and HighLevel's budget, dead jobs
// and their replay. *engine.Control implements it.
type SyncControl interface {
	Dashboard(ctx context.Context) (engine.Dashboard, error)
	// DeadLetters pages dead jobs newest first, from below beforeID (0:
	// the newest).
	DeadLetters(ctx context.Context, beforeID int64, limit int) ([]store.OutboxItem, error)
	Replay(ctx context.Context, id int64) error
	ReplayAll(ctx context.Context) (int, error)
	// Pause and Resume fail with engine.ErrSyncNotRunning when no engine
	// runs in this window.
	Pause(reason string) error
	Resume() error
}

// BackfillProgress is how far a backfill has got: Done of Total items.
type BackfillProgress struct {
	Done, Total int
}

// Backfiller catches the sync up with everything ActiveDEMAND holds that
// was never mirrored.
type Backfiller interface {
	// Backfill runs until it is done or ctx ends, calling progress (from
	// any goroutine, as often as it likes) as it goes.
	Backfill(ctx context.Context, progress func(BackfillProgress)) error
}

// SyncReport is what a dry run or a verification found, for a person.
type SyncReport struct {
	// Summary is one sentence; Lines are the findings, one a line.
	Summary string
	Lines   []string
}

// DryRunner reports what the sync would write, writing nothing.
type DryRunner interface {
	DryRun(ctx context.Context) (SyncReport, error)
}

// Verifier compares the records the sync linked on both sides and
// reports where they differ.
type Verifier interface {
	Verify(ctx context.Context) (SyncReport, error)
}

// MappingEditor is the engine's field mapping API the Mapping screen
// edits through; *engine.Engine implements it. The screen never talks to
// either account itself.
type MappingEditor interface {
	MappingCatalog(ctx context.Context) (mapping.Catalog, error)
	CurrentMapping(ctx context.Context) (engine.MappingState, error)
	ValidateMapping(ctx context.Context, links []mapping.Link) (mapping.Problems, error)
	SaveMapping(ctx context.Context, links []mapping.Link, note string) (int, error)
	MappingVersions(ctx context.Context) ([]store.MappingVersion, error)
	MappingAt(ctx context.Context, version int) ([]mapping.Link, error)
	RevertMapping(ctx context.Context, version int) (int, error)
	PreviewMapping(ctx context.Context, links []mapping.Link, sample mapping.Record) (mapping.Preview, error)
	MappingSamples(ctx context.Context, limit int) ([]engine.MappingSample, error)
	// MappingSampleMessage is a sample contact's newest message the sync
	// has read, for the preview; ok false when there is none.
	MappingSampleMessage(ctx context.Context, contactID string) (msg engine.MappingMessage, ok bool, err error)
}

// SyncRunner starts and stops the console's own sync on the connected
// accounts; *engine.ConsoleSync implements it. Start and Stop may block
// (Stop drains in-flight work): the console calls them off the UI
// goroutine.
type SyncRunner interface {
	// Start begins syncing; an error (nothing started) says what to
	// connect first.
	Start() error
	// Stop ends the sync and is remembered: the next console start
	// leaves it stopped.
	Stop()
	// State reports whether it runs and why the last run stopped by
	// itself, if it did.
	State() (running bool, lastErr error)
}

// Deps is everything the console needs from the rest of Parley. main wires
// the real implementations; tests pass their own.
type Deps struct {
	History HistorySource
	Keyring KeyringProbe
	// Importer imports export files; nil shows the import disabled.
	Importer ExportImporter
	// DataDir is where the database, media and logs live.
	DataDir string
	// Demo is true when the engine runs against the built-in sandboxes.
	Demo bool
	// DemoSandboxes waits for the demo sandboxes to be running and returns
	// their base URLs, or why they did not start. The console calls it off
	// the UI goroutine, so starting them does not delay the window.
	DemoSandboxes func() (adURL, ghlURL string, err error)
	// Connected is true when both accounts have credentials.
	Connected bool
	// Connections, if set, lets the admin connect the accounts from the
	// Connections screen; nil shows the accounts read-only.
	Connections Connections
	// Alerts, if set, feeds the Alerts screen, its sidebar badge and the
	// desktop notifications.
	Alerts Alerts
	// AlertPoll is how often the console looks for new alerts (default
	// 15 s).
	AlertPoll time.Duration
	// Now is the clock for credential ages (default time.Now).
	Now func() time.Time
	// OpenFolder shows a folder in the system file manager. The console
	// leaves nil to the app (OpenFolderWith); a test may substitute its own.
	OpenFolder func(path string) error
	// Location is the time zone times are shown in; nil is the computer's.
	Location *time.Location
	// Do runs a function on the UI goroutine; background work hands its
	// results to the widgets through it. It is fyne.Do unless a test
	// substitutes its own loop (Fyne's test driver runs fyne.Do on the
	// calling goroutine, which would let two results race).
	Do func(func())
	// Sync, if set, feeds the Sync screen and lets it pause, resume and
	// replay; nil shows the screen saying the sync does not run here.
	Sync SyncControl
	// SyncEvery is how often the Sync screen reads its numbers while it
	// is on display (default 2 s).
	SyncEvery time.Duration
	// Backfill, DryRun and Verify run the Sync screen's buttons of those
	// names; a nil one shows its button disabled, saying why.
	Backfill Backfiller
	DryRun   DryRunner
	Verify   Verifier
	// Browse feeds the Contacts screen: contacts, their timelines and the
	// transcript search (*engine.Browser); nil shows the screen empty with
	// a hint.
	Browse ContactBrowser
	// Sound is where call recordings play (*player.Device, opened once by
	// main); nil means no sound device, and SoundErr says why.
	Sound player.Output
	// SoundErr is why there is no Sound (player.OpenDevice's error); the
	// player shows it and the transcripts still work.
	SoundErr error
	// Mapping, if set, feeds the Mapping editor; nil shows the screen
	// saying the mapping cannot be edited in this window.
	Mapping MappingEditor
	// Automations feeds the Automations screen: the engine's switches and
	// the routing rules (*store.Store); nil shows the catalog read-only.
	Automations Automations
	// RulePreview tests a rule being edited against recent call
	// transcripts (*routing.Previewer); nil disables the test, saying so.
	RulePreview RulePreviewer
	// Conversations feeds the Conversations screen: both systems'
	// conversations, a pair's aligned threads and its re-sync
	// (*engine.Browser); nil shows the screen empty with a hint.
	Conversations ConversationBrowser
	// Runner, outside demo mode, starts and stops the sync on the
	// connected accounts from the Sync screen; nil when the sync runs
	// by itself (the demo) or not in this window.
	Runner SyncRunner
	// SwitchMode, if set, opens the console's other mode (demo false:
	// the accounts in the keyring, with their own database; true: the
	// built-in sandboxes) and returns its Deps. The console calls it off
	// the UI goroutine, then shows the new mode in the same window and
	// releases the old one.
	SwitchMode func(ctx context.Context, demo bool) (Deps, error)
	// Release, if set, is called once the console no longer shows these
	// Deps (the window closed, or it switched mode): it stops their sync
	// and closes their database.
	Release func()
}

func (d Deps) withDefaults() Deps {
	if d.Keyring == nil {
		d.Keyring = unknownKeyring{}
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	if d.Do == nil {
		d.Do = fyne.Do
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SyncEvery <= 0 {
		d.SyncEvery = 2 * time.Second
	}
	if d.AlertPoll <= 0 {
		d.AlertPoll = 15 * time.Second
	}
	if d.OpenFolder == nil {
		d.OpenFolder = func(string) error { return errors.New("opening folders is not supported here") }
	}
	return d
}

// OpenFolderWith returns a way to show a folder in the system file manager
// through app.OpenURL, which goes through the desktop portal where there is
// one (Flatpak) and the desktop's own opener elsewhere. pkg/browser guesses
// at a browser instead and is kept for web pages that must open in one, such
// as an OAuth consent page.
func OpenFolderWith(app fyne.App) func(path string) error {
	return func(path string) error {
		u, err := fileURL(path)
		if err != nil {
			return err
		}
		return app.OpenURL(u)
	}
}

// fileURL is the file: URL of a local path, absolute and with a leading
// slash before a Windows drive letter, as file managers expect.
func fileURL(path string) (*url.URL, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("find the folder %s: %w", path, err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}, nil
}

type unknownKeyring struct{}

func (unknownKeyring) Probe() error { return errors.New("no keyring was configured for this window") }
