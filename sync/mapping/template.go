package mapping

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The template transform is a small {{field}} substitution, not
// text/template: a mapping is typed by an admin and stored, and
// text/template would let it call methods, loop and build output of any
// size, with error messages about Go rather than about fields. Here a
// template can only name fields, every name is checked against the catalog
// before saving, and rendering cannot fail or run away.

// template is a parsed template: literal text and field names, alternating
// (parts[0] is text, parts[1] a field, ...).
type template struct {
	parts []string
}

// parseTemplate reads src. {{ and }} delimit a field key (spaces inside
// are ignored); a {{ without its }}, or an empty or malformed key, is an
// error naming its position.
func parseTemplate(src string) (template, error) {
	if !utf8.ValidString(src) {
		// JSON would store it changed: what was checked would not be what runs.
		return template{}, errors.New("template: the text is not valid UTF-8")
	}
	var t template
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, rest)
			return t, nil
		}
		at := len(src) - len(rest) + i
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return template{}, fmt.Errorf("template: {{ at character %d is not closed by }}", at+1)
		}
		key := strings.TrimSpace(rest[i+2 : i+2+j])
		if key == "" {
			return template{}, fmt.Errorf("template: {{}} at character %d names no field; write a field key such as {{first_name}}", at+1)
		}
		if !fieldKeyOK(key) {
			return template{}, fmt.Errorf("template: {{%s}} at character %d is not a field key (letters, digits, _ and . only)", key, at+1)
		}
		t.parts = append(t.parts, rest[:i], key)
		rest = rest[i+2+j+2:]
	}
}

func fieldKeyOK(k string) bool {
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return k != ""
}

// fields lists the keys the template names, in order.
func (t template) fields() []string {
	var out []string
	for i := 1; i < len(t.parts); i += 2 {
		out = append(out, t.parts[i])
	}
	return out
}

// render fills the template from r; a field without a value is empty, and
// the result is trimmed so that "{{first_name}} {{last_name}}" of a contact
// with one name has no stray space.
func (t template) render(r Record) string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(r[p])
		}
	}
	return strings.TrimSpace(b.String())
}
