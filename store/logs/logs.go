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
)

// FileName is the log file's name inside the data folder.
const FileName = "parley.log"

// CrashFileName is where fatal errors (an unhandled panic anywhere) are
// written, in the data folder, beside the log.
const CrashFileName = "crash.log"

// MaxSize is how large the log may grow before it is moved aside to
// parley.log.1 (replacing an older one) at the next start.
const MaxSize = 10 << 20

// Open opens (creating if needed) the log file in dir, rotating it first if
// it has grown past MaxSize, and returns a logger that writes to it and to
// extra (e.g. stderr; nil for none). Close the file when done.
func Open(dir string, extra io.Writer, level slog.Level) (*slog.Logger, *os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxSize {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, nil, fmt.Errorf("rotate %s: %w", path, err)
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open log: %w", err)
	}
	var w io.Writer = f
	if extra != nil {
		w = io.MultiWriter(f, extra)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), f, nil
}

// CaptureCrashes makes the Go runtime write the report of any fatal error,
// on any goroutine, to crash.log in dir as well as to stderr: someone who
// started Parley from a desktop icon never sees stderr. Reports hold stack
// traces and the panic message, never credential values (nothing puts one
// in a panic).
func CaptureCrashes(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, CrashFileName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
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
