package activedemand

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/BurntSushi/toml"
)

// Route names: the keys of the route table, used in routes files, in
// observer reports ([CallInfo].Route) and by the sandbox's per-route fault
// injection and call counts.
const (
	// Known routes: path and method as seen in public client code (the
	// README section "ActiveDEMAND endpoints" has the sources); the rest
	// are assumed.
	RouteContactsList     = "contacts.list"
	RouteContactsCreate   = "contacts.create"
	RouteContactFields    = "contacts.fields"
	RouteContactLists     = "contact_lists.list"
	RouteListAddMembers   = "contact_lists.add_members"
	RouteFormsList        = "forms.list"
	RouteFormFields       = "forms.fields"
	RouteFormSubmit       = "forms.submit"
	RouteConversations    = "conversations.changed"
	RouteMessagesList     = "messages.list"
	RouteMediaDownload    = "media.download"
	RouteMessageStatus    = "messages.status"
	RouteHistoryList      = "histories.list"
	RouteHistoryCreate    = "histories.create"
	RouteTaskCreate       = "tasks.create"
	RouteWebhookSubscribe = "webhooks.subscribe"
	RouteWebhookDelete    = "webhooks.unsubscribe"
)

const (
	routeFieldPlaceholder  = "{field}"
	defaultPageSize        = 500
	defaultMaxPageSize     = 1000
	defaultSignatureHeader = "X-ActiveDEMAND-Signature"
	defaultTimestampHeader = "X-ActiveDEMAND-Timestamp"
)

// PagingScheme says how a list route is read page by page.
type PagingScheme string

// The paging schemes a route can use.
const (
	// PagingNone: one request returns the whole list.
	PagingNone PagingScheme = "none"
	// PagingPage: a page number (PageParam, starting at FirstPage) and a
	// page size (SizeParam); an empty page is the end.
	PagingPage PagingScheme = "page"
	// PagingOffset: an item offset (PageParam, from 0) and a limit
	// (SizeParam); an empty page is the end.
	PagingOffset PagingScheme = "offset"
	// PagingCursor: the reply carries a token for the next page, in a
	// header or a field (CursorIn, CursorName), sent back as PageParam;
	// no token is the end.
	PagingCursor PagingScheme = "cursor"
)

// Where a cursor-paged reply carries its next-page token.
const (
	CursorInHeader = "header"
	CursorInField  = "field"
)

// Where a route's parameters travel.
const (
	ParamsInQuery = "query"
	ParamsInForm  = "form"
	ParamsInJSON  = "json"
)

// Paging describes how one list route pages. Only the fields of the chosen
// Scheme matter.
type Paging struct {
	Scheme PagingScheme
	// PageParam is the query parameter carrying the page number, the
	// offset or the cursor token.
	PageParam string
	// SizeParam is the query parameter carrying the page size; empty
	// sends none and lets the server choose.
	SizeParam string
	// FirstPage is the number of the first page for PagingPage (1 or 0).
	FirstPage int
	// PageSize is how many items Parley asks for per page.
	PageSize int
	// MaxPageSize is the largest page the server is believed to serve;
	// PageSize may not exceed it, and the sandbox clamps to it.
	MaxPageSize int
	// CursorIn is CursorInHeader or CursorInField; CursorName names the
	// header or the reply field holding the next token.
	CursorIn   string
	CursorName string
	// ItemsField, when set, means the reply is an object holding the list
	// in this field; empty means the reply is the JSON array itself.
	ItemsField string
}

// Route is one entry of the route table: how one ActiveDEMAND call is made.
type Route struct {
	// Method is the HTTP method.
	Method string
	// Path is relative to the base URL and may hold {argument}
	// placeholders, e.g. "contact_lists/add_members/{list_id}".
	Path string
	// ParamsIn is where parameters go: ParamsInQuery (always for GET),
	// ParamsInForm (form-encoded body) or ParamsInJSON (JSON object body).
	ParamsIn string
	// Params maps the route's arguments to their names on the wire, for
	// arguments that are not placeholders in Path. A template containing
	// {field} (contacts.create) names every contact field that way.
	Params map[string]string
	// Paging is how a list route pages; PagingNone for the others.
	Paging   Paging
	MaxBytes int64
	// Assumed is true when the path, method or parameter names are
	// Parley's guess rather than seen in a public source.
	Assumed bool
	// PagingAssumed is true when the route is known but its paging is not.
	PagingAssumed bool
	// Source is a one-line note on where the entry comes from.
	Source string
	// Origin is empty for a built-in entry and names the routes file for
	// an overridden one.
	Origin string
}

// WebhookFormat is how ActiveDEMAND is assumed to sign the webhooks it
// sends: HMAC-SHA256 over timestamp + "." + body, hex in SignatureHeader,
// Unix seconds in TimestampHeader.
type WebhookFormat struct {
	SignatureHeader string
	TimestampHeader string
	Assumed         bool
	Source          string
	Origin          string
}

