package ghl

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// tiedSearchServer answers GET /conversations/search as HighLevel does,
// newest first with an exclusive startAfterDate cursor, over conversations
// whose sort values repeat, which the sandbox never produces. ignoreCursor
// makes it answer the first page whatever the cursor says.
func tiedSearchServer(t *testing.T, sorts []int64, ignoreCursor bool) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		after, _ := strconv.ParseInt(r.URL.Query().Get("startAfterDate"), 10, 64)
		if ignoreCursor {
			after = 0
		}
		var page []map[string]any
		for i, v := range sorts { // sorts is already newest first
			if (after == 0 || v < after) && len(page) < limit {
				page = append(page, map[string]any{"id": fmt.Sprintf("c%02d", i), "locationId": "loc", "contactId": fmt.Sprintf("k%02d", i), "sort": []int64{v}})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"conversations": page, "total": len(sorts)})
	}))
	t.Cleanup(hs.Close)
	return hs
}

func TestSearchConversationsKeepsTies(t *testing.T) {
	tests := []struct {
		name  string
		sorts []int64
		// want is how many conversations the iterator yields.
		want int
	}{
		{"no ties", []int64{9, 8, 7, 6, 5, 4, 3}, 7},
		{"a tie across a page boundary", []int64{9, 8, 7, 7, 7, 6, 5}, 7},
		{"as many ties as a page holds", []int64{9, 8, 7, 7, 7, 6}, 6},
		// More ties than a page holds: an exclusive cursor cannot tell
		// them apart, so only a page's worth is reachable; the iterator
		// must step past the value rather than loop.
		{"more ties than a page", []int64{9, 7, 7, 7, 7, 7, 7, 7, 1}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := tiedSearchServer(t, tc.sorts, false)
			c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for conv, err := range c.SearchConversations(ctxT(t), SearchConversationsRequest{Limit: 3}) {
				if err != nil {
					t.Fatal(err)
				}
				if ids[conv.ID] {
					t.Errorf("%s yielded twice", conv.ID)
				}
				ids[conv.ID] = true
			}
			if len(ids) != tc.want {
				t.Errorf("yielded %d conversations, want %d", len(ids), tc.want)
			}
		})
	}
}

func TestSearchConversationsStopsWhenTheCursorIsIgnored(t *testing.T) {
	hs := tiedSearchServer(t, []int64{9, 8, 7, 6, 5, 4, 3}, true)
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	var yielded int
	var last error
	for _, err := range c.SearchConversations(ctxT(t), SearchConversationsRequest{Limit: 3}) {
		if err != nil {
			last = err
			break
		}
		yielded++
	}
	if last == nil || yielded != 3 {
		t.Errorf("yielded %d then %v; want the first page once, then a paging error", yielded, last)
	}
}
