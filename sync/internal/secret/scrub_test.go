package secret

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestScrubberForms(t *testing.T) {
	const key = `kPRE<&>"'\/+ é😀kSUF`
	s := NewScrubber(key)
	tests := map[string]string{
		"raw":           key,
		"json":          jsonString(key),
		"json slashes":  strings.ReplaceAll(jsonString(key), "/", `\/`),
		"json ascii":    `kPRE\u003C\u0026\u003e\"\u0027\\\/\u002b\u0020\u00e9\ud83d\ude00kSUF`,
		"html":          html.EscapeString(key),
		"html refs":     `kPRE&#60;&#x26;&GT;&quot;&#39;&bsol;&sol;&#43;&#32;&#xE9;&#128512;kSUF`,
		"query":         url.QueryEscape(key),
		"path":          url.PathEscape(key),
		"query lower":   regexp.MustCompile("%[0-9A-F]{2}").ReplaceAllStringFunc(url.QueryEscape(key), strings.ToLower),
		"mixed":         `kPRE%3c&amp;\u003e"'\\/%2B+é😀kSUF`,
		"truncated":     `kPRE\u003c&amp;&gt;"'`,
		"json of html":  jsonString(html.EscapeString(key)),
		"json of query": jsonString(url.QueryEscape(key)),
		"html of json":  html.EscapeString(jsonString(key)),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got := s.String("before " + in)
			if got != "before "+Redacted {
				t.Errorf("String(%q) = %q", in, got)
			}
		})
	}
	for _, keep := range []string{"kPRE", "kPRE<", "nothing here", `kPRE\u003d`, "kPRE&lt;&amp;&gt;x"} {
		if got := s.String(keep); got != keep {
			t.Errorf("String(%q) = %q, want it unchanged", keep, got)
		}
	}
	// A backslash that is a key's own character and the start of an escape.
	bs := NewScrubber(`a\\b`)
	for _, in := range []string{`x a\\b y`, `x a\\\\b y`, `x a\\\u005cb y`} {
		if got := bs.String(in); got != "x "+Redacted+" y" {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
	if got := (*Scrubber)(nil).String(key); got != key {
		t.Errorf("nil scrubber changed the text: %q", got)
	}
}

var errSentinel = errors.New("sentinel")

type typed struct{ msg string }

func (e *typed) Error() string { return e.msg }

type copyable struct {
	Field string
	Err   error
}

func (e *copyable) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *copyable) Unwrap() error { return e.Err }
func (e *copyable) Scrubbed(s *Scrubber) error {
	return &copyable{Field: s.String(e.Field), Err: s.Error(e.Err)}
}

func TestScrubberError(t *testing.T) {
	const key = "k<&>key-value-1"
	s := NewScrubber(key)
	clean := fmt.Errorf("clean: %w", errSentinel)
	if s.Error(clean) != clean {
		t.Error("a clean chain was wrapped")
	}
	inner := &typed{msg: "inner " + jsonString(key)}
	err := fmt.Errorf("outer %s: %w", url.QueryEscape(key), errors.Join(inner, fmt.Errorf("x: %w", errSentinel)))
	got := s.Error(err)
	var walk func(error)
	walk = func(e error) {
		if strings.Contains(fmt.Sprintf("%v %+v %#v", e, e, e), "key-value") {
			t.Errorf("chain shows the key: %#v", e)
		}
		for _, c := range unwrap(e) {
			walk(c)
		}
	}
	walk(got)
	if !errors.Is(got, errSentinel) {
		t.Error("errors.Is lost the sentinel")
	}
	var tp *typed
	if errors.As(got, &tp) {
		t.Errorf("errors.As handed out the unscrubbed %q", tp.msg)
	}
	cp := s.Error(fmt.Errorf("wrap: %w", &copyable{Field: "f " + key, Err: fmt.Errorf("c %s: %w", key, errSentinel)}))
	var c *copyable
	if !errors.As(cp, &c) || strings.Contains(c.Field, "key-value") || !errors.Is(cp, errSentinel) {
		t.Errorf("Scrubbable copy: %#v", c)
	}
	walk(cp)
}

// BenchmarkScrubErrorBody: a 64 KiB error body, the most the GHL client
// keeps, against the credentials of an OAuth client.
func BenchmarkScrubErrorBody(b *testing.B) {
	s := NewScrubber("tok-<&>-aaaaaaaaaaaaaaaaaaaa", "ref-bbbbbbbbbbbbbbbbbbbbbbbb", "sec-cccccccccccccccccccccc")
	body := strings.Repeat(`{"message":"invalid token tok-\u003c\u0026\u003e-aaaaaaaaaaaaaaaaaaaa & 100% of %s"} `, 64<<10/80)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = s.String(body)
	}
}
