package shipping

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

// dbsize is a node's DBSIZE, -1 when it does not answer.
func dbsize(n *node, password string) int {
	c, err := connect(n.addr())
	if err != nil {
		return -1
	}
	defer c.close()
	_, _ = c.do("AUTH", password)
	got, err := c.do("DBSIZE")
	k, perr := strconv.Atoi(strings.TrimPrefix(got, ":"))
	if err != nil || perr != nil {
		return -1
	}
	return k
}

// twemproxy with the shipped nutcracker.yml in front of two active pairs,
// each reached through its "first healthy" front end in the shipped
// haproxy.cfg, as the files intend. Pair 1 is the shipped instance files;
// pair 2 is paired by hand: two active nodes started alone (role:master,
// which the check accepts too), then REPLICAOF each other. twemproxy asks
// clients for the password, logs in to the pairs itself, spreads keys over
// both pairs and keeps hash-tagged keys together. Then the node each front
// end sends traffic to (A in pair 1, C in pair 2) is killed: every key is
// still read back through twemproxy, from the surviving nodes, and new
// writes still land on both pairs.
func TestNutcrackerOverActivePairs(t *testing.T) {
	nutcracker := testutil.Need(t, "nutcracker")
	testutil.Need(t, "haproxy")
	pass := load(t, "instance-a.conf").Requirepass
	p, a, b := startShippedPair(t)
	alone := func(name string, port int) *node {
		return startNode(t, name, port, t.TempDir(), "--port", itoa(port), "--save", "",
			"--requirepass", pass, "--masterauth", pass, "--active-replica", "yes")
	}
	c, d := alone("c", p.c), alone("d", p.d)
	startHAProxy(t, p)
	waitFor(t, 15*time.Second, "every node passes the check", haproxyShows(loopback(p.stats), map[string]string{
		"pair1_roundrobin/a": "UP", "pair1_roundrobin/b": "UP",
		"pair1_first/a": "UP", "pair1_first/b": "UP",
		"pair2_first/c": "UP", "pair2_first/d": "UP",
	}))
	login(t, c.addr(), pass).must(t, "+OK", "REPLICAOF", "127.0.0.1", itoa(p.d))
	login(t, d.addr(), pass).must(t, "+OK", "REPLICAOF", "127.0.0.1", itoa(p.c))
	waitFor(t, 20*time.Second, "both pairs link up", linked(pass, a, b, c, d))

	listen, nstats := port(t), port(t)
	cfg := rewrite(t, "nutcracker.yml", map[string]string{
		"127.0.0.1:22121": loopback(listen),
		"127.0.0.1:6391":  loopback(p.first),
		"127.0.0.1:6392":  loopback(p.first2),
	})
	startProc(t, nutcracker, "-c", cfg, "-s", itoa(nstats), "-a", "127.0.0.1")
	proxy := loopback(listen)
	waitFor(t, 10*time.Second, "nutcracker listens", func() (bool, string) {
		c, err := net.DialTimeout("tcp", proxy, 200*time.Millisecond)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})

	nc := dial(t, proxy)
	if got, _ := nc.do("GET", "k"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("GET before AUTH = %q, want -NOAUTH", got)
	}
	nc.must(t, "+OK", "AUTH", pass)
	const keys = 200
	for i := 0; i < keys; i++ {
		nc.must(t, "+OK", "SET", "key:"+itoa(i), "value:"+itoa(i))
	}
	nc.must(t, "+OK", "SET", "{user:7}:name", "ada")
	nc.must(t, "+OK", "SET", "{user:7}:city", "london")
	nc.must(t, "value:3\nvalue:150\nada", "MGET", "key:3", "key:150", "{user:7}:name")
	nc.close()

	// Each pair holds its share on both of its nodes.
	var share [2]int
	for i, pair := range [][2]*node{{a, b}, {c, d}} {
		waitFor(t, 10*time.Second, "pair "+itoa(i+1)+" replicated", func() (bool, string) {
			x, y := dbsize(pair[0], pass), dbsize(pair[1], pass)
			share[i] = x
			return x == y && x > 0, pair[0].name + " " + itoa(x) + " keys, " + pair[1].name + " " + itoa(y)
		})
		if share[i] < keys/5 {
			t.Errorf("pair %d holds %d of %d keys: not spread", i+1, share[i], keys+2)
		}
		both := login(t, pair[0].addr(), pass)
		if got, _ := both.do("EXISTS", "{user:7}:name", "{user:7}:city"); got != ":0" && got != ":2" {
			t.Errorf("pair %d holds %s of the two {user:7} keys, want both or neither", i+1, got)
		}
	}
	if share[0]+share[1] != keys+2 {
		t.Fatalf("the pairs hold %d and %d keys, want %d in all", share[0], share[1], keys+2)
	}

	// One node of each pair dies: the one its front end sends traffic to.
	a.kill()
	c.kill()
	killed := time.Now()
	r := &redialer{addr: proxy, password: pass}
	defer r.close()
	deadline := killed.Add(20 * time.Second)
	for i := 0; i < keys; i++ {
		got, err := r.do(deadline, "GET", "key:"+itoa(i))
		if err != nil || got != "value:"+itoa(i) {
			t.Fatalf("GET key:%d through nutcracker, A and C killed %v ago: %q, %v", i, time.Since(killed), got, err)
		}
	}
	if got, err := r.do(deadline, "MGET", "{user:7}:name", "{user:7}:city"); err != nil || got != "ada\nlondon" {
		t.Fatalf("MGET of the {user:7} keys: %q, %v", got, err)
	}
	t.Logf("A and C killed: all %d keys read back through nutcracker after %v (%d retried commands)",
		keys+2, time.Since(killed).Round(10*time.Millisecond), r.retried)
	const more = 50
	for i := 0; i < more; i++ {
		if _, err := r.do(deadline, "SET", "after:"+itoa(i), itoa(i)); err != nil {
			t.Fatalf("SET through nutcracker, A and C killed: %v", err)
		}
	}
	for i := 0; i < more; i++ {
		if got, err := r.do(deadline, "GET", "after:"+itoa(i)); err != nil || got != itoa(i) {
			t.Fatalf("GET after:%d = %q, %v", i, got, err)
		}
	}
	nb, nd := dbsize(b, pass), dbsize(d, pass)
	if nb <= share[0] || nd <= share[1] || nb+nd != keys+2+more {
		t.Errorf("after the kills B holds %d keys (was %d), D %d (was %d); want both grown, %d in all",
			nb, share[0], nd, share[1], keys+2+more)
	}
}
