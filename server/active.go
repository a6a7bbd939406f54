package server

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
	"github.com/fluidb/fluidb/server/resp"
)

// Active replication (docs/active-replication.md): the sending side. With
// active-replica on, every change this node makes is described per key as a
// record (FLUIDB.APPLY ...) in the node's own active stream, with its own
// replication id, offsets and backlog, separate from the plain stream that
// plain replicas and the append-only file see. Records are built here from
// the keys a command touched (modified() in db.go reports them), sent to
// active replicas filtered by origin, and replayed from the backlog on a
// partial resync. Receiving records and deciding conflicts is conflict.go;
// the link handshake is repl_replica.go.

// stampID is a write's identity: its stamp and the UUID of the node that
// made it. The order on stampIDs is the conflict rule's order.
type stampID struct {
	stamp  uint64
	origin uuid.UUID
}

// after reports whether a is newer than b: larger stamp, then larger origin
// UUID, identically on every node.
func (a stampID) after(b stampID) bool {
	if a.stamp != b.stamp {
		return a.stamp > b.stamp
	}
	return bytes.Compare(a.origin[:], b.origin[:]) > 0
}

func (a stampID) String() string { return strconv.FormatUint(a.stamp, 10) + "@" + a.origin.String() }

// tomb is what a deleted key leaves behind while peers may still send older
// writes for it.
type tomb struct {
	stamp  uint64
	origin uint32 // index in s.origins
	off    int64  // active stream offset once the deletion was sent
	at     int64  // unix ms when it was made
}

// touchedKey is a key a command changed, with its state before the change.
type touchedKey struct {
	db         int
	key        []byte
	prev       uint64
	prevOrigin uint32
}

// conflictRec is one decided conflict, for FLUIDB CONFLICTS.
type conflictRec struct {
	key       string
	db        int
	win, lose stampID
	local     bool // this node's write won
	at        int64
}

type fetchKey struct {
	db  int
	key string
}

// peer is another node this one has an active link with, either way.
type peer struct {
	id       uuid.UUID
	addr     string
	addrs    []string // every address it was seen at (as master, as replica)
	lastSeen time.Time
	skewMs   int64
}

const (
	maxConflictLog = 128
	noOrigin       = ^uint32(0) // stream bytes nobody is filtered from (PING)
)

type activeState struct {
	on     bool
	replid string
	offset int64
	bl     *backlog
	sink   *activeSink

	// The command being run: keys it touched (local writes), or records
	// it relays verbatim (applied from a peer, fetch replies).
	touched    []touchedKey
	touchedSet map[fetchKey]struct{} // dedupe once touched is long
	keyArena   []byte                // the touched keys' bytes

	// topoGen counts changes to the peers and replicas; want caches
	// wantRecords's last answer for one origin.
	topoGen uint64
	want    struct {
		ok     bool
		gen    uint64
		origin uint32
		val    bool
	}
	scratch  []byte
	relay    []byte
	relayN   int
	relayOrg uint32
	newTombs []fetchKey

	// Applying a peer's record: modified() stamps with the record's
	// stamp instead of the clock's.
	applying    bool
	applyStamp  uint64
	applyOrigin uint32

	tombs   []map[string]*tomb // per db
	nTombs  int
	flushes []tomb // per db: everything older was flushed
	peers   map[uuid.UUID]*peer

	conflicts []conflictRec // ring
	confNext  int
	originStr map[uint32]string

	// Counters for INFO fluidb.
	localWon, remoteWon, dups, collected, fetches, fullSyncs, partialSyncs int64

	// The replica side of an active link.
	skipped    map[uuid.UUID]*int64 // per origin: offset where records were last skipped
	lastSkip   *int64               // skipped[lastSkipID]
	lastSkipID uuid.UUID
	// lineage: the processes whose data this one loaded at boot (the
	// snapshot's writer, and its own lineage), newest first.
	lineage []string
	// collectedFor: per peer, the newest tombstone collected because
	// that peer had acknowledged it (see mergeEntry).
	collectedFor  map[uuid.UUID]uint64
	resurrections int64
	lastOrigin    []byte // parse cache: the last record's origin text
	lastOrgIdx    uint32
	masterID      uuid.UUID
	masterReplid  string // the master's active stream we continue
	masterOff     int64
	linkActive    bool // the current master link carries records
	skipAdj       int64
	fetchNeed     map[fetchKey]uint64
	fetchQ        []fetchKey
}

// activeSink is active replication's place in the effects pipeline: it
// turns each command's touched keys into records.
type activeSink struct{ s *Server }

func (k *activeSink) feedEffects(group []effect) { k.s.activeFlush(group) }

