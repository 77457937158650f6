package routing

import (
	"context"
	"fmt"

	"parley/store"
)

// Save validates r and stores it (a new rule when r.ID is 0, placed last),
// returning its id. A rule that does not validate is not stored: the
// error is a *ValidationError listing every problem.
func Save(ctx context.Context, st *store.Store, r Rule) (int64, error) {
	if _, err := Compile(r); err != nil {
		return 0, err
	}
	body, err := r.Body()
	if err != nil {
		return 0, fmt.Errorf("save routing rule %q: %w", r.Name, err)
	}
	return st.SaveRule(ctx, store.RuleRecord{ID: r.ID, Name: r.Name, Enabled: r.Enabled, Body: body})
}

// FromRecord reads a stored rule.
func FromRecord(rec store.RuleRecord) (Rule, error) {
	r := Rule{ID: rec.ID, Name: rec.Name, Enabled: rec.Enabled}
	if err := ParseBody(rec.Body, &r); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// Load returns every stored rule in order, for the rules screen.
func Load(ctx context.Context, st *store.Store) ([]Rule, error) {
	recs, err := st.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(recs))
	for _, rec := range recs {
		r, err := FromRecord(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LoadEnabled returns the enabled rules, in order, compiled for matching.
// A stored rule that no longer validates (a limit this build lowered, a
// body edited by hand) is left out and reported in bad, so that one broken
// rule does not stop the others.
func LoadEnabled(ctx context.Context, st *store.Store) (rules []*Compiled, bad []error, err error) {
	recs, err := st.Rules(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, rec := range recs {
		if !rec.Enabled {
			continue
		}
		r, err := FromRecord(rec)
		if err == nil {
			var c *Compiled
			if c, err = Compile(r); err == nil {
				rules = append(rules, c)
				continue
			}
		}
		bad = append(bad, fmt.Errorf("routing rule %d %q is skipped until it is fixed in the rules screen: %w", rec.ID, rec.Name, err))
	}
	return rules, bad, nil
}
