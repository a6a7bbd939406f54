package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/internal/testutil"
	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/resp"
)

// Replication tests. In-process servers (startServer) let the tests read
// the replication state directly; real processes (testutil) are used for
// redis-server on either end and for SIGSTOP.

// A replica's queue and its writer: whatever is queued, in pieces of any
// size, taken at any point and written with WriteAll (writev, through
// full socket buffers and partial writes), arrives whole and in order, and
// the written blocks are reused.
func TestReplicaOutQueueWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// Small socket buffers and a reader that pauses: the writes fill the
	// socket, stop part way and wait for room.
	_ = conn.(*net.TCPConn).SetWriteBuffer(64 << 10)
	_ = peer.(*net.TCPConn).SetReadBuffer(64 << 10)
	var want bytes.Buffer
	got := make(chan []byte, 1)
	go func() {
		var b []byte
		buf := make([]byte, 32<<10)
		for i := 0; ; i++ {
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
			n, err := peer.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- b
	}()

	raw := newRawConnIO(conn)
	var q outQueue
	var mine [][]byte
	rnd := uint32(7)
	next := func(n int) int {
		rnd ^= rnd << 13
		rnd ^= rnd >> 17
		rnd ^= rnd << 5
		return int(rnd % uint32(n))
	}
	for round := 0; round < 20; round++ {
		for i := next(8); i >= 0; i-- {
			p := make([]byte, []int{0, 1, 100, outBlock - 1, outBlock, 3*outBlock + 5}[next(6)])
			for j := range p {
				p[j] = byte(next(256))
			}
			q.write(p)
			want.Write(p)
		}
		queued := q.n
		q.recycle(mine)
		mine = q.take(mine)
		total := 0
		for _, b := range mine {
			total += len(b)
		}
		if int64(total) != queued || q.n != 0 {
			t.Fatalf("round %d: took %d bytes of %d queued, %d left", round, total, queued, q.n)
		}
		if err := raw.WriteAll(mine); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.spare) == 0 {
		t.Fatal("no block was reused")
	}
	conn.Close()
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("peer read %d bytes, %d were written (or they differ)", len(b), want.Len())
	}
}

func TestBacklogRing(t *testing.T) {
	b := newBacklog(16<<10, 100)
	if b.firstOffset() != 101 || !b.covers(101) || b.covers(100) || b.covers(102) {
		t.Fatalf("empty backlog: first=%d", b.firstOffset())
	}
	var all []byte
	for i := 0; i < 5000; i++ {
		p := []byte(fmt.Sprintf("cmd-%d;", i))
		all = append(all, p...)
		b.write(p)
	}
	if b.end != 100+int64(len(all)) || b.histlen != 16<<10 {
		t.Fatalf("end=%d histlen=%d", b.end, b.histlen)
	}
	for _, back := range []int{0, 1, 100, 16 << 10} {
		off := b.end + 1 - int64(back)
		if !b.covers(off) {
			t.Fatalf("does not cover %d back", back)
		}
		if got := b.from(off); !bytes.Equal(got, all[len(all)-back:]) {
			t.Fatalf("from(%d back) wrong", back)
		}
	}
	if b.covers(b.end - 16<<10) {
		t.Fatal("covers a byte it dropped")
	}
	b.resize(20 << 10)
	if got := b.from(b.firstOffset()); !bytes.Equal(got, all[len(all)-16<<10:]) {
		t.Fatal("resize up lost bytes")
	}
	b.write([]byte("xyz"))
	all = append(all, "xyz"...)
	b.resize(16 << 10)
	if got := b.from(b.firstOffset()); !bytes.Equal(got, all[len(all)-16<<10:]) || b.histlen != 16<<10 {
		t.Fatal("resize down kept the wrong bytes")
	}
	huge := bytes.Repeat([]byte("z"), 40<<10)
	b.write(huge)
	if got := b.from(b.firstOffset()); !bytes.Equal(got, huge[len(huge)-16<<10:]) {
		t.Fatal("a write larger than the ring")
	}
}

// ---- helpers ----

func replWaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) linkUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repl.state == linkConnected
}

type replCounters struct{ full, partialOK, partialErr, offset int64 }

func (s *Server) replCounters() replCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return replCounters{s.repl.syncFull, s.repl.syncPartialOK, s.repl.syncPartialErr, s.repl.offset}
}

func replAddrPort(addr string) (string, int) {
	h, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return h, n
}

func replClient(t testing.TB, addr string, db int) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2, MaxRetries: -1})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func replMust(t testing.TB, cmd redis.Cmder) {
	t.Helper()
	if err := cmd.Err(); err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
}

