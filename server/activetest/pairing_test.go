package activetest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/internal/testutil"
)

// wantString fails unless key holds exactly v on every node.
func wantString(t testing.TB, db int, key, v string, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		got, err := n.doDB(db, "GET", key)
		if err != nil || got != v {
			t.Errorf("node %s db %d GET %q = %#v, %v; want %q", n.name, db, key, got, err, v)
		}
	}
}

func wantAbsent(t testing.TB, db int, key string, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		if got := n.mustDB(db, "EXISTS", key); got != int64(0) {
			t.Errorf("node %s db %d: %q exists; want it absent", n.name, db, key)
		}
	}
}

// TestSeedSteps pairs two nodes that already hold data the way the seed
// documentation says (on B REPLICAOF A, then on A REPLICAOF B). Neither
// node drops its data: they merge key by key and the newer write wins.
// B turns active-replica on at run time with CONFIG SET.
func TestSeedSteps(t *testing.T) {
	a := startNode(t, "A", "", activeArgs("")...)
	b := startNode(t, "B", "", "--save", "")
	b.must("CONFIG", "SET", "active-replica", "yes")
	if got := b.must("CONFIG", "GET", "active-replica"); fmt.Sprint(got) != "[active-replica yes]" {
		t.Fatalf("CONFIG GET active-replica = %v", got)
	}
	if f := b.info("fluidb"); f["active_replica"] != "1" {
		t.Fatalf("INFO fluidb after CONFIG SET active-replica yes: active_replica=%q", f["active_replica"])
	}
	if r := b.info("replication"); r["role"] != "master" {
		t.Errorf("active node without a master: role=%q, want master", r["role"])
	}

	a.must("SET", "only:a", "1")
	a.must("SET", "newer:b", "old-from-A")
	a.mustDB(2, "HSET", "h:a", "f", "v")
	time.Sleep(5 * time.Millisecond)
	b.must("SET", "only:b", "2")
	b.must("SET", "newer:b", "new-from-B")
	b.must("SET", "newer:a", "old-from-B")
	b.mustDB(3, "RPUSH", "l:b", "x", "y")
	time.Sleep(5 * time.Millisecond)
	a.must("SET", "newer:a", "new-from-A")

	b.must("REPLICAOF", "127.0.0.1", a.portString())
	waitLinksUp(t, 15*time.Second, b)
	if r := b.info("replication"); r["role"] != "active-replica" {
		t.Errorf("B after REPLICAOF: role=%q, want active-replica", r["role"])
	}
	// B merged A's data into its own: nothing of B's was dropped.
	waitFor(t, 10*time.Second, "A's keys on B", func() bool {
		v, _ := b.do("GET", "only:a")
		return v == "1"
	})
	wantString(t, 0, "only:b", "2", b)
	wantString(t, 0, "newer:b", "new-from-B", b)
	wantString(t, 0, "newer:a", "new-from-A", b)
	if got := b.mustDB(2, "HGET", "h:a", "f"); got != "v" {
		t.Errorf("B db 2 HGET h:a f = %#v", got)
	}
	if got := b.mustDB(3, "LRANGE", "l:b", 0, -1); fmt.Sprint(got) != "[x y]" {
		t.Errorf("B db 3 l:b = %v", got)
	}
	a.must("SET", "live:a", "1")
	waitFor(t, 10*time.Second, "a live write of A on B", func() bool {
		v, _ := b.do("GET", "live:a")
		return v == "1"
	})

	a.must("REPLICAOF", "127.0.0.1", b.portString())
	waitLinksUp(t, 15*time.Second, a, b)
	waitConverged(t, 10*time.Second, a, b)
	wantString(t, 0, "only:b", "2", a, b)
	wantString(t, 0, "only:a", "1", a, b)
	wantString(t, 0, "newer:b", "new-from-B", a, b)
	wantString(t, 0, "newer:a", "new-from-A", a, b)

	// From now on writes flow both ways.
	a.must("SET", "after:a", "A")
	b.must("SET", "after:b", "B")
	waitConverged(t, 10*time.Second, a, b)
	wantString(t, 0, "after:a", "A", a, b)
	wantString(t, 0, "after:b", "B", a, b)
}

