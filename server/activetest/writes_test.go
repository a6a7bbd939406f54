package activetest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/internal/testutil"
)

func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

// TestWritesBothWays: writes of every type, binary keys and values, big
// values, TTLs and several databases, made on both nodes, reach the other
// node exactly, and each write is applied once.
func TestWritesBothWays(t *testing.T) {
	p := startPair(t, pairOpts{})
	bin := allBytes()
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	far := time.Now().Add(time.Hour).UnixMilli()
	for i, n := range p.nodes() {
		pre := []string{"a:", "b:"}[i]
		n.must("SET", pre+"str", "hello "+pre)
		n.must("SET", pre+"bin\x00\r\nkey\xff", bin)
		n.must("SET", pre+"big", big)
		n.must("SET", pre+"ttl", "v", "PXAT", far+int64(i))
		n.must("RPUSH", pre+"list", "x", bin, "z")
		n.must("HSET", pre+"hash", "f1", "1", "f\x002", bin)
		n.must("SADD", pre+"set", "m1", "m2", bin)
		n.must("ZADD", pre+"zset", 1.5, "m1", -2, bin)
		n.mustDB(3, "SET", pre+"db3", "three")
		n.mustDB(15, "LPUSH", pre+"db15", "fifteen")
		n.mustDB(3, "PEXPIREAT", pre+"db3", far+100)
		for j := 0; j < 50; j++ {
			n.must("INCR", pre+"counter")
		}
		n.must("APPEND", pre+"str", " appended")
		n.must("SET", pre+"gone", "x")
		n.must("DEL", pre+"gone")
	}
	// WAIT counts the active peer's acknowledgements.
	for _, n := range p.nodes() {
		if got, err := n.do("WAIT", 1, 5000); err != nil || got != int64(1) {
			t.Errorf("node %s WAIT 1 5000 = %v, %v; want 1 (the peer acked)", n.name, got, err)
		}
	}
	waitConverged(t, 15*time.Second, p.a, p.b)
	for i, pre := range []string{"a:", "b:"} {
		wantString(t, 0, pre+"str", "hello "+pre+" appended", p.a, p.b)
		wantString(t, 0, pre+"bin\x00\r\nkey\xff", bin, p.a, p.b)
		wantString(t, 0, pre+"big", big, p.a, p.b)
		wantString(t, 0, pre+"counter", "50", p.a, p.b)
		wantString(t, 3, pre+"db3", "three", p.a, p.b)
		wantAbsent(t, 0, pre+"gone", p.a, p.b)
		for _, n := range p.nodes() {
			if got := n.must("PEXPIRETIME", pre+"ttl"); got != far+int64(i) {
				t.Errorf("node %s PEXPIRETIME %sttl = %v, want %d", n.name, pre, got, far+int64(i))
			}
			if got := n.mustDB(3, "PEXPIRETIME", pre+"db3"); got != far+100 {
				t.Errorf("node %s db 3 PEXPIRETIME %sdb3 = %v, want %d", n.name, pre, got, far+100)
			}
			if got := n.must("LRANGE", pre+"list", 0, -1); fmt.Sprint(got) != fmt.Sprint([]any{"x", bin, "z"}) {
				t.Errorf("node %s %slist = %q", n.name, pre, got)
			}
			if got := n.must("HGET", pre+"hash", "f\x002"); got != bin {
				t.Errorf("node %s %shash f\\x002 = %q", n.name, pre, got)
			}
			if got := n.must("SISMEMBER", pre+"set", bin); got != int64(1) {
				t.Errorf("node %s %sset lacks the binary member", n.name, pre)
			}
			if got := n.must("ZSCORE", pre+"zset", bin); got != "-2" {
				t.Errorf("node %s %szset score of the binary member = %v", n.name, pre, got)
			}
			if got := n.mustDB(15, "LRANGE", pre+"db15", 0, -1); fmt.Sprint(got) != "[fifteen]" {
				t.Errorf("node %s db 15 %sdb15 = %v", n.name, pre, got)
			}
		}
	}
	// Each key keeps the stamp its origin gave it.
	for _, k := range []string{"a:str", "a:counter", "b:str", "b:hash"} {
		sa, sb := p.a.mustStamp(0, k), p.b.mustStamp(0, k)
		owner := map[byte]*node{'a': p.a, 'b': p.b}[k[0]]
		if sa != sb || sa.origin != owner.uuid() || sa.state != "live" {
			t.Errorf("FLUIDB STAMP %s: A %v, B %v; want equal, live, from %s", k, sa, sb, owner.name)
		}
	}
}

