package ghl

import (
	"fmt"
	"io"

	"parley/sync/internal/secret"
)

// Secret is a credential (client secret, private integration token). It
// prints as "[redacted]" with every fmt verb, in slog output and in JSON, so
// that a Config or an error can be logged without leaking it; Reveal is the
// only way to get the value back.
type Secret = secret.Secret

// formatAs writes s for every verb: types holding credentials implement
// fmt.Formatter with it so that no verb (%d, %x, %+v) falls through to
// printing their fields.
func formatAs(f fmt.State, s string) { _, _ = io.WriteString(f, s) }
