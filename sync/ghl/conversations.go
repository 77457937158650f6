package ghl

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// GetConversation reads one conversation.
func (c *Client) GetConversation(ctx context.Context, conversationID string) (Conversation, error) {
	const op = "ghl: get conversation"
	if err := needIDs(op, "conversation id", conversationID); err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err := c.getJSON(ctx, op, routeGetConversation, fill(routeGetConversation.path, conversationID), nil,
		func(b []byte) (err error) { out, err = decodeConversation(b); return err })
	return out, err
}

// maxSearchLimit is the largest search page HighLevel serves.
const maxSearchLimit = 100

// SearchStatus filters a conversation search.
type SearchStatus string

// Search filters HighLevel offers (the spec's enum for status).
const (
	// SearchAll is every conversation, whatever its state.
	SearchAll SearchStatus = "all"
	// SearchRead and SearchUnread split conversations by whether they
	// have unread messages.
	SearchRead, SearchUnread SearchStatus = "read", "unread"
	// SearchStarred is the conversations a user starred.
	SearchStarred SearchStatus = "starred"
	// SearchRecents is in the spec's enum but not in its description;
	// HighLevel decides what counts as recent.
	SearchRecents SearchStatus = "recents"
)

// SearchConversationsRequest filters and pages a conversation search.
// Results come newest last message first.
type SearchConversationsRequest struct {
	// LocationID defaults to the client's location.
	LocationID string
	ContactID  string
	// Query matches contact name, email, phone and the last message.
	Query  string
	Status SearchStatus
	// Limit is the page size (HighLevel's default 20; more than 100 is
	// sent as 100).
	Limit int
	// StartAfter resumes after the conversation with this sort value
	// (Conversation.SortValue, epoch milliseconds); 0 starts at the newest.
	StartAfter int64
}

// SearchConversationsPage reads one page of search results.
func (c *Client) SearchConversationsPage(ctx context.Context, req SearchConversationsRequest) (ConversationPage, error) {
	const op = "ghl: search conversations"
	q := url.Values{}
	loc := req.LocationID
	if loc == "" {
		loc = c.location
	}
	q.Set("locationId", loc)
	if req.ContactID != "" {
		q.Set("contactId", req.ContactID)
	}
	if req.Query != "" {
		q.Set("query", req.Query)
	}
	if req.Status != "" {
		q.Set("status", string(req.Status))
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(req.Limit, maxSearchLimit)))
	}
	if req.StartAfter > 0 {
		q.Set("startAfterDate", strconv.FormatInt(req.StartAfter, 10))
	}
	var out ConversationPage
	err := c.getJSON(ctx, op, routeSearchConversations, routeSearchConversations.path, q,
		func(b []byte) (err error) { out, err = decodeSearch(b); return err })
	return out, err
}

// SearchConversations iterates over every conversation matching req,
// fetching pages as needed and stopping early when the caller breaks. An
// error is yielded once, as the last element.
//
// Pages are cursored by startAfterDate, the last item's sort value. The
// cursor is exclusive, so conversations sharing the last item's sort value
// (two messages in the same millisecond) would be skipped; the iterator
// therefore asks again from just after that value and drops the ones it
// has already yielded. Only when a whole page shares one sort value does it
// step past the value, which can still miss ties beyond that page.
func (c *Client) SearchConversations(ctx context.Context, req SearchConversationsRequest) iter.Seq2[Conversation, error] {
	return func(yield func(Conversation, error) bool) {
		limit := 20
		if req.Limit > 0 {
			limit = min(req.Limit, maxSearchLimit)
		}
		seen, total := 0, -1
		// edge is the lowest sort value yielded so far; atEdge the ids
		// yielded with it, which an inclusive request returns again.
		edge, atEdge := int64(0), map[string]bool{}
		for {
			page, err := c.SearchConversationsPage(ctx, req)
			if err != nil {
				yield(Conversation{}, err)
				return
			}
			fresh := 0
			for _, conv := range page.Conversations {
				if edge != 0 && (conv.SortValue > edge || conv.SortValue == edge && atEdge[conv.ID]) {
					// Already yielded: newer than the cursor (a server
					// ignoring it) or a tie asked for again.
					continue
				}
				if conv.SortValue != edge && (edge == 0 || conv.SortValue < edge) {
					edge = conv.SortValue
					clear(atEdge)
				}
				if conv.SortValue == edge {
					atEdge[conv.ID] = true
				}
				fresh++
				if !yield(conv, nil) {
					return
				}
			}
			n := len(page.Conversations)
			seen += fresh
			if total < 0 && req.StartAfter == 0 {
				// The first page's total counts every match.
				total = page.Total
			}
			if n == 0 || n < limit || (total > 0 && seen >= total) {
				return
			}
			last := page.Conversations[n-1].SortValue
			next := last + 1
			if fresh == 0 {
				// A whole page of one sort value: step past it.
				next = last
			}
			if last <= 0 || (req.StartAfter > 0 && next > req.StartAfter) || (fresh == 0 && next >= req.StartAfter) {
				// Results are newest first: a cursor that does not move
				// back in time would page forever.
				yield(Conversation{}, fmt.Errorf("ghl: search conversations: paging stopped: the cursor did not advance (%d after %d)", last, req.StartAfter))
				return
			}
			req.StartAfter = next
		}
	}
}