// Routes is the route table: every path, method, parameter name and paging
// scheme the client uses, and the webhook signature headers. The zero value
// is the built-in table ([DefaultRoutes]). A Routes is immutable; With and
// LoadRoutes return new tables.
type Routes struct {
	m       map[string]Route
	webhook WebhookFormat
}

// routeSpec is what a route's overridable entry must satisfy.
type routeSpec struct {
	name string
	// op is what the call does, in the words errors use.
	op string
	// args are the route's arguments: each travels either as a path
	// placeholder or as a parameter named in Params.
	args []string
	// pathArgs must be placeholders in the path.
	pathArgs []string
	// templates are Params entries whose wire name must contain {field}.
	templates []string
	// list routes are read with GET and may page.
	list bool
	def  Route
}

// specs is the built-in table, in display order. It is never modified:
// every Routes gets its own copy of the entries.
func specs() []routeSpec {
	page := func() Paging {
		return Paging{Scheme: PagingPage, PageParam: "page", SizeParam: "per_page", FirstPage: 1, PageSize: defaultPageSize, MaxPageSize: defaultMaxPageSize}
	}
	none := Paging{Scheme: PagingNone}
	return []routeSpec{
		{name: RouteContactsList, op: "list contacts", list: true, def: Route{
			Method: http.MethodGet, Path: "contacts.json", Paging: page(), PagingAssumed: true,
			Source: "NOTES S3 (GET contacts.json, JSON array); paging not seen anywhere, assumed page/per_page"}},
		{name: RouteContactsCreate, op: "create contact", args: []string{"field"}, templates: []string{"field"}, def: Route{
			Method: http.MethodPost, Path: "contacts.json", ParamsIn: ParamsInForm, Params: map[string]string{"field": "contact[{field}]"}, Paging: none,
			Source: "NOTES S4 (contact[first_name]..., new id at response[0].id)"}},
		{name: RouteContactFields, op: "list contact fields", list: true, def: Route{
			Method: http.MethodGet, Path: "contacts/fields.json", Paging: none,
			Source: "NOTES S2 (array of field definitions with type)"}},
		{name: RouteContactLists, op: "list contact lists", list: true, def: Route{
			Method: http.MethodGet, Path: "contact_lists", Paging: none,
			Source: "NOTES S4 (GET contact_lists, no suffix)"}},
		{name: RouteListAddMembers, op: "add list members", args: []string{"list_id", "contact_ids"}, pathArgs: []string{"list_id"}, def: Route{
			Method: http.MethodPost, Path: "contact_lists/add_members/{list_id}", ParamsIn: ParamsInQuery, Params: map[string]string{"contact_ids": "contact_ids"}, Paging: none,
			Source: "NOTES S4 (contact_ids in the query string of the POST)"}},
		{name: RouteFormsList, op: "list forms", list: true, def: Route{
			Method: http.MethodGet, Path: "forms.json", Paging: none,
			Source: "NOTES S2, S3 (array of id, name)"}},
		{name: RouteFormFields, op: "list form fields", list: true, args: []string{"form_id"}, def: Route{
			Method: http.MethodGet, Path: "forms/fields.json", ParamsIn: ParamsInQuery, Params: map[string]string{"form_id": "form_id"}, Paging: none,
			Source: "NOTES S3 (forms/fields.json?form_id=, array of label, key)"}},
		{name: RouteFormSubmit, op: "submit form", args: []string{"form_id"}, pathArgs: []string{"form_id"}, def: Route{
			Method: http.MethodPost, Path: "forms/{form_id}", ParamsIn: ParamsInForm, Paging: none,
			Source: "NOTES S2, S3 (form field keys -> values, form-encoded)"}},
		{name: RouteConversations, op: "list changed conversations", list: true, args: []string{"since"}, def: Route{
			Method: http.MethodGet, Path: "conversations.json", ParamsIn: ParamsInQuery, Params: map[string]string{"since": "updated_since"}, Paging: page(), Assumed: true,
			Source: "assumed: not public; follows v1/<resource>.json, cursor by updated_since"}},
		{name: RouteMessagesList, op: "list messages", list: true, args: []string{"conversation_id"}, def: Route{
			Method: http.MethodGet, Path: "messages.json", ParamsIn: ParamsInQuery, Params: map[string]string{"conversation_id": "conversation_id"}, Paging: page(), Assumed: true,
			Source: "assumed: not public; parent id as a query parameter like forms/fields.json?form_id="}},
		{name: RouteMediaDownload, op: "download media", args: []string{"url"}, pathArgs: []string{"url"}, def: Route{
			Method: http.MethodGet, Path: "{url}", Paging: none, Assumed: true,
			Source: "assumed: the URL a message carries; keys are sent only to the API host"}},
		{name: RouteMessageStatus, op: "report message status", args: []string{"message_id", "status"}, def: Route{
			Method: http.MethodPost, Path: "messages/{message_id}/status.json", ParamsIn: ParamsInForm, Params: map[string]string{"status": "message[status]"}, Paging: none, Assumed: true,
			Source: "assumed: not public; form-encoded resource[field] like contacts.json"}},
		{name: RouteHistoryList, op: "list history", list: true, args: []string{"contact_id"}, def: Route{
			Method: http.MethodGet, Path: "histories.json", ParamsIn: ParamsInQuery, Params: map[string]string{"contact_id": "contact_id"}, Paging: page(), Assumed: true,
			Source: "assumed: \"List Histories\" exists in Make (NOTES S5); path not public"}},
		{name: RouteHistoryCreate, op: "create history entry", args: []string{"contact_id", "type", "subject", "body", "at"}, def: Route{
			Method: http.MethodPost, Path: "histories.json", ParamsIn: ParamsInForm, Params: map[string]string{
				"contact_id": "history[contact_id]", "type": "history[history_type]", "subject": "history[subject]",
				"body": "history[description]", "at": "history[occurred_at]"}, Paging: none, Assumed: true,
			Source: "assumed: \"Create a History\" exists in Make (NOTES S5); path and fields not public"}},
		{name: RouteTaskCreate, op: "raise task", args: []string{"contact_id", "title", "body", "due_at", "priority"}, def: Route{
			Method: http.MethodPost, Path: "tasks.json", ParamsIn: ParamsInForm, Params: map[string]string{
				"contact_id": "task[contact_id]", "title": "task[title]", "body": "task[description]",
				"due_at": "task[due_at]", "priority": "task[priority]"}, Paging: none, Assumed: true,
			Source: "assumed: not public"}},
		{name: RouteWebhookSubscribe, op: "subscribe webhook", args: []string{"url", "event"}, def: Route{
			Method: http.MethodPost, Path: "webhooks.json", ParamsIn: ParamsInForm, Params: map[string]string{"url": "webhook[url]", "event": "webhook[event]"}, Paging: none, Assumed: true,
			Source: "assumed: Make registers webhooks automatically (NOTES S5); API not public"}},
		{name: RouteWebhookDelete, op: "unsubscribe webhook", args: []string{"webhook_id"}, def: Route{
			Method: http.MethodDelete, Path: "webhooks/{webhook_id}.json", Paging: none, Assumed: true,
			Source: "assumed: not public"}},
	}
}

