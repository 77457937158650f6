package activedemand_test

import (
	"fmt"
	"strings"
	"testing"

	"parley/sync/activedemand"
)

// TestContactRowAllocations holds the contacts CSV row path to a few
// allocations a row: a 200 MB export has over a million rows, and a map
// per row, a regular expression per cell and a record slice per row once
// made the allocator and the garbage collector a good part of a preview.
func TestContactRowAllocations(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,first_name,last_name,email_address,phone_number,custom_1,custom_2,notes\n")
	const rows = 2000
	for i := range rows {
		fmt.Fprintf(&b, "%d,First%d,Last%d,person%d@example.com,+1902%07d,Company %d,City %d,\"A note, %d\"\n", 5000000+i, i, i, i, 2000000+i, i%97, i%13, i)
	}
	src := activedemand.BytesSource("contacts.csv", []byte(b.String()))
	var custom, fields int
	h := activedemand.ImportHandler{Contact: func(_ activedemand.Origin, c activedemand.Contact, _ bool) error {
		custom += len(c.Custom)
		fields += len(c.Fields)
		return nil
	}}
	allocs := testing.AllocsPerRun(3, func() {
		custom, fields = 0, 0
		p, err := activedemand.PreviewImport(t.Context(), src, 5, activedemand.ImportOptions{}, h)
		if err != nil || p.Report.Contacts != rows {
			t.Fatalf("preview: %v\n%s", err, p.Report)
		}
	})
	if custom != 2*rows || fields != rows {
		t.Fatalf("the handler got %d custom fields and %d other fields; want %d and %d", custom, fields, 2*rows, rows)
	}
	perRow := allocs / rows
	t.Logf("%.1f allocations a row", perRow)
	if perRow > 6.5 {
		t.Errorf("%.1f allocations a contacts row; want at most 6.5", perRow)
	}
}
