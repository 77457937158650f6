package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// connCounter forwards loopback TCP connections to a server and counts
// them: how many connections a client opened, seen from outside it.
type connCounter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	n      int
	open   []net.Conn
	wg     sync.WaitGroup
}

func newConnCounter(t *testing.T, serverURL string) *connCounter {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln, target: u.Host}
	c.wg.Go(c.accept)
	t.Cleanup(func() {
		ln.Close()
		c.mu.Lock()
		for _, cn := range c.open {
			cn.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
	})
	return c
}

func (c *connCounter) URL() string { return "http://" + c.ln.Addr().String() }

func (c *connCounter) conns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *connCounter) accept() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", c.target)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.n++
		c.open = append(c.open, in, out)
		c.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		c.wg.Go(func() { pipe(out, in) })
		c.wg.Go(func() { pipe(in, out) })
	}
}

// TestRunReusesHighLevelConnections: the HighLevel client Run builds keeps
// enough idle connections for its workers, so a mirror of hundreds of
// messages reuses a few connections. With the standard library's two idle
// connections per host, four workers opened one for about every other
// call; against the real API each is a TLS handshake.
func TestRunReusesHighLevelConnections(t *testing.T) {
	as := adtest.NewTestServer(t, adtest.Options{})
	const contacts, messages = 3, 300
	convs := make([]activedemand.ID, contacts)
	ids := make([]activedemand.ID, contacts)
	for i := range contacts {
		c, err := as.AddContact(adtest.NewContact{FirstName: "Conn", LastName: fmt.Sprint(i),
			Email: fmt.Sprintf("conn%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	for i := range messages {
		k := i % contacts
		m, err := as.AddMessage(adtest.NewMessage{ConversationID: convs[k], ContactID: ids[k], Channel: "sms",
			Direction: activedemand.Inbound, Body: fmt.Sprint("message ", i), At: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		convs[k] = m.ConversationID
	}
	gs := ghltest.NewTestServer(t, ghltest.Options{SeedTime: t0})
	cc := newConnCounter(t, gs.URL())
	const workers = 4
	sum, err := engine.Run(context.Background(), engine.RunConfig{Store: newStore(t),
		GHL: ghl.Config{BaseURL: cc.URL(), LocationID: gs.LocationID(), PrivateToken: ghl.Secret(gs.PrivateToken()),
			RateLimit: ghl.RateLimit{Disabled: true}},
		AD: as.ClientConfig(), ProviderID: gs.ConversationProviderID(), Workers: workers, Once: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Messages() != messages {
		t.Fatalf("recorded %d messages, want %d", sum.Messages(), messages)
	}
	t.Logf("%d connections", cc.conns())
	if n := cc.conns(); n > 2*workers {
		t.Errorf("%d connections to HighLevel for %d calls on %d workers, want at most %d", n, gs.Traffic().Records, workers, 2*workers)
	}
}
