package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// NoADField is the AD field of a link whose transform computes its value
// (constant, template): store.FieldMapping needs one.
const NoADField = "(none)"

// Link fills one HighLevel field from one ActiveDEMAND field.
type Link struct {
	// AD is the ActiveDEMAND field key; NoADField (or empty) for a
	// computed transform.
	AD string `json:"ad"`
	// GHL is the HighLevel field key (firstName, customFields.<id>).
	GHL       string    `json:"ghl"`
	Transform Transform `json:"transform"`
}

// String names the link as messages do: "custom_4 → customFields.lead_source".
func (l Link) String() string {
	ad := l.AD
	if ad == "" {
		ad = NoADField
	}
	return ad + " → " + l.GHL
}

func (l Link) computed() bool { return l.AD == "" || l.AD == NoADField }

// Record is a sample or a job's ActiveDEMAND data by field key. A key that
// is absent has no value: its links send nothing, and HighLevel keeps what
// it has.
type Record map[string]string

// ContactRecord is c's fields by key.
func ContactRecord(c activedemand.Contact) Record {
	r := Record{}
	for k, v := range c.Fields {
		r[k] = v
	}
	for k, v := range c.Custom {
		r[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			r[k] = v
		}
	}
	set(activedemand.FieldFirstName, c.FirstName)
	set(activedemand.FieldLastName, c.LastName)
	set(activedemand.FieldEmail, c.Email)
	set(activedemand.FieldPhone, c.Phone)
	if !c.CreatedAt.IsZero() {
		r[ADCreatedAt] = c.CreatedAt.UTC().Format(time.RFC3339)
	}
	if !c.UpdatedAt.IsZero() {
		r[ADUpdatedAt] = c.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return r
}

// FromStore reads stored mappings. A transform that cannot be read is kept
// by its text as the transform's name, so that Validate and Apply report
// it on its link instead of the whole mapping failing.
func FromStore(m []store.FieldMapping) []Link {
	out := make([]Link, len(m))
	for i, f := range m {
		t, err := ParseTransform(f.Transform)
		if err != nil {
			t = Transform{Name: f.Transform}
		}
		out[i] = Link{AD: f.ADField, GHL: f.GHLField, Transform: t}
	}
	return out
}

// ToStore is links as stored.
func ToStore(links []Link) []store.FieldMapping {
	out := make([]store.FieldMapping, len(links))
	for i, l := range links {
		ad := l.AD
		if ad == "" {
			ad = NoADField
		}
		out[i] = store.FieldMapping{ADField: ad, GHLField: l.GHL, Transform: l.Transform.Encode()}
	}
	return out
}

// Problem is one thing wrong with a mapping, for the editor to show where
// it is.
type Problem struct {
	// Link is the link's position, from 1; 0 is the mapping as a whole.
	Link int `json:"link"`
	// AD and GHL are the link's fields.
	AD  string `json:"ad,omitempty"`
	GHL string `json:"ghl,omitempty"`
	// Part is what to highlight: "ad", "ghl", "transform" or "".
	Part string `json:"part,omitempty"`
	// Message says what is wrong, Fix what to do.
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Error is the problem in one line, with its link and the fix.
func (p Problem) Error() string {
	s := p.Message
	if p.Link > 0 {
		s = fmt.Sprintf("link %d (%s → %s): %s", p.Link, orNone(p.AD), p.GHL, s)
	}
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return NoADField
	}
	return s
}

// Problems is every problem of a mapping; as an error, Save refuses it.
type Problems []Problem

// Error lists every problem, so a log line or a dialog has them all.
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return "the field mapping cannot be saved: " + strings.Join(msgs, "; ")
}

// Options are the settings compiling a mapping needs.
type Options struct {
	// PhoneRegion reads numbers without a country code in e164 links
	// that set no region (default the phone package's).
	PhoneRegion string
}

