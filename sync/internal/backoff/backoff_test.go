package backoff

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestFullJitterBounds(t *testing.T) {
	base, ceiling := 250*time.Millisecond, 30*time.Second
	tests := []struct {
		n    int
		want time.Duration // the exclusive upper bound for r just below 1
	}{
		{0, 250 * time.Millisecond},
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{5, 4 * time.Second},
		{8, 30 * time.Second},
		{40, 30 * time.Second},
		{math.MaxInt, 30 * time.Second},
	}
	for _, tc := range tests {
		if got := FullJitter(base, ceiling, tc.n, 0); got != 0 {
			t.Errorf("n=%d, r=0: %v, want 0", tc.n, got)
		}
		got := FullJitter(base, ceiling, tc.n, 0.999999)
		if got >= tc.want || got < tc.want*99/100 {
			t.Errorf("n=%d, r≈1: %v, want just under %v", tc.n, got, tc.want)
		}
		if got := FullJitter(base, ceiling, tc.n, 0.5); got != tc.want/2 {
			t.Errorf("n=%d, r=0.5: %v, want %v", tc.n, got, tc.want/2)
		}
	}
	for _, r := range []float64{-1, 1, 2, math.NaN()} {
		if got := FullJitter(base, ceiling, 3, r); got != 0 {
			t.Errorf("r=%v: %v, want 0 for a draw outside [0,1)", r, got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"  ", 0},
		{"3", 3 * time.Second},
		{" 3 ", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"0", 0},
		{"-4", 0},
		{"NaN", 0},
		{"soon", 0},
		{"99999999999999", 7 * 24 * time.Hour},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second},
		{"Wed, 25 Nov 2026 11:59:00 GMT", 0},
		{"Wed, 25 Nov 2099 12:00:00 GMT", 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		if got := RetryAfter(tc.in, now); got != tc.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep after cancel = %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := Sleep(context.Background(), -time.Second); err != nil {
		t.Fatal(err)
	}
}
