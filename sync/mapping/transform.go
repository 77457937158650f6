package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	// Windows has no zoneinfo of its own; the date transform's zones must
	// load there too.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"

	"parley/sync/internal/phone"
)

// Transform names the conversion a link applies, with its parameters.
// Parameter values are text, lists of text or tables of text to text, as
// TransformSpec describes them.
type Transform struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params,omitempty"`
}

// Transform names.
const (
	Copy     = "copy"
	Trim     = "trim"
	Lower    = "lower"
	Upper    = "upper"
	E164     = "e164"
	DateConv = "date"
	Constant = "constant"
	Template = "template"
	Lookup   = "lookup"
)

// TransformVersion is the version of the JSON encoding Encode writes.
const TransformVersion = 1

// Encode is the transform as stored in store.FieldMapping.Transform: its
// plain name when it has no parameters ("lower"; "" for copy), else JSON
// {"v":1,"name":"date","params":{...}}. Both forms are read back by
// ParseTransform; the version lets a later encoding be told apart.
func (t Transform) Encode() string {
	if len(t.Params) == 0 {
		if t.Name == Copy {
			return ""
		}
		return t.Name
	}
	b, err := json.Marshal(struct {
		V      int            `json:"v"`
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	}{TransformVersion, t.Name, t.Params})
	if err != nil {
		// Params hold only text, lists and tables of text.
		panic(fmt.Sprintf("mapping: encode transform %s: %v", t.Name, err))
	}
	return string(b)
}

// ParseTransform reads Encode's text. It checks the encoding, not the
// transform: Validate and Compile do that.
func ParseTransform(s string) (Transform, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Transform{Name: Copy}, nil
	}
	if !strings.HasPrefix(s, "{") {
		return Transform{Name: s}, nil
	}
	var raw struct {
		V      int            `json:"v"`
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return Transform{}, fmt.Errorf("transform %q is not readable: %w", s, err)
	}
	if raw.V > TransformVersion {
		return Transform{}, fmt.Errorf("transform %s was saved by a newer Parley (encoding version %d; this one reads up to %d); update Parley or save the mapping again", raw.Name, raw.V, TransformVersion)
	}
	t := Transform{Name: raw.Name, Params: map[string]any{}}
	for k, v := range raw.Params {
		nv, err := normalizeParam(v)
		if err != nil {
			return Transform{}, fmt.Errorf("transform %s: parameter %s: %w", raw.Name, k, err)
		}
		t.Params[k] = nv
	}
	return t, nil
}

// normalizeParam turns decoded JSON into the three parameter shapes.
func normalizeParam(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64:
		return fmt.Sprint(x), nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("a list must hold text only")
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		out := make(map[string]string, len(x))
		for k, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("a table must map text to text")
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value %v", v)
}

// ParamKind is the shape of a parameter's value.
type ParamKind string

// Parameter kinds.
const (
	// ParamText is a string.
	ParamText ParamKind = "text"
	// ParamList is a []string.
	ParamList ParamKind = "list"
	// ParamTable is a map[string]string.
	ParamTable ParamKind = "table"
)

// ParamSpec describes one parameter for the editor.
type ParamSpec struct {
	Name     string    `json:"name"`
	Kind     ParamKind `json:"kind"`
	Required bool      `json:"required,omitempty"`
	// Choices, when set, are the values allowed.
	Choices []string `json:"choices,omitempty"`
	Help    string   `json:"help"`
}

// TransformSpec describes one transform for the editor.
type TransformSpec struct {
	Name string `json:"name"`
	Help string `json:"help"`
	// Computed transforms read no single ActiveDEMAND field: their link's
	// AD field is NoADField.
	Computed bool        `json:"computed,omitempty"`
	Params   []ParamSpec `json:"params,omitempty"`
	// Accepts lists the field types the transform reads; nil means any
	// but Secret.
	Accepts []Type `json:"accepts,omitempty"`
	// Gives is the type of the result; empty means the input's type.
	Gives Type `json:"gives,omitempty"`
}