// activeConfigChanged starts or stops active replication to match the
// active-replica setting (boot, CONFIG SET).
func (s *Server) activeConfigChanged() {
	s.clock.MaxSkewMs = s.cfg.ActiveReplicaMaxClockSkew
	if s.cfg.ActiveReplica == s.act.on {
		return
	}
	a := &s.act
	if s.cfg.ActiveReplica {
		a.on = true
		a.replid = newReplID()
		a.offset = 0
		a.skipped, a.lastSkip = nil, nil
		a.bl = newBacklog(s.cfg.ReplBacklogSize, 0)
		if a.sink == nil {
			a.sink = &activeSink{s: s}
		}
		if a.tombs == nil {
			a.tombs = make([]map[string]*tomb, len(s.dbs))
			for i := range a.tombs {
				a.tombs[i] = map[string]*tomb{}
			}
			a.flushes = make([]tomb, len(s.dbs))
		}
		if a.peers == nil {
			a.peers = map[uuid.UUID]*peer{}
			a.fetchNeed = map[fetchKey]uint64{}
			a.originStr = map[uint32]string{}
		}
		s.addSink(a.sink)
	} else {
		a.on = false
		a.bl = nil
		s.removeSink(a.sink)
		for _, r := range s.repl.replicas {
			if r.active {
				s.dropReplica(r, "active replication switched off")
			}
		}
	}
	s.updateSink()
	if s.isReplica() && s.repl.link != nil {
		// The link renegotiates what it carries.
		s.stopLink("active-replica changed")
		s.repl.state = linkConnect
		s.startLink()
	}
}

func (s *Server) originString(idx uint32) string {
	if str, ok := s.act.originStr[idx]; ok {
		return str
	}
	str := s.origins.ID(idx).String()
	s.act.originStr[idx] = str
	return str
}

func (s *Server) stampOf(stamp uint64, origin uint32) stampID {
	return stampID{stamp: stamp, origin: s.origins.ID(origin)}
}

// activeModified is modified()'s work with active replication on: it
// remembers the key's previous state for the record and stamps the new
// one, with the clock for a local write or the record's stamp when
// applying a peer's. A deleted key leaves a tombstone.
func (s *Server) activeModified(db *keyspace.DB, key []byte, e *keyspace.Entry) {
	a := &s.act
	var st uint64
	var or uint32
	if a.applying {
		st, or = a.applyStamp, a.applyOrigin
	} else {
		prev, prevOrigin := db.DelStamp, db.DelOrigin
		if e != nil {
			prev, prevOrigin = e.Stamp, e.Origin
		}
		if !a.seenTouched(db.ID, key) {
			// The key's bytes go to an arena reset when the command's
			// records are written: no allocation per write.
			n := len(a.keyArena)
			a.keyArena = append(a.keyArena, key...)
			k := a.keyArena[n:len(a.keyArena):len(a.keyArena)]
			a.touched = append(a.touched, touchedKey{db: db.ID, key: k, prev: prev, prevOrigin: prevOrigin})
		}
		st, or = s.clock.Next(), s.self
		// A local write follows the key's current state, whatever our
		// clock says: a peer's stamp that was too far ahead for our clock
		// to absorb (clamped) would otherwise still beat this newer write
		// on every node but this one.
		if floor := s.stampFloor(db, key, prev); st <= floor {
			st = floor + 1
		}
	}
	if e != nil {
		e.Stamp, e.Origin = st, or
		if a.nTombs > 0 {
			if _, ok := a.tombs[db.ID][string(key)]; ok {
				delete(a.tombs[db.ID], string(key))
				a.nTombs--
			}
		}
		return
	}
	s.setTomb(db.ID, key, st, or)
}

// seenTouched reports whether the running command already touched key
// (a map past a few keys: DEBUG POPULATE and MSET touch thousands).
func (a *activeState) seenTouched(db int, key []byte) bool {
	if len(a.touched) < 16 {
		for i := range a.touched {
			if a.touched[i].db == db && bytes.Equal(a.touched[i].key, key) {
				return true
			}
		}
		return false
	}
	if a.touchedSet == nil {
		a.touchedSet = map[fetchKey]struct{}{}
	}
	if len(a.touchedSet) == 0 {
		for i := range a.touched {
			a.touchedSet[fetchKey{a.touched[i].db, string(a.touched[i].key)}] = struct{}{}
		}
	}
	k := fetchKey{db, string(key)}
	if _, ok := a.touchedSet[k]; ok {
		return true
	}
	a.touchedSet[k] = struct{}{}
	return false
}

// stampFloor is the newest stamp key holds: its previous state's, its
// tombstone's or its database's flush.
func (s *Server) stampFloor(db *keyspace.DB, key []byte, prev uint64) uint64 {
	floor := prev
	if t := s.act.tombs[db.ID][string(key)]; t != nil && t.stamp > floor {
		floor = t.stamp
	}
	if f := s.act.flushes[db.ID].stamp; f > floor {
		floor = f
	}
	return floor
}

