package ghltest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"parley/sync/internal/phone"
)

// contactView is GetContectByIdSchema as the live API fills it.
type contactView struct {
	Contact
	Name               string `json:"name,omitempty"`
	EmailLowerCase     string `json:"emailLowerCase,omitempty"`
	FirstNameLowerCase string `json:"firstNameLowerCase,omitempty"`
	LastNameLowerCase  string `json:"lastNameLowerCase,omitempty"`
	FullNameLowerCase  string `json:"fullNameLowerCase,omitempty"`
}

func viewContact(c *Contact) contactView {
	cp := *c
	return contactView{
		Contact:            cp,
		Name:               c.Name(),
		EmailLowerCase:     strings.ToLower(c.Email),
		FirstNameLowerCase: strings.ToLower(c.FirstName),
		LastNameLowerCase:  strings.ToLower(c.LastName),
		FullNameLowerCase:  strings.ToLower(c.Name()),
	}
}

// normPhone reduces a phone number to E.164 for matching, as the importer
// does, reading numbers without a country code as North American (the
// sandbox's location is in the US). A number that is not one is kept as
// given, so it matches only itself.
func normPhone(p string) string {
	if strings.TrimSpace(p) == "" {
		return ""
	}
	e164, err := phone.Normalize(p, phone.DefaultRegion)
	if err != nil {
		return strings.TrimSpace(p)
	}
	return e164
}

// duplicateLocked finds the contact an email or phone matches, following the
// location's "Allow Duplicate Contact" setting: duplicates not allowed,
// email checked first, then phone. It returns the matching field too.
func (st *state) duplicateLocked(email, phone string) (*Contact, string) {
	if email = strings.ToLower(strings.TrimSpace(email)); email != "" {
		for _, id := range st.contactOrder {
			if c := st.contacts[id]; c != nil && strings.ToLower(c.Email) == email {
				return c, "email"
			}
		}
	}
	if phone = normPhone(phone); phone != "" {
		for _, id := range st.contactOrder {
			if c := st.contacts[id]; c != nil && normPhone(c.Phone) == phone {
				return c, "phone"
			}
		}
	}
	return nil, ""
}

// hDuplicateContact is GET /contacts/search/duplicate. The 200 has no schema
// in the spec; the live API answers {"contact": {...}} or {"contact": null}.
func (s *Server) hDuplicateContact(c *reqCtx) {
	q := c.r.URL.Query()
	if otherLocation(c, q.Get("locationId")) {
		return
	}
	s.mu.Lock()
	var v *contactView
	if ct, _ := s.st.duplicateLocked(q.Get("email"), q.Get("number")); ct != nil {
		cv := viewContact(ct)
		v = &cv
	}
	trace := s.st.traceID()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Contact *contactView `json:"contact"`
		TraceID string       `json:"traceId"`
	}{v, trace})
}

