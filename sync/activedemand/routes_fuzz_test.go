package activedemand

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRoutesStayBelowTheBase checks that whatever a routes file makes of
// a path, a loaded table only sends requests below the base URL, whose
// host receives the keys, and that a refused file gives a short error.
func FuzzRoutesStayBelowTheBase(f *testing.F) {
	for _, p := range []string{"../../admin", "http:evil/x", "//evil/x", "%2e%2e/x", `..\x`, "a/./b", "x\r\nHost: y", "{url}", "https://evil/{url}", "a:b/c", "{list_id}:x"} {
		f.Add([]byte("[routes.\"contact_lists.add_members\"]\npath = \"" + strings.ReplaceAll(p, `\`, `\\`) + "\"\n"))
	}
	f.Add([]byte("[routes.\"messages.list\"]\npath = \"c/{conversation_id}/m.json\"\n"))
	base, _ := url.Parse("https://api.example.com/v1/")
	maxErr := (MaxRoutesFileProblems+1)*(maxProblemLen+8) + 400
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRoutes("fuzz.toml", data)
		if err != nil {
			if n := len(err.Error()); n > maxErr {
				t.Fatalf("a %d-byte file gave a %d-byte error", len(data), n)
			}
			return
		}
		for _, name := range r.Names() {
			rt, _ := r.Route(name)
			path := placeholderRE.ReplaceAllString(rt.Path, "arg")
			ref, err := url.Parse(path)
			if err != nil {
				t.Fatalf("%s: loaded path %q does not parse: %v", name, rt.Path, err)
			}
			u := base.ResolveReference(ref)
			if u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(u.Path, base.Path) {
				t.Fatalf("%s: loaded path %q leads to %s", name, rt.Path, u)
			}
			for _, seg := range strings.Split(u.Path, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("%s: loaded path %q leads to %s", name, rt.Path, u)
				}
			}
		}
	})
}
