package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// libraryNormalize is Normalize without the fast path: what the library
// alone makes of raw.
func libraryNormalize(raw, region string) (string, error) {
	return normalizeSlow(strings.TrimSpace(raw), region)
}

// nanpLike generates numbers that look like the fast path's input, and
// the near misses it must leave to the library: a digit too few or too
// many, area codes starting 0 or 1, other country codes, spaces.
func nanpLike(r *rand.Rand) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	switch r.IntN(8) {
	case 0:
		return "+1" + digits(9+r.IntN(3))
	case 1:
		return "+" + digits(1+r.IntN(15))
	case 2:
		return "+1 " + digits(10)
	case 3:
		return digits(10 + r.IntN(2))
	case 4:
		return "+1" + string(byte('0'+r.IntN(2))) + digits(9)
	default:
		return "+1" + digits(10)
	}
}

// agree fails t when Normalize and the library differ on raw.
func agree(t *testing.T, raw, region string) {
	t.Helper()
	got, gotErr := Normalize(raw, region)
	want, wantErr := libraryNormalize(raw, region)
	if got != want || (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Normalize(%q, %q) = %q, %v; the library alone gives %q, %v", raw, region, got, gotErr, want, wantErr)
	}
	if gotErr != nil && !errors.Is(gotErr, ErrNotPhone) {
		t.Fatalf("Normalize(%q, %q) error %v is not ErrNotPhone", raw, region, gotErr)
	}
}

// TestFastPathAgreesWithLibrary checks the canonical-input fast path
// against the library on every area code and exchange start, on the near
// misses around them, and on random numbers.
func TestFastPathAgreesWithLibrary(t *testing.T) {
	regions := []string{"", "US", "CA", "GB", "FR", "xx"}
	for area := 0; area < 1000; area++ {
		// Exchanges starting 0 and 1 (not assigned in North America) and
		// one of 2-9.
		for _, ex := range []int{0, 1, 2 + area%8} {
			raw := fmt.Sprintf("+1%03d%d555%03d", area, ex, (area*7+ex)%1000)
			agree(t, raw, regions[(area+ex)%len(regions)])
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		agree(t, nanpLike(r), regions[i%len(regions)])
	}
}

// FuzzFastPath compares Normalize with the library on arbitrary input.
func FuzzFastPath(f *testing.F) {
	for _, s := range []string{"+19025551037", "+1902555103", "+10025551037", "+442079460018", "+1 902 555 1037", "+190255510377"} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		if len(region) != 2 {
			region = "US"
		}
		agree(t, raw, region)
	})
}

func TestFastPathIsTaken(t *testing.T) {
	// The library is not needed to answer for canonical North American
	// numbers; if this fails, the fast path was lost and imports slow down.
	for _, raw := range []string{"+19025551037", "+12125550000", "+18005551212"} {
		if _, ok := fastE164(raw); !ok {
			t.Errorf("fastE164(%q) not taken", raw)
		}
	}
	for _, raw := range []string{"+11025551037", "+10025551037", "+1902555103", "+190255510377", "+449025551037", "19025551037"} {
		if _, ok := fastE164(raw); ok {
			t.Errorf("fastE164(%q) taken; it must be left to the library", raw)
		}
	}
}
