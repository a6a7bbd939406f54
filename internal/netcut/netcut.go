// Package netcut is a TCP forwarder that stands in for the network between
// two nodes on one machine: cutting it is a partition, healing it ends one.
// `fluidb demo` partitions its pair with it, and the process-level tests
// theirs.
package netcut

import (
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Forwarder is a TCP proxy on 127.0.0.1:0 in front of one node. A node
// replicates from its peer through the forwarder in front of that peer, so
// a test partitions the pair by cutting forwarders. Cut closes every
// current connection (both ends see the link drop at once) and holds new
// ones: either unanswered (blackholed: accepted but not forwarded, like a
// partition that drops packets) or closed as soon as they arrive (refused).
// Heal forwards new connections again and lets the held ones through, as a
// healed network delivers the packets a client kept retransmitting.
type Forwarder struct {
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

// New starts a forwarder to target (host:port).
func New(target string) (*Forwarder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Forwarder{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.acceptLoop()
	return f, nil
}

// Port is the port the forwarder listens on.
func (f *Forwarder) Port() int { return f.ln.Addr().(*net.TCPAddr).Port }

// Addr is 127.0.0.1:Port.
func (f *Forwarder) Addr() string { return "127.0.0.1:" + strconv.Itoa(f.Port()) }

// SetTarget points new connections at addr (a restarted node's new port).
func (f *Forwarder) SetTarget(addr string) {
	f.mu.Lock()
	f.target = addr
	f.mu.Unlock()
}

// Cut drops every connection through f and blackholes new ones until Heal.
func (f *Forwarder) Cut() { f.cutMode(false) }

// CutRefusing drops every connection through f and closes new ones on
// arrival until Heal.
func (f *Forwarder) CutRefusing() { f.cutMode(true) }

func (f *Forwarder) cutMode(refuse bool) {
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
func (f *Forwarder) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = false
	for _, c := range f.held {
		f.startPipe(c)
	}
	f.held = nil
}

func (f *Forwarder) acceptLoop() {
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
func (f *Forwarder) startPipe(c net.Conn) {
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

// Close stops the forwarder and every connection through it.
func (f *Forwarder) Close() {
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
