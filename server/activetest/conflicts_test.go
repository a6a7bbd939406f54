package activetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// The conflict tests run a table of scenarios in one partition: each
// scenario has its own keys, a setup made while connected, and steps made
// on either side during the partition, in order, a few milliseconds apart
// so that each step's stamp is larger than the previous one's. After the
// heal both nodes must hold identical data and each key the state the
// whole-key newest-write-wins rule predicts, stamped by the predicted side.

type cstep struct {
	side  byte // 'A' or 'B'; 0 with sleep
	db    int
	args  []any
	sleep time.Duration
}

func onA(args ...any) cstep { return cstep{side: 'A', args: args} }
func onB(args ...any) cstep { return cstep{side: 'B', args: args} }
func onAdb(db int, args ...any) cstep {
	return cstep{side: 'A', db: db, args: args}
}
func onBdb(db int, args ...any) cstep {
	return cstep{side: 'B', db: db, args: args}
}
func pause(d time.Duration) cstep { return cstep{sleep: d} }

// ttlWant says what PEXPIRETIME must be: none, or ms after a step ran
// (step indexes count setup steps first, then the partition's steps).
type ttlWant struct {
	set  bool
	step int
	ms   int64
}

type kwant struct {
	db     int
	key    string
	absent bool
	str    *string
	hash   map[string]string
	list   []string
	set    []string
	ttl    *ttlWant // nil: no TTL
	winner byte     // side whose write the key's stamp must come from; 0 unchecked
}

type scenario struct {
	name     string
	setup    []cstep
	steps    []cstep
	wants    []kwant
	conflict []string // keys written on both sides: FLUIDB CONFLICTS must list them
}

func sp(s string) *string { return &s }

