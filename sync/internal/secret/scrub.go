package secret

import (
	"encoding/json"
	"html"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Scrubber removes credentials from text that may have come back from a
// server (an error body echoing a key) or from a library (a transport error
// naming a URL). A credential is found however it was escaped, and in any
// mixture of escapes: raw, JSON (\u003c, \", \\, \/), HTML (&lt;, &#60;,
// &#x3c;, &quot;), and URL (%3C, + for a space). A credential cut off at the
// very end of a text (a truncated body) is removed too once its first
// minPrefix characters are there. The zero value and nil scrub nothing.
type Scrubber struct {
	secrets [][]rune
}

// minPrefix is how much of a credential at the end of a text counts as the
// credential cut off: long enough that ordinary words never match.
const minPrefix = 8

// NewScrubber returns a scrubber for values; empty values are ignored.
func NewScrubber(values ...string) *Scrubber {
	s := &Scrubber{}
	return s.With(values...)
}

// With returns a scrubber for s's credentials and values.
func (s *Scrubber) With(values ...string) *Scrubber {
	out := &Scrubber{}
	if s != nil {
		out.secrets = append(out.secrets, s.secrets...)
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		out.secrets = append(out.secrets, []rune(v))
		// An encoding inside another (a server HTML-escapes a key and then
		// JSON-encodes the message) is the matcher's layer over one of
		// these.
		for _, enc := range []string{html.EscapeString(v), url.QueryEscape(v), url.PathEscape(v), jsonString(v)} {
			if enc != v {
				out.secrets = append(out.secrets, []rune(enc))
			}
		}
	}
	return out
}

// jsonString is v as encoding/json writes it inside quotes.
func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

func (s *Scrubber) empty() bool { return s == nil || len(s.secrets) == 0 }

// String returns text with every credential replaced by [redacted].
func (s *Scrubber) String(text string) string {
	if s.empty() || text == "" {
		return text
	}
	var b strings.Builder
	copied := 0
	for i := 0; i < len(text); {
		end := -1
		for _, sec := range s.secrets {
			if e := match(text, i, sec); e > end {
				end = e
			}
		}
		if end <= i {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[copied:i])
		b.WriteString(Redacted)
		copied, i = end, end
	}
	if copied == 0 {
		return text
	}
	b.WriteString(text[copied:])
	return b.String()
}

// match returns the end of the longest encoding of sec starting at i, or
// -1. It follows every way each character may be written at once (a
// backslash may be itself or start an escape), so that no choice made early
// hides a match.
func match(text string, i int, sec []rune) int {
	if !mayStart(text[i], sec[0]) {
		return -1
	}
	var a, b [8]int
	pos, next := append(a[:0], i), b[:0]
	for k, r := range sec {
		next = next[:0]
		for _, p := range pos {
			if p == len(text) {
				// The text ends inside the credential: a cut-off copy.
				if k >= minPrefix {
					return len(text)
				}
				continue
			}
			next = decodeAt(text, p, r, next)
		}
		if len(next) == 0 {
			return -1
		}
		pos, next = dedupe(next), pos
	}
	end := -1
	for _, p := range pos {
		end = max(end, p)
	}
	return end
}

// mayStart is a quick test before the full match: every encoding of r
// starts with r's first byte or with one of the bytes that start an escape.
func mayStart(c byte, r rune) bool {
	switch c {
	case '%', '\\', '&', '+':
		return true
	}
	var b [utf8.UTFMax]byte
	utf8.EncodeRune(b[:], r)
	return c == b[0]
}

func dedupe(ps []int) []int {
	out := ps[:0]
	for i, p := range ps {
		if !containsInt(ps[:i], p) {
			out = append(out, p)
		}
	}
	return out
}

func containsInt(ps []int, p int) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// decodeAt appends to out the end of every encoding of r found at text[p:].
func decodeAt(text string, p int, r rune, out []int) []int {
	rest := text[p:]
	var raw [utf8.UTFMax]byte
	n := utf8.EncodeRune(raw[:], r)
	if strings.HasPrefix(rest, string(raw[:n])) {
		out = append(out, p+n)
	}
	switch rest[0] {
	case '+':
		if r == ' ' {
			out = append(out, p+1)
		}
	case '%':
		if e := percent(rest, raw[:n]); e > 0 {
			out = append(out, p+e)
		}
	case '\\':
		if e := jsonEscape(rest, r); e > 0 {
			out = append(out, p+e)
		}
	case '&':
		if e := htmlRef(rest, r); e > 0 {
			out = append(out, p+e)
		}
	}
	return out
}

// percent matches the URL encoding of the bytes b: %XX each, any case.
func percent(s string, b []byte) int {
	if len(s) < 3*len(b) {
		return 0
	}
	for i, c := range b {
		h, ok := hexValue(s[3*i+1 : 3*i+3])
		if s[3*i] != '%' || !ok || h != rune(c) {
			return 0
		}
	}
	return 3 * len(b)
}

var jsonShort = map[byte]rune{'"': '"', '\\': '\\', '/': '/', '\'': '\'', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// jsonEscape matches a JSON (or JavaScript) escape of r at the start of s.
func jsonEscape(s string, r rune) int {
	if len(s) < 2 {
		return 0
	}
	if c, ok := jsonShort[s[1]]; ok {
		if c == r {
			return 2
		}
		return 0
	}
	switch s[1] {
	case 'u':
		if len(s) < 6 {
			return 0
		}
		u, ok := hexValue(s[2:6])
		if !ok {
			return 0
		}
		if u == r {
			return 6
		}
		// A character outside the BMP is a surrogate pair.
		if r > 0xFFFF && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			lo, ok := hexValue(s[8:12])
			if ok && utf16Decode(u, lo) == r {
				return 12
			}
		}
	case 'x':
		if len(s) >= 4 {
			if h, ok := hexValue(s[2:4]); ok && h == r {
				return 4
			}
		}
	}
	return 0
}

func utf16Decode(hi, lo rune) rune {
	if hi < 0xD800 || hi > 0xDBFF || lo < 0xDC00 || lo > 0xDFFF {
		return utf8.RuneError
	}
	return (hi-0xD800)<<10 + (lo - 0xDC00) + 0x10000
}

var htmlNamed = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"', "apos": '\'', "nbsp": '\u00a0', "sol": '/', "bsol": '\\', "plus": '+', "percnt": '%', "equals": '='}

// htmlRef matches an HTML character reference to r at the start of s:
// named, decimal or hexadecimal, ended by a semicolon.
func htmlRef(s string, r rune) int {
	semi := strings.IndexByte(s[:min(len(s), 14)], ';')
	if semi < 2 || semi > 12 {
		return 0
	}
	ref := s[1:semi]
	if ref[0] != '#' {
		if c, ok := htmlNamed[strings.ToLower(ref)]; ok && c == r {
			return semi + 1
		}
		return 0
	}
	digits := ref[1:]
	var v rune
	if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
		h, ok := hexValue(digits[1:])
		if !ok {
			return 0
		}
		v = h
	} else {
		if digits == "" {
			return 0
		}
		for _, c := range []byte(digits) {
			if c < '0' || c > '9' {
				return 0
			}
			v = v*10 + rune(c-'0')
		}
	}
	if v == r {
		return semi + 1
	}
	return 0
}