// dumpData renders every key of databases 0..15 (type, value, expiry) in a
// canonical form, through the protocol, so fluidb and redis-server compare.
// Expiry times are compared to within tol.
func replDump(t testing.TB, addr string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for db := 0; db < 16; db++ {
		rc := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2, MaxRetries: -1})
		keys, err := rc.Keys(ctx, "*").Result()
		if err != nil {
			rc.Close()
			t.Fatalf("KEYS on %s db %d: %v", addr, db, err)
		}
		for _, k := range keys {
			typ := rc.Type(ctx, k).Val()
			var v string
			switch typ {
			case "string":
				v = rc.Get(ctx, k).Val()
			case "list":
				v = strings.Join(rc.LRange(ctx, k, 0, -1).Val(), ",")
			case "hash":
				m := rc.HGetAll(ctx, k).Val()
				var kv []string
				for f, x := range m {
					kv = append(kv, f+"="+x)
				}
				sort.Strings(kv)
				v = strings.Join(kv, ",")
			case "set":
				m := rc.SMembers(ctx, k).Val()
				sort.Strings(m)
				v = strings.Join(m, ",")
			case "zset":
				for _, z := range rc.ZRangeWithScores(ctx, k, 0, -1).Val() {
					v += fmt.Sprintf("%v:%v,", z.Member, z.Score)
				}
			case "none":
				continue // expired meanwhile
			}
			exp := rc.Do(ctx, "PEXPIRETIME", k).Val()
			out[fmt.Sprintf("%d/%q", db, k)] = fmt.Sprintf("%s %q exp=%v", typ, v, exp)
		}
		rc.Close()
	}
	return out
}

