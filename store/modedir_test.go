package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestDemoAndRealDataNeverShareADatabase(t *testing.T) {
	dir := t.TempDir()
	if ModeDir(dir, false) != dir {
		t.Errorf("real data moved: %s", ModeDir(dir, false))
	}
	demoDir, realDir := ModeDir(dir, true), ModeDir(dir, false)
	if filepath.Dir(demoDir) != dir || demoDir == realDir {
		t.Fatalf("demo folder %s", demoDir)
	}
	ctx := context.Background()
	demo, err := Open(ctx, filepath.Join(demoDir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	if _, err := demo.RaiseAlert(ctx, Alert{Severity: SeverityInfo, Source: "demo", Message: "demo only"}); err != nil {
		t.Fatal(err)
	}
	real, err := Open(ctx, filepath.Join(realDir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	if open, err := real.OpenAlerts(ctx); err != nil || len(open) != 0 {
		t.Fatalf("the real database sees demo alerts: %v, %v", open, err)
	}
}
