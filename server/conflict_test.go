package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// activeTestNode is an active server with a client that plays the part of
// the active link from a peer (its records go through FLUIDB.APPLY).
func activeTestNode(t *testing.T) (s *Server, link, user *Client, peer string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.ActiveReplica = true
	cfg.ReplicaReadOnly = false
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	link = s.NewTestClient()
	link.flags |= flagMaster
	s.act.linkActive = true
	peer = uuid.NewString()
	s.seePeer(uuid.MustParse(peer), "127.0.0.1:1") // paired: records are worth writing
	return s, link, s.NewTestClient(), peer
}

func TestNeverPairedNodeSkipsRecords(t *testing.T) {
	cfg := testConfig(t)
	cfg.ActiveReplica = true
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewTestClient()
	c.Do("SET", "a", "1")
	c.Do("DEL", "a")
	if s.act.offset != 0 {
		t.Fatalf("a node with no peer wrote %d bytes of records", s.act.offset)
	}
	if got := c.Do("FLUIDB", "STAMP", "a"); !strings.Contains(got, "deleted") {
		t.Fatalf("the tombstone must still be kept: %q", got)
	}
	// Once a peer is known, records flow; a resync from before the skip is
	// a full one.
	s.seePeer(uuid.New(), "127.0.0.1:1")
	c.Do("SET", "b", "2")
	if s.act.offset == 0 {
		t.Fatal("no records once paired")
	}
	other := uuid.New()
	if s.act.canContinue(other, s.act.replid, 1) {
		t.Fatal("a peer with nothing after the skipped records was offered a partial resync")
	}
	if !s.act.canContinue(other, s.act.replid, s.act.offset+1) {
		t.Fatal("a peer with everything was refused a partial resync")
	}
}

// meta encodes a record's meta argument (db 0).
func meta(origin string, stamp, prev uint64, prevOrigin string) string {
	pid := uuid.Nil
	if prevOrigin != "" {
		pid = uuid.MustParse(prevOrigin)
	}
	return string(encodeMeta(nil, uuid.MustParse(origin), stamp, prev, pid, 0))
}

// apply sends one record from the peer.
func apply(link *Client, origin string, stamp, prev uint64, prevOrigin string, key, op string, args ...string) string {
	argv := []string{"FLUIDB.APPLY", meta(origin, stamp, prev, prevOrigin), key, op}
	return link.Do(append(argv, args...)...)
}

// stampOfKey returns FLUIDB STAMP's stamp for key (0 when unknown).
func stampOfKey(t *testing.T, c *Client, key string) uint64 {
	t.Helper()
	r := c.Do("FLUIDB", "STAMP", key)
	if strings.HasPrefix(r, "$-1") || strings.HasPrefix(r, "_") {
		return 0
	}
	lines := strings.Split(r, "\r\n")
	v, err := strconv.ParseUint(strings.TrimPrefix(lines[1], ":"), 10, 64)
	if err != nil {
		t.Fatalf("FLUIDB STAMP %s: %q", key, r)
	}
	return v
}

func TestApplyRefusedFromNormalClient(t *testing.T) {
	_, _, user, peer := activeTestNode(t)
	got := apply(user, peer, 1<<40, 0, "", "k", "STR", "v", "0")
	if got != "-"+errApplyNotLink+"\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := user.Do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatalf("record applied anyway: EXISTS %q", got)
	}
}

func TestNewestWriteWins(t *testing.T) {
	s, link, user, peer := activeTestNode(t)
	user.Do("SET", "k", "local")
	local := stampOfKey(t, user, "k")

	// An older write from the peer (made concurrently, on another base)
	// loses; a newer one wins. Both are conflicts.
	apply(link, peer, local-1, 5, peer, "k", "STR", "old", "0")
	if got := user.Do("GET", "k"); got != "$5\r\nlocal\r\n" {
		t.Fatalf("older remote write overwrote: %q", got)
	}
	apply(link, peer, local+1, 5, peer, "k", "STR", "new", "0")
	if got := user.Do("GET", "k"); got != "$3\r\nnew\r\n" {
		t.Fatalf("newer remote write lost: %q", got)
	}
	if s.act.localWon != 1 || s.act.remoteWon != 1 {
		t.Fatalf("conflicts local=%d remote=%d, want 1 and 1", s.act.localWon, s.act.remoteWon)
	}
	// The same record again is a duplicate and changes nothing.
	apply(link, peer, local+1, 5, peer, "k", "STR", "again", "0")
	if got := user.Do("GET", "k"); got != "$3\r\nnew\r\n" || s.act.dups != 1 {
		t.Fatalf("duplicate applied: %q dups=%d", got, s.act.dups)
	}
	// Equal stamps: the larger origin UUID wins, on every node.
	st := stampOfKey(t, user, "k") + 10
	user.Do("SET", "tie", "mine")
	e := s.dbs[0].Get([]byte("tie"))
	e.Stamp = st
	apply(link, peer, st, 0, "", "tie", "STR", "theirs", "0")
	want := "mine"
	if strings.Compare(peer, s.nodeID.String()) > 0 {
		want = "theirs"
	}
	if got := user.Do("GET", "tie"); got != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
		t.Fatalf("tie: got %q, want %s", got, want)
	}
}

