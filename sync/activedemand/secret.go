package activedemand

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
)

const redacted = "[redacted]"

// Secret is a credential (an API key or a webhook secret). It prints as
// [redacted] under every fmt verb, in JSON, as text and in slog, so a
// config struct holding one can be logged or shown in an error safely.
// Reveal is the only way to the value.
type Secret string

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String hides the value.
func (s Secret) String() string { return redacted }

// GoString hides the value under %#v.
func (s Secret) GoString() string { return redacted }

// Format hides the value under every verb, including %x and %q.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON hides the value in JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText hides the value in text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue hides the value in slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// scrubber removes secret values from text that may have come back from a
// server (an error body echoing a key) or from an underlying error.
type scrubber struct {
	r *strings.Replacer
}

func newScrubber(secrets ...Secret) scrubber {
	var pairs []string
	for _, s := range secrets {
		v := s.Reveal()
		if v == "" {
			continue
		}
		pairs = append(pairs, v, redacted)
		if e := url.QueryEscape(v); e != v {
			pairs = append(pairs, e, redacted)
		}
		if e := url.PathEscape(v); e != v {
			pairs = append(pairs, e, redacted)
		}
	}
	if len(pairs) == 0 {
		return scrubber{}
	}
	return scrubber{r: strings.NewReplacer(pairs...)}
}

func (s scrubber) scrub(text string) string {
	if s.r == nil {
		return text
	}
	return s.r.Replace(text)
}

// scrubbedError carries an error whose text has had secrets removed, while
// errors.Is and errors.As still reach the original chain.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// wrap returns err with secrets scrubbed from its text.
func (s scrubber) wrap(err error) error {
	if err == nil || s.r == nil {
		return err
	}
	msg := err.Error()
	clean := s.scrub(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}