func conflictScenarios() []scenario {
	return []scenario{
		{name: "same key, A then B",
			steps:    []cstep{onA("SET", "c1", "a"), onB("SET", "c1", "b")},
			wants:    []kwant{{key: "c1", str: sp("b"), winner: 'B'}},
			conflict: []string{"c1"}},
		{name: "same key, B then A",
			steps:    []cstep{onB("SET", "c2", "b"), onA("SET", "c2", "a")},
			wants:    []kwant{{key: "c2", str: sp("a"), winner: 'A'}},
			conflict: []string{"c2"}},
		{name: "DEL later than an update",
			setup: []cstep{onA("SET", "c3", "v0")},
			steps: []cstep{onA("SET", "c3", "a"), onB("DEL", "c3")},
			wants: []kwant{{key: "c3", absent: true, winner: 'B'}}},
		{name: "DEL earlier than an update",
			setup: []cstep{onA("SET", "c4", "v0")},
			steps: []cstep{onB("DEL", "c4"), onA("SET", "c4", "a")},
			wants: []kwant{{key: "c4", str: sp("a"), winner: 'A'}}},
		{name: "DEL of a hash against a later HSET on the old base",
			setup: []cstep{onA("HSET", "c5", "f", "1")},
			steps: []cstep{onA("DEL", "c5"), onB("HSET", "c5", "g", "2")},
			wants: []kwant{{key: "c5", hash: map[string]string{"f": "1", "g": "2"}, winner: 'B'}}},
		{name: "HSET against a later DEL",
			setup: []cstep{onA("HSET", "c6", "f", "1")},
			steps: []cstep{onB("HSET", "c6", "g", "2"), onA("DEL", "c6")},
			wants: []kwant{{key: "c6", absent: true, winner: 'A'}}},
		{name: "DEL on both sides",
			setup: []cstep{onA("SET", "c25", "v0")},
			steps: []cstep{onA("DEL", "c25"), onB("DEL", "c25")},
			wants: []kwant{{key: "c25", absent: true, winner: 'B'}}},
		{name: "EXPIRE against a later SET",
			setup: []cstep{onA("SET", "c7", "v0")},
			steps: []cstep{onA("EXPIRE", "c7", 1000), onB("SET", "c7", "b")},
			wants: []kwant{{key: "c7", str: sp("b"), winner: 'B'}}},
		{name: "SET against a later EXPIRE",
			setup: []cstep{onA("SET", "c8", "v0")},
			steps: []cstep{onA("SET", "c8", "a"), onB("EXPIRE", "c8", 1000)},
			wants: []kwant{{key: "c8", str: sp("v0"), ttl: &ttlWant{step: 2, ms: 1000_000}, winner: 'B'}}},
		{name: "SET EX against a later PERSIST",
			setup: []cstep{onA("SET", "c9", "v0", "EX", 1000)},
			steps: []cstep{onA("SET", "c9", "a", "EX", 2000), onB("PERSIST", "c9")},
			wants: []kwant{{key: "c9", str: sp("v0"), winner: 'B'}}},
		{name: "PERSIST against a later SET PX",
			setup: []cstep{onA("SET", "c10", "v0", "EX", 1000)},
			steps: []cstep{onB("PERSIST", "c10"), onA("SET", "c10", "a", "PX", 2000_000)},
			wants: []kwant{{key: "c10", str: sp("a"), ttl: &ttlWant{step: 2, ms: 2000_000}, winner: 'A'}}},
		{name: "SET KEEPTTL after a SET EX elsewhere",
			setup: []cstep{onA("SET", "c11", "v0", "EX", 1000)},
			steps: []cstep{onB("SET", "c11", "b", "EX", 3000), onA("SET", "c11", "a", "KEEPTTL")},
			wants: []kwant{{key: "c11", str: sp("a"), ttl: &ttlWant{step: 0, ms: 1000_000}, winner: 'A'}}},
		{name: "hash changed on both sides, B last",
			setup:    []cstep{onA("HSET", "c12", "f0", "0")},
			steps:    []cstep{onA("HSET", "c12", "fa", "1"), onB("HSET", "c12", "fb", "2")},
			wants:    []kwant{{key: "c12", hash: map[string]string{"f0": "0", "fb": "2"}, winner: 'B'}},
			conflict: []string{"c12"}},
		{name: "hash changed on both sides, A last",
			setup: []cstep{onA("HSET", "c13", "f0", "0")},
			steps: []cstep{onB("HSET", "c13", "fb", "2"), onA("HSET", "c13", "fa", "1")},
			wants: []kwant{{key: "c13", hash: map[string]string{"f0": "0", "fa": "1"}, winner: 'A'}}},
		{name: "list pushed on both sides",
			setup: []cstep{onA("RPUSH", "c14", "0")},
			steps: []cstep{onA("RPUSH", "c14", "a"), onB("LPUSH", "c14", "b"), onB("RPUSH", "c14", "b2")},
			wants: []kwant{{key: "c14", list: []string{"b", "0", "b2"}, winner: 'B'}}},
		{name: "set changed on both sides",
			setup: []cstep{onA("SADD", "c15", "0", "1")},
			steps: []cstep{onB("SADD", "c15", "b"), onA("SREM", "c15", "0")},
			wants: []kwant{{key: "c15", set: []string{"1"}, winner: 'A'}}},
		{name: "counter incremented on both sides",
			setup: []cstep{onA("SET", "c16", "10")},
			steps: []cstep{onA("INCR", "c16"), onB("INCRBY", "c16", 5)},
			wants: []kwant{{key: "c16", str: sp("15"), winner: 'B'}}},
		{name: "type changes",
			steps: []cstep{onA("SET", "c17", "s"), onB("HSET", "c17", "f", "v"),
				onB("RPUSH", "c18", "x"), onA("SET", "c18", "s")},
			wants: []kwant{{key: "c17", hash: map[string]string{"f": "v"}, winner: 'B'},
				{key: "c18", str: sp("s"), winner: 'A'}}},
		{name: "several databases",
			steps: []cstep{onAdb(0, "SET", "c19", "a0"), onBdb(5, "SET", "c19", "b5"),
				onBdb(0, "SET", "c19", "b0"), onAdb(5, "SET", "c19", "a5")},
			wants: []kwant{{key: "c19", str: sp("b0"), winner: 'B'}, {db: 5, key: "c19", str: sp("a5"), winner: 'A'}}},
		{name: "binary key and values",
			steps: []cstep{onA("SET", "c20\x00\xff", "\x00a\r\n"), onB("SET", "c20\x00\xff", "\r\n\x00b\xfe")},
			wants: []kwant{{key: "c20\x00\xff", str: sp("\r\n\x00b\xfe"), winner: 'B'}}},
		{name: "FLUSHDB between writes",
			setup: []cstep{onAdb(7, "SET", "x1", "0"), onAdb(7, "SET", "x2", "0"), onAdb(7, "SET", "x3", "0")},
			steps: []cstep{onAdb(7, "SET", "x1", "a"), onBdb(7, "FLUSHDB"), onAdb(7, "SET", "x2", "a2")},
			wants: []kwant{{db: 7, key: "x1", absent: true}, {db: 7, key: "x2", str: sp("a2"), winner: 'A'},
				{db: 7, key: "x3", absent: true}}},
		{name: "RENAME against a later SET of its source",
			setup: []cstep{onA("SET", "c21", "v1")},
			steps: []cstep{onA("RENAME", "c21", "c22"), onB("SET", "c21", "b")},
			wants: []kwant{{key: "c21", str: sp("b"), winner: 'B'}, {key: "c22", str: sp("v1"), winner: 'A'}}},
		{name: "expired on one side, written later on the other",
			setup: []cstep{onA("SET", "c23", "v0")},
			steps: []cstep{onA("PEXPIRE", "c23", 100), pause(300 * time.Millisecond), onB("SET", "c23", "b")},
			wants: []kwant{{key: "c23", str: sp("b"), winner: 'B'}}},
		{name: "newest write carries a TTL that passes during the partition",
			setup: []cstep{onA("SET", "c24", "v0")},
			steps: []cstep{onB("SET", "c24", "b"), onA("SET", "c24", "a", "PX", 150), pause(300 * time.Millisecond)},
			wants: []kwant{{key: "c24", absent: true}}},
	}
}

