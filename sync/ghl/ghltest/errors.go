package ghltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// GHL's messages for authentication and authorization failures.
const (
	// msgInvalidJWT is what GHL answers for an unknown token and, as widely
	// reported, for an expired one too; the sandbox uses it for both.
	msgInvalidJWT  = "Invalid JWT"
	msgNoToken     = "Unauthorized, the request has no bearer token"
	msgWrongScope  = "The token is not authorized for this scope."
	msgWrongLoc    = "The token does not have access to this location."
	msgTooManyReqs = "Too Many Requests"
	maxUploadBody  = 16 << 20 // bytes read from an upload request at most
	maxUploadFile  = 5 << 20  // the documented limit for non-WhatsApp files
	filesPrefix    = "/files/"
)

// errorText is the `error` field of NestJS-style error bodies.
func errorText(status int) string {
	switch status {
	case http.StatusUnprocessableEntity:
		return "Unprocessable Entity"
	case http.StatusTooManyRequests:
		return msgTooManyReqs
	}
	return http.StatusText(status)
}

// apiError is GHL's error body: BadRequestDTO / UnauthorizedDTO (message a
// string) or UnprocessableDTO (message a list of field messages).
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"`
	Error      string `json:"error,omitempty"`
}

func errorBody(status int, msg string) apiError {
	return apiError{StatusCode: status, Message: msg, Error: errorText(status)}
}

// uploadErrorBody is UploadFilesErrorResponseDto.
type uploadErrorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func uploadError(status int, msg string) uploadErrorBody {
	return uploadErrorBody{Status: status, Message: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		// Every value written is built by the sandbox; failing to encode one is
		// a sandbox bug, reported as GHL would report its own.
		status = http.StatusInternalServerError
		data = []byte(`{"statusCode":500,"message":"Internal server error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// validationFailure turns a validator error into GHL's answer: 400 with one
// message for a bad parameter or an unreadable body, 422 with every field
// message for a body that does not match its schema. The third result is
// the reason recorded in Rejections.
func validationFailure(err error) (int, any, string) {
	var params, fields, other []string
	for _, e := range flatten(err) {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			other = append(other, e.Error())
			continue
		}
		switch {
		case re.Parameter != nil:
			params = append(params, paramMessage(re))
		case re.RequestBody != nil:
			msgs, isSchema := bodyMessages(re)
			if isSchema {
				fields = append(fields, msgs...)
			} else {
				other = append(other, msgs...)
			}
		default:
			other = append(other, re.Error())
		}
	}
	switch {
	case len(params) > 0 || len(other) > 0:
		msg := strings.Join(append(params, other...), "; ")
		return http.StatusBadRequest, errorBody(http.StatusBadRequest, msg), msg
	case len(fields) > 0:
		return http.StatusUnprocessableEntity, apiError{StatusCode: http.StatusUnprocessableEntity, Message: fields, Error: errorText(http.StatusUnprocessableEntity)}, strings.Join(fields, "; ")
	}
	return http.StatusBadRequest, errorBody(http.StatusBadRequest, err.Error()), err.Error()
}

// flatten splits multi-errors (only at the top: a RequestError wrapping a
// MultiError of schema errors stays one RequestError).
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func paramMessage(re *openapi3filter.RequestError) string {
	p := re.Parameter
	reason := re.Reason
	if re.Err != nil {
		var se *openapi3.SchemaError
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			reason = "is required"
		case errors.As(re.Err, &se):
			reason = se.Reason
		case reason == "":
			reason = re.Err.Error()
		default:
			reason += ": " + re.Err.Error()
		}
	}
	return fmt.Sprintf("%s %s %s", p.In, p.Name, reason)
}

// bodyMessages lists field messages like GHL's ("contactId is required");
// the boolean is false when the body could not be read as the declared
// media type at all.
func bodyMessages(re *openapi3filter.RequestError) ([]string, bool) {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return []string{"request body is required"}, true
	}
	var schemaErrs []*openapi3.SchemaError
	inner := re.Err
	var me openapi3.MultiError
	if errors.As(inner, &me) {
		inner = me
	}
	for _, e := range flatten(inner) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			schemaErrs = append(schemaErrs, se)
		}
	}
	if len(schemaErrs) == 0 {
		msg := "request body " + re.Reason
		if re.Err != nil {
			msg += ": " + re.Err.Error()
		}
		return []string{msg}, false
	}
	var msgs []string
	for _, se := range schemaErrs {
		field := strings.Join(se.JSONPointer(), ".")
		switch {
		case se.SchemaField == "required" && strings.HasPrefix(se.Reason, "property "):
			// "property \"x\" is missing" → "x is required" (class-validator style).
			name := strings.TrimSuffix(strings.TrimPrefix(se.Reason, "property \""), "\" is missing")
			if field != "" {
				name = field + "." + name
			}
			msgs = append(msgs, name+" is required")
		case se.SchemaField == "anyOf" && requiredAlternatives(se.Schema) != "":
			msgs = append(msgs, "one of "+requiredAlternatives(se.Schema)+" is required")
		case field == "":
			msgs = append(msgs, se.Reason)
		default:
			msgs = append(msgs, field+" "+se.Reason)
		}
	}
	return msgs, true
}

// requiredAlternatives names the fields of an anyOf whose branches each
// require one field ("fileAttachment or attachmentUrls"), or "".
func requiredAlternatives(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	var names []string
	for _, alt := range s.AnyOf {
		if alt.Value == nil || len(alt.Value.Required) != 1 {
			return ""
		}
		names = append(names, alt.Value.Required[0])
	}
	return strings.Join(names, " or ")
}