func specFor(name string) (routeSpec, bool) {
	for _, s := range specs() {
		if s.name == name {
			return s, true
		}
	}
	return routeSpec{}, false
}

func defaultWebhookFormat() WebhookFormat {
	return WebhookFormat{
		SignatureHeader: defaultSignatureHeader,
		TimestampHeader: defaultTimestampHeader,
		Assumed:         true,
		Source:          "assumed: webhooks exist (NOTES S5, S6); payload and signing not public",
	}
}

// DefaultRoutes returns the built-in route table.
func DefaultRoutes() Routes {
	r := Routes{m: map[string]Route{}, webhook: defaultWebhookFormat()}
	for _, s := range specs() {
		rt := s.def
		rt.Params = maps.Clone(rt.Params)
		if rt.ParamsIn == "" {
			rt.ParamsIn = ParamsInQuery
		}
		r.m[s.name] = rt
	}
	return r
}

func (r Routes) orDefault() Routes {
	if r.m == nil {
		return DefaultRoutes()
	}
	return r
}

// Route returns the entry for name and whether the table has it.
func (r Routes) Route(name string) (Route, bool) {
	rt, ok := r.orDefault().m[name]
	rt.Params = maps.Clone(rt.Params)
	return rt, ok
}

// Names lists the route names in display order.
func (r Routes) Names() []string {
	var names []string
	for _, s := range specs() {
		names = append(names, s.name)
	}
	return names
}

// Webhook returns how incoming webhooks are signed.
func (r Routes) Webhook() WebhookFormat { return r.orDefault().webhook }

// With returns a copy of the table with name's entry replaced by rt, after
// checking rt as LoadRoutes would.
func (r Routes) With(name string, rt Route) (Routes, error) {
	s, ok := specFor(name)
	if !ok {
		return Routes{}, fmt.Errorf("activedemand: route %q does not exist; routes are: %s", name, strings.Join(r.Names(), ", "))
	}
	if rt.ParamsIn == "" {
		rt.ParamsIn = ParamsInQuery
	}
	if probs := s.check(rt); len(probs) > 0 {
		return Routes{}, fmt.Errorf("activedemand: route %q: %s", name, strings.Join(probs, "; "))
	}
	out := r.clone()
	rt.Params = maps.Clone(rt.Params)
	out.m[name] = rt
	return out, nil
}

