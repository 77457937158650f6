package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"time"
)

// FieldMapping says which AD field fills which GHL field, and how the value
// is transformed on the way (empty Transform means copied as is).
type FieldMapping struct {
	// ADField is the source field name on the AD side.
	ADField string
	// GHLField is the target field on the GHL side; each may appear once
	// per version.
	GHLField string
	// Transform names the conversion applied to the value (e.g. "e164",
	// "lower"); empty copies it unchanged. The sync engine interprets it.
	Transform string
}

// MappingVersion describes one saved set of field mappings.
type MappingVersion struct {
	// Version numbers start at 1 and grow by one per save.
	Version int
	// SavedAt is when the version was saved.
	SavedAt time.Time
	// Note is what the user wrote when saving, e.g. "map lead source".
	Note string
	// SavedBy is who saved it: the computer's user name, or "Parley" for
	// the default mapping; empty for versions saved before it was kept.
	SavedBy string
	// Fields is how many mappings the version has.
	Fields int
}

// SaveMappings stores m as a new version and returns its number. Versions are
// never overwritten, so what the sync did last week can be explained with the
// mappings it used then.
func (s *Store) SaveMappings(ctx context.Context, m []FieldMapping, note string) (version int, err error) {
	return s.SaveMappingsAs(ctx, m, note, CurrentUser())
}

// CurrentUser is the name of the computer's user running Parley, which
// mapping versions are saved under; "" when the system cannot say.
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return ""
}

// SaveMappingsAs is SaveMappings under the name by.
func (s *Store) SaveMappingsAs(ctx context.Context, m []FieldMapping, note, by string) (version int, err error) {
	seen := make(map[string]int, len(m))
	for i, f := range m {
		switch {
		case strings.TrimSpace(f.ADField) == "":
			return 0, fmt.Errorf("save field mappings: %w", invalidf("mapping %d has no AD field", i+1))
		case strings.TrimSpace(f.GHLField) == "":
			return 0, fmt.Errorf("save field mappings: %w", invalidf("mapping %d has no GHL field", i+1))
		}
		// Two sources for one target would make the result depend on order.
		if j, dup := seen[f.GHLField]; dup {
			return 0, fmt.Errorf("save field mappings: %w", invalidf("GHL field %q is mapped twice (mappings %d and %d)", f.GHLField, j+1, i+1))
		}
		seen[f.GHLField] = i
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO mapping_versions (saved_at, note) VALUES (?, ?)`, toMillis(s.now()), note)
		if err != nil {
			return err
		}
		v, err := res.LastInsertId()
		if err != nil {
			return err
		}
		version = int(v)
		if _, err := tx.ExecContext(ctx, `INSERT INTO mapping_version_savers (version, saved_by) VALUES (?, ?)`, version, by); err != nil {
			return err
		}
		for i, f := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mapping_fields (version, position, ad_field, ghl_field, transform) VALUES (?, ?, ?, ?, ?)`,
				version, i, f.ADField, f.GHLField, f.Transform); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("save field mappings: %w", err)
	}
	return version, nil
}

// CurrentMappings returns the newest version and its mappings; version is 0
// and m nil when nothing was ever saved.
func (s *Store) CurrentMappings(ctx context.Context) (version int, m []FieldMapping, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, fmt.Errorf("read current field mappings: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM mapping_versions`).Scan(&version); err != nil {
		return 0, nil, fmt.Errorf("read current field mappings: %w", err)
	}
	if version == 0 {
		return 0, nil, nil
	}
	if m, err = mappingFields(ctx, tx, version); err != nil {
		return 0, nil, fmt.Errorf("read current field mappings: %w", err)
	}
	return version, m, nil
}

// MappingsAt returns the mappings of an earlier version.
func (s *Store) MappingsAt(ctx context.Context, version int) ([]FieldMapping, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read field mappings version %d: %w", version, err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM mapping_versions WHERE version = ?`, version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read field mappings version %d: %w", version, err)
	}
	m, err := mappingFields(ctx, tx, version)
	if err != nil {
		return nil, fmt.Errorf("read field mappings version %d: %w", version, err)
	}
	return m, nil
}

func mappingFields(ctx context.Context, tx *sql.Tx, version int) ([]FieldMapping, error) {
	m, err := queryAll(ctx, tx, func(rows rowScanner) (FieldMapping, error) {
		var f FieldMapping
		err := rows.Scan(&f.ADField, &f.GHLField, &f.Transform)
		return f, err
	}, `SELECT ad_field, ghl_field, transform FROM mapping_fields WHERE version = ? ORDER BY position`, version)
	if m == nil && err == nil {
		m = []FieldMapping{} // a saved empty mapping is not "no mapping"
	}
	return m, err
}

// MappingVersions lists all saved versions, newest first.
func (s *Store) MappingVersions(ctx context.Context) ([]MappingVersion, error) {
	vs, err := queryAll(ctx, s.r, func(rows rowScanner) (MappingVersion, error) {
		var v MappingVersion
		var at int64
		err := rows.Scan(&v.Version, &at, &v.Note, &v.SavedBy, &v.Fields)
		v.SavedAt = fromMillis(at)
		return v, err
	}, `SELECT v.version, v.saved_at, v.note, coalesce(w.saved_by, ''), count(f.position)
		FROM mapping_versions v LEFT JOIN mapping_fields f ON f.version = v.version
		LEFT JOIN mapping_version_savers w ON w.version = v.version
		GROUP BY v.version ORDER BY v.version DESC`)
	if err != nil {
		return nil, fmt.Errorf("list field mapping versions: %w", err)
	}
	return vs, nil
}

// LatestMappingVersion is the newest saved version, 0 when none was saved:
// a cheap check of whether the current mapping changed.
func (s *Store) LatestMappingVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM mapping_versions`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the field mapping version: %w", err)
	}
	return v, nil
}
