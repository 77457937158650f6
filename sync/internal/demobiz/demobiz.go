// Package demobiz describes the one small business that both sandboxes
// serve in demo mode, so that the ActiveDEMAND sandbox and the HighLevel
// sandbox agree on who the customers are (matching by email and phone) and
// on which conversations are already mirrored.
//
// Everything is generated from a seed and a reference time: the same seed
// gives the same business, and timestamps sit in the days before the
// reference time so the demo always looks recent.
package demobiz

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Channel is how a conversation reaches the customer.
type Channel string

// The channels the demo business uses.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelCall  Channel = "call"
	ChannelChat  Channel = "chat"
)

// Direction says who sent a message.
type Direction string

// Message directions, seen from the business.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Business is the whole demo data set.
type Business struct {
	Name          string
	Timezone      string
	Phone         string
	Email         string
	Contacts      []Contact
	Conversations []Conversation
}

// Contact is one customer. Key is stable across runs with the same seed and
// is what the sandboxes use to derive their own ids.
type Contact struct {
	Key       string
	FirstName string
	LastName  string
	Email     string
	Phone     string // E.164
	Company   string
	City      string
	Tags      []string
	Source    string
	CreatedAt time.Time
	// InGHL is false for contacts that exist only in ActiveDEMAND so far:
	// the sync has to create them on the HighLevel side.
	InGHL bool
}

// Name is the contact's display name.
func (c Contact) Name() string { return c.FirstName + " " + c.LastName }

// Conversation is one thread with a contact on one channel.
type Conversation struct {
	Key        string
	ContactKey string
	Channel    Channel
	Subject    string // email threads only
	Open       bool
	// Mirrored conversations already exist in HighLevel (an earlier sync
	// copied them); the others are new to HighLevel.
	Mirrored bool
	// MirroredUpTo is how many of Messages HighLevel already has when
	// Mirrored: the rest arrived in ActiveDEMAND since the last sync.
	MirroredUpTo int
	Messages     []Message
}

// Message is one message, email or call in a conversation.
type Message struct {
	Key       string
	Direction Direction
	At        time.Time
	Body      string
	Call      *Call
	// Attachment names a file from Attachments, or is empty.
	Attachment string
}

// Call is a phone call with its recording and transcript.
type Call struct {
	Duration  time.Duration
	Status    string // "completed", "no-answer", "voicemail"
	Sentences []Sentence
}

// Sentence is one timed line of a call transcript. Start and End fall within
// the call's Duration and within the rendered recording.
type Sentence struct {
	Speaker    string // "agent" or "customer"
	Text       string
	Start, End time.Duration
	Confidence float64
}

// Attachments lists the demo files messages may carry, with their media
// types. Bytes returns their content.
var Attachments = map[string]string{
	"quote.pdf":       "application/pdf",
	"site-photo.png":  "image/png",
	"floor-plan.jpg":  "image/jpeg",
	"voice-note.wav":  "audio/wav",
	"invoice-104.pdf": "application/pdf",
}

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Lucas", "Mia", "Mason",
	"Amelia", "Logan", "Harper", "Elijah", "Evelyn", "James", "Abigail", "Benjamin", "Emily", "Jacob",
	"Ella", "Michael", "Chloe", "Daniel", "Grace", "Henry", "Zoe", "Jack", "Lily", "Owen",
	"Nora", "Samuel", "Hannah", "David", "Aria", "Wyatt", "Layla", "Leo", "Riley", "Isaac",
}

var lastNames = []string{
	"Tremblay", "Gagnon", "Roy", "Cote", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagne",
	"Smith", "Brown", "Wilson", "Taylor", "Campbell", "Anderson", "Macdonald", "Thompson", "Martin", "Lee",
	"Patel", "Nguyen", "Singh", "Chen", "Kowalski", "Murphy", "Oconnor", "Fraser", "Stewart", "Reid",
}

var companies = []string{
	"", "", "", "Maple Dental", "Northside Bakery", "Harbour Realty", "Pine & Co", "Lakeview Clinic",
	"Summit Fitness", "Blue Door Cafe", "Riverbend Motors", "Greenleaf Landscaping",
}

var cities = []string{"Halifax", "Moncton", "Fredericton", "Charlottetown", "Saint John", "Truro", "Dartmouth"}

var sources = []string{"Website form", "Facebook lead ad", "Referral", "Google Ads", "Trade show", "Walk-in"}

var tagPool = []string{"lead", "customer", "vip", "newsletter", "quote-sent", "follow-up", "renovation", "kitchen", "bathroom"}