func replDiff(a, b map[string]string) string {
	var lines []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			lines = append(lines, "only on master: "+k+" "+v)
		} else if v != w {
			lines = append(lines, "differs: "+k+"\n   master:  "+v+"\n   replica: "+w)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			lines = append(lines, "only on replica: "+k+" "+v)
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

// sameData waits until both ends hold the same data.
func replSameData(t testing.TB, master, replica string) {
	t.Helper()
	var diff string
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, b := replDump(t, master), replDump(t, replica)
		if diff = replDiff(a, b); diff == "" {
			if len(a) == 0 {
				t.Fatal("no data to compare")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("datasets differ:\n%s", diff)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// populate writes every type in several encodings, several dbs, TTLs and
// binary data.
func replPopulate(t testing.TB, addr string) {
	t.Helper()
	ctx := context.Background()
	rc := replClient(t, addr, 0)
	far := time.Now().Add(time.Hour).UnixMilli()
	replMust(t, rc.Set(ctx, "str", "hello", 0))
	replMust(t, rc.Set(ctx, "int", "12345", 0))
	replMust(t, rc.Set(ctx, "big", strings.Repeat("abcdefgh", 10000), 0))
	replMust(t, rc.Set(ctx, "bin\x00key\xff", "bin\x00val\r\n", 0))
	replMust(t, rc.Do(ctx, "SET", "ttl", "v", "PXAT", far))
	var many []any
	for i := 0; i < 300; i++ {
		many = append(many, "e"+strconv.Itoa(i))
	}
	replMust(t, rc.RPush(ctx, "list-small", "a", "b", "c"))
	replMust(t, rc.RPush(ctx, "list-big", many...))
	replMust(t, rc.HSet(ctx, "hash-small", "f1", "v1", "f2", "2"))
	hf := []any{}
	for i := 0; i < 200; i++ {
		hf = append(hf, "field"+strconv.Itoa(i), strings.Repeat("v", i))
	}
	replMust(t, rc.HSet(ctx, "hash-big", hf...))
	replMust(t, rc.SAdd(ctx, "set-int", 1, 2, 3, -7))
	replMust(t, rc.SAdd(ctx, "set-str", "x", "y", "z"))
	replMust(t, rc.SAdd(ctx, "set-big", many...))
	replMust(t, rc.ZAdd(ctx, "zset-small", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"}))
	var zs []redis.Z
	for i := 0; i < 200; i++ {
		zs = append(zs, redis.Z{Score: float64(i) / 3, Member: "m" + strconv.Itoa(i)})
	}
	replMust(t, rc.ZAdd(ctx, "zset-big", zs...))
	replMust(t, rc.Do(ctx, "PEXPIREAT", "hash-big", far))
	rc3 := replClient(t, addr, 3)
	replMust(t, rc3.Set(ctx, "db3", "three", 0))
	replMust(t, rc3.LPush(ctx, "db3-list", "x"))
	rc15 := replClient(t, addr, 15)
	replMust(t, rc15.Set(ctx, "db15", "fifteen", 0))
}

// workload runs a mix of writes from every command group on addr, ending
// on database 0 with a marker key.
func replWorkload(t testing.TB, addr string, round int) {
	t.Helper()
	ctx := context.Background()
	rc := replClient(t, addr, 0)
	p := fmt.Sprintf("w%d:", round)
	far := time.Now().Add(time.Hour).UnixMilli()
	cmds := [][]any{
		{"SET", p + "s", "1"}, {"APPEND", p + "s", "23"}, {"INCR", p + "n"}, {"INCRBY", p + "n", "41"},
		{"SETRANGE", p + "s", "1", "xx"}, {"MSET", p + "m1", "a", p + "m2", "b"}, {"SETNX", p + "m1", "no"},
		{"GETDEL", p + "m2"}, {"SET", p + "px", "v", "PXAT", far}, {"PEXPIREAT", p + "s", far}, {"PERSIST", p + "s"},
		{"RPUSH", p + "l", "a", "b", "c", "d"}, {"LPUSH", p + "l", "z"}, {"LINSERT", p + "l", "BEFORE", "b", "ab"},
		{"LPOP", p + "l"}, {"RPOP", p + "l"}, {"LSET", p + "l", "0", "first"}, {"LTRIM", p + "l", "0", "2"},
		{"LMOVE", p + "l", p + "l2", "LEFT", "RIGHT"}, {"LREM", p + "l", "0", "ab"},
		{"HSET", p + "h", "a", "1", "b", "2", "c", "3"}, {"HINCRBY", p + "h", "a", "10"}, {"HDEL", p + "h", "b"},
		{"HSETNX", p + "h", "d", "4"},
		{"SADD", p + "st", "a", "b", "c", "1"}, {"SREM", p + "st", "c"}, {"SMOVE", p + "st", p + "st2", "a"},
		{"SADD", p + "st3", "b", "q"}, {"SINTERSTORE", p + "sti", p + "st", p + "st3"}, {"SUNIONSTORE", p + "stu", p + "st", p + "st3"},
		{"ZADD", p + "z", "1", "a", "2", "b", "3", "c"}, {"ZINCRBY", p + "z", "5", "a"}, {"ZREM", p + "z", "b"},
		{"ZPOPMIN", p + "z"}, {"ZADD", p + "z2", "7", "x"}, {"ZUNIONSTORE", p + "zu", "2", p + "z", p + "z2"},
		{"ZREMRANGEBYSCORE", p + "zu", "100", "200"},
		{"COPY", p + "h", p + "hcopy"}, {"RENAME", p + "hcopy", p + "hcopy2"}, {"DEL", p + "st2"}, {"UNLINK", p + "l2"},
		{"SET", p + "mv", "1"}, {"MOVE", p + "mv", "5"}, {"EXPIREAT", p + "n", strconv.FormatInt(far/1000, 10)},
	}
	for _, c := range cmds {
		if err := rc.Do(ctx, c...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", c, err)
		}
	}
	// A transaction, across dbs.
	pipe := rc.TxPipeline()
	pipe.Set(ctx, p+"tx1", "a", 0)
	pipe.Incr(ctx, p+"tx2")
	pipe.Do(ctx, "SELECT", "7")
	pipe.Set(ctx, p+"tx-db7", "b", 0)
	pipe.Do(ctx, "SELECT", "0")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("MULTI/EXEC: %v", err)
	}
	// Keys that expire on the master are deleted on the replica too.
	replMust(t, rc.Set(ctx, p+"short", "x", 50*time.Millisecond))
	rc9 := replClient(t, addr, 9)
	replMust(t, rc9.Set(ctx, p+"db9", "nine", 0))
	replMust(t, rc9.FlushDB(ctx))
	replMust(t, rc9.Set(ctx, p+"db9b", "after flush", 0))
	replMust(t, rc.Do(ctx, "SWAPDB", "10", "11"))
	time.Sleep(120 * time.Millisecond)
	rc.Get(ctx, p+"short") // lazy expiry if active expiry has not got there
	replMust(t, rc.Set(ctx, p+"marker", "done", 0))
}

func replAttach(t testing.TB, replica, master string) {
	t.Helper()
	h, p := replAddrPort(master)
	rc := replClient(t, replica, 0)
	replMust(t, rc.Do(context.Background(), "REPLICAOF", h, strconv.Itoa(p)))
}

// ---- TCP replForwarder the tests control ----

type replForwarder struct {
	t      testing.TB
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newReplForwarder(t testing.TB, target string) *replForwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &replForwarder{t: t, ln: ln, target: target}
	go f.accept()
	t.Cleanup(func() { ln.Close(); f.cut() })
	return f
}

func (f *replForwarder) addr() string { return f.ln.Addr().String() }

func (f *replForwarder) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.down {
			f.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", f.target)
		if err != nil {
			f.mu.Unlock()
			c.Close()
			continue
		}
		f.conns = append(f.conns, c, u)
		f.mu.Unlock()
		go func() { io.Copy(u, c); u.Close(); c.Close() }()
		go func() { io.Copy(c, u); u.Close(); c.Close() }()
	}
}

// cut closes every forwarded connection.
func (f *replForwarder) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// setDown makes new connections fail (true) or pass (false).
func (f *replForwarder) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// ---- fluidb -> fluidb ----

func TestReplFullSyncEveryType(t *testing.T) {
	for _, mode := range []struct{ name, diskless string }{{"diskless", "yes"}, {"disk", "no"}} {
		t.Run(mode.name, func(t *testing.T) {
			m := startServer(t, "--repl-diskless-sync", mode.diskless, "--repl-diskless-sync-delay", "0")
			r := startServer(t)
			ma, ra := m.Addr().String(), r.Addr().String()
			replPopulate(t, ma)
			replAttach(t, ra, ma)
			replWaitFor(t, 10*time.Second, "link up", r.linkUp)
			replSameData(t, ma, ra)
			// Same history on both ends.
			if m.replID() != r.replID() {
				t.Fatalf("replid master %s replica %s", m.replID(), r.replID())
			}
			if c := m.replCounters(); c.full != 1 || c.partialOK != 0 {
				t.Fatalf("master counters %+v", c)
			}
			ctx := context.Background()
			if err := replClient(t, ra, 0).Set(ctx, "x", "y", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
				t.Fatalf("write on replica: %v", err)
			}
		})
	}
}

func TestReplLiveStream(t *testing.T) {
	m := startServer(t, "--repl-diskless-sync-delay", "0")
	r := startServer(t)
	ma, ra := m.Addr().String(), r.Addr().String()
	replAttach(t, ra, ma)
	replWaitFor(t, 10*time.Second, "link up", r.linkUp)
	replWorkload(t, ma, 1)
	ctx := context.Background()
	if n := replClient(t, ma, 0).Do(ctx, "WAIT", "1", "2000").Val(); n != int64(1) {
		t.Fatalf("WAIT = %v", n)
	}
	replSameData(t, ma, ra)
	// Offsets agree once the replica acknowledged everything.
	replWaitFor(t, 5*time.Second, "offsets equal", func() bool { return m.replCounters().offset == r.replCounters().offset })
	names := func(s *Server) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		var n []string
		for _, kv := range s.replicationInfo() {
			n = append(n, kv[0])
		}
		return strings.Join(n, " ")
	}
	// Redis 7.0's fields, in its order.
	if got, want := names(r), "role master_host master_port master_link_status master_last_io_seconds_ago "+
		"master_sync_in_progress slave_read_repl_offset slave_repl_offset slave_priority slave_read_only "+
		"replica_announced connected_slaves master_failover_state master_replid master_replid2 "+
		"master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size "+
		"repl_backlog_first_byte_offset repl_backlog_histlen"; got != want {
		t.Fatalf("replica INFO fields:\n got %s\nwant %s", got, want)
	}
	if got, want := names(m), "role connected_slaves slave0 master_failover_state master_replid master_replid2 "+
		"master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size "+
		"repl_backlog_first_byte_offset repl_backlog_histlen"; got != want {
		t.Fatalf("master INFO fields:\n got %s\nwant %s", got, want)
	}
	role := replClient(t, ra, 0).Do(ctx, "ROLE").Val().([]any)
	if role[0] != "slave" || role[3] != "connected" {
		t.Fatalf("ROLE on replica: %v", role)
	}
	role = replClient(t, ma, 0).Do(ctx, "ROLE").Val().([]any)
	if role[0] != "master" || len(role[2].([]any)) != 1 {
		t.Fatalf("ROLE on master: %v", role)
	}
}

func TestReplPartialAfterCut(t *testing.T) {
	m := startServer(t, "--repl-diskless-sync-delay", "0")
	r := startServer(t)
	ma, ra := m.Addr().String(), r.Addr().String()
	fw := newReplForwarder(t, ma)
	replPopulate(t, ma)
	replAttach(t, ra, fw.addr())
	replWaitFor(t, 10*time.Second, "link up", r.linkUp)
	before := m.replCounters()

	fw.setDown(true)
	fw.cut()
	replWaitFor(t, 5*time.Second, "link down", func() bool { return !r.linkUp() })
	replWorkload(t, ma, 2) // written while the replica is away
	fw.setDown(false)
	replWaitFor(t, 15*time.Second, "link up again", r.linkUp)
	replSameData(t, ma, ra)
	after := m.replCounters()
	if after.partialOK != before.partialOK+1 || after.full != before.full {
		t.Fatalf("counters before %+v after %+v: want one more partial resync and no full sync", before, after)
	}
}

func TestReplChained(t *testing.T) {
	a := startServer(t, "--repl-diskless-sync-delay", "0")
	b := startServer(t, "--repl-diskless-sync-delay", "0")
	c := startServer(t)
	aa, ba, ca := a.Addr().String(), b.Addr().String(), c.Addr().String()
	replPopulate(t, aa)
	replAttach(t, ba, aa)
	replWaitFor(t, 10*time.Second, "b up", b.linkUp)
	replAttach(t, ca, ba)
	replWaitFor(t, 10*time.Second, "c up", c.linkUp)
	replWorkload(t, aa, 3)
	replSameData(t, aa, ca)
	if a.replID() != c.replID() {
		t.Fatalf("replid a %s c %s", a.replID(), c.replID())
	}
	replWaitFor(t, 5*time.Second, "offsets equal", func() bool { return a.replCounters().offset == c.replCounters().offset })

	// Promote b: c continues with it partially (replid2).
	before := b.replCounters()
	replMust(t, replClient(t, ba, 0).Do(context.Background(), "REPLICAOF", "NO", "ONE"))
	replWaitFor(t, 10*time.Second, "c back up", c.linkUp)
	replMust(t, replClient(t, ba, 0).Set(context.Background(), "after-promotion", "1", 0))
	replSameData(t, ba, ca)
	after := b.replCounters()
	if after.partialOK != before.partialOK+1 || after.full != before.full {
		t.Fatalf("b counters before %+v after %+v", before, after)
	}
	if c.replID() != b.replID() {
		t.Fatal("c did not take b's new replid")
	}
}

func TestReplServeStaleAndAuth(t *testing.T) {
	m := startServer(t, "--requirepass", "secret", "--repl-diskless-sync-delay", "0")
	r := startServer(t, "--replica-serve-stale-data", "no", "--masterauth", "wrong")
	ma, ra := m.Addr().String(), r.Addr().String()
	ctx := context.Background()
	mc := redis.NewClient(&redis.Options{Addr: ma, Password: "secret", Protocol: 2})
	defer mc.Close()
	replMust(t, mc.Set(ctx, "k", "v", 0))
	replAttach(t, ra, ma)
	rc := replClient(t, ra, 0)
	replWaitFor(t, 5*time.Second, "auth failure", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return strings.Contains(r.repl.downReason, "AUTH")
	})
	if err := rc.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "MASTERDOWN") {
		t.Fatalf("GET with link down and serve-stale no: %v", err)
	}
	if err := rc.Do(ctx, "ROLE").Err(); err != nil {
		t.Fatalf("ROLE (a stale command): %v", err)
	}
	// Back-off, not a tight loop: over three seconds, a few attempts at most.
	conns := func() int64 { m.mu.Lock(); defer m.mu.Unlock(); return m.stats.connections }
	n0 := conns()
	time.Sleep(3 * time.Second)
	if n := conns() - n0; n > 3 {
		t.Fatalf("%d connection attempts in 3 s with a wrong password", n)
	}
	replMust(t, rc.ConfigSet(ctx, "masterauth", "secret"))
	replWaitFor(t, 20*time.Second, "link up", r.linkUp)
	if v := rc.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("GET k = %q", v)
	}
}

