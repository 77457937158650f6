package routing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"parley/sync/transcript"
)

func compile(t testing.TB, r Rule) *Compiled {
	t.Helper()
	if r.Name == "" {
		r.Name = "test"
	}
	if r.Actions == (Actions{}) {
		r.Actions.TeamTag = "support"
	}
	c, err := Compile(r)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

func say(texts ...string) []transcript.Sentence {
	out := make([]transcript.Sentence, len(texts))
	for i, s := range texts {
		out[i] = transcript.Sentence{Channel: 1 + i%2, Start: time.Duration(i) * 10 * time.Second, End: time.Duration(i)*10*time.Second + 9*time.Second, Text: s}
	}
	return out
}

func TestMatchTerms(t *testing.T) {
	cases := []struct {
		name     string
		cond     Conditions
		text     string
		want     string // Matched of the first hit, "" for no match
		wantTerm string
	}{
		{"keyword whole word", Conditions{Keywords: []string{"refund"}}, "I want a refund, please", "refund", "refund"},
		{"keyword is not a substring", Conditions{Keywords: []string{"refund"}}, "it was refunded already", "", ""},
		{"keyword inside a word", Conditions{Keywords: []string{"fund"}}, "a refund", "", ""},
		{"keyword prefix", Conditions{Keywords: []string{"refund*"}}, "it was Refunded already", "Refunded", "refund*"},
		{"keyword case-insensitive", Conditions{Keywords: []string{"REFUND"}}, "Refund!", "Refund", "REFUND"},
		{"keyword unicode case", Conditions{Keywords: []string{"ÉCHANGE"}}, "un échange svp", "échange", "ÉCHANGE"},
		{"keyword greek final sigma", Conditions{Keywords: []string{"ΛΟΓΑΡΙΑΣΜΟΣ"}}, "ο λογαριασμος μου", "λογαριασμος", "ΛΟΓΑΡΙΑΣΜΟΣ"},
		{"keyword cyrillic", Conditions{Keywords: []string{"возврат"}}, "Нужен Возврат денег", "Возврат", "возврат"},
		{"keyword chinese run", Conditions{Keywords: []string{"退款"}}, "我想要退款谢谢", "退款", "退款"},
		{"keyword chinese not split", Conditions{Keywords: []string{"退款"}}, "我想要退一下款", "", ""},
		{"keyword apostrophe", Conditions{Keywords: []string{"don't"}}, "I don’t like it", "don’t", "don't"},
		{"keyword digits", Conditions{Keywords: []string{"404"}}, "error 404.", "404", "404"},
		{"phrase across punctuation", Conditions{Phrases: []string{"cancel my account"}}, "Cancel... my  account!", "Cancel... my  account", "cancel my account"},
		{"phrase across line break", Conditions{Phrases: []string{"speak to a manager"}}, "can I speak to\na manager", "speak to\na manager", "speak to a manager"},
		{"phrase needs order", Conditions{Phrases: []string{"cancel my account"}}, "my account, cancel it", "", ""},
		{"phrase punctuation in rule", Conditions{Phrases: []string{"cancel, my account"}}, "cancel my account", "cancel my account", "cancel, my account"},
		{"phrase whole words", Conditions{Phrases: []string{"my account"}}, "my accountant", "", ""},
		{"regex", Conditions{Regex: `order #?\d{5}`}, "about Order #12345 today", "Order #12345", `order #?\d{5}`},
		{"regex case-sensitive on request", Conditions{Regex: `(?-i)Order`}, "about order 1", "", ""},
		{"regex anchored per sentence", Conditions{Regex: `^yes\b`}, "Yes, go ahead", "Yes", `^yes\b`},
		{"regex anchored at the end", Conditions{Regex: `refund\.$`}, "a refund.", "refund.", `refund\.$`},
		{"regex \\A", Conditions{Regex: `\Ahello`}, "Hello there", "Hello", `\Ahello`},
		{"any of several", Conditions{Keywords: []string{"billing"}, Phrases: []string{"money back"}}, "I want my money back", "money back", "money back"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := compile(t, Rule{Conditions: tc.cond})
			ds := Match([]*Compiled{r}, say("first sentence", tc.text), "call", "inbound")
			if tc.want == "" {
				if len(ds) != 0 {
					t.Fatalf("matched %+v, want no match", ds[0].Hits)
				}
				return
			}
			if len(ds) != 1 {
				t.Fatalf("got %d decisions, want 1", len(ds))
			}
			h := ds[0].Hits[0]
			if h.Matched != tc.want || h.Term != tc.wantTerm {
				t.Fatalf("matched %q by %q, want %q by %q", h.Matched, h.Term, tc.want, tc.wantTerm)
			}
			if h.Text[h.Pos:h.Pos+len(h.Matched)] != h.Matched {
				t.Fatalf("Pos %d does not point at %q in %q", h.Pos, h.Matched, h.Text)
			}
		})
	}
}

