package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/BurntSushi/toml"

	"parley/assets"
)

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

// appMetadata reads the app's identity from the embedded FyneApp.toml.
func appMetadata(fyneAppTOML []byte) (fyne.AppMetadata, error) {
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

func newApp(meta fyne.AppMetadata) fyne.App {
	app.SetMetadata(meta)
	a := app.NewWithID(meta.ID)
	a.SetIcon(assets.Icon)
	return a
}