// setTomb records that key was deleted by the write (stamp, origin),
// unless a newer tombstone is there.
func (s *Server) setTomb(db int, key []byte, stamp uint64, origin uint32) {
	a := &s.act
	m := a.tombs[db]
	if t, ok := m[string(key)]; ok {
		if !s.stampOf(stamp, origin).after(s.stampOf(t.stamp, t.origin)) {
			return
		}
		t.stamp, t.origin, t.at, t.off = stamp, origin, s.now, a.offset
	} else {
		m[string(key)] = &tomb{stamp: stamp, origin: origin, at: s.now, off: a.offset}
		a.nTombs++
	}
	a.newTombs = append(a.newTombs, fetchKey{db, string(key)})
}

// activeExpired is called for a key that expired (or was found expired
// at load): the tombstone carries the key's own stamp, since expiring is
// not a new write.
func (s *Server) activeExpired(db int, key []byte, e keyspace.Entry) {
	if s.act.on {
		s.setTomb(db, key, e.Stamp, e.Origin)
	}
}

// wantRecords reports whether records of origin are worth writing to
// our active stream: some known peer other than origin may read them
// (live or by a partial resync later), or the append-only file logs them.
// A node never paired, or paired only with origin, skips the work; a
// partial resync from before a skip is refused (lastSkipOff), so nobody
// continues a stream with holes.
func (s *Server) wantRecords(origin uint32) bool {
	if s.aof.sink != nil && s.aof.state != aofOff {
		return true
	}
	if origin == s.self && len(s.act.peers) > 0 {
		return true // a node is never its own peer
	}
	if len(s.act.peers) > 1 {
		return true // at least one of them is not origin
	}
	a := &s.act
	if a.want.ok && a.want.gen == a.topoGen && a.want.origin == origin {
		return a.want.val
	}
	a.want.ok, a.want.gen, a.want.origin, a.want.val = true, a.topoGen, origin, s.wantRecordsNow(origin)
	return a.want.val
}

// wantRecordsNow is wantRecords's answer worked out from the peers and
// replicas (wantRecords keeps it until they change).
func (s *Server) wantRecordsNow(origin uint32) bool {
	from := s.origins.ID(origin)
	for id := range s.act.peers {
		if id != from {
			return true
		}
	}
	for _, r := range s.repl.replicas {
		if r.active && !r.dead && r.peerID != from {
			return true
		}
	}
	return false
}

// topologyChanged is called whenever the peers, the replicas or their
// state change: wantRecords works its answer out again.
func (a *activeState) topologyChanged() { a.topoGen++ }

// resetArena frees the touched keys' bytes for the next command (a
// large one, from a command that touched many keys, is let go).
func (a *activeState) resetArena() {
	if cap(a.keyArena) > 64<<10 {
		a.keyArena = nil
		return
	}
	a.keyArena = a.keyArena[:0]
}

// hasWork tells endCall that records wait even if no effect does.
func (a *activeState) hasWork() bool {
	return a.on && (len(a.touched) > 0 || a.relayN > 0)
}

// activeFlush turns the command that just ended into records: the relayed
// ones verbatim, the touched keys as whole states or a single effect.
func (s *Server) activeFlush(group []effect) {
	a := &s.act
	if !a.on {
		return
	}
	if a.relayN > 0 {
		b := a.relay
		if a.relayN > 1 {
			b = wrapMulti(b)
		}
		s.feedActive(b, a.relayOrg)
		a.relay, a.relayN = a.relay[:0], 0
	}
	if len(a.touched) == 0 {
		return
	}
	if !s.wantRecords(s.self) {
		for i := range a.touched {
			a.touched[i].key = nil
		}
		a.touched = a.touched[:0]
		a.resetArena()
		if len(a.touchedSet) > 0 {
			clear(a.touchedSet)
		}
		a.newTombs = a.newTombs[:0]
		a.skippedRecords(s.nodeID)
		return
	}
	b := a.scratch[:0]
	n := 0
	single := len(a.touched) == 1 && len(group) == 1
	for i := range a.touched {
		t := &a.touched[i]
		b = s.appendRecordFor(b, t, single, group)
		n++
		t.key = nil
	}
	a.touched = a.touched[:0]
	a.resetArena()
	if len(a.touchedSet) > 0 {
		clear(a.touchedSet)
	}
	if n > 1 {
		b = wrapMulti(b)
	}
	s.feedActive(b, s.self) // copies b
	if cap(b) <= 64<<10 {
		a.scratch = b[:0]
	}
}

func wrapMulti(b []byte) []byte {
	out := appendRESP(make([]byte, 0, len(b)+32), argvOf("MULTI"))
	out = append(out, b...)
	return appendRESP(out, argvOf("EXEC"))
}

