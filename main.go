// Command parley is the Parley desktop console, which keeps ActiveDEMAND and
// HighLevel conversations in sync. This file only parses flags, wires the
// store, the engine and the UI together, and hands off.
//
//	parley            open the console (falls back to `parley sync` without a display)
//	parley sync       run the sync engine headless
//	parley sandbox    serve the built-in ActiveDEMAND and HighLevel sandboxes on loopback
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/BurntSushi/toml"

	"parley/assets"
	"parley/store"
	"parley/store/logs"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/demo"
	"parley/sync/engine"
	"parley/ui"
)

// FyneApp.toml is the one place the app's ID, name and version are written;
// `fyne package` reads it, and so does this binary.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

type options struct {
	command string
	dataDir string
	demo    bool
	demoSet bool
	verbose bool
	version bool
	// Listen addresses of `parley sandbox`.
	ghlAddr, adAddr string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley [flags] [sync|sandbox]\n\n  (no command)  open the console window\n  sync          run the sync engine without a window\n  sandbox       serve the demo ActiveDEMAND and HighLevel sandboxes on loopback, to try by hand\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dataDir, "data-dir", "", "folder for the database, media and logs (default: the user's data folder)")
	fs.BoolVar(&o.demo, "demo", false, "run against the built-in sandbox accounts (the default until real accounts are connected)")
	fs.BoolVar(&o.verbose, "v", false, "log debug detail")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.ghlAddr, "ghl-listen", "127.0.0.1:0", "sandbox: address of the HighLevel sandbox (port 0 picks a free one)")
	fs.StringVar(&o.adAddr, "ad-listen", "127.0.0.1:0", "sandbox: address of the ActiveDEMAND sandbox (port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	// Flags may also follow the command: `parley sync --data-dir X`.
	if rest := fs.Args(); len(rest) > 0 && (rest[0] == "sync" || rest[0] == "sandbox") {
		o.command = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return o, err
		}
	}
	if rest := fs.Args(); len(rest) > 0 {
		fs.Usage()
		return o, fmt.Errorf("unknown command %q", rest[0])
	}
	fs.Visit(func(f *flag.Flag) { o.demoSet = o.demoSet || f.Name == "demo" })
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	meta, err := appMetadata()
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintf(stdout, "%s %s (build %d)\n", meta.Name, meta.Version, meta.Build)
		return nil
	}
	if o.dataDir == "" {
		if o.dataDir, err = store.DefaultDir(); err != nil {
			return fmt.Errorf("find the data folder: %w (pass --data-dir)", err)
		}
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger, logFile, err := logs.Open(o.dataDir, stderr, level)
	if err != nil {
		return err
	}
	defer logFile.Close()
	slog.SetDefault(logger)
	if err := logs.CaptureCrashes(o.dataDir); err != nil {
		slog.Warn("crash reports will go to stderr only", "err", err)
	}

	if o.command == "sandbox" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runSandbox(ctx, stdout, o)
	}

	if o.command == "" && !hasDisplay() {
		fmt.Fprintln(stdout, "No display found ($DISPLAY and $WAYLAND_DISPLAY are unset), so the console window cannot open.")
		fmt.Fprintln(stdout, "Running the headless sync instead, as `parley sync` would.")
		o.command = "sync"
	}

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(o.dataDir, store.DatabaseFile))
	if err != nil {
		slog.Error("cannot open the database", "err", err)
		if o.command == "" {
			// Launched from a desktop icon there is no terminal to print to.
			a := newApp(meta)
			ui.NewStartupErrorWindow(a, err, ui.Deps{DataDir: o.dataDir, OpenFolder: ui.OpenFolderWith(a)}).ShowAndRun()
		}
		return err
	}
	defer db.Close()

	vault := secrets.Chain{secrets.Keyring{}, secrets.Env{}}
	connected := accountsConnected(vault)
	// Demo mode is the default until both accounts have credentials.
	inDemo := o.demo || (!o.demoSet && !connected)
	if o.command == "sync" {
		return runHeadless(ctx, stdout, db, o.dataDir, inDemo)
	}

	deps := ui.Deps{
		History:   db,
		Importer:  engine.NewImporter(db, engine.ImporterOptions{Location: time.Local}),
		Keyring:   secrets.Keyring{},
		DataDir:   o.dataDir,
		Demo:      inDemo,
		Connected: connected,
	}
	if inDemo {
		// The sandboxes stand in for both accounts while the console is
		// open, on loopback only. Starting them takes a fifth of a second,
		// so the window does not wait for it.
		started := startDemo(o.dataDir)
		deps.DemoSandboxes = func() (string, string, error) {
			sb, err := started()
			if err != nil {
				return "", "", err
			}
			return sb.AD.URL(), sb.GHL.URL(), nil
		}
		defer func() {
			if sb, err := started(); err == nil {
				_ = sb.Close()
			}
		}()
	}
	console := ui.NewConsole(newApp(meta), deps)
	slog.Info("console started", "version", meta.Version, "demo", inDemo, "data", o.dataDir)
	console.ShowAndRun()
	return nil
}