// TestConfigFilesNameEachOther starts two nodes whose config files name
// each other, in both orders, the second one a while after the first: the
// first serves writes while its link is down and the two converge once
// both run.
func TestConfigFilesNameEachOther(t *testing.T) {
	for _, order := range []string{"AB", "BA"} {
		t.Run(order, func(t *testing.T) {
			ports := map[byte]int{'A': testutil.FreePort(t), 'B': testutil.FreePort(t)}
			peer := map[byte]byte{'A': 'B', 'B': 'A'}
			nodes := map[byte]*node{}
			mk := func(name byte) *node {
				dir := t.TempDir()
				conf := filepath.Join(dir, "fluidb.conf")
				text := fmt.Sprintf("port %d\nactive-replica yes\nreplicaof 127.0.0.1 %d\nsave \"\"\nrequirepass s3cret\nmasterauth s3cret\n",
					ports[name], ports[peer[name]])
				if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				n := &node{t: t, name: string(name), dir: dir, conf: conf, pass: "s3cret", port: ports[name], log: &testutil.SyncBuffer{}}
				t.Cleanup(n.cleanup)
				n.start()
				nodes[name] = n
				return n
			}
			first := mk(order[0])
			first.must("SET", "first", order[:1])
			first.mustDB(4, "SADD", "first:set", "a", "b")
			// The peer is away: the link is down, and writes are served.
			time.Sleep(1500 * time.Millisecond)
			if up, r := linkUp(first); up || r["role"] != "active-replica" {
				t.Fatalf("%s alone: link_status=%q role=%q; want down and active-replica", first.name, r["master_link_status"], r["role"])
			}
			first.must("SET", "first:late", "x")
			second := mk(order[1])
			second.must("SET", "second", order[1:])
			waitLinksUp(t, 20*time.Second, first, second)
			waitConverged(t, 10*time.Second, first, second)
			wantString(t, 0, "first", order[:1], first, second)
			wantString(t, 0, "first:late", "x", first, second)
			wantString(t, 0, "second", order[1:], first, second)
			if got := second.mustDB(4, "SCARD", "first:set"); got != int64(2) {
				t.Errorf("db 4 first:set on %s: SCARD = %v", second.name, got)
			}
		})
	}
}

// TestReplicaofItselfRefused: REPLICAOF naming the node's own address is
// an error, and the node stays a master that takes writes.
func TestReplicaofItselfRefused(t *testing.T) {
	n := startNode(t, "A", "", activeArgs("")...)
	_, err := n.do("REPLICAOF", "127.0.0.1", n.portString())
	if err == nil {
		t.Fatal("REPLICAOF <its own address> accepted")
	}
	t.Logf("REPLICAOF itself: %v", err)
	time.Sleep(300 * time.Millisecond)
	r := n.info("replication")
	if r["role"] != "master" || r["master_host"] != "" {
		t.Errorf("after a refused REPLICAOF: role=%q master_host=%q", r["role"], r["master_host"])
	}
	n.must("SET", "k", "v")
	wantString(t, 0, "k", "v", n)
}

