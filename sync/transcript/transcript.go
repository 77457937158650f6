// Package transcript is the one format Parley keeps call transcripts in:
// the engine writes it next to the recording when it fetches a call, the
// routing rules read its text, and the console's player shows its
// sentences and seeks to them. HighLevel's transcription (a list of
// sentences with offsets into the recording and the side of the call that
// spoke) maps onto it one to one.
package transcript

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// MaxSize is the largest transcript file Decode reads. An hour of speech is
// about 60 KB of text; anything far beyond is not a transcript.
const MaxSize = 16 << 20

// ContentType is the media type transcript files are indexed under.
const ContentType = "application/vnd.parley.transcript+json"

// Sentence is one utterance of the call.
type Sentence struct {
	// Channel tells the sides of the call apart (1 and 2 in HighLevel's
	// transcriptions); 0 when unknown.
	Channel int `json:"channel"`
	// Start and End are offsets into the recording.
	Start time.Duration `json:"start_ms"`
	End   time.Duration `json:"end_ms"`
	Text  string        `json:"text"`
	// Confidence is the transcriber's, 0 to 1.
	Confidence float64 `json:"confidence,omitempty"`
}

// file is the on-disk form: durations in milliseconds, so the file reads
// well and survives a change of Go's Duration encoding.
type file struct {
	Version   int            `json:"version"`
	Sentences []fileSentence `json:"sentences"`
}

type fileSentence struct {
	Channel    int     `json:"channel"`
	StartMS    int64   `json:"start_ms"`
	EndMS      int64   `json:"end_ms"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence,omitempty"`
}

// maxOffsetMS is the largest offset a time.Duration holds, in
// milliseconds: about 292 years. A larger one would wrap to a negative
// Duration and break the time order the player searches by.
const maxOffsetMS = int64(math.MaxInt64 / time.Millisecond)

// ErrInvalid is matched (errors.Is) by every error Decode returns for a file
// that is not a transcript.
var ErrInvalid = errors.New("not a valid transcript")

// Encode writes sentences to w in the transcript file format.
func Encode(w io.Writer, sentences []Sentence) error {
	f := file{Version: 1, Sentences: make([]fileSentence, len(sentences))}
	for i, s := range sentences {
		f.Sentences[i] = fileSentence{Channel: s.Channel, StartMS: s.Start.Milliseconds(), EndMS: s.End.Milliseconds(),
			Text: strings.ToValidUTF8(s.Text, "\uFFFD"), Confidence: s.Confidence}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(f)
}

// Decode reads a transcript file, checking what the player and the rules
// rely on: sentences in time order, non-negative offsets, End not before
// Start. Bytes that are not UTF-8 come back as U+FFFD (encoding/json).
func Decode(r io.Reader) ([]Sentence, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrInvalid, MaxSize>>20)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: version %d (this Parley reads version 1)", ErrInvalid, f.Version)
	}
	out := make([]Sentence, len(f.Sentences))
	var last int64
	for i, s := range f.Sentences {
		switch {
		case s.StartMS < 0 || s.EndMS < s.StartMS:
			return nil, fmt.Errorf("%w: sentence %d runs from %d ms to %d ms", ErrInvalid, i+1, s.StartMS, s.EndMS)
		case s.EndMS > maxOffsetMS:
			return nil, fmt.Errorf("%w: sentence %d ends at %d ms, later than any recording can last", ErrInvalid, i+1, s.EndMS)
		case s.StartMS < last:
			return nil, fmt.Errorf("%w: sentence %d starts at %d ms, before the one ahead of it (%d ms)", ErrInvalid, i+1, s.StartMS, last)
		}
		last = s.StartMS
		out[i] = Sentence{Channel: s.Channel, Start: time.Duration(s.StartMS) * time.Millisecond,
			End: time.Duration(s.EndMS) * time.Millisecond, Text: s.Text, Confidence: s.Confidence}
	}
	return out, nil
}

// Text is the transcript as plain text, one sentence per line, for rules
// and search.
func Text(sentences []Sentence) string {
	var b strings.Builder
	for i, s := range sentences {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.Text)
	}
	return b.String()
}

// At is the index of the sentence being spoken at offset d: the last one
// starting at or before d, or -1 before the first.
func At(sentences []Sentence, d time.Duration) int {
	lo, hi := 0, len(sentences)
	for lo < hi {
		mid := (lo + hi) / 2
		if sentences[mid].Start <= d {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}