// ---- WAIT with a replica stopped ----

func TestReplWaitStoppedReplica(t *testing.T) {
	m := startServer(t, "--repl-diskless-sync-delay", "0")
	ma := m.Addr().String()
	h, p := replAddrPort(ma)
	r1 := testutil.StartFluidb(t, "--save", "", "--replicaof", h, strconv.Itoa(p))
	r2 := testutil.StartFluidb(t, "--save", "", "--replicaof", h, strconv.Itoa(p))
	ctx := context.Background()
	mc := replClient(t, ma, 0)
	replWaitFor(t, 20*time.Second, "two replicas", func() bool { return m.lockedAcks(0) == 2 })
	replMust(t, mc.Set(ctx, "a", "1", 0))
	if n := mc.Do(ctx, "WAIT", "2", "5000").Val(); n != int64(2) {
		t.Fatalf("WAIT 2 with both running = %v", n)
	}
	if err := r2.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer r2.Cmd.Process.Signal(syscall.SIGCONT)
	replWaitStopped(t, r2.Cmd.Process.Pid)
	replMust(t, mc.Set(ctx, "a", "2", 0))
	start := time.Now()
	if n := mc.Do(ctx, "WAIT", "2", "500").Val(); n != int64(1) {
		t.Fatalf("WAIT 2 with one stopped = %v", n)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("WAIT returned after %v, before its timeout", d)
	}
	if n := mc.Do(ctx, "WAIT", "1", "5000").Val(); n != int64(1) {
		t.Fatalf("WAIT 1 with one stopped = %v", n)
	}
	if err := r2.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if n := mc.Do(ctx, "WAIT", "2", "5000").Val(); n != int64(2) {
		t.Fatalf("WAIT 2 after SIGCONT = %v", n)
	}
	if v := testutil.CLI(t, r1.Port, "GET", "a"); v != "2" {
		t.Fatalf("replica 1 GET a = %q", v)
	}
	// WAIT is refused on a replica.
	if out := testutil.CLI(t, r1.Port, "WAIT", "0", "0"); !strings.Contains(out, "WAIT cannot be used with replica instances") {
		t.Fatalf("WAIT on a replica: %q", out)
	}
}