// stepTime is when a step ran: unix ms before it was sent and after its
// reply came.
type stepTime struct{ before, after int64 }

// runSteps runs steps in order, a few ms apart.
func runSteps(t testing.TB, p *pair, steps []cstep) []stepTime {
	t.Helper()
	var times []stepTime
	for _, s := range steps {
		if s.sleep > 0 {
			time.Sleep(s.sleep)
			times = append(times, stepTime{})
			continue
		}
		before := time.Now().UnixMilli()
		p.side(s.side).mustDB(s.db, s.args...)
		times = append(times, stepTime{before, time.Now().UnixMilli()})
		// The next step must get a larger stamp even on the other node.
		time.Sleep(3 * time.Millisecond)
	}
	return times
}

// scenarioRun is a scenario and when its steps ran (TTLs are checked
// against those times).
type scenarioRun struct {
	sc         scenario
	setupTimes []stepTime
	stepTimes  []stepTime
}

func setupScenarios(t testing.TB, p *pair, scs []scenario) []*scenarioRun {
	t.Helper()
	var runs []*scenarioRun
	for _, sc := range scs {
		runs = append(runs, &scenarioRun{sc: sc, setupTimes: runSteps(t, p, sc.setup)})
	}
	p.waitSettled(10 * time.Second)
	return runs
}

func partitionSteps(t testing.TB, p *pair, runs []*scenarioRun) {
	t.Helper()
	for _, r := range runs {
		r.stepTimes = runSteps(t, p, r.sc.steps)
	}
}

