// Package secret holds the credential type both API clients use and the
// one scrubber that removes credentials from any text a server or a library
// hands back: error bodies, transport errors, log lines.
package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what every credential prints as.
const Redacted = "[redacted]"

// Secret is a credential (an API key, a client secret, a private token, a
// webhook secret). It prints as [redacted] under every fmt verb, in JSON,
// as text and in slog, so that a config struct holding one can be logged or
// shown in an error safely; Reveal is the only way to the value.
type Secret string

// Reveal returns the credential itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns [redacted], or "" when no secret is set, so that a missing
// credential stays visible in diagnostics.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v redacted too.
func (s Secret) GoString() string { return fmt.Sprintf("Secret(%q)", s.String()) }

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

// MarshalJSON keeps the secret out of JSON (slog's JSON handler, debug
// dumps). Persist credentials with Reveal, never by marshalling a struct
// holding them.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText keeps the secret out of text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
