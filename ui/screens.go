package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// screen is one entry of the navigation. Its view is built on first display.
type screen struct {
	title string
	icon  fyne.Resource
	build func() fyne.CanvasObject
	// shown, if set, runs each time the screen is brought to the front, e.g.
	// to refresh data that may have changed while it was hidden. ctx ends
	// when the screen is left or the window closes; work the screen starts
	// while on display runs under it.
	shown func(ctx context.Context)
	view  fyne.CanvasObject
	// canLeave, if set, is asked before the screen is left (for another
	// screen, another mode, or by closing the window). It returns true to
	// let it go now; false keeps the screen, which then calls proceed if
	// the user lets it go after all (e.g. once unsaved edits are saved).
	canLeave func(proceed func()) bool
	// cancel ends the context of the current showing.
	cancel context.CancelFunc
}

// leave cancels the work of the screen's current showing.
func (s *screen) leave() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// mayLeave says whether the screen on display lets itself be left now;
// if not, it calls proceed once it does.
func (c *Console) mayLeave(proceed func()) bool {
	if c.current < 0 {
		return true
	}
	s := c.screens[c.current]
	return s.canLeave == nil || s.canLeave(proceed)
}

// requestClose is the window's close button: the window closes once the
// screen on display lets it go.
func (c *Console) requestClose() {
	if c.mayLeave(c.win.Close) {
		c.win.Close()
	}
}

func (c *Console) buildScreens() []*screen {
	// Here rather than in NewConsole: it is the screens that may hold
	// the window open, and a mode switch builds them again.
	c.win.SetCloseIntercept(c.requestClose)
	c.history = newHistoryScreen(c.deps.History, c.win, c.deps.Do, c.background(), c.deps.Location)
	history := c.history
	connections := newConnectionsScreen(c.deps, c.importer, c.background(), c.win, c.app.Clipboard(), c.ctx)
	c.connections = connections
	c.alerts = newAlertsScreen(c.deps, c.background(), c.ctx, c.app, c.jumpTo, c.setBadge)
	contacts := newContactScreen(c.deps, c.win, c.background(), c.ctx)
	c.contacts = contacts
	return []*screen{
		{title: "Connections", icon: theme.ComputerIcon(), build: connections.view, shown: connections.shown},
		newMappingScreen(c.deps, c.background(), c.win).screen(),
		c.conversationsEntry(),
		{title: "Contacts", icon: theme.AccountIcon(), build: contacts.view, shown: contacts.shown},
		newSyncScreen(c.deps, c.background(), c.win, c.ctx).screen(),
		{title: "History", icon: theme.HistoryIcon(), build: history.view, shown: history.shown},
		newAutomationsScreen(c.deps, c.background(), c.win, c.ctx).screen(),
		{title: "Alerts", icon: theme.WarningIcon(), build: c.alerts.view, shown: c.alerts.shown},
	}
}

// header is the title and one-line purpose shown at the top of every screen.
func header(title, purpose string) fyne.CanvasObject {
	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel(purpose)
	intro.Wrapping = fyne.TextWrapWord
	return container.NewVBox(heading, intro, widget.NewSeparator())
}
