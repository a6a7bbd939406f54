package shipping

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

// The helpers of the live tests (failover_test.go, scaleout_test.go): real
// fluidb, haproxy and nutcracker processes on loopback ports.

func itoa(n int) string { return strconv.Itoa(n) }

func loopback(port int) string { return "127.0.0.1:" + itoa(port) }

// Servers started by these tests listen on 7200-7299 only, the range set
// aside for them on shared machines.
var ports = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

// port returns a loopback port in 7200-7299 that is free now and not
// handed out to another test of this process; it is released when the test
// ends (after the cleanups registered later, which stop its user).
func port(t *testing.T) int {
	t.Helper()
	ports.Lock()
	defer ports.Unlock()
	for p := 7200; p <= 7299; p++ {
		if ports.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", loopback(p))
		if err != nil {
			continue
		}
		ln.Close()
		ports.used[p] = true
		t.Cleanup(func() {
			ports.Lock()
			delete(ports.used, p)
			ports.Unlock()
		})
		return p
	}
	t.Fatal("no free port in 7200-7299")
	return 0
}

// waitFor polls cond until it holds or timeout passes, and returns how long
// that took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		if time.Since(start) > timeout {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after %v: %s; last state: %s", timeout, what, last)
	return 0
}

// node is a fluidb process: `fluidb serve` with args (a configuration file
// and/or directives) run in a working directory that outlives restarts.
type node struct {
	name string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	out  testutil.SyncBuffer
}

// startNode starts fluidb and waits until it accepts connections. args
// must make it listen on port.
func startNode(t *testing.T, name string, port int, dir string, args ...string) *node {
	t.Helper()
	n := &node{name: name, port: port, dir: dir, args: args}
	n.start(t)
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("node %s (%d) output:\n%s", n.name, n.port, n.out.String())
		}
	})
	return n
}

func (n *node) start(t *testing.T) {
	t.Helper()
	fmt.Fprintf(&n.out, "---- %s: fluidb serve %s\n", time.Now().Format("15:04:05.000"), strings.Join(n.args, " "))
	n.cmd = exec.Command(testutil.Binary(t), append([]string{"serve"}, n.args...)...)
	n.cmd.Dir = n.dir
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// It is up once it answers (PING before AUTH gets -NOAUTH, which is
	// an answer; -LOADING is not).
	waitFor(t, 15*time.Second, "node "+n.name+" answers on "+n.addr(), func() (bool, string) {
		if n.cmd.ProcessState != nil {
			return false, "exited"
		}
		c, err := connect(n.addr())
		if err != nil {
			return false, err.Error()
		}
		defer c.close()
		got, err := c.do("PING")
		if err != nil {
			return false, err.Error()
		}
		return got == "+PONG" || strings.HasPrefix(got, "-NOAUTH"), got
	})
}

// kill stops the process at once, as a crash or the OOM killer would
// (SIGKILL: nothing is saved on the way out).
func (n *node) kill() {
	if n.cmd != nil && n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		_ = n.cmd.Wait()
		fmt.Fprintf(&n.out, "---- %s: killed\n", time.Now().Format("15:04:05.000"))
	}
}

func (n *node) addr() string { return loopback(n.port) }

// client speaks just enough RESP for these tests. Replies come back as
// text: "+OK", "-ERR ...", ":3", a bulk string's content, "(nil)", or an
// array's elements joined by newlines.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func connect(addr string) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{c: c, r: bufio.NewReader(c)}, nil
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// login dials addr and authenticates.
func login(t *testing.T, addr, password string) *client {
	t.Helper()
	c := dial(t, addr)
	c.must(t, "+OK", "AUTH", password)
	return c
}

func (c *client) close() { c.c.Close() }

func (c *client) do(args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return "", err
	}
	return c.reply()
}

func (c *client) reply() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "(nil)", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = c.reply(); err != nil {
				return "", err
			}
		}
		return strings.Join(parts, "\n"), nil
	}
	return line, nil
}

func (c *client) must(t *testing.T, want string, args ...string) {
	t.Helper()
	got, err := c.do(args...)
	if err != nil || got != want {
		t.Fatalf("%v = %q, %v; want %q", args, got, err, want)
	}
}

// info returns one field of INFO section ("" when absent).
func (c *client) info(section, field string) (string, error) {
	text, err := c.do("INFO", section)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(text, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v, nil
		}
	}
	return "", nil
}

// redialer is a client that behaves like an application's connection pool
// through a proxy: a command that fails (the connection drops, or the
// proxy answers with an error because its server went away) is sent again
// on a fresh, authenticated connection until it succeeds or the deadline
// passes. Not for use by two goroutines at once.
type redialer struct {
	addr, password string
	c              *client
	retried        int
}