func TestDeletesStayDeleted(t *testing.T) {
	_, link, user, peer := activeTestNode(t)
	user.Do("SET", "k", "v")
	user.Do("DEL", "k")
	del := stampOfKey(t, user, "k")
	if del == 0 {
		t.Fatal("no tombstone after DEL")
	}
	// A write made before the delete arrives late: the key stays deleted.
	apply(link, peer, del-1, 0, "", "k", "STR", "zombie", "0")
	if got := user.Do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatal("an older write brought a deleted key back")
	}
	// A later one recreates it.
	apply(link, peer, del+1, 0, "", "k", "STR", "new", "0")
	if got := user.Do("GET", "k"); got != "$3\r\nnew\r\n" {
		t.Fatalf("newer write after delete: %q", got)
	}
	// A remote delete older than our value is ignored; a newer one wins.
	cur := stampOfKey(t, user, "k")
	apply(link, peer, cur-1, 0, "", "k", "DEL")
	if got := user.Do("EXISTS", "k"); got != ":1\r\n" {
		t.Fatal("older delete removed a newer value")
	}
	apply(link, peer, cur+1, cur, peer, "k", "DEL")
	if got := user.Do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatal("newer delete ignored")
	}
}

func TestEffectNeedsSameBase(t *testing.T) {
	s, link, user, peer := activeTestNode(t)
	user.Do("RPUSH", "l", "a")
	base := stampOfKey(t, user, "l")
	self := s.nodeID.String()

	// Same base: the effect applies and the key takes its stamp.
	apply(link, peer, base+1, base, self, "l", "CMD", "RPUSH", "l", "b")
	if got := user.Do("LRANGE", "l", "0", "-1"); got != "*2\r\n$1\r\na\r\n$1\r\nb\r\n" {
		t.Fatalf("effect on the same base: %q", got)
	}
	if st := stampOfKey(t, user, "l"); st != base+1 {
		t.Fatalf("stamp %d, want the record's %d", st, base+1)
	}
	// Another base, newer: not applied, the whole key is fetched.
	apply(link, peer, base+5, base+3, peer, "l", "CMD", "RPUSH", "l", "c")
	if got := user.Do("LLEN", "l"); got != ":2\r\n" {
		t.Fatalf("effect applied on a different base: LLEN %q", got)
	}
	if len(s.act.fetchQ) != 1 || s.act.fetchQ[0].key != "l" {
		t.Fatalf("fetch queue %v, want l", s.act.fetchQ)
	}
	// The fetched whole state arrives and settles it.
	apply(link, peer, base+5, base+5, peer, "l", "STR", "whole", "0")
	if got := user.Do("GET", "l"); got != "$5\r\nwhole\r\n" {
		t.Fatalf("fetched state: %q", got)
	}
	if _, pending := s.act.fetchNeed[fetchKey{0, "l"}]; pending {
		t.Fatal("fetch still pending after the state arrived")
	}
}

func TestFlushKeepsNewerWrites(t *testing.T) {
	_, link, user, peer := activeTestNode(t)
	user.Do("SET", "old", "1")
	mid := stampOfKey(t, user, "old") + 1
	user.Do("SET", "new", "2")
	user.Do("PEXPIRE", "new", "100000")
	// The peer flushed between the two writes.
	link.Do("FLUIDB.APPLY", meta(peer, mid, 0, ""), "", "FLUSH")
	if got := user.Do("EXISTS", "old", "new"); got != ":1\r\n" {
		t.Fatalf("after a remote flush: EXISTS old new = %q, want 1", got)
	}
	// A write older than the flush arriving late stays flushed.
	apply(link, peer, mid-1, 0, "", "late", "STR", "x", "0")
	if got := user.Do("EXISTS", "late"); got != ":0\r\n" {
		t.Fatal("a write older than the flush came back")
	}
}

