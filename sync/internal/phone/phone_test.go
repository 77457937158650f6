package phone_test

import (
	"errors"
	"testing"

	"parley/sync/internal/phone"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want string
	}{
		{"+19025551000", "", "+19025551000"},
		{"(902) 555-1037", "", "+19025551037"},
		{"902.555.1037", "US", "+19025551037"},
		{"1 902 555 1037", "US", "+19025551037"},
		{"020 7946 0018", "GB", "+442079460018"},
		{"+44 20 7946 0018", "US", "+442079460018"},
		{"06 12 34 56 78", "fr", "+33612345678"},
	}
	for _, tt := range tests {
		got, err := phone.Normalize(tt.raw, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12ab", "123", "+1 902 555 10371234", "call me"} {
		if got, err := phone.Normalize(bad, "US"); !errors.Is(err, phone.ErrNotPhone) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrNotPhone", bad, got, err)
		}
	}
}
