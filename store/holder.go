package store

// Job holders: which open database claimed an in-flight job, and whether
// it is still open. A job's lease says how long a worker may hold it; a
// worker whose process was killed holds it until the lease runs out (two
// minutes in the engine). Each Store that claims jobs takes a random id
// and holds an advisory lock (flock on Unix, LockFileEx on Windows: the
// system releases it when the process dies, however it dies) on a file
// named after it beside the database, and writes the id on what it claims.
// A claim that finds a holder's file unlocked (or gone) settles that
// holder's jobs at once, as an expired lease would be.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
)

// holderCheckEvery is how often a claim looks for dead holders: a file
// lock attempt per other holder, between thousands of claims a second.
const holderCheckEvery = 5 * time.Second

// holderState is a Store's own holder id and lock, taken on its first
// claim, and when it last looked for dead holders.
type holderState struct {
	once sync.Once
	// id is "" when no lock could be taken (a read-only folder, a
	// filesystem without locks): this Store's jobs then wait out their
	// lease if it dies.
	id   string
	lock *flock.Flock
	// checked is when dead holders were last looked for (UnixNano).
	checked atomic.Int64
}

// holdersDir is the folder of the holders' lock files of the database at
// path.
func holdersDir(path string) string { return path + ".holders" }

// holderID returns this Store's holder id, taking its lock on first use.
func (s *Store) holderID() string {
	h := &s.holder
	h.once.Do(func() {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return
		}
		id := hex.EncodeToString(b)
		dir := holdersDir(s.path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return
		}
		l := flock.New(filepath.Join(dir, id+".lock"), flock.SetPermissions(0o600))
		if ok, err := l.TryLock(); err != nil || !ok {
			return
		}
		if _, err := s.w.Exec(`INSERT INTO job_holders (id, pid, started_at) VALUES (?, ?, ?)`, id, os.Getpid(), toMillis(s.now())); err != nil {
			_ = l.Unlock()
			_ = os.Remove(l.Path())
			return
		}
		h.id, h.lock = id, l
	})
	return h.id
}

// releaseHolder unregisters this Store's holder, before Close closes the
// connections: its workers have stopped, and a job it still holds is free
// at once.
func (s *Store) releaseHolder() {
	l := s.holder.lock
	if l == nil {
		return
	}
	// A job still in flight here has no worker any more (the engine drains
	// before it closes): its lease ends now, and the next claim settles it.
	// #nosec G104 -- closing: what is left behind is found dead and
	// settled by the next claim anyway
	_, _ = s.w.Exec(`UPDATE outbox SET lease_until = min(lease_until, ?) WHERE state = 'in_flight' AND holder = ?`, toMillis(s.now()), s.holder.id)
	_, _ = s.w.Exec(`DELETE FROM job_holders WHERE id = ?`, s.holder.id)
	_ = l.Unlock()
	_ = os.Remove(l.Path())
}

// validHolderID keeps file names made from the database's text to what
// holderID writes.
func validHolderID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// holderAlive reports whether the holder's Store is still open: its lock
// file exists and is locked. A file this call finds unlocked belonged to a
// process that died; it is removed.
func holderAlive(dir, id string) bool {
	path := filepath.Join(dir, id+".lock")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false // closed (Close removes it) or cleaned up already
	} else if err != nil {
		return true // cannot tell: the lease decides, as before
	}
	l := flock.New(path, flock.SetPermissions(0o600))
	if ok, err := l.TryLock(); err != nil || !ok {
		return true // locked: open; an error: cannot tell
	}
	_ = l.Unlock()
	_ = os.Remove(path)
	return false
}

// releaseDeadHolders ends now the leases of the in-flight jobs whose
// holder is no longer open, so that settleExpiredLeases, run next in the
// same transaction, hands them back. It looks at most every
// holderCheckEvery.
func (s *Store) releaseDeadHolders(ctx context.Context, tx *sql.Tx, self string, now int64) error {
	last := s.holder.checked.Load()
	wall := time.Now().UnixNano()
	if last != 0 && time.Duration(wall-last) < holderCheckEvery || !s.holder.checked.CompareAndSwap(last, wall) {
		return nil
	}
	holders, err := queryAll(ctx, txQuerier{s, tx}, func(sc rowScanner) (string, error) {
		var h string
		return h, sc.Scan(&h)
	}, `SELECT id FROM job_holders WHERE id != ?`, self)
	if err != nil {
		return err
	}
	dir := holdersDir(s.path)
	for _, h := range holders {
		if validHolderID(h) && holderAlive(dir, h) {
			continue
		}
		// The in-flight index is on the lease, so this reads the in-flight
		// jobs only, not the done ones.
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = min(lease_until, ?) WHERE state = 'in_flight' AND holder = ?`, now, h); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM job_holders WHERE id = ?`, h); err != nil {
			return err
		}
	}
	return nil
}