var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// TestInfoRoleAndStamps checks the fields of the interface on a pair that
// authenticates its links: INFO replication, INFO fluidb, ROLE, FLUIDB ID
// and STAMP, and REPLICAOF of the current master.
func TestInfoRoleAndStamps(t *testing.T) {
	p := startPair(t, pairOpts{pass: "pw-123"})
	idA, idB := p.a.uuid(), p.b.uuid()
	if idA == idB {
		t.Fatalf("both nodes have id %s", idA)
	}
	for _, c := range []struct {
		n, peer *node
		fwd     *forwarder
	}{{p.a, p.b, p.fb}, {p.b, p.a, p.fa}} {
		n := c.n
		r := n.info("replication")
		want := map[string]string{
			"role": "active-replica", "master_global_link_status": "up", "connected_masters": "1",
			"master_host": "127.0.0.1", "master_port": c.fwd.portString(), "master_link_status": "up",
			"master_sync_in_progress": "0", "slave_read_only": "0", "connected_slaves": "1",
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("node %s INFO replication %s=%q, want %q", n.name, k, r[k], v)
			}
		}
		if !strings.Contains(r["slave0"], "state=online") {
			t.Errorf("node %s slave0=%q, want state=online", n.name, r["slave0"])
		}
		if !hex40.MatchString(r["master_replid"]) {
			t.Errorf("node %s master_replid=%q", n.name, r["master_replid"])
		}
		for _, f := range []string{"slave_repl_offset", "master_repl_offset", "master_last_io_seconds_ago"} {
			if _, err := strconv.ParseInt(r[f], 10, 64); err != nil {
				t.Errorf("node %s INFO replication %s=%q, want an integer", n.name, f, r[f])
			}
		}

		f := n.info("fluidb")
		if f["node_uuid"] != n.uuid() {
			t.Errorf("node %s node_uuid=%q, FLUIDB ID %q", n.name, f["node_uuid"], n.uuid())
		}
		if f["active_replica"] != "1" || f["peers"] != "1" {
			t.Errorf("node %s active_replica=%q peers=%q", n.name, f["active_replica"], f["peers"])
		}
		peer := f["peer0"]
		for _, part := range []string{"uuid=" + c.peer.uuid(), "link_in=up", "link_out=up", "lag_bytes=", "lag_ms=", "last_ack_ms=", "skew_ms=", "addr="} {
			if !strings.Contains(peer, part) {
				t.Errorf("node %s peer0=%q: no %q", n.name, peer, part)
			}
		}
		for _, k := range []string{"conflicts", "conflicts_local_won", "conflicts_remote_won", "tombstones",
			"tombstones_collected", "stamps_clamped", "duplicates_dropped", "full_syncs", "partial_syncs"} {
			if _, err := strconv.ParseInt(f[k], 10, 64); err != nil {
				t.Errorf("node %s INFO fluidb %s=%q, want an integer", n.name, k, f[k])
			}
		}
		if f["conflicts"] != "" && f["conflicts"] != fmt.Sprint(atoi(f["conflicts_local_won"])+atoi(f["conflicts_remote_won"])) {
			t.Errorf("node %s conflicts=%s != local_won %s + remote_won %s", n.name, f["conflicts"], f["conflicts_local_won"], f["conflicts_remote_won"])
		}
		for _, sec := range []string{"", "all", "everything"} {
			var s string
			var err error
			if sec == "" {
				s, err = n.c().Info(ctx).Result()
			} else {
				s, err = n.c().Info(ctx, sec).Result()
			}
			if err != nil || !strings.Contains(s, "# Fluidb\r\n") || !strings.Contains(s, "node_uuid:"+n.uuid()) {
				t.Errorf("node %s INFO %s has no # Fluidb section with node_uuid (err %v)", n.name, sec, err)
			}
		}

		role, err := n.do("ROLE")
		ra, _ := role.([]any)
		if err != nil || len(ra) != 5 || ra[0] != "active-replica" || ra[1] != "127.0.0.1" ||
			ra[2] != int64(c.fwd.Port()) || ra[3] != "connected" {
			t.Errorf("node %s ROLE = %#v, %v; want [active-replica 127.0.0.1 %d connected <offset>]", n.name, role, err, c.fwd.Port())
		} else if _, ok := ra[4].(int64); !ok {
			t.Errorf("node %s ROLE offset = %#v, want an integer", n.name, ra[4])
		}

		got, err := n.c().Do(ctx, "REPLICAOF", "127.0.0.1", c.fwd.portString()).Result()
		if err != nil || got != "OK Already connected to specified master" {
			t.Errorf("node %s REPLICAOF of its master = %#v, %v", n.name, got, err)
		}
	}
	// REPLICAOF of the current master leaves the link as it was.
	waitLinksUp(t, 2*time.Second, p.a, p.b)

	if s := p.a.mustStamp(0, "never"); s.seen {
		t.Errorf("FLUIDB STAMP of a key never written = %v, want null", s)
	}
	before := time.Now().UnixMilli()
	p.a.must("SET", "k", "v")
	after := time.Now().UnixMilli()
	sa := p.a.mustStamp(0, "k")
	if !sa.seen || sa.origin != idA || sa.state != "live" || int64(sa.stamp>>16) < before-1 || int64(sa.stamp>>16) > after+1 {
		t.Errorf("FLUIDB STAMP k on A = %v; want a stamp in [%d, %d] ms from %s, live", sa, before, after, idA)
	}
	waitConverged(t, 10*time.Second, p.a, p.b)
	if sb := p.b.mustStamp(0, "k"); sb != sa {
		t.Errorf("FLUIDB STAMP k on B = %v, on A %v: a replicated write keeps its origin stamp", sb, sa)
	}
	// Both clocks are past the write: A issued it, B applied it.
	for _, n := range p.nodes() {
		hlc := hlcOf(t, n)
		if hlc < sa.stamp {
			t.Errorf("node %s: INFO fluidb hlc %d is below the stamp %d it issued or applied", n.name, hlc, sa.stamp)
		}
		if d := time.Now().UnixMilli() - int64(hlc>>16); d < -60000 || d > 60000 {
			t.Errorf("node %s: hlc %d is %d ms away from the wall clock", n.name, hlc, d)
		}
	}
	p.b.must("DEL", "k")
	waitConverged(t, 10*time.Second, p.a, p.b)
	for _, n := range p.nodes() {
		s := n.mustStamp(0, "k")
		// A tombstone may be collected once both peers acked it.
		if s.seen && (s.state != "deleted" || s.origin != idB || !sa.less(s)) {
			t.Errorf("FLUIDB STAMP k on %s after DEL on B = %v; want deleted by %s after %v", n.name, s, idB, sa)
		}
	}
}