func checkScenarios(t testing.TB, p *pair, runs []*scenarioRun) {
	t.Helper()
	for _, r := range runs {
		for _, w := range r.sc.wants {
			checkWant(t, p, r, w)
		}
	}
	// The conflicts are on record: whichever node decided one lists the
	// key with the winning stamp and a smaller losing one.
	listed := map[string][][]any{}
	for _, n := range p.nodes() {
		v, err := n.do("FLUIDB", "CONFLICTS", 1000)
		if err != nil {
			t.Errorf("node %s FLUIDB CONFLICTS: %v", n.name, err)
			continue
		}
		rows, _ := v.([]any)
		for _, row := range rows {
			f, _ := row.([]any)
			if len(f) != 8 {
				t.Errorf("node %s FLUIDB CONFLICTS row %#v: want 8 fields", n.name, row)
				continue
			}
			if k, ok := f[0].(string); ok {
				listed[k] = append(listed[k], f)
			}
		}
	}
	for _, r := range runs {
		for _, k := range r.sc.conflict {
			s := p.a.mustStamp(0, k)
			found := false
			for _, f := range listed[k] {
				ls, ok := f[4].(int64)
				if f[1] == int64(0) && f[2] == int64(s.stamp) && f[3] == s.origin && ok && uint64(ls) < s.stamp &&
					(f[6] == "local" || f[6] == "remote") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: FLUIDB CONFLICTS on neither node lists %q won by %v (rows: %q)", r.sc.name, k, s, listed[k])
			}
		}
	}
	var total int64
	for _, n := range p.nodes() {
		total += atoi(n.info("fluidb")["conflicts"])
	}
	if total == 0 {
		t.Errorf("INFO fluidb conflicts is 0 on both nodes after conflicting partitions")
	}
}

func checkWant(t testing.TB, p *pair, r *scenarioRun, w kwant) {
	t.Helper()
	name := fmt.Sprintf("%s: db %d key %q", r.sc.name, w.db, w.key)
	for _, n := range p.nodes() {
		st, err := readKey(n.db(w.db), w.key)
		if err != nil {
			t.Errorf("%s: read on %s: %v", name, n.name, err)
			return
		}
		if msg := w.mismatch(st, r); msg != "" {
			t.Errorf("%s on %s: %s; got %s", name, n.name, msg, st)
		}
	}
	sa, errA := p.a.stampOf(w.db, w.key)
	sb, errB := p.b.stampOf(w.db, w.key)
	if errA != nil || errB != nil {
		t.Errorf("%s: FLUIDB STAMP: %v / %v", name, errA, errB)
		return
	}
	// A collected tombstone reads as never seen: compare the others.
	if sa != sb && sa.seen && sb.seen {
		t.Errorf("%s: stamps differ: A %v, B %v", name, sa, sb)
	}
	s := sa
	if !s.seen {
		s = sb
	}
	if w.winner == 0 {
		return
	}
	if !s.seen {
		if !w.absent {
			t.Errorf("%s: live key without a stamp", name)
		}
		return
	}
	if !p.side(w.winner).ownsUUID(s.origin) {
		t.Errorf("%s: stamp %v is not from %c (A=%v B=%v)", name, s, w.winner, p.a.uuids, p.b.uuids)
	}
	if want := map[bool]string{true: "deleted", false: "live"}[w.absent]; s.state != want {
		t.Errorf("%s: stamp state %q, want %q", name, s.state, want)
	}
}

