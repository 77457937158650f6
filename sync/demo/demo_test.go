package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The two sandboxes must describe one business: every HighLevel contact
// exists in ActiveDEMAND with the same email and phone, and some
// ActiveDEMAND contacts are not in HighLevel yet, so the sync has work.
func TestSandboxesShareTheDemoBusiness(t *testing.T) {
	sb, err := Start(Options{Now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), ActivityEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })

	adByEmail := map[string]string{}
	for _, c := range sb.AD.Contacts() {
		adByEmail[c.Email] = c.Phone
	}
	ghl := sb.GHL.Contacts()
	if len(ghl) == 0 || len(ghl) >= len(adByEmail) {
		t.Fatalf("%d HighLevel contacts for %d ActiveDEMAND ones: want some, but fewer", len(ghl), len(adByEmail))
	}
	for _, c := range ghl {
		phone, ok := adByEmail[c.Email]
		if !ok || phone != c.Phone {
			t.Errorf("HighLevel contact %s <%s> %s has no ActiveDEMAND twin (phone there %q)", c.ID, c.Email, c.Phone, phone)
		}
	}
	if len(sb.GHL.Conversations()) == 0 {
		t.Error("no conversation is already mirrored in the HighLevel sandbox")
	}

	var out bytes.Buffer
	if err := sb.Describe(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sb.GHL.URL(), sb.AD.URL(), sb.GHLToken, sb.GHL.LocationID()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Describe does not mention %q:\n%s", want, out.String())
		}
	}
}

func TestStartReportsABusyAddress(t *testing.T) {
	first, err := Start(Options{ActivityEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	busy := strings.TrimPrefix(first.GHL.URL(), "http://")
	if _, err := Start(Options{GHLAddr: busy, ActivityEvery: -1}); err == nil || !strings.Contains(err.Error(), busy) {
		t.Fatalf("second sandbox on %s: err = %v, want one naming the address", busy, err)
	}
}
