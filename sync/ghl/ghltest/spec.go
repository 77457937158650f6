package ghltest

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The official specs, unmodified; every deviation from them is a named patch
// in patches.go.
//
//go:embed openapi
var specFiles embed.FS

// The spec files the sandbox serves, by path inside the openapi folder.
const (
	fileConversations = "apps/conversations.json"
	fileContacts      = "apps/contacts.json"
	fileOAuth         = "apps/oauth.json"
)

// specFileNames lists the served files in routing order.
func specFileNames() []string { return []string{fileConversations, fileContacts, fileOAuth} }

// specs is the loaded, patched and validated API description with one router
// per file. It is read-only after loading, so handlers share it freely.
type specs struct {
	docs    map[string]*openapi3.T
	routers map[string]routers.Router
}

// sharedSpecs loads the patched spec once per process. Loading takes about
// a tenth of a second and the result is never modified afterwards (routing
// and validation only read it), so every sandbox shares it.
var sharedSpecs = sync.OnceValues(func() (*specs, error) {
	return loadSpecs(context.Background(), loadOptions{})
})

// loadOptions exists for the tests that prove each patch is still needed:
// production code loads with the zero value.
type loadOptions struct {
	skipStrip   bool            // keep example/examples keys (ERRATA 1-3)
	skipPatches map[string]bool // patch names not to apply
	noValidate  bool            // return the document even if doc.Validate fails
}

// loadSpecs loads every served file from the embedded copies, applies the
// patch list and validates the result.
func loadSpecs(ctx context.Context, lo loadOptions) (*specs, error) {
	root, err := fs.Sub(specFiles, "openapi")
	if err != nil {
		return nil, fmt.Errorf("ghltest: open embedded specs: %w", err)
	}
	s := &specs{docs: map[string]*openapi3.T{}, routers: map[string]routers.Router{}}
	for _, name := range specFileNames() {
		doc, err := loadSpecFile(ctx, root, name, lo)
		if err != nil {
			return nil, err
		}
		s.docs[name] = doc
	}
	for _, p := range specPatches() {
		if lo.skipPatches[p.name] {
			continue
		}
		doc := s.docs[p.file]
		if doc == nil {
			return nil, fmt.Errorf("ghltest: patch %s (ERRATA %s): no document %s", p.name, p.errata, p.file)
		}
		if err := p.apply(doc); err != nil {
			return nil, fmt.Errorf("ghltest: patch %s (ERRATA %s) on %s: %w", p.name, p.errata, p.file, err)
		}
	}
	for _, name := range specFileNames() {
		doc := s.docs[name]
		if err := doc.Validate(ctx); err != nil && !lo.noValidate {
			return nil, fmt.Errorf("ghltest: validate %s after patching: %w", name, err)
		}
		// No servers: the router then matches any host, so the sandbox works on
		// whatever address it listens on (and behind httptest).
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("ghltest: build router for %s: %w", name, err)
		}
		s.routers[name] = r
	}
	return s, nil
}

func loadSpecFile(ctx context.Context, root fs.FS, name string, lo loadOptions) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = true
	// Only the embedded files can be read: the specs reference
	// ../common/common-schemas.json, which resolves inside the same tree.
	loader.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme != "" || u.Host != "" {
			return nil, fmt.Errorf("ghltest: spec reference %q leaves the embedded files", u)
		}
		data, err := fs.ReadFile(root, path.Clean(strings.TrimPrefix(u.Path, "/")))
		if err != nil {
			return nil, err
		}
		if lo.skipStrip {
			return data, nil
		}
		return stripExamples(data)
	}
	doc, err := loader.LoadFromURI(&url.URL{Path: name})
	if err != nil {
		return nil, fmt.Errorf("ghltest: load %s: %w", name, err)
	}
	return doc, nil
}

// stripExamples removes every example/examples key (ERRATA 1-3). Upstream
// files carry examples that the loader rejects (an `examples` object in a
// schema) or that contradict their own types; none of them affects what is
// valid, so dropping them before loading changes no validation result.
// Keys directly inside a `properties` map are property names, not keywords,
// and are kept.
func stripExamples(data []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("ghltest: strip examples: %w", err)
	}
	out, err := json.Marshal(stripExampleKeys(v, false))
	if err != nil {
		return nil, fmt.Errorf("ghltest: strip examples: %w", err)
	}
	return out, nil
}

func stripExampleKeys(v any, propertyNames bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if !propertyNames && (k == "example" || k == "examples") {
				delete(t, k)
				continue
			}
			t[k] = stripExampleKeys(x, !propertyNames && k == "properties")
		}
	case []any:
		for i := range t {
			t[i] = stripExampleKeys(t[i], false)
		}
	}
	return v
}

// errRouteNotFound and errMethodNotAllowed tell findRoute's callers why no
// operation matched.
var (
	errRouteNotFound    = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed on this route")
)

// findRoute finds the operation for a request. The path prefix picks the file,
// which keeps routing cheap: each router tries its routes in order.
func (s *specs) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	var file string
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/conversations"):
		file = fileConversations
	case strings.HasPrefix(p, "/contacts"):
		file = fileContacts
	case strings.HasPrefix(p, "/oauth"):
		file = fileOAuth
	default:
		return nil, nil, errRouteNotFound
	}
	route, params, err := s.routers[file].FindRoute(r)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return nil, nil, errMethodNotAllowed
	case err != nil:
		return nil, nil, errRouteNotFound
	}
	return route, params, nil
}

// requiredScopes is the scope list of an operation's first security
// requirement (the specs name the same scope in every alternative).
func requiredScopes(op *openapi3.Operation) []string {
	if op.Security == nil {
		return nil
	}
	for _, req := range *op.Security {
		for _, scopes := range req {
			if len(scopes) > 0 {
				return scopes
			}
		}
	}
	return nil
}