// hlcOf reads INFO fluidb hlc and checks hlc_ms against it.
func hlcOf(t testing.TB, n *node) uint64 {
	t.Helper()
	f := n.info("fluidb")
	hlc, err1 := strconv.ParseUint(f["hlc"], 10, 64)
	hlcMS, err2 := strconv.ParseInt(f["hlc_ms"], 10, 64)
	if err1 != nil || err2 != nil || int64(hlc>>16) != hlcMS {
		t.Errorf("node %s hlc=%q hlc_ms=%q: want hlc_ms = hlc>>16", n.name, f["hlc"], f["hlc_ms"])
	}
	return hlc
}

// recordMeta encodes a record's <meta> argument: origin UUID (16 bytes),
// stamp and previous stamp (8 bytes each, big endian), whose the previous
// stamp is (0 nobody, 1 the origin, 2 the UUID that follows), the database
// as a uvarint.
func recordMeta(t testing.TB, origin string, st, prev uint64, prevOrigin string, db uint64) string {
	t.Helper()
	id, err := uuid.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), id[:]...)
	b = binary.BigEndian.AppendUint64(b, st)
	b = binary.BigEndian.AppendUint64(b, prev)
	switch {
	case prev == 0:
		b = append(b, 0)
	case prevOrigin == origin:
		b = append(b, 1)
	default:
		pid, err := uuid.Parse(prevOrigin)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, 2)
		b = append(b, pid[:]...)
	}
	return string(binary.AppendUvarint(b, db))
}

