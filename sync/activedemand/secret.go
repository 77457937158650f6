package activedemand

import "parley/sync/internal/secret"

// redacted is what every credential prints as.
const redacted = secret.Redacted

// Secret is a credential (an API key or a webhook secret). It prints as
// [redacted] under every fmt verb, in JSON, as text and in slog, so a
// config struct holding one can be logged or shown in an error safely.
// Reveal is the only way to the value.
type Secret = secret.Secret
