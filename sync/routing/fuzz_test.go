package routing

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// FuzzMatch feeds rules and transcripts from outside (the rules editor, a
// transcriber) through Compile and Match: neither may panic, and every hit
// must point at what it claims inside its sentence.
func FuzzMatch(f *testing.F) {
	f.Add("refund", "cancel my account", `order \d+`, "I want a Refund... cancel, my account; order 123")
	f.Add("退款*", "speak to", "", "我想要退款 speak—to")
	f.Add("don't", "a b", "(?-i)X", "don’t a\tb X")
	f.Add("\xff", "\u0301", "", "e\u0301 \xff")
	f.Add("", "", `^b$`, "a\nb\nc")
	f.Add("", "", `a\s+b`, "a\nb")
	f.Add("", "", `\Ab`, "a\nb")
	f.Add("", "", `(?-i)OR\w*der`, "ORDER orKder\nORder")
	f.Add("", "", `(x)yz|k`, "K")
	f.Fuzz(func(t *testing.T, keyword, phrase, regex, text string) {
		r := Rule{Name: "fuzz", Conditions: Conditions{Regex: regex}, Actions: Actions{RaiseAlert: true}}
		if keyword != "" {
			r.Conditions.Keywords = []string{keyword}
		}
		if phrase != "" {
			r.Conditions.Phrases = []string{phrase}
		}
		c, err := Compile(r)
		if err != nil {
			return
		}
		ss := say(strings.Split(text, "\n")...)
		ds := Match([]*Compiled{c}, ss, "call", "inbound")
		// The literal prefilter of a regex only saves work: without it the
		// hits are the same.
		plain := *c
		plain.lit = ""
		if want := Match([]*Compiled{&plain}, ss, "call", "inbound"); !reflect.DeepEqual(ds, want) {
			t.Fatalf("with the prefilter %+v, without %+v", ds, want)
		}
		for _, d := range ds {
			if len(d.Hits) == 0 || len(d.Hits) > MaxHitsPerRule {
				t.Fatalf("%d hits", len(d.Hits))
			}
			for _, h := range d.Hits {
				if h.Sentence < 0 || h.Sentence >= len(ss) || ss[h.Sentence].Text != h.Text {
					t.Fatalf("hit names sentence %d wrongly", h.Sentence)
				}
				if h.Pos < 0 || h.Pos+len(h.Matched) > len(h.Text) || h.Text[h.Pos:h.Pos+len(h.Matched)] != h.Matched || h.Matched == "" {
					t.Fatalf("hit %q at %d is not in %q", h.Matched, h.Pos, h.Text)
				}
				if h.Term != regex && utf8.ValidString(h.Text) {
					// A word match starts and ends on word boundaries.
					first, _ := utf8.DecodeRuneInString(h.Matched)
					last, _ := utf8.DecodeLastRuneInString(h.Matched)
					before, _ := utf8.DecodeLastRuneInString(h.Text[:h.Pos])
					after, _ := utf8.DecodeRuneInString(h.Text[h.Pos+len(h.Matched):])
					if h.Pos > 0 && isWordRune(before) && !isSplitScript(before) && !isSplitScript(first) {
						t.Fatalf("hit %q in %q starts inside a word", h.Matched, h.Text)
					}
					if h.Pos+len(h.Matched) < len(h.Text) && isWordRune(after) && !isSplitScript(after) && !isSplitScript(last) {
						t.Fatalf("hit %q in %q ends inside a word", h.Matched, h.Text)
					}
				}
				_ = d.Why()
				_ = Render("{rule}{phrase}{sentence}{at}{contact}", d, "c")
			}
		}
	})
}
