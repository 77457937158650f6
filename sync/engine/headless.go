package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"parley/sync/activedemand"
	"parley/sync/demo"
)

// SchemaVersioner is what the headless run needs of the store for now: the
// version it reports. *store.Store implements it.
type SchemaVersioner interface {
	SchemaVersion(ctx context.Context) (int, error)
}

// HeadlessOptions configures [RunHeadless].
type HeadlessOptions struct {
	// Out receives what a person at the terminal should read.
	Out io.Writer
	// Store is the open database.
	Store SchemaVersioner
	// DataDir is the data folder, for the routes file and the message.
	DataDir string
	// Demo runs against the built-in sandboxes instead of real accounts.
	Demo bool
	// Sandbox configures the demo sandboxes (listen addresses, activity).
	Sandbox demo.Options
	// Logger receives the run's log lines; nil discards them.
	Logger *slog.Logger
}

// RunHeadless is `parley sync`, and the console's fallback without a display.
// The engine that will run here is not part of this build yet. In demo mode
// the sandboxes it will sync between are started and served until ctx ends
// (SIGINT or SIGTERM, in the command); with real accounts there is nothing
// to run yet, and it says so plainly and returns.
func RunHeadless(ctx context.Context, o HeadlessOptions) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	version, err := o.Store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Data folder: %s (database schema version %d).\n", o.DataDir, version)
	_, routesFile, err := activedemand.RoutesFromDir(o.DataDir)
	if err != nil {
		return err
	}
	if routesFile != "" {
		fmt.Fprintf(o.Out, "ActiveDEMAND routes: the defaults, corrected by %s.\n", routesFile)
	}
	if !o.Demo {
		fmt.Fprintln(o.Out, "The sync engine is not part of this build yet, so there is nothing to sync with your connected accounts; exiting.")
		log.Info("headless sync: no engine in this build", "demo", false)
		return nil
	}
	opts := o.Sandbox
	opts.Logger = log
	bg := demo.StartBackground(o.DataDir, opts)
	defer bg.Close()
	sb, err := bg.Wait()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Demo mode: the built-in demo sandboxes are serving on loopback (ActiveDEMAND %s, HighLevel %s).\n", sb.AD.URL(), sb.GHL.URL())
	fmt.Fprintln(o.Out, "The sync engine is not part of this build yet, so nothing is synced between them; running until interrupted (Ctrl+C).")
	log.Info("headless sync: demo sandboxes up, no engine in this build", "activedemand", sb.AD.URL(), "highlevel", sb.GHL.URL())
	<-ctx.Done()
	fmt.Fprintln(o.Out, "Stopping.")
	return nil
}
