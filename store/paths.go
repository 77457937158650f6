package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// lockWait is how long Open waits for another Parley to finish creating or
// migrating the same database before giving up with a message.
const lockWait = 2 * time.Minute

// lockDatabase takes the advisory lock beside the database (flock on Unix,
// LockFileEx on Windows) and returns its release. The lock file stays
// behind, empty; deleting a lock file another process may be waiting on
// would let a third one take a second lock.
func lockDatabase(ctx context.Context, dbPath string) (func(), error) {
	lockPath := dbPath + ".lock"
	l := flock.New(lockPath, flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 25*time.Millisecond)
	switch {
	case ok:
		return func() { _ = l.Unlock() }, nil
	case err == nil || errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("another Parley has been opening %s for %v (it holds %s); wait for it to finish or close it, then start Parley again", dbPath, lockWait, lockPath)
	case errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("open database %s: %w", dbPath, err)
	default:
		return nil, dirError(filepath.Dir(dbPath), err)
	}
}

// dirError reports a data folder Parley cannot write, with what to do about
// it when the cause is one a user can fix.
func dirError(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return &DataDirError{Dir: dir, Err: err}
	}
	return fmt.Errorf("use data folder %s: %w", dir, err)
}

// busyRetries bounds retryBusy; busy_timeout already waits 5 s per attempt.
const busyRetries = 4

// retryBusy runs fn again when SQLite answers SQLITE_BUSY, which it does
// without waiting in a few cases (another process recovering the WAL, a
// read transaction that cannot be upgraded), so one busy moment does not
// stop a start.
func retryBusy(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		var se *sqlite.Error
		if attempt == busyRetries || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}
