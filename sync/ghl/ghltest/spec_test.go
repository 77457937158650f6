package ghltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func TestSpecLoadsAndValidatesWithPatches(t *testing.T) {
	sp, err := loadSpecs(context.Background(), loadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range specFileNames() {
		if err := sp.docs[name].Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Every patch names an ERRATA item and a file that exists.
	for _, p := range specPatches() {
		if p.errata == "" || p.name == "" || sp.docs[p.file] == nil {
			t.Errorf("patch %+v is incomplete", p)
		}
	}
}

func specRequest(method, target, body, contentType string, headers ...string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// validateWith validates a request the way kin-openapi does by default
// (defaults applied), without authentication.
func validateWith(sp *specs, req *http.Request) error {
	route, params, err := sp.findRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	})
}

func validateAnswerWith(sp *specs, req *http.Request, status int, contentType string, body []byte) error {
	route, params, err := sp.findRoute(req)
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 http.Header{"Content-Type": {contentType}},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func validateDocs(sp *specs) error {
	var errs []error
	for _, name := range specFileNames() {
		if err := sp.docs[name].Validate(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// TestEachPatchIsStillNeeded loads the spec without one patch at a time and
// shows the ERRATA failure comes back, so a patch made obsolete upstream is
// noticed. check returns nil when the spec behaves as the sandbox needs.
func TestEachPatchIsStillNeeded(t *testing.T) {
	const v = "Version"
	smsSend := `{"type":"SMS","contactId":"c1","message":"hi"}`
	upload := newMultipart(t, map[string]string{"conversationId": "v", "contactId": "c", "locationId": "l"}, map[string][]byte{"a.txt": []byte("hello")})
	cases := []struct {
		errata string
		patch  string // "" = the example stripping done while loading
		check  func(sp *specs) error
	}{
		{"1", "", validateDocs},
		{"12", "http-security-schemes", validateDocs},
		{"12", "media-response-headers", validateDocs},
		{"12", "undeclared-message-id-params", validateDocs},
		{"12", "undeclared-bulk-tags-type-param", validateDocs},
		{"12", "start-after-date-number", func(sp *specs) error {
			if err := validateDocs(sp); err != nil {
				return err
			}
			return validateWith(sp, specRequest("GET", "/conversations/search?locationId=l&startAfterDate=1700000000000", "", "", v, versionConversations))
		}},
		{"4", "inbound-direction-string", func(sp *specs) error {
			if err := validateDocs(sp); err != nil {
				return err
			}
			body := `{"type":"SMS","conversationId":"v","contactId":"c","conversationProviderId":"p","message":"hi","direction":"inbound"}`
			return validateWith(sp, specRequest("POST", "/conversations/messages/inbound", body, "application/json", v, versionConversations))
		}},
		{"5", "send-subtype-optional-string", func(sp *specs) error {
			return validateWith(sp, specRequest("POST", "/conversations/messages", smsSend, "application/json", v, versionConversations))
		}},
		{"6", "upload-file-part", func(sp *specs) error {
			return validateWith(sp, specRequest("POST", "/conversations/messages/upload", string(upload.data), upload.contentType, v, versionConversations))
		}},
		{"7", "media-content-types", func(sp *specs) error {
			req := specRequest("GET", "/conversations/messages/m/locations/l/recording", "", "", v, versionConversations)
			if err := validateAnswerWith(sp, req, 200, "application/json", []byte(`{"not":"audio"}`)); err == nil {
				return errors.New("a JSON answer passes as the recording")
			}
			return nil
		}},
		{"10", "sdk-version-header", func(sp *specs) error {
			return validateWith(sp, specRequest("GET", "/conversations/abc", "", "", v, sdkVersion))
		}},
		{"13", "transcription-array", func(sp *specs) error {
			req := specRequest("GET", "/conversations/locations/l/messages/m/transcription", "", "", v, versionConversations)
			body := []byte(`[{"mediaChannel":1,"sentenceIndex":0,"startTime":400,"endTime":2000,"transcript":"Hello","confidence":0.9}]`)
			return validateAnswerWith(sp, req, 200, "application/json", body)
		}},
		{"15", "missing-security-and-version", func(sp *specs) error {
			req := specRequest("GET", "/conversations/messages/email/e1", "", "")
			route, _, err := sp.findRoute(req)
			if err != nil {
				return err
			}
			if len(requiredScopes(route.Operation)) == 0 {
				return errors.New("GET /conversations/messages/email/{id} requires no scope")
			}
			if validateWith(sp, req) == nil {
				return errors.New("a request without Version passes")
			}
			return nil
		}},
		{"16", "message-type-filter-list", func(sp *specs) error {
			return validateWith(sp, specRequest("GET", "/conversations/c/messages?type=TYPE_SMS,TYPE_CALL", "", "", v, versionConversations))
		}},
		{"18", "search-result-optional-last-message", func(sp *specs) error {
			req := specRequest("GET", "/conversations/search?locationId=l", "", "", v, versionConversations)
			body := []byte(`{"total":1,"conversations":[{"id":"v","contactId":"c","locationId":"l","type":"TYPE_PHONE","unreadCount":0,"fullName":"A B","contactName":"A B","email":"a@b.c","phone":"+1"}]}`)
			return validateAnswerWith(sp, req, 200, "application/json", body)
		}},
	}
	for _, tc := range cases {
		t.Run("ERRATA "+tc.errata+" "+tc.patch, func(t *testing.T) {
			t.Parallel() // each case loads the spec again: use both cores
			full, err := sharedSpecs()
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(full); err != nil {
				t.Fatalf("with every patch: %v", err)
			}
			lo := loadOptions{noValidate: true, skipPatches: map[string]bool{tc.patch: true}}
			if tc.patch == "" {
				lo.skipStrip = true
			}
			without, err := loadSpecs(context.Background(), lo)
			if err != nil {
				t.Logf("without the patch the spec does not load: %v", firstLine(err))
				return
			}
			err = tc.check(without)
			if err == nil {
				t.Fatalf("without patch %q the spec behaves correctly: the patch is obsolete", tc.patch)
			}
			t.Logf("without the patch: %v", firstLine(err))
		})
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func TestStripExamplesKeepsPropertyNames(t *testing.T) {
	in := []byte(`{"properties":{"example":{"type":"string","example":"x"},"a":{"examples":{"k":1}}},"example":1}`)
	out, err := stripExamples(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{"a":{},"example":{"type":"string"}}}`
	if !bytes.Equal(out, []byte(want)) {
		t.Fatalf("got %s, want %s", out, want)
	}
}