var specs = []TransformSpec{
	{Name: Copy, Help: "the value as it is"},
	{Name: Trim, Help: "without spaces at either end"},
	{Name: Lower, Help: "trimmed, in lower case (email addresses, picklist values)"},
	{Name: Upper, Help: "trimmed, in upper case (country and state codes)"},
	{Name: E164, Help: "a phone number in E.164 (+19025551037); numbers without a country code are read as numbers of region",
		Accepts: []Type{Phone, Text}, Gives: Phone,
		Params: []ParamSpec{{Name: "region", Kind: ParamText, Help: "two-letter country code for numbers without one, e.g. CA; default: Parley's phone region"}}},
	{Name: DateConv, Help: "a date or time read in one of the input layouts and written in the output layout, in zone",
		Accepts: []Type{Date, Text}, Gives: Date,
		Params: []ParamSpec{
			{Name: "layouts", Kind: ParamList, Help: "input layouts, written as Go writes 2 January 2006 15:04:05 -0700 (e.g. 01/02/2006); default: RFC 3339, then 2006-01-02 15:04:05, then 2006-01-02"},
			{Name: "layout", Kind: ParamText, Help: "output layout; default 2006-01-02"},
			{Name: "zone", Kind: ParamText, Help: "IANA time zone such as America/Toronto: input without a zone is read in it, output is written in it; default UTC"},
		}},
	{Name: Constant, Help: "always the same text", Computed: true, Gives: Text,
		Params: []ParamSpec{{Name: "value", Kind: ParamText, Required: true, Help: "the text to send"}}},
	{Name: Template, Help: "text with {{field}} replaced by ActiveDEMAND fields' values, e.g. {{first_name}} {{last_name}}", Computed: true, Gives: Text,
		Params: []ParamSpec{{Name: "text", Kind: ParamText, Required: true, Help: "the text; {{key}} names an ActiveDEMAND field by its key"}}},
	{Name: Lookup, Help: "a picklist value replaced by what the table says (matched trimmed, ignoring case)", Gives: Text,
		Accepts: []Type{Choice, Text, List},
		Params: []ParamSpec{
			{Name: "entries", Kind: ParamTable, Required: true, Help: "ActiveDEMAND value to HighLevel value"},
			{Name: "default", Kind: ParamText, Help: "the value for one the table lacks"},
			{Name: "missing", Kind: ParamText, Choices: []string{"fail", "default", "keep"}, Help: "what a value the table lacks does: fail the link (the default without a default value), use default (the default with one), or keep the value"},
		}},
}

// Transforms lists the transforms with their parameters, for the editor.
func Transforms() []TransformSpec { return slices.Clone(specs) }

func specOf(name string) (TransformSpec, bool) {
	i := slices.IndexFunc(specs, func(s TransformSpec) bool { return s.Name == name })
	if i < 0 {
		return TransformSpec{}, false
	}
	return specs[i], true
}

// fn is a compiled transform: the link's value (empty for a computed
// one) and the whole record to the value to send.
type fn func(v string, r Record) (string, error)

// compileTransform checks t and builds it. Its errors name the transform
// and say what to change.
func compileTransform(t Transform, region string) (fn, []string, error) {
	sp, ok := specOf(t.Name)
	if !ok {
		return nil, nil, fmt.Errorf("unknown transform %q; pick one of %s", t.Name, strings.Join(names(), ", "))
	}
	p := params{name: t.Name, m: t.Params}
	for _, k := range slices.Sorted(maps.Keys(t.Params)) {
		if !slices.ContainsFunc(sp.Params, func(ps ParamSpec) bool { return ps.Name == k }) {
			return nil, nil, fmt.Errorf("%s: unknown parameter %q", t.Name, k)
		}
	}
	switch t.Name {
	case Copy:
		return func(v string, _ Record) (string, error) { return v, nil }, nil, nil
	case Trim:
		return func(v string, _ Record) (string, error) { return strings.TrimSpace(v), nil }, nil, nil
	case Lower:
		return func(v string, _ Record) (string, error) { return strings.ToLower(strings.TrimSpace(v)), nil }, nil, nil
	case Upper:
		return func(v string, _ Record) (string, error) { return strings.ToUpper(strings.TrimSpace(v)), nil }, nil, nil
	case E164:
		return compileE164(p, region)
	case DateConv:
		return compileDate(p)
	case Constant:
		val, err := p.text("value")
		if err == nil && strings.TrimSpace(val) == "" {
			err = errors.New("constant: value is empty; write the text to send")
		}
		return func(string, Record) (string, error) { return val, nil }, nil, err
	case Template:
		src, err := p.text("text")
		if err != nil {
			return nil, nil, err
		}
		tp, err := parseTemplate(src)
		if err != nil {
			return nil, nil, err
		}
		return func(_ string, r Record) (string, error) { return tp.render(r), nil }, tp.fields(), nil
	case Lookup:
		return compileLookup(p)
	}
	return nil, nil, fmt.Errorf("transform %q has no implementation", t.Name)
}

func names() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// params reads a transform's parameters by their kind.
type params struct {
	name string
	m    map[string]any
}

func (p params) text(k string) (string, error) {
	v, ok := p.m[k]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: parameter %s must be text", p.name, k)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%s: parameter %s is not valid UTF-8 text", p.name, k)
	}
	return s, nil
}

