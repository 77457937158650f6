package ghl

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// Every decoder of HighLevel's answers is fuzzed: whatever the body, it
// returns a value or an error (never panics), and its error becomes a
// DecodeError that formats.

// checkDecodeErr formats the error the way the client would report it.
func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil || errors.Is(err, ErrNotRecorded) {
		return
	}
	de := decodeFailure(&request{op: "ghl: fuzz", rt: routeGetMessage}, err)
	if de.Error() == "" || !errors.Is(de, ErrBadResponse) {
		t.Fatalf("decode error %v formats badly", err)
	}
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, ``, `null`, `{}`, `[]`, `{"a":`, `"x"`, `{"messages":{"messages":{"messages":[]}}}`) {
		f.Add([]byte(s))
	}
}

func FuzzDecodeMessages(f *testing.F) {
	addSeeds(f, listFlat, listWrapped, `{"messages":[{"id":"m","type":"TYPE_SMS","meta":{"callDuration":"1e3"}}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeMessages(data)
		checkDecodeErr(t, err)
		if err == nil {
			for _, m := range p.Messages {
				if m.ID == "" || m.Meta.CallDuration < 0 {
					t.Fatalf("accepted message %+v", m)
				}
			}
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	addSeeds(f, msgCall, msgSMS, msgEmail, `{"message":`+msgSMS+`,"traceId":"t"}`, `{"message":"text"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		checkDecodeErr(t, err)
		if err == nil && m.ID == "" {
			t.Fatal("accepted a message without id")
		}
	})
}

func FuzzDecodeConversation(f *testing.F) {
	addSeeds(f, convByID, convUpdate, `{"id":"c","type":"7","lastMessageDate":"1772366400000"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeConversation(data)
		checkDecodeErr(t, err)
		if err == nil && c.ID == "" {
			t.Fatal("accepted a conversation without id")
		}
	})
}

func FuzzDecodeSearch(f *testing.F) {
	addSeeds(f, searchBody, `{"conversations":[{"id":"c","sort":["1"]}],"total":"3"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeSearch(data)
		checkDecodeErr(t, err)
		if err == nil {
			for _, c := range p.Conversations {
				if c.ID == "" {
					t.Fatal("accepted a conversation without id")
				}
			}
		}
	})
}

func FuzzDecodeTranscription(f *testing.F) {
	addSeeds(f, transcript, `{"startTime":1,"endTime":2}`, `[{"startTime":"9","endTime":"1"}]`)
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := decodeTranscription(data)
		checkDecodeErr(t, err)
		for _, s := range ss {
			if s.Start < 0 || s.End < s.Start {
				t.Fatalf("accepted sentence %+v", s)
			}
		}
	})
}

func FuzzDecodeContact(f *testing.F) {
	addSeeds(f, contactBody, `{"contact":null,"new":"true"}`, `{"contact":{"id":"k","dnd":"false"}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, found, _, err := decodeContactAnswer(data)
		checkDecodeErr(t, err)
		if found && c.ID == "" {
			t.Fatal("found a contact without id")
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	addSeeds(f, recordAnswer, `{"success":true,"message":{"x":1},"messageId":"m"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		checkDecodeErr(t, err)
		if err == nil && r.MessageID == "" {
			t.Fatal("a record without message id succeeded")
		}
	})
}

func FuzzDecodeDelivery(f *testing.F) {
	addSeeds(f, deliveryAnswer, `{"messageIds":"m"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := decodeDelivery(data)
		checkDecodeErr(t, err)
	})
}

func FuzzDecodeUpload(f *testing.F) {
	addSeeds(f, uploadAnswer, `{"uploadedFiles":{"a":"u","b":"v"},"twilioMediaSids":["s"]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := decodeUpload(data)
		checkDecodeErr(t, err)
		if err == nil && len(u.URLs) == 0 {
			t.Fatal("an upload without URLs succeeded")
		}
	})
}

func FuzzDecodeSmall(f *testing.F) {
	addSeeds(f, `{"status":200,"message":"ok"}`, `{"status":"404","message":"gone"}`, `{"success":false}`, `{"success":"yes"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := decodeCancel(data)
		checkDecodeErr(t, err)
		_, err = decodeSuccess(data)
		checkDecodeErr(t, err)
	})
}

func FuzzParseErrorBody(f *testing.F) {
	addSeeds(f, `{"statusCode":422,"message":["a","b"],"error":"Unprocessable Entity","traceId":"t"}`,
		`{"error":"invalid_grant","error_description":"used"}`, `<html>`)
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, _ := parseErrorBody(nil, data)
		e := &APIError{Op: "ghl: fuzz", Method: "GET", Route: "/x", Status: 400, Messages: msgs}
		if e.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("100", "42", "10000", "199000", "3600000", "2")
	f.Add("", "", "", "", "", "Sun, 01 Mar 2026 12:00:07 GMT")
	f.Add("-1", "NaN", "1e400", "0", "x", "-3")
	f.Fuzz(func(t *testing.T, max, remaining, interval, daily, reset, retryAfter string) {
		h := http.Header{}
		h.Set("X-RateLimit-Max", max)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Interval-Milliseconds", interval)
		h.Set("X-RateLimit-Daily-Remaining", daily)
		h.Set("X-RateLimit-Daily-Reset", reset)
		h.Set("Retry-After", retryAfter)
		rh := parseRateHeaders(h)
		if rh.max < -1 || rh.remaining < -1 || rh.dailyRemaining < -1 || rh.interval < 0 || rh.dailyReset < 0 {
			t.Fatalf("parsed %+v", rh)
		}
		if ra := parseRetryAfter(h, time.Now()); ra < 0 {
			t.Fatalf("Retry-After %v", ra)
		}
		// The pacer takes whatever the headers say without panicking or
		// blocking forever.
		p := NewPacer(100, time.Second)
		p.observe("loc", h, 429, parseRetryAfter(h, time.Now()))
	})
}
