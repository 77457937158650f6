package ghltest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// This file is the one place where the sandbox departs from the official
// spec files. Each patch names the ERRATA.md item it answers and says what
// the upstream file says; none of them switches validation off. loadSpecs
// applies them in this order after loading and before doc.Validate.

// specPatch is one correction of one spec file.
type specPatch struct {
	name   string // stable, so tests can leave one out
	errata string // item number in openapi/ERRATA.md
	file   string
	apply  func(doc *openapi3.T) error
}

// sdkVersion is the Version header the official SDK sends on every call
// (ERRATA 10); the live API therefore accepts it besides the documented one.
const sdkVersion = "2023-02-21"

// The documented Version header value of each file (ERRATA 9).
const (
	versionConversations = "2021-04-15"
	versionContacts      = "2021-07-28"
)

func specPatches() []specPatch {
	var ps []specPatch
	for _, f := range specFileNames() {
		ps = append(ps, specPatch{"http-security-schemes", "12", f, patchHTTPSecuritySchemes})
	}
	ps = append(ps,
		specPatch{"media-response-headers", "12", fileConversations, patchMediaResponseHeaders},
		specPatch{"undeclared-message-id-params", "12", fileConversations, patchUndeclaredMessageIDParams},
		specPatch{"undeclared-bulk-tags-type-param", "12", fileContacts, patchUndeclaredBulkTagsTypeParam},
		specPatch{"start-after-date-number", "12", fileConversations, patchStartAfterDateNumber},
		specPatch{"inbound-direction-string", "4", fileConversations, patchInboundDirectionString},
		specPatch{"send-subtype-optional-string", "5", fileConversations, patchSendSubTypeOptionalString},
		specPatch{"upload-file-part", "6", fileConversations, patchUploadFilePart},
		specPatch{"media-content-types", "7", fileConversations, patchMediaContentTypes},
		specPatch{"transcription-array", "13", fileConversations, patchTranscriptionArray},
		specPatch{"message-type-filter-list", "16", fileConversations, patchMessageTypeFilterList},
		specPatch{"search-result-optional-last-message", "18", fileConversations, patchSearchResultOptionalLastMessage},
		specPatch{"missing-security-and-version", "15", fileConversations, patchMissingSecurityAndVersion(versionConversations)},
		specPatch{"missing-security-and-version", "15", fileContacts, patchMissingSecurityAndVersion(versionContacts)},
	)
	// Last, so it also covers the Version parameters patch 15 adds.
	for _, f := range []string{fileConversations, fileContacts} {
		ps = append(ps, specPatch{"sdk-version-header", "10", f, patchSDKVersionHeader})
	}
	return ps
}

// ERRATA 12: every security scheme is `type: http, scheme: bearer` but also
// carries `name: Authorization, in: header`, which only apiKey schemes may
// have; doc.Validate refuses the whole file.
func patchHTTPSecuritySchemes(doc *openapi3.T) error {
	if doc.Components == nil || len(doc.Components.SecuritySchemes) == 0 {
		return fmt.Errorf("no security schemes")
	}
	for _, ref := range doc.Components.SecuritySchemes {
		if s := ref.Value; s != nil && s.Type == "http" {
			s.Name, s.In = "", ""
		}
	}
	return nil
}

// ERRATA 12: the 200 responses of the recording and transcription-download
// endpoints declare `Content-Type` and `Content-Disposition` headers as empty
// objects, without the schema a header must have.
func patchMediaResponseHeaders(doc *openapi3.T) error {
	for _, p := range []string{
		"/conversations/messages/{messageId}/locations/{locationId}/recording",
		"/conversations/locations/{locationId}/messages/{messageId}/transcription/download",
	} {
		op, err := operation(doc, http.MethodGet, p)
		if err != nil {
			return err
		}
		resp := op.Responses.Status(http.StatusOK)
		if resp == nil || resp.Value == nil {
			return fmt.Errorf("%s: no 200 response", p)
		}
		for name, h := range resp.Value.Headers {
			if h.Value != nil && h.Value.Schema == nil && len(h.Value.Content) == 0 {
				h.Value.Schema = openapi3.NewStringSchema().NewRef()
			} else if h.Value == nil {
				return fmt.Errorf("%s: header %s has no value", p, name)
			}
		}
	}
	return nil
}

// ERRATA 12: GET /conversations/messages/{id} and GET
// /conversations/messages/email/{id} use {id} in the path without declaring it.
func patchUndeclaredMessageIDParams(doc *openapi3.T) error {
	for _, p := range []string{"/conversations/messages/{id}", "/conversations/messages/email/{id}"} {
		if err := declarePathParam(doc, http.MethodGet, p, "id"); err != nil {
			return err
		}
	}
	return nil
}

// ERRATA 12: POST /contacts/bulk/tags/update/{type} uses {type} without
// declaring it.
func patchUndeclaredBulkTagsTypeParam(doc *openapi3.T) error {
	return declarePathParam(doc, http.MethodPost, "/contacts/bulk/tags/update/{type}", "type")
}

