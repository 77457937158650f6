package activedemand

// The known endpoints: contacts, contact lists and forms, built as seen in
// public client code (the README section "ActiveDEMAND endpoints" lists the sources).

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// AD's contact field keys as seen in client code.
const (
	FieldFirstName = "first_name"
	FieldLastName  = "last_name"
	FieldEmail     = "emails.email_address"
	FieldPhone     = "phones.phone_number"
)

var customFieldRE = regexp.MustCompile(`^custom_[0-9]+$`)

// IsCustomField reports whether key names a custom field (custom_N).
func IsCustomField(key string) bool { return customFieldRE.MatchString(key) }

// Contact is an ActiveDEMAND contact.
type Contact struct {
	ID        ID
	FirstName string
	LastName  string
	// Email and Phone are the first of Emails and Phones.
	Email, Phone   string
	Emails, Phones []string
	// Custom holds custom fields by key (custom_N), as text.
	Custom map[string]string
	// Fields holds every other plain field the reply had, by AD key, as
	// text, so a mapping can use fields this package does not name.
	Fields               map[string]string
	CreatedAt, UpdatedAt time.Time
}

// Name is the contact's display name.
func (c Contact) Name() string { return strings.TrimSpace(c.FirstName + " " + c.LastName) }

var contactKnownKeys = []string{"id", "contact_id", "first_name", "last_name", "emails.email_address", "emails", "email_address",
	"email", "phones.phone_number", "phones", "phone_number", "phone", "created_at", "updated_at"}

func decodeContact(f *fields) Contact {
	c := Contact{
		ID:        f.id("id", "contact_id"),
		FirstName: f.str(FieldFirstName),
		LastName:  f.str(FieldLastName),
		Emails:    f.multi(FieldEmail, "emails", "email_address", "email_address", "email"),
		Phones:    f.multi(FieldPhone, "phones", "phone_number", "phone_number", "phone"),
		CreatedAt: f.time("created_at"),
		UpdatedAt: f.time("updated_at"),
	}
	if len(c.Emails) > 0 {
		c.Email = c.Emails[0]
	}
	if len(c.Phones) > 0 {
		c.Phone = c.Phones[0]
	}
	for _, k := range slices.Sorted(maps.Keys(f.obj)) {
		v := f.obj[k]
		if slices.Contains(contactKnownKeys, k) {
			continue
		}
		if IsCustomField(k) {
			s, err := asText(v)
			if err != nil {
				f.fail(k, err.Error())
				continue
			}
			if c.Custom == nil {
				c.Custom = map[string]string{}
			}
			c.Custom[k] = s
			continue
		}
		// Nested values of fields Parley does not know are left out.
		if s, err := asText(v); err == nil && v != nil {
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			c.Fields[k] = s
		}
	}
	return c
}

// ContactField is one contact field definition: what the mapping editor
// lists as ActiveDEMAND's side.
type ContactField struct {
	// Key is the field key used in replies and in contact[<key>] writes,
	// e.g. first_name, emails.email_address or custom_12.
	Key string
	// Label is the name AD shows for it.
	Label string
	// Type is AD's field type (text, email, phone, date, password...).
	Type string
	// Custom is true for custom fields (custom_N).
	Custom bool
}

func decodeContactField(f *fields) ContactField {
	cf := ContactField{
		Key:   f.str("key", "field_key", "name"),
		Label: f.str("label", "display_name", "title", "name"),
		Type:  f.str("type", "field_type"),
	}
	cf.Custom = f.boolean("custom", "is_custom") || IsCustomField(cf.Key)
	if cf.Key == "" && f.err == nil {
		f.fail("key", "missing; a field definition needs its key")
	}
	if cf.Label == "" {
		cf.Label = cf.Key
	}
	return cf
}

// ContactList is a contact list.
type ContactList struct {
	ID   ID
	Name string
}

// Form is a form contacts can be submitted to.
type Form struct {
	ID   ID
	Name string
}

// FormField is one field of a form.
type FormField struct {
	Key, Label, Type string
	Required         bool
}

func decodeNamed(f *fields) (ID, string) {
	id := f.id("id")
	name := f.str("name", "title")
	if id == "" && f.err == nil {
		f.fail("id", "missing")
	}
	return id, name
}

func decodeFormField(f *fields) FormField {
	ff := FormField{Key: f.str("key", "field_key", "name"), Label: f.str("label", "name"), Type: f.str("type", "field_type"), Required: f.boolean("required")}
	if ff.Key == "" && f.err == nil {
		f.fail("key", "missing; a form field needs its key")
	}
	return ff
}

// ListContacts fetches one page of contacts (GET contacts.json). Paging is
// not public: it follows the route table (page/per_page by default).
func (c *Client) ListContacts(ctx context.Context, page PageToken) (Page[Contact], error) {
	return listPage(ctx, c, "list contacts", RouteContactsList, nil, page, decodeContact)
}

// AllContacts walks every page of contacts.
func (c *Client) AllContacts(ctx context.Context) iter.Seq2[Contact, error] {
	return pages(ctx, "list contacts", c.ListContacts, func(x Contact) ID { return x.ID })
}

// ContactFields lists the contact field definitions (GET
// contacts/fields.json), custom fields included.
func (c *Client) ContactFields(ctx context.Context) ([]ContactField, error) {
	return collect(pages(ctx, "list contact fields", func(ctx context.Context, t PageToken) (Page[ContactField], error) {
		return listPage(ctx, c, "list contact fields", RouteContactFields, nil, t, decodeContactField)
	}, func(x ContactField) ID { return ID(x.Key) }))
}

