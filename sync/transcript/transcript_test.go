package transcript

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	in := []Sentence{
		{Channel: 1, Start: 0, End: 1500 * time.Millisecond, Text: "Hello, this is Dana.", Confidence: 0.9},
		{Channel: 2, Start: 1600 * time.Millisecond, End: 4 * time.Second, Text: "I want a refund."},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[1] != in[1] || out[0] != in[0] {
		t.Fatalf("round trip = %+v, want %+v", out, in)
	}
	if got := Text(out); got != "Hello, this is Dana.\nI want a refund." {
		t.Errorf("Text = %q", got)
	}
}

func TestDecodeRefusesWhatIsNotATranscript(t *testing.T) {
	for name, in := range map[string]string{
		"garbage":      "RIFF....WAVE",
		"version":      `{"version":2,"sentences":[]}`,
		"end before":   `{"version":1,"sentences":[{"start_ms":500,"end_ms":100,"text":"x"}]}`,
		"negative":     `{"version":1,"sentences":[{"start_ms":-5,"end_ms":100,"text":"x"}]}`,
		"out of order": `{"version":1,"sentences":[{"start_ms":500,"end_ms":600,"text":"x"},{"start_ms":100,"end_ms":200,"text":"y"}]}`,
		"oversized":    `{"version":1,"sentences":[{"text":"` + strings.Repeat("a", MaxSize) + `"}]}`,
	} {
		if _, err := Decode(strings.NewReader(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestAt(t *testing.T) {
	s := []Sentence{{Start: time.Second}, {Start: 3 * time.Second}, {Start: 3 * time.Second}, {Start: 7 * time.Second}}
	for d, want := range map[time.Duration]int{0: -1, time.Second: 0, 2 * time.Second: 0, 3 * time.Second: 2, 10 * time.Second: 3} {
		if got := At(s, d); got != want {
			t.Errorf("At(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestDecodeReplacesInvalidUTF8(t *testing.T) {
	out, err := Decode(strings.NewReader("{\"version\":1,\"sentences\":[{\"start_ms\":0,\"end_ms\":1,\"text\":\"a\xffb\"}]}"))
	if err != nil || len(out) != 1 || out[0].Text != "a\uFFFDb" {
		t.Fatalf("Decode = %+v, %v; want the bad byte shown as U+FFFD", out, err)
	}
}
