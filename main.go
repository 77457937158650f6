// Command parley is the Parley desktop console, which keeps ActiveDEMAND and
// HighLevel conversations in sync. This file only parses flags, wires the
// store, the engine and the UI together, and hands off.
//
//	parley            open the console (falls back to `parley sync` without a display)
//	parley sync       run the sync engine headless
//	parley verify     reconcile ActiveDEMAND, HighLevel and the id map
//	parley sandbox    serve the built-in ActiveDEMAND and HighLevel sandboxes on loopback
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"parley/assets"
	"parley/store"
	"parley/store/logs"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/demo"
	"parley/sync/engine"
	"parley/ui"
	"parley/ui/display"
	"parley/ui/launch"
	"parley/ui/player"
)

// FyneApp.toml is the one place the app's ID, name and version are written;
// `fyne package` reads it, and so does this binary.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode tells scripts apart what needs a look from what failed; the
// README documents the codes.
func exitCode(err error) int {
	switch {
	case errors.Is(err, engine.ErrProblemsFound):
		return 2
	case errors.Is(err, engine.ErrTooManyChanges):
		return 3
	}
	return 1
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	meta, err := assets.Metadata(fyneAppTOML)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, assets.Version(meta.Version))
		return nil
	}
	if o.dataDir == "" {
		if o.dataDir, err = store.DefaultDir(); err != nil {
			return fmt.Errorf("find the data folder: %w (pass --data-dir)", err)
		}
	}
	logger, logFile, err := logs.Open(o.dataDir, stderr, o.level())
	slog.SetDefault(logger)
	defer logFile.Close()
	if err != nil {
		slog.Warn("no log file", "err", err)
	}
	if err := logs.CaptureCrashes(o.dataDir); err != nil {
		slog.Warn("crash reports will go to stderr only", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.command == "sandbox" {
		return demo.Serve(ctx, stdout, o.dataDir, demo.Options{GHLAddr: o.ghlAddr, ADAddr: o.adAddr, Logger: slog.Default()})
	}
	if o.command == "" {
		if err := display.Probe(ctx); err != nil {
			fmt.Fprintf(stdout, "No display found (%v), so the console window cannot open.\nRunning the headless sync instead, as `parley sync` would.\n", err)
			o.command = "sync"
		}
	}
	connected := secrets.AccountsConnected(secrets.Chain{secrets.Keyring{}, secrets.Env{}})
	inDemo := o.demo || (!o.demoSet && !connected) // demo until both accounts have credentials
	if o.command == "" {
		stop() // the window keeps no state a signal could lose: let it end the process, as before
		return runConsole(o, meta, inDemo)
	}
	// Demo data lives in a folder of its own, so leaving demo mode never
	// mixes sandbox records into the real history and id map.
	db, err := store.Open(ctx, filepath.Join(store.ModeDir(o.dataDir, inDemo), store.DatabaseFile))
	if err != nil {
		slog.Error("cannot open the database", "err", err)
		return err
	}
	defer db.Close()
	headless := engine.HeadlessOptions{Out: stdout, Store: db, DataDir: o.dataDir, Demo: inDemo,
		Once: o.once, Workers: o.workers, PollEvery: o.poll, Logger: slog.Default(),
		DryRun: o.dryRun, Backfill: o.backfill, MaxChanges: o.maxChanges, Confirm: o.confirm,
		WebhookListen: o.webhookListen, WebhookURL: o.webhookURL,
		Accounts: engine.Accounts{Vault: secrets.Chain{secrets.Keyring{}, secrets.Env{}},
			GHLBaseURL: o.ghlBaseURL, ADBaseURL: o.adBaseURL, GHLLocation: o.ghlLocation, GHLProvider: o.ghlProvider, ADRate: o.adRate}}
	if o.command == "verify" {
		return engine.RunVerify(ctx, engine.VerifyOptions{HeadlessOptions: headless, Repair: o.repair, JSON: o.json})
	}
	return engine.RunHeadless(ctx, headless)
}

// runConsole opens the console window on the demo or the real accounts;
// the window can switch between them itself.
func runConsole(o options, meta fyne.AppMetadata, inDemo bool) error {
	a := newApp(meta)
	lo := launch.Options{DataDir: o.dataDir, Preferences: a.Preferences(), Logger: slog.Default(), Vault: secrets.Chain{secrets.Keyring{}, secrets.Env{}},
		GHLBaseURL: o.ghlBaseURL, ADBaseURL: o.adBaseURL, ADRate: o.adRate}
	// oto allows one audio context per process: one device, opened when a
	// recording first plays.
	lo.Sound = player.NewLazyDevice()
	deps, err := launch.Open(context.Background(), lo, inDemo)
	if err != nil {
		slog.Error("cannot open the console", "err", err)
		// Launched from a desktop icon, there is no terminal to read.
		ui.NewStartupErrorWindow(a, err, ui.Deps{DataDir: store.ModeDir(o.dataDir, inDemo)}).ShowAndRun()
		return err
	}
	slog.Info("console started", "version", meta.Version, "demo", inDemo, "data", o.dataDir)
	// Closing the window releases the mode on display: its sync drains
	// and its database closes before this returns.
	ui.NewConsole(a, deps).ShowAndRun()
	return nil
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
	// `parley sync`: where the accounts are, and how to run.
	ghlBaseURL, ghlLocation, ghlProvider, adBaseURL string
	poll                                            time.Duration
	once                                            bool
	workers                                         int
	dryRun, confirm                                 bool
	backfill                                        *engine.DateRange
	maxChanges                                      int
	webhookListen, webhookURL                       string
	adRate                                          float64
	// `parley verify`.
	repair, json bool
}

func (o options) level() slog.Level {
	if o.verbose {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley [flags] [sync|verify|sandbox]\n\n  (no command)  open the console window\n  sync          run the sync engine without a window\n  verify        compare ActiveDEMAND, HighLevel and the id map; exit 2 when problems are found\n  sandbox       serve the demo ActiveDEMAND and HighLevel sandboxes on loopback, to try by hand\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dataDir, "data-dir", "", "folder for the database, media and logs (default: the user's data folder)")
	fs.BoolVar(&o.demo, "demo", false, "run against the built-in sandbox accounts (the default until real accounts are connected)")
	fs.BoolVar(&o.verbose, "v", false, "log debug detail")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.ghlAddr, "ghl-listen", "127.0.0.1:0", "sandbox: address of the HighLevel sandbox (port 0 picks a free one)")
	fs.StringVar(&o.adAddr, "ad-listen", "127.0.0.1:0", "sandbox: address of the ActiveDEMAND sandbox (port 0 picks a free one)")
	fs.StringVar(&o.ghlBaseURL, "ghl-base-url", os.Getenv("PARLEY_GHL_BASE_URL"), "sync: HighLevel API base URL (env PARLEY_GHL_BASE_URL; default the live API)")
	fs.StringVar(&o.ghlLocation, "ghl-location", os.Getenv("PARLEY_GHL_LOCATION"), "sync: HighLevel location (sub-account) id (env PARLEY_GHL_LOCATION)")
	fs.StringVar(&o.ghlProvider, "ghl-provider", os.Getenv("PARLEY_GHL_PROVIDER"), "sync: HighLevel conversation provider id records are made under (env PARLEY_GHL_PROVIDER)")
	fs.StringVar(&o.adBaseURL, "ad-base-url", os.Getenv("PARLEY_AD_BASE_URL"), "sync: ActiveDEMAND API base URL (env PARLEY_AD_BASE_URL; default the live API)")
	fs.DurationVar(&o.poll, "poll", engine.DefaultPollEvery, "sync: how often to look for ActiveDEMAND changes")
	fs.BoolVar(&o.once, "once", false, "sync: catch up once (poll, drain the outbox, print a summary) and exit; non-zero when a person must act")
	fs.IntVar(&o.workers, "workers", engine.DefaultWorkers, "sync: how many jobs run at once")
	fs.BoolVar(&o.dryRun, "dry-run", false, "sync: say what would be created, updated, recorded and uploaded, and write nothing")
	fs.Func("backfill", "sync: queue the messages ActiveDEMAND sent from FROM to TO (`FROM..TO`, dates as YYYY-MM-DD, both included)", func(v string) error {
		r, err := engine.ParseDateRange(v, time.Local)
		o.backfill = &r
		return err
	})
	fs.IntVar(&o.maxChanges, "max-changes", 0, "sync: hold a backlog of more than N changes unsent until --confirm (0: no limit)")
	fs.BoolVar(&o.confirm, "confirm", false, "sync: send a backlog larger than --max-changes")
	fs.StringVar(&o.webhookListen, "webhook-listen", os.Getenv("PARLEY_WEBHOOK_LISTEN"), "sync: serve ActiveDEMAND's webhooks on this address; each event triggers a poll (env PARLEY_WEBHOOK_LISTEN; default off)")
	fs.StringVar(&o.webhookURL, "webhook-url", os.Getenv("PARLEY_WEBHOOK_URL"), "sync: public URL ActiveDEMAND posts webhooks to; subscribed once, kept across restarts (env PARLEY_WEBHOOK_URL)")
	fs.Float64Var(&o.adRate, "ad-rate", envRate(), fmt.Sprintf("ActiveDEMAND requests a second, for an account known to allow more than the default %v (env PARLEY_AD_RATE; ActiveDEMAND does not publish its limits)", float64(activedemand.DefaultRateLimit)))
	fs.BoolVar(&o.repair, "repair", false, "verify: queue the missing messages for the next sync (never deletes)")
	fs.BoolVar(&o.json, "json", false, "verify: write the report as JSON")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	// Flags may also follow the command: `parley sync --data-dir X`.
	if rest := fs.Args(); len(rest) > 0 && (rest[0] == "sync" || rest[0] == "verify" || rest[0] == "sandbox") {
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
	if o.poll <= 0 || o.workers <= 0 {
		return o, fmt.Errorf("--poll and --workers must be positive (got %s and %d)", o.poll, o.workers)
	}
	if o.maxChanges < 0 {
		return o, fmt.Errorf("--max-changes must be 0 (no limit) or more (got %d)", o.maxChanges)
	}
	if !(o.adRate >= 0 && o.adRate <= maxADRate) { // NaN too
		return o, fmt.Errorf("--ad-rate (or PARLEY_AD_RATE) must be between 0 (the default %v a second) and %d requests a second (got %v)",
			float64(activedemand.DefaultRateLimit), maxADRate, o.adRate)
	}
	return o, nil
}

// maxADRate bounds --ad-rate: past it a typo, not an account's limit.
const maxADRate = 1000

// envRate is PARLEY_AD_RATE as --ad-rate's default; a value that is not a
// number becomes NaN, which parseFlags refuses with the flag's rule.
func envRate() float64 {
	v := strings.TrimSpace(os.Getenv("PARLEY_AD_RATE"))
	if v == "" {
		return 0
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.NaN()
	}
	return r
}

func newApp(meta fyne.AppMetadata) fyne.App {
	app.SetMetadata(meta)
	a := app.NewWithID(meta.ID)
	a.SetIcon(assets.Icon)
	return a
}
