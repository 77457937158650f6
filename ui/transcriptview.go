package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/sync/transcript"
	"parley/ui/player"
)

// transcriptView shows a call's sentences with their times and sides. A
// click on a sentence seeks the recording there; the sentence being played
// is highlighted and kept in view; a search box finds words in it; the
// whole transcript can be copied or saved as text.
type transcriptView struct {
	win fyne.Window
	// seek moves the recording to a sentence's start.
	seek func(time.Duration)

	sentences []transcript.Sentence
	// current is the sentence being played, -1 before the first.
	current int
	// matches are the sentences the search found; match is the one shown.
	matches []int
	match   int

	list    *widget.List
	search  *widget.Entry
	found   *widget.Label
	copyBtn *widget.Button
	saveBtn *widget.Button
	note    *widget.Label
	view    fyne.CanvasObject
}

func newTranscriptView(win fyne.Window, seek func(time.Duration)) *transcriptView {
	v := &transcriptView{win: win, seek: seek, current: -1, match: -1}
	v.list = widget.NewList(
		func() int { return len(v.sentences) },
		func() fyne.CanvasObject {
			at := widget.NewLabelWithStyle("00:00", fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true})
			side := widget.NewLabel("Side 0")
			text := widget.NewLabel("")
			text.Wrapping = fyne.TextWrapWord
			return container.NewBorder(nil, nil, container.NewHBox(at, side), nil, text)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(v.sentences) {
				return
			}
			s := v.sentences[id]
			row := o.(*fyne.Container)
			text := row.Objects[0].(*widget.Label)
			meta := row.Objects[1].(*fyne.Container)
			meta.Objects[0].(*widget.Label).SetText(player.Clock(s.Start))
			meta.Objects[1].(*widget.Label).SetText(sideName(s.Channel))
			text.TextStyle = fyne.TextStyle{}
			text.Importance = widget.MediumImportance
			switch {
			case id == v.current:
				text.TextStyle.Bold = true
				text.Importance = widget.HighImportance
			case v.match >= 0 && id == v.matches[v.match]:
				text.Importance = widget.WarningImportance
			}
			text.SetText(s.Text)
			v.list.SetItemHeight(id, row.MinSize().Height)
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		v.list.UnselectAll()
		if id < len(v.sentences) {
			v.seek(v.sentences[id].Start)
		}
	}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Find in this transcript…")
	v.search.OnChanged = func(string) { v.find(false) }
	v.search.OnSubmitted = func(string) { v.find(true) }
	v.found = widget.NewLabel("")
	v.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), v.copyText)
	v.saveBtn = widget.NewButtonWithIcon("Save as text…", theme.DocumentSaveIcon(), v.saveText)
	v.note = widget.NewLabel("")
	v.note.Wrapping = fyne.TextWrapWord
	v.note.Hide()
	top := container.NewBorder(nil, v.note, nil, container.NewHBox(v.found, v.copyBtn, v.saveBtn), v.search)
	v.view = container.NewBorder(top, nil, nil, nil, v.list)
	v.set(nil, "")
	return v
}

// sideName names a channel of the call.
func sideName(ch int) string {
	if ch == 0 {
		return "—"
	}
	return fmt.Sprintf("Side %d", ch)
}

// set shows sentences, or note when there are none (why not).
func (v *transcriptView) set(sentences []transcript.Sentence, note string) {
	v.sentences, v.current, v.matches, v.match = sentences, -1, nil, -1
	v.found.SetText("")
	if note != "" {
		v.note.SetText(note)
		v.note.Show()
	} else {
		v.note.Hide()
	}
	for _, o := range []fyne.Disableable{v.search, v.copyBtn, v.saveBtn} {
		if len(sentences) == 0 {
			o.Disable()
		} else {
			o.Enable()
		}
	}
	v.list.Refresh()
	v.list.ScrollToTop()
	if v.search.Text != "" {
		v.find(false)
	}
}

// follow highlights the sentence being spoken at d and keeps it in view.
func (v *transcriptView) follow(d time.Duration) {
	i := transcript.At(v.sentences, d)
	if i == v.current {
		return
	}
	old := v.current
	v.current = i
	if old >= 0 {
		v.list.RefreshItem(old)
	}
	if i >= 0 {
		v.list.RefreshItem(i)
		v.list.ScrollTo(i)
	}
}

// find looks for the search words; next moves to the following match.
func (v *transcriptView) find(next bool) {
	q := strings.ToLower(strings.TrimSpace(v.search.Text))
	if !next || q == "" {
		v.matches, v.match = nil, -1
		if q != "" {
			for i, s := range v.sentences {
				if strings.Contains(strings.ToLower(s.Text), q) {
					v.matches = append(v.matches, i)
				}
			}
			if len(v.matches) > 0 {
				v.match = 0
			}
		}
	} else if len(v.matches) > 0 {
		v.match = (v.match + 1) % len(v.matches)
	}
	switch {
	case q == "":
		v.found.SetText("")
	case len(v.matches) == 0:
		v.found.SetText("Not found")
	default:
		v.found.SetText(fmt.Sprintf("%d of %d", v.match+1, len(v.matches)))
		v.list.ScrollTo(v.matches[v.match])
	}
	v.list.Refresh()
}

// text is the transcript as plain text, a line per sentence with its time
// and side.
func (v *transcriptView) text() string {
	var b strings.Builder
	for _, s := range v.sentences {
		fmt.Fprintf(&b, "[%s] %s: %s\n", player.Clock(s.Start), sideName(s.Channel), s.Text)
	}
	return b.String()
}

func (v *transcriptView) copyText() {
	fyne.CurrentApp().Clipboard().SetContent(v.text())
}

func (v *transcriptView) saveText() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		if err := v.writeText(w); err != nil {
			dialog.ShowError(err, v.win)
		}
	}, v.win)
	d.SetFileName("transcript.txt")
	d.Show()
}

// writeText writes the transcript as text to the file the save dialog
// chose, and closes it.
func (v *transcriptView) writeText(w fyne.URIWriteCloser) error {
	_, err := w.Write([]byte(v.text()))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save the transcript to %s: %w; choose another folder", w.URI().Path(), err)
	}
	return nil
}