func (w kwant) mismatch(st keyState, r *scenarioRun) string {
	if w.absent {
		if st.exists {
			return "want absent"
		}
		return ""
	}
	if !st.exists {
		return "want present"
	}
	switch {
	case w.str != nil:
		if st.typ != "string" || st.str != *w.str {
			return fmt.Sprintf("want string %q", *w.str)
		}
	case w.hash != nil:
		if st.typ != "hash" || fmt.Sprint(st.hash) != fmt.Sprint(w.hash) {
			return fmt.Sprintf("want hash %q", w.hash)
		}
	case w.list != nil:
		if st.typ != "list" || fmt.Sprint(st.list) != fmt.Sprint(w.list) {
			return fmt.Sprintf("want list %q", w.list)
		}
	case w.set != nil:
		want := append([]string(nil), w.set...)
		sort.Strings(want)
		if st.typ != "set" || fmt.Sprint(sortedSet(st.set)) != fmt.Sprint(want) {
			return fmt.Sprintf("want set %q", want)
		}
	}
	if w.ttl == nil {
		if st.expire != -1 {
			return "want no TTL"
		}
		return ""
	}
	times := append(append([]stepTime(nil), r.setupTimes...), r.stepTimes...)
	at := times[w.ttl.step]
	lo, hi := at.before+w.ttl.ms-1, at.after+w.ttl.ms+1
	if st.expire < lo || st.expire > hi {
		return fmt.Sprintf("want PEXPIRETIME in [%d, %d]", lo, hi)
	}
	return ""
}

func syncCounts(t testing.TB, n *node) (full, partial int64) {
	t.Helper()
	m := n.info("stats")
	return atoi(m["sync_full"]), atoi(m["sync_partial_ok"])
}

// TestConflictsHealedByPartialResync: a short partition heals through
// PSYNC from the backlog on both links.
func TestConflictsHealedByPartialResync(t *testing.T) {
	p := startPair(t, pairOpts{})
	runs := setupScenarios(t, p, conflictScenarios())
	fa, pa := syncCounts(t, p.a)
	fb, pb := syncCounts(t, p.b)
	p.cut()
	partitionSteps(t, p, runs)
	p.heal()
	p.waitSettled(15 * time.Second)
	fa2, pa2 := syncCounts(t, p.a)
	fb2, pb2 := syncCounts(t, p.b)
	if fa2 != fa || fb2 != fb || pa2 <= pa || pb2 <= pb {
		t.Errorf("heal after a short cut: sync_full A %d->%d B %d->%d, sync_partial_ok A %d->%d B %d->%d; want partial resyncs only",
			fa, fa2, fb, fb2, pa, pa2, pb, pb2)
	}
	checkScenarios(t, p, runs)
}

// TestConflictsHealedByFullSync: a partition during which each node writes
// more than its 16kb backlog heals through a full-sync merge on both links.
func TestConflictsHealedByFullSync(t *testing.T) {
	p := startPair(t, pairOpts{args: []string{"--repl-backlog-size", "16kb"}})
	runs := setupScenarios(t, p, conflictScenarios())
	fa, _ := syncCounts(t, p.a)
	fb, _ := syncCounts(t, p.b)
	p.cut()
	partitionSteps(t, p, runs)
	fill(t, p)
	p.heal()
	p.waitSettled(20 * time.Second)
	fa2, _ := syncCounts(t, p.a)
	fb2, _ := syncCounts(t, p.b)
	if fa2 <= fa || fb2 <= fb {
		t.Errorf("heal after writing past the backlog: sync_full A %d->%d B %d->%d; want a full sync on both links", fa, fa2, fb, fb2)
	}
	checkScenarios(t, p, runs)
	for i := 0; i < 300; i += 37 {
		wantString(t, 0, fmt.Sprintf("fill:A:%d", i), strings.Repeat("a", 256), p.a, p.b)
		wantString(t, 0, fmt.Sprintf("fill:B:%d", i), strings.Repeat("b", 256), p.a, p.b)
	}
}

