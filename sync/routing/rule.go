// Package routing decides, from the text of a call's transcript, what
// Parley does about the call: tag the HighLevel contact with a team,
// assign a user, create a task, raise an alert in Parley and in
// ActiveDEMAND. Rules are data (kept in the store as JSON, edited in the
// console); this package validates them, matches them against a
// transcript and explains every match ("matched 'refund' at 0:42"), and it
// performs no action itself: the sync engine does, exactly once.
//
// The distinction a reader must not miss: matching is on WORDS, not
// substrings. A keyword matches a whole word, case-insensitively, in any
// script: "refund" matches "Refund!" but not "refunded" (write "refund*"
// for every word that starts with it). A phrase matches its words in a
// row, whatever whitespace and punctuation sit between them. Only a
// regular expression sees the raw text.
package routing

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits a rule must stay within, so that one rule cannot make routing slow
// or the store large.
const (
	MaxNameLen      = 100
	MaxTerms        = 200 // keywords plus phrases
	MaxTermLen      = 200
	MaxRegexLen     = 1000
	MaxRegexInsts   = 5000 // compiled program size
	MaxTagLen       = 64
	MaxTemplateLen  = 2000
	MaxHitsPerRule  = 10
	DefaultTaskDue  = 24 * time.Hour
	maxUserIDLength = 64
)

// MaxTaskDueHours is a year: a task due later is a typing mistake, and far
// larger values overflow the due date the engine computes.
const MaxTaskDueHours = 366 * 24

// Rule is one routing rule: when its conditions hold for a transcript, its
// actions are taken for the call's contact.
type Rule struct {
	// ID is the store's; 0 for a rule not saved yet.
	ID int64 `json:"-"`
	// Name is what the console and history show.
	Name string `json:"-"`
	// Enabled rules are applied to new transcripts; disabled ones only
	// in a preview.
	Enabled bool `json:"-"`
	// Conditions decide whether the rule matches.
	Conditions Conditions `json:"conditions"`
	// Actions are what the engine does for a match.
	Actions Actions `json:"actions"`
}

// Conditions select the calls a rule applies to. A rule matches when the
// call passes every filter (Channels, Direction, Speaker) and at least one
// of its Keywords, Phrases or Regex is found in a sentence.
type Conditions struct {
	// Keywords are single words; any one found matches. A trailing "*"
	// matches every word starting with the rest ("refund*": refunds,
	// refunded).
	Keywords []string `json:"keywords,omitempty"`
	// Phrases are words that must follow each other in one sentence;
	// whitespace and punctuation between them do not matter.
	Phrases []string `json:"phrases,omitempty"`
	// Regex is an RE2 expression over each sentence's text,
	// case-insensitive unless it sets its own flags with (?-i).
	Regex string `json:"regex,omitempty"`
	// Channels keeps only calls on these AD channels (call, sms, ...);
	// empty means any.
	Channels []string `json:"channels,omitempty"`
	// Direction keeps only inbound or outbound calls; empty means either.
	Direction string `json:"direction,omitempty"`
	// Speaker keeps only sentences spoken on this side of the call (the
	// transcript's channel, 1 or 2); 0 means either.
	Speaker int `json:"speaker,omitempty"`
}

// Actions are what a match leads to. At least one must be set.
type Actions struct {
	// TeamTag is the HighLevel tag added to the contact (tags are a set:
	// adding it again changes nothing).
	TeamTag string `json:"team_tag,omitempty"`
	// AssignUserID is the HighLevel user the contact is assigned to.
	AssignUserID string `json:"assign_user_id,omitempty"`
	// CreateTask, when set, creates a HighLevel task on the contact.
	CreateTask *TaskTemplate `json:"create_task,omitempty"`
	// RaiseAlert raises an alert in Parley's console.
	RaiseAlert bool `json:"raise_alert,omitempty"`
	// ADAlert creates a task in ActiveDEMAND (route tasks.create).
	ADAlert bool `json:"ad_alert,omitempty"`
}

// TaskTemplate is the title and body of a task or alert a rule creates.
// Both may use the placeholders {rule}, {phrase} (what matched), {sentence},
// {at} (offset into the call, m:ss) and {contact}.
type TaskTemplate struct {
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
	// DueHours is how many hours after the call the task is due; 0
	// means DefaultTaskDue.
	DueHours int `json:"due_hours,omitempty"`
}

// Directions a rule can filter on.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// placeholders are the names a TaskTemplate may use.
var placeholders = []string{"rule", "phrase", "sentence", "at", "contact"}

// ValidationError lists everything wrong with a rule, each problem in words
// for the person editing it.
type ValidationError struct {
	Rule     string
	Problems []string
}