// TestMultiExecAppliedOnce: a MULTI/EXEC block is applied once on the
// other node and never comes back to its origin.
func TestMultiExecAppliedOnce(t *testing.T) {
	p := startPair(t, pairOpts{})
	run := func(n *node, fn func(redis.Pipeliner)) {
		t.Helper()
		if _, err := n.c().TxPipelined(ctx, func(pl redis.Pipeliner) error { fn(pl); return nil }); err != nil {
			t.Fatalf("node %s MULTI/EXEC: %v", n.name, err)
		}
	}
	run(p.a, func(pl redis.Pipeliner) {
		pl.Incr(ctx, "m")
		pl.Incr(ctx, "m")
	})
	run(p.a, func(pl redis.Pipeliner) {
		pl.RPush(ctx, "ml", "x")
		pl.RPush(ctx, "ml", "y")
		pl.IncrBy(ctx, "m", 10)
		pl.SAdd(ctx, "ms", "a", "b")
		pl.Set(ctx, "mstr", "v", 0)
	})
	run(p.b, func(pl redis.Pipeliner) {
		pl.IncrBy(ctx, "m2", 3)
		pl.IncrBy(ctx, "m2", 4)
		pl.HIncrBy(ctx, "mh", "f", 5)
		pl.HIncrBy(ctx, "mh", "f", 6)
	})
	waitConverged(t, 10*time.Second, p.a, p.b)
	// A second look, later: a block echoed back would show up by now.
	time.Sleep(300 * time.Millisecond)
	waitConverged(t, 10*time.Second, p.a, p.b)
	for _, n := range p.nodes() {
		wantString(t, 0, "m", "12", n)
		wantString(t, 0, "m2", "7", n)
		wantString(t, 0, "mstr", "v", n)
		if got := n.must("LRANGE", "ml", 0, -1); fmt.Sprint(got) != "[x y]" {
			t.Errorf("node %s ml = %v, want [x y]", n.name, got)
		}
		if got := n.must("SCARD", "ms"); got != int64(2) {
			t.Errorf("node %s SCARD ms = %v", n.name, got)
		}
		if got := n.must("HGET", "mh", "f"); got != "11" {
			t.Errorf("node %s HGET mh f = %v, want 11", n.name, got)
		}
	}
}

