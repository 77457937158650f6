package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
)

// alertsShown caps the list: alerts are acknowledged, not archived, so a
// longer list is history, which the History screen is for.
const alertsShown = 100

// alertsScreen lists what needs a person, keeps the sidebar badge at the
// number of open alerts and raises a desktop notification for each new one.
type alertsScreen struct {
	deps  Deps
	bg    background
	life  context.Context
	app   fyne.App
	jump  func(store.AlertTarget)
	badge func(int)

	showAll *widget.Check
	rows    *fyne.Container
	summary *widget.Label
	// seen are the open alerts already notified (or there at start).
	seen    map[int64]bool
	started bool
	// gen drops a list answer older than the last one asked for.
	gen int
}

func newAlertsScreen(d Deps, bg background, life context.Context, app fyne.App, jump func(store.AlertTarget), badge func(int)) *alertsScreen {
	return &alertsScreen{deps: d, bg: bg, life: life, app: app, jump: jump, badge: badge, seen: map[int64]bool{}}
}

func (s *alertsScreen) view() fyne.CanvasObject {
	s.summary = wrapped("")
	s.rows = container.NewVBox()
	s.showAll = widget.NewCheck("Show acknowledged alerts too", func(bool) { s.reload() })
	if s.deps.Alerts == nil {
		s.summary.SetText("Alerts are not available in this window.")
		s.showAll.Disable()
	}
	return container.NewBorder(
		container.NewVBox(header("Alerts", "What needs a person: authorization lost, repeated errors, dead-letter jobs, the daily quota, routing alerts."),
			container.NewBorder(nil, nil, nil, s.showAll, s.summary)),
		nil, nil, nil, container.NewVScroll(s.rows))
}

func (s *alertsScreen) shown(context.Context) { s.reload() }

// start polls for alerts until the console closes. The first poll sets the
// badge without notifying: those alerts were there before the window.
func (s *alertsScreen) start() {
	if s.deps.Alerts == nil || s.life.Err() != nil {
		return
	}
	s.bg.wg.Go(func() {
		tick := time.NewTicker(s.deps.AlertPoll)
		defer tick.Stop()
		for {
			open, err := s.deps.Alerts.OpenAlerts(s.life)
			if err == nil {
				s.bg.do(func() {
					if s.life.Err() == nil {
						s.polled(open)
					}
				})
			}
			select {
			case <-s.life.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// polled takes a fresh list of open alerts, on the UI goroutine.
func (s *alertsScreen) polled(open []store.Alert) {
	s.badge(len(open))
	fresh := false
	for _, a := range open {
		if s.seen[a.ID] {
			continue
		}
		s.seen[a.ID] = true
		fresh = true
		if s.started {
			s.app.SendNotification(fyne.NewNotification("Parley: "+a.Message, a.Hint))
		}
	}
	s.started = true
	if fresh && s.rows != nil {
		s.reload()
	}
}

func (s *alertsScreen) reload() {
	if s.deps.Alerts == nil || s.rows == nil {
		return
	}
	s.gen++
	gen, all := s.gen, s.showAll.Checked
	s.bg.run(s.life, func(ctx context.Context) func() {
		var list []store.Alert
		var err error
		if all {
			list, err = s.deps.Alerts.RecentAlerts(ctx, alertsShown)
		} else {
			list, err = s.deps.Alerts.OpenAlerts(ctx)
		}
		return func() {
			if gen != s.gen {
				return
			}
			if err != nil {
				s.summary.SetText("Cannot read the alerts: " + err.Error())
				return
			}
			s.show(list, all)
		}
	})
}

func (s *alertsScreen) show(list []store.Alert, all bool) {
	open := 0
	s.rows.RemoveAll()
	for i, a := range list {
		if i == alertsShown {
			break
		}
		if a.AckedAt.IsZero() {
			open++
		}
		s.rows.Add(s.row(a))
	}
	switch {
	case len(list) == 0 && all:
		s.summary.SetText("No alerts yet.")
	case len(list) == 0:
		s.summary.SetText("Nothing needs you: no open alerts.")
	default:
		s.summary.SetText(fmt.Sprintf("%d open alert(s).", open))
	}
	if !all {
		s.badge(open)
	}
	s.rows.Refresh()
}

func (s *alertsScreen) row(a store.Alert) fyne.CanvasObject {
	icon := theme.InfoIcon()
	switch a.Severity {
	case store.SeverityWarning:
		icon = theme.WarningIcon()
	case store.SeverityError:
		icon = theme.ErrorIcon()
	}
	msg := widget.NewLabelWithStyle(a.Message, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	msg.Wrapping = fyne.TextWrapWord
	when := a.At.In(s.deps.Location).Format("2 Jan 2006 15:04")
	meta := a.Source + " · " + when
	if !a.AckedAt.IsZero() {
		meta += " · acknowledged " + a.AckedAt.In(s.deps.Location).Format("2 Jan 15:04")
	}
	text := container.NewVBox(msg)
	if a.Hint != "" {
		text.Add(wrapped(a.Hint))
	}
	text.Add(widget.NewLabel(meta))
	jump := widget.NewButtonWithIcon("Show cause", theme.NavigateNextIcon(), func() { s.showCause(a) })
	buttons := container.NewVBox(jump)
	if a.AckedAt.IsZero() {
		ack := widget.NewButtonWithIcon("Acknowledge", theme.ConfirmIcon(), nil)
		ack.OnTapped = func() {
			ack.Disable()
			s.bg.run(s.life, func(ctx context.Context) func() {
				err := s.deps.Alerts.AckAlert(ctx, a.ID)
				return func() {
					if err != nil {
						ack.Enable()
						s.summary.SetText("Cannot acknowledge the alert: " + err.Error())
						return
					}
					s.reload()
				}
			})
		}
		buttons.Add(ack)
	}
	return container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(icon), buttons, text), widget.NewSeparator())
}

func (s *alertsScreen) showCause(a store.Alert) {
	s.bg.run(s.life, func(ctx context.Context) func() {
		t, err := s.deps.Alerts.AlertTarget(ctx, a.ID)
		return func() {
			if err != nil || t.Screen == "" {
				t = guessTarget(a)
			}
			s.jump(t)
		}
	})
}

// guessTarget is where an alert without a recorded target is most likely
// explained: credentials for authorization problems, the mapping for
// mapping problems, and the history for everything else.
func guessTarget(a store.Alert) store.AlertTarget {
	src := strings.ToLower(a.Source + " " + a.Message)
	switch {
	case strings.Contains(src, "auth"), strings.Contains(src, "token"), strings.Contains(src, "credential"), strings.Contains(src, "connect"):
		return store.AlertTarget{Screen: store.TargetConnections}
	case strings.Contains(src, "mapping"):
		return store.AlertTarget{Screen: store.TargetMapping}
	}
	return store.AlertTarget{Screen: store.TargetHistory}
}