func (e *ValidationError) Error() string {
	name := e.Rule
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("routing rule %q cannot be saved: %s", name, strings.Join(e.Problems, "; "))
}

// ErrInvalidRule is matched (errors.Is) by every ValidationError.
var ErrInvalidRule = errors.New("invalid routing rule")

// Is makes errors.Is(err, ErrInvalidRule) true for a ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRule }

// Validate checks a rule and returns a *ValidationError naming every
// problem, or nil.
func (r Rule) Validate() error {
	_, err := Compile(r)
	return err
}

// Compiled is a validated rule ready to match: its terms split into words
// and its regex compiled, once, when it is saved or loaded.
type Compiled struct {
	Rule
	terms []term
	re    *regexp.Regexp
	// lit is ASCII text, lower-case, that every match of re contains
	// (ignoring case), or "": a sentence whose lower-cased text lacks it
	// cannot match, and re is not run on it.
	lit string
}

// term is a keyword or phrase as a sequence of folded words.
type term struct {
	text   string // as the user wrote it
	words  []string
	prefix bool // the last word matches as a prefix ("refund*")
}

// Compile validates r and prepares it for matching.
func Compile(r Rule) (*Compiled, error) {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	c := &Compiled{Rule: r}

	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		bad("give the rule a name")
	case utf8.RuneCountInString(name) > MaxNameLen:
		bad("the name is longer than %d characters", MaxNameLen)
	}

	cd := r.Conditions
	if len(cd.Keywords)+len(cd.Phrases) > MaxTerms {
		bad("the rule has %d keywords and phrases; at most %d are allowed", len(cd.Keywords)+len(cd.Phrases), MaxTerms)
	}
	for _, k := range cd.Keywords {
		t, prob := compileTerm(k, true)
		if prob != "" {
			bad("keyword %q %s", k, prob)
			continue
		}
		c.terms = append(c.terms, t)
	}
	for _, ph := range cd.Phrases {
		t, prob := compileTerm(ph, false)
		if prob != "" {
			bad("phrase %q %s", ph, prob)
			continue
		}
		c.terms = append(c.terms, t)
	}
	if strings.TrimSpace(cd.Regex) != "" {
		re, prob := compileRegex(cd.Regex)
		if prob != "" {
			bad("%s", prob)
		}
		c.re = re
		if re != nil {
			c.lit = requiredLiteral(cd.Regex)
		}
	}
	if len(cd.Keywords) == 0 && len(cd.Phrases) == 0 && strings.TrimSpace(cd.Regex) == "" {
		bad("add at least one keyword, phrase or regular expression: a rule without one would match every call")
	}
	for _, ch := range cd.Channels {
		if ch == "" || strings.ToLower(ch) != ch || strings.ContainsFunc(ch, func(r rune) bool { return !unicode.IsLetter(r) && r != '_' }) {
			bad("channel %q is not a channel name (call, sms, email, chat)", ch)
		}
	}
	switch cd.Direction {
	case "", DirectionInbound, DirectionOutbound:
	default:
		bad("direction %q must be inbound, outbound or empty for either", cd.Direction)
	}
	if cd.Speaker < 0 || cd.Speaker > 2 {
		bad("speaker %d must be 1 or 2 (a side of the call), or 0 for either", cd.Speaker)
	}

	a := r.Actions
	if a.TeamTag == "" && a.AssignUserID == "" && a.CreateTask == nil && !a.RaiseAlert && !a.ADAlert {
		bad("choose at least one action: a team tag, a user, a task or an alert")
	}
	if a.TeamTag != "" {
		if prob := checkTag(a.TeamTag); prob != "" {
			bad("team tag %q %s", a.TeamTag, prob)
		}
	}
	if a.AssignUserID != "" && (len(a.AssignUserID) > maxUserIDLength ||
		strings.ContainsFunc(a.AssignUserID, func(r rune) bool {
			return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')
		})) {
		bad("user id %q is not a HighLevel user id (letters, digits, - and _ only); pick the user from the list", a.AssignUserID)
	}
	if t := a.CreateTask; t != nil {
		if strings.TrimSpace(t.Title) == "" {
			bad("the task needs a title")
		}
		for _, s := range []string{t.Title, t.Body} {
			if prob := checkTemplate(s); prob != "" {
				bad("task text %s", prob)
			}
		}
		switch {
		case t.DueHours < 0:
			bad("the task cannot be due before the call")
		case t.DueHours > MaxTaskDueHours:
			bad("the task is due %d hours after the call; at most %d (a year) are allowed", t.DueHours, MaxTaskDueHours)
		}
	}
	if len(p) > 0 {
		return nil, &ValidationError{Rule: name, Problems: p}
	}
	return c, nil
}

