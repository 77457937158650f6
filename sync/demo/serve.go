package demo

import (
	"context"
	"fmt"
	"io"

	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/connect"
	"parley/sync/ghl/ghltest"
)

// withRoutes fills opts.ADRoutes from the data folder's routes file, so the
// ActiveDEMAND sandbox answers where the admin's corrected client will call.
// It returns the file's path, "" when there is none.
func withRoutes(dataDir string, opts Options) (Options, string, error) {
	routes, file, err := activedemand.RoutesFromDir(dataDir)
	if err != nil {
		return opts, file, err
	}
	opts.ADRoutes = routes
	return opts, file, nil
}

// Serve is `parley sandbox`: it starts both sandboxes, following the routes
// file in dataDir, writes to w what a person needs to try them by hand, and
// serves until ctx ends. It needs no database.
func Serve(ctx context.Context, w io.Writer, dataDir string, opts Options) error {
	opts, file, err := withRoutes(dataDir, opts)
	if err != nil {
		return err
	}
	if file != "" {
		fmt.Fprintf(w, "ActiveDEMAND routes: the defaults, corrected by %s\n\n", file)
	}
	sb, err := Start(opts)
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := sb.Describe(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nServing until interrupted (Ctrl+C).")
	if opts.Logger != nil {
		opts.Logger.Info("sandboxes started", "highlevel", sb.GHL.URL(), "activedemand", sb.AD.URL())
	}
	<-ctx.Done()
	fmt.Fprintln(w, "Stopping the sandboxes.")
	return nil
}

// Background is a start of the sandboxes running beside the console
// window: starting them takes a fifth of a second, which the window does
// not wait for.
type Background struct {
	done   chan struct{}
	sb     *Sandboxes
	routes activedemand.Routes
	err    error
}

// StartBackground starts the sandboxes, following the routes file in
// dataDir, on a goroutine that the returned Background owns; Wait and
// Close wait for it.
func StartBackground(dataDir string, opts Options) *Background {
	b := &Background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		opts, _, err := withRoutes(dataDir, opts)
		if err == nil {
			b.routes = opts.ADRoutes
			b.sb, err = Start(opts)
		}
		if b.err = err; err != nil && opts.Logger != nil {
			opts.Logger.Error("demo sandboxes did not start", "err", err)
		}
	}()
	return b
}

// Wait waits for the start and returns the running sandboxes, or why they
// did not start.
func (b *Background) Wait() (*Sandboxes, error) {
	<-b.done
	return b.sb, b.err
}

// Close waits for the start, then stops the sandboxes if they started.
func (b *Background) Close() error {
	if sb, err := b.Wait(); err == nil {
		return sb.Close()
	}
	return nil
}

// URLs waits for the start and returns both base URLs, in the shape the
// console's Deps.DemoSandboxes takes.
func (b *Background) URLs() (adURL, ghlURL string, err error) {
	sb, err := b.Wait()
	if err != nil {
		return "", "", err
	}
	return sb.AD.URL(), sb.GHL.URL(), nil
}

// Connections waits for the start and returns the Connections screen's
// service for demo mode: credentials in memory only, settings under their
// own prefix, and both accounts pointing at the sandboxes, so trying the
// screen in demo mode never touches the keyring or the real settings.
func (b *Background) Connections(settings connect.Settings) (*connect.Service, error) {
	sb, err := b.Wait()
	if err != nil {
		return nil, err
	}
	return connect.New(connect.Options{
		Vault:           &secrets.Memory{},
		Settings:        connect.Prefixed{Settings: settings, Prefix: "demo."},
		GHLBaseURL:      sb.GHL.URL(),
		GHLAuthURL:      sb.GHL.URL() + ghltest.ConsentPath,
		ADBaseURL:       sb.AD.URL(),
		ADRoutes:        b.routes,
		DefaultClientID: ghltest.DefaultClientID,
	})
}