// CreateConversation creates the conversation for a contact in the
// client's location. HighLevel keeps one conversation per contact, so a
// second create fails (ErrValidation). Never retried after an uncertain
// outcome: the error is then ErrOutcomeUnknown, and the caller should
// search by contact before creating again.
func (c *Client) CreateConversation(ctx context.Context, contactID string) (Conversation, error) {
	const op = "ghl: create conversation"
	if err := needIDs(op, "contact id", contactID); err != nil {
		return Conversation{}, err
	}
	body := struct {
		LocationID string `json:"locationId"`
		ContactID  string `json:"contactId"`
	}{c.location, contactID}
	b, err := jsonBody(op, body)
	if err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err = c.do(ctx, &request{
		op: op, rt: routeCreateConversation, path: routeCreateConversation.path, class: unsafe,
		body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeConversation(b); return err },
	})
	return out, err
}

// UpdateConversationRequest changes a conversation; nil fields stay as
// they are.
type UpdateConversationRequest struct {
	UnreadCount *int
	Starred     *bool
	// Feedback is an opaque object HighLevel stores with the conversation.
	Feedback json.RawMessage
}

// UpdateConversation changes a conversation and returns it as updated.
func (c *Client) UpdateConversation(ctx context.Context, conversationID string, req UpdateConversationRequest) (Conversation, error) {
	const op = "ghl: update conversation"
	if err := needIDs(op, "conversation id", conversationID); err != nil {
		return Conversation{}, err
	}
	body := struct {
		LocationID  string          `json:"locationId"`
		UnreadCount *int            `json:"unreadCount,omitempty"`
		Starred     *bool           `json:"starred,omitempty"`
		Feedback    json.RawMessage `json:"feedback,omitempty"`
	}{c.location, req.UnreadCount, req.Starred, req.Feedback}
	b, err := jsonBody(op, body)
	if err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err = c.do(ctx, &request{
		op: op, rt: routeUpdateConversation, path: fill(routeUpdateConversation.path, conversationID), class: idempotent,
		body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeConversation(b); return err },
	})
	return out, err
}

// DeleteConversation deletes a conversation and its messages in HighLevel.
// A retry that finds the conversation gone (its first attempt was applied
// but the answer lost) counts as success.
func (c *Client) DeleteConversation(ctx context.Context, conversationID string) error {
	const op = "ghl: delete conversation"
	if err := needIDs(op, "conversation id", conversationID); err != nil {
		return err
	}
	return c.do(ctx, &request{
		op: op, rt: routeDeleteConversation, path: fill(routeDeleteConversation.path, conversationID), class: idempotent,
		goneOK: true,
		decode: func(b []byte) error {
			ok, err := decodeSuccess(b)
			if err == nil && !ok {
				return &fieldError{field: "success", err: fmt.Errorf("HighLevel answered success: false")}
			}
			return err
		},
	})
}
