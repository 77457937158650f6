package mapping

import (
	"strings"
	"testing"
)

func TestTransforms(t *testing.T) {
	tests := []struct {
		name    string
		t       Transform
		in      string
		rec     Record
		want    string
		wantErr string
	}{
		{"copy keeps spaces", Transform{Name: Copy}, " Ada ", nil, " Ada ", ""},
		{"empty name is copy", Transform{}, "x", nil, "x", ""},
		{"trim", Transform{Name: Trim}, "  Ada Lovelace \t", nil, "Ada Lovelace", ""},
		{"lower", Transform{Name: Lower}, " Ada@Example.COM ", nil, "ada@example.com", ""},
		{"upper", Transform{Name: Upper}, " ns", nil, "NS", ""},
		{"e164 default region", Transform{Name: E164}, "(902) 555-1037", nil, "+19025551037", ""},
		{"e164 region param", Transform{Name: E164, Params: map[string]any{"region": "gb"}}, "020 7946 0018", nil, "+442079460018", ""},
		{"e164 not a number", Transform{Name: E164}, "call me", nil, "", `e164: "call me" is not a phone number`},
		{"date default layouts", Transform{Name: DateConv}, "2026-03-04T05:06:07Z", nil, "2026-03-04", ""},
		{"date zone shifts the day", Transform{Name: DateConv, Params: map[string]any{"zone": "America/Toronto"}}, "2026-03-04T02:00:00Z", nil, "2026-03-03", ""},
		{"date input and output layouts", Transform{Name: DateConv, Params: map[string]any{"layouts": []string{"01/02/2006"}, "layout": "2 Jan 2006"}}, "12/25/2025", nil, "25 Dec 2025", ""},
		{"date unparsable", Transform{Name: DateConv}, "soon", nil, "", `date: "soon" matches none of the layouts`},
		{"constant", Transform{Name: Constant, Params: map[string]any{"value": "ActiveDEMAND"}}, "", nil, "ActiveDEMAND", ""},
		{"template", Transform{Name: Template, Params: map[string]any{"text": "{{first_name}} {{ last_name }} ({{custom_1}})"}}, "",
			Record{"first_name": "Ada", "last_name": "Lovelace", "custom_1": "Pine"}, "Ada Lovelace (Pine)", ""},
		{"template missing value is empty and trimmed", Transform{Name: Template, Params: map[string]any{"text": "{{first_name}} {{last_name}}"}}, "",
			Record{"first_name": "Ada"}, "Ada", ""},
		{"lookup match ignores case and spaces", Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Trade Show": "event"}}}, " trade show ", nil, "event", ""},
		{"lookup missing fails by default", Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "web"}}}, "Radio", nil, "", `lookup: value "Radio" has no entry`},
		{"lookup default", Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "web"}, "default": "other"}}, "Radio", nil, "other", ""},
		{"lookup keep", Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "web"}, "missing": "keep"}}, "Radio", nil, "Radio", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := compileTransform(withCopy(tt.t), "")
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := f(tt.in, tt.rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("= %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func withCopy(t Transform) Transform {
	if t.Name == "" {
		t.Name = Copy
	}
	return t
}

// Each transform's parameters are checked when the mapping is built, with
// a message that says what to change.
func TestTransformBuildErrors(t *testing.T) {
	tests := []struct {
		t    Transform
		want string
	}{
		{Transform{Name: "reverse"}, `unknown transform "reverse"; pick one of copy, trim`},
		{Transform{Name: Lower, Params: map[string]any{"locale": "tr"}}, `lower: unknown parameter "locale"`},
		{Transform{Name: E164, Params: map[string]any{"region": "XX"}}, `e164: region "XX" unknown`},
		{Transform{Name: DateConv, Params: map[string]any{"zone": "Mars/Base"}}, `date: zone "Mars/Base" unknown; use an IANA name such as America/Toronto`},
		{Transform{Name: DateConv, Params: map[string]any{"layout": "yyyy-mm-dd"}}, `date: layout "yyyy-mm-dd" has no date or time in Go's form`},
		{Transform{Name: DateConv, Params: map[string]any{"layouts": map[string]string{"a": "b"}}}, `date: parameter layouts must be a list of text`},
		{Transform{Name: Constant}, `constant: value is empty`},
		{Transform{Name: Template, Params: map[string]any{"text": "Hi {{first_name"}}, `template: {{ at character 4 is not closed by }}`},
		{Transform{Name: Template, Params: map[string]any{"text": "{{ }}"}}, `names no field`},
		{Transform{Name: Template, Params: map[string]any{"text": "{{first name}}"}}, `{{first name}} at character 1 is not a field key`},
		{Transform{Name: Lookup}, `lookup: no entries`},
		{Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "a", " web": "b"}}}, `lookup: entries " web" and "Web" are the same value`},
		{Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "a"}, "missing": "default"}}, `no default value is set`},
		{Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "a"}, "missing": "skip"}}, `lookup: missing "skip" unknown; choose fail, default or keep`},
	}
	for _, tt := range tests {
		_, _, err := compileTransform(tt.t, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compile %+v = %v; want error containing %q", tt.t, err, tt.want)
		}
	}
}