// TestKeyspaceNotificationsOnce: a write made on A fires its keyspace
// event once on A and once on B, and B's events name the same operation as
// A's. A write to a string travels as the key's whole value (the design's
// SET record), so B may report it as "set"; writes to containers travel
// as the command and must keep their event name.
func TestKeyspaceNotificationsOnce(t *testing.T) {
	p := startPair(t, pairOpts{})
	type event struct{ channel, name string }
	subscribe := func(n *node) (func() []event, func()) {
		n.must("CONFIG", "SET", "notify-keyspace-events", "KA")
		c := newClient(n.addr(), n.pass, 0)
		ps := c.PSubscribe(ctx, "__keyspace@*__:*")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatalf("PSUBSCRIBE on %s: %v", n.name, err)
		}
		var mu sync.Mutex
		var got []event
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m := range ps.Channel() {
				mu.Lock()
				got = append(got, event{m.Channel, m.Payload})
				mu.Unlock()
			}
		}()
		return func() []event {
				mu.Lock()
				defer mu.Unlock()
				return append([]event(nil), got...)
			}, func() {
				ps.Close()
				<-done
				c.Close()
			}
	}
	evA, stopA := subscribe(p.a)
	defer stopA()
	evB, stopB := subscribe(p.b)
	defer stopB()

	type write struct {
		db    int
		args  []any
		event string
		str   bool // a string write: B may report it as "set"
	}
	writes := []write{
		{0, []any{"SET", "n:s", "v"}, "set", true},
		{0, []any{"INCR", "n:c"}, "incrby", true},
		{0, []any{"INCR", "n:c"}, "incrby", true},
		{0, []any{"APPEND", "n:s", "w"}, "append", true},
		{0, []any{"LPUSH", "n:l", "a", "b"}, "lpush", false},
		{0, []any{"HSET", "n:h", "f", "v"}, "hset", false},
		{0, []any{"SADD", "n:x", "m"}, "sadd", false},
		{0, []any{"ZADD", "n:z", 1, "m"}, "zadd", false},
		{0, []any{"EXPIRE", "n:s", 1000}, "expire", true},
		{0, []any{"PERSIST", "n:s"}, "persist", true},
		{0, []any{"EXPIRE", "n:h", 1000}, "expire", false},
		{0, []any{"PERSIST", "n:h"}, "persist", false},
		{0, []any{"DEL", "n:l"}, "del", false},
		{2, []any{"SET", "n:db2", "v"}, "set", true},
		{2, []any{"RPUSH", "n:db2l", "v"}, "rpush", false},
	}
	for _, w := range writes {
		p.a.mustDB(w.db, w.args...)
	}
	waitConverged(t, 10*time.Second, p.a, p.b)
	// Let late or duplicated events arrive.
	time.Sleep(500 * time.Millisecond)

	want := map[string][]write{}
	for _, w := range writes {
		ch := fmt.Sprintf("__keyspace@%d__:%s", w.db, w.args[1])
		want[ch] = append(want[ch], w)
	}
	group := func(evs []event) map[string][]string {
		m := map[string][]string{}
		for _, e := range evs {
			m[e.channel] = append(m[e.channel], e.name)
		}
		return m
	}
	gotA, gotB := group(evA()), group(evB())
	channels := map[string]bool{}
	for ch := range want {
		channels[ch] = true
	}
	for ch := range gotA {
		channels[ch] = true
	}
	for ch := range gotB {
		channels[ch] = true
	}
	var names []string
	for ch := range channels {
		names = append(names, ch)
	}
	sort.Strings(names)
	for _, ch := range names {
		ws := want[ch]
		var wantNames []string
		for _, w := range ws {
			wantNames = append(wantNames, w.event)
		}
		if fmt.Sprint(gotA[ch]) != fmt.Sprint(wantNames) {
			t.Errorf("A (origin) %s: events %q, want %q", ch, gotA[ch], wantNames)
		}
		b := gotB[ch]
		if len(b) != len(ws) {
			t.Errorf("B %s: %d events %q, want %d (one per write: %q)", ch, len(b), b, len(ws), wantNames)
			continue
		}
		for i, w := range ws {
			if b[i] != w.event && !(w.str && b[i] == "set") {
				t.Errorf("B %s event %d = %q, want %q", ch, i, b[i], w.event)
			}
		}
	}
}

// TestBlockedPopServedByReplicatedWrite: a client blocked in BLPOP on one
// node is served by an RPUSH made on the other, and the pop then travels
// back so that the list is gone on both.
func TestBlockedPopServedByReplicatedWrite(t *testing.T) {
	p := startPair(t, pairOpts{})
	for _, dir := range []struct {
		blocked, pusher *node
		key             string
	}{{p.b, p.a, "q:ab"}, {p.a, p.b, "q:ba"}} {
		c := newClient(dir.blocked.addr(), "", 0)
		res := make(chan []string, 1)
		errc := make(chan error, 1)
		go func() {
			v, err := c.BLPop(ctx, 10*time.Second, dir.key).Result()
			if err != nil {
				errc <- err
				return
			}
			res <- v
		}()
		waitFor(t, 5*time.Second, "a client blocked on "+dir.blocked.name, func() bool {
			m, err := dir.blocked.infoErr("clients")
			return err == nil && m["blocked_clients"] == "1"
		})
		dir.pusher.must("RPUSH", dir.key, "x", "y")
		select {
		case v := <-res:
			if fmt.Sprint(v) != fmt.Sprintf("[%s x]", dir.key) {
				t.Errorf("BLPOP on %s = %q", dir.blocked.name, v)
			}
		case err := <-errc:
			t.Errorf("BLPOP on %s: %v (not served by the RPUSH on %s)", dir.blocked.name, err, dir.pusher.name)
		case <-time.After(10 * time.Second):
			t.Errorf("BLPOP on %s not served", dir.blocked.name)
		}
		c.Close()
		waitConverged(t, 10*time.Second, p.a, p.b)
		for _, n := range p.nodes() {
			if got := n.must("LRANGE", dir.key, 0, -1); fmt.Sprint(got) != "[y]" {
				t.Errorf("node %s %s = %v after the pop, want [y]", n.name, dir.key, got)
			}
		}
	}
}

