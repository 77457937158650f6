package routing

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/sync/transcript"
)

// Hit is one place a rule's condition was found: the WHY of a decision.
type Hit struct {
	// Sentence is the index of the sentence in the transcript.
	Sentence int
	// At is the sentence's offset into the recording.
	At time.Duration
	// Speaker is the sentence's side of the call (0 when unknown).
	Speaker int
	// Text is the whole sentence.
	Text string
	// Matched is the matched part of the sentence, as spoken; it starts
	// at byte Pos of Text, for highlighting.
	Matched string
	Pos     int
	// Term is the keyword, phrase or regular expression that matched, as
	// the rule writes it.
	Term string
}

// Decision is one rule that matched a transcript, with where and why.
type Decision struct {
	RuleID   int64
	RuleName string
	// Actions are the rule's, as they were when it matched.
	Actions Actions
	// Hits are the first MaxHitsPerRule places the rule matched, in
	// transcript order; there is always at least one.
	Hits []Hit
}

// Why says in words why the rule matched, for history and the console:
// "matched 'refund' at 0:42".
func (d Decision) Why() string {
	h := d.Hits[0]
	s := fmt.Sprintf("matched %q at %s", h.Matched, Clock(h.At))
	if len(d.Hits) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(d.Hits)-1)
	}
	return s
}

// Clock writes an offset into a call the way a player shows it: m:ss, or
// h:mm:ss from an hour on.
func Clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Match applies rules, in order, to a call's transcript and returns one
// decision per matching rule. channel and direction are the call's (AD's
// channel name, inbound or outbound); a rule that filters on them skips
// calls that differ. Disabled rules match too: callers pass the rules they
// mean to apply.
func Match(rules []*Compiled, sentences []transcript.Sentence, channel, direction string) []Decision {
	var active []*Compiled
	for _, r := range rules {
		cd := r.Conditions
		if len(cd.Channels) > 0 && !slices.Contains(cd.Channels, strings.ToLower(channel)) {
			continue
		}
		if cd.Direction != "" && cd.Direction != strings.ToLower(direction) {
			continue
		}
		active = append(active, r)
	}
	if len(active) == 0 {
		return nil
	}
	// A regular expression is not tried on a sentence that lacks its
	// literal part: a substring search is far cheaper.
	needLower := slices.ContainsFunc(active, func(r *Compiled) bool { return r.lit != "" })
	// Sentence by sentence, so each is split into words once for every
	// rule, into one reused buffer.
	hits := make([][]Hit, len(active))
	full := 0
	var words []token
	for i, s := range sentences {
		split := false
		var lowered string
		if needLower {
			lowered = lowerForLiteral(s.Text)
		}
		for k, r := range active {
			if len(hits[k]) >= MaxHitsPerRule || (r.Conditions.Speaker != 0 && s.Channel != r.Conditions.Speaker) {
				continue
			}
			if len(r.terms) > 0 && !split {
				words, split = tokenize(s.Text, words), true
			}
			hits[k] = r.matchSentence(hits[k], i, s, words, r.lit == "" || strings.Contains(lowered, r.lit))
			if len(hits[k]) >= MaxHitsPerRule {
				hits[k] = hits[k][:MaxHitsPerRule]
				full++
			}
		}
		if full == len(active) {
			break
		}
	}
	var out []Decision
	for k, r := range active {
		if len(hits[k]) > 0 {
			out = append(out, Decision{RuleID: r.ID, RuleName: r.Name, Actions: r.Actions, Hits: hits[k]})
		}
	}
	return out
}

// matchSentence appends the hits of r in sentence i, whose words are ws,
// in the order they occur in it.
func (r *Compiled) matchSentence(hits []Hit, i int, s transcript.Sentence, ws []token, tryRegex bool) []Hit {
	start := len(hits)
	hit := func(from, to int, term string) {
		hits = append(hits, Hit{Sentence: i, At: s.Start, Speaker: s.Channel, Text: s.Text, Matched: s.Text[from:to], Pos: from, Term: term})
	}
	for w := range ws {
		if len(r.terms) == 0 {
			break
		}
		for _, t := range r.terms {
			if n := t.matchAt(ws, w); n > 0 {
				hit(ws[w].start, ws[w+n-1].end, t.text)
				break
			}
		}
	}
	if r.re != nil && tryRegex {
		for _, loc := range r.re.FindAllStringIndex(s.Text, MaxHitsPerRule) {
			if loc[1] > loc[0] {
				hit(loc[0], loc[1], r.Conditions.Regex)
			}
		}
	}
	if r.re != nil && tryRegex && len(r.terms) > 0 {
		// Terms and regex hits of one sentence in the order spoken.
		slices.SortStableFunc(hits[start:], func(a, b Hit) int { return a.Pos - b.Pos })
	}
	return hits
}

// matchAt is how many words of ws from w on t matches, or 0.
func (t term) matchAt(ws []token, w int) int {
	n := len(t.words)
	if w+n > len(ws) {
		return 0
	}
	for k, want := range t.words {
		got := ws[w+k].word
		if k == n-1 && t.prefix {
			if !strings.HasPrefix(got, want) {
				return 0
			}
		} else if got != want {
			return 0
		}
	}
	return n
}

// token is one word of a text: folded for comparison, with its byte span
// in the text.
type token struct {
	word       string
	start, end int
}

// tokenize splits s into words: runs of letters, digits and combining
// marks, with an apostrophe inside a word kept ("don't"). Scripts written
// without spaces between words (Chinese, Japanese, Thai, ...) give one word
// per character, so a keyword in them matches as a run of characters.
// Words are lower-cased with Unicode's rules.
func tokenize(s string, buf []token) []token {
	out := buf[:0]
	if cap(out) == 0 {
		out = make([]token, 0, len(s)/5+1) // about one word in five bytes
	}
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, token{word: fold(s[start:end]), start: start, end: end})
			start = -1
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsMark(r) && start >= 0:
			// A combining mark belongs to the character before it.
		case isSplitScript(r):
			flush(i)
			start = i
			// The word is this character and the marks after it.
			j := i + size
			for j < len(s) {
				m, msize := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsMark(m) {
					break
				}
				j += msize
			}
			flush(j)
			i = j
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if start < 0 {
				start = i
			}
		case (r == '\'' || r == '\u2019') && start >= 0 && i+size < len(s):
			next, _ := utf8.DecodeRuneInString(s[i+size:])
			if !unicode.IsLetter(next) || isSplitScript(next) {
				flush(i)
			}
		default:
			flush(i)
		}
		i += size
	}
	flush(len(s))
	return out
}

// isSplitScript reports whether r belongs to a script whose words are not
// separated by spaces.
func isSplitScript(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao,
		unicode.Khmer, unicode.Myanmar, unicode.Tibetan)
}

// fold lower-cases a word for comparison; the typographic apostrophe
// compares equal to the plain one, and final sigma to sigma.
func fold(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(w)
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u2019':
			return '\''
		case 'ς':
			return 'σ'
		}
		return unicode.ToLower(r)
	}, w)
}

// Render fills a task or alert template for decision d of the call with
// contact's name: {rule}, {phrase}, {sentence}, {at}, {contact}.
func Render(tmpl string, d Decision, contact string) string {
	h := d.Hits[0]
	return strings.NewReplacer("{rule}", d.RuleName, "{phrase}", h.Matched, "{sentence}", h.Text,
		"{at}", Clock(h.At), "{contact}", contact).Replace(tmpl)
}
