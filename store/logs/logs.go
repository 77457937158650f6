// Package logs opens Parley's log file in the data folder and keeps it from
// growing without bound. Log lines never carry secrets: callers log names of
// credentials, never values.
package logs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the log file's name inside the data folder.
const FileName = "parley.log"

// CrashFileName is where fatal errors (an unhandled panic anywhere) are
// written, in the data folder, beside the log.
const CrashFileName = "crash.log"

// MaxSize is how large the log may grow before it is moved aside to
// parley-<time>.log, whether at start or while Parley runs: a headless sync
// runs for weeks.
const MaxSize = 10 << 20

// MaxBackups is how many moved-aside logs are kept; older ones are deleted.
const MaxBackups = 3

// Open opens (creating if needed, mode 0600) the log file in dir and returns
// a logger that writes to it and to extra (e.g. stderr; nil for none). Close
// the returned Closer when done.
//
// When the file cannot be opened (a read-only data folder, say), Open still
// returns a working logger, writing to extra alone, together with an error
// naming the file: start-up goes on, to tell the user in a window.
func Open(dir string, extra io.Writer, level slog.Level) (*slog.Logger, io.Closer, error) {
	return open(dir, extra, level, MaxSize>>20)
}

// open is Open with the size cap in megabytes, lumberjack's unit.
func open(dir string, extra io.Writer, level slog.Level, maxMB int) (*slog.Logger, io.Closer, error) {
	path := filepath.Join(dir, FileName)
	if err := prepare(dir, path); err != nil {
		return newLogger(nil, extra, level), nopCloser{}, fmt.Errorf("open log %s: %w; logging to the terminal only", path, err)
	}
	// lumberjack creates files 0600 and gives rotated-in files the mode of
	// the one they replace, which prepare has made 0600.
	file := &lumberjack.Logger{Filename: path, MaxSize: maxMB, MaxBackups: MaxBackups}
	return newLogger(file, extra, level), file, nil
}

// prepare creates the folder and the file as lumberjack would, so that a
// folder that cannot be written shows now, not at the first line, and makes
// an older log (0644 before) private.
func prepare(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) // #nosec G304 -- path is the log file in Parley's own data folder, chosen by Open's caller
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	return errors.Join(err, f.Close())
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// newLogger writes each line to file and to extra independently: a log file
// that fails (full disk) must not silence the terminal, which
// io.MultiWriter would, as it stops at the first error. Either may be nil.
func newLogger(file, extra io.Writer, level slog.Level) *slog.Logger {
	var ws []io.Writer
	for _, w := range []io.Writer{file, extra} {
		if w != nil {
			ws = append(ws, w)
		}
	}
	return slog.New(slog.NewTextHandler(fanOut(ws), &slog.HandlerOptions{Level: level}))
}

// fanOut writes to every writer even when one fails, and reports the
// failures together.
type fanOut []io.Writer

func (f fanOut) Write(p []byte) (int, error) {
	var errs []error
	for _, w := range f {
		if _, err := w.Write(p); err != nil {
			errs = append(errs, err)
		}
	}
	return len(p), errors.Join(errs...)
}

// CaptureCrashes makes the Go runtime write the report of any fatal error,
// on any goroutine, to crash.log in dir as well as to stderr: someone who
// started Parley from a desktop icon never sees stderr. Reports hold stack
// traces and the panic message, never credential values (nothing puts one
// in a panic).
func CaptureCrashes(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, CrashFileName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) // #nosec G304 -- a fixed file name in Parley's own data folder
	if err != nil {
		return fmt.Errorf("open crash log: %w", err)
	}
	// SetCrashOutput keeps its own duplicate of the descriptor.
	defer f.Close()
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		return fmt.Errorf("capture crashes: %w", err)
	}
	return nil
}