var (
	applyWord = []byte("FLUIDB.APPLY")
	opSet     = []byte("SET")
	opStr     = []byte("STR")
	opDel     = []byte("DEL")
	opCmd     = []byte("CMD")
	opFlush   = []byte("FLUSH")
)

// appendRecordFor encodes the record of one touched key.
func (s *Server) appendRecordFor(b []byte, t *touchedKey, single bool, group []effect) []byte {
	db := s.dbs[t.db]
	e := db.Get(t.key)
	if e == nil {
		tb := s.act.tombs[t.db][string(t.key)]
		if tb == nil {
			return b
		}
		return s.appendRecord(b, tb.stamp, tb.origin, t.prev, t.prevOrigin, t.db, t.key, opDel)
	}
	if single && e.Obj != nil && s.singleKeyEffect(group[0], t) {
		b = s.appendRecordHead(b, e.Stamp, e.Origin, t.prev, t.prevOrigin, t.db, t.key, opCmd, len(group[0].argv))
		for _, arg := range group[0].argv {
			b = appendBulk(b, arg)
		}
		return b
	}
	return s.appendStateRecord(b, e, t.prev, t.prevOrigin, t.db, t.key)
}

// appendStateRecord encodes a key's whole state: a STR record for a
// string (its bytes), a SET record (DUMP serialization) for the others.
func (s *Server) appendStateRecord(b []byte, e *keyspace.Entry, prev uint64, prevOrigin uint32, db int, key []byte) []byte {
	if e.Obj == nil {
		b = s.appendRecordHead(b, e.Stamp, e.Origin, prev, prevOrigin, db, key, opStr, 2)
		b = appendBulk(b, e.Str)
		return appendBulkInt(b, e.Expire)
	}
	s.persist.dumpEnc.Compress = s.cfg.RDBCompression
	payload, err := s.persist.dumpEnc.Dump(e)
	if err != nil {
		s.log.Printf("Active replication: cannot serialize key %q: %v", key, err)
		return b
	}
	b = s.appendRecordHead(b, e.Stamp, e.Origin, prev, prevOrigin, db, key, opSet, 2)
	b = appendBulk(b, payload)
	return appendBulkInt(b, e.Expire)
}

// singleKeyEffect reports whether eff is a command on t's key alone, so
// that replaying it on the same base gives the same state.
func (s *Server) singleKeyEffect(eff effect, t *touchedKey) bool {
	if eff.db != t.db || len(eff.argv) < 2 || !bytes.Equal(eff.argv[1], t.key) {
		return false
	}
	cmd := s.cmds[strings.ToLower(string(eff.argv[0]))]
	return cmd != nil && cmd.FirstKey == 1 && cmd.LastKey == 1 && cmd.KeysFn == nil
}

func (s *Server) appendRecord(b []byte, stamp uint64, origin uint32, prev uint64, prevOrigin uint32, db int, key []byte, op []byte) []byte {
	return s.appendRecordHead(b, stamp, origin, prev, prevOrigin, db, key, op, 0)
}

// appendRecordHead writes a record up to its op; extra more arguments
// follow. The record's identity travels as one binary argument (see
// appendMeta), so a record costs little more than the command it stands
// for.
func (s *Server) appendRecordHead(b []byte, stamp uint64, origin uint32, prev uint64, prevOrigin uint32, db int, key []byte, op []byte, extra int) []byte {
	b = appendHeader(b, '*', 4+extra)
	b = appendBulk(b, applyWord)
	var meta [metaMax]byte
	b = appendBulk(b, s.appendMeta(meta[:0], stamp, origin, prev, prevOrigin, db))
	b = appendBulk(b, key)
	return appendBulk(b, op)
}

// Record meta, binary: origin UUID (16 bytes), stamp and previous stamp
// (8 bytes each, big endian), the previous origin's kind (0: none, the key
// did not exist; 1: the same as origin; 2: the 16 bytes follow), then the
// db as a uvarint.
const metaMax = 16 + 8 + 8 + 1 + 16 + binary.MaxVarintLen64

func (s *Server) appendMeta(m []byte, stamp uint64, origin uint32, prev uint64, prevOrigin uint32, db int) []byte {
	id := s.origins.ID(origin)
	pid := id
	if prev != 0 && prevOrigin != origin {
		pid = s.origins.ID(prevOrigin)
	}
	return encodeMeta(m, id, stamp, prev, pid, db)
}