func hexValue(s string) (rune, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	var v rune
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// Scrubbable is an error type that can give a copy of itself with every
// credential removed from its fields and its cause. Through it errors.As
// still finds the type behind a scrubbed chain.
type Scrubbable interface {
	error
	// Scrubbed returns the copy; s.Error scrubs its cause.
	Scrubbed(s *Scrubber) error
}

// Error returns err with every credential removed from its text and from
// every error its chain hands out. An error whose chain is already clean is
// returned as it is. errors.Is still reaches every sentinel of the chain;
// errors.As reaches the clean errors of the chain and scrubbed copies of
// the [Scrubbable] ones, never an error that would show a credential.
func (s *Scrubber) Error(err error) error {
	if err == nil || s.empty() || s.clean(err) {
		return err
	}
	if sc, ok := err.(Scrubbable); ok {
		return sc.Scrubbed(s)
	}
	return &scrubbed{msg: s.String(err.Error()), orig: err, s: s}
}

// clean reports whether no error of err's chain shows a credential.
func (s *Scrubber) clean(err error) bool {
	for _, e := range Chain(err) {
		if msg := e.Error(); s.String(msg) != msg {
			return false
		}
	}
	return true
}

// Chain returns err and every error errors.Unwrap (one cause or several)
// reaches from it, depth first: what errors.Is and errors.As look at.
func Chain(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	for _, e := range unwrap(err) {
		out = append(out, Chain(e)...)
	}
	return out
}

func unwrap(err error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			return []error{e}
		}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

// scrubbed stands for an error whose own text shows a credential: it has
// the scrubbed text, hands out scrubbed causes, and answers errors.Is for
// the original, which it never hands out.
type scrubbed struct {
	msg  string
	orig error
	s    *Scrubber
}

func (e *scrubbed) Error() string { return e.msg }

func (e *scrubbed) Unwrap() []error {
	causes := unwrap(e.orig)
	out := make([]error, 0, len(causes))
	for _, c := range causes {
		if c != nil {
			out = append(out, e.s.Error(c))
		}
	}
	return out
}

// Is answers for the original error alone; errors.Is walks the causes
// through Unwrap.
func (e *scrubbed) Is(target error) bool {
	if x, ok := e.orig.(interface{ Is(error) bool }); ok && x.Is(target) {
		return true
	}
	return target != nil && reflect.TypeOf(target).Comparable() && e.orig == target
}
