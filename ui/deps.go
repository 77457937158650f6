package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"

	"parley/store"
	"parley/sync/engine"
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
	// OpenFolder shows a folder in the system file manager.
	OpenFolder func(path string) error
	// Do runs a function on the UI goroutine; background work hands its
	// results to the widgets through it. It is fyne.Do unless a test
	// substitutes its own loop (Fyne's test driver runs fyne.Do on the
	// calling goroutine, which would let two results race).
	Do func(func())
}

func (d Deps) withDefaults() Deps {
	if d.Keyring == nil {
		d.Keyring = unknownKeyring{}
	}
	if d.Do == nil {
		d.Do = fyne.Do
	}
	if d.OpenFolder == nil {
		d.OpenFolder = func(string) error { return errors.New("opening folders is not supported here") }
	}
	return d
}

type unknownKeyring struct{}

func (unknownKeyring) Probe() error { return errors.New("no keyring was configured for this window") }