// encodeMeta appends a record's meta (see above).
func encodeMeta(m []byte, origin uuid.UUID, stamp, prev uint64, prevOrigin uuid.UUID, db int) []byte {
	m = append(m, origin[:]...)
	m = binary.BigEndian.AppendUint64(m, stamp)
	m = binary.BigEndian.AppendUint64(m, prev)
	switch {
	case prev == 0:
		m = append(m, 0)
	case prevOrigin == origin:
		m = append(m, 1)
	default:
		m = append(m, 2)
		m = append(m, prevOrigin[:]...)
	}
	return binary.AppendUvarint(m, uint64(db))
}

// recordMeta is a decoded meta argument.
type recordMeta struct {
	origin      uuid.UUID
	stamp, prev uint64
	prevOrigin  uuid.UUID
	db          uint64
}

func parseMeta(m []byte) (recordMeta, bool) {
	var r recordMeta
	if len(m) < 34 {
		return r, false
	}
	copy(r.origin[:], m[:16])
	r.stamp = binary.BigEndian.Uint64(m[16:])
	r.prev = binary.BigEndian.Uint64(m[24:])
	rest := m[33:]
	switch m[32] {
	case 0:
	case 1:
		r.prevOrigin = r.origin
	case 2:
		if len(rest) < 16 {
			return r, false
		}
		copy(r.prevOrigin[:], rest[:16])
		rest = rest[16:]
	default:
		return r, false
	}
	db, n := binary.Uvarint(rest)
	if n <= 0 || n != len(rest) {
		return r, false
	}
	r.db = db
	return r, true
}

// appendBulkInt writes a non-negative integer as a bulk string.
func appendBulkInt(b []byte, v int64) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], v, 10)
	b = appendHeader(b, '$', len(d))
	b = append(b, d...)
	return append(b, '\r', '\n')
}

