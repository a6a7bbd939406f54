package activetest

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// pair is two active nodes, each the other's master. A replicates from B
// through fb (the forwarder in front of B) and B from A through fa, so
// cutting fa stops A's writes from reaching B and cutting fb the reverse.
type pair struct {
	t      testing.TB
	a, b   *node
	fa, fb *forwarder
	pass   string
	args   []string
}

type pairOpts struct {
	pass string   // requirepass and masterauth of both nodes
	args []string // more directives for both nodes
}

func startPair(t testing.TB, o pairOpts) *pair {
	t.Helper()
	p := &pair{t: t, pass: o.pass, args: o.args}
	p.a = startNode(t, "A", o.pass, activeArgs(o.pass, o.args...)...)
	p.b = startNode(t, "B", o.pass, activeArgs(o.pass, o.args...)...)
	p.fa = newForwarder(t, p.a.addr())
	p.fb = newForwarder(t, p.b.addr())
	p.b.must("REPLICAOF", "127.0.0.1", p.fa.portString())
	waitLinksUp(t, 15*time.Second, p.b)
	p.a.must("REPLICAOF", "127.0.0.1", p.fb.portString())
	waitLinksUp(t, 15*time.Second, p.a, p.b)
	p.a.uuid()
	p.b.uuid()
	return p
}

func (p *pair) nodes() []*node { return []*node{p.a, p.b} }

func (p *pair) side(s byte) *node {
	if s == 'A' {
		return p.a
	}
	return p.b
}

// cut partitions the pair both ways; heal reconnects it.
func (p *pair) cut() {
	p.fa.Cut()
	p.fb.Cut()
}

func (p *pair) heal() {
	p.fa.Heal()
	p.fb.Heal()
}

// restartB kills B and starts it again from its directory (so it loads its
// snapshot), replicating from A through fa as a config file would say, and
// points fb at its new port.
func (p *pair) restartB() {
	p.t.Helper()
	p.b.restart(activeArgs(p.pass, append([]string{"--replicaof", "127.0.0.1", p.fa.portString()}, p.args...)...))
	p.fb.SetTarget(p.b.addr())
	p.b.uuid()
}

// waitSettled waits until both links are up and both nodes hold the same
// data.
func (p *pair) waitSettled(d time.Duration) {
	p.t.Helper()
	t0 := time.Now()
	waitLinksUp(p.t, d, p.a, p.b)
	t1 := time.Now()
	waitConverged(p.t, d, p.a, p.b)
	p.t.Logf("settled: links up after %v, converged after %v more", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
}

// linkUp reports whether INFO replication says the node's master link is up.
func linkUp(n *node) (bool, map[string]string) {
	m, err := n.infoErr("replication")
	if err != nil {
		return false, nil
	}
	return m["master_link_status"] == "up", m
}

func waitLinksUp(t testing.TB, d time.Duration, nodes ...*node) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, n := range nodes {
		for {
			up, m := linkUp(n)
			if up {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: master link not up after %v; INFO replication: %v; INFO fluidb: %v",
					n.name, d, m, fluidbInfo(n))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func fluidbInfo(n *node) map[string]string {
	m, err := n.infoErr("fluidb")
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	return m
}

// waitConverged waits until DEBUG DIGEST (values, types and TTLs) is the
// same on both nodes and stays so for a moment, so that a transient
// agreement in the middle of a resync does not count. On time out it
// fails with both datasets and the keys that differ.
func waitConverged(t testing.TB, d time.Duration, a, b *node) {
	t.Helper()
	deadline := time.Now().Add(d)
	var da, db string
	var ea, eb error
	for {
		da, ea = a.digest()
		db, eb = b.digest()
		if ea == nil && eb == nil && da == db {
			time.Sleep(250 * time.Millisecond)
			da2, ea2 := a.digest()
			db2, eb2 := b.digest()
			if ea2 == nil && eb2 == nil && da2 == da && db2 == db {
				return
			}
			continue
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nodes %s and %s did not converge within %v: digest %s=%q (%v) %s=%q (%v)\n%s",
		a.name, b.name, d, a.name, da, ea, b.name, db, eb, describeDiff(t, a, b))
}

// describeDiff lists the keys whose type, value, expiry or stamp differ.
func describeDiff(t testing.TB, a, b *node) string {
	da, errA := dumpNode(a.addr(), a.pass, true)
	dbb, errB := dumpNode(b.addr(), b.pass, true)
	if errA != nil || errB != nil {
		return fmt.Sprintf("cannot dump: %v / %v", errA, errB)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s has %d keys, %s has %d\n", a.name, len(da), b.name, len(dbb))
	sb.WriteString(diffDumps(a.name, b.name, da, dbb))
	for _, n := range []*node{a, b} {
		r, _ := n.infoErr("replication")
		fmt.Fprintf(&sb, "\nINFO on %s: link=%s role=%s fluidb=%v", n.name, r["master_link_status"], r["role"], fluidbInfo(n))
	}
	return sb.String()
}

func diffDumps(na, nb string, a, b map[string]string) string {
	var lines []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			lines = append(lines, fmt.Sprintf("only on %s: %s %s", na, k, v))
		} else if v != w {
			lines = append(lines, fmt.Sprintf("differs: %s\n    %s: %s\n    %s: %s", k, na, v, nb, w))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			lines = append(lines, fmt.Sprintf("only on %s: %s %s", nb, k, v))
		}
	}
	sort.Strings(lines)
	if len(lines) > 40 {
		lines = append(lines[:40], fmt.Sprintf("... and %d more", len(lines)-40))
	}
	return strings.Join(lines, "\n")
}

// dumpNode renders every key of every database (type, value, absolute
// expiry, and with stamps the FLUIDB STAMP) through the protocol alone, so
// that it works on redis-server too.
func dumpNode(addr, pass string, stamps bool) (map[string]string, error) {
	out := map[string]string{}
	c0 := newClient(addr, pass, 0)
	defer c0.Close()
	ks, err := c0.Info(ctx, "keyspace").Result()
	if err != nil {
		return nil, err
	}
	for field := range parseInfo(ks) {
		if !strings.HasPrefix(field, "db") {
			continue
		}
		dbi, err := strconv.Atoi(field[2:])
		if err != nil {
			continue
		}
		c := newClient(addr, pass, dbi)
		err = func() error {
			defer c.Close()
			var cursor uint64
			for {
				keys, next, err := c.Scan(ctx, cursor, "*", 1000).Result()
				if err != nil {
					return err
				}
				for _, k := range keys {
					st, err := readKey(c, k)
					if err != nil {
						return err
					}
					if !st.exists {
						continue
					}
					v := st.String()
					if stamps {
						s, err := c.Do(ctx, "FLUIDB", "STAMP", k).Result()
						if err != nil && !errors.Is(err, redis.Nil) {
							v += fmt.Sprintf(" stamp=(%v)", err)
						} else {
							ps, perr := parseStamp(s)
							if perr != nil {
								v += fmt.Sprintf(" stamp=(%v)", perr)
							} else {
								v += " stamp=" + ps.String()
							}
						}
					}
					out[fmt.Sprintf("db%d/%q", dbi, k)] = v
				}
				if next == 0 {
					return nil
				}
				cursor = next
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