// Validate checks links against the catalog: fields exist on both sides,
// types fit, transforms and their parameters are right, no HighLevel field
// is filled twice, and the catalog's requirements are met.
func Validate(links []Link, cat Catalog, opts Options) Problems {
	var ps Problems
	firstFor := map[string]int{}
	for i, l := range links {
		n := i + 1
		bad := func(part, msg, fix string) {
			ps = append(ps, Problem{Link: n, AD: l.AD, GHL: l.GHL, Part: part, Message: msg, Fix: fix})
		}
		sp, known := specOf(l.Transform.Name)
		if l.Transform.Name == "" {
			sp, known = specOf(Copy)
		}
		var src Field
		srcOK := false
		switch {
		case known && sp.Computed && !l.computed():
			bad("ad", fmt.Sprintf("the %s transform reads no ActiveDEMAND field, but the link names %s", sp.Name, l.AD), "set the AD side to "+NoADField+", or pick another transform")
		case known && !sp.Computed && l.computed():
			bad("ad", "no ActiveDEMAND field is chosen", "pick the field to read, or use the constant or template transform")
		case !l.computed():
			src, srcOK = cat.ADField(l.AD)
			if !srcOK {
				bad("ad", fmt.Sprintf("ActiveDEMAND has no field %s (was it deleted or renamed?)", l.AD), "pick another field or remove the link")
			} else if src.Type == Secret {
				bad("ad", fmt.Sprintf("%s is a password field; Parley never copies passwords to HighLevel", l.AD), "remove the link")
				srcOK = false
			}
		}
		dst, dstOK := cat.GHLField(l.GHL)
		if !dstOK {
			if strings.HasPrefix(l.GHL, CustomPrefix) {
				bad("ghl", fmt.Sprintf("%q is not a custom field id", strings.TrimPrefix(l.GHL, CustomPrefix)), "copy the id from HighLevel (Settings, Custom Fields): letters, digits, _, - and . only")
			} else {
				bad("ghl", fmt.Sprintf("HighLevel has no contact field %s", l.GHL), "pick one from the list, or write "+CustomPrefix+"<id> for a custom field")
			}
		} else if j, dup := firstFor[l.GHL]; dup {
			bad("ghl", fmt.Sprintf("HighLevel field %s is already filled by link %d", l.GHL, j), "remove one of the two links")
		} else {
			firstFor[l.GHL] = n
		}
		t := l.Transform
		if t.Name == "" {
			t.Name = Copy
		}
		_, reads, err := compileTransform(t, opts.PhoneRegion)
		if err != nil {
			bad("transform", err.Error(), "")
			continue
		}
		for _, k := range reads {
			f, ok := cat.ADField(k)
			switch {
			case !ok:
				bad("transform", fmt.Sprintf("template: ActiveDEMAND has no field {{%s}}", k), "use a key from the ActiveDEMAND field list")
			case f.Type == Secret:
				bad("transform", fmt.Sprintf("template: {{%s}} is a password field; Parley never copies passwords to HighLevel", k), "remove it from the template")
			}
		}
		if !dstOK || (!srcOK && !sp.Computed) {
			continue
		}
		in := src.Type
		if sp.Accepts != nil && !slices.Contains(sp.Accepts, in) {
			bad("transform", fmt.Sprintf("the %s transform does not read %s %s field", sp.Name, article(in), in), fmt.Sprintf("use it on %s %s field, or pick another transform", article(sp.Accepts[0]), joinTypes(sp.Accepts)))
			continue
		}
		got := sp.Gives
		if got == "" {
			got = in
		}
		if !fits(got, dst.Type) {
			bad("transform", fmt.Sprintf("%s %s value does not fit HighLevel's %s field (%s)", article(got), got, l.GHL, dst.Type), fixFor(dst.Type))
		}
	}
	for _, req := range cat.Requirements {
		if !slices.ContainsFunc(req.OneOf, func(k string) bool { _, ok := firstFor[k]; return ok }) {
			ps = append(ps, Problem{Message: fmt.Sprintf("HighLevel's %s is not mapped: %s", strings.Join(req.OneOf, " or "), req.Why), Fix: req.Fix})
		}
	}
	return ps
}

func article(t Type) string {
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an"
	}
	return "a"
}

func joinTypes(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " or ")
}

// fits says whether a value of type v may fill a field of type dst.
func fits(v, dst Type) bool {
	switch dst {
	case Text:
		return v != Secret
	case Email:
		return v == Email || v == Text
	case Phone:
		return v == Phone
	case Date:
		return v == Date
	case List:
		return v == List || v == Text || v == Choice
	case Choice:
		return v == Choice || v == Text
	}
	return false
}

func fixFor(dst Type) string {
	switch dst {
	case Phone:
		return "read a phone or text field with the e164 transform"
	case Date:
		return "read a date or text field with the date transform"
	case Email:
		return "read an email or text field"
	}
	return "pick a field of a fitting type"
}

// ErrFieldGone is matched (errors.Is) by a link error for an ActiveDEMAND
// field that no longer exists.
var ErrFieldGone = errors.New("no longer exists")