func TestLocalWritesBecomeRecords(t *testing.T) {
	s, _, user, _ := activeTestNode(t)
	start := s.act.offset
	user.Do("SET", "a", "1")
	user.Do("LPUSH", "l", "x")
	user.Do("DEL", "a")
	data := string(s.act.bl.from(start + 1))
	for _, want := range []string{"$3\r\nSTR\r\n$1\r\n1\r\n", "$3\r\nCMD\r\n$5\r\nLPUSH\r\n", "$1\r\na\r\n$3\r\nDEL\r\n"} {
		if !strings.Contains(data, want) {
			t.Errorf("active stream lacks %q:\n%q", want, data)
		}
	}
	// A peer is never sent its own records: runs of its groups (single
	// records or MULTI...EXEC) become one FLUIDB.SKIP each; everything
	// else passes unchanged.
	id, other := uuid.New(), uuid.New()
	rec := func(origin uuid.UUID) []byte {
		return appendRESP(nil, argvOf("FLUIDB.APPLY", meta(origin.String(), 1, 0, ""), "k", "DEL"))
	}
	group := func(origin uuid.UUID) []byte {
		b := appendRESP(nil, argvOf("MULTI"))
		b = append(append(b, rec(origin)...), rec(origin)...)
		return appendRESP(b, argvOf("EXEC"))
	}
	skip := func(n int) string {
		return string(appendRESP(nil, argvOf("FLUIDB.SKIP", strconv.Itoa(n))))
	}
	var in, want []byte
	in = append(in, rec(id)...)
	in = append(in, group(id)...)
	want = append(want, skip(len(in))...)
	in = append(in, group(other)...)
	want = append(want, group(other)...)
	in = append(in, group(id)...)
	want = append(want, skip(len(group(id)))...)
	in = append(in, appendRESP(nil, argvOf("PING"))...)
	want = append(want, appendRESP(nil, argvOf("PING"))...)
	if got := string(filterActive(in, id)); got != string(want) {
		t.Fatalf("filtered stream\n got %q\nwant %q", got, want)
	}
	if got := string(filterActive(in, uuid.New())); got != string(in) {
		t.Fatal("records of other origins were filtered")
	}
}

func TestLocalWriteBeatsClampedFutureStamp(t *testing.T) {
	s, link, user, peer := activeTestNode(t)
	s.cfg.ActiveReplicaMaxClockSkew = 1000
	s.clock.MaxSkewMs = 1000
	future := uint64(time.Now().Add(time.Hour).UnixMilli()) << 16
	apply(link, peer, future, 0, "", "k", "STR", "from-the-future", "0")
	if s.clock.Clamped != 1 {
		t.Fatalf("clamped = %d, want 1", s.clock.Clamped)
	}
	// Our clock did not jump an hour ahead...
	user.Do("SET", "other", "x")
	if st := stampOfKey(t, user, "other"); st >= future {
		t.Fatalf("the clock absorbed a stamp an hour ahead: %d", st)
	}
	// ...but a write to the key itself follows its state, so it wins on
	// every node, not only here.
	user.Do("SET", "k", "mine")
	if st := stampOfKey(t, user, "k"); st <= future {
		t.Fatalf("local write stamped %d, not after the key's %d", st, future)
	}
}

// A command touching many keys (past the linear-scan threshold of
// seenTouched) sends one record per distinct key.
func TestManyKeysOneRecordEach(t *testing.T) {
	s, _, user, _ := activeTestNode(t)
	args := []string{"MSET"}
	for i := 0; i < 40; i++ {
		args = append(args, "k"+strconv.Itoa(i), "v")
	}
	args = append(args, "k3", "again", "k39", "again") // touched twice
	start := s.act.offset
	user.Do(args...)
	data := string(s.act.bl.from(start + 1))
	if n := strings.Count(data, "FLUIDB.APPLY"); n != 40 {
		t.Fatalf("%d records for 40 distinct keys", n)
	}
	if !strings.Contains(data, "$2\r\nk3\r\n$3\r\nSTR\r\n$5\r\nagain\r\n") {
		t.Fatal("k3's record does not carry its final value")
	}
	user.Do("DEBUG", "POPULATE", "20000")
	if got := user.Do("DBSIZE"); got != ":20040\r\n" {
		t.Fatalf("DBSIZE %q", got)
	}
}

func TestRecordsOfTheOnlyPeerAreNotRelayed(t *testing.T) {
	s, link, _, peer := activeTestNode(t)
	start := s.act.offset
	apply(link, peer, 1<<40, 0, "", "k", "STR", "v", "0")
	if s.act.offset != start {
		t.Fatalf("a record from the only peer was relayed (%d bytes)", s.act.offset-start)
	}
	// That peer can still continue our stream partially; any other node
	// that had it only up to here cannot.
	if !s.act.canContinue(uuid.MustParse(peer), s.act.replid, s.act.offset+1) {
		t.Fatal("the origin of the skipped records was refused a partial resync")
	}
	if s.act.canContinue(uuid.New(), s.act.replid, s.act.offset+1) {
		t.Fatal("another node was offered a stream with records missing")
	}
}

func TestMergeServesBlockedClients(t *testing.T) {
	s, _, _, peer := activeTestNode(t)
	waiter := s.NewTestClient()
	// BLPOP blocks (no reply yet).
	if got := waiter.Do("BLPOP", "q", "0"); got != "" {
		t.Fatalf("BLPOP answered at once: %q", got)
	}
	// A peer's snapshot holding q is merged (a full sync).
	other, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	oc := other.NewTestClient()
	oc.Do("RPUSH", "q", "job")
	ld := &loaded{dbs: other.dbs, origins: other.origins}
	e := other.dbs[0].Get([]byte("q"))
	e.Stamp, e.Origin = 1<<40, other.origins.Intern(uuid.MustParse(peer))
	s.mergeLoaded(ld)
	waiter.mu.Lock()
	got := string(waiter.out)
	waiter.mu.Unlock()
	if got != "*2\r\n$1\r\nq\r\n$3\r\njob\r\n" {
		t.Fatalf("blocked BLPOP after the merge got %q", got)
	}
}