// A replica that stops reading is dropped when it passes the output limit,
// and comes back with a new sync when it resumes.
func TestReplOutputLimit(t *testing.T) {
	m := startServer(t, "--repl-diskless-sync-delay", "0", "--client-output-buffer-limit", "replica 256kb 0 0",
		"--repl-backlog-size", "64kb")
	ma := m.Addr().String()
	h, p := replAddrPort(ma)
	r := testutil.StartFluidb(t, "--save", "", "--replicaof", h, strconv.Itoa(p))
	replWaitFor(t, 20*time.Second, "replica online", func() bool { return m.lockedAcks(0) == 1 })
	if err := r.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer r.Cmd.Process.Signal(syscall.SIGCONT)
	replWaitStopped(t, r.Cmd.Process.Pid)
	ctx := context.Background()
	mc := replClient(t, ma, 0)
	val := strings.Repeat("x", 10000)
	replWaitFor(t, 20*time.Second, "replica dropped", func() bool {
		for i := 0; i < 50; i++ {
			mc.Set(ctx, "k"+strconv.Itoa(i), val, 0)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.sweepReplicas()
		return len(m.repl.replicas) == 0
	})
	full := m.replCounters().full
	if err := r.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	replWaitFor(t, 20*time.Second, "replica back", func() bool { return m.lockedAcks(0) == 1 })
	replMust(t, mc.Set(ctx, "end", "1", 0))
	replSameData(t, ma, r.Addr())
	if m.replCounters().full != full+1 {
		t.Fatalf("expected a new full sync (backlog overrun): %+v", m.replCounters())
	}
}

// ---- redis-server interop ----

func TestReplRedisReplicaOfFluidb(t *testing.T) {
	testutil.Need(t, "redis-server")
	m := startServer(t, "--repl-diskless-sync-delay", "0")
	ma := m.Addr().String()
	fw := newReplForwarder(t, ma)
	replPopulate(t, ma)
	h, p := replAddrPort(fw.addr())
	rp := testutil.StartRedis(t, "--replicaof", h, strconv.Itoa(p))
	replWaitFor(t, 15*time.Second, "redis replica online", func() bool { return m.lockedAcks(0) == 1 })
	replSameData(t, ma, rp.Addr())
	replWorkload(t, ma, 1)
	replSameData(t, ma, rp.Addr())

	before := m.replCounters()
	fw.setDown(true)
	fw.cut()
	time.Sleep(200 * time.Millisecond)
	replWorkload(t, ma, 2)
	fw.setDown(false)
	replWaitFor(t, 15*time.Second, "redis replica back", func() bool { return m.lockedAcks(0) == 1 })
	replSameData(t, ma, rp.Addr())
	after := m.replCounters()
	if after.partialOK != before.partialOK+1 || after.full != before.full {
		t.Fatalf("counters before %+v after %+v: want a partial resync", before, after)
	}
	info := testutil.CLI(t, rp.Port, "INFO", "replication")
	if !strings.Contains(info, "master_replid:"+m.replID()) {
		t.Fatalf("redis replica's replid differs from fluidb's %s:\n%s", m.replID(), info)
	}
}

func TestReplFluidbReplicaOfRedis(t *testing.T) {
	testutil.Need(t, "redis-server")
	rp := testutil.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replPopulate(t, rp.Addr())
	// Redis's own encodings: listpack, quicklist, intset, integers.
	testutil.CLI(t, rp.Port, "SET", "enc-int", "987654321")
	r := startServer(t)
	ra := r.Addr().String()
	fw := newReplForwarder(t, rp.Addr())
	replAttach(t, ra, fw.addr())
	replWaitFor(t, 15*time.Second, "link up", r.linkUp)
	replSameData(t, rp.Addr(), ra)
	replWorkload(t, rp.Addr(), 1)
	replSameData(t, rp.Addr(), ra)

	partial := func() int {
		for _, l := range strings.Split(testutil.CLI(t, rp.Port, "INFO", "stats"), "\n") {
			if strings.HasPrefix(l, "sync_partial_ok:") {
				n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "sync_partial_ok:")))
				return n
			}
		}
		return -1
	}
	before := partial()
	fw.setDown(true)
	fw.cut()
	replWaitFor(t, 5*time.Second, "link down", func() bool { return !r.linkUp() })
	replWorkload(t, rp.Addr(), 2)
	fw.setDown(false)
	replWaitFor(t, 15*time.Second, "link up again", r.linkUp)
	replSameData(t, rp.Addr(), ra)
	if got := partial(); got != before+1 {
		t.Fatalf("redis sync_partial_ok %d -> %d", before, got)
	}
	// ACKs reach the real master: WAIT counts us.
	if n := testutil.CLI(t, rp.Port, "WAIT", "1", "5000"); n != "1" {
		t.Fatalf("WAIT on redis master = %q", n)
	}
}

