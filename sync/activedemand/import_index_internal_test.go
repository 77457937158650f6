package activedemand

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLinkByPhone: an activity row naming its contact by phone alone links
// to the first contact with that number, whichever way the row writes it,
// and one made from an earlier activity row is found the same way.
func TestLinkByPhone(t *testing.T) {
	const contacts = "id,email_address,phone_number\n" +
		"c1,a@example.com,+19025551037\n" +
		"c2,b@example.com,(902) 555-1037\n" +
		"c3,c@example.com,+442079460018\n"
	const activity = "contact_phone,channel,direction,date,body\n" +
		"902.555.1037,sms,inbound,2025-03-01 09:15:00,one\n" +
		"+44 20 7946 0018,sms,inbound,2025-03-01 09:16:00,two\n" +
		"+19025550000,sms,inbound,2025-03-01 09:17:00,three\n" +
		"(902) 555-0000,sms,inbound,2025-03-01 09:18:00,four\n"
	var got []ID
	h := ImportHandler{Message: func(_ Origin, m Message, _ Conversation, _ Contact) error {
		got = append(got, m.ContactID)
		return nil
	}}
	rep, err := Stream(t.Context(), ImportOptions{}, h, BytesSource("activity.csv", []byte(activity)), BytesSource("contacts.csv", []byte(contacts)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != "c1" || got[1] != "c3" || got[2] != got[3] || slices.Contains([]ID{"c1", "c2", "c3"}, got[2]) {
		t.Fatalf("messages linked to %q; want c1, c3 and one new contact twice\n%s", got, rep)
	}
	if rep.ContactsFromActivity != 1 {
		t.Fatalf("report:\n%s", rep)
	}
}

// TestContactsFileBuildsNoPhoneIndex: the phone index serves only to link
// activity rows, so reading contacts alone (a preview of a contacts export)
// does not build it; at a million contacts it is tens of megabytes.
func TestContactsFileBuildsNoPhoneIndex(t *testing.T) {
	const contacts = "id,email_address,phone_number\n" +
		"c1,a@example.com,+19025551037\n" +
		"c2,b@example.com,+19025551038\n"
	im := newImporter(ImportOptions{}, ImportHandler{})
	pv := &ImportPreview{}
	if err := im.run(t.Context(), []ImportSource{BytesSource("contacts.csv", []byte(contacts))}, &previewSink{p: pv, n: 5}); err != nil {
		t.Fatal(err)
	}
	if im.report.Contacts != 2 || len(im.byPhone) != 0 {
		t.Fatalf("%d contacts, %d numbers in the phone index; want 2 and none", im.report.Contacts, len(im.byPhone))
	}
}

// TestPackedContacts: records come back as written, across chunks and
// with one longer than a chunk.
func TestPackedContacts(t *testing.T) {
	var p packedContacts
	var want []string
	for i := range 40_000 {
		f := []string{strconv.Itoa(i), "First", "Last", "", "+1902555" + strconv.Itoa(1000+i%9000)}
		if i == 20_000 {
			f[1] = strings.Repeat("x", packChunk+10)
		}
		p.add(f...)
		want = append(want, strings.Join(f, "\x00"))
	}
	if len(p.chunks) < 3 {
		t.Fatalf("%d chunks; the test means to cross some", len(p.chunks))
	}
	for i, w := range want {
		if got := p.get(int32(i)); got != w {
			t.Fatalf("record %d = %.40q; want %.40q", i, got, w)
		}
	}
}

// TestContactUnpacksInOneAllocation: every message linked to a contact
// unpacks it, a million times in a big import; the copy of the record is
// the one allocation that needs.
func TestContactUnpacksInOneAllocation(t *testing.T) {
	im := newImporter(ImportOptions{}, ImportHandler{})
	im.contacts.add("c1", "Ann", "Lee", "ann@example.com", "+19025551037")
	var c Contact
	if n := testing.AllocsPerRun(100, func() { c = im.contact(0) }); n != 1 {
		t.Errorf("%v allocations to unpack a contact; want 1", n)
	}
	if c.ID != "c1" || c.FirstName != "Ann" || c.LastName != "Lee" || c.Email != "ann@example.com" || c.Phone != "+19025551037" {
		t.Errorf("unpacked %+v", c)
	}
}

// TestSeenSetKeepsEveryOrigin: every key put comes back with its origin,
// whether it still waits in the recent map or was merged into the sorted
// slices, and whether its origin fits 32 bits or is kept whole (a 17th
// file, a line past 2^28); keys never put are not found.
func TestSeenSetKeepsEveryOrigin(t *testing.T) {
	s := newSeenSet()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[uint64]origin{}
	odd := []origin{{15, 1<<28 - 1}, {16, 7}, {2, 1 << 28}, {15, 1<<28 - 2}}
	for i := range 3*seenBatch + 123 {
		key := rng.Uint64()
		if _, dup := want[key]; dup {
			continue
		}
		o := origin{file: uint32(i % 3), line: uint32(i + 2)}
		if i%1000 == 0 {
			o = odd[(i/1000)%len(odd)]
		}
		if _, ok := s.get(key); ok {
			t.Fatalf("key %d found before it was put", key)
		}
		s.put(key, o)
		want[key] = o
		if i%5000 == 0 { // all so far, merged or not
			for k, w := range want {
				if got, ok := s.get(k); !ok || got != w {
					t.Fatalf("after %d puts, key %d: got %+v, %v; want %+v", i+1, k, got, ok, w)
				}
			}
		}
	}
	for k, w := range want {
		if got, ok := s.get(k); !ok || got != w {
			t.Errorf("key %d: got %+v, %v; want %+v", k, got, ok, w)
		}
	}
	if !slices.IsSorted(s.keys) || len(s.keys)+len(s.recent) != len(want) || len(s.wide) == 0 {
		t.Errorf("sorted %v, %d merged + %d recent of %d, %d kept whole", slices.IsSorted(s.keys), len(s.keys), len(s.recent), len(want), len(s.wide))
	}
	for range 1000 {
		if k := rng.Uint64(); want[k] == (origin{}) {
			if _, ok := s.get(k); ok {
				t.Fatalf("key %d was never put but is found", k)
			}
		}
	}
}
