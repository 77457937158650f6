package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store"
)

// notifyApp records the desktop notifications the console sends.
type notifyApp struct {
	fyne.App
	sent []*fyne.Notification
}

func (a *notifyApp) SendNotification(n *fyne.Notification) { a.sent = append(a.sent, n) }

// newAlertsConsole polls every poll: often where a test waits for new
// alerts, rarely where many queries would only slow the store down (by a
// lot, under -race).
func newAlertsConsole(t *testing.T, s *store.Store, poll time.Duration) (*Console, uiLoop, *notifyApp) {
	t.Helper()
	a := &notifyApp{App: test.NewTempApp(t)}
	loop := newUILoop()
	c := NewConsole(a, Deps{History: s, Alerts: s, AlertPoll: poll, Do: loop.post, Location: time.UTC})
	c.Window().Resize(fyne.NewSize(1100, 720))
	c.Window().Show()
	t.Cleanup(func() {
		if c.ctx.Err() == nil {
			c.Window().Close()
		}
	})
	return c, loop, a
}

func raise(t *testing.T, s *store.Store, a store.Alert) int64 {
	t.Helper()
	id, err := s.RaiseAlert(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sidebarBadge is the badge the sidebar draws beside Alerts.
func sidebarBadge(c *Console) string {
	item := c.nav.CreateItem()
	c.nav.UpdateItem(len(c.screens)-1, item)
	return item.(*fyne.Container).Objects[2].(*widget.Label).Text
}

func TestAlertsBadgeCountsOpenAlertsAndNotifiesNewOnes(t *testing.T) {
	s := newTestStore(t)
	raise(t, s, store.Alert{Severity: store.SeverityError, Source: "sync.ghl.auth", Message: "HighLevel authorization lost", Hint: "Reconnect HighLevel in Connections."})
	raise(t, s, store.Alert{Severity: store.SeverityWarning, Source: "sync.outbox", Message: "3 jobs dead-lettered"})
	c, loop, app := newAlertsConsole(t, s, 20*time.Millisecond)
	loop.runUntil(t, "the badge to count 2", func() bool { return sidebarBadge(c) == "2" })
	loop.idleFor(60 * time.Millisecond)
	if len(app.sent) != 0 {
		t.Errorf("alerts open before the window were notified again: %v", app.sent)
	}

	raise(t, s, store.Alert{Severity: store.SeverityError, Source: "sync.ghl", Message: "Daily quota exhausted", Hint: "The sync resumes at midnight UTC."})
	loop.runUntil(t, "the badge to count 3", func() bool { return sidebarBadge(c) == "3" })
	loop.runUntil(t, "a notification", func() bool { return len(app.sent) == 1 })
	if n := app.sent[0]; n.Title != "Parley: Daily quota exhausted" || n.Content != "The sync resumes at midnight UTC." {
		t.Errorf("notification %+v", n)
	}
	loop.idleFor(60 * time.Millisecond)
	if len(app.sent) != 1 {
		t.Errorf("the same alert was notified %d times", len(app.sent))
	}
}

func TestAlertsAcknowledgeClearsTheBadge(t *testing.T) {
	s := newTestStore(t)
	raise(t, s, store.Alert{Severity: store.SeverityError, Source: "sync.outbox", Message: "3 jobs dead-lettered", Hint: "Replay them from History."})
	c, loop, _ := newAlertsConsole(t, s, time.Hour)
	c.Show("Alerts")
	loop.runUntil(t, "the alert listed", func() bool { return containsText(visibleLabels(c), "3 jobs dead-lettered") })
	if sidebarBadge(c) != "1" {
		t.Fatalf("badge %q", sidebarBadge(c))
	}
	test.Tap(button(t, c.Window().Canvas().Content(), "Acknowledge", 0))
	loop.runUntil(t, "the list to empty", func() bool { return containsText(visibleLabels(c), "Nothing needs you") })
	if sidebarBadge(c) != "" {
		t.Errorf("badge %q after acknowledging", sidebarBadge(c))
	}
	open, _ := s.OpenAlerts(context.Background())
	if len(open) != 0 {
		t.Errorf("still open in the store: %+v", open)
	}
	// Acknowledged alerts stay readable.
	c.alerts.showAll.SetChecked(true)
	loop.runUntil(t, "the acknowledged alert", func() bool { return containsText(visibleLabels(c), "acknowledged") })
}

func TestAlertsJumpToTheirCause(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	hist := raise(t, s, store.Alert{Severity: store.SeverityError, Source: "sync.ghl", Message: "Message push failed 5 times"})
	if err := s.SetAlertTarget(ctx, hist, store.AlertTarget{Screen: store.TargetHistory, Ref: "ad-msg-1004"}); err != nil {
		t.Fatal(err)
	}
	mapping := raise(t, s, store.Alert{Severity: store.SeverityWarning, Source: "sync.engine", Message: "Required field phone is not mapped"})
	if err := s.SetAlertTarget(ctx, mapping, store.AlertTarget{Screen: store.TargetMapping}); err != nil {
		t.Fatal(err)
	}
	raise(t, s, store.Alert{Severity: store.SeverityError, Source: "sync.ghl.auth", Message: "HighLevel authorization lost"})

	c, loop, _ := newAlertsConsole(t, s, time.Hour)
	for _, tc := range []struct {
		message, screen, search string
	}{
		{"Message push failed 5 times", "History", "ad-msg-1004"},
		{"Required field phone is not mapped", "Mapping", ""},
		{"HighLevel authorization lost", "Connections", ""},
	} {
		c.Show("Alerts")
		loop.runUntil(t, "the alerts listed", func() bool { return containsText(visibleLabels(c), tc.message) })
		// Rows are newest first, as the store lists them.
		open, _ := s.OpenAlerts(ctx)
		row := -1
		for i, a := range open {
			if a.Message == tc.message {
				row = i
			}
		}
		test.Tap(button(t, c.Window().Canvas().Content(), "Show cause", row))
		loop.runUntil(t, "the jump to "+tc.screen, func() bool { return c.Current() == tc.screen })
		if tc.search != "" && c.history.search.Text != tc.search {
			t.Errorf("History searches %q, want %q", c.history.search.Text, tc.search)
		}
	}
}