func appendBulk(b, v []byte) []byte {
	b = appendHeader(b, '$', len(v))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

func appendBulkString(b []byte, v string) []byte {
	b = appendHeader(b, '$', len(v))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// feedActive appends records of one origin to the active stream: the
// backlog, and every active replica except the one they came from.
func (s *Server) feedActive(b []byte, origin uint32) {
	a := &s.act
	if a.bl == nil || len(b) == 0 {
		return
	}
	a.bl.write(b)
	a.offset += int64(len(b))
	if k := s.aof.sink; k != nil && origin != noOrigin {
		k.feedRecords(b)
	}
	for _, k := range a.newTombs {
		if t := a.tombs[k.db][k.key]; t != nil {
			t.off = a.offset
		}
	}
	a.newTombs = a.newTombs[:0]
	var from uuid.UUID
	if origin != noOrigin {
		from = s.origins.ID(origin)
	}
	for _, r := range s.repl.replicas {
		if !r.active || r.dead || r.state < replicaWaitBgsaveEnd {
			continue
		}
		if origin != noOrigin && r.peerID == from {
			r.skip += int64(len(b))
			continue
		}
		s.flushSkip(r)
		s.replicaAppend(r, b)
	}
	if c := s.prop.caller; c != nil {
		c.woffActive = a.offset
	}
}

var skipWord = []byte("FLUIDB.SKIP")

// flushSkip tells r how many stream bytes it was not sent.
func (s *Server) flushSkip(r *replica) {
	if r.skip == 0 {
		return
	}
	m := appendHeader(nil, '*', 2)
	m = appendBulk(m, skipWord)
	m = appendBulk(m, strconv.AppendInt(nil, r.skip, 10))
	r.skip = 0
	s.replicaAppend(r, m)
}

// filterActive rewrites a stretch of the active stream for the peer id:
// groups of records that came from id become FLUIDB.SKIP markers. The
// stretch is read with the server's own RESP reader; byte positions come
// from what the reader consumed.
func filterActive(data []byte, id uuid.UUID) []byte {
	src := bytes.NewReader(data)
	rd := resp.NewReader(src, 64<<10)
	rd.MaxBulkLen, rd.MaxQueryBuf = math.MaxInt64, math.MaxInt64
	consumed := func() int { return len(data) - src.Len() - rd.Buffered() }
	out := make([]byte, 0, len(data))
	var skip int64
	flush := func() {
		if skip > 0 {
			out = appendHeader(out, '*', 2)
			out = appendBulk(out, skipWord)
			out = appendBulk(out, strconv.AppendInt(nil, skip, 10))
			skip = 0
		}
	}
	for start := 0; start < len(data); {
		fromPeer, ok := readGroup(rd, id)
		end := consumed()
		if !ok {
			// Not a well-formed stretch (cannot happen: we wrote it);
			// send the rest as it is.
			flush()
			return append(out, data[start:]...)
		}
		if fromPeer {
			skip += int64(end - start)
		} else {
			flush()
			out = append(out, data[start:end]...)
		}
		start = end
	}
	flush()
	return out
}

// readGroup reads one command, or a MULTI...EXEC group, and reports
// whether its records came from id (a group holds one origin's records:
// its first record's origin decides).
func readGroup(rd *resp.Reader, id uuid.UUID) (fromPeer, ok bool) {
	inMulti, decided := false, false
	for first := true; ; first = false {
		argv, err := rd.ReadCommand()
		if err != nil || len(argv) == 0 {
			return false, false
		}
		name := string(argv[0])
		switch {
		case first && strings.EqualFold(name, "multi"):
			inMulti = true
			continue
		case inMulti && strings.EqualFold(name, "exec"):
			return fromPeer, true
		case !decided && strings.EqualFold(name, "fluidb.apply") && len(argv) > 1 && len(argv[1]) >= 16:
			fromPeer, decided = bytes.Equal(argv[1][:16], id[:]), true
		}
		if !inMulti {
			return fromPeer, true
		}
	}
}

// activeSync serves an active replica's PSYNC from our active stream: a
// partial resync from the backlog (filtered for it) when it holds the
// offset, a full sync otherwise (s.mu held).
func (s *Server) activeSync(r *replica) {
	a := &s.act
	r.active = true
	a.topologyChanged()
	s.seePeer(r.peerID, r.name())
	replid := string(r.c.argv[1])
	off, ok := parseInt(r.c.argv[2])
	if ok && a.canContinue(r.peerID, replid, off) {
		r.header = append(r.header, "+CONTINUE "+a.replid+"\r\n"...)
		data := filterActive(a.bl.from(off), r.peerID)
		r.out.write(data)
		r.wake <- struct{}{}
		r.state = replicaOnline
		r.ackTime = time.Now()
		r.ackOff = off - 1
		s.repl.syncPartialOK++
		a.partialSyncs++
		s.log.Printf("Active partial resynchronization with %s (%s) accepted: %d bytes from offset %d.", r.name(), r.peerID, len(data), off)
		s.attachReplica(r)
		return
	}
	if replid != "?" {
		s.repl.syncPartialErr++
	}
	s.repl.syncFull++
	a.fullSyncs++
	r.full = true
	r.state = replicaWaitBgsave
	s.log.Printf("Active full resynchronization with %s (%s).", r.name(), r.peerID)
	s.attachReplica(r)
}

// canContinue reports whether peer, which has our active stream up to
// off-1, can be sent the rest from the backlog: same history, still in the
// backlog, and no records it needs were skipped after what it has (records
// of its own origin never matter to it).
func (a *activeState) canContinue(peer uuid.UUID, replid string, off int64) bool {
	if replid != a.replid || a.bl == nil || !a.bl.covers(off) {
		return false
	}
	for origin, at := range a.skipped {
		if origin != peer && off <= *at+1 {
			return false
		}
	}
	return true
}

// skippedRecords notes that records of origin were not written at the
// current offset (wantRecords said nobody needed them).
func (a *activeState) skippedRecords(origin uuid.UUID) {
	if a.skipped == nil {
		a.skipped = map[uuid.UUID]*int64{}
	}
	// Called per record a node does not relay: the last origin's slot is
	// kept at hand rather than found in the map each time.
	if a.lastSkip == nil || a.lastSkipID != origin {
		p := a.skipped[origin]
		if p == nil {
			p = new(int64)
			a.skipped[origin] = p
		}
		a.lastSkip, a.lastSkipID = p, origin
	}
	*a.lastSkip = a.offset
}

// ---- tombstones, peers, conflicts ----

// activeCron is active replication's periodic work (s.mu held).
func (s *Server) activeCron(now time.Time) {
	a := &s.act
	if !a.on {
		return
	}
	for _, r := range s.repl.replicas {
		if r.active && !r.dead && r.state == replicaOnline {
			s.flushSkip(r)
		}
	}
	if now.Sub(s.repl.lastCron) < time.Second {
		return
	}
	if s.isReplica() || len(s.activeReplicas()) > 0 {
		period := time.Duration(max(s.cfg.ReplPingReplicaPeriod, 1)) * time.Second
		if now.Sub(s.repl.lastActivePing) >= period {
			s.repl.lastActivePing = now
			s.feedActive(pingStream, noOrigin)
		}
	}
	s.collectTombs(now)
	if a.bl != nil && a.bl.size() != max(s.cfg.ReplBacklogSize, 16<<10) {
		a.bl.resize(s.cfg.ReplBacklogSize)
	}
}

func (s *Server) activeReplicas() []*replica {
	var out []*replica
	for _, r := range s.repl.replicas {
		if r.active && !r.dead {
			out = append(out, r)
		}
	}
	return out
}

// collectTombs forgets tombstones every known peer has acknowledged, and
// any older than active-replica-tombstone-horizon.
func (s *Server) collectTombs(now time.Time) {
	a := &s.act
	if a.nTombs == 0 {
		return
	}
	horizon := s.cfg.ActiveReplicaTombstoneHorizon * 1000
	nowMs := now.UnixMilli()
	// The smallest offset every peer acknowledged; a peer seen within the
	// horizon but not connected now holds everything back.
	// A peer's acknowledgement is enough only once we have also applied
	// everything it wrote before sending it (its own offset then,
	// peerOff): an older write of its may still be on its way to us, and
	// without the tombstone it would bring the key back.
	acked := int64(-1)
	connected := map[uuid.UUID]bool{}
	for _, r := range s.activeReplicas() {
		if r.state != replicaOnline {
			acked = 0
			continue
		}
		connected[r.peerID] = true
		heard := s.isReplica() && a.linkActive && a.masterID == r.peerID && s.repl.state == linkConnected &&
			a.masterOff >= r.peerOff
		if !heard {
			acked = 0
			continue
		}
		if acked < 0 || r.ackOff < acked {
			acked = r.ackOff
		}
	}
	for id, p := range a.peers {
		if !connected[id] {
			if nowMs-p.lastSeen.UnixMilli() > horizon {
				delete(a.peers, id)
				a.topologyChanged()
				continue
			}
			acked = 0
		}
	}
	if acked < 0 {
		acked = 0 // no peer ever: keep them for the horizon
	}
	for _, m := range a.tombs {
		for k, t := range m {
			byAck := acked > 0 && t.off <= acked
			if !byAck && nowMs-t.at <= horizon {
				continue
			}
			if byAck {
				// Each peer that acknowledged it held the deletion: if
				// it ever shows us that key again at or below this
				// stamp, it is a stale copy (a restart from an older
				// snapshot), not a write we missed.
				for id := range connected {
					if a.collectedFor == nil {
						a.collectedFor = map[uuid.UUID]uint64{}
					}
					a.collectedFor[id] = max(a.collectedFor[id], t.stamp)
				}
			}
			delete(m, k)
			a.nTombs--
			a.collected++
		}
	}
}

// seePeer records a node we have an active link with.
func (s *Server) seePeer(id uuid.UUID, addr string) {
	if id == uuid.Nil || id == s.nodeID {
		return
	}
	s.act.topologyChanged()
	p := s.act.peers[id]
	if p == nil {
		p = &peer{id: id}
		s.act.peers[id] = p
	}
	if addr != "" {
		p.addr = addr
		if !slices.Contains(p.addrs, addr) {
			p.addrs = append(p.addrs, addr)
		}
		// Another process at a known address is that node restarted:
		// its old identity will not come back.
		for oid, o := range s.act.peers {
			if oid != id && slices.Contains(o.addrs, addr) {
				delete(s.act.peers, oid)
			}
		}
	}
	p.lastSeen = time.Now()
}

// logConflict counts and remembers a conflict decided here.
func (s *Server) logConflict(db int, key []byte, win, lose stampID, local bool) {
	a := &s.act
	if local {
		a.localWon++
	} else {
		a.remoteWon++
	}
	rec := conflictRec{key: string(key), db: db, win: win, lose: lose, local: local, at: time.Now().UnixMilli()}
	if len(a.conflicts) < maxConflictLog {
		a.conflicts = append(a.conflicts, rec)
	} else {
		a.conflicts[a.confNext] = rec
	}
	a.confNext = (a.confNext + 1) % maxConflictLog
}

// saveAux adds the tombstones and flush stamps to a snapshot's AUX fields
// (s.mu held: the copy is the snapshot's point in time).
func (s *Server) activeSaveAux(aux [][2]string) [][2]string {
	a := &s.act
	if !a.on {
		return aux
	}
	for db, f := range a.flushes {
		if f.stamp != 0 {
			aux = append(aux, [2]string{rdb.AuxFlush, rdb.FormatTomb(db, f.stamp, s.originString(f.origin), nil)})
		}
	}
	for db, m := range a.tombs {
		for k, t := range m {
			aux = append(aux, [2]string{rdb.AuxTomb, rdb.FormatTomb(db, t.stamp, s.originString(t.origin), []byte(k))})
		}
	}
	return aux
}

// lineageOf reads a snapshot's lineage: its writer and the writer's own
// lineage, at most 8 processes.
func lineageOf(info *rdb.Info) []string {
	if info == nil || info.Aux[rdb.AuxNode] == "" {
		return nil
	}
	out := []string{info.Aux[rdb.AuxNode]}
	if l := info.Aux[rdb.AuxLineage]; l != "" {
		out = append(out, strings.Split(l, ",")...)
	}
	return out[:min(len(out), 8)]
}

// staleBelow is the newest collected tombstone the writer of a peer's
// snapshot (or a process whose data it holds) had acknowledged: a key in
// that snapshot stamped at or below it, which we hold no trace of, was
// deleted and its tombstone collected since.
func (s *Server) staleBelow(info *rdb.Info) uint64 {
	var w uint64
	for _, id := range lineageOf(info) {
		if u, err := uuid.Parse(id); err == nil {
			w = max(w, s.act.collectedFor[u])
		}
	}
	return w
}

// activeLoadAux restores tombstones and flush stamps read from a snapshot
// at boot.
func (s *Server) activeLoadAux(info *rdb.Info) {
	if !s.act.on || info == nil {
		return
	}
	for _, t := range info.Flushes {
		id, err := uuid.Parse(t.Origin)
		if err != nil || t.DB >= len(s.dbs) {
			continue
		}
		s.mergeFlushStamp(t.DB, t.Stamp, s.origins.Intern(id))
	}
	for _, t := range info.Tombs {
		id, err := uuid.Parse(t.Origin)
		if err != nil || t.DB >= len(s.dbs) {
			continue
		}
		if s.dbs[t.DB].Get(t.Key) == nil {
			s.setTomb(t.DB, t.Key, t.Stamp, s.origins.Intern(id))
		}
	}
	s.act.newTombs = s.act.newTombs[:0]
}

func (s *Server) mergeFlushStamp(db int, stamp uint64, origin uint32) {
	f := &s.act.flushes[db]
	if s.stampOf(stamp, origin).after(s.stampOf(f.stamp, f.origin)) {
		f.stamp, f.origin, f.at = stamp, origin, s.now
	}
}

// activeInfo is active replication's part of INFO's # Fluidb section.
func (s *Server) activeInfo() [][2]string {
	a := &s.act
	var out [][2]string
	add := func(k string, v int64) { out = append(out, [2]string{k, strconv.FormatInt(v, 10)}) }
	if !a.on {
		return nil
	}
	now := time.Now()
	type view struct {
		p        *peer
		in, out  string
		lagBytes int64
		lagMs    int64
		ackMs    int64
	}
	var views []*view
	byID := map[uuid.UUID]*view{}
	get := func(id uuid.UUID) *view {
		if v := byID[id]; v != nil {
			return v
		}
		p := a.peers[id]
		if p == nil {
			p = &peer{id: id}
		}
		v := &view{p: p, in: "none", out: "none", ackMs: -1}
		byID[id] = v
		views = append(views, v)
		return v
	}
	if s.isReplica() && a.peers[a.masterID] != nil {
		v := get(a.masterID)
		switch s.repl.state {
		case linkConnected:
			v.in = "up"
		case linkSync:
			v.in = "sync"
		case linkConnecting, linkHandshake:
			v.in = "connecting"
		default:
			v.in = "down"
		}
		if v.p.addr == "" && s.cfg.ReplicaOf != nil {
			v.p.addr = hostPortString(s.cfg.ReplicaOf.Host, s.cfg.ReplicaOf.Port)
		}
	}
	for _, r := range s.repl.replicas {
		if !r.active || r.dead {
			continue
		}
		v := get(r.peerID)
		if r.state == replicaOnline {
			v.out = "up"
		} else {
			v.out = "sync"
		}
		v.lagBytes = max(a.offset-r.ackOff-r.skip, 0)
		if !r.ackTime.IsZero() {
			v.ackMs = now.Sub(r.ackTime).Milliseconds()
		}
		if v.lagBytes > 0 && v.ackMs >= 0 {
			v.lagMs = v.ackMs
		}
	}
	for id, p := range a.peers {
		if byID[id] == nil && now.Sub(p.lastSeen) < time.Hour {
			v := get(id)
			v.in, v.out = "down", "down"
		}
	}
	add("peers", int64(len(views)))
	for i, v := range views {
		out = append(out, [2]string{"peer" + strconv.Itoa(i), "uuid=" + v.p.id.String() + ",addr=" + v.p.addr +
			",link_in=" + v.in + ",link_out=" + v.out +
			",lag_bytes=" + strconv.FormatInt(v.lagBytes, 10) + ",lag_ms=" + strconv.FormatInt(v.lagMs, 10) +
			",last_ack_ms=" + strconv.FormatInt(v.ackMs, 10) + ",skew_ms=" + strconv.FormatInt(v.p.skewMs, 10)})
	}
	add("conflicts", a.localWon+a.remoteWon)
	add("conflicts_local_won", a.localWon)
	add("conflicts_remote_won", a.remoteWon)
	add("tombstones", int64(a.nTombs))
	add("tombstones_collected", a.collected)
	add("stamps_clamped", int64(s.clock.Clamped))
	add("duplicates_dropped", a.dups)
	add("fetches", a.fetches)
	add("resurrections_prevented", a.resurrections)
	add("full_syncs", a.fullSyncs)
	add("partial_syncs", a.partialSyncs)
	add("active_repl_offset", a.offset)
	return out
}
