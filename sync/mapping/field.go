package mapping

import (
	"slices"
	"strings"

	"parley/sync/activedemand"
)

// Type is what a field holds. Types decide which links make sense: a date
// does not go into a phone field unless a transform makes it one.
type Type string

// Field types.
const (
	// Text is free text.
	Text Type = "text"
	// Email is an email address.
	Email Type = "email"
	// Phone is a phone number.
	Phone Type = "phone"
	// Date is a date or a time.
	Date Type = "date"
	// Choice is one value of a picklist (a dropdown or radio field).
	Choice Type = "choice"
	// List is several values (checkboxes; HighLevel's tags).
	List Type = "list"
	// Secret is a password: never copied to HighLevel or shown.
	Secret Type = "secret"
)

// Field groups, for the editor to list fields under headings.
const (
	GroupContact = "contact"
	GroupCustom  = "custom"
	GroupMessage = "message"
)

// Field is one field of either side, as the mapping editor lists it.
type Field struct {
	// Key is what a link names: an ActiveDEMAND key (first_name,
	// custom_12, message.subject) or a HighLevel one (firstName,
	// customFields.<id>).
	Key string `json:"key"`
	// Label is the name to show.
	Label string `json:"label"`
	Type  Type   `json:"type"`
	// Required is set on HighLevel fields of which the mapping must fill
	// at least one (see Catalog.Requirements).
	Required bool `json:"required,omitempty"`
	// Group is GroupContact, GroupCustom or GroupMessage.
	Group string `json:"group"`
	// Note is what to know before mapping the field, if anything.
	Note string `json:"note,omitempty"`
}

// Requirement is a rule a mapping must meet: at least one of OneOf is mapped.
type Requirement struct {
	OneOf []string `json:"one_of"`
	// Why is the reason and Fix what to do, in words for the person
	// editing the mapping.
	Why string `json:"why"`
	Fix string `json:"fix"`
}

// CustomPrefix starts a HighLevel custom field's key: customFields.<id>.
const CustomPrefix = "customFields."

// Catalog is both sides' fields.
type Catalog struct {
	// AD lists ActiveDEMAND's contact fields, then the message fields.
	AD []Field `json:"ad"`
	// GHL lists HighLevel's standard contact fields. Custom fields are
	// written CustomPrefix + the field's id and are not listed: see
	// GHLCustomNote.
	GHL []Field `json:"ghl"`
	// Requirements are the rules every mapping must meet.
	Requirements []Requirement `json:"requirements"`
	// ADChecked is false when ActiveDEMAND's field list could not be
	// read: custom_N fields are then accepted unchecked, and ADNote
	// says why.
	ADChecked bool   `json:"ad_checked"`
	ADNote    string `json:"ad_note,omitempty"`
	// GHLCustomNote explains how HighLevel custom fields are written.
	GHLCustomNote string `json:"ghl_custom_note"`
	// Transforms are the transforms a link can use, with their
	// parameters, so the editor gets everything in one call.
	Transforms []TransformSpec `json:"transforms"`
}

// ActiveDEMAND message fields. They have values only when a contact is
// created for one of its messages; a contact job leaves links from them out.
const (
	MsgChannel       = "message.channel"
	MsgDirection     = "message.direction"
	MsgSubject       = "message.subject"
	MsgBody          = "message.body"
	MsgSenderName    = "message.sender_name"
	MsgSenderAddress = "message.sender_address"
	MsgSenderPhone   = "message.sender_phone"
	MsgSentAt        = "message.sent_at"
	MsgStatus        = "message.status"
	ConvSubject      = "conversation.subject"
)

// ActiveDEMAND contact keys Parley reads besides the client's Field*
// constants.
const (
	ADCreatedAt = "created_at"
	ADUpdatedAt = "updated_at"
)