func TestTransformEncoding(t *testing.T) {
	tests := []struct {
		t   Transform
		enc string
	}{
		{Transform{Name: Copy}, ""},
		{Transform{Name: Lower}, "lower"},
		{Transform{Name: DateConv, Params: map[string]any{"layout": "2006-01-02", "zone": "America/Toronto"}},
			`{"v":1,"name":"date","params":{"layout":"2006-01-02","zone":"America/Toronto"}}`},
		{Transform{Name: Lookup, Params: map[string]any{"entries": map[string]string{"Web": "web"}, "default": "other"}},
			`{"v":1,"name":"lookup","params":{"default":"other","entries":{"Web":"web"}}}`},
		{Transform{Name: DateConv, Params: map[string]any{"layouts": []string{"01/02/2006", "2006-01-02"}}},
			`{"v":1,"name":"date","params":{"layouts":["01/02/2006","2006-01-02"]}}`},
	}
	for _, tt := range tests {
		enc := tt.t.Encode()
		if enc != tt.enc {
			t.Errorf("Encode(%+v) = %s; want %s", tt.t, enc, tt.enc)
		}
		back, err := ParseTransform(enc)
		if err != nil || back.Encode() != enc {
			t.Errorf("ParseTransform(%s) = %+v, %v; does not encode back", enc, back, err)
		}
	}
	if tr, err := ParseTransform("e164"); err != nil || tr.Name != E164 {
		t.Errorf("plain name: %+v, %v", tr, err)
	}
	if _, err := ParseTransform(`{"v":2,"name":"date"}`); err == nil || !strings.Contains(err.Error(), "newer Parley") {
		t.Errorf("a newer encoding: %v; want a newer-Parley error", err)
	}
	if _, err := ParseTransform(`{"v":1,"name":"lookup","params":{"entries":{"a":1}}}`); err == nil || !strings.Contains(err.Error(), "table must map text to text") {
		t.Errorf("a table of numbers: %v", err)
	}
}

// FuzzTemplate: parsing any text either fails with a template error or
// gives a template whose rendering contains every literal part and never
// panics; encoding the transform reads back the same.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{first_name}} {{last_name}}", "{{", "}}", "a{{b}}c{{d", "{{ custom_1 }}{{x.y}}", "{{{{a}}}}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := parseTemplate(src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "template: ") {
				t.Fatalf("error %q does not name the template", err)
			}
			return
		}
		rec := Record{}
		for _, k := range tp.fields() {
			if !fieldKeyOK(k) {
				t.Fatalf("field %q is not a key", k)
			}
			rec[k] = "V"
		}
		out := tp.render(rec)
		for i := 0; i < len(tp.parts); i += 2 {
			if p := strings.TrimSpace(tp.parts[i]); !strings.Contains(out, p) {
				t.Fatalf("render(%q) = %q lost the text %q", src, out, p)
			}
		}
		tr := Transform{Name: Template, Params: map[string]any{"text": src}}
		back, err := ParseTransform(tr.Encode())
		if err != nil || back.Params["text"] != src {
			t.Fatalf("encoding round trip of %q: %+v, %v", src, back, err)
		}
	})
}

// FuzzTransform: any stored transform text is read or refused without a
// panic; what is read builds or fails with a message, applies to any value
// without a panic, and encodes to text that reads back the same.
func FuzzTransform(f *testing.F) {
	for _, s := range []string{"", "lower", "e164", `{"v":1,"name":"date","params":{"layouts":["01/02/2006"],"zone":"America/Toronto"}}`,
		`{"v":1,"name":"lookup","params":{"entries":{"Web":"web"},"missing":"keep"}}`, `{"v":1,"name":"template","params":{"text":"{{a}} {{b}}"}}`, `{"name":1}`} {
		f.Add(s, "Value 1")
	}
	f.Fuzz(func(t *testing.T, enc, value string) {
		tr, err := ParseTransform(enc)
		if err != nil {
			return
		}
		again, err := ParseTransform(tr.Encode())
		if err != nil || again.Encode() != tr.Encode() {
			t.Fatalf("%q reads as %+v, which encodes to %q and reads back as %+v, %v", enc, tr, tr.Encode(), again, err)
		}
		fn, _, err := compileTransform(tr, "")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		_, _ = fn(value, Record{"a": value})
	})
}
