package routing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/store"
)

// FuzzCompileRule feeds a rule as the rules editor saves it (a name and a
// JSON body, any bytes at all) through FromRecord and Compile. Neither may
// panic; a refusal is a ValidationError naming each problem in words; a
// rule that compiles stays the same rule through its stored body, and
// what its task asks of the engine is something the engine can do.
func FuzzCompileRule(f *testing.F) {
	f.Add("Refunds", []byte(`{"conditions":{"keywords":["refund*"],"phrases":["cancel my account"]},"actions":{"team_tag":"billing","raise_alert":true}}`))
	f.Add("Orders", []byte(`{"conditions":{"regex":"order \\d+","channels":["call"],"direction":"inbound","speaker":2},"actions":{"assign_user_id":"u_1","create_task":{"title":"Call {contact} about {phrase}","body":"{sentence} at {at}","due_hours":4}}}`))
	f.Add("Bad", []byte(`{"conditions":{"keywords":["two words","*x"],"regex":"a*"},"actions":{"team_tag":"a,b","create_task":{"title":"{nope}","due_hours":-1}}}`))
	f.Add("", []byte(`{"conditions":{},"actions":{}}`))
	f.Add("Big", []byte(`{"conditions":{"regex":"(a{1000}){1000}"},"actions":{"ad_alert":true}}`))
	f.Add("\xff", []byte(`{"conditions":{"keywords":["\xff"]},"actions":{"team_tag":"\xff"}}`))
	f.Add("x", []byte(`not json`))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		r, err := FromRecord(store.RuleRecord{Name: name, Body: body})
		if err != nil {
			if !strings.Contains(err.Error(), "is not a rule") {
				t.Fatalf("FromRecord refused with %q, which does not say the body is not a rule", err)
			}
			return
		}
		c, err := Compile(r)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidRule) || len(ve.Problems) == 0 {
				t.Fatalf("Compile refused with %v (%T), not a ValidationError with problems", err, err)
			}
			for _, p := range ve.Problems {
				if strings.TrimSpace(p) == "" {
					t.Fatalf("an empty problem in %q", err)
				}
			}
			if r.Validate() == nil {
				t.Fatal("Validate accepted what Compile refused")
			}
			return
		}
		if r.Validate() != nil {
			t.Fatal("Validate refused what Compile accepted")
		}
		if len(c.terms) == 0 && c.re == nil {
			t.Fatal("a rule with nothing to look for compiled")
		}
		if task := r.Actions.CreateTask; task != nil {
			// The engine dates the task DueHours after the call.
			due := time.Duration(task.DueHours) * time.Hour
			if due < 0 || due/time.Hour != time.Duration(task.DueHours) {
				t.Fatalf("a task due %d hours after the call was accepted; the engine's due date overflows to %v", task.DueHours, due)
			}
		}
		b, err := r.Body()
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromRecord(store.RuleRecord{Name: name, Body: b})
		if err != nil {
			t.Fatalf("the stored body of a valid rule does not read back: %v\n%s", err, b)
		}
		if _, err := Compile(back); err != nil {
			t.Fatalf("a valid rule stored and read back no longer compiles: %v\n%s", err, b)
		}
		if b2, _ := back.Body(); !bytes.Equal(b, b2) {
			t.Fatalf("stored body changed on a round trip:\n%s\n%s", b, b2)
		}
	})
}