// LinkError is why a link was left out of a contact.
type LinkError struct {
	// Link is the link's position, from 1.
	Link int
	AD   string
	GHL  string
	Err  error
	// Value is set when the link is right but this record's value did
	// not fit it (a lookup without the value, a phone that is not one).
	Value bool
}

// Error names the link, what went wrong and where to fix it, for the
// job's history row.
func (e *LinkError) Error() string {
	fix := "fix it in Mapping"
	if e.Value {
		fix = "correct the value in ActiveDEMAND, or the link in Mapping"
	}
	return fmt.Sprintf("mapping link %d (%s → %s): %v; %s", e.Link, orNone(e.AD), e.GHL, e.Err, fix)
}

// Unwrap lets errors.Is find ErrFieldGone and ErrSecretField.
func (e *LinkError) Unwrap() error { return e.Err }

// Mapping is a compiled mapping, ready to Apply. It is safe for concurrent
// use.
type Mapping struct {
	links []compiled
}

type compiled struct {
	Link
	fn    fn
	reads []string // the AD fields it reads: its own and a template's
	set   func(*ghl.ContactInput, string)
	err   error
}

// Compile builds links. It never fails as a whole: a link that cannot be
// built carries its error, which Apply reports every time, so that a
// mapping valid when saved and broken since (a zone gone from this
// computer's time zone data) still sends the rest of the contact.
func Compile(links []Link, opts Options) *Mapping {
	m := &Mapping{links: make([]compiled, len(links))}
	for i, l := range links {
		c := compiled{Link: l}
		t := l.Transform
		if t.Name == "" {
			t.Name = Copy
		}
		var reads []string
		c.fn, reads, c.err = compileTransform(t, opts.PhoneRegion)
		if !l.computed() {
			c.reads = append(c.reads, l.AD)
		}
		c.reads = append(c.reads, reads...)
		if c.err == nil {
			if c.set = setter(l.GHL); c.set == nil {
				c.err = fmt.Errorf("HighLevel has no contact field %s", l.GHL)
			}
		}
		m.links[i] = c
	}
	return m
}

// Reads lists the ActiveDEMAND fields link i (from 1) reads.
func (m *Mapping) Reads(i int) []string { return slices.Clone(m.links[i-1].reads) }

// Len is the number of links.
func (m *Mapping) Len() int { return len(m.links) }

// LinkResult is what one link did with a record.
type LinkResult struct {
	// Link is the position, from 1.
	Link int    `json:"link"`
	AD   string `json:"ad"`
	GHL  string `json:"ghl"`
	// Before is the AD value read (empty for a computed link), After
	// what is sent.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Empty is set when there was nothing to send: the field has no
	// value in the record.
	Empty bool `json:"empty,omitempty"`
	// Err says why the link was left out; nil when it was applied.
	Err *LinkError `json:"-"`
	// Error is Err's text, for the editor.
	Error string `json:"error,omitempty"`
}

// Result is the contact a record becomes, and each link's part in it.
type Result struct {
	Input ghl.ContactInput `json:"input"`
	Links []LinkResult     `json:"links"`
}

// Errors lists the links left out with an error.
func (r Result) Errors() []*LinkError {
	var out []*LinkError
	for _, l := range r.Links {
		if l.Err != nil {
			out = append(out, l.Err)
		}
	}
	return out
}

// ErrSecretField is matched (errors.Is) by a link error for an
// ActiveDEMAND password field, which is never sent.
var ErrSecretField = errors.New("is a password, which Parley never sends to HighLevel")

// Apply maps r. check, when not nil, vets each ActiveDEMAND field a link
// reads before its value is used: an error (ErrFieldGone for a field
// deleted in ActiveDEMAND, ErrSecretField for a password) leaves the link
// out with that error instead of sending a value that should not go, or
// nothing unexplained.
func (m *Mapping) Apply(r Record, check func(key string) error) Result {
	res := Result{Links: make([]LinkResult, len(m.links))}
	for i, c := range m.links {
		lr := LinkResult{Link: i + 1, AD: c.AD, GHL: c.GHL}
		fail := func(err error) {
			lr.Err = &LinkError{Link: i + 1, AD: c.AD, GHL: c.GHL, Err: err, Value: c.err == nil && !errors.Is(err, ErrFieldGone) && !errors.Is(err, ErrSecretField)}
			lr.Error = lr.Err.Error()
		}
		res.Links[i] = lr
		if c.err != nil {
			fail(c.err)
			res.Links[i] = lr
			continue
		}
		if check != nil {
			var err error
			for _, k := range c.reads {
				if err = check(k); err != nil {
					break
				}
			}
			if err != nil {
				fail(err)
				res.Links[i] = lr
				continue
			}
		}
		if !c.computed() {
			v, ok := r[c.AD]
			if !ok || strings.TrimSpace(v) == "" {
				lr.Empty = true
				res.Links[i] = lr
				continue
			}
			lr.Before = v
		}
		out, err := c.fn(lr.Before, r)
		if err != nil {
			fail(err)
		} else if out == "" {
			lr.Empty = true
		} else {
			lr.After = out
			c.set(&res.Input, out)
		}
		res.Links[i] = lr
	}
	return res
}

