package sandboxkit

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// FaultRates is the share of calls that each kind of fault answers, for a
// FaultMix. Shares are of all the calls the mix sees, 0 to 1; the calls
// left over are served normally.
type FaultRates struct {
	// ServerError answers 500, 502, 503 or 504, each equally often.
	ServerError float64
	// TooMany answers 429, in runs of Burst calls in a row, as a server
	// that has just hit its limit refuses everything for a moment.
	TooMany float64
	// Burst is how many calls in a row a 429 run lasts (default 3).
	Burst int
	// RetryAfter is sent with each 429 (default 1s).
	RetryAfter time.Duration
	// DropBefore and DropAfter close the connection without an answer,
	// before or after applying the call.
	DropBefore, DropAfter float64
	// MalformedBefore and MalformedAfter answer 200 with a cut-off body,
	// before or after applying the call.
	MalformedBefore, MalformedAfter float64
	// Slow serves the call after SlowDelay (default 100ms).
	Slow      float64
	SlowDelay time.Duration
}

func (r FaultRates) withDefaults() FaultRates {
	if r.Burst == 0 {
		r.Burst = 3
	}
	if r.RetryAfter == 0 {
		r.RetryAfter = time.Second
	}
	if r.SlowDelay == 0 {
		r.SlowDelay = 100 * time.Millisecond
	}
	return r
}

// others is the share of every kind but 429.
func (r FaultRates) others() float64 {
	return r.ServerError + r.DropBefore + r.DropAfter + r.MalformedBefore + r.MalformedAfter + r.Slow
}

func (r FaultRates) validate() error {
	for name, v := range map[string]float64{"ServerError": r.ServerError, "TooMany": r.TooMany, "DropBefore": r.DropBefore,
		"DropAfter": r.DropAfter, "MalformedBefore": r.MalformedBefore, "MalformedAfter": r.MalformedAfter, "Slow": r.Slow} {
		if !(v >= 0 && v <= 1) { // also refuses NaN
			return fmt.Errorf("%s rate %v is not a share between 0 and 1", name, v)
		}
	}
	switch {
	case r.Burst < 1:
		return fmt.Errorf("a 429 burst of %d calls: it must be at least 1", r.Burst)
	case r.RetryAfter < 0 || r.SlowDelay < 0:
		return errors.New("RetryAfter and SlowDelay must not be negative")
	case r.TooMany >= 1:
		return errors.New("a TooMany rate of 1 leaves no call to end a burst; lower it")
	}
	// Outside bursts, a call starts one with chance TooMany/(Burst·(1-TooMany))
	// and meets another kind with chance others/(1-TooMany): see draw.
	if need := r.TooMany/float64(r.Burst) + r.others(); need > 1-r.TooMany+1e-9 {
		return fmt.Errorf("the rates add up to more than every call (%.3f of the %.3f left outside 429 bursts); lower them", need, 1-r.TooMany)
	}
	return nil
}

// FaultMix injects faults at random, at fixed rates, from a seed: a soak
// test's weather rather than one aimed failure. Inject its Fault into a
// sandbox like any other; each call the fault's route sees then draws its
// own fault, or none. The same seed draws the same sequence of faults, so
// a run is replayed by its seed as far as the calls arrive in the same
// order (concurrent clients may interleave them differently). It is safe
// for concurrent use.
type FaultMix struct {
	rates FaultRates

	mu        sync.Mutex
	rng       *rand.Rand
	burstLeft int // 429s still owed by the current burst
	calls     int
	injected  map[string]int
}

// NewFaultMix returns a mix drawing from seed at rates, or says why the
// rates cannot be served.
func NewFaultMix(seed uint64, rates FaultRates) (*FaultMix, error) {
	rates = rates.withDefaults()
	if err := rates.validate(); err != nil {
		return nil, fmt.Errorf("fault mix: %w", err)
	}
	return &FaultMix{
		rates:    rates,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), // #nosec G404 -- reproducible test faults, seeded on purpose
		injected: map[string]int{},
	}, nil
}

// Fault is the fault to inject for the mix: on route ("" for every route)
// it stays queued until the faults are cleared, whatever its Times.
func (m *FaultMix) Fault(route string) Fault {
	return Fault{Route: route, Kind: FaultRandom, Mix: m, Times: -1}
}

// MixStats is what a FaultMix has done so far.
type MixStats struct {
	// Calls is how many calls drew from the mix.
	Calls int
	// Injected counts the faults drawn by Fault.String, e.g. "status-503".
	Injected map[string]int
}

// Stats reports the calls drawn and the faults injected so far.
func (m *FaultMix) Stats() MixStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return MixStats{Calls: m.calls, Injected: maps.Clone(m.injected)}
}

var serverErrors = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// draw picks the fault for one call to route, if any.
//
// The rates are shares of all calls, 429s included although they come in
// runs: outside a run a call starts one with chance q = TooMany/(Burst·(1-
// TooMany)), so the runs cover TooMany of the calls, and meets another
// kind k with chance rate_k/(1-TooMany), which is rate_k of all calls.
func (m *FaultMix) draw(route string) (Fault, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	r := m.rates
	f := Fault{Route: route}
	if m.burstLeft > 0 {
		m.burstLeft--
		f.Kind, f.Status, f.RetryAfter = FaultStatus, http.StatusTooManyRequests, r.RetryAfter
		m.injected[f.String()]++
		return f, true
	}
	u := m.rng.Float64()
	outside := 1 - r.TooMany
	band := func(rate float64) bool {
		p := rate / outside
		if u < p {
			return true
		}
		u -= p
		return false
	}
	switch {
	case band(r.TooMany / float64(r.Burst)):
		m.burstLeft = r.Burst - 1
		f.Kind, f.Status, f.RetryAfter = FaultStatus, http.StatusTooManyRequests, r.RetryAfter
	case band(r.ServerError):
		f.Kind, f.Status = FaultStatus, serverErrors[m.rng.IntN(len(serverErrors))]
	case band(r.DropBefore):
		f.Kind = FaultDropBefore
	case band(r.DropAfter):
		f.Kind = FaultDropAfter
	case band(r.MalformedBefore):
		f.Kind = FaultMalformedBefore
	case band(r.MalformedAfter):
		f.Kind = FaultMalformedAfter
	case band(r.Slow):
		f.Kind, f.Delay = FaultSlow, r.SlowDelay
	default:
		return Fault{}, false
	}
	m.injected[f.String()]++
	return f, true
}
