package transcript

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds Decode arbitrary files, as a transcript on disk may be
// anything after a crash or a hand edit. Decode either refuses with
// ErrInvalid or returns sentences the player and the rules can trust:
// offsets in time order, none negative, no End before its Start, text in
// UTF-8; and what it returns survives Encode and Decode unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"sentences":[{"channel":1,"start_ms":0,"end_ms":1500,"text":"Hello","confidence":0.9},{"channel":2,"start_ms":1600,"end_ms":4000,"text":"I want a refund."}]}`))
	f.Add([]byte(`{"version":1,"sentences":[]}`))
	f.Add([]byte(`{"version":1,"sentences":[{"start_ms":5,"end_ms":5,"text":"caf\xe9 \xff"}]}`))
	f.Add([]byte(`{"version":1,"sentences":[{"start_ms":10,"end_ms":20,"text":"a"},{"start_ms":10,"end_ms":30,"text":"b"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"sentences":[{"start_ms":1e3,"end_ms":"x"}]}`))
	f.Add([]byte(`[`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode refused with %v, which is not ErrInvalid", err)
			}
			return
		}
		for i, s := range got {
			switch {
			case s.Start < 0 || s.End < s.Start:
				t.Fatalf("sentence %d runs from %v to %v", i, s.Start, s.End)
			case i > 0 && s.Start < got[i-1].Start:
				t.Fatalf("sentence %d starts at %v, before sentence %d at %v", i, s.Start, i-1, got[i-1].Start)
			case !utf8.ValidString(s.Text):
				t.Fatalf("sentence %d has text %q that is not UTF-8", i, s.Text)
			}
			if j := At(got, s.Start); j < i || got[j].Start != s.Start {
				t.Fatalf("At(%v) = %d, for sentence %d that starts then", s.Start, j, i)
			}
		}
		if n := strings.Count(Text(got), "\n"); n < max(len(got)-1, 0) {
			t.Fatalf("Text has %d line breaks for %d sentences", n, len(got))
		}
		var buf bytes.Buffer
		if err := Encode(&buf, got); err != nil {
			t.Fatal(err)
		}
		again, err := Decode(&buf)
		if err != nil {
			t.Fatalf("Decode refused what Encode wrote: %v\n%s", err, buf.Bytes())
		}
		if !slices.Equal(got, again) {
			t.Fatalf("round trip changed the sentences:\n%+v\n%+v", got, again)
		}
	})
}
