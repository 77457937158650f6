package sandboxkit

import (
	"math"
	"strings"
	"testing"
	"time"
)

var soakRates = FaultRates{
	ServerError: 0.10, TooMany: 0.05, Burst: 3,
	DropBefore: 0.01, DropAfter: 0.01,
	MalformedBefore: 0.005, MalformedAfter: 0.005,
	Slow: 0.01, SlowDelay: time.Millisecond,
}

// draws takes n faults for route from a queue holding only mix's fault and
// returns what each call got ("-" for none).
func draws(t *testing.T, mix *FaultMix, route string, n int) []string {
	t.Helper()
	var fs Faults
	if err := fs.Inject(mix.Fault("")); err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		f, ok := fs.Take(route)
		if !ok {
			out[i] = "-"
			continue
		}
		if f.Route != route {
			t.Fatalf("drawn fault for route %q names %q", route, f.Route)
		}
		if err := f.Validate(); err != nil {
			t.Fatalf("drawn fault %+v: %v", f, err)
		}
		out[i] = f.String()
	}
	return out
}

func TestFaultMixIsReproducible(t *testing.T) {
	mk := func(seed uint64) *FaultMix {
		m, err := NewFaultMix(seed, soakRates)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := strings.Join(draws(t, mk(7), "r", 2000), " ")
	b := strings.Join(draws(t, mk(7), "r", 2000), " ")
	c := strings.Join(draws(t, mk(8), "r", 2000), " ")
	if a != b {
		t.Error("two mixes with the same seed drew different faults")
	}
	if a == c {
		t.Error("two mixes with different seeds drew the same faults")
	}
}

// TestFaultMixRates: over many calls each kind's share is the rate asked
// for, 429s included although they come in bursts.
func TestFaultMixRates(t *testing.T) {
	const n = 200_000
	mix, err := NewFaultMix(42, soakRates)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range draws(t, mix, "r", n) {
		switch {
		case f == "status-500" || f == "status-502" || f == "status-503" || f == "status-504":
			got["5xx"]++
		default:
			got[f]++
		}
	}
	want := map[string]float64{
		"5xx": soakRates.ServerError, "status-429": soakRates.TooMany,
		string(FaultDropBefore): soakRates.DropBefore, string(FaultDropAfter): soakRates.DropAfter,
		string(FaultMalformedBefore): soakRates.MalformedBefore, string(FaultMalformedAfter): soakRates.MalformedAfter,
		string(FaultSlow): soakRates.Slow,
	}
	for kind, rate := range want {
		share := float64(got[kind]) / n
		// Five standard deviations of a binomial share, widened for the
		// bursts, which make 429s count in runs of three.
		tol := 5 * math.Sqrt(rate*(1-rate)/n) * math.Sqrt(float64(soakRates.Burst))
		if math.Abs(share-rate) > tol {
			t.Errorf("%s: share %.4f, want %.4f ± %.4f", kind, share, rate, tol)
		}
	}
	st := mix.Stats()
	if st.Calls != n {
		t.Errorf("Stats.Calls = %d, want %d", st.Calls, n)
	}
	for kind, count := range got {
		if kind == "-" {
			continue
		}
		sum := 0
		for k, c := range st.Injected {
			if k == kind || (kind == "5xx" && strings.HasPrefix(k, "status-5")) {
				sum += c
			}
		}
		if sum != count {
			t.Errorf("Stats.Injected counts %d of %s, the calls got %d", sum, kind, count)
		}
	}
}

func TestFaultMix429sComeInBursts(t *testing.T) {
	mix, err := NewFaultMix(3, FaultRates{TooMany: 0.05, Burst: 4, RetryAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var fs Faults
	if err := fs.Inject(mix.Fault("r")); err != nil {
		t.Fatal(err)
	}
	run, runs := 0, 0
	for range 20_000 {
		f, ok := fs.Take("r")
		if ok {
			if f.Status != 429 || f.RetryAfter != 2*time.Second {
				t.Fatalf("drew %+v, want a 429 with Retry-After 2s", f)
			}
			run++
			continue
		}
		if run > 0 {
			// Two bursts can start back to back, never shorter ones.
			if run%4 != 0 {
				t.Fatalf("a run of %d 429s, want whole bursts of 4", run)
			}
			runs++
			run = 0
		}
	}
	if runs < 100 {
		t.Errorf("only %d bursts in 20,000 calls", runs)
	}
	if _, ok := fs.Take("other"); ok {
		t.Error("a mix for route r faulted another route")
	}
}

// TestFaultMixLetsQuietCallsThrough: a call the mix leaves alone takes the
// next queued fault, so a test can still aim one fault at a call.
func TestFaultMixLetsQuietCallsThrough(t *testing.T) {
	mix, err := NewFaultMix(1, FaultRates{})
	if err != nil {
		t.Fatal(err)
	}
	var fs Faults
	for _, f := range []Fault{mix.Fault(""), {Route: "r", Kind: FaultDropAfter}} {
		if err := fs.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	if f, ok := fs.Take("r"); !ok || f.Kind != FaultDropAfter {
		t.Fatalf("took %+v, %v; want the queued drop", f, ok)
	}
	for range 3 {
		if f, ok := fs.Take("r"); ok {
			t.Fatalf("took %+v from a mix of zero rates", f)
		}
	}
	if st := mix.Stats(); st.Calls != 4 || len(st.Injected) != 0 {
		t.Errorf("stats %+v, want 4 calls and nothing injected", st)
	}
}

// TestFaultMixOverHTTP serves a mix through Fault.Serve: the "after" kinds
// apply the call, the others do not, and the toy counts which.
func TestFaultMixOverHTTP(t *testing.T) {
	s, u := newToy(t)
	mix, err := NewFaultMix(11, FaultRates{DropAfter: 0.2, DropBefore: 0.2, MalformedAfter: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.faults.Inject(mix.Fault(toyRoute)); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for range n {
		post(t.Context(), u)
	}
	st := mix.Stats()
	quiet := n - st.Injected[string(FaultDropAfter)] - st.Injected[string(FaultDropBefore)] - st.Injected[string(FaultMalformedAfter)]
	want := int32(quiet + st.Injected[string(FaultDropAfter)] + st.Injected[string(FaultMalformedAfter)])
	if st.Calls != n || s.applied.Load() != want {
		t.Errorf("%d calls drawn, %d applied; want %d and %d (stats %+v)", st.Calls, s.applied.Load(), n, want, st)
	}
}

func TestFaultRatesValidate(t *testing.T) {
	bad := []FaultRates{
		{ServerError: -0.1},
		{Slow: 1.5},
		{ServerError: 0.6, DropBefore: 0.5},
		{TooMany: 1},
		{TooMany: 0.5, Burst: 1, ServerError: 0.5},
		{Burst: -1},
		{SlowDelay: -time.Second},
		{ServerError: math.NaN()},
	}
	for _, r := range bad {
		if _, err := NewFaultMix(1, r); err == nil {
			t.Errorf("%+v was accepted", r)
		}
	}
	if err := (Fault{Kind: FaultRandom}).Validate(); err == nil {
		t.Error("a random fault without a mix was accepted")
	}
}