func TestMatchFiltersAndWhy(t *testing.T) {
	refunds := compile(t, Rule{ID: 1, Name: "Refunds", Conditions: Conditions{Keywords: []string{"refund"}, Channels: []string{"call"}, Direction: DirectionInbound}})
	sales := compile(t, Rule{ID: 2, Name: "Sales", Conditions: Conditions{Phrases: []string{"buy more"}}})
	agentOnly := compile(t, Rule{ID: 3, Name: "Agent promise", Conditions: Conditions{Keywords: []string{"refund"}, Speaker: 2}})
	rules := []*Compiled{refunds, sales, agentOnly}
	ss := say("hello there", "I want to buy more seats", "and also a refund", "ok, I will refund it", "refund refund refund")
	ss[2].Start = 42 * time.Second

	names := func(ds []Decision) string {
		var n []string
		for _, d := range ds {
			n = append(n, d.RuleName)
		}
		return strings.Join(n, ",")
	}
	if got := names(Match(rules, ss, "call", "inbound")); got != "Refunds,Sales,Agent promise" {
		t.Fatalf("inbound call: %s", got)
	}
	if got := names(Match(rules, ss, "sms", "inbound")); got != "Sales,Agent promise" {
		t.Fatalf("sms: %s", got)
	}
	if got := names(Match(rules, ss, "call", "outbound")); got != "Sales,Agent promise" {
		t.Fatalf("outbound: %s", got)
	}
	ds := Match(rules, ss, "CALL", "Inbound")
	if got := ds[0].Why(); got != `matched "refund" at 0:42 (and 4 more)` {
		t.Fatalf("why: %s", got)
	}
	if h := ds[0].Hits; h[0].Sentence != 2 || h[1].Sentence != 3 || h[2].Sentence != 4 || len(h) != 5 {
		t.Fatalf("hits %+v", h)
	}
	// Speaker 2 said sentences 1 and 3 (0-based): only sentence 3 has it.
	if h := ds[2].Hits; len(h) != 1 || h[0].Sentence != 3 || h[0].Speaker != 2 {
		t.Fatalf("speaker filter: %+v", h)
	}
}

