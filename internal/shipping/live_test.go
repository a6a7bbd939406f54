package shipping

import (
	"bufio"
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
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

func itoa(n int) string { return strconv.Itoa(n) }

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
		ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(p))
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

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after %v: %s; last state: %s", timeout, what, last)
	return 0
}

// node is a fluidb process.
type node struct {
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	n := &node{port: port(t), dir: t.TempDir(), args: args}
	n.start(t)
	t.Cleanup(n.stop)
	return n
}

func (n *node) start(t *testing.T) {
	t.Helper()
	full := append([]string{"serve", "--port", itoa(n.port), "--dir", n.dir, "--save", ""}, n.args...)
	n.cmd = exec.Command(testutil.Binary(t), full...)
	n.cmd.Stdout, n.cmd.Stderr = io.Discard, io.Discard
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "fluidb answers on "+itoa(n.port), func() (bool, string) {
		c, err := net.DialTimeout("tcp", n.addr(), 200*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

func (n *node) stop() {
	if n.cmd != nil && n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
	}
}

func (n *node) addr() string { return "127.0.0.1:" + itoa(n.port) }

// client speaks just enough RESP for these tests. Replies come back as
// text: "+OK", "-ERR ...", ":3", a bulk string's content, "(nil)", or an
// array's elements joined by newlines.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c: c, r: bufio.NewReader(c)}
}

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

// fake answers HAProxy's health check the way a fluidb node in some state
// would: AUTH, PING, INFO replication (with the given role), QUIT, and ECHO,
// which it answers with its name so a test can tell where a connection went.
type fake struct {
	name, password, role string
}

func startFake(t *testing.T, f fake) int {
	t.Helper()
	p := port(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(p))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				f.serve(c)
			}()
		}
	}()
	return p
}