func compileTerm(s string, keyword bool) (term, string) {
	t := term{text: s}
	s = strings.TrimSpace(s)
	if s == "" {
		return t, "is empty"
	}
	if utf8.RuneCountInString(s) > MaxTermLen {
		return t, fmt.Sprintf("is longer than %d characters", MaxTermLen)
	}
	if keyword {
		if strings.ContainsFunc(s, unicode.IsSpace) {
			return t, "has several words: add it as a phrase instead"
		}
		if rest, ok := strings.CutSuffix(s, "*"); ok {
			t.prefix, s = true, rest
		}
	}
	if strings.Contains(s, "*") {
		return t, `may only end with "*"`
	}
	for _, w := range tokenize(s, nil) {
		t.words = append(t.words, w.word)
	}
	if len(t.words) == 0 {
		return t, "has no letters or digits to look for"
	}
	return t, ""
}

func compileRegex(expr string) (*regexp.Regexp, string) {
	if len(expr) > MaxRegexLen {
		return nil, fmt.Sprintf("the regular expression is longer than %d characters", MaxRegexLen)
	}
	// Parse and compile the program once more to bound its size: RE2 runs
	// in linear time, but a huge program (a{1000}{1000}-style) is slow
	// per byte and large in memory.
	parsed, err := syntax.Parse("(?i)"+expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Sprintf("the regular expression does not compile: %v", err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return nil, fmt.Sprintf("the regular expression does not compile: %v", err)
	}
	if len(prog.Inst) > MaxRegexInsts {
		return nil, fmt.Sprintf("the regular expression is too complex (%d steps, at most %d); simplify its repetitions", len(prog.Inst), MaxRegexInsts)
	}
	re, err := regexp.Compile("(?i)" + expr)
	if err != nil {
		return nil, fmt.Sprintf("the regular expression does not compile: %v", err)
	}
	if re.MatchString("") {
		return nil, "the regular expression matches empty text, so it would match every call"
	}
	return re, ""
}

// requiredLiteral returns the longest ASCII literal of a top-level
// concatenation in expr, lower-cased, which every match must contain, or
// "" if there is none worth looking for.
func requiredLiteral(expr string) string {
	re, err := syntax.Parse("(?i)"+expr, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	best := ""
	for _, sub := range subs {
		if sub.Op != syntax.OpLiteral || len(sub.Rune) <= len(best) {
			continue
		}
		ascii := true
		for _, r := range sub.Rune {
			ascii = ascii && r < utf8.RuneSelf
		}
		if ascii {
			best = strings.ToLower(string(sub.Rune))
		}
	}
	if len(best) < 2 {
		return ""
	}
	return best
}

// lowerForLiteral lower-cases text so that it contains lit whenever a
// case-insensitive ASCII match does: besides ASCII, only the Kelvin sign
// and the long s fold onto ASCII letters.
func lowerForLiteral(text string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u212A':
			return 'k'
		case '\u017F':
			return 's'
		}
		return unicode.ToLower(r)
	}, text)
}

// checkTag says what is wrong with a HighLevel tag, or "". HighLevel
// separates tags with commas in imports and filters, so a comma would
// split it.
func checkTag(tag string) string {
	switch {
	case strings.TrimSpace(tag) != tag:
		return "starts or ends with a space"
	case utf8.RuneCountInString(tag) > MaxTagLen:
		return fmt.Sprintf("is longer than %d characters", MaxTagLen)
	case !utf8.ValidString(tag):
		return "is not valid text"
	case strings.ContainsAny(tag, ",;"):
		return "contains a comma or semicolon, which HighLevel reads as two tags"
	case strings.ContainsFunc(tag, func(r rune) bool { return unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') }):
		return "contains a line break, tab or control character"
	}
	return ""
}

// checkTemplate says what is wrong with a task or alert template, or "".
func checkTemplate(s string) string {
	if utf8.RuneCountInString(s) > MaxTemplateLen {
		return fmt.Sprintf("is longer than %d characters", MaxTemplateLen)
	}
	for rest := s; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Sprintf("has a %q without a closing %q", "{", "}")
		}
		if name := rest[i+1 : i+j]; !slices.Contains(placeholders, name) {
			return fmt.Sprintf("uses {%s}; the placeholders are {%s}", name, strings.Join(placeholders, "}, {"))
		}
		rest = rest[i+j+1:]
	}
}

// Body is the JSON the store keeps for a rule: its conditions and actions
// (name, enabled and order are columns of their own).
func (r Rule) Body() ([]byte, error) { return json.Marshal(r) }

// ParseBody reads a rule's stored JSON back into r's conditions and
// actions.
func ParseBody(b []byte, r *Rule) error {
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("routing rule %q: stored body is not a rule: %w", r.Name, err)
	}
	return nil
}