// setter is how a value reaches HighLevel's field key; nil when there is
// no such field.
func setter(key string) func(*ghl.ContactInput, string) {
	if id, ok := strings.CutPrefix(key, CustomPrefix); ok {
		if !customIDOK(id) {
			return nil
		}
		return func(in *ghl.ContactInput, v string) {
			in.CustomFields = append(in.CustomFields, ghl.CustomFieldValue{ID: id, Value: v})
		}
	}
	str := func(f func(*ghl.ContactInput) *string) func(*ghl.ContactInput, string) {
		return func(in *ghl.ContactInput, v string) { *f(in) = v }
	}
	switch key {
	case "firstName":
		return str(func(in *ghl.ContactInput) *string { return &in.FirstName })
	case "lastName":
		return str(func(in *ghl.ContactInput) *string { return &in.LastName })
	case "name":
		return str(func(in *ghl.ContactInput) *string { return &in.Name })
	case "email":
		return str(func(in *ghl.ContactInput) *string { return &in.Email })
	case "phone":
		return str(func(in *ghl.ContactInput) *string { return &in.Phone })
	case "address1":
		return str(func(in *ghl.ContactInput) *string { return &in.Address1 })
	case "city":
		return str(func(in *ghl.ContactInput) *string { return &in.City })
	case "state":
		return str(func(in *ghl.ContactInput) *string { return &in.State })
	case "postalCode":
		return str(func(in *ghl.ContactInput) *string { return &in.PostalCode })
	case "website":
		return str(func(in *ghl.ContactInput) *string { return &in.Website })
	case "timezone":
		return str(func(in *ghl.ContactInput) *string { return &in.Timezone })
	case "source":
		return str(func(in *ghl.ContactInput) *string { return &in.Source })
	case "country":
		return str(func(in *ghl.ContactInput) *string { return &in.Country })
	case "companyName":
		return str(func(in *ghl.ContactInput) *string { return &in.CompanyName })
	case "tags":
		return func(in *ghl.ContactInput, v string) {
			for t := range strings.SplitSeq(v, ",") {
				if t = strings.TrimSpace(t); t != "" && !slices.Contains(in.Tags, t) {
					in.Tags = append(in.Tags, t)
				}
			}
		}
	}
	return nil
}

// Preview is what a mapping would do with a sample: its problems, and the
// contact it would send with each link's value before and after.
type Preview struct {
	Problems Problems `json:"problems,omitempty"`
	Result   Result   `json:"result"`
}

// PreviewOf validates links and applies them to sample, so the editor can
// show both at once; sample's fields are vetted by cat.Check.
func PreviewOf(links []Link, cat Catalog, opts Options, sample Record) Preview {
	return Preview{Problems: Validate(links, cat, opts), Result: Compile(links, opts).Apply(sample, cat.Check)}
}

// Check is Apply's check by the catalog: a field it does not have is
// gone, a password is never read.
func (c Catalog) Check(key string) error {
	f, ok := c.ADField(key)
	if !ok {
		return fmt.Errorf("AD field %s %w", key, ErrFieldGone)
	}
	if f.Type == Secret {
		return fmt.Errorf("AD field %s %w", key, ErrSecretField)
	}
	return nil
}

// AddMessage adds m's fields, and its conversation's subject, to r.
func AddMessage(r Record, m activedemand.Message, cv activedemand.Conversation) {
	set := func(k, v string) {
		if v != "" {
			r[k] = v
		}
	}
	set(MsgChannel, string(m.Channel))
	set(MsgDirection, string(m.Direction))
	set(MsgSubject, m.Subject)
	set(MsgBody, m.Body)
	set(MsgSenderName, m.SenderName)
	set(MsgSenderAddress, m.SenderAddress)
	set(MsgSenderPhone, m.SenderPhone)
	set(MsgStatus, string(m.Status))
	set(ConvSubject, cv.Subject)
	if !m.SentAt.IsZero() {
		r[MsgSentAt] = m.SentAt.UTC().Format(time.RFC3339)
	}
}