func newApp(meta fyne.AppMetadata) fyne.App {
	app.SetMetadata(meta)
	a := app.NewWithID(meta.ID)
	a.SetIcon(assets.Icon)
	return a
}

// runHeadless is `parley sync`. The engine that will run here is not part of
// this build yet, so it reports what it found and says so plainly.
func runHeadless(ctx context.Context, stdout io.Writer, db *store.Store, dataDir string, demo bool) error {
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	mode := "your connected accounts"
	if demo {
		mode = "the built-in demo sandboxes"
	}
	fmt.Fprintf(stdout, "Data folder: %s (database schema version %d).\n", dataDir, version)
	if _, routesFile, err := adRoutes(dataDir); err != nil {
		return err
	} else if routesFile != "" {
		fmt.Fprintf(stdout, "ActiveDEMAND routes: the defaults, corrected by %s.\n", routesFile)
	}
	fmt.Fprintf(stdout, "The sync engine is not part of this build yet, so there is nothing to sync with %s; exiting.\n", mode)
	slog.Info("headless sync: no engine in this build", "demo", demo)
	return nil
}

// runSandbox is `parley sandbox`: both sandboxes, seeded and live, until
// interrupted. It needs no database.
func runSandbox(ctx context.Context, stdout io.Writer, o options) error {
	routes, routesFile, err := adRoutes(o.dataDir)
	if err != nil {
		return err
	}
	if routesFile != "" {
		fmt.Fprintf(stdout, "ActiveDEMAND routes: the defaults, corrected by %s\n\n", routesFile)
	}
	sb, err := demo.Start(demo.Options{GHLAddr: o.ghlAddr, ADAddr: o.adAddr, ADRoutes: routes, Logger: slog.Default()})
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := sb.Describe(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nServing until interrupted (Ctrl+C).")
	slog.Info("sandboxes started", "highlevel", sb.GHL.URL(), "activedemand", sb.AD.URL())
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping the sandboxes.")
	return nil
}

// startDemo starts the demo sandboxes in the background and returns a
// function that waits for them.
func startDemo(dataDir string) func() (*demo.Sandboxes, error) {
	type result struct {
		sb  *demo.Sandboxes
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		routes, _, err := adRoutes(dataDir)
		if err == nil {
			r.sb, err = demo.Start(demo.Options{ADRoutes: routes, Logger: slog.Default()})
		}
		if r.err = err; err != nil {
			slog.Error("demo sandboxes did not start", "err", err)
		}
		done <- r
	}()
	return sync.OnceValues(func() (*demo.Sandboxes, error) {
		r := <-done
		return r.sb, r.err
	})
}

// adRoutesFile is the admin's corrections to the ActiveDEMAND route table,
// in the data folder (README: "ActiveDEMAND endpoints").
const adRoutesFile = "activedemand-routes.toml"

// adRoutes returns the ActiveDEMAND route table: the defaults, corrected by
// the routes file when there is one (its path is returned too).
func adRoutes(dataDir string) (activedemand.Routes, string, error) {
	path := filepath.Join(dataDir, adRoutesFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return activedemand.DefaultRoutes(), "", nil
	}
	routes, err := activedemand.LoadRoutes(path)
	return routes, path, err
}

func accountsConnected(v secrets.Vault) bool {
	has := func(n secrets.Name) bool { _, err := v.Get(n); return err == nil }
	return has(secrets.ADAPIKey) && has(secrets.ADApplicationKey) &&
		(has(secrets.GHLOAuthToken) || has(secrets.GHLPrivateToken))
}

// hasDisplay reports whether a window can be opened. Only X11 and Wayland
// systems can lack one; macOS and Windows always have a desktop.
func hasDisplay() bool {
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

func appMetadata() (fyne.AppMetadata, error) {
	var file struct {
		Details struct {
			ID, Name, Version string
			Build             int
		}
	}
	if err := toml.Unmarshal(fyneAppTOML, &file); err != nil {
		return fyne.AppMetadata{}, fmt.Errorf("read the embedded FyneApp.toml: %w", err)
	}
	d := file.Details
	return fyne.AppMetadata{ID: d.ID, Name: d.Name, Version: d.Version, Build: d.Build, Icon: assets.Icon}, nil
}
