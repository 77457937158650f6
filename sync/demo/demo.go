// Package demo runs the two built-in sandboxes together on loopback: the
// ActiveDEMAND sandbox and the HighLevel sandbox, seeded with the same demo
// business so that contacts match and some conversations are already
// mirrored. Demo mode and `parley sandbox` both start it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// DefaultSeed picks the demo business. Both sandboxes must use the same one.
const DefaultSeed = 1

// Options configures the sandboxes. The zero value listens on free loopback
// ports with the default demo business and live activity every 20 seconds.
type Options struct {
	// GHLAddr and ADAddr are listen addresses; default "127.0.0.1:0".
	GHLAddr, ADAddr string
	// Seed picks the demo business; default DefaultSeed.
	Seed uint64
	// Now places the demo's history; default the current time.
	Now time.Time
	// ActivityEvery is how often the ActiveDEMAND sandbox adds a message or
	// a change; zero means 20 s, negative turns activity off.
	ActivityEvery time.Duration
	// ADRoutes is the route table the ActiveDEMAND sandbox follows (an
	// admin's corrections included); zero is the default table.
	ADRoutes activedemand.Routes
	// GHLEmpty starts the HighLevel location with no contacts and no
	// conversations, for the sync engine to fill. The seeded location
	// holds messages mirrored by no Parley: their altIds are demo keys and
	// no id map knows them, so the engine would record each a second time
	// under its ActiveDEMAND id.
	GHLEmpty bool
	// Logger receives the sandboxes' request lines; nil discards them.
	Logger *slog.Logger
}

// Sandboxes are the two running sandboxes. Close stops both.
type Sandboxes struct {
	GHL *ghltest.Server
	AD  *adtest.Server

	// GHLToken is a Private Integration Token of the demo location, valid
	// for every scope Parley uses. It is a sandbox credential only.
	GHLToken string

	cancel context.CancelFunc
}

// Start seeds and starts both sandboxes. On error nothing is left running.
func Start(opts Options) (*Sandboxes, error) {
	if opts.GHLAddr == "" {
		opts.GHLAddr = "127.0.0.1:0"
	}
	if opts.ADAddr == "" {
		opts.ADAddr = "127.0.0.1:0"
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.ActivityEvery == 0 {
		opts.ActivityEvery = 20 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	ghlSeed := opts.Seed
	if opts.GHLEmpty {
		ghlSeed = 0
	}
	ghl, err := ghltest.New(ghltest.Options{Addr: opts.GHLAddr, Seed: ghlSeed, SeedTime: opts.Now, Logger: log.With("sandbox", "highlevel")})
	if err != nil {
		return nil, fmt.Errorf("start the HighLevel sandbox: %w", err)
	}
	if _, err := ghl.Listen(""); err != nil {
		_ = ghl.Close()
		return nil, fmt.Errorf("start the HighLevel sandbox on %s: %w", opts.GHLAddr, err)
	}
	ad, err := adtest.New(adtest.Options{Addr: opts.ADAddr, Seed: opts.Seed, SeedTime: opts.Now, Logger: log.With("sandbox", "activedemand"), Routes: opts.ADRoutes})
	if err != nil {
		_ = ghl.Close()
		return nil, fmt.Errorf("start the ActiveDEMAND sandbox: %w", err)
	}
	if _, err := ad.Listen(""); err != nil {
		_ = ghl.Close()
		_ = ad.Close()
		return nil, fmt.Errorf("start the ActiveDEMAND sandbox on %s: %w", opts.ADAddr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if opts.ActivityEvery > 0 {
		ad.StartActivity(ctx, opts.ActivityEvery)
	}
	return &Sandboxes{GHL: ghl, AD: ad, GHLToken: ghl.PrivateToken(), cancel: cancel}, nil
}

// Close stops the activity and both servers.
func (s *Sandboxes) Close() error {
	s.cancel()
	return errors.Join(s.AD.Close(), s.GHL.Close())
}

// Describe writes what a person needs to try the sandboxes by hand: the
// addresses and the sandbox-only credentials, with a request to try.
func (s *Sandboxes) Describe(w io.Writer) error {
	ad := s.AD.ClientConfig()
	_, err := fmt.Fprintf(w, `HighLevel sandbox     %s
  location id         %s
  private token       %s
  OAuth client        %s / %s (POST /oauth/token)
  provider id         %s  (custom conversation provider)
  try: curl -H "Authorization: Bearer %s" -H "Version: 2021-04-15" "%s/conversations/search?locationId=%s"

ActiveDEMAND sandbox  %s
  application key     %s  (header X-Application-Api-Key)
  account API key     %s  (header x-api-key)
  webhook secret      %s
  try: curl -H "X-Application-Api-Key: %s" -H "x-api-key: %s" "%scontacts.json"

These credentials belong to the sandboxes only; they open nothing real.
`,
		s.GHL.URL(), s.GHL.LocationID(), s.GHLToken, ghltest.DefaultClientID, ghltest.DefaultClientSecret, s.GHL.ConversationProviderID(),
		s.GHLToken, s.GHL.URL(), s.GHL.LocationID(),
		s.AD.URL(), ad.AppKey.Reveal(), ad.APIKey.Reveal(), adtest.DefaultWebhookSecret,
		ad.AppKey.Reveal(), ad.APIKey.Reveal(), withSlash(s.AD.URL()))
	return err
}

func withSlash(u string) string {
	if u != "" && u[len(u)-1] != '/' {
		return u + "/"
	}
	return u
}

// GHLConfig is a HighLevel client configuration for the demo location,
// with the sandbox's private token.
func (s *Sandboxes) GHLConfig() ghl.Config {
	return ghl.Config{BaseURL: s.GHL.URL(), LocationID: s.GHL.LocationID(), PrivateToken: ghl.Secret(s.GHLToken)}
}

// ADConfig is an ActiveDEMAND client configuration for the demo account,
// following the sandbox's route table.
func (s *Sandboxes) ADConfig() activedemand.Config { return s.AD.ClientConfig() }

// ProviderID is the demo location's conversation provider id.
func (s *Sandboxes) ProviderID() string { return s.GHL.ConversationProviderID() }