// WithWebhook returns a copy of the table with the webhook headers replaced.
func (r Routes) WithWebhook(w WebhookFormat) (Routes, error) {
	if probs := checkWebhook(w); len(probs) > 0 {
		return Routes{}, fmt.Errorf("activedemand: webhook: %s", strings.Join(probs, "; "))
	}
	out := r.clone()
	out.webhook = w
	return out, nil
}

func (r Routes) clone() Routes {
	r = r.orDefault()
	out := Routes{m: make(map[string]Route, len(r.m)), webhook: r.webhook}
	for k, v := range r.m {
		v.Params = maps.Clone(v.Params)
		out.m[k] = v
	}
	return out
}

// Validate checks every entry; LoadRoutes and With already do, so this is
// for tables built otherwise.
func (r Routes) Validate() error {
	r = r.orDefault()
	var errs []error
	for _, s := range specs() {
		rt, ok := r.m[s.name]
		if !ok {
			errs = append(errs, fmt.Errorf("route %q is missing", s.name))
			continue
		}
		for _, p := range s.check(rt) {
			errs = append(errs, fmt.Errorf("route %q: %s", s.name, p))
		}
	}
	for _, p := range checkWebhook(r.webhook) {
		errs = append(errs, fmt.Errorf("webhook: %s", p))
	}
	if len(errs) > 0 {
		return fmt.Errorf("activedemand: route table: %w", errors.Join(errs...))
	}
	return nil
}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// placeholders lists the {names} in a path.
func placeholders(path string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

var validMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// check returns what is wrong with rt for this route, each as a sentence
// that says what to change.
func (s routeSpec) check(rt Route) []string {
	var probs []string
	if !slices.Contains(validMethods, rt.Method) {
		probs = append(probs, fmt.Sprintf("method %q is not an HTTP method Parley uses; use one of %s", rt.Method, strings.Join(validMethods, ", ")))
	}
	if s.list && rt.Method != http.MethodGet {
		probs = append(probs, fmt.Sprintf("method %q: list routes are read with GET", rt.Method))
	}
	probs = append(probs, checkPath(rt.Path)...)
	if strings.Count(rt.Path, "{") != strings.Count(rt.Path, "}") {
		probs = append(probs, fmt.Sprintf("path %q has unbalanced braces", rt.Path))
	}
	inPath := placeholders(rt.Path)
	for _, p := range inPath {
		if !slices.Contains(s.args, p) {
			probs = append(probs, fmt.Sprintf("path %q uses {%s}, which this route does not have; its arguments are %s", rt.Path, p, argList(s.args)))
		}
	}
	for _, a := range s.pathArgs {
		if !slices.Contains(inPath, a) {
			probs = append(probs, fmt.Sprintf("path %q is missing the required placeholder {%s}", rt.Path, a))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rt.Params)) {
		v := rt.Params[k]
		if !slices.Contains(s.args, k) {
			probs = append(probs, fmt.Sprintf("params.%s: this route has no argument %q; its arguments are %s", k, k, argList(s.args)))
			continue
		}
		if strings.TrimSpace(v) == "" {
			probs = append(probs, fmt.Sprintf("params.%s is empty; give the parameter name ActiveDEMAND expects", k))
		}
		if p := controlProblem("params."+k, v); p != "" {
			probs = append(probs, p)
		}
		if slices.Contains(s.templates, k) && !strings.Contains(v, routeFieldPlaceholder) {
			probs = append(probs, fmt.Sprintf("params.%s = %q must contain %s, where each field key goes", k, v, routeFieldPlaceholder))
		}
	}
	for _, a := range s.args {
		if !slices.Contains(inPath, a) && rt.Params[a] == "" {
			probs = append(probs, fmt.Sprintf("argument %s is neither a placeholder {%s} in the path nor named in params.%s; add one of them", a, a, a))
		}
	}
	switch rt.ParamsIn {
	case ParamsInQuery, ParamsInForm, ParamsInJSON:
		if rt.Method == http.MethodGet && rt.ParamsIn != ParamsInQuery {
			probs = append(probs, fmt.Sprintf("params_in %q: a GET carries its parameters in the query", rt.ParamsIn))
		}
	default:
		probs = append(probs, fmt.Sprintf("params_in %q is not one of query, form, json", rt.ParamsIn))
	}
	probs = append(probs, s.checkPaging(rt.Paging)...)
	switch {
	case rt.MaxBytes < 0:
		probs = append(probs, fmt.Sprintf("max_bytes %d is negative; give the largest file to download in bytes, or leave it out for %d (100 MiB)", rt.MaxBytes, DefaultMaxMediaBytes))
	case rt.MaxBytes > 0 && s.name != RouteMediaDownload:
		probs = append(probs, fmt.Sprintf("max_bytes applies to %s only; remove it here", RouteMediaDownload))
	}
	if p := controlProblem("source", rt.Source); p != "" {
		probs = append(probs, p)
	}
	return probs
}

// checkPath refuses a path that could take the request, and the keys that
// go with it, anywhere but below the base URL: the base URL's host gets
// the keys, so "../../admin" would reach the rest of that host with them.
func checkPath(path string) []string {
	if strings.TrimSpace(path) == "" {
		return []string{"path is empty; give the path relative to the base URL, e.g. \"contacts.json\""}
	}
	if p := controlProblem("path", path); p != "" {
		// Nothing else is worth saying about a path that can split a
		// request line.
		return []string{p}
	}
	var probs []string
	first, _, _ := strings.Cut(path, "/")
	switch {
	case strings.HasPrefix(path, "/") || strings.Contains(path, "://"):
		probs = append(probs, fmt.Sprintf("path %q must be relative to the base URL (no leading / and no host); write it as it follows the base URL, e.g. \"contacts.json\"", path))
	case strings.Contains(placeholderRE.ReplaceAllString(first, ""), ":"):
		// url.Parse reads "http:evil/x" as a URL with a scheme, which
		// replaces the base URL instead of extending it.
		probs = append(probs, fmt.Sprintf("path %q starts with a scheme (%q) and would replace the base URL; give the path relative to the base URL, e.g. \"contacts.json\"", path, first[:strings.Index(first, ":")+1]))
	}
	if strings.ContainsAny(path, "?#") {
		probs = append(probs, fmt.Sprintf("path %q must not contain ? or #; put parameters under params", path))
	}
	if strings.Contains(path, "%") {
		probs = append(probs, fmt.Sprintf("path %q contains percent-encoding, which servers decode (%%2e%%2e is ..); write the characters themselves", path))
	}
	if strings.Contains(path, `\`) {
		probs = append(probs, fmt.Sprintf("path %q contains a backslash, which some servers read as /; use / between segments", path))
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			probs = append(probs, fmt.Sprintf("path %q has a %q segment, which would leave the base URL that receives the keys; give the path below the base URL without . or .. segments", path, seg))
			break
		}
	}
	return probs
}

// controlProblem refuses control characters (CR and LF split a request or a
// header; others hide text in the route table view) and other characters
// that do not print, in any routes file value that reaches a request or
// the screen.
func controlProblem(field, v string) string {
	for _, r := range v {
		if r != ' ' && (unicode.IsControl(r) || !unicode.IsPrint(r)) {
			return fmt.Sprintf("%s %q contains a control character (%U); remove it", field, v, r)
		}
	}
	return ""
}

func argList(args []string) string {
	if len(args) == 0 {
		return "none"
	}
	return strings.Join(args, ", ")
}

func (s routeSpec) checkPaging(p Paging) []string {
	var probs []string
	if !s.list && p.Scheme != PagingNone && p.Scheme != "" {
		return []string{fmt.Sprintf("paging.scheme %q: this route returns no list; use \"none\"", p.Scheme)}
	}
	needSize := func() {
		if p.PageSize < 1 {
			probs = append(probs, fmt.Sprintf("paging.page_size %d must be at least 1", p.PageSize))
		}
		if p.MaxPageSize > 0 && p.PageSize > p.MaxPageSize {
			probs = append(probs, fmt.Sprintf("paging.page_size %d is above paging.max_page_size %d; lower page_size or raise max_page_size", p.PageSize, p.MaxPageSize))
		}
	}
	switch p.Scheme {
	case PagingNone, "":
	case PagingPage:
		if p.PageParam == "" {
			probs = append(probs, "paging.page_param is empty; name the page-number parameter, e.g. \"page\"")
		}
		if p.FirstPage != 0 && p.FirstPage != 1 {
			// A first page above 1 silently skips the pages before it.
			probs = append(probs, fmt.Sprintf("paging.first_page %d must be 0 or 1: the number ActiveDEMAND gives its first page", p.FirstPage))
		}
		needSize()
	case PagingOffset:
		if p.PageParam == "" {
			probs = append(probs, "paging.page_param is empty; name the offset parameter, e.g. \"offset\"")
		}
		if p.SizeParam == "" {
			probs = append(probs, "paging.size_param is empty; offset paging needs the limit parameter, e.g. \"limit\"")
		}
		needSize()
	case PagingCursor:
		if p.PageParam == "" {
			probs = append(probs, "paging.page_param is empty; name the parameter that sends the cursor back, e.g. \"cursor\"")
		}
		if p.CursorIn != CursorInHeader && p.CursorIn != CursorInField {
			probs = append(probs, fmt.Sprintf("paging.cursor_in %q must be \"header\" or \"field\"", p.CursorIn))
		}
		if p.CursorName == "" {
			probs = append(probs, "paging.cursor_name is empty; name the header or reply field holding the next cursor")
		}
		if p.CursorIn == CursorInField && p.ItemsField == "" {
			probs = append(probs, "paging.items_field is empty; a cursor in a reply field means the reply is an object, so name the field holding the list")
		}
		needSize()
	default:
		probs = append(probs, fmt.Sprintf("paging.scheme %q is not a paging scheme; use one of none, page, offset, cursor", p.Scheme))
	}
	for _, f := range []struct{ key, v string }{{"page_param", p.PageParam}, {"size_param", p.SizeParam}, {"cursor_in", p.CursorIn}, {"cursor_name", p.CursorName}, {"items_field", p.ItemsField}} {
		if pr := controlProblem("paging."+f.key, f.v); pr != "" {
			probs = append(probs, pr)
		}
	}
	if p.Scheme == PagingCursor && p.CursorIn == CursorInHeader && p.CursorName != "" && !headerNameRE.MatchString(p.CursorName) {
		probs = append(probs, fmt.Sprintf("paging.cursor_name %q is not a valid HTTP header name; give the name of the header holding the next cursor, e.g. \"X-Next-Cursor\"", p.CursorName))
	}
	return probs
}

var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func checkWebhook(w WebhookFormat) []string {
	var probs []string
	for _, h := range []struct{ key, v string }{{"signature_header", w.SignatureHeader}, {"timestamp_header", w.TimestampHeader}} {
		if !headerNameRE.MatchString(h.v) {
			probs = append(probs, fmt.Sprintf("%s %q is not a valid HTTP header name", h.key, h.v))
		}
	}
	if len(probs) == 0 && http.CanonicalHeaderKey(w.SignatureHeader) == http.CanonicalHeaderKey(w.TimestampHeader) {
		// One header cannot carry both, so every webhook would be refused.
		probs = append(probs, fmt.Sprintf("signature_header and timestamp_header are the same header (%s); give each its own header name", http.CanonicalHeaderKey(w.SignatureHeader)))
	}
	if p := controlProblem("source", w.Source); p != "" {
		probs = append(probs, p)
	}
	return probs
}

// The routes file format (TOML). Pointer fields tell "not given" from zero.
type routesFile struct {
	Routes  map[string]routeOverride `toml:"routes"`
	Webhook *webhookOverride         `toml:"webhook"`
}

type routeOverride struct {
	Method   *string           `toml:"method"`
	Path     *string           `toml:"path"`
	ParamsIn *string           `toml:"params_in"`
	Params   map[string]string `toml:"params"`
	Paging   *pagingOverride   `toml:"paging"`
	MaxBytes *int64            `toml:"max_bytes"`
	Assumed  *bool             `toml:"assumed"`
	Source   *string           `toml:"source"`
}

type pagingOverride struct {
	Scheme      *string `toml:"scheme"`
	PageParam   *string `toml:"page_param"`
	SizeParam   *string `toml:"size_param"`
	FirstPage   *int    `toml:"first_page"`
	PageSize    *int    `toml:"page_size"`
	MaxPageSize *int    `toml:"max_page_size"`
	CursorIn    *string `toml:"cursor_in"`
	CursorName  *string `toml:"cursor_name"`
	ItemsField  *string `toml:"items_field"`
}

type webhookOverride struct {
	SignatureHeader *string `toml:"signature_header"`
	TimestampHeader *string `toml:"timestamp_header"`
	Assumed         *bool   `toml:"assumed"`
	Source          *string `toml:"source"`
}

// MaxRoutesFileProblems is how many problems a [RoutesFileError] keeps;
// the rest are only counted, so a file full of mistakes gives an error a
// person can read rather than one as large as the file.
const MaxRoutesFileProblems = 20

// MaxRoutesFileSize is the largest routes file read. A file overriding
// every route is a few kilobytes.
const MaxRoutesFileSize = 64 << 10

// RoutesFileError lists what is wrong with a routes file.
type RoutesFileError struct {
	// File is the routes file as the caller named it.
	File string
	// Problems each name the entry and what to fix: the first
	// MaxRoutesFileProblems of them.
	Problems []string
	// More counts the problems found beyond those in Problems.
	More int
}

// Error names the file and lists the problems, one per line.
func (e *RoutesFileError) Error() string {
	if len(e.Problems) == 1 && e.More == 0 {
		return fmt.Sprintf("activedemand: routes file %s: %s", e.File, e.Problems[0])
	}
	msg := fmt.Sprintf("activedemand: routes file %s has %d problems:\n  %s", e.File, len(e.Problems)+e.More, strings.Join(e.Problems, "\n  "))
	if e.More > 0 {
		msg += fmt.Sprintf("\n  … and %d more; fix these and load the file again to see the rest", e.More)
	}
	return msg
}

// problems collects a file's problems, keeping the first
// MaxRoutesFileProblems and counting the rest.
type problems struct {
	list []string
	more int
}

func (p *problems) full() bool { return len(p.list) >= MaxRoutesFileProblems }

// maxProblemLen bounds one problem's text; a problem quotes the value
// at fault, which may be as long as the file.
const maxProblemLen = 400

func (p *problems) add(s ...string) {
	for _, x := range s {
		if p.full() {
			p.more++
			continue
		}
		p.list = append(p.list, truncate(x, maxProblemLen))
	}
}

// LoadRoutes reads a routes file (TOML, see the README section "ActiveDEMAND endpoints") and returns the
// built-in table with the file's entries merged over it: only the fields a
// file entry gives change. Unknown route names or fields, bad methods,
// paths missing required placeholders and unknown paging schemes are
// rejected with a [*RoutesFileError] naming the file and every entry.
func LoadRoutes(path string) (Routes, error) {
	f, err := os.Open(path) // #nosec G304 -- the routes file the user configured
	if err != nil {
		return Routes{}, fmt.Errorf("activedemand: read routes file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRoutesFileSize+1))
	if err != nil {
		return Routes{}, fmt.Errorf("activedemand: read routes file %s: %w", path, err)
	}
	return ParseRoutes(path, data)
}

// ParseRoutes is LoadRoutes for a file already read; name is used in
// errors and as the Origin of the entries it changes.
func ParseRoutes(name string, data []byte) (Routes, error) {
	if len(data) > MaxRoutesFileSize {
		return Routes{}, &RoutesFileError{File: name, Problems: []string{fmt.Sprintf(
			"the file is larger than %d KiB; a routes file holds only the entries that differ from the default table (a few KiB at most), so check that this is the right file", MaxRoutesFileSize>>10)}}
	}
	var f routesFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return Routes{}, &RoutesFileError{File: name, Problems: []string{truncate(fmt.Sprintf("line %d: %s", perr.Position.Line, perr.Message), maxProblemLen)}}
		}
		return Routes{}, &RoutesFileError{File: name, Problems: []string{truncate(err.Error(), maxProblemLen)}}
	}
	var probs problems
	for _, k := range md.Undecoded() {
		if probs.full() {
			probs.more++
			continue
		}
		probs.add(unknownKeyProblem(k))
	}
	out := DefaultRoutes()
	origin := filepath.Base(name)
	for _, rname := range slices.Sorted(maps.Keys(f.Routes)) {
		o := f.Routes[rname]
		s, ok := specFor(rname)
		if !ok {
			if probs.full() {
				probs.more++
				continue
			}
			probs.add(fmt.Sprintf("[routes.%q]: there is no route %q; the routes are %s", truncate(rname, 60), truncate(rname, 60), strings.Join(out.Names(), ", ")))
			continue
		}
		rt := o.apply(out.m[rname])
		if o.Source == nil {
			rt.Source = "set in the routes file (was: " + rt.Source + ")"
		}
		rt.Origin = origin
		for _, p := range s.check(rt) {
			probs.add(fmt.Sprintf("[routes.%q]: %s", rname, p))
		}
		out.m[rname] = rt
	}
	if w := f.Webhook; w != nil {
		wf := out.webhook
		setStr(&wf.SignatureHeader, w.SignatureHeader)
		setStr(&wf.TimestampHeader, w.TimestampHeader)
		if w.Assumed != nil {
			wf.Assumed = *w.Assumed
		}
		setStr(&wf.Source, w.Source)
		wf.Origin = origin
		for _, p := range checkWebhook(wf) {
			probs.add("[webhook]: " + p)
		}
		out.webhook = wf
	}
	if len(probs.list) > 0 {
		return Routes{}, &RoutesFileError{File: name, Problems: probs.list, More: probs.more}
	}
	return out, nil
}

func unknownKeyProblem(k toml.Key) string {
	// Names are cut short: the error is read by a person, whatever the
	// file holds.
	if len(k) >= 3 && k[0] == "routes" {
		field := strings.Join(k[2:], ".")
		return fmt.Sprintf("[routes.%q]: unknown field %q; fields are method, path, params_in, params, max_bytes, paging (scheme, page_param, size_param, first_page, page_size, max_page_size, cursor_in, cursor_name, items_field), assumed, source", truncate(k[1], 60), truncate(field, 60))
	}
	if len(k) >= 2 && k[0] == "webhook" {
		return fmt.Sprintf("[webhook]: unknown field %q; fields are signature_header, timestamp_header, assumed, source", truncate(strings.Join(k[1:], "."), 60))
	}
	return fmt.Sprintf("unknown key %q; the file has [routes.\"<name>\"] tables and one [webhook] table", truncate(k.String(), 60))
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func (o routeOverride) apply(rt Route) Route {
	if o.Method != nil {
		rt.Method = strings.ToUpper(strings.TrimSpace(*o.Method))
	}
	setStr(&rt.Path, o.Path)
	setStr(&rt.ParamsIn, o.ParamsIn)
	if o.MaxBytes != nil {
		rt.MaxBytes = *o.MaxBytes
	}
	if o.Params != nil {
		if rt.Params == nil {
			rt.Params = map[string]string{}
		}
		maps.Copy(rt.Params, o.Params)
	}
	if o.Path != nil {
		// An argument moved into the path no longer travels as a parameter.
		for _, p := range placeholders(rt.Path) {
			if _, given := o.Params[p]; !given {
				delete(rt.Params, p)
			}
		}
	}
	if p := o.Paging; p != nil {
		if p.Scheme != nil {
			rt.Paging.Scheme = PagingScheme(*p.Scheme)
		}
		setStr(&rt.Paging.PageParam, p.PageParam)
		setStr(&rt.Paging.SizeParam, p.SizeParam)
		setInt(&rt.Paging.FirstPage, p.FirstPage)
		setInt(&rt.Paging.PageSize, p.PageSize)
		setInt(&rt.Paging.MaxPageSize, p.MaxPageSize)
		setStr(&rt.Paging.CursorIn, p.CursorIn)
		setStr(&rt.Paging.CursorName, p.CursorName)
		setStr(&rt.Paging.ItemsField, p.ItemsField)
		if rt.Paging.PageSize == 0 && rt.Paging.Scheme != PagingNone {
			rt.Paging.PageSize = defaultPageSize
		}
	}
	if o.Assumed != nil {
		rt.Assumed = *o.Assumed
		rt.PagingAssumed = rt.PagingAssumed && *o.Assumed
	}
	setStr(&rt.Source, o.Source)
	return rt
}

// Describe renders one paging setup in a line, for the table and errors.
func (p Paging) Describe() string {
	size := ""
	if p.SizeParam != "" {
		size = fmt.Sprintf(", %s=%d", p.SizeParam, p.PageSize)
		if p.MaxPageSize > 0 {
			size += fmt.Sprintf(" (max %d)", p.MaxPageSize)
		}
	}
	items := ""
	if p.ItemsField != "" {
		items = fmt.Sprintf(", list in field %q", p.ItemsField)
	}
	switch p.Scheme {
	case PagingPage:
		return fmt.Sprintf("page: %s from %d%s%s, empty page ends", p.PageParam, p.FirstPage, size, items)
	case PagingOffset:
		return fmt.Sprintf("offset: %s from 0%s%s, empty page ends", p.PageParam, size, items)
	case PagingCursor:
		return fmt.Sprintf("cursor: next from %s %q, sent as %s%s%s", p.CursorIn, p.CursorName, p.PageParam, size, items)
	default:
		if p.ItemsField != "" {
			return "none" + items
		}
		return "none"
	}
}

// Render returns the effective table as aligned text: one line per route
// with method, path, parameters, paging, whether it is known or assumed,
// and its source; then the webhook signature headers.
func (r Routes) Render() string {
	r = r.orDefault()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tMETHOD\tPATH\tPARAMETERS\tPAGING\tSTATUS\tSOURCE")
	for _, name := range r.Names() {
		rt := r.m[name]
		var params []string
		for _, k := range slices.Sorted(maps.Keys(rt.Params)) {
			params = append(params, k+"="+rt.Params[k])
		}
		p := "-"
		if len(params) > 0 {
			p = strings.Join(params, " ") + " (" + rt.ParamsIn + ")"
		}
		if name == RouteMediaDownload {
			limit := rt.MaxBytes
			if limit <= 0 {
				limit = DefaultMaxMediaBytes
			}
			p = fmt.Sprintf("max_bytes=%d", limit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, rt.Method, rt.Path, p, rt.Paging.Describe(), status(rt.Assumed, rt.PagingAssumed, rt.Origin), rt.Source)
	}
	w := r.webhook
	fmt.Fprintf(tw, "webhook\tPOST\t(receiver)\tsignature=%s timestamp=%s\t-\t%s\t%s\n", w.SignatureHeader, w.TimestampHeader, status(w.Assumed, false, w.Origin), w.Source)
	_ = tw.Flush()
	return b.String()
}

func status(assumed, pagingAssumed bool, origin string) string {
	s := "known"
	switch {
	case assumed:
		s = "ASSUMED"
	case pagingAssumed:
		s = "known, paging ASSUMED"
	}
	if origin != "" {
		s += ", overridden in " + origin
	}
	return s
}