// ERRATA 12: `startAfterDate` of GET /conversations/search has the schema
// `type: "any"` (not a type) and, beside it on the parameter itself, an anyOf
// of two object schemas, a keyword parameters cannot have. The value the API
// pages with is the last result's sort value, epoch milliseconds: a number.
func patchStartAfterDateNumber(doc *openapi3.T) error {
	op, err := operation(doc, http.MethodGet, "/conversations/search")
	if err != nil {
		return err
	}
	p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "startAfterDate")
	if p == nil {
		return fmt.Errorf("no startAfterDate parameter")
	}
	if _, ok := p.Extensions["anyOf"]; !ok {
		return fmt.Errorf("startAfterDate has no stray anyOf; check whether the patch is still needed")
	}
	delete(p.Extensions, "anyOf")
	p.Schema = openapi3.NewFloat64Schema().NewRef()
	return nil
}

// ERRATA 4: ProcessMessageBodyDto.direction is `type: object` with
// `default: "outbound"`, so no value (and not even the default) is valid.
// The field is the string "inbound" or "outbound".
func patchInboundDirectionString(doc *openapi3.T) error {
	s, err := componentSchema(doc, "ProcessMessageBodyDto")
	if err != nil {
		return err
	}
	dir := s.Properties["direction"]
	if dir == nil || dir.Value == nil {
		return fmt.Errorf("ProcessMessageBodyDto has no direction")
	}
	patched := openapi3.NewStringSchema().WithEnum("inbound", "outbound")
	patched.Default = "outbound"
	patched.Description = dir.Value.Description
	s.Properties["direction"] = patched.NewRef()
	return nil
}

// ERRATA 5: SendMessageBodyDto types subType as `object` (its example is the
// string "Email") and requires subType and status, so a plain SMS send is
// invalid. subType becomes a string. The sandbox's choice, since the live
// API's behaviour is unknown: neither subType nor status is required.
func patchSendSubTypeOptionalString(doc *openapi3.T) error {
	s, err := componentSchema(doc, "SendMessageBodyDto")
	if err != nil {
		return err
	}
	sub := s.Properties["subType"]
	if sub == nil || sub.Value == nil {
		return fmt.Errorf("SendMessageBodyDto has no subType")
	}
	patched := openapi3.NewStringSchema()
	patched.Description = sub.Value.Description
	s.Properties["subType"] = patched.NewRef()
	s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "subType" || r == "status" })
	return nil
}

// ERRATA 6: UploadFilesDto (the multipart body of the upload endpoint) has no
// property for the file itself and requires attachmentUrls. The public docs
// name the file part `fileAttachment`; either files or attachmentUrls must
// be sent.
func patchUploadFilePart(doc *openapi3.T) error {
	s, err := componentSchema(doc, "UploadFilesDto")
	if err != nil {
		return err
	}
	file := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema().WithFormat("binary"))
	file.Description = "The files to upload (one part per file)."
	s.Properties["fileAttachment"] = file.NewRef()
	s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "attachmentUrls" })
	s.AnyOf = openapi3.SchemaRefs{
		(&openapi3.Schema{Required: []string{"fileAttachment"}}).NewRef(),
		(&openapi3.Schema{Required: []string{"attachmentUrls"}}).NewRef(),
	}
	return nil
}

// ERRATA 7: the recording and transcription-download 200 responses declare
// no content at all; the live API answers audio/x-wav bytes and plain text.
// Declaring them lets the sandbox's own tests validate those answers too.
func patchMediaContentTypes(doc *openapi3.T) error {
	for p, ct := range map[string]string{
		"/conversations/messages/{messageId}/locations/{locationId}/recording":              "audio/x-wav",
		"/conversations/locations/{locationId}/messages/{messageId}/transcription/download": "text/plain",
	} {
		op, err := operation(doc, http.MethodGet, p)
		if err != nil {
			return err
		}
		resp := op.Responses.Status(http.StatusOK)
		if resp == nil || resp.Value == nil {
			return fmt.Errorf("%s: no 200 response", p)
		}
		if len(resp.Value.Content) > 0 {
			return fmt.Errorf("%s: 200 already has content; the patch is obsolete", p)
		}
		resp.Value.Content = openapi3.NewContentWithSchema(openapi3.NewStringSchema().WithFormat("binary"), []string{ct})
	}
	return nil
}

// ERRATA 13: the transcription endpoint's 200 is one
// GetMessageTranscriptionResponseDto; the endpoint returns an array of them,
// one per sentence.
func patchTranscriptionArray(doc *openapi3.T) error {
	op, err := operation(doc, http.MethodGet, "/conversations/locations/{locationId}/messages/{messageId}/transcription")
	if err != nil {
		return err
	}
	resp := op.Responses.Status(http.StatusOK)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("transcription: no 200 response")
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return fmt.Errorf("transcription: no JSON schema")
	}
	if mt.Schema.Value != nil && mt.Schema.Value.Type.Is("array") {
		return fmt.Errorf("transcription: already an array; the patch is obsolete")
	}
	arr := openapi3.NewArraySchema()
	arr.Items = mt.Schema
	mt.Schema = arr.NewRef()
	return nil
}