// TestPlainRedisReplicaOfActiveNode: a stock redis-server replicating from
// an active node gets a plain stream it understands (writes made on the
// node and writes that came from its peer) and holds the same data.
func TestPlainRedisReplicaOfActiveNode(t *testing.T) {
	testutil.Need(t, "redis-server")
	p := startPair(t, pairOpts{})
	far := time.Now().Add(time.Hour).UnixMilli()
	bin := allBytes()
	populate := func(pre string) {
		for i, n := range p.nodes() {
			k := pre + []string{"a:", "b:"}[i]
			n.must("SET", k+"str", "v"+k)
			n.must("SET", k+"bin\x00", bin)
			n.must("SET", k+"ttl", "t", "PXAT", far)
			n.must("RPUSH", k+"list", "1", "2", "3")
			n.must("HSET", k+"hash", "f", "v", "g", bin)
			n.must("SADD", k+"set", "a", "b", "c")
			n.must("ZADD", k+"zset", 1, "a", 2.5, "b")
			n.must("INCRBY", k+"n", 7)
			n.mustDB(5, "SET", k+"db5", "five")
			n.must("SET", k+"del", "x")
			n.must("DEL", k+"del")
			n.must("EXPIRE", k+"str", 5000)
		}
	}
	populate("before:")
	waitConverged(t, 10*time.Second, p.a, p.b)
	// Redis's default makes a master wait 5 s for more replicas before a
	// diskless full sync.
	p.a.must("CONFIG", "SET", "repl-diskless-sync-delay", "0")
	r := testutil.StartRedis(t, "--replicaof", "127.0.0.1", p.a.portString())
	rn := &node{t: t, name: "redis", port: r.Port, log: &testutil.SyncBuffer{}}
	defer rn.closeClients()
	waitLinksUp(t, 15*time.Second, rn)
	populate("after:")
	p.a.must("LPOP", "before:a:list")
	p.b.must("SREM", "before:b:set", "a")
	p.b.must("PERSIST", "before:b:str")
	waitConverged(t, 10*time.Second, p.a, p.b)

	var diff string
	deadline := time.Now().Add(10 * time.Second)
	for {
		da, err1 := dumpNode(p.a.addr(), "", false)
		dr, err2 := dumpNode(rn.addr(), "", false)
		if err1 != nil || err2 != nil {
			t.Fatalf("dump: %v / %v", err1, err2)
		}
		if diff = diffDumps("fluidb A", "redis", da, dr); diff == "" {
			if len(da) < 20 {
				t.Fatalf("only %d keys compared", len(da))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server replica differs from its active master:\n%s\nredis-server output:\n%s", diff, tail(r.Output(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := r.Output(); strings.Contains(out, "CRITICAL") || strings.Contains(strings.ToUpper(out), "FLUIDB") {
		t.Errorf("redis-server complained about its stream:\n%s", tail(out, 30))
	}
}

// TestMultiKeyAndRandomCommands: commands that touch several keys or
// databases, or pick at random (replicated as their effect), leave both
// nodes with the same data.
func TestMultiKeyAndRandomCommands(t *testing.T) {
	p := startPair(t, pairOpts{})
	for _, side := range []byte{'A', 'B'} {
		n := p.side(side)
		pre := string(side) + ":"
		cmds := [][]any{
			{"MSET", pre + "m1", "1", pre + "m2", "2"},
			{"MSETNX", pre + "n1", "1", pre + "n2", "2"},
			{"SADD", pre + "s1", "a", "b", "c", "d", "e"},
			{"SADD", pre + "s2", "c", "d", "x"},
			{"SMOVE", pre + "s1", pre + "s2", "a"},
			{"SINTERSTORE", pre + "si", pre + "s1", pre + "s2"},
			{"SUNIONSTORE", pre + "su", pre + "s1", pre + "s2"},
			{"SPOP", pre + "s1"},
			{"SPOP", pre + "su", 2},
			{"RPUSH", pre + "l", "3", "1", "2"},
			{"LMOVE", pre + "l", pre + "l2", "LEFT", "RIGHT"},
			{"SORT", pre + "l", "STORE", pre + "sorted"},
			{"ZADD", pre + "z1", 1, "a", 2, "b"},
			{"ZADD", pre + "z2", 3, "b", 4, "c"},
			{"ZUNIONSTORE", pre + "zu", 2, pre + "z1", pre + "z2"},
			{"ZPOPMIN", pre + "z2"},
			{"HSET", pre + "h", "a", "1", "b", "2", "c", "3"},
			{"HINCRBYFLOAT", pre + "h", "a", "0.5"},
			{"INCRBYFLOAT", pre + "f", "1.25"},
			{"SETRANGE", pre + "m1", 3, "xyz"},
			{"SETBIT", pre + "bits", 77, 1},
			{"GETEX", pre + "m2", "PX", 900000},
			{"GETDEL", pre + "n2"},
			{"COPY", pre + "h", pre + "hcopy"},
			{"RENAME", pre + "n1", pre + "renamed"},
			{"MOVE", pre + "renamed", 6},
			{"SET", pre + "in10", "ten"},
			{"SET", pre + "px", "v", "PX", 100},
		}
		for _, c := range cmds {
			n.must(c...)
		}
		n.mustDB(11, "SET", pre+"in11", "eleven")
		time.Sleep(5 * time.Millisecond)
	}
	p.waitSettled(10 * time.Second)
	// Peers could not agree on which keys a database holds after a
	// SWAPDB racing with writes: an active node refuses it.
	if _, err := p.a.do("SWAPDB", 0, 11); err == nil {
		t.Error("SWAPDB accepted on an active node")
	}
	p.waitSettled(10 * time.Second)
	for _, n := range p.nodes() {
		if got := n.must("GET", "A:m1"); got != "1\x00\x00xyz" {
			t.Errorf("node %s: A:m1 = %q", n.name, got)
		}
		if got := n.mustDB(11, "GET", "B:in11"); got != "eleven" {
			t.Errorf("node %s: db 11 B:in11 = %#v", n.name, got)
		}
		if got := n.mustDB(6, "GET", "B:renamed"); got != "1" {
			t.Errorf("node %s: db 6 B:renamed = %#v", n.name, got)
		}
		if got := n.must("GET", "B:f"); got != "1.25" {
			t.Errorf("node %s: B:f = %#v", n.name, got)
		}
	}
	// The 100 ms TTLs expired on both nodes by now, each by itself.
	wantAbsent(t, 0, "A:px", p.a, p.b)
	wantAbsent(t, 0, "B:px", p.a, p.b)
}

// TestFlushallDuringPartition: FLUSHALL is a stamped write: it removes
// every key older than it on both nodes, and keeps the ones written after
// it on the other side of the partition.
func TestFlushallDuringPartition(t *testing.T) {
	p := startPair(t, pairOpts{})
	for db := 0; db < 3; db++ {
		p.a.mustDB(db, "SET", "old", "0")
		p.b.mustDB(db, "HSET", "oldh", "f", "0")
	}
	p.waitSettled(10 * time.Second)
	p.cut()
	p.a.mustDB(1, "SET", "before", "a")
	time.Sleep(5 * time.Millisecond)
	p.b.must("FLUSHALL")
	time.Sleep(5 * time.Millisecond)
	p.a.mustDB(2, "SET", "after", "a")
	p.a.mustDB(0, "HSET", "oldh", "g", "1")
	p.heal()
	p.waitSettled(10 * time.Second)
	for db := 0; db < 3; db++ {
		wantAbsent(t, db, "old", p.a, p.b)
	}
	wantAbsent(t, 1, "before", p.a, p.b)
	wantAbsent(t, 1, "oldh", p.a, p.b)
	wantString(t, 2, "after", "a", p.a, p.b)
	for _, n := range p.nodes() {
		// A's HSET was made on the pre-flush hash, after the flush: it
		// wins whole.
		if got := n.must("HGETALL", "oldh"); fmt.Sprint(got) != "[f 0 g 1]" && fmt.Sprint(got) != "[g 1 f 0]" {
			t.Errorf("node %s: oldh = %v, want A's whole hash {f:0 g:1}", n.name, got)
		}
		if got := n.must("DBSIZE"); got != int64(1) {
			t.Errorf("node %s: db 0 has %v keys, want 1", n.name, got)
		}
	}
}
