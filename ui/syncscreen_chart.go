package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
)

// throughputChart draws the last hour as bars, one a minute: the calls
// that went ok in the primary colour with the failed ones stacked on top
// in the error colour, scaled to the busiest minute.
type throughputChart struct {
	widget.BaseWidget
	minutes []store.ThroughputMinute
}

func newThroughputChart() *throughputChart {
	c := &throughputChart{}
	c.ExtendBaseWidget(c)
	return c
}

// set shows minutes; call it on the UI goroutine.
func (c *throughputChart) set(minutes []store.ThroughputMinute) {
	c.minutes = minutes
	c.Refresh()
}

// total is every call the chart shows.
func (c *throughputChart) total() int {
	n := 0
	for _, m := range c.minutes {
		n += m.OK + m.Failed
	}
	return n
}

func (c *throughputChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c, back: canvas.NewRectangle(color.Transparent), base: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type chartRenderer struct {
	c          *throughputChart
	back, base *canvas.Rectangle
	ok, failed []*canvas.Rectangle
	objects    []fyne.CanvasObject
}

func (r *chartRenderer) Destroy() {}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(240, 72) }

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) Layout(size fyne.Size) {
	r.back.Resize(size)
	r.base.Move(fyne.NewPos(0, size.Height-1))
	r.base.Resize(fyne.NewSize(size.Width, 1))
	n := len(r.c.minutes)
	if n == 0 {
		return
	}
	peak := 1
	for _, m := range r.c.minutes {
		peak = max(peak, m.OK+m.Failed)
	}
	step := size.Width / float32(n)
	gap := min(step/4, 2)
	usable := size.Height - 2
	for i, m := range r.c.minutes {
		x := float32(i)*step + gap/2
		hOK := usable * float32(m.OK) / float32(peak)
		hFail := usable * float32(m.Failed) / float32(peak)
		r.ok[i].Move(fyne.NewPos(x, size.Height-1-hOK))
		r.ok[i].Resize(fyne.NewSize(step-gap, hOK))
		r.failed[i].Move(fyne.NewPos(x, size.Height-1-hOK-hFail))
		r.failed[i].Resize(fyne.NewSize(step-gap, hFail))
	}
}

func (r *chartRenderer) Refresh() {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.back.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.base.FillColor = th.Color(theme.ColorNameSeparator, v)
	for len(r.ok) < len(r.c.minutes) {
		r.ok = append(r.ok, canvas.NewRectangle(color.Transparent))
		r.failed = append(r.failed, canvas.NewRectangle(color.Transparent))
	}
	r.ok, r.failed = r.ok[:len(r.c.minutes)], r.failed[:len(r.c.minutes)]
	r.objects = append(r.objects[:0], r.back, r.base)
	for i := range r.ok {
		r.ok[i].FillColor = th.Color(theme.ColorNamePrimary, v)
		r.failed[i].FillColor = th.Color(theme.ColorNameError, v)
		r.objects = append(r.objects, r.ok[i], r.failed[i])
	}
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}
