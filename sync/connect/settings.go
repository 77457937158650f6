package connect

// Prefixed files every key under a prefix, so that demo mode's settings
// (the sandbox's location, its scopes, when its keys were saved) never
// overwrite the real accounts' in the same preferences.
type Prefixed struct {
	Settings
	Prefix string
}

// String reads the prefixed key.
func (p Prefixed) String(key string) string { return p.Settings.String(p.Prefix + key) }

// SetString writes the prefixed key.
func (p Prefixed) SetString(key, value string) { p.Settings.SetString(p.Prefix+key, value) }

// RemoveValue removes the prefixed key.
func (p Prefixed) RemoveValue(key string) { p.Settings.RemoveValue(p.Prefix + key) }
