package activetest

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// forwarder is a TCP proxy on 127.0.0.1:0 in front of one node. A node
// replicates from its peer through the forwarder in front of that peer, so
// a test partitions the pair by cutting forwarders. Cut closes every
// current connection (both ends see the link drop at once) and holds new
// ones: either unanswered (blackholed: accepted but not forwarded, like a
// partition that drops packets) or closed as soon as they arrive (refused).
// Heal forwards new connections again and lets the held ones through, as a
// healed network delivers the packets a client kept retransmitting.
type forwarder struct {
	t  testing.TB
	ln net.Listener

	mu     sync.Mutex
	target string
	cut    bool
	refuse bool
	gen    int // bumped by Cut: a connection accepted before it never passes
	closed bool
	conns  map[net.Conn]struct{}
	held   []net.Conn
	wg     sync.WaitGroup
}

func newForwarder(t testing.TB, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.acceptLoop()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *forwarder) portString() string { return strconv.Itoa(f.port()) }

// setTarget points new connections at addr (a restarted node's new port).
func (f *forwarder) setTarget(addr string) {
	f.mu.Lock()
	f.target = addr
	f.mu.Unlock()
}

// Cut drops every connection through f and blackholes new ones until Heal.
func (f *forwarder) Cut() { f.cutMode(false) }

// CutRefusing drops every connection through f and closes new ones on
// arrival until Heal.
func (f *forwarder) CutRefusing() { f.cutMode(true) }

func (f *forwarder) cutMode(refuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut, f.refuse = true, refuse
	f.gen++
	for c := range f.conns {
		c.Close()
	}
	if refuse {
		for _, c := range f.held {
			c.Close()
		}
		f.held = nil
	}
}

// Heal forwards again, including the connections held while cut.
func (f *forwarder) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = false
	for _, c := range f.held {
		f.startPipe(c)
	}
	f.held = nil
}

func (f *forwarder) acceptLoop() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		switch {
		case f.closed || (f.cut && f.refuse):
			c.Close()
		case f.cut:
			f.held = append(f.held, c)
		default:
			f.startPipe(c)
		}
		f.mu.Unlock()
	}
}

// startPipe dials the target for client c and copies both ways. f.mu held.
func (f *forwarder) startPipe(c net.Conn) {
	gen, target := f.gen, f.target
	f.conns[c] = struct{}{}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		s, err := net.DialTimeout("tcp", target, 2*time.Second)
		f.mu.Lock()
		if err != nil || f.gen != gen || f.closed {
			delete(f.conns, c)
			f.mu.Unlock()
			c.Close()
			if s != nil {
				s.Close()
			}
			return
		}
		f.conns[s] = struct{}{}
		f.mu.Unlock()
		done := make(chan struct{}, 2)
		cp := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			// One direction ended: drop the whole connection, as a
			// proxy in the middle of a TCP stream would.
			dst.Close()
			src.Close()
			done <- struct{}{}
		}
		go cp(s, c)
		go cp(c, s)
		<-done
		<-done
		f.mu.Lock()
		delete(f.conns, c)
		delete(f.conns, s)
		f.mu.Unlock()
	}()
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	f.gen++
	f.ln.Close()
	for c := range f.conns {
		c.Close()
	}
	for _, c := range f.held {
		c.Close()
	}
	f.held = nil
	f.mu.Unlock()
	f.wg.Wait()
}

// TestForwarder checks the tool the other tests rely on: traffic passes,
// Cut drops live connections and holds or refuses new ones, Heal lets the
// held ones through.
func TestForwarder(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	f := newForwarder(t, echo.Addr().String())
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", "127.0.0.1:"+f.portString())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	roundTrip := func(c net.Conn, r *bufio.Reader, msg string, wait time.Duration) (string, error) {
		_ = c.SetDeadline(time.Now().Add(wait))
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}

	c1, r1 := dial()
	if got, err := roundTrip(c1, r1, "one", 2*time.Second); err != nil || got != "one\n" {
		t.Fatalf("through the forwarder: %q, %v", got, err)
	}
	f.Cut()
	if got, err := roundTrip(c1, r1, "two", 2*time.Second); err == nil {
		t.Fatalf("a connection survived Cut: read %q", got)
	}
	c2, r2 := dial()
	if got, err := roundTrip(c2, r2, "held", 200*time.Millisecond); err == nil {
		t.Fatalf("a new connection passed while cut: read %q", got)
	}
	f.Heal()
	_ = c2.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := r2.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("held connection after Heal: %q, %v", got, err)
	}
	f.CutRefusing()
	c3, r3 := dial()
	if got, err := roundTrip(c3, r3, "refused", 2*time.Second); err == nil {
		t.Fatalf("a new connection passed while cut (refusing): read %q", got)
	}
	f.Heal()
	c4, r4 := dial()
	if got, err := roundTrip(c4, r4, "four", 2*time.Second); err != nil || got != "four\n" {
		t.Fatalf("after Heal: %q, %v", got, err)
	}
}
