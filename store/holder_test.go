package store

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openHolderStores opens two Stores on one database, as two processes
// would, with one job queued.
func openHolderStores(t *testing.T) (path string, a, b *Store) {
	t.Helper()
	path = filepath.Join(t.TempDir(), DatabaseFile)
	for _, s := range []**Store{&a, &b} {
		st, err := open(context.Background(), path, options{manualIndex: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		*s = st
	}
	if _, _, err := a.Enqueue(context.Background(), "k", "job", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	return path, a, b
}

// claimNow claims with a lease of an hour at at, looking for dead holders
// whatever the time since the last look.
func claimNow(t *testing.T, s *Store, at time.Time) []OutboxItem {
	t.Helper()
	s.holder.checked.Store(0)
	items, err := s.ClaimDue(context.Background(), at, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func holdersLeft(t *testing.T, s *Store) []string {
	t.Helper()
	ids, err := queryAll(context.Background(), s.r, func(sc rowScanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	}, `SELECT id FROM job_holders ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestDeadHoldersJobsComeBack: a job whose holder's process died (its lock
// file unlocked, its registration left) is settled by the next claim, as
// an expired lease would be, not an hour later; one whose holder is open
// is left alone however often the others look.
func TestDeadHoldersJobsComeBack(t *testing.T) {
	_, a, b := openHolderStores(t)
	t0 := time.Now()
	if got := claimNow(t, a, t0); len(got) != 1 {
		t.Fatalf("a claimed %d jobs, want 1", len(got))
	}
	if got := claimNow(t, b, t0.Add(time.Second)); len(got) != 0 {
		t.Fatalf("b took %d jobs a holds while open", len(got))
	}
	if it, _ := b.OutboxItemByID(context.Background(), 1); it.State != OutboxInFlight {
		t.Fatalf("a's job is %s while a is open", it.State)
	}

	// a's process dies: the system drops its lock; nothing else happens.
	lockFile := a.holder.lock.Path()
	if err := a.holder.lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got := claimNow(t, b, t0.Add(2*time.Second)); len(got) != 0 {
		t.Fatalf("b claimed %d jobs at once; a stalled job waits its backoff", len(got))
	}
	it, err := b.OutboxItemByID(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if it.State != OutboxPending || it.Stalls != 1 || !strings.Contains(it.LastError, "stopped") {
		t.Fatalf("after a's death the job is %s, %d stalls, %q; want pending with one stall", it.State, it.Stalls, it.LastError)
	}
	if ids := holdersLeft(t, b); len(ids) != 1 || ids[0] != b.holder.id {
		t.Errorf("holders registered = %q, want b's only", ids)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("a's lock file is still there (%v)", err)
	}
	got := claimNow(t, b, t0.Add(2*time.Second+stallBackoff(1)))
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("after the backoff b claimed %+v, want the job, second attempt", got)
	}
}

// TestClosedHolderLeavesNoLease: a Store closed with a job still in
// flight (its worker gone) ends the lease; the next claim settles it.
func TestClosedHolderLeavesNoLease(t *testing.T) {
	_, a, b := openHolderStores(t)
	t0 := time.Now()
	if got := claimNow(t, a, t0); len(got) != 1 {
		t.Fatalf("a claimed %d jobs, want 1", len(got))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	claimNow(t, b, t0.Add(time.Second))
	if it, _ := b.OutboxItemByID(context.Background(), 1); it.State != OutboxPending {
		t.Fatalf("after a closed, its job is %s, want pending", it.State)
	}
	if ids := holdersLeft(t, b); len(ids) != 1 || ids[0] != b.holder.id {
		t.Errorf("holders registered = %q, want b's only", ids)
	}
}

// TestForgedHolderIsNoPath: a registration whose id is not one Parley
// writes never becomes a file name; its jobs wait nothing, as a dead
// holder's.
func TestForgedHolderIsNoPath(t *testing.T) {
	_, a, _ := openHolderStores(t)
	if _, err := a.w.Exec(`INSERT INTO job_holders (id, pid, started_at) VALUES ('../../x', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	claimNow(t, a, time.Now())
	if ids := holdersLeft(t, a); len(ids) != 1 || ids[0] != a.holder.id {
		t.Errorf("holders registered = %q, want a's only", ids)
	}
}

// TestKilledProcessesJobsComeBack: a real process holding a claim is
// SIGKILLed; the next claim in this one hands the job back at once.
func TestKilledProcessesJobsComeBack(t *testing.T) {
	if path := os.Getenv("PARLEY_HOLDER_CHILD"); path != "" {
		s, err := open(context.Background(), path, options{manualIndex: true})
		if err != nil {
			t.Fatal(err)
		}
		if items, err := s.ClaimDue(context.Background(), time.Now(), 1, time.Hour); err != nil || len(items) != 1 {
			t.Fatalf("child claimed %d, %v", len(items), err)
		}
		os.Stdout.WriteString("claimed\n")
		time.Sleep(time.Hour)
		return
	}
	path, _, b := openHolderStores(t)
	t0 := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestKilledProcessesJobsComeBack$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_HOLDER_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "claimed") {
	}
	if got := claimNow(t, b, t0.Add(time.Second)); len(got) != 0 {
		t.Fatalf("took %d jobs from a live process", len(got))
	}
	if it, _ := b.OutboxItemByID(context.Background(), 1); it.State != OutboxInFlight {
		t.Fatalf("the child's job is %s while it runs", it.State)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	claimNow(t, b, t0.Add(2*time.Second))
	if it, _ := b.OutboxItemByID(context.Background(), 1); it.State != OutboxPending || it.Stalls != 1 {
		t.Fatalf("after the kill the job is %s with %d stalls, want pending with one", it.State, it.Stalls)
	}
}