// standardAD are the contact fields every ActiveDEMAND account has.
var standardAD = []Field{
	{Key: activedemand.FieldFirstName, Label: "First Name", Type: Text, Group: GroupContact},
	{Key: activedemand.FieldLastName, Label: "Last Name", Type: Text, Group: GroupContact},
	{Key: activedemand.FieldEmail, Label: "Email Address", Type: Email, Group: GroupContact, Note: "the contact's first email address"},
	{Key: activedemand.FieldPhone, Label: "Phone Number", Type: Phone, Group: GroupContact, Note: "the contact's first phone number"},
	{Key: ADCreatedAt, Label: "Created", Type: Date, Group: GroupContact, Note: "RFC 3339, UTC"},
	{Key: ADUpdatedAt, Label: "Updated", Type: Date, Group: GroupContact, Note: "RFC 3339, UTC"},
}

var messageAD = []Field{
	{Key: MsgChannel, Label: "Message channel", Type: Choice, Group: GroupMessage, Note: "sms, email, call or chat"},
	{Key: MsgDirection, Label: "Message direction", Type: Choice, Group: GroupMessage, Note: "inbound or outbound"},
	{Key: MsgSubject, Label: "Message subject", Type: Text, Group: GroupMessage},
	{Key: MsgBody, Label: "Message body", Type: Text, Group: GroupMessage},
	{Key: MsgSenderName, Label: "Sender name", Type: Text, Group: GroupMessage},
	{Key: MsgSenderAddress, Label: "Sender email address", Type: Email, Group: GroupMessage},
	{Key: MsgSenderPhone, Label: "Sender phone", Type: Phone, Group: GroupMessage},
	{Key: MsgSentAt, Label: "Message sent at", Type: Date, Group: GroupMessage, Note: "RFC 3339, UTC"},
	{Key: MsgStatus, Label: "Message status", Type: Choice, Group: GroupMessage},
	{Key: ConvSubject, Label: "Conversation subject", Type: Text, Group: GroupMessage},
}

const idNote = "one of email or phone must be mapped: HighLevel finds a contact again only by its email or phone"

// ghlFields are UpsertContactDto's fields Parley fills, in the spec's
// order. Left out: dateOfBirth (the spec types it as an object, so no date
// text passes validation), gender (ignored on existing contacts), dnd and
// assignedTo (routing assigns users).
var ghlFields = []Field{
	{Key: "firstName", Label: "First Name", Type: Text, Group: GroupContact},
	{Key: "lastName", Label: "Last Name", Type: Text, Group: GroupContact},
	{Key: "name", Label: "Full Name", Type: Text, Group: GroupContact, Note: "HighLevel splits it into first and last name when those are not mapped"},
	{Key: "email", Label: "Email", Type: Email, Required: true, Group: GroupContact, Note: idNote},
	{Key: "phone", Label: "Phone", Type: Phone, Required: true, Group: GroupContact, Note: idNote + "; E.164 (+19025551037)"},
	{Key: "address1", Label: "Street Address", Type: Text, Group: GroupContact},
	{Key: "city", Label: "City", Type: Text, Group: GroupContact},
	{Key: "state", Label: "State", Type: Text, Group: GroupContact},
	{Key: "postalCode", Label: "Postal Code", Type: Text, Group: GroupContact},
	{Key: "website", Label: "Website", Type: Text, Group: GroupContact},
	{Key: "timezone", Label: "Time Zone", Type: Text, Group: GroupContact, Note: "an IANA name such as America/Toronto"},
	{Key: "tags", Label: "Tags", Type: List, Group: GroupContact, Note: "replaces all the contact's tags in HighLevel, the routing team tags too; values are split at commas"},
	{Key: "source", Label: "Source", Type: Text, Group: GroupContact},
	{Key: "country", Label: "Country", Type: Text, Group: GroupContact, Note: "a two-letter code such as CA"},
	{Key: "companyName", Label: "Company Name", Type: Text, Group: GroupContact},
}

// GHLCustomNote is Catalog.GHLCustomNote.
const GHLCustomNote = "Custom fields are written customFields.<id>, with the field's id from HighLevel (Settings, Custom Fields). " +
	"The endpoint listing a location's custom fields is not in Parley's API specs, so any id is accepted here; " +
	"HighLevel refuses an id it does not know when the contact is sent."