func (p params) list(k string) ([]string, error) {
	switch v := p.m[k].(type) {
	case nil:
		return nil, nil
	case []string:
		return v, nil
	case string:
		return []string{v}, nil
	}
	return nil, fmt.Errorf("%s: parameter %s must be a list of text", p.name, k)
}

func (p params) table(k string) (map[string]string, error) {
	switch v := p.m[k].(type) {
	case nil:
		return nil, nil
	case map[string]string:
		return v, nil
	}
	return nil, fmt.Errorf("%s: parameter %s must be a table of text to text", p.name, k)
}

func compileE164(p params, region string) (fn, []string, error) {
	r, err := p.text("region")
	if err != nil {
		return nil, nil, err
	}
	if r = strings.ToUpper(strings.TrimSpace(r)); r != "" {
		if phonenumbers.GetCountryCodeForRegion(r) == 0 {
			return nil, nil, fmt.Errorf("e164: region %q unknown; use a two-letter country code such as CA or GB", r)
		}
		region = r
	}
	return func(v string, _ Record) (string, error) {
		out, err := phone.Normalize(v, region)
		if err != nil {
			return "", fmt.Errorf("e164: %q is not a phone number", v)
		}
		return out, nil
	}, nil, nil
}

var defaultLayouts = []string{time.RFC3339, time.DateTime, time.DateOnly}

func compileDate(p params) (fn, []string, error) {
	in, err := p.list("layouts")
	if err != nil {
		return nil, nil, err
	}
	if len(in) == 0 {
		in = defaultLayouts
	}
	out, err := p.text("layout")
	if err != nil {
		return nil, nil, err
	}
	if out == "" {
		out = time.DateOnly
	}
	for _, l := range append(slices.Clone(in), out) {
		if !isLayout(l) {
			return nil, nil, fmt.Errorf("date: layout %q has no date or time in Go's form; write 2 January 2006 15:04:05 as wanted, e.g. 2006-01-02 or 01/02/2006", l)
		}
	}
	zone, err := p.text("zone")
	if err != nil {
		return nil, nil, err
	}
	loc := time.UTC
	if zone != "" {
		if loc, err = time.LoadLocation(zone); err != nil || zone == "Local" {
			return nil, nil, fmt.Errorf("date: zone %q unknown; use an IANA name such as America/Toronto", zone)
		}
	}
	return func(v string, _ Record) (string, error) {
		v = strings.TrimSpace(v)
		for _, l := range in {
			if t, err := time.ParseInLocation(l, v, loc); err == nil {
				return t.In(loc).Format(out), nil
			}
		}
		return "", fmt.Errorf("date: %q matches none of the layouts %s", v, strings.Join(in, ", "))
	}, nil, nil
}

// isLayout says whether l has at least one of Go's layout elements:
// formatting a time with it gives something other than l.
func isLayout(l string) bool {
	ref := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	return l != "" && ref.Format(l) != l
}

func compileLookup(p params) (fn, []string, error) {
	entries, err := p.table("entries")
	if err != nil {
		return nil, nil, err
	}
	if len(entries) == 0 {
		return nil, nil, errors.New("lookup: no entries; add each ActiveDEMAND value and what it becomes in HighLevel")
	}
	folded := make(map[string]string, len(entries))
	seen := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		f := fold(k)
		if f == "" {
			return nil, nil, errors.New("lookup: an entry has an empty value; remove it or write the value")
		}
		if prev, dup := seen[f]; dup {
			return nil, nil, fmt.Errorf("lookup: entries %q and %q are the same value (case and spaces are ignored); keep one", prev, k)
		}
		seen[f] = k
		folded[f] = entries[k]
	}
	def, err := p.text("default")
	if err != nil {
		return nil, nil, err
	}
	missing, err := p.text("missing")
	if err != nil {
		return nil, nil, err
	}
	if missing == "" {
		missing = "fail"
		if def != "" {
			missing = "default"
		}
	}
	switch missing {
	case "fail", "keep":
	case "default":
		if def == "" {
			return nil, nil, errors.New("lookup: missing is default but no default value is set; set default or choose fail or keep")
		}
	default:
		return nil, nil, fmt.Errorf("lookup: missing %q unknown; choose fail, default or keep", missing)
	}
	return func(v string, _ Record) (string, error) {
		if out, ok := folded[fold(v)]; ok {
			return out, nil
		}
		switch missing {
		case "default":
			return def, nil
		case "keep":
			return v, nil
		}
		return "", fmt.Errorf("lookup: value %q has no entry; add it to the table or set a default", v)
	}, nil, nil
}

func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
