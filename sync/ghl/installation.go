package ghl

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/oauth2"
)

// Installation is the result of an OAuth code exchange: the token and what
// HighLevel says it is for.
type Installation struct {
	// Token is the access and refresh token; persist it (keyring) and pass
	// it as Config.Token. Its Extra holds the raw answer's other fields.
	Token      *oauth2.Token
	LocationID string
	CompanyID  string
	// UserType is "Location" for a sub-account token.
	UserType string
	// Scope is the space-separated list of scopes granted.
	Scope  string
	UserID string
}

// String keeps the tokens out of logs.
func (i Installation) String() string {
	return fmt.Sprintf("ghl.Installation{Token: %s, LocationID: %q, CompanyID: %q, UserType: %q, Scope: %q}",
		tokenString(i.Token), i.LocationID, i.CompanyID, i.UserType, i.Scope)
}

// GoString keeps the tokens out of %#v.
func (i Installation) GoString() string { return i.String() }

// Format keeps the tokens out of every fmt verb.
func (i Installation) Format(f fmt.State, _ rune) { formatAs(f, i.String()) }

// MarshalJSON keeps the tokens out of JSON too; persist Token itself (the
// caller's keyring), not the Installation.
func (i Installation) MarshalJSON() ([]byte, error) { return json.Marshal(i.String()) }

// LogValue keeps the tokens out of slog output.
func (i Installation) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", tokenString(i.Token)), slog.String("locationId", i.LocationID),
		slog.String("companyId", i.CompanyID), slog.String("userType", i.UserType), slog.String("scope", i.Scope))
}

// tokenString describes a token without its values.
func tokenString(t *oauth2.Token) string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("[redacted token, expires %s]", t.Expiry.UTC().Format(time.RFC3339))
}
