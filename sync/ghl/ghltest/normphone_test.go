package ghltest

import "testing"

// TestNormPhoneIsE164 checks that the sandbox matches phone numbers in the
// E.164 form the importer writes, whatever way they were typed.
func TestNormPhoneIsE164(t *testing.T) {
	for raw, want := range map[string]string{
		"+19025551037":        "+19025551037",
		"(902) 555-1037":      "+19025551037",
		"1 902 555 1037":      "+19025551037",
		"011 44 20 7946 0018": "+442079460018", // dialled from the US
		"":                    "",
	} {
		if got := normPhone(raw); got != want {
			t.Errorf("normPhone(%q) = %q, want %q", raw, got, want)
		}
	}
}