// ContactLists lists the contact lists (GET contact_lists).
func (c *Client) ContactLists(ctx context.Context) ([]ContactList, error) {
	return collect(pages(ctx, "list contact lists", func(ctx context.Context, t PageToken) (Page[ContactList], error) {
		return listPage(ctx, c, "list contact lists", RouteContactLists, nil, t, func(f *fields) ContactList {
			id, name := decodeNamed(f)
			return ContactList{ID: id, Name: name}
		})
	}, func(x ContactList) ID { return x.ID }))
}

// Forms lists the account's forms (GET forms.json).
func (c *Client) Forms(ctx context.Context) ([]Form, error) {
	return collect(pages(ctx, "list forms", func(ctx context.Context, t PageToken) (Page[Form], error) {
		return listPage(ctx, c, "list forms", RouteFormsList, nil, t, func(f *fields) Form {
			id, name := decodeNamed(f)
			return Form{ID: id, Name: name}
		})
	}, func(x Form) ID { return x.ID }))
}

// FormFields lists a form's fields (GET forms/fields.json?form_id=).
func (c *Client) FormFields(ctx context.Context, formID ID) ([]FormField, error) {
	if formID == "" {
		return nil, errors.New("activedemand: list form fields: form id is empty")
	}
	args := map[string]string{"form_id": string(formID)}
	return collect(pages(ctx, "list form fields", func(ctx context.Context, t PageToken) (Page[FormField], error) {
		return listPage(ctx, c, "list form fields", RouteFormFields, args, t, decodeFormField)
	}, func(x FormField) ID { return ID(x.Key) }))
}

// NewContact is a contact to create.
type NewContact struct {
	FirstName, LastName, Email, Phone string
	// Fields sets other fields by AD key, custom_N ones included.
	Fields map[string]string
}

var fieldKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

// CreateContact creates a contact (POST contacts.json, form-encoded
// contact[<field>]) and returns its id, read from the first element of the
// array AD replies with. A network failure after the request was sent
// returns ErrOutcomeUnknown: look the contact up by email before retrying.
func (c *Client) CreateContact(ctx context.Context, nc NewContact) (ID, error) {
	const op = "create contact"
	rt, _ := c.routes.Route(RouteContactsCreate)
	tmpl := rt.Params["field"]
	vals := map[string]string{}
	for k, v := range nc.Fields {
		if !fieldKeyRE.MatchString(k) {
			return "", fmt.Errorf("activedemand: %s: field key %q is not an ActiveDEMAND field key (letters, digits, _ and . only)", op, k)
		}
		vals[k] = v
	}
	for k, v := range map[string]string{FieldFirstName: nc.FirstName, FieldLastName: nc.LastName, FieldEmail: nc.Email, FieldPhone: nc.Phone} {
		if v != "" {
			vals[k] = v
		}
	}
	if vals[FieldEmail] == "" && vals[FieldPhone] == "" {
		return "", fmt.Errorf("activedemand: %s: a contact needs an email address or a phone number", op)
	}
	extra := make(map[string][]string, len(vals))
	for k, v := range vals {
		extra[strings.ReplaceAll(tmpl, routeFieldPlaceholder, k)] = []string{v}
	}
	var id ID
	_, err := c.do(ctx, call{op: op, route: RouteContactsCreate, extra: extra, decode: func(rep reply) error {
		var err error
		id, err = firstID(op, rep.body)
		return err
	}})
	return id, err
}

// firstID reads response[0].id, the way AD returns created records.
func firstID(op string, body []byte) (ID, error) {
	v, err := parseJSON(op, body)
	if err != nil {
		return "", err
	}
	objs, err := listItems(op, v, "")
	if err != nil {
		return "", err
	}
	if len(objs) == 0 {
		return "", &DecodeError{Op: op, Index: -1, Problem: "the reply is empty, want the created record"}
	}
	f := newFields(op, 0, objs[0])
	id := f.id("id")
	if f.err != nil {
		return "", f.err
	}
	if id == "" {
		return "", &DecodeError{Op: op, Index: 0, Field: "id", Problem: "missing; the created record has no id"}
	}
	return id, nil
}

// AddListMembers adds contacts to a list (POST
// contact_lists/add_members/{list_id}?contact_ids=...). Several ids are
// sent comma-separated.
func (c *Client) AddListMembers(ctx context.Context, listID ID, contactIDs ...ID) error {
	const op = "add list members"
	if listID == "" || len(contactIDs) == 0 {
		return fmt.Errorf("activedemand: %s: need a list id and at least one contact id", op)
	}
	ids := make([]string, len(contactIDs))
	for i, id := range contactIDs {
		if id == "" || strings.Contains(string(id), ",") {
			return fmt.Errorf("activedemand: %s: contact id %q is not valid", op, id)
		}
		ids[i] = string(id)
	}
	_, err := c.do(ctx, call{op: op, route: RouteListAddMembers, args: map[string]string{"list_id": string(listID), "contact_ids": strings.Join(ids, ",")}})
	return err
}

// SubmitForm submits a form (POST forms/{form_id}, form-encoded field keys
// to values), the way ActiveDEMAND's own plugins push contacts in.
func (c *Client) SubmitForm(ctx context.Context, formID ID, values map[string]string) error {
	const op = "submit form"
	if formID == "" {
		return fmt.Errorf("activedemand: %s: form id is empty", op)
	}
	extra := make(map[string][]string, len(values))
	for k, v := range values {
		if k == "" {
			return fmt.Errorf("activedemand: %s: a field key is empty", op)
		}
		extra[k] = []string{v}
	}
	_, err := c.do(ctx, call{op: op, route: RouteFormSubmit, args: map[string]string{"form_id": string(formID)}, extra: extra})
	return err
}
