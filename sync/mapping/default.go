package mapping

import (
	"strings"

	"parley/sync/activedemand"
)

// defaultByLabel maps ActiveDEMAND field labels (lower case) to the
// HighLevel field a default mapping fills from them. Tags are left out on
// purpose: tags sent on upsert replace all of a contact's tags, the routing
// team tags too.
var defaultByLabel = map[string]string{
	"company": "companyName", "company name": "companyName", "organization": "companyName",
	"city": "city", "state": "state", "province": "state",
	"postal code": "postalCode", "zip": "postalCode", "zip code": "postalCode",
	"address": "address1", "street address": "address1", "address 1": "address1",
	"website": "website", "country": "country", "time zone": "timezone", "timezone": "timezone",
}

// Default is the mapping used until one is saved: names trimmed, the email
// in lower case, the phone in E.164, source "ActiveDEMAND", and every
// ActiveDEMAND field in ad whose label names a standard HighLevel field
// (Company to companyName, City to city...), copied trimmed. ad may be nil.
func Default(ad []Field) []Link {
	links := []Link{
		{AD: activedemand.FieldFirstName, GHL: "firstName", Transform: Transform{Name: Trim}},
		{AD: activedemand.FieldLastName, GHL: "lastName", Transform: Transform{Name: Trim}},
		{AD: activedemand.FieldEmail, GHL: "email", Transform: Transform{Name: Lower}},
		{AD: activedemand.FieldPhone, GHL: "phone", Transform: Transform{Name: E164}},
		{AD: NoADField, GHL: "source", Transform: Transform{Name: Constant, Params: map[string]any{"value": "ActiveDEMAND"}}},
	}
	taken := map[string]bool{}
	for _, l := range links {
		taken[l.GHL] = true
	}
	for _, f := range ad {
		if f.Group == GroupMessage || f.Type == Secret {
			continue
		}
		g, ok := defaultByLabel[strings.ToLower(strings.TrimSpace(f.Label))]
		if !ok || taken[g] {
			continue
		}
		taken[g] = true
		links = append(links, Link{AD: f.Key, GHL: g, Transform: Transform{Name: Trim}})
	}
	return links
}
