package ghl

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every credential prints as.
const redacted = "[redacted]"

// Secret is a credential (client secret, private integration token). It
// prints as "[redacted]" with every fmt verb, in slog output and in JSON, so
// that a Config or an error can be logged without leaking it; Reveal is the
// only way to get the value back.
type Secret string

// Reveal returns the credential itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when no secret is set, so that a missing
// credential stays visible in diagnostics.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v redacted too.
func (s Secret) GoString() string { return fmt.Sprintf("ghl.Secret(%q)", s.String()) }

// Format redacts the secret for every verb, including %x and %d, which would
// otherwise bypass String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps the secret out of JSON (slog's JSON handler, debug dumps).
// Persist credentials with Reveal, never by marshalling a struct holding them.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// formatAs writes s for every verb: types holding credentials implement
// fmt.Formatter with it so that no verb (%d, %x, %+v) falls through to
// printing their fields.
func formatAs(f fmt.State, s string) { _, _ = io.WriteString(f, s) }
