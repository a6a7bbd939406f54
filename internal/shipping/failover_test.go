package shipping

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

// How quickly HAProxy must notice a dead node: haproxy.cfg checks every
// second (inter 1s) and marks a node down after two failures (fall 2),
// plus a check's duration and the slack a loaded machine needs.
const markedDownWithin = 5 * time.Second

// writer writes w:0, w:1, ... through a front end, each until it is
// acknowledged, as an application with a retrying client does, and keeps
// the longest wait between two acknowledged writes.
type writer struct {
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	acked   int
	longest time.Duration
	err     error
}

func startWriter(t *testing.T, addr, password string) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		r := &redialer{addr: addr, password: password}
		defer r.close()
		last := time.Now()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			_, err := r.do(time.Now().Add(10*time.Second), "SET", "w:"+itoa(i), itoa(i))
			now := time.Now()
			w.mu.Lock()
			if err != nil {
				w.err = err
				w.mu.Unlock()
				return
			}
			w.acked = i + 1
			w.longest = max(w.longest, now.Sub(last))
			w.mu.Unlock()
			last = now
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *writer) state() (acked int, longest time.Duration, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked, w.longest, w.err
}

// waitAcked waits until the writer has n acknowledged writes.
func (w *writer) waitAcked(t *testing.T, n int, what string) {
	t.Helper()
	waitFor(t, 15*time.Second, what, func() (bool, string) {
		acked, _, err := w.state()
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
		return acked >= n, itoa(acked) + " writes acknowledged"
	})
}

// converged is a waitFor condition: the nodes hold the same data, by
// DEBUG DIGEST (which covers keys, values and expiry times).
func converged(password string, nodes ...*node) func() (bool, string) {
	return func() (bool, string) {
		var digests []string
		for _, n := range nodes {
			c, err := connect(n.addr())
			if err != nil {
				return false, n.name + ": " + err.Error()
			}
			_, _ = c.do("AUTH", password)
			d, err := c.do("DEBUG", "DIGEST")
			c.close()
			if err != nil {
				return false, n.name + ": " + err.Error()
			}
			digests = append(digests, n.name+" "+d)
			if d != strings.TrimPrefix(digests[0], nodes[0].name+" ") {
				return false, strings.Join(digests, ", ")
			}
		}
		return true, ""
	}
}

