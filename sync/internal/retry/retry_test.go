package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

// rec runs a Call whose attempts answer from verdicts in turn, recording
// the waits instead of sleeping.
type rec struct {
	waits  []time.Duration
	tries  []bool // last, per attempt
	checks int
}

func (r *rec) policy(max int) Policy {
	return Policy{MaxAttempts: max, BaseDelay: time.Second, MaxDelay: time.Second, Rand: func() float64 { return 0.5 },
		Sleep: func(ctx context.Context, d time.Duration) error { r.waits = append(r.waits, d); return ctx.Err() }}.WithDefaults(Policy{})
}

var errTry = errors.New("try failed")

func TestCall(t *testing.T) {
	again := Verdict{Again: true}
	tests := []struct {
		name       string
		max        int
		verdicts   []Verdict
		wantTries  int
		wantWaits  []time.Duration
		wantErr    error
		wantChecks int
	}{
		{"stops when asked", 5, []Verdict{again, {}}, 2, []time.Duration{500 * time.Millisecond}, errTry, 0},
		{"stops at MaxAttempts", 2, []Verdict{again, again, again}, 2, []time.Duration{500 * time.Millisecond}, errTry, 0},
		{"Retry-After, then no wait", 5, []Verdict{{Again: true, After: 3 * time.Second}, {Again: true, NoWait: true}, {}}, 3, []time.Duration{3 * time.Second}, errTry, 0},
		{"one extra attempt at the limit", 2, []Verdict{again, {Again: true, NoWait: true, Extra: true}, again}, 3, []time.Duration{500 * time.Millisecond}, errTry, 0},
		{"check after the last attempt", 1, []Verdict{{Again: true, Check: func(context.Context) (bool, error) { return false, nil }}}, 1, []time.Duration{500 * time.Millisecond}, errTry, 1},
		{"check ends the call", 5, []Verdict{{Again: true, Check: func(context.Context) (bool, error) { return true, nil }}}, 1, []time.Duration{500 * time.Millisecond}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &rec{}
			err := Call{
				Policy: r.policy(tt.max),
				Attempt: func(_ context.Context, n int, last bool) (Verdict, error) {
					r.tries = append(r.tries, last)
					v := tt.verdicts[n-1]
					if v.Check != nil {
						check := v.Check
						v.Check = func(ctx context.Context) (bool, error) { r.checks++; return check(ctx) }
					}
					return v, errTry
				},
			}.Do(t.Context())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if len(r.tries) != tt.wantTries || !r.tries[len(r.tries)-1] && len(r.tries) >= tt.max {
				t.Errorf("tries %v, want %d", r.tries, tt.wantTries)
			}
			if len(r.waits) != len(tt.wantWaits) {
				t.Fatalf("waits %v, want %v", r.waits, tt.wantWaits)
			}
			for i := range r.waits {
				if r.waits[i] != tt.wantWaits[i] {
					t.Errorf("waits %v, want %v", r.waits, tt.wantWaits)
				}
			}
			if r.checks != tt.wantChecks {
				t.Errorf("%d checks, want %d", r.checks, tt.wantChecks)
			}
		})
	}
}

func TestCallWaitFailed(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &rec{}
	try := func(v Verdict) func(context.Context, int, bool) (Verdict, error) {
		return func(context.Context, int, bool) (Verdict, error) { return v, errTry }
	}
	errCall, errVerdict := errors.New("call's"), errors.New("verdict's")
	err := Call{Policy: r.policy(3), Attempt: try(Verdict{Again: true}),
		WaitFailed: func(cause, err error) error { return errors.Join(errCall, cause, err) }}.Do(ctx)
	if !errors.Is(err, errCall) || !errors.Is(err, errTry) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the call's wrapping of the cause and the context's error", err)
	}
	err = Call{Policy: r.policy(3), Attempt: try(Verdict{Again: true, WaitFailed: func(err error) error { return errVerdict }}),
		WaitFailed: func(cause, err error) error { return errCall }}.Do(ctx)
	if err != errVerdict {
		t.Errorf("err = %v, want the verdict's", err)
	}
}

func TestWithDefaults(t *testing.T) {
	def := Policy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 10 * time.Second}
	p := Policy{BaseDelay: time.Minute}.WithDefaults(def)
	if p.MaxAttempts != 4 || p.BaseDelay != time.Minute || p.MaxDelay != time.Minute || p.MaxRetryAfter != time.Minute || p.Rand == nil || p.Sleep == nil {
		t.Errorf("defaults %+v", p)
	}
}
