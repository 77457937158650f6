package ui

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store/secrets"
	"parley/sync/connect"
)

// TestLeaveDemoInOneClick: in demo mode the banner's button switches the
// window to the connected accounts, with a database of their own: the
// demo's deps are released, the real ones shown, and File > Open the Demo
// goes back. Nothing restarts.
func TestLeaveDemoInOneClick(t *testing.T) {
	svc, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: test.NewTempApp(t).Preferences()})
	if err != nil {
		t.Fatal(err)
	}
	var demoReleased, realReleased atomic.Int32
	var opened []bool
	demoStore, realStore := newTestStore(t), newTestStore(t)
	var loop uiLoop
	var switchMode func(ctx context.Context, demo bool) (Deps, error)
	switchMode = func(_ context.Context, demo bool) (Deps, error) {
		opened = append(opened, demo)
		d := Deps{History: realStore, Connections: svc, SwitchMode: switchMode, Do: loop.post, Release: func() { realReleased.Add(1) }}
		if demo {
			d = Deps{History: demoStore, Demo: true, Connections: svc, SwitchMode: switchMode, Do: loop.post, Release: func() { demoReleased.Add(1) }}
		}
		return d, nil
	}
	c, l := newTestConsole(t, Deps{History: demoStore, Demo: true, Connections: svc, SwitchMode: switchMode,
		Release: func() { demoReleased.Add(1) }})
	loop = l

	// The first start opens the setup guide by itself; close it.
	loop.runUntil(t, "the first-start guide", func() bool { return c.guide != nil })
	c.guide.finish()
	// Not connected yet: the click opens the guide again at its first step.
	test.Tap(bannerButton(t, c))
	loop.runUntil(t, "the setup guide", func() bool { return c.guide != nil && c.guide.step == stepAD })
	c.guide.finish()
	if len(opened) != 0 {
		t.Fatal("switched with no account connected")
	}

	if err := svc.SaveAD("app-key", "api-key"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveGHLPrivateToken("pit", "loc_1"); err != nil {
		t.Fatal(err)
	}
	test.Tap(bannerButton(t, c))
	loop.runUntil(t, "the confirmation", func() bool { return confirmButton(c, "Yes") != nil })
	test.Tap(confirmButton(c, "Yes"))
	loop.runUntil(t, "the switch to the real accounts", func() bool { return !c.Demo() })
	if demoReleased.Load() != 1 || realReleased.Load() != 0 {
		t.Errorf("released demo %d times, real %d times; want 1 and 0", demoReleased.Load(), realReleased.Load())
	}
	if hasLabel(c, demoBannerText) {
		t.Error("the demo banner is still shown with the real accounts")
	}
	if len(opened) != 1 || opened[0] {
		t.Errorf("opened modes %v, want [false]", opened)
	}

	c.SwitchMode(true, func(c *Console) { c.Show("History") })
	loop.runUntil(t, "the switch back to the demo", func() bool { return c.Demo() && c.Current() == "History" })
	if realReleased.Load() != 1 {
		t.Errorf("the real accounts' deps were released %d times, want 1", realReleased.Load())
	}
	c.Window().Close()
	if demoReleased.Load() != 2 {
		t.Errorf("closing the window released the demo %d times in all, want 2", demoReleased.Load())
	}
}

// TestSwitchFailureKeepsTheMode: a mode that cannot open (e.g. its
// database is unreadable) leaves the current one running and says why.
func TestSwitchFailureKeepsTheMode(t *testing.T) {
	var released atomic.Int32
	c, loop := newTestConsole(t, Deps{Demo: true, Release: func() { released.Add(1) },
		SwitchMode: func(context.Context, bool) (Deps, error) {
			return Deps{}, errors.New("the database is locked by another Parley")
		}})
	c.SwitchMode(false, nil)
	loop.runUntil(t, "the error", func() bool { return hasDialogText(c, "the database is locked by another Parley") })
	if !c.Demo() || released.Load() != 0 {
		t.Errorf("after a failed switch: demo %v, released %d; want the demo kept", c.Demo(), released.Load())
	}
}

func bannerButton(t *testing.T, c *Console) *widget.Button {
	t.Helper()
	b := syncButton(c, "Use my accounts")
	if b == nil {
		t.Fatal("no Use my accounts button in the banner")
	}
	return b
}

// confirmButton is a button of an overlay (a dialog) with the given text.
func confirmButton(c *Console, text string) *widget.Button {
	for _, o := range overlayObjects(c) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func hasDialogText(c *Console, substr string) bool {
	for _, o := range overlayObjects(c) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, substr) {
			return true
		}
		if r, ok := o.(*widget.RichText); ok && strings.Contains(r.String(), substr) {
			return true
		}
	}
	return false
}

// overlayObjects are the objects laid out in every overlay (dialogs).
func overlayObjects(c *Console) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, o := range c.Window().Canvas().Overlays().List() {
		out = append(out, test.LaidOutObjects(o)...)
	}
	return out
}