// fill writes about 90kb on each side, past a 16kb backlog.
func fill(t testing.TB, p *pair) {
	t.Helper()
	for _, s := range []byte{'A', 'B'} {
		n := p.side(s)
		pl := n.c().Pipeline()
		for i := 0; i < 300; i++ {
			pl.Set(ctx, fmt.Sprintf("fill:%c:%d", s, i), strings.Repeat(strings.ToLower(string(s)), 256), 0)
		}
		if _, err := pl.Exec(ctx); err != nil {
			t.Fatalf("fill on %s: %v", n.name, err)
		}
	}
}

// TestConflictsWithRestartDuringPartition: B saves, is killed (SIGKILL)
// and restarted from its snapshot during the partition. Its stamps and
// tombstones come back from disk: its newer writes still win, its older
// ones still lose, its deletes stay deletes.
func TestConflictsWithRestartDuringPartition(t *testing.T) {
	p := startPair(t, pairOpts{pass: "pw"})
	runs := setupScenarios(t, p, conflictScenarios())
	p.cut()
	partitionSteps(t, p, runs)
	p.b.must("SAVE")
	hlcBefore := hlcOf(t, p.b)
	p.restartB()
	// The clock's high-water mark came back with the snapshot.
	if hlc := hlcOf(t, p.b); hlc < hlcBefore {
		t.Errorf("B's clock went back over the restart: hlc %d, %d before", hlc, hlcBefore)
	}
	// The restarted B serves its snapshot, and its master link is down.
	if v, _ := p.b.do("GET", "c1"); v != "b" {
		t.Fatalf("B after restart: GET c1 = %#v, want its snapshot's \"b\"", v)
	}
	if up, _ := linkUp(p.b); up {
		t.Fatal("B's link is up through a cut forwarder")
	}
	p.heal()
	p.waitSettled(20 * time.Second)
	checkScenarios(t, p, runs)
	// A fresh write on the restarted node wins over everything before it.
	p.b.must("SET", "c1", "after-restart")
	waitConverged(t, 10*time.Second, p.a, p.b)
	wantString(t, 0, "c1", "after-restart", p.a, p.b)
}

// TestRestartFromOldSnapshot: B comes back from a snapshot older than
// what both nodes hold: writes made after it on either node (B's own,
// already replicated, too) and keys deleted while B was down stay as they
// are; nothing stale comes back.
func TestRestartFromOldSnapshot(t *testing.T) {
	p := startPair(t, pairOpts{})
	p.a.must("SET", "d1", "v")
	p.a.must("HSET", "d2", "f", "v")
	p.a.must("SET", "d3", "old")
	p.b.must("SET", "d4", "old")
	p.b.must("RPUSH", "d5", "old")
	p.waitSettled(10 * time.Second)
	p.b.must("SAVE")
	p.a.must("SET", "d3", "new")
	p.b.must("SET", "d4", "new")
	p.b.must("DEL", "d5")
	p.waitSettled(10 * time.Second)
	p.cut()
	p.b.kill()
	p.a.must("DEL", "d1", "d2")
	p.restartB()
	if v, _ := p.b.do("GET", "d4"); v != "old" {
		t.Fatalf("B did not come back from its old snapshot: GET d4 = %#v", v)
	}
	p.heal()
	p.waitSettled(20 * time.Second)
	wantAbsent(t, 0, "d1", p.a, p.b)
	wantAbsent(t, 0, "d2", p.a, p.b)
	wantAbsent(t, 0, "d5", p.a, p.b)
	wantString(t, 0, "d3", "new", p.a, p.b)
	wantString(t, 0, "d4", "new", p.a, p.b)
}