// contactBody is the part of CreateContactDto / UpsertContactDto the sandbox
// keeps. Pointers tell "not sent" from "sent empty" (the fields are nullable).
type contactBody struct {
	LocationID  string    `json:"locationId"`
	FirstName   *string   `json:"firstName"`
	LastName    *string   `json:"lastName"`
	Name        *string   `json:"name"`
	Email       *string   `json:"email"`
	Phone       *string   `json:"phone"`
	CompanyName *string   `json:"companyName"`
	City        *string   `json:"city"`
	Source      *string   `json:"source"`
	Tags        *[]string `json:"tags"`
	// CustomFields are TextField items (id and field_value); values of
	// other kinds are kept as their JSON text.
	CustomFields []struct {
		ID    string          `json:"id"`
		Value json.RawMessage `json:"field_value"`
	} `json:"customFields"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// apply sets the sent fields on c.
func (b contactBody) apply(c *Contact) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if b.Name != nil && b.FirstName == nil && b.LastName == nil {
		first, last, _ := strings.Cut(strings.TrimSpace(*b.Name), " ")
		c.FirstName, c.LastName = first, last
	}
	set(&c.FirstName, b.FirstName)
	set(&c.LastName, b.LastName)
	set(&c.Email, b.Email)
	if b.Phone != nil {
		c.Phone = normPhone(*b.Phone)
	}
	set(&c.CompanyName, b.CompanyName)
	set(&c.City, b.City)
	set(&c.Source, b.Source)
	for _, f := range b.CustomFields {
		v := string(f.Value)
		var text string
		if json.Unmarshal(f.Value, &text) == nil {
			v = text
		}
		if i := slices.IndexFunc(c.CustomFields, func(x CustomFieldValue) bool { return x.ID == f.ID }); i >= 0 {
			c.CustomFields[i].Value = v
		} else {
			c.CustomFields = append(c.CustomFields, CustomFieldValue{ID: f.ID, Value: v})
		}
	}
	if b.Tags != nil {
		// Tags sent on upsert replace the contact's tags, as documented.
		c.Tags = append([]string(nil), (*b.Tags)...)
	}
}

// hUpsertContact is POST /contacts/upsert: update the contact the email (then
// phone) matches, or create one.
func (s *Server) hUpsertContact(c *reqCtx) {
	var body contactBody
	if !decodeBody(c, &body) || otherLocation(c, body.LocationID) {
		return
	}
	now := ms(s.now())
	s.mu.Lock()
	ct, _ := s.st.duplicateLocked(str(body.Email), str(body.Phone))
	isNew := ct == nil
	if isNew {
		var nc Contact
		body.apply(&nc)
		nc.DateAdded, nc.DateUpdated = now, now
		ct = s.st.addContact(nc)
	} else {
		body.apply(ct)
		ct.DateUpdated = now
	}
	v := viewContact(ct)
	trace := s.st.traceID()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		New     bool        `json:"new"`
		Contact contactView `json:"contact"`
		TraceID string      `json:"traceId"`
	}{isNew, v, trace})
}

// hCreateContact is POST /contacts/. The location does not allow duplicates,
// so an email or phone another contact has is refused with GHL's message
// and the existing contact's id.
func (s *Server) hCreateContact(c *reqCtx) {
	var body contactBody
	if !decodeBody(c, &body) || otherLocation(c, body.LocationID) {
		return
	}
	now := ms(s.now())
	s.mu.Lock()
	if dup, field := s.st.duplicateLocked(str(body.Email), str(body.Phone)); dup != nil {
		id := dup.ID
		s.mu.Unlock()
		writeJSON(c.w, http.StatusBadRequest, struct {
			apiError
			Meta map[string]string `json:"meta"`
		}{errorBody(http.StatusBadRequest, "This location does not allow duplicated contacts."), map[string]string{"contactId": id, "matchingField": field}})
		return
	}
	var nc Contact
	body.apply(&nc)
	nc.DateAdded, nc.DateUpdated = now, now
	v := viewContact(s.st.addContact(nc))
	s.mu.Unlock()
	writeJSON(c.w, http.StatusCreated, struct {
		Contact contactView `json:"contact"`
	}{v})
}

func (s *Server) hGetContact(c *reqCtx) {
	s.mu.Lock()
	ct := s.st.contacts[c.pathParams["contactId"]]
	var v contactView
	if ct != nil {
		v = viewContact(ct)
	}
	s.mu.Unlock()
	if ct == nil {
		notFound(c, "Contact not found")
		return
	}
	if otherLocation(c, v.LocationID) {
		return
	}
	writeJSON(c.w, http.StatusOK, struct {
		Contact contactView `json:"contact"`
	}{v})
}

// searchBody is what the sandbox reads from POST /contacts/search, whose body
// the spec leaves empty (ERRATA 17): location, free-text query, paging, and
// eq filters on email and phone. Unknown filters are ignored.
type searchBody struct {
	LocationID string          `json:"locationId"`
	Query      string          `json:"query"`
	PageLimit  int             `json:"pageLimit"`
	Page       int             `json:"page"`
	Filters    json.RawMessage `json:"filters"`
}

type contactFilter struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

func (s *Server) hSearchContacts(c *reqCtx) {
	var body searchBody
	if err := json.Unmarshal(c.body, &body); err != nil {
		writeJSON(c.w, http.StatusUnprocessableEntity, apiError{StatusCode: http.StatusUnprocessableEntity, Message: []string{"the body must be a JSON object: " + err.Error()}, Error: errorText(http.StatusUnprocessableEntity)})
		return
	}
	if body.LocationID == "" {
		writeJSON(c.w, http.StatusUnprocessableEntity, apiError{StatusCode: http.StatusUnprocessableEntity, Message: []string{"locationId is required"}, Error: errorText(http.StatusUnprocessableEntity)})
		return
	}
	if otherLocation(c, body.LocationID) {
		return
	}
	var filters []contactFilter
	_ = json.Unmarshal(body.Filters, &filters) // loosely: unknown shapes filter nothing
	limit := body.PageLimit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 500)
	page := max(body.Page, 1)
	q := strings.ToLower(strings.TrimSpace(body.Query))
	s.mu.Lock()
	var matched []contactView
	for _, id := range s.st.contactOrder {
		ct := s.st.contacts[id]
		if ct == nil || !contactMatches(ct, q, filters) {
			continue
		}
		matched = append(matched, viewContact(ct))
	}
	s.mu.Unlock()
	total := len(matched)
	from := min((page-1)*limit, total)
	to := min(from+limit, total)
	writeJSON(c.w, http.StatusOK, struct {
		Contacts []contactView `json:"contacts"`
		Total    int           `json:"total"`
	}{append([]contactView{}, matched[from:to]...), total})
}

func contactMatches(c *Contact, q string, filters []contactFilter) bool {
	if q != "" {
		hit := false
		for _, f := range []string{c.Name(), c.Email, c.Phone, c.CompanyName} {
			hit = hit || strings.Contains(strings.ToLower(f), q)
		}
		if d := digits(q); !hit && len(d) >= 3 {
			hit = strings.Contains(digits(c.Phone), d)
		}
		if !hit {
			return false
		}
	}
	for _, f := range filters {
		v, _ := f.Value.(string)
		if f.Operator != "" && f.Operator != "eq" {
			continue
		}
		switch f.Field {
		case "email":
			if !strings.EqualFold(c.Email, v) {
				return false
			}
		case "phone":
			if normPhone(c.Phone) != normPhone(v) {
				return false
			}
		}
	}
	return true
}
