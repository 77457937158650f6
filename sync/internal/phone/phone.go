// Package phone puts phone numbers in E.164 (+19025551037), the one form in
// which the import, the sync and the sandboxes compare them.
//
// It uses libphonenumber's metadata (github.com/nyaruka/phonenumbers)
// rather than digit counting: national prefixes, trunk zeros and country
// lengths differ by country, and a hand-written rule ("ten digits means
// +1") is right for North America only.
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region of numbers written without a country code
// when none is configured.
const DefaultRegion = "US"

// ErrNotPhone is matched (errors.Is) by every error of Normalize.
var ErrNotPhone = errors.New("not a phone number")

// Normalize returns raw in E.164. A number without a country code is read
// as a number of region (an ISO 3166 code such as "US" or "GB"; empty means
// DefaultRegion). Numbers that cannot be one in their country (too short,
// too long, letters) fail; numbers that merely are not assigned yet pass,
// since the metadata lags behind new ranges and test numbers (555) are
// valid in every export.
func Normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if e, ok := fastE164(s); ok {
		return e, nil
	}
	return normalizeSlow(s, region)
}

// fastE164 answers for s already in North American E.164 (+1, an area code
// that does not start with 0 or 1, seven more digits), by far the most
// common form in an export, without the library: parsing one costs
// microseconds and a dozen allocations, which made phone numbers most of a
// big import's time. For such input the library finds country code 1,
// strips no national prefix (the national number starts with 2-9, not 1),
// finds ten digits possible and formats the same string back;
// TestFastPathAgreesWithLibrary and FuzzFastPath hold the two together.
// Anything else goes to the library.
func fastE164(s string) (string, bool) {
	if len(s) != 12 || s[0] != '+' || s[1] != '1' || s[2] < '2' || s[2] > '9' {
		return "", false
	}
	for i := 3; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// normalizeSlow is Normalize by the library, for trimmed s.
func normalizeSlow(s, region string) (string, error) {
	if region == "" {
		region = DefaultRegion
	}
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrNotPhone)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }) >= 0 {
		// phonenumbers reads vanity letters (1-800-FLOWERS) as digits;
		// an export's phone column with letters is a mistake.
		return "", fmt.Errorf("%w: %q has letters", ErrNotPhone, s)
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrNotPhone, s, err)
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", fmt.Errorf("%w: %q has the wrong number of digits for %s", ErrNotPhone, s, phonenumbers.GetRegionCodeForNumber(n))
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