// TestTombstonesCollected: once both peers have acknowledged a delete its
// tombstone is collected, also after a peer restarted (a new process with
// a new id: its old incarnation is no peer any more and holds nothing
// back).
func TestTombstonesCollected(t *testing.T) {
	p := startPair(t, pairOpts{})
	deleteSome := func(pre string) {
		for i := 0; i < 10; i++ {
			n := p.nodes()[i%2]
			k := fmt.Sprintf("%s%d", pre, i)
			n.must("SET", k, "v")
			n.must("DEL", k)
		}
		p.waitSettled(10 * time.Second)
	}
	waitCollected := func(when string) {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for _, n := range p.nodes() {
			for {
				f := n.info("fluidb")
				if f["tombstones"] == "0" && atoi(f["tombstones_collected"]) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("%s: node %s keeps its tombstones: %v", when, n.name, f)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	deleteSome("t1:")
	waitCollected("both peers acknowledged")
	p.restartB()
	p.waitSettled(15 * time.Second)
	for _, c := range []struct{ n, peer *node }{{p.a, p.b}, {p.b, p.a}} {
		f := c.n.info("fluidb")
		if f["peers"] != "1" || !strings.Contains(f["peer0"], "uuid="+c.peer.uuid()) || f["peer1"] != "" {
			t.Errorf("after B restarted, node %s lists peers=%s peer0=%q peer1=%q; want only %s's current id %s",
				c.n.name, f["peers"], f["peer0"], f["peer1"], c.peer.name, c.peer.uuid())
		}
	}
	deleteSome("t2:")
	waitCollected("after B restarted")
	wantAbsent(t, 0, "t2:0", p.a, p.b)
}

// TestDeleteSurvivesOneWayPartition: only A's writes are cut off from B.
// A updates a key, then B deletes it: the delete is newer and reaches A at
// once, the update waits in A's stream. B may collect its tombstone only
// once it cannot receive an older write any more; when A's stream gets
// through, the old update must not bring the key back on B.
func TestDeleteSurvivesOneWayPartition(t *testing.T) {
	p := startPair(t, pairOpts{})
	p.a.must("SET", "k", "v0")
	p.a.must("HSET", "h", "f", "0")
	p.waitSettled(10 * time.Second)
	p.fa.Cut() // B no longer hears from A; A still hears from B
	p.a.must("SET", "k", "a")
	p.a.must("HSET", "h", "g", "1")
	time.Sleep(5 * time.Millisecond)
	p.b.must("DEL", "k", "h")
	waitFor(t, 5*time.Second, "B's delete on A", func() bool {
		v, _ := p.a.do("EXISTS", "k", "h")
		return v == int64(0)
	})
	// Give B every chance to collect its tombstones (peers ack once a
	// second): INFO fluidb shows when it has.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && p.b.info("fluidb")["tombstones"] != "0" {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("B's tombstones while A's stream is cut: %s", p.b.info("fluidb")["tombstones"])
	p.fa.Heal()
	p.waitSettled(10 * time.Second)
	wantAbsent(t, 0, "k", p.a, p.b)
	wantAbsent(t, 0, "h", p.a, p.b)
}

// TestDeleteSurvivesRestartAfterCollection: B saves, the key is deleted on
// A, both nodes acknowledge and collect the tombstone, then B is killed and
// comes back from its snapshot, which still holds the key. The key must
// stay deleted, on both nodes.
func TestDeleteSurvivesRestartAfterCollection(t *testing.T) {
	p := startPair(t, pairOpts{})
	p.a.must("SET", "gone", "v")
	p.a.must("SET", "kept", "v")
	p.waitSettled(10 * time.Second)
	p.b.must("SAVE")
	p.a.must("DEL", "gone")
	p.waitSettled(10 * time.Second)
	waitFor(t, 10*time.Second, "both nodes collect the tombstone", func() bool {
		return p.a.info("fluidb")["tombstones"] == "0" && p.b.info("fluidb")["tombstones"] == "0"
	})
	p.b.kill()
	p.restartB()
	if v, _ := p.b.do("EXISTS", "gone"); v != int64(1) {
		t.Fatalf("B did not come back from its snapshot (EXISTS gone = %#v)", v)
	}
	p.waitSettled(20 * time.Second)
	wantAbsent(t, 0, "gone", p.a, p.b)
	wantString(t, 0, "kept", "v", p.a, p.b)
}
