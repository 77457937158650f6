package engine

import (
	"context"
	"fmt"

	"parley/store"
	"parley/sync/mapping"
)

// The console builds its Control before the sync starts (the demo's engine
// exists only once its sandboxes are up), so the Mapping screen reaches the
// engine's mapping API through it: each call goes to the engine attached
// now, or says the sync is not running yet.

func (c *Control) mappingEngine(verb string) (*Engine, error) {
	if e := c.engine(); e != nil {
		return e, nil
	}
	c.mu.Lock()
	standby := c.standby
	c.mu.Unlock()
	if standby == nil {
		return nil, fmt.Errorf("%s: %w", verb, ErrSyncNotRunning)
	}
	e, err := standby()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	return e, nil
}

// SetStandby gives c a way to build an engine that is not running, for
// the mapping and the tools to use while no sync is attached: the console
// maps fields and dry-runs before the admin starts the sync.
func (c *Control) SetStandby(build func() (*Engine, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.standby = build
}

// MappingCatalog is Engine.MappingCatalog of the attached engine.
func (c *Control) MappingCatalog(ctx context.Context) (mapping.Catalog, error) {
	e, err := c.mappingEngine("read the fields to map")
	if err != nil {
		return mapping.Catalog{}, err
	}
	return e.MappingCatalog(ctx)
}

// CurrentMapping is Engine.CurrentMapping of the attached engine.
func (c *Control) CurrentMapping(ctx context.Context) (MappingState, error) {
	e, err := c.mappingEngine("read the field mapping")
	if err != nil {
		return MappingState{}, err
	}
	return e.CurrentMapping(ctx)
}

// ValidateMapping is Engine.ValidateMapping of the attached engine.
func (c *Control) ValidateMapping(ctx context.Context, links []mapping.Link) (mapping.Problems, error) {
	e, err := c.mappingEngine("check the field mapping")
	if err != nil {
		return nil, err
	}
	return e.ValidateMapping(ctx, links)
}

// SaveMapping is Engine.SaveMapping of the attached engine.
func (c *Control) SaveMapping(ctx context.Context, links []mapping.Link, note string) (int, error) {
	e, err := c.mappingEngine("save the field mapping")
	if err != nil {
		return 0, err
	}
	return e.SaveMapping(ctx, links, note)
}

// MappingVersions is Engine.MappingVersions of the attached engine.
func (c *Control) MappingVersions(ctx context.Context) ([]store.MappingVersion, error) {
	e, err := c.mappingEngine("list the field mapping's versions")
	if err != nil {
		return nil, err
	}
	return e.MappingVersions(ctx)
}

// MappingAt is Engine.MappingAt of the attached engine.
func (c *Control) MappingAt(ctx context.Context, version int) ([]mapping.Link, error) {
	e, err := c.mappingEngine("read a field mapping version")
	if err != nil {
		return nil, err
	}
	return e.MappingAt(ctx, version)
}

// RevertMapping is Engine.RevertMapping of the attached engine.
func (c *Control) RevertMapping(ctx context.Context, version int) (int, error) {
	e, err := c.mappingEngine("revert the field mapping")
	if err != nil {
		return 0, err
	}
	return e.RevertMapping(ctx, version)
}

// PreviewMapping is Engine.PreviewMapping of the attached engine.
func (c *Control) PreviewMapping(ctx context.Context, links []mapping.Link, sample mapping.Record) (mapping.Preview, error) {
	e, err := c.mappingEngine("preview the field mapping")
	if err != nil {
		return mapping.Preview{}, err
	}
	return e.PreviewMapping(ctx, links, sample)
}

// MappingSamples is Engine.MappingSamples of the attached engine.
func (c *Control) MappingSamples(ctx context.Context, limit int) ([]MappingSample, error) {
	e, err := c.mappingEngine("read sample contacts")
	if err != nil {
		return nil, err
	}
	return e.MappingSamples(ctx, limit)
}

// MappingSampleMessage is Engine.MappingSampleMessage of the attached
// engine.
func (c *Control) MappingSampleMessage(ctx context.Context, contactID string) (MappingMessage, bool, error) {
	e, err := c.mappingEngine("read a sample message")
	if err != nil {
		return MappingMessage{}, false, err
	}
	return e.MappingSampleMessage(ctx, contactID)
}
