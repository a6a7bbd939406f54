package activetest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/internal/testutil"
)

// node is one fluidb process that a test can kill (SIGKILL) and start again
// in the same directory, so that it loads its own snapshot. Its output over
// every incarnation is kept and printed when the test fails.
type node struct {
	t    testing.TB
	name string
	dir  string
	conf string   // config file given before the directives, if any
	args []string // directives (--name value), without --port and --dir
	pass string   // requirepass: the tests' clients authenticate with it
	port int

	cmd    *exec.Cmd
	exited chan struct{}
	log    *testutil.SyncBuffer

	mu      sync.Mutex
	clients map[int]*redis.Client
	uuids   []string // FLUIDB ID of every incarnation so far
}

var ctx = context.Background()

// activeArgs are the directives every active node of these tests runs with.
func activeArgs(pass string, more ...string) []string {
	args := []string{"--active-replica", "yes", "--save", ""}
	if pass != "" {
		args = append(args, "--requirepass", pass, "--masterauth", pass)
	}
	return append(args, more...)
}

// startNode runs fluidb serve with args in a fresh directory on a free port.
func startNode(t testing.TB, name, pass string, args ...string) *node {
	t.Helper()
	n := &node{t: t, name: name, dir: t.TempDir(), args: args, pass: pass, log: &testutil.SyncBuffer{}}
	t.Cleanup(n.cleanup)
	n.start()
	return n
}

// cleanup stops the node, fails the test if the race detector (the binary
// is built with -race) reported anything, and prints the node's output
// when the test failed.
func (n *node) cleanup() {
	n.kill()
	n.closeClients()
	out := n.log.String()
	if i := strings.Index(out, "WARNING: DATA RACE"); i >= 0 {
		report := out[i:]
		if j := strings.Index(report, "\n==================\n"); j >= 0 {
			report = report[:j]
		}
		n.t.Errorf("node %s: the race detector reported:\n%s", n.name, report)
	}
	if n.t.Failed() {
		n.t.Logf("---- output of node %s (last lines) ----\n%s", n.name, tail(out, 60))
	}
}

func (n *node) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

func (n *node) portString() string { return strconv.Itoa(n.port) }