// The shipped haproxy.cfg in front of the shipped pair (instance-a.conf and
// instance-b.conf, ports rewritten, sharing one working directory as the
// files allow). The check passes on both active nodes and turns away a
// plain replica and a node with another password; round robin reaches
// both nodes, "first healthy" sends clients to A. A is killed (SIGKILL)
// while a client writes through HAProxy without pause: its writes go on
// succeeding on B, and the check marks A down within fall x inter. During
// the outage a key A saved is changed and another deleted. A restarts from
// its working directory with that stale snapshot, HAProxy sends clients to
// it again, and the pair converges: the same DEBUG DIGEST on both nodes,
// every acknowledged write on both, the outage's change and deletion kept.
func TestHAProxyFailsOverActivePair(t *testing.T) {
	testutil.Need(t, "haproxy")
	pass := load(t, "instance-a.conf").Requirepass
	p, a, b := startShippedPair(t)
	// Pair 2's places (unused by this test) hold what the check must turn
	// away: a plain read-only replica of A (role:slave) and an active node
	// whose password is not the check's.
	startNode(t, "c", p.c, t.TempDir(), "--port", itoa(p.c), "--save", "",
		"--requirepass", pass, "--masterauth", pass, "--replicaof", "127.0.0.1", itoa(p.a))
	startNode(t, "d", p.d, t.TempDir(), "--port", itoa(p.d), "--save", "",
		"--requirepass", "not-"+pass, "--active-replica", "yes")
	startHAProxy(t, p)
	stats, first, rr := loopback(p.stats), loopback(p.first), loopback(p.roundrobin)

	waitFor(t, 20*time.Second, "the pair links up", linked(pass, a, b))
	waitFor(t, 15*time.Second, "checks settle", haproxyShows(stats, map[string]string{
		"pair1_roundrobin/a": "UP", "pair1_roundrobin/b": "UP",
		"pair1_first/a": "UP", "pair1_first/b": "UP",
		"pair2_first/c": "DOWN", "pair2_first/d": "DOWN",
	}))

	if got := servedBy(t, first, pass); got != p.a {
		t.Fatalf("the first healthy front end reached node %d, want A (%d)", got, p.a)
	}
	seen := map[int]bool{}
	for i := 0; i < 6 && len(seen) < 2; i++ {
		seen[servedBy(t, rr, pass)] = true
	}
	if !seen[p.a] || !seen[p.b] || len(seen) != 2 {
		t.Fatalf("round robin reached %v, want A (%d) and B (%d)", seen, p.a, p.b)
	}

	// Data goes through HAProxy to A and on to B. A saves a snapshot: what
	// it will restart from.
	cl := login(t, first, pass)
	cl.must(t, "+OK", "SET", "shared", "before")
	cl.must(t, "+OK", "SET", "doomed", "yes")
	cl.close()
	direct := login(t, b.addr(), pass)
	waitFor(t, 10*time.Second, "B has A's writes", func() (bool, string) {
		got, err := direct.do("GET", "doomed")
		return err == nil && got == "yes", got
	})
	login(t, a.addr(), pass).must(t, "+OK", "SAVE")

	w := startWriter(t, first, pass)
	w.waitAcked(t, 20, "writes through HAProxy before the kill")

	a.kill()
	killed := time.Now()
	acked, _, _ := w.state()
	// Connections to A close with it; new ones that HAProxy still sends
	// to A are redispatched to B (retries, option redispatch), so writes
	// go on at once, before the check has marked A down.
	out := &redialer{addr: first, password: pass}
	defer out.close()
	for _, cmd := range [][]string{{"SET", "shared", "during"}, {"DEL", "doomed"}} {
		if _, err := out.do(time.Now().Add(markedDownWithin), cmd...); err != nil {
			t.Fatalf("through HAProxy, A killed %v ago: %v", time.Since(killed), err)
		}
	}
	w.waitAcked(t, acked+20, "writes through HAProxy after the kill")
	waitFor(t, 10*time.Second, "A marked down", haproxyShows(stats, map[string]string{
		"pair1_first/a": "DOWN", "pair1_roundrobin/a": "DOWN",
	}))
	took := time.Since(killed)
	if took > markedDownWithin {
		t.Errorf("A marked down %v after it was killed; haproxy.cfg's check should notice within %v", took, markedDownWithin)
	}
	t.Logf("A killed: marked down after %v", took.Round(100*time.Millisecond))
	if got := servedBy(t, first, pass); got != p.b {
		t.Fatalf("with A down, the first healthy front end reached node %d, want B (%d)", got, p.b)
	}
	for i := 0; i < 3; i++ {
		if got := servedBy(t, rr, pass); got != p.b {
			t.Fatalf("with A down, round robin reached node %d, want B (%d)", got, p.b)
		}
	}

	// A restarts from its working directory, holding the snapshot it
	// saved before the outage.
	loads := strings.Count(a.out.String(), "DB loaded from disk")
	a.start(t)
	back := time.Now()
	waitFor(t, 10*time.Second, "A loads its snapshot", func() (bool, string) {
		return strings.Count(a.out.String(), "DB loaded from disk") > loads, ""
	})
	waitFor(t, 10*time.Second, "A back up in HAProxy", haproxyShows(stats, map[string]string{
		"pair1_first/a": "UP", "pair1_roundrobin/a": "UP",
	}))
	t.Logf("A restarted: up again in HAProxy after %v", time.Since(back).Round(100*time.Millisecond))
	if got := servedBy(t, first, pass); got != p.a {
		t.Fatalf("with A back, the first healthy front end reached node %d, want A (%d)", got, p.a)
	}
	login(t, first, pass).must(t, "+OK", "SET", "after", "restart")
	acked, _, _ = w.state()
	w.waitAcked(t, acked+20, "writes through HAProxy after the restart")
	w.halt()
	acked, longest, err := w.state()
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("%d writes through HAProxy; longest wait for one: %v", acked, longest.Round(time.Millisecond))
	if longest > markedDownWithin {
		t.Errorf("a write through HAProxy waited %v", longest)
	}

	took = waitFor(t, 20*time.Second, "the pair links up again", linked(pass, a, b))
	took += waitFor(t, 20*time.Second, "the pair converges", converged(pass, a, b))
	t.Logf("A restarted: converged %v after HAProxy saw it up", took.Round(100*time.Millisecond))
	keys := make([]string, acked)
	want := make([]string, acked)
	for i := range keys {
		keys[i], want[i] = "w:"+itoa(i), itoa(i)
	}
	for _, n := range []*node{a, b} {
		c := login(t, n.addr(), pass)
		c.must(t, "during", "GET", "shared")
		c.must(t, ":0", "EXISTS", "doomed")
		c.must(t, "restart", "GET", "after")
		c.must(t, strings.Join(want, "\n"), append([]string{"MGET"}, keys...)...)
	}
}