func TestMatchCapsHits(t *testing.T) {
	r := compile(t, Rule{Conditions: Conditions{Keywords: []string{"no"}, Regex: "no"}})
	ss := say(strings.Repeat("no ", 100), "no")
	ds := Match([]*Compiled{r}, ss, "call", "inbound")
	if len(ds) != 1 || len(ds[0].Hits) != MaxHitsPerRule {
		t.Fatalf("hits: %d", len(ds[0].Hits))
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 42 * time.Second: "0:42", 61500 * time.Millisecond: "1:01", 3723 * time.Second: "1:02:03"} {
		if got := Clock(d); got != want {
			t.Errorf("Clock(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestRender(t *testing.T) {
	r := compile(t, Rule{Name: "Refunds", Conditions: Conditions{Keywords: []string{"refund"}}})
	ds := Match([]*Compiled{r}, say("x", "a Refund now"), "call", "inbound")
	got := Render("{rule}: {contact} said {phrase} at {at} ({sentence})", ds[0], "Ann Lee")
	if want := "Refunds: Ann Lee said Refund at 0:10 (a Refund now)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{Name: "ok", Conditions: Conditions{Keywords: []string{"refund"}}, Actions: Actions{TeamTag: "support"}}
	cases := []struct {
		name string
		edit func(*Rule)
		want string
	}{
		{"no name", func(r *Rule) { r.Name = " " }, "give the rule a name"},
		{"no conditions", func(r *Rule) { r.Conditions.Keywords = nil }, "add at least one keyword, phrase or regular expression"},
		{"no actions", func(r *Rule) { r.Actions = Actions{} }, "choose at least one action"},
		{"bad regex", func(r *Rule) { r.Conditions.Regex = "(refund" }, "the regular expression does not compile: error parsing regexp: missing closing ): `(?i)(refund`"},
		{"backreference", func(r *Rule) { r.Conditions.Regex = `(a)\1` }, "does not compile"},
		{"huge regex", func(r *Rule) { r.Conditions.Regex = `(a{1000}){1000}` }, "does not compile"},
		{"complex regex", func(r *Rule) { r.Conditions.Regex = `[a-z]{1000}[0-9]{1000}x{1000}y{1000}z{1000}w{1000}` }, "too complex"},
		{"regex matching nothing", func(r *Rule) { r.Conditions.Regex = `a*` }, "matches empty text"},
		{"keyword with space", func(r *Rule) { r.Conditions.Keywords = []string{"money back"} }, `keyword "money back" has several words: add it as a phrase instead`},
		{"empty keyword", func(r *Rule) { r.Conditions.Keywords = []string{""} }, `keyword "" is empty`},
		{"punctuation keyword", func(r *Rule) { r.Conditions.Keywords = []string{"?!"} }, "has no letters or digits"},
		{"inner star", func(r *Rule) { r.Conditions.Keywords = []string{"re*fund"} }, `may only end with "*"`},
		{"tag with comma", func(r *Rule) { r.Actions.TeamTag = "support,billing" }, `team tag "support,billing" contains a comma`},
		{"tag with newline", func(r *Rule) { r.Actions.TeamTag = "support\nx" }, "line break"},
		{"tag padded", func(r *Rule) { r.Actions.TeamTag = " support" }, "starts or ends with a space"},
		{"direction", func(r *Rule) { r.Conditions.Direction = "sideways" }, `direction "sideways" must be inbound, outbound`},
		{"channel", func(r *Rule) { r.Conditions.Channels = []string{"Phone call"} }, "is not a channel name"},
		{"speaker", func(r *Rule) { r.Conditions.Speaker = 3 }, "speaker 3"},
		{"user id", func(r *Rule) { r.Actions.AssignUserID = "bob smith" }, "is not a HighLevel user id"},
		{"task without title", func(r *Rule) { r.Actions.CreateTask = &TaskTemplate{Body: "x"} }, "the task needs a title"},
		{"unknown placeholder", func(r *Rule) { r.Actions.CreateTask = &TaskTemplate{Title: "call {customer}"} }, "uses {customer}; the placeholders are {rule}, {phrase}"},
		{"unclosed placeholder", func(r *Rule) { r.Actions.CreateTask = &TaskTemplate{Title: "call {rule"} }, "without a closing"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid rule: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			r.Conditions.Keywords = []string{"refund"}
			tc.edit(&r)
			err := r.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want it to say %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("%v is not ErrInvalidRule", err)
			}
		})
	}
	// Several problems are reported together.
	bad := Rule{Conditions: Conditions{Regex: "("}, Actions: Actions{TeamTag: "a,b"}}
	var ve *ValidationError
	if err := bad.Validate(); !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("got %v", err)
	}
}

func TestBodyRoundTrip(t *testing.T) {
	r := Rule{Name: "n", Conditions: Conditions{Keywords: []string{"a"}, Phrases: []string{"b c"}, Regex: "d", Channels: []string{"call"}, Direction: "inbound", Speaker: 1},
		Actions: Actions{TeamTag: "t", AssignUserID: "u1", CreateTask: &TaskTemplate{Title: "x {phrase}", Body: "y", DueHours: 4}, RaiseAlert: true, ADAlert: true}}
	b, err := r.Body()
	if err != nil {
		t.Fatal(err)
	}
	var back Rule
	back.Name = "n"
	if err := ParseBody(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := back.Body()
	if string(b) != string(b2) || back.Actions.CreateTask.DueHours != 4 {
		t.Fatalf("round trip: %s vs %s", b, b2)
	}
}

func TestRequiredLiteral(t *testing.T) {
	for expr, want := range map[string]string{
		`order #?\d{5}`: "order ", // "#?" is optional
		`(?-i)Refund`:   "refund",
		`(refund)`:      "refund",
		`a|refund`:      "",
		`x`:             "",
		`возврат`:       "",
		`re.?fund`:      "fund",
	} {
		if got := requiredLiteral(expr); got != want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", expr, got, want)
		}
	}
	// The Kelvin sign matches k under (?i); the prefilter must not lose it.
	r := compile(t, Rule{Conditions: Conditions{Regex: `kilo`}})
	if ds := Match([]*Compiled{r}, say("\u212Ailo"), "call", "inbound"); len(ds) != 1 {
		t.Fatal("the Kelvin sign was lost by the prefilter")
	}
}