func (n *node) start() {
	n.t.Helper()
	if n.port == 0 {
		n.port = testutil.FreePort(n.t)
	}
	args := []string{"serve"}
	if n.conf != "" {
		args = append(args, n.conf)
	}
	args = append(args, "--port", n.portString(), "--dir", n.dir)
	args = append(args, n.args...)
	cmd := exec.Command(testutil.Binary(n.t), args...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = n.log, n.log
	fmt.Fprintf(n.log, "==== %s %s: fluidb %q\n", time.Now().Format("15:04:05.000"), n.name, args)
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.cmd, n.exited = cmd, exited
	deadline := time.Now().Add(20 * time.Second)
	for !testutil.Serving(n.addr()) {
		select {
		case <-exited:
			n.t.Fatalf("node %s exited at start:\n%s", n.name, tail(n.log.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("node %s does not answer on %d:\n%s", n.name, n.port, tail(n.log.String(), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the process with SIGKILL: no shutdown save, no goodbye.
func (n *node) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
	fmt.Fprintf(n.log, "==== %s %s: killed\n", time.Now().Format("15:04:05.000"), n.name)
}

// restart kills the node and starts it again in the same directory on a
// new free port (the old one may be taken meanwhile), with args instead of
// the old directives when args is not nil.
func (n *node) restart(args []string) {
	n.t.Helper()
	n.kill()
	n.closeClients()
	if args != nil {
		n.args = args
	}
	n.port = 0
	n.start()
}

func (n *node) closeClients() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.clients {
		c.Close()
	}
	n.clients = nil
}

// db is a client of database i of the current incarnation.
func (n *node) db(i int) *redis.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.clients == nil {
		n.clients = map[int]*redis.Client{}
	}
	c := n.clients[i]
	if c == nil {
		c = newClient(n.addr(), n.pass, i)
		n.clients[i] = c
	}
	return c
}

func (n *node) c() *redis.Client { return n.db(0) }

// newClient never retries: a write is sent once, so what the test records
// as acknowledged is exactly what the server did.
func newClient(addr, pass string, db int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Password: pass, DB: db, Protocol: 2, MaxRetries: -1,
		DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		PoolSize: 4,
	})
}

// do runs a command on database 0; a nil reply comes back as nil, nil.
func (n *node) do(args ...any) (any, error) { return n.doDB(0, args...) }

func (n *node) doDB(db int, args ...any) (any, error) {
	v, err := n.db(db).Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// must runs a command and fails the test on an error reply.
func (n *node) must(args ...any) any {
	n.t.Helper()
	return n.mustDB(0, args...)
}

func (n *node) mustDB(db int, args ...any) any {
	n.t.Helper()
	v, err := n.doDB(db, args...)
	if err != nil {
		n.t.Fatalf("node %s db %d: %q: %v", n.name, db, args, err)
	}
	return v
}

// uuid is FLUIDB ID of the current incarnation (remembered in n.uuids).
func (n *node) uuid() string {
	n.t.Helper()
	v, err := n.do("FLUIDB", "ID")
	if err != nil {
		n.t.Fatalf("node %s: FLUIDB ID: %v", n.name, err)
	}
	id, ok := v.(string)
	if !ok || id == "" {
		n.t.Fatalf("node %s: FLUIDB ID = %#v", n.name, v)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, u := range n.uuids {
		if u == id {
			return id
		}
	}
	n.uuids = append(n.uuids, id)
	return id
}

// ownsUUID reports whether u was the id of one of n's incarnations.
func (n *node) ownsUUID(u string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range n.uuids {
		if x == u {
			return true
		}
	}
	return false
}

// info parses INFO section into field -> value.
func (n *node) info(section string) map[string]string {
	n.t.Helper()
	m, err := n.infoErr(section)
	if err != nil {
		n.t.Fatalf("node %s: INFO %s: %v", n.name, section, err)
	}
	return m
}

func (n *node) infoErr(section string) (map[string]string, error) {
	s, err := n.c().Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func (n *node) infoInt(section, field string) int64 {
	n.t.Helper()
	m := n.info(section)
	v, err := strconv.ParseInt(m[field], 10, 64)
	if err != nil {
		n.t.Fatalf("node %s: INFO %s field %s = %q", n.name, section, field, m[field])
	}
	return v
}

func (n *node) digest() (string, error) {
	v, err := n.do("DEBUG", "DIGEST")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// stamp is FLUIDB STAMP key: the (stamp, origin) of the write that made
// the key's current state, and whether that state is "live" or "deleted".
type stamp struct {
	seen   bool
	stamp  uint64
	origin string
	state  string
}

func (s stamp) String() string {
	if !s.seen {
		return "(never seen)"
	}
	return fmt.Sprintf("%d/%s/%s", s.stamp, s.origin, s.state)
}

// less orders (stamp, origin) as the design does: stamp, then the origin
// UUID's bytes. Text UUIDs compare as their bytes do.
func (s stamp) less(o stamp) bool {
	if s.stamp != o.stamp {
		return s.stamp < o.stamp
	}
	return uuidBytes(s.origin) < uuidBytes(o.origin)
}

func uuidBytes(u string) string { return strings.ToLower(strings.ReplaceAll(u, "-", "")) }

func (n *node) stampOf(db int, key string) (stamp, error) {
	v, err := n.doDB(db, "FLUIDB", "STAMP", key)
	if err != nil {
		return stamp{}, err
	}
	return parseStamp(v)
}

func parseStamp(v any) (stamp, error) {
	if v == nil {
		return stamp{}, nil
	}
	a, ok := v.([]any)
	if !ok || len(a) != 3 {
		return stamp{}, fmt.Errorf("FLUIDB STAMP reply %#v: want [stamp, origin, state]", v)
	}
	st, ok1 := a[0].(int64)
	origin, ok2 := a[1].(string)
	state, ok3 := a[2].(string)
	if !ok1 || !ok2 || !ok3 || st <= 0 || (state != "live" && state != "deleted") {
		return stamp{}, fmt.Errorf("FLUIDB STAMP reply %#v: want [stamp>0, origin, live|deleted]", v)
	}
	return stamp{seen: true, stamp: uint64(st), origin: origin, state: state}, nil
}

func (n *node) mustStamp(db int, key string) stamp {
	n.t.Helper()
	s, err := n.stampOf(db, key)
	if err != nil {
		n.t.Fatalf("node %s: FLUIDB STAMP %q: %v", n.name, key, err)
	}
	return s
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = append([]string{fmt.Sprintf("... (%d lines before)", len(l)-lines)}, l[len(l)-lines:]...)
	}
	return strings.Join(l, "\n")
}

// waitFor polls cond every 20ms until it holds or d has passed.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
