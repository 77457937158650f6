package activedemand

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PageToken is an opaque position in a paged list. The empty token is the
// first page; a Page with an empty Next is the last.
type PageToken string

// Page is one page of a list.
type Page[T any] struct {
	Items []T
	// Next fetches the following page; empty when this is the last.
	Next PageToken
}

// pageParams turns a token into the query for the route's paging scheme.
func pageParams(op string, p Paging, tok PageToken) (url.Values, int64, error) {
	q := url.Values{}
	if p.SizeParam != "" && p.Scheme != PagingNone && p.PageSize > 0 {
		q.Set(p.SizeParam, strconv.Itoa(p.PageSize))
	}
	bad := func() (url.Values, int64, error) {
		return nil, 0, fmt.Errorf("activedemand: %s: page token %q does not fit the route's paging (%s); start the listing again", op, tok, p.Scheme)
	}
	num := func(prefix string) (int64, bool) {
		s, ok := strings.CutPrefix(string(tok), prefix)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0
	}
	switch p.Scheme {
	case PagingPage:
		n := int64(p.FirstPage)
		if tok != "" {
			var ok bool
			if n, ok = num("p:"); !ok {
				return bad()
			}
		}
		q.Set(p.PageParam, strconv.FormatInt(n, 10))
		return q, n, nil
	case PagingOffset:
		var n int64
		if tok != "" {
			var ok bool
			if n, ok = num("o:"); !ok {
				return bad()
			}
		}
		q.Set(p.PageParam, strconv.FormatInt(n, 10))
		return q, n, nil
	case PagingCursor:
		if tok != "" {
			c, ok := strings.CutPrefix(string(tok), "c:")
			if !ok || c == "" {
				return bad()
			}
			q.Set(p.PageParam, c)
		}
		return q, 0, nil
	default:
		if tok != "" {
			return bad()
		}
		return q, 0, nil
	}
}

// fetchPage sends one list request with the paging query q and decodes
// its items; it also returns the parsed reply and the headers, where a
// cursor may be.
func fetchPage[T any](ctx context.Context, c *Client, op, route string, args map[string]string, q url.Values, itemsField string, dec func(*fields) T) ([]T, any, http.Header, error) {
	var items []T
	var top any
	rep, err := c.do(ctx, call{op: op, route: route, args: args, page: q, decode: func(rep reply) error {
		var err error
		items, top, err = decodeItems(op, rep.body, itemsField, dec)
		return err
	}})
	if err != nil {
		return nil, nil, nil, err
	}
	return items, top, rep.header, nil
}

// listPage fetches one page of a list route and decodes its items.
func listPage[T any](ctx context.Context, c *Client, op, route string, args map[string]string, tok PageToken, dec func(*fields) T) (Page[T], error) {
	rt, ok := c.routes.Route(route)
	if !ok {
		return Page[T]{}, fmt.Errorf("activedemand: %s: route %q is not in the table", op, route)
	}
	p := rt.Paging
	q, pos, err := pageParams(op, p, tok)
	if err != nil {
		return Page[T]{}, err
	}
	items, top, header, err := fetchPage(ctx, c, op, route, args, q, p.ItemsField, dec)
	if err != nil {
		return Page[T]{}, err
	}
	page := Page[T]{Items: items}
	switch p.Scheme {
	case PagingPage:
		if len(items) > 0 {
			page.Next = PageToken("p:" + strconv.FormatInt(pos+1, 10))
		}
	case PagingOffset:
		if len(items) > 0 {
			page.Next = PageToken("o:" + strconv.FormatInt(pos+int64(len(items)), 10))
		}
	case PagingCursor:
		next, err := cursorFrom(op, p, top, header)
		if err != nil {
			return Page[T]{}, err
		}
		if next != "" {
			page.Next = PageToken("c:" + next)
		}
	}
	return page, nil
}

// cursorFrom reads the next-page cursor from a header or a reply field.
func cursorFrom(op string, p Paging, top any, header http.Header) (string, error) {
	var next string
	if p.CursorIn == CursorInHeader {
		next = header.Get(p.CursorName)
	} else if obj, ok := top.(object); ok {
		f := newFields(op, -1, obj)
		next = f.str(p.CursorName)
		if f.err != nil {
			return "", f.err
		}
	}
	return strings.TrimSpace(next), nil
}

// decodeItems reads a list reply into items with dec; it also returns the
// parsed reply, where a cursor field may be.
func decodeItems[T any](op string, body []byte, itemsField string, dec func(*fields) T) ([]T, any, error) {
	v, err := parseJSON(op, body)
	if err != nil {
		return nil, nil, err
	}
	objs, err := listItems(op, v, itemsField)
	if err != nil {
		return nil, nil, err
	}
	items := make([]T, 0, len(objs))
	for i, o := range objs {
		f := newFields(op, i, o)
		item := dec(f)
		if f.err != nil {
			return nil, nil, f.err
		}
		items = append(items, item)
	}
	return items, v, nil
}

// pages walks a paged list. key identifies an item; it guards against a
// server that ignores the paging parameters and returns the same page
// again (which would otherwise loop forever).
func pages[T any](ctx context.Context, op string, fetch func(context.Context, PageToken) (Page[T], error), key func(T) ID) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var tok PageToken
		prev := ""
		seen := map[PageToken]bool{}
		for {
			p, err := fetch(ctx, tok)
			if err != nil {
				yield(zero, err)
				return
			}
			if n := len(p.Items); n > 0 && key != nil {
				k := fmt.Sprintf("%d|%s|%s", n, key(p.Items[0]), key(p.Items[n-1]))
				if tok != "" && k == prev && key(p.Items[0]) != "" {
					yield(zero, fmt.Errorf("activedemand: %s: %w; set paging scheme = \"none\" for this route in the routes file, or correct its paging parameters", op, ErrPagingIgnored))
					return
				}
				prev = k
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			if seen[p.Next] {
				yield(zero, fmt.Errorf("activedemand: %s: %w (the next-page token repeats)", op, ErrPagingIgnored))
				return
			}
			seen[p.Next] = true
			tok = p.Next
		}
	}
}

// collect gathers a whole listing.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
