package store

// Prepared statements for the sync engine's per-job path. The SQLite
// driver compiles the SQL of every unprepared call, and for the outbox's
// small statements compiling cost more than running them: about a fifth
// of all CPU time in the engine's mirror benchmark. The statements here
// are prepared once per connection and reused.

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a cache: its statements come from a fixed set of
// SQL texts, so reaching it means a caller builds SQL it should not cache.
const maxCachedStmts = 64

// stmtCache holds one database handle's prepared statements by SQL text.
//
// The writer has one connection, which a transaction holds while it runs:
// a statement first met inside one cannot be prepared on the handle then
// (it would wait for the transaction's own connection). It runs unprepared
// that once and is prepared when the transaction has ended (prepareWanted).
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	// m holds the prepared statements; nil for SQL that failed to
	// prepare, which then always runs unprepared.
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

// lookup returns query's statement, or nil when it is not prepared (yet),
// in which case the next prepareWanted prepares it.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	if !ok && len(c.m)+len(c.wanted) < maxCachedStmts {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[query] = true
	}
	return st
}

// get returns query's statement, preparing it now if needed: for a handle
// with connections to spare (the read pool), not for the writer inside a
// transaction. It returns nil, and no error, past the cache's bound.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.lookup(query); st != nil {
		return st, nil
	}
	c.prepareWanted(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query], nil
}

// prepareWanted prepares the statements lookup was asked for. A statement
// that fails to prepare is not tried again; it runs unprepared, with its
// error where it runs.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for q := range wanted {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			st = nil
			if ctx.Err() != nil {
				continue // try again next time
			}
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		switch {
		case c.m[q] == nil:
			c.m[q] = st
		case st != nil:
			// Prepared meanwhile by another goroutine.
			st.Close() // #nosec G104 -- a duplicate; the cached one is in use
		}
		c.mu.Unlock()
	}
}

// close closes every statement; the cache may not be used afterwards.
func (c *stmtCache) close() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	c.m, c.wanted = nil, nil
	return errs
}

// txStmt is query's statement in tx, prepared once, after the first
// transaction that uses it; until then it is prepared for tx alone.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st := s.wstmts.lookup(query); st != nil {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// txExec runs a write of the per-job path in tx, prepared once.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// txQuery runs a query of the per-job path in tx, prepared once.
func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txQueryRow is txQuery for one row.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) rowScanner {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// readRow runs a read of the per-job path on the read pool, prepared once
// per connection.
func (s *Store) readRow(ctx context.Context, query string, args ...any) rowScanner {
	st, err := s.rstmts.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return s.r.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier is a querier that runs its queries through s's statements in tx.
type txQuerier struct {
	s  *Store
	tx *sql.Tx
}

func (q txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.s.txQuery(ctx, q.tx, query, args...)
}

// errRow is a row whose statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
