package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DatabaseFile is the name of the database inside the data directory.
const DatabaseFile = "parley.db"

// DefaultDir returns the per-user data directory for Parley, following each
// platform's convention: $XDG_DATA_HOME/parley or ~/.local/share/parley on
// Linux and the BSDs, ~/Library/Application Support/Parley on macOS and
// %LocalAppData%\Parley on Windows (local, not roaming: the database is
// machine-specific and can be large). It does not create the directory.
func DefaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil && runtime.GOOS != "windows" {
		return "", err
	}
	return defaultDir(runtime.GOOS, os.Getenv, home)
}

// DefaultPath returns DefaultDir()/parley.db.
func DefaultPath() (string, error) {
	dir, err := DefaultDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, DatabaseFile), nil
}

func defaultDir(goos string, getenv func(string) string, home string) (string, error) {
	switch goos {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "Parley"), nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		if home == "" {
			return "", errors.New("home directory is unknown")
		}
		return filepath.Join(home, "Library", "Application Support", "Parley"), nil
	default:
		// The XDG spec says relative values are invalid and must be ignored.
		if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "parley"), nil
		}
		if home == "" {
			return "", errors.New("home directory is unknown")
		}
		return filepath.Join(home, ".local", "share", "parley"), nil
	}
}