// GHLFields lists HighLevel's standard contact fields.
func GHLFields() []Field { return slices.Clone(ghlFields) }

// MessageFields lists the ActiveDEMAND message fields.
func MessageFields() []Field { return slices.Clone(messageAD) }

// NewCatalog builds the catalog from ActiveDEMAND's field definitions, as
// Client.ContactFields reads them. adErr is the error reading them, if any:
// the catalog then holds the standard fields and accepts custom_N keys
// unchecked.
func NewCatalog(defs []activedemand.ContactField, adErr error) Catalog {
	c := Catalog{
		GHL: GHLFields(),
		Requirements: []Requirement{{OneOf: []string{"email", "phone"}, Why: "HighLevel finds a contact again only by its email or phone",
			Fix: "map an ActiveDEMAND email field to email (lower), or a phone field to phone (e164)"}},
		ADChecked:     adErr == nil,
		GHLCustomNote: GHLCustomNote,
		Transforms:    Transforms(),
	}
	if adErr != nil {
		c.ADNote = "ActiveDEMAND's field list could not be read, so its custom fields are not listed or checked: " + adErr.Error()
	}
	c.AD = slices.Clone(standardAD)
	for _, d := range defs {
		f := Field{Key: d.Key, Label: d.Label, Type: adType(d.Type), Group: GroupContact}
		if d.Custom {
			f.Group = GroupCustom
		}
		if f.Type == Secret {
			f.Note = "a password: Parley never copies it to HighLevel"
		}
		if i := slices.IndexFunc(c.AD, func(x Field) bool { return x.Key == d.Key }); i >= 0 {
			// The account's own label wins; the type Parley knows stays.
			c.AD[i].Label = f.Label
			continue
		}
		c.AD = append(c.AD, f)
	}
	c.AD = append(c.AD, messageAD...)
	return c
}

// IsSecretField reports whether an ActiveDEMAND field holds a password:
// its values are never copied to HighLevel, nor stored by Parley.
func IsSecretField(f activedemand.ContactField) bool { return adType(f.Type) == Secret }

// adType reads ActiveDEMAND's field type. Types Parley does not know are
// text, which maps anywhere text goes.
func adType(t string) Type {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "email":
		return Email
	case "phone", "tel", "telephone":
		return Phone
	case "date", "datetime", "date_time", "time":
		return Date
	case "dropdown", "select", "radio", "picklist":
		return Choice
	case "checkbox", "checkboxes", "multiselect", "multi_select":
		return List
	case "password":
		return Secret
	}
	return Text
}

// ADField finds an ActiveDEMAND field. A custom_N key that the catalog
// does not list is found (as text) when ActiveDEMAND's list could not be
// read.
func (c Catalog) ADField(key string) (Field, bool) {
	if i := slices.IndexFunc(c.AD, func(f Field) bool { return f.Key == key }); i >= 0 {
		return c.AD[i], true
	}
	if !c.ADChecked && activedemand.IsCustomField(key) {
		return Field{Key: key, Label: key, Type: Text, Group: GroupCustom}, true
	}
	return Field{}, false
}

// GHLField finds a HighLevel field; any customFields.<id> is found, as
// text.
func (c Catalog) GHLField(key string) (Field, bool) {
	return ghlField(c.GHL, key)
}

func ghlField(list []Field, key string) (Field, bool) {
	if id, ok := strings.CutPrefix(key, CustomPrefix); ok {
		if !customIDOK(id) {
			return Field{}, false
		}
		return Field{Key: key, Label: "Custom field " + id, Type: Text, Group: GroupCustom}, true
	}
	if i := slices.IndexFunc(list, func(f Field) bool { return f.Key == key }); i >= 0 {
		return list[i], true
	}
	return Field{}, false
}

// customIDOK accepts what a HighLevel id can be: letters, digits, _, - and
// dots, no spaces.
func customIDOK(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
