package ghl

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// FindDuplicateContact finds the location's contact with this email and/or
// phone (E.164), the way HighLevel matches duplicates: email first, then
// phone. found is false when there is none.
func (c *Client) FindDuplicateContact(ctx context.Context, email, phone string) (contact Contact, found bool, err error) {
	const op = "ghl: find duplicate contact"
	if strings.TrimSpace(email) == "" && strings.TrimSpace(phone) == "" {
		return Contact{}, false, fmt.Errorf("%s: give an email or a phone number", op)
	}
	q := url.Values{"locationId": {c.location}}
	if email != "" {
		q.Set("email", email)
	}
	if phone != "" {
		q.Set("number", phone)
	}
	err = c.getJSON(ctx, op, routeDuplicateContact, routeDuplicateContact.path, q,
		func(b []byte) (err error) { contact, found, _, err = decodeContactAnswer(b); return err })
	return contact, found, err
}

// ContactInput is a contact to create or update (UpsertContactDto, the
// fields Parley fills).
type ContactInput struct {
	FirstName   string   `json:"firstName,omitempty"`
	LastName    string   `json:"lastName,omitempty"`
	Name        string   `json:"name,omitempty"`
	Email       string   `json:"email,omitempty"`
	Phone       string   `json:"phone,omitempty"`
	CompanyName string   `json:"companyName,omitempty"`
	Address1    string   `json:"address1,omitempty"`
	City        string   `json:"city,omitempty"`
	State       string   `json:"state,omitempty"`
	PostalCode  string   `json:"postalCode,omitempty"`
	Country     string   `json:"country,omitempty"`
	Website     string   `json:"website,omitempty"`
	Timezone    string   `json:"timezone,omitempty"`
	Source      string   `json:"source,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	AssignedTo  string   `json:"assignedTo,omitempty"`
	// CustomFields sets the location's custom fields; the ones not named
	// keep their values.
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
}

// CustomFieldValue is one custom field of a contact input. The spec's
// TextField requires the field's id; its key alone is not enough.
type CustomFieldValue struct {
	// ID is the custom field's id in the location (HighLevel shows it
	// under Settings, Custom Fields).
	ID    string `json:"id"`
	Value string `json:"field_value"`
}

// UpsertContact creates the contact, or updates the one HighLevel matches
// by email or phone (per the location's duplicate setting); isNew says
// which. With an email or a phone it is idempotent and retried like a read;
// without either, every call could create a contact, so it is not retried
// after an uncertain outcome (ErrOutcomeUnknown).
func (c *Client) UpsertContact(ctx context.Context, in ContactInput) (contact Contact, isNew bool, err error) {
	const op = "ghl: upsert contact"
	body := struct {
		LocationID string `json:"locationId"`
		ContactInput
	}{c.location, in}
	b, err := jsonBody(op, body)
	if err != nil {
		return Contact{}, false, err
	}
	class := idempotent
	if in.Email == "" && in.Phone == "" {
		class = unsafe
	}
	var found bool
	err = c.do(ctx, &request{
		op: op, rt: routeUpsertContact, path: routeUpsertContact.path, class: class, body: b, contentType: "application/json",
		decode: func(b []byte) (err error) {
			contact, found, isNew, err = decodeContactAnswer(b)
			if err == nil && !found {
				err = &fieldError{field: "contact", err: fmt.Errorf("missing")}
			}
			return err
		},
	})
	return contact, isNew, err
}

// GetContact reads one contact.
func (c *Client) GetContact(ctx context.Context, contactID string) (Contact, error) {
	const op = "ghl: get contact"
	if err := needIDs(op, "contact id", contactID); err != nil {
		return Contact{}, err
	}
	rt := routeGetContact
	var out Contact
	err := c.getJSON(ctx, op, rt, fill(rt.path, contactID), nil, func(b []byte) error {
		contact, found, _, err := decodeContactAnswer(b)
		if err != nil {
			return err
		}
		if !found {
			return &APIError{Op: op, Method: rt.method, Route: rt.path, Status: 200, Scope: rt.scope,
				Messages: []string{"the answer holds no contact"}, Hint: hintFor(404, ""), kind: ErrNotFound}
		}
		out = contact
		return nil
	})
	return out, err
}