func (f fake) serve(c net.Conn) {
	r := bufio.NewReader(c)
	authed := false
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		args := strings.Fields(line)
		if len(args) == 0 {
			continue
		}
		if strings.HasPrefix(args[0], "*") { // a RESP array: read its bulk strings
			n, _ := strconv.Atoi(args[0][1:])
			args = args[:0]
			for i := 0; i < n; i++ {
				_, _ = r.ReadString('\n')
				a, _ := r.ReadString('\n')
				args = append(args, strings.TrimSuffix(a, "\r\n"))
			}
		}
		var reply string
		switch cmd := strings.ToUpper(args[0]); {
		case cmd == "AUTH":
			if len(args) == 2 && args[1] == f.password {
				authed, reply = true, "+OK\r\n"
			} else {
				reply = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
			}
		case cmd == "QUIT":
			_, _ = io.WriteString(c, "+OK\r\n")
			return
		case !authed:
			reply = "-NOAUTH Authentication required.\r\n"
		case cmd == "PING":
			reply = "+PONG\r\n"
		case cmd == "INFO":
			reply = bulk("# Replication\r\nrole:" + f.role + "\r\nconnected_slaves:0\r\n")
		case cmd == "ECHO":
			reply = bulk(f.name)
		default:
			reply = "-ERR unknown command\r\n"
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// rewrite returns a copy of a shipped file with its addresses replaced,
// failing if one of them is not in the file (the test would not test what
// it says).
func rewrite(t *testing.T, rel string, addrs map[string]string) string {
	t.Helper()
	text := read(t, rel)
	var pairs []string
	for from, to := range addrs {
		if !strings.Contains(text, from) {
			t.Fatalf("%s does not mention %s", rel, from)
		}
		pairs = append(pairs, from, to)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(rel))
	if err := os.WriteFile(path, []byte(strings.NewReplacer(pairs...).Replace(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
			mu.Unlock()
		}
	})
	return cmd
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// haproxyStatus reads the check status of every server from the stats
// page's CSV export, keyed "backend/server".
func haproxyStatus(statsAddr string) (map[string]string, error) {
	resp, err := http.Get("http://" + statsAddr + "/;csv")
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

// echoVia opens a connection through a front end, logs in and asks who
// answers: a fake says its name, fluidb echoes the word.
func echoVia(t *testing.T, addr, password string) string {
	t.Helper()
	c := dial(t, addr)
	defer c.c.Close()
	if got, err := c.do("AUTH", password); err != nil || got != "+OK" {
		return fmt.Sprintf("AUTH: %q %v", got, err)
	}
	got, err := c.do("ECHO", "fluidb")
	if err != nil {
		return err.Error()
	}
	return got
}

// The shipped haproxy.cfg, with addresses rewritten to this test's, in
// front of a real fluidb node A (role:master, as an active node without a
// peer reports) and stand-ins answering as fluidb would in other states
// (an active pair is not needed to test HAProxy's side): the check passes
// for role:master and role:active-replica and fails for a plain replica and
// for a node that refuses the password. Round robin reaches both healthy
// nodes; "first healthy" sends clients to A, to B at once when A stops (A is
// marked down within the check's fall x inter), and to A again once it is
// back up.
func TestHAProxyRoutesToHealthyNodes(t *testing.T) {
	haproxy := testutil.Need(t, "haproxy")
	pass := load(t, "instance-a.conf").Requirepass

	a := startNode(t, "--requirepass", pass)
	b := startFake(t, fake{name: "node-b", password: pass, role: "active-replica"})
	c := startFake(t, fake{name: "node-c", password: pass, role: "slave"})
	d := startFake(t, fake{name: "node-d", password: "another-password", role: "active-replica"})
	rr, first, first2, stats := port(t), port(t), port(t), port(t)
	cfg := rewrite(t, "haproxy.cfg", map[string]string{
		"127.0.0.1:6379": a.addr(),
		"127.0.0.1:6380": "127.0.0.1:" + itoa(b),
		"127.0.0.1:6381": "127.0.0.1:" + itoa(c),
		"127.0.0.1:6382": "127.0.0.1:" + itoa(d),
		"127.0.0.1:6390": "127.0.0.1:" + itoa(rr),
		"127.0.0.1:6391": "127.0.0.1:" + itoa(first),
		"127.0.0.1:6392": "127.0.0.1:" + itoa(first2),
		"127.0.0.1:8404": "127.0.0.1:" + itoa(stats),
	})
	startProc(t, haproxy, "-db", "-f", cfg)
	statsAddr := "127.0.0.1:" + itoa(stats)

	state := func(want map[string]string) func() (bool, string) {
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
	waitFor(t, 15*time.Second, "checks settle", state(map[string]string{
		"pair1_roundrobin/a": "UP", "pair1_roundrobin/b": "UP",
		"pair1_first/a": "UP", "pair1_first/b": "UP",
		"pair2_first/c": "DOWN", "pair2_first/d": "DOWN",
	}))

	firstAddr, rrAddr := "127.0.0.1:"+itoa(first), "127.0.0.1:"+itoa(rr)
	if got := echoVia(t, firstAddr, pass); got != "fluidb" {
		t.Fatalf("first healthy front end reached %q, want node A (fluidb)", got)
	}
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		seen[echoVia(t, rrAddr, pass)] = true
	}
	if !seen["fluidb"] || !seen["node-b"] || len(seen) != 2 {
		t.Fatalf("round robin reached %v, want both node A (fluidb) and node-b", seen)
	}
	// Data goes through too.
	cl := dial(t, firstAddr)
	cl.must(t, "+OK", "AUTH", pass)
	cl.must(t, "+OK", "SET", "through", "haproxy")
	direct := dial(t, a.addr())
	direct.must(t, "+OK", "AUTH", pass)
	direct.must(t, "haproxy", "GET", "through")

	// Node A stops. Connections that were about to reach it are retried
	// on B at once (option redispatch); within fall (2) x inter (1s), plus
	// a check's duration, the check marks A down and new clients go to B.
	a.stop()
	if got := echoVia(t, firstAddr, pass); got != "node-b" {
		t.Errorf("with node A stopped, the first healthy front end reached %q, want node-b", got)
	}
	took := waitFor(t, 10*time.Second, "node A marked down", state(map[string]string{
		"pair1_first/a": "DOWN", "pair1_roundrobin/a": "DOWN",
	}))
	if took > 5*time.Second {
		t.Errorf("node A marked down after %v; the check should notice within about 3s", took)
	}
	t.Logf("node A stopped: marked down after %v", took.Round(100*time.Millisecond))
	for i := 0; i < 3; i++ {
		if got := echoVia(t, rrAddr, pass); got != "node-b" {
			t.Fatalf("round robin with node A down reached %q, want node-b", got)
		}
	}

	a.start(t)
	took = waitFor(t, 10*time.Second, "node A back up", state(map[string]string{
		"pair1_first/a": "UP", "pair1_roundrobin/a": "UP",
	}))
	t.Logf("node A restarted: up again after %v", took.Round(100*time.Millisecond))
	if got := echoVia(t, firstAddr, pass); got != "fluidb" {
		t.Fatalf("with node A back, the first healthy front end reached %q, want node A (fluidb)", got)
	}
}

// twemproxy with the shipped nutcracker.yml, its two pair addresses pointed
// at two fluidb nodes (standing in for the pairs' front ends): it demands
// the password, logs in to the nodes itself, spreads keys over both, keeps
// hash-tagged keys together and reads them all back.
func TestNutcrackerSpreadsKeys(t *testing.T) {
	nutcracker := testutil.Need(t, "nutcracker")
	pass := load(t, "instance-a.conf").Requirepass
	n1 := startNode(t, "--requirepass", pass)
	n2 := startNode(t, "--requirepass", pass)
	listen, stats := port(t), port(t)
	cfg := rewrite(t, "nutcracker.yml", map[string]string{
		"127.0.0.1:22121": "127.0.0.1:" + itoa(listen),
		"127.0.0.1:6391":  n1.addr(),
		"127.0.0.1:6392":  n2.addr(),
	})
	startProc(t, nutcracker, "-c", cfg, "-s", itoa(stats), "-a", "127.0.0.1")
	proxy := "127.0.0.1:" + itoa(listen)
	waitFor(t, 10*time.Second, "nutcracker listens", func() (bool, string) {
		c, err := net.DialTimeout("tcp", proxy, 200*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})

	c := dial(t, proxy)
	if got, _ := c.do("GET", "k"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("GET before AUTH = %q, want -NOAUTH", got)
	}
	c.must(t, "+OK", "AUTH", pass)
	const keys = 200
	for i := 0; i < keys; i++ {
		c.must(t, "+OK", "SET", "key:"+itoa(i), "value:"+itoa(i))
	}
	c.must(t, "+OK", "SET", "{user:7}:name", "ada")
	c.must(t, "+OK", "SET", "{user:7}:city", "london")
	c.must(t, "value:3\nvalue:150\nada", "MGET", "key:3", "key:150", "{user:7}:name")
	for i := 0; i < keys; i++ {
		c.must(t, "value:"+itoa(i), "GET", "key:"+itoa(i))
	}

	total := 0
	for _, n := range []*node{n1, n2} {
		d := dial(t, n.addr())
		d.must(t, "+OK", "AUTH", pass)
		size, err := d.do("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		k, _ := strconv.Atoi(strings.TrimPrefix(size, ":"))
		if k < keys/5 {
			t.Errorf("node %d holds %d of %d keys: not spread", n.port, k, keys+2)
		}
		total += k
		both, _ := d.do("EXISTS", "{user:7}:name", "{user:7}:city")
		if both != ":0" && both != ":2" {
			t.Errorf("node %d holds %s of the two {user:7} keys, want both or neither", n.port, both)
		}
	}
	if total != keys+2 {
		t.Errorf("the nodes hold %d keys, want %d", total, keys+2)
	}
}