var smsThreads = [][]string{
	{"Hi, is anyone available for a quote on a kitchen reno next week?", "Hi {first}! Yes, we have Tuesday at 10 or Thursday at 2. Which works?", "Thursday at 2 is perfect.", "Booked. See you Thursday at 2, {first}."},
	{"Running 10 min late, sorry!", "No problem, see you soon."},
	{"Can you send the quote again? Can't find the email.", "Just re-sent it to {email}. Let us know if it doesn't arrive.", "Got it, thanks!"},
	{"Do you do bathroom tiling too?", "We do. Want us to add it to the estimate?", "Yes please, and the backsplash."},
	{"STOP"},
	{"Is the 15% spring offer still on?", "It is, until the end of the month.", "Great, let's go ahead then.", "Wonderful. I'll send the paperwork today."},
}

var emailThreads = []struct {
	subject string
	lines   []string
}{
	{"Quote for your renovation", []string{"Hello {first},\n\nPlease find attached the quote we discussed. It is valid for 30 days.\n\nBest regards,\nThe team", "Thanks! A couple of questions about the cabinet options - can we call tomorrow?", "Of course. Tomorrow at 11 works on our side."}},
	{"Invoice #104", []string{"Hi {first}, your invoice #104 is attached. Payment is due in 15 days.", "Paid this morning by e-transfer."}},
	{"Newsletter: Spring ideas for your home", []string{"Hi {first},\n\nSpring is here! Five ideas to refresh your kitchen this season..."}},
	{"Photos of the site", []string{"Here are the photos you asked for.", "Thanks {first}, these help a lot. We'll update the plan."}},
}

var chatThreads = [][]string{
	{"Hello, do you work in {city}?", "Yes, we cover all of {city} and around. How can we help?", "Looking to redo our deck this summer."},
	{"What are your opening hours?", "Monday to Friday, 8 to 5, and Saturday mornings."},
}

// Call scripts alternate agent and customer lines, agent first.
var callScripts = [][]string{
	{"Good morning, thanks for calling, how can I help?", "Hi, I'm calling about the quote you sent last week.", "Of course, let me pull it up. Is that for the kitchen?", "Yes, the kitchen and maybe the bathroom.", "Great, we can add the bathroom. I'll send a revised quote today.", "Perfect, thank you."},
	{"Hello {first}, it's about your appointment on Thursday.", "Oh yes, is everything still on?", "It is. Our installer will arrive around two.", "Sounds good, see you then."},
	{"Hi, you've reached us after hours. Please leave a message.", "Hi, it's {first}, please call me back about the invoice. Thanks."},
	{"Thanks for calling, this is the service desk.", "Hi, the cabinet door you installed is loose.", "Sorry about that. We can send someone tomorrow morning.", "Tomorrow morning works. Thank you.", "You're welcome, have a good day."},
}

// Seed builds the demo business. The same seed always gives the same
// contacts and conversations; times are placed in the 30 days before now.
func Seed(seed uint64, now time.Time) Business {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) // #nosec G404 -- seeded on purpose: the same seed must give the same business
	now = now.Truncate(time.Second)
	b := Business{
		Name:     "Harbourview Renovations",
		Timezone: "America/Halifax",
		Phone:    "+19025550100",
		Email:    "hello@harbourview.example",
	}
	const contactCount = 48
	for i := range contactCount {
		first := firstNames[i%len(firstNames)]
		last := lastNames[(i*7+3)%len(lastNames)]
		c := Contact{
			Key:       fmt.Sprintf("c%03d", i+1),
			FirstName: first,
			LastName:  last,
			Email:     strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", first, last, i+1)),
			Phone:     fmt.Sprintf("+1902555%04d", 1000+i*37),
			Company:   companies[rng.IntN(len(companies))],
			City:      cities[rng.IntN(len(cities))],
			Source:    sources[rng.IntN(len(sources))],
			CreatedAt: now.Add(-time.Duration(30+rng.IntN(300)) * 24 * time.Hour),
			// One in six exists only in ActiveDEMAND.
			InGHL: i%6 != 5,
		}
		for _, t := range tagPool {
			if rng.IntN(5) == 0 {
				c.Tags = append(c.Tags, t)
			}
		}
		b.Contacts = append(b.Contacts, c)
	}
	convIndex := 0
	for ci, c := range b.Contacts {
		// Most contacts have one or two conversations; a few have none.
		n := []int{0, 1, 1, 1, 2, 2, 3}[rng.IntN(7)]
		for j := range n {
			convIndex++
			ch := []Channel{ChannelSMS, ChannelSMS, ChannelEmail, ChannelCall, ChannelCall, ChannelChat}[(ci+j*2+rng.IntN(6))%6]
			conv := Conversation{
				Key:        fmt.Sprintf("v%03d", convIndex),
				ContactKey: c.Key,
				Channel:    ch,
				Open:       rng.IntN(3) != 0,
			}
			start := now.Add(-time.Duration(1+rng.IntN(29*24)) * time.Hour).Add(-time.Duration(rng.IntN(3600)) * time.Second)
			conv.Messages, conv.Subject = messagesFor(rng, c, ch, start, now, conv.Key)
			// Conversations of contacts HighLevel does not know cannot be
			// mirrored yet; of the rest, about two thirds are.
			if c.InGHL && rng.IntN(3) != 0 {
				conv.Mirrored = true
				conv.MirroredUpTo = len(conv.Messages)
				if len(conv.Messages) > 1 && rng.IntN(3) == 0 {
					conv.MirroredUpTo = len(conv.Messages) - 1
				}
			}
			b.Conversations = append(b.Conversations, conv)
		}
	}
	return b
}

