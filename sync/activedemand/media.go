package activedemand

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxMediaBytes is the largest media file DownloadMedia reads when
// the media.download route sets no max_bytes: a message's media URL comes
// from ActiveDEMAND's data and may name any host.
const DefaultMaxMediaBytes = 100 << 20

var (
	// ErrMediaTooLarge: a media file was larger than the limit
	// (max_bytes of the media.download route, DefaultMaxMediaBytes by
	// default); the download stopped there.
	ErrMediaTooLarge = errors.New("the media file is larger than Parley downloads")
	// ErrMediaBlocked: a media URL, or a redirect from it, leads to a
	// loopback, private, link-local or other internal address while the
	// API itself is not on one.
	ErrMediaBlocked = errors.New("the media URL leads to a private or local network address")
)

// mediaGuard decides which addresses media may come from. The zero value
// looks hosts up with the system resolver and refuses internal addresses;
// tests replace the parts.
type mediaGuard struct {
	// lookup resolves a host name for the check made before the request.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// blocked reports whether an address may not be connected to.
	blocked func(netip.AddrPort) bool
}

func (g mediaGuard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if g.lookup != nil {
		return g.lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (g mediaGuard) isBlocked(ap netip.AddrPort) bool {
	if g.blocked != nil {
		return g.blocked(ap)
	}
	return internalAddr(ap.Addr())
}

var (
	// sharedAddrSpace is carrier-grade NAT (RFC 6598): not public.
	sharedAddrSpace = netip.MustParsePrefix("100.64.0.0/10")
	// thisNetwork (0.0.0.0/8) reaches the local host on Linux.
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
)

// internalAddr reports whether a is loopback, private, link-local,
// multicast, unspecified, or otherwise not a public unicast address.
func internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() ||
		sharedAddrSpace.Contains(a) || thisNetwork.Contains(a)
}

// DownloadMedia implements Conversations: it streams mediaURL (absolute,
// or relative to the base URL) to w, up to the media.download route's
// max_bytes (DefaultMaxMediaBytes when unset). The keys go only to URLs
// below the base URL, never to a third-party file host or elsewhere on the
// API host. Unless the base URL itself is on a loopback or private address
// (the sandbox, the demo), media on such addresses is refused, checked
// both before the request and for every connection it opens, redirects
// included.
func (c *Client) DownloadMedia(ctx context.Context, mediaURL string, w io.Writer) (int64, error) {
	return c.downloadMedia(ctx, mediaURL, w, mediaGuard{})
}

func (c *Client) downloadMedia(ctx context.Context, mediaURL string, w io.Writer, g mediaGuard) (int64, error) {
	const op = "download media"
	if strings.TrimSpace(mediaURL) == "" {
		return 0, fmt.Errorf("activedemand: %s: the URL is empty", op)
	}
	cl := call{op: op, route: RouteMediaDownload, args: map[string]string{"url": mediaURL}}
	rt, u, _, _, err := c.request(cl)
	if err != nil {
		return 0, c.scrub.Error(err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return 0, fmt.Errorf("activedemand: %s: %q is not an http(s) URL", op, truncate(c.scrub.String(u.Redacted()), 200))
	}
	if c.sameHost(u) && !c.belowBase(u) {
		return 0, fmt.Errorf("activedemand: %s: %s is on the API host but outside the API root %s; Parley sends the keys only below it, so ask ActiveDEMAND where the file really is", op, truncate(u.EscapedPath(), 200), c.base.Path)
	}
	// The base URL on an internal address means a sandbox or a local
	// proxy: media from the same kind of place is expected.
	guard := !c.onInternalAddr(ctx)
	mc := *c
	if guard {
		addrs, err := g.resolve(ctx, u.Hostname())
		if err != nil {
			return 0, fmt.Errorf("activedemand: %s: look up %s: %w", op, u.Hostname(), err)
		}
		for _, a := range addrs {
			if g.isBlocked(netip.AddrPortFrom(a, 0)) {
				return 0, blockedError(op, u.Hostname(), a)
			}
		}
		hc, done := g.client(c.hc)
		defer done()
		mc.hc = hc
	}
	mc.hc = mc.mediaRedirects(mc.hc)
	limit := rt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxMediaBytes
	}
	cw := &capWriter{w: w, left: limit}
	cl.sink = cw
	_, err = mc.do(ctx, cl)
	// do reports no count on failure; what reached w is what the caller
	// has to discard.
	written := limit - cw.left
	if errors.Is(err, ErrMediaTooLarge) {
		return written, fmt.Errorf("activedemand: %s from %s: the file is larger than %d bytes, the most Parley downloads (%w); if the file is genuine, raise max_bytes of the %q route in the routes file",
			op, u.Hostname(), limit, ErrMediaTooLarge, RouteMediaDownload)
	}
	return written, err
}

func blockedError(op, host string, a netip.Addr) error {
	return fmt.Errorf("activedemand: %s: %s is at %s, a private or local network address, while the ActiveDEMAND API is not (%w); a media URL from ActiveDEMAND should name a public file host", op, host, a, ErrMediaBlocked)
}

// belowBase reports whether u, on the API host, stays below the base
// URL's path once percent-encoding is decoded as a server would.
func (c *Client) belowBase(u *url.URL) bool {
	p := u.Path // decoded: %2e%2e is ".." here
	if !strings.HasPrefix(p, c.base.Path) || strings.Contains(p, `\`) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// onInternalAddr reports whether the base URL's host is on an internal
// address; a host that cannot be looked up counts as public, the stricter
// choice.
func (c *Client) onInternalAddr(ctx context.Context) bool {
	addrs, err := mediaGuard{}.resolve(ctx, c.base.Hostname())
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if internalAddr(a) {
			return true
		}
	}
	return false
}

// mediaRedirects wraps hc's redirect policy: a redirect on the API host
// must stay below the base URL too, since the keys follow it there.
func (c *Client) mediaRedirects(hc *http.Client) *http.Client {
	out := *hc
	prev := hc.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if c.sameHost(req.URL) && !c.belowBase(req.URL) {
			return fmt.Errorf("redirected to %s, on the API host but outside the API root %s; Parley sends the keys only below it", req.URL.EscapedPath(), c.base.Path)
		}
		if prev != nil {
			return prev(req, via)
		}
		return nil
	}
	return &out
}

// client returns a copy of hc whose connections are checked as they are
// made, so a host that looked public before the request cannot connect
// to an internal address (DNS rebinding, a redirect). done releases the
// copy's idle connections. A transport Parley cannot adjust (not an
// *http.Transport) is used as it is, checked before the request only.
func (g mediaGuard) client(hc *http.Client) (*http.Client, func()) {
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	base, ok := rt.(*http.Transport)
	if !ok {
		return hc, func() {}
	}
	tr := base.Clone()
	// A proxy resolves the target itself; the connection Parley makes is
	// to the proxy, which the user chose, so it is not checked.
	var mu sync.Mutex
	proxies := map[string]bool{}
	if proxy := tr.Proxy; proxy != nil {
		tr.Proxy = func(req *http.Request) (*url.URL, error) {
			pu, err := proxy(req)
			if pu != nil {
				port := pu.Port()
				if port == "" {
					port = map[string]string{"https": "443", "socks5": "1080"}[pu.Scheme]
					if port == "" {
						port = "80"
					}
				}
				mu.Lock()
				proxies[net.JoinHostPort(pu.Hostname(), port)] = true
				mu.Unlock()
			}
			return pu, err
		}
	}
	plain := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	checked := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("connect to %s: %w", address, ErrMediaBlocked)
			}
			if g.isBlocked(ap) {
				return fmt.Errorf("connect to %s, a private or local network address: %w", ap.Addr().Unmap(), ErrMediaBlocked)
			}
			return nil
		}}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		viaProxy := proxies[addr]
		mu.Unlock()
		if viaProxy {
			return plain.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
	// A custom TLS dialer would bypass the check; the transport's TLS
	// config still applies over DialContext.
	tr.DialTLSContext = nil
	//lint:ignore SA1019 cleared for the same reason: a transport may still set it
	tr.DialTLS = nil
	out := *hc
	out.Transport = tr
	return &out, tr.CloseIdleConnections
}

// capWriter passes at most left bytes to w, then fails with
// ErrMediaTooLarge, which stops the download.
type capWriter struct {
	w    io.Writer
	left int64
}

func (cw *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= cw.left {
		n, err := cw.w.Write(p)
		cw.left -= int64(n)
		return n, err
	}
	n, err := cw.w.Write(p[:cw.left])
	cw.left -= int64(n)
	if err != nil {
		return n, err
	}
	return n, ErrMediaTooLarge
}