func (r *redialer) do(deadline time.Time, args ...string) (string, error) {
	var last error
	for {
		if r.c == nil {
			c, err := connect(r.addr)
			if err == nil {
				var got string
				if got, err = c.do("AUTH", r.password); err == nil && got != "+OK" {
					err = errors.New("AUTH: " + got)
				}
				if err != nil {
					c.close()
				} else {
					r.c = c
				}
			}
			last = err
		}
		if r.c != nil {
			got, err := r.c.do(args...)
			if err == nil && !strings.HasPrefix(got, "-") {
				return got, nil
			}
			if err == nil {
				err = errors.New(got)
			} else {
				r.c.close()
				r.c = nil
			}
			last = err
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%v: %w", args, last)
		}
		r.retried++
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redialer) close() {
	if r.c != nil {
		r.c.close()
		r.c = nil
	}
}

// rewrite returns a copy of a shipped file with strings replaced (from →
// to), failing if one of them is not in the file (the test would not test
// what it says).
func rewrite(t *testing.T, rel string, repl map[string]string) string {
	t.Helper()
	text := read(t, rel)
	var pairs []string
	for from, to := range repl {
		if !strings.Contains(text, from) {
			t.Fatalf("%s does not mention %q", rel, from)
		}
		pairs = append(pairs, from, to)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(rel))
	if err := os.WriteFile(path, []byte(strings.NewReplacer(pairs...).Replace(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// instance returns a copy of configs/instance-a.conf or instance-b.conf
// listening on port and replicating from the peer on peerPort; everything
// else is as shipped.
func instance(t *testing.T, rel string, port, peerPort int) string {
	t.Helper()
	c := load(t, rel)
	return rewrite(t, rel, map[string]string{
		"\nport " + itoa(c.Port) + "\n":                          "\nport " + itoa(port) + "\n",
		"\nreplicaof 127.0.0.1 " + itoa(c.ReplicaOf.Port) + "\n": "\nreplicaof 127.0.0.1 " + itoa(peerPort) + "\n",
	})
}

func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &testutil.SyncBuffer{} // across restarts, for a failed test's log
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return cmd
}

// haproxyPorts are the addresses haproxy.cfg uses, each given a port of the
// test's: the four nodes, the three front ends and the statistics page.
type haproxyPorts struct {
	a, b, c, d, roundrobin, first, first2, stats int
}

// startShippedPair gives every haproxy.cfg address a port and starts pair
// 1 (A and B) from the shipped instance files, naming each other.
func startShippedPair(t *testing.T) (p haproxyPorts, a, b *node) {
	t.Helper()
	p = haproxyPorts{a: port(t), b: port(t), c: port(t), d: port(t),
		roundrobin: port(t), first: port(t), first2: port(t), stats: port(t)}
	dir := t.TempDir()
	a = startNode(t, "a", p.a, dir, instance(t, "instance-a.conf", p.a, p.b))
	b = startNode(t, "b", p.b, dir, instance(t, "instance-b.conf", p.b, p.a))
	return p, a, b
}

// startHAProxy runs the shipped haproxy.cfg on the test's ports.
func startHAProxy(t *testing.T, p haproxyPorts) {
	t.Helper()
	haproxy := testutil.Need(t, "haproxy")
	cfg := rewrite(t, "haproxy.cfg", map[string]string{
		"127.0.0.1:6379": loopback(p.a),
		"127.0.0.1:6380": loopback(p.b),
		"127.0.0.1:6381": loopback(p.c),
		"127.0.0.1:6382": loopback(p.d),
		"127.0.0.1:6390": loopback(p.roundrobin),
		"127.0.0.1:6391": loopback(p.first),
		"127.0.0.1:6392": loopback(p.first2),
		"127.0.0.1:8404": loopback(p.stats),
	})
	startProc(t, haproxy, "-db", "-f", cfg)
}

// haproxyStatus reads the check status of every server from the stats
// page's CSV export, keyed "backend/server".
func haproxyStatus(statsAddr string) (map[string]string, error) {
	hc := http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + statsAddr + "/;csv")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(body), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		return nil, fmt.Errorf("not a stats CSV: %.200q", body)
	}
	col := -1
	for i, h := range strings.Split(strings.TrimPrefix(lines[0], "# "), ",") {
		if h == "status" {
			col = i
		}
	}
	out := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if col >= 0 && len(f) > col && f[1] != "FRONTEND" && f[1] != "BACKEND" {
			out[f[0]+"/"+f[1]] = f[col]
		}
	}
	return out, nil
}

// haproxyShows is a waitFor condition: every listed server has the given
// check status.
func haproxyShows(statsAddr string, want map[string]string) func() (bool, string) {
	return func() (bool, string) {
		got, err := haproxyStatus(statsAddr)
		if err != nil {
			return false, err.Error()
		}
		for k, v := range want {
			if got[k] != v {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	}
}

// servedBy asks, on a new connection through a front end, which node
// answers (by its port).
func servedBy(t *testing.T, addr, password string) int {
	t.Helper()
	c := login(t, addr, password)
	defer c.close()
	got, err := c.do("CONFIG", "GET", "port")
	if err != nil {
		t.Fatalf("CONFIG GET port through %s: %v", addr, err)
	}
	_, p, _ := strings.Cut(got, "\n")
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("CONFIG GET port through %s = %q", addr, got)
	}
	return n
}

// linked is a waitFor condition: each node's link to its peer is up.
func linked(password string, nodes ...*node) func() (bool, string) {
	return func() (bool, string) {
		var state []string
		ok := true
		for _, n := range nodes {
			c, err := connect(n.addr())
			if err != nil {
				return false, n.name + ": " + err.Error()
			}
			_, _ = c.do("AUTH", password)
			role, _ := c.info("replication", "role")
			link, err := c.info("replication", "master_link_status")
			c.close()
			if err != nil {
				return false, n.name + ": " + err.Error()
			}
			state = append(state, n.name+" "+role+" link "+link)
			ok = ok && role == "active-replica" && link == "up"
		}
		return ok, strings.Join(state, ", ")
	}
}