func messagesFor(rng *rand.Rand, c Contact, ch Channel, start, now time.Time, convKey string) ([]Message, string) {
	fill := func(s string) string {
		return strings.NewReplacer("{first}", c.FirstName, "{email}", c.Email, "{city}", c.City).Replace(s)
	}
	var msgs []Message
	at := start
	add := func(dir Direction, body string) *Message {
		if at.After(now) {
			at = now.Add(-time.Minute * time.Duration(len(msgs)+1))
		}
		msgs = append(msgs, Message{
			Key:       fmt.Sprintf("%s-m%02d", convKey, len(msgs)+1),
			Direction: dir,
			At:        at,
			Body:      body,
		})
		at = at.Add(time.Duration(2+rng.IntN(180)) * time.Minute)
		return &msgs[len(msgs)-1]
	}
	switch ch {
	case ChannelSMS:
		thread := smsThreads[rng.IntN(len(smsThreads))]
		for i, line := range thread {
			add(Direction([]Direction{Inbound, Outbound}[i%2]), fill(line))
		}
		if rng.IntN(4) == 0 {
			msgs[len(msgs)-1].Attachment = "site-photo.png"
		}
		return msgs, ""
	case ChannelEmail:
		t := emailThreads[rng.IntN(len(emailThreads))]
		for i, line := range t.lines {
			m := add(Direction([]Direction{Outbound, Inbound}[i%2]), fill(line))
			if i == 0 {
				switch t.subject {
				case "Quote for your renovation":
					m.Attachment = "quote.pdf"
				case "Invoice #104":
					m.Attachment = "invoice-104.pdf"
				case "Photos of the site":
					m.Attachment = "floor-plan.jpg"
				}
			}
		}
		return msgs, t.subject
	case ChannelChat:
		thread := chatThreads[rng.IntN(len(chatThreads))]
		for i, line := range thread {
			add(Direction([]Direction{Inbound, Outbound}[i%2]), fill(line))
		}
		return msgs, ""
	default:
		calls := 1 + rng.IntN(2)
		for range calls {
			dir := Direction([]Direction{Inbound, Outbound}[rng.IntN(2)])
			m := add(dir, "")
			m.Call = makeCall(rng, callScripts[rng.IntN(len(callScripts))], fill)
			m.Body = fmt.Sprintf("Call, %s", m.Call.Duration.Round(time.Second))
		}
		return msgs, ""
	}
}

// makeCall times each line of a script: about 2.6 words per second with
// short pauses between speakers, so the recording is exactly as long as the
// transcript needs.
func makeCall(rng *rand.Rand, script []string, fill func(string) string) *Call {
	call := &Call{Status: "completed"}
	if rng.IntN(8) == 0 {
		return &Call{Status: "no-answer", Duration: 0}
	}
	at := 400 * time.Millisecond
	for i, line := range script {
		text := fill(line)
		words := len(strings.Fields(text))
		length := time.Duration(words) * 385 * time.Millisecond
		s := Sentence{
			Speaker:    []string{"agent", "customer"}[i%2],
			Text:       text,
			Start:      at,
			End:        at + length,
			Confidence: 0.82 + float64(rng.IntN(17))/100,
		}
		call.Sentences = append(call.Sentences, s)
		at = s.End + time.Duration(250+rng.IntN(500))*time.Millisecond
	}
	call.Duration = at.Truncate(time.Second) + time.Second
	if len(script) == 2 && strings.Contains(script[0], "leave a message") {
		call.Status = "voicemail"
	}
	return call
}

// ContactByKey finds a contact.
func (b *Business) ContactByKey(key string) (Contact, bool) {
	for _, c := range b.Contacts {
		if c.Key == key {
			return c, true
		}
	}
	return Contact{}, false
}