// ERRATA 16: the message list's `type` filter has the example
// "TYPE_SMS,TYPE_CALL" but a single-value enum schema, and the enum says
// TYPE_INTERNAL_COMMENTS where every other enum says TYPE_INTERNAL_COMMENT.
// It becomes a comma-separated list (form style, not exploded) accepting both
// spellings.
func patchMessageTypeFilterList(doc *openapi3.T) error {
	op, err := operation(doc, http.MethodGet, "/conversations/{conversationId}/messages")
	if err != nil {
		return err
	}
	p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "type")
	if p == nil || p.Schema == nil || p.Schema.Value == nil {
		return fmt.Errorf("no type parameter")
	}
	enum := slices.Clone(p.Schema.Value.Enum)
	if !slices.Contains(enum, any("TYPE_INTERNAL_COMMENT")) {
		enum = append(enum, "TYPE_INTERNAL_COMMENT")
	}
	item := openapi3.NewStringSchema()
	item.Enum = enum
	p.Schema = openapi3.NewArraySchema().WithItems(item).NewRef()
	explode := false
	p.Style, p.Explode = openapi3.SerializationForm, &explode
	return nil
}

// ERRATA 18: search results (ConversationSchema) require lastMessageBody and
// lastMessageType, so a conversation without messages cannot be listed. The
// sandbox omits both for such conversations.
func patchSearchResultOptionalLastMessage(doc *openapi3.T) error {
	s, err := componentSchema(doc, "ConversationSchema")
	if err != nil {
		return err
	}
	before := len(s.Required)
	s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "lastMessageBody" || r == "lastMessageType" })
	if len(s.Required) != before-2 {
		return fmt.Errorf("ConversationSchema no longer requires both fields; the patch is obsolete")
	}
	return nil
}

// ERRATA 15: some operations declare neither security nor the Version header
// (GET /conversations/messages/email/{id}, DELETE
// /conversations/messages/email/{emailMessageId}/schedule, the preferences
// and bulk endpoints), though the API requires both everywhere. They get a
// bearer requirement with the scope their neighbours use and the file's
// Version header.
func patchMissingSecurityAndVersion(version string) func(doc *openapi3.T) error {
	return func(doc *openapi3.T) error {
		n := 0
		for p, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.Security == nil {
					op.Security = &openapi3.SecurityRequirements{{"bearer": {scopeFor(method, p)}}}
					n++
				}
				if op.Parameters.GetByInAndName(openapi3.ParameterInHeader, "Version") == nil {
					v := openapi3.NewStringSchema().WithEnum(version)
					op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewHeaderParameter("Version").WithRequired(true).WithSchema(v)})
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("every operation declares security; the patch is obsolete")
		}
		return nil
	}
}

// scopeFor is the scope an operation without declared security needs,
// following the documented operations next to it.
func scopeFor(method, p string) string {
	family := "contacts"
	switch {
	case strings.HasPrefix(p, "/conversations/messages"):
		family = "conversations/message"
	case strings.HasPrefix(p, "/conversations"):
		family = "conversations"
	}
	if method == http.MethodGet {
		return family + ".readonly"
	}
	return family + ".write"
}

// ERRATA 10: each file's Version header enumerates one value, but the official
// SDK sends 2023-02-21 on every call, so the live API accepts that too.
func patchSDKVersionHeader(doc *openapi3.T) error {
	n := 0
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			p := op.Parameters.GetByInAndName(openapi3.ParameterInHeader, "Version")
			if p == nil || p.Schema == nil || p.Schema.Value == nil {
				continue
			}
			if !slices.Contains(p.Schema.Value.Enum, any(sdkVersion)) {
				p.Schema.Value.Enum = append(p.Schema.Value.Enum, sdkVersion)
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("no Version header to extend")
	}
	return nil
}

func operation(doc *openapi3.T, method, p string) (*openapi3.Operation, error) {
	item := doc.Paths.Value(p)
	if item == nil {
		return nil, fmt.Errorf("no path %s", p)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("no operation %s %s", method, p)
	}
	return op, nil
}

func componentSchema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("no schema %s", name)
	}
	return ref.Value, nil
}

func declarePathParam(doc *openapi3.T, method, p, name string) error {
	op, err := operation(doc, method, p)
	if err != nil {
		return err
	}
	if op.Parameters.GetByInAndName(openapi3.ParameterInPath, name) != nil {
		return fmt.Errorf("%s %s already declares %s; the patch is obsolete", method, p, name)
	}
	op.Parameters = append(op.Parameters, &openapi3.ParameterRef{
		Value: openapi3.NewPathParameter(name).WithSchema(openapi3.NewStringSchema()),
	})
	return nil
}