func atoi(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

// TestWrongMasterauth: a wrong password keeps the link down, with the
// reason in INFO and in the log; the right one brings it up.
func TestWrongMasterauth(t *testing.T) {
	a := startNode(t, "A", "right", activeArgs("right")...)
	b := startNode(t, "B", "", activeArgs("", "--masterauth", "wrong")...)
	a.must("SET", "k", "v")
	b.must("REPLICAOF", "127.0.0.1", a.portString())

	authReason := regexp.MustCompile(`(?i)auth|wrongpass|password`)
	var reason string
	waitFor(t, 10*time.Second, "the AUTH failure in B's INFO", func() bool {
		s, err := b.c().Info(ctx, "all").Result()
		if err != nil {
			return false
		}
		for k, v := range parseInfo(s) {
			if authReason.MatchString(v) {
				reason = k + ":" + v
				return true
			}
		}
		return false
	})
	t.Logf("INFO shows %s", reason)
	if !authReason.MatchString(b.log.String()) {
		t.Errorf("B's log does not mention the AUTH failure:\n%s", tail(b.log.String(), 20))
	}
	time.Sleep(1500 * time.Millisecond)
	if up, r := linkUp(b); up || r["role"] != "active-replica" {
		t.Errorf("with a wrong masterauth: link_status=%q role=%q; want down, active-replica", r["master_link_status"], r["role"])
	}
	if v, _ := b.do("GET", "k"); v != nil {
		t.Errorf("data crossed a link whose AUTH failed: GET k on B = %#v", v)
	}

	b.must("CONFIG", "SET", "masterauth", "right")
	b.must("REPLICAOF", "NO", "ONE")
	b.must("REPLICAOF", "127.0.0.1", a.portString())
	waitLinksUp(t, 15*time.Second, b)
	waitFor(t, 10*time.Second, "k on B", func() bool {
		v, _ := b.do("GET", "k")
		return v == "v"
	})
}

// TestApplyRefusedFromClients: FLUIDB.APPLY from a normal client, even an
// authenticated one, or one that only announced itself as active with
// REPLCONF, is refused with the documented error and changes nothing, on
// either node.
func TestApplyRefusedFromClients(t *testing.T) {
	p := startPair(t, pairOpts{pass: "pw"})
	a := p.a
	const wantErr = "ERR FLUIDB.APPLY is only accepted on an active replication link"
	a.must("SET", "tmp", "payload")
	dump, ok := a.must("DUMP", "tmp").(string)
	if !ok {
		t.Fatal("DUMP tmp gave no payload")
	}
	a.must("DEL", "tmp")
	a.must("SET", "apply:keep", "v")
	a.must("HSET", "apply:h", "f", "1")
	waitConverged(t, 10*time.Second, p.a, p.b)
	keepStamp := a.mustStamp(0, "apply:keep")

	// Well-formed records of every kind (docs/active-replication.md, "The
	// wire format"), from the peer's id and newer than anything here: the
	// only thing wrong with them is who sends them.
	origin := p.b.uuid()
	future := uint64(time.Now().Add(time.Minute).UnixMilli()) << 16
	none := recordMeta(t, origin, future, 0, "", 0)
	records := [][]any{
		{"FLUIDB.APPLY", none, "apply:new", "STR", "v", "0"},
		{"FLUIDB.APPLY", none, "apply:set", "SET", dump, "0"},
		{"FLUIDB.APPLY", recordMeta(t, origin, future, keepStamp.stamp, keepStamp.origin, 0), "apply:keep", "DEL"},
		{"FLUIDB.APPLY", none, "apply:l", "CMD", "RPUSH", "apply:l", "x"},
		{"FLUIDB.APPLY", none, "", "FLUSH"},
	}
	for _, rec := range records {
		_, err := a.do(rec...)
		if err == nil || err.Error() != wantErr {
			t.Errorf("%q record from a client: %v; want %q", rec[3], err, wantErr)
		}
	}
	// Inside MULTI it is refused as well (at queue time or at EXEC).
	tx := a.c().TxPipeline()
	tx.Do(ctx, records[0]...)
	_, _ = tx.Exec(ctx)
	// A client that merely announced itself as an active replica is still
	// a client.
	rc := newClient(a.addr(), "pw", 0)
	defer rc.Close()
	conn := rc.Conn()
	defer conn.Close()
	_ = conn.Do(ctx, "REPLCONF", "capa", "active", "uuid", "00000000-0000-4000-8000-000000000001").Err()
	if err := conn.Do(ctx, records[0]...).Err(); err == nil || err.Error() != wantErr {
		t.Errorf("FLUIDB.APPLY after REPLCONF capa active: %v; want %q", err, wantErr)
	}

	waitConverged(t, 10*time.Second, p.a, p.b)
	for _, n := range p.nodes() {
		wantAbsent(t, 0, "apply:new", n)
		wantAbsent(t, 0, "apply:set", n)
		wantAbsent(t, 0, "apply:l", n)
		wantString(t, 0, "apply:keep", "v", n)
		if got := n.must("HGET", "apply:h", "f"); got != "1" {
			t.Errorf("node %s: apply:h lost (FLUSH applied?): %#v", n.name, got)
		}
		if s := n.mustStamp(0, "apply:keep"); s != keepStamp {
			t.Errorf("node %s: stamp of apply:keep changed to %v from %v", n.name, s, keepStamp)
		}
		if s := n.mustStamp(0, "apply:new"); s.seen {
			t.Errorf("node %s: apply:new has a stamp %v", n.name, s)
		}
	}
}

// TestStaleDataNoOnActiveReplica: with replica-serve-stale-data no, an
// active node whose master link has been down longer than repl-timeout
// answers -MASTERDOWN to reads and writes; before that, and after the
// link is back, it serves them.
func TestStaleDataNoOnActiveReplica(t *testing.T) {
	p := startPair(t, pairOpts{args: []string{"--replica-serve-stale-data", "no", "--repl-timeout", "2", "--repl-ping-replica-period", "1"}})
	p.a.must("SET", "k", "v")
	p.waitSettled(10 * time.Second)
	p.cut()
	cutAt := time.Now()
	// Within repl-timeout the partition is not stale yet.
	if _, err := p.b.do("SET", "k2", "during"); err != nil && time.Since(cutAt) < 1500*time.Millisecond {
		t.Errorf("B right after the cut: SET = %v; want it served within repl-timeout", err)
	}
	waitFor(t, 10*time.Second, "MASTERDOWN on B", func() bool {
		_, err := p.b.do("GET", "k")
		return err != nil && strings.HasPrefix(err.Error(), "MASTERDOWN ")
	})
	if d := time.Since(cutAt); d < 1900*time.Millisecond {
		t.Errorf("MASTERDOWN %v after the cut, before repl-timeout (2 s)", d)
	}
	if _, err := p.b.do("SET", "k3", "x"); err == nil || !strings.HasPrefix(err.Error(), "MASTERDOWN ") {
		t.Errorf("write on B with its link down past repl-timeout: %v; want MASTERDOWN", err)
	}
	// Both nodes are stale now: each must still let the other's replica
	// link in (handshake and PSYNC), or neither ever comes back.
	p.heal()
	waitLinksUp(t, 8*time.Second, p.a, p.b)
	p.b.must("SET", "k3", "after")
	waitConverged(t, 10*time.Second, p.a, p.b)
	wantString(t, 0, "k3", "after", p.a, p.b)
}