func (s *Server) lockedAcks(off int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countAcks(off, 0)
}

// Writes made while the snapshot is being walked reach the replica exactly
// once: through the snapshot (copy-on-write keeps the old value) or the
// stream, never both, never neither.
func TestReplSnapshotUnderWrites(t *testing.T) {
	saved := bgChunkKeys
	bgChunkKeys = 20
	defer func() { bgChunkKeys = saved }()
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless-"+diskless, func(t *testing.T) {
			m := startServer(t, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
			r := startServer(t)
			ma, ra := m.Addr().String(), r.Addr().String()
			ctx := context.Background()
			mc := replClient(t, ma, 0)
			pipe := mc.Pipeline()
			for i := 0; i < 20000; i++ {
				pipe.Set(ctx, "k"+strconv.Itoa(i), i, 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				wc := replClient(t, ma, 0)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := "k" + strconv.Itoa((i*7919)%20000)
					wc.Incr(ctx, k)
					wc.Del(ctx, "k"+strconv.Itoa((i*104729)%20000))
					wc.Set(ctx, "new"+strconv.Itoa(i), i, 0)
				}
			}()
			replAttach(t, ra, ma)
			replWaitFor(t, 20*time.Second, "link up", r.linkUp)
			time.Sleep(200 * time.Millisecond)
			close(stop)
			<-done
			replSameData(t, ma, ra)
		})
	}
}

// A replica restarted from its own snapshot continues with a partial
// resync: the snapshot records the replid and offset its data is at.
func TestReplRestartPartial(t *testing.T) {
	m := startServer(t, "--repl-diskless-sync-delay", "0")
	ma := m.Addr().String()
	h, p := replAddrPort(ma)
	dir := t.TempDir()
	start := func() *Server {
		cfg, err := config.Load("", []string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir, "--save", "",
			"--replicaof", h, strconv.Itoa(p)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.log.SetOutput(testWriter{t})
		if err := s.LoadData(); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := func(s *Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}
	replPopulate(t, ma)
	r := start()
	replWaitFor(t, 10*time.Second, "link up", r.linkUp)
	replWorkload(t, ma, 1)
	replSameData(t, ma, r.Addr().String())
	ctx := context.Background()
	replMust(t, replClient(t, r.Addr().String(), 0).Do(ctx, "SAVE"))
	stop(r)
	replWorkload(t, ma, 2) // while the replica is down
	before := m.replCounters()

	r = start()
	defer stop(r)
	replWaitFor(t, 10*time.Second, "link up after restart", r.linkUp)
	replSameData(t, ma, r.Addr().String())
	after := m.replCounters()
	if after.partialOK != before.partialOK+1 || after.full != before.full {
		t.Fatalf("master counters before %+v after %+v: want a partial resync", before, after)
	}
}

// A scripted master checks the replica's side of the protocol byte by
// byte: the pipelined handshake, the first ACK after a diskless payload,
// offsets that advance per executed command and only at EXEC inside a
// transaction, and an ACK answering GETACK that excludes the GETACK.
func TestReplReplicaProtocol(t *testing.T) {
	src := startServer(t)
	c := src.NewTestClient()
	c.Do("SET", "preloaded", "1")
	src.mu.Lock()
	snap, ok := src.replSnapshot()
	src.mu.Unlock()
	if !ok {
		t.Fatal("no snapshot")
	}
	var payload bytes.Buffer
	if err := snap(&payload); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := startServer(t, "--masterauth", "pw")
	replAttach(t, r.Addr().String(), ln.Addr().String())
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	rd := resp.NewReader(conn, 0)
	rdCmd := func() []string {
		t.Helper()
		args, err := rd.ReadCommand()
		if err != nil {
			t.Fatalf("reading from replica: %v", err)
		}
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = string(a)
		}
		return out
	}
	expect := func(want ...string) {
		t.Helper()
		if got := rdCmd(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("replica sent %q, want %q", got, want)
		}
	}
	expect("PING")
	conn.Write([]byte("-NOAUTH Authentication required.\r\n"))
	expect("AUTH", "pw")
	got := rdCmd()
	if got[0] != "REPLCONF" || got[1] != "listening-port" {
		t.Fatalf("want REPLCONF listening-port, got %q", got)
	}
	expect("REPLCONF", "capa", "eof", "capa", "psync2")
	conn.Write([]byte("+OK\r\n+OK\r\n-ERR unknown option\r\n")) // a REPLCONF error is tolerated
	psync := rdCmd()
	if psync[0] != "PSYNC" || psync[2] != "1" {
		t.Fatalf("PSYNC = %q", psync)
	}
	id := strings.Repeat("ab", 20)
	mark := strings.Repeat("x", 40)
	conn.Write([]byte("\n\n+FULLRESYNC " + id + " 1000\r\n\n$EOF:" + mark + "\r\n"))
	conn.Write(payload.Bytes())
	conn.Write([]byte(mark))
	expect("REPLCONF", "ACK", "1000") // the first ACK, at once

	send := func(args ...string) int {
		b := appendRESP(nil, argvOf(args...))
		conn.Write(b)
		return len(b)
	}
	off := int64(1000)
	off += int64(send("SELECT", "2"))
	off += int64(send("SET", "k", "v"))
	send("REPLCONF", "GETACK", "*")
	// The ACK carries the offset before GETACK (a periodic ACK may come
	// first: skip those).
	for {
		a := rdCmd()
		if a[1] != "ACK" {
			t.Fatalf("unexpected %q", a)
		}
		if a[2] == strconv.FormatInt(off, 10) {
			break
		}
		if n, _ := strconv.ParseInt(a[2], 10, 64); n > off {
			t.Fatalf("ACK %s past the GETACK (want %d)", a[2], off)
		}
	}
	off += int64(len(appendRESP(nil, argvOf("REPLCONF", "GETACK", "*"))))
	replWaitFor(t, 5*time.Second, "offset after GETACK", func() bool { return r.replCounters().offset == off })
	// Inside MULTI the offset waits for EXEC.
	tx := int64(send("MULTI")) + int64(send("SET", "t", "1")) + int64(send("INCR", "n"))
	time.Sleep(200 * time.Millisecond)
	if got := r.replCounters().offset; got != off {
		t.Fatalf("offset moved inside MULTI: %d, want %d", got, off)
	}
	tx += int64(send("EXEC"))
	off += tx
	replWaitFor(t, 5*time.Second, "offset after EXEC", func() bool { return r.replCounters().offset == off })
	rc := replClient(t, r.Addr().String(), 2)
	ctx := context.Background()
	if v := rc.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("GET k in db 2 = %q", v)
	}
	if v := rc.Get(ctx, "n").Val(); v != "1" {
		t.Fatalf("GET n in db 2 = %q", v)
	}
	if v := replClient(t, r.Addr().String(), 0).Get(ctx, "preloaded").Val(); v != "1" {
		t.Fatalf("snapshot key = %q", v)
	}
	if r.replID() != id {
		t.Fatalf("replid %s, want the master's", r.replID())
	}
	// Keys expire when the master says so: a client never sees an expired
	// key, but the master's commands still do (a PERSIST made just in time
	// on the master must not find the key gone here).
	send("SET", "ttl", "v", "PXAT", strconv.FormatInt(time.Now().Add(50*time.Millisecond).UnixMilli(), 10))
	time.Sleep(150 * time.Millisecond)
	if err := rc.Get(ctx, "ttl").Err(); err != redis.Nil {
		t.Fatalf("expired key visible on the replica: %v", err)
	}
	send("PERSIST", "ttl")
	replWaitFor(t, 5*time.Second, "PERSIST applied", func() bool { return rc.Get(ctx, "ttl").Val() == "v" })
}

// replWaitStopped waits until the kernel reports pid stopped (SIGSTOP is
// delivered asynchronously).
func replWaitStopped(t testing.TB, pid int) {
	t.Helper()
	replWaitFor(t, 5*time.Second, "process stopped", func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true // not Linux: trust the signal
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		return len(f) > 0 && (f[0] == "T" || f[0] == "t")
	})
}
