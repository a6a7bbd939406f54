package server

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
)

// Active replication, the receiving side: FLUIDB.APPLY applies a peer's
// record, and decide() is the conflict rule (newest write wins, whole key),
// the same on every path: the live stream, a partial resync, a full-sync
// merge. docs/active-replication.md explains the records.

const errApplyNotLink = "ERR FLUIDB.APPLY is only accepted on an active replication link"

func registerActiveCommands(t table) {
	t.add(
		&Command{Name: "fluidb.apply", Proc: fluidbApplyCmd, Arity: -4, Flags: FlagWrite | FlagNoScript | FlagMayReplicate | FlagStale | FlagLoading, FirstKey: 2, LastKey: 2, Step: 1, Group: "fluidb",
			Summary: "Applies a record of a peer's active stream (replication links only)"},
		&Command{Name: "fluidb.skip", Proc: fluidbSkipCmd, Arity: 2, Flags: FlagNoScript | FlagStale | FlagLoading | FlagFast, Group: "fluidb",
			Summary: "Stands for stream bytes a peer was not sent (replication links only)"},
		&Command{Name: "fluidb", Proc: fluidbCmd, Arity: -2, Flags: FlagStale | FlagLoading | FlagFast, Group: "fluidb",
			Summary: "Node id, key stamps and recent conflicts of active replication"},
	)
}

// record is a parsed FLUIDB.APPLY.
type record struct {
	in     stampID
	origin uint32
	prev   stampID
	db     int
	key    []byte
	op     string
	args   [][]byte
}

// recordOp names a record's op without allocating (records are written
// in upper case; anything else is folded).
func recordOp(b []byte) string {
	switch string(b) {
	case "STR":
		return "STR"
	case "SET":
		return "SET"
	case "DEL":
		return "DEL"
	case "CMD":
		return "CMD"
	case "FLUSH":
		return "FLUSH"
	}
	return strings.ToUpper(string(b))
}

func parseRecord(s *Server, argv [][]byte) (record, string) {
	m, ok := parseMeta(argv[1])
	if !ok {
		return record{}, "ERR malformed record"
	}
	if m.db >= uint64(len(s.dbs)) {
		return record{}, "ERR DB index is out of range"
	}
	a := &s.act
	var org uint32
	if bytes.Equal(argv[1][:16], a.lastOrigin) {
		org = a.lastOrgIdx
	} else {
		org = s.origins.Intern(m.origin)
		a.lastOrigin, a.lastOrgIdx = append(a.lastOrigin[:0], argv[1][:16]...), org
	}
	return record{
		in: stampID{m.stamp, m.origin}, origin: org, prev: stampID{m.prev, m.prevOrigin},
		db: int(m.db), key: argv[2], op: recordOp(argv[3]), args: argv[4:],
	}, ""
}

func fluidbApplyCmd(c *Client) {
	s := c.s
	if !s.act.on || (!(c.isMaster() && s.act.linkActive) && !c.aofLoader) {
		c.addError(errApplyNotLink)
		return
	}
	c.preventPropagation()
	rec, msg := parseRecord(s, c.argv)
	if msg != "" {
		c.addError(msg)
		return
	}
	if rec.origin == s.self {
		// Our own write came back (a longer path in a mesh): applied here
		// first, so nothing to do.
		s.act.dups++
		c.addOK()
		return
	}
	// Our clock moves past the peer's stamp, unless it is too far in the
	// future (clock.Observe counts it as clamped; the write still applies).
	s.clock.Observe(rec.in.stamp)
	if s.applyRecord(c, &rec) {
		a := &s.act
		if !s.wantRecords(rec.origin) {
			// Nobody but the record's origin could use it.
			a.skippedRecords(rec.in.origin)
			c.addOK()
			return
		}
		s.relayed(appendRESP(s.relayBuf(rec.origin), c.argv))
	}
	c.addOK()
}

// current is what db holds for key under the rule: the live key's stamp,
// or the tombstone's (or the flush stamp's) when it is gone. An expired key
// is expired first.
func (s *Server) current(db *keyspace.DB, key []byte) (cur stampID, e *keyspace.Entry) {
	e = db.Get(key)
	if e != nil && e.Expire != 0 && e.Expire <= s.now {
		s.expireKey(db, key)
		e = nil
	}
	if e != nil {
		return s.stampOf(e.Stamp, e.Origin), e
	}
	if t := s.act.tombs[db.ID][string(key)]; t != nil {
		cur = s.stampOf(t.stamp, t.origin)
	}
	if f := s.act.flushes[db.ID]; f.stamp != 0 {
		if fs := s.stampOf(f.stamp, f.origin); fs.after(cur) {
			cur = fs
		}
	}
	return cur, nil
}

// verdict is decide()'s answer.
type verdict int

const (
	applyIt   verdict = iota // the record is newer and applies
	duplicate                // already applied (same stamp and origin)
	localWins                // ours is newer: drop the record
	needFetch                // the record is newer but its effect needs a base we lack
)

// decide is the conflict rule, for every path: a record applies only if
// its (stamp, origin) is newer than what the key holds; an effect (CMD)
// also needs the same base it was made on. Conflicts (the record was not
// made on our current state) are logged with their winner.
func (s *Server) decide(rec *record, cur stampID, live bool) verdict {
	if rec.in == cur {
		s.act.dups++
		return duplicate
	}
	sameBase := rec.prev == cur || (!live && rec.prev.stamp == 0)
	fetchReply := rec.prev == rec.in
	if !rec.in.after(cur) {
		if !sameBase && !fetchReply {
			s.logConflict(rec.db, rec.key, cur, rec.in, true)
		}
		return localWins
	}
	if !sameBase && !fetchReply && cur.stamp != 0 {
		s.logConflict(rec.db, rec.key, rec.in, cur, false)
	}
	if rec.op == "CMD" && !sameBase {
		return needFetch
	}
	return applyIt
}

// applyRecord applies one record; it reports whether it changed anything
// (so it is relayed to our other peers).
func (s *Server) applyRecord(c *Client, rec *record) bool {
	if rec.op == "FLUSH" {
		return s.applyFlush(rec)
	}
	db := s.dbs[rec.db]
	cur, e := s.current(db, rec.key)
	v := s.decide(rec, cur, e != nil)
	if len(s.act.fetchNeed) > 0 {
		// (the map lookup with string(rec.key) does not allocate)
		if _, ok := s.act.fetchNeed[fetchKey{rec.db, string(rec.key)}]; ok {
			fk := fetchKey{rec.db, string(rec.key)}
			defer func() {
				// A fetch is answered once the key is at least as new as
				// the effect that asked for it.
				if need, ok := s.act.fetchNeed[fk]; ok {
					if now, _ := s.current(db, rec.key); now.stamp >= need {
						delete(s.act.fetchNeed, fk)
					}
				}
			}()
		}
	}
	switch v {
	case duplicate, localWins:
		return false
	case needFetch:
		fk := fetchKey{rec.db, string(rec.key)}
		if _, pending := s.act.fetchNeed[fk]; !pending {
			s.act.fetchQ = append(s.act.fetchQ, fk)
			s.act.fetches++
		}
		s.act.fetchNeed[fk] = max(s.act.fetchNeed[fk], rec.in.stamp)
		return false
	}
	a := &s.act
	a.applying, a.applyStamp, a.applyOrigin = true, rec.in.stamp, rec.origin
	defer func() { a.applying = false }()
	switch rec.op {
	case "DEL":
		if e != nil {
			db.Delete(rec.key)
			s.modified(db, rec.key, nil)
			s.notify(notifyGeneric, "del", rec.key, rec.db)
			s.plainPropagate(rec.db, []byte("DEL"), rec.key)
		} else {
			s.setTomb(rec.db, rec.key, rec.in.stamp, rec.origin)
		}
		return true
	case "SET":
		if len(rec.args) != 2 {
			s.log.Printf("Active replication: malformed SET record for key %q", rec.key)
			return false
		}
		if err := rdb.VerifyDump(rec.args[0], true); err != nil {
			s.log.Printf("Active replication: bad payload for key %q: %v", rec.key, err)
			return false
		}
		val, err := rdb.DecodeDump(rec.args[0], s.rdbLimits())
		if err != nil {
			s.log.Printf("Active replication: bad payload for key %q: %v", rec.key, err)
			return false
		}
		exp, _ := strconv.ParseInt(string(rec.args[1]), 10, 64)
		s.installState(db, rec.key, val, exp, e, rec.args[0])
		return true
	case "STR":
		if len(rec.args) != 2 {
			s.log.Printf("Active replication: malformed STR record for key %q", rec.key)
			return false
		}
		exp, _ := strconv.ParseInt(string(rec.args[1]), 10, 64)
		s.installState(db, rec.key, keyspace.Entry{Str: copyBytes(rec.args[0])}, exp, e, nil)
		return true
	case "CMD":
		return s.applyEffect(c, rec)
	}
	s.log.Printf("Active replication: unknown record op %q", rec.op)
	return false
}

// installState replaces key with a peer's whole state (s.act.applying set:
// modified() stamps it with the record's stamp).
func (s *Server) installState(db *keyspace.DB, key []byte, val keyspace.Entry, exp int64, e *keyspace.Entry, payload []byte) {
	existed := e != nil
	if exp == 0 || exp > s.now {
		if existed {
			// Replace in place: one lookup instead of a delete and an add.
			old := e.Expire
			*e = val
			e.Expire = old
			e.Access = s.lruClock()
			e.Freq = keyspace.LFUInitVal
			db.SetExpire(key, e, exp)
			s.installed(db, key, e, exp, payload)
			return
		}
	}
	if existed {
		db.Delete(key)
	}
	if exp != 0 && exp <= s.now {
		// Already expired: what is left is a tombstone with its stamp.
		if existed {
			s.modified(db, key, nil)
			s.notify(notifyGeneric, "del", key, db.ID)
			s.plainPropagate(db.ID, []byte("DEL"), key)
		} else {
			s.setTomb(db.ID, key, s.act.applyStamp, s.act.applyOrigin)
		}
		return
	}
	ne, _ := db.Add(key)
	val.Expire = 0
	*ne = val
	ne.Access = s.lruClock()
	ne.Freq = keyspace.LFUInitVal
	if exp != 0 {
		db.SetExpire(key, ne, exp)
	}
	s.installed(db, key, ne, exp, payload)
}

// installed finishes installState: stamp, notifications, plain effects.
func (s *Server) installed(db *keyspace.DB, key []byte, ne *keyspace.Entry, exp int64, payload []byte) {
	s.modified(db, key, ne)
	if ne.Obj == nil {
		s.notify(notifyString, "set", key, db.ID)
		if exp != 0 {
			s.plainPropagate(db.ID, []byte("SET"), key, ne.Str, []byte("PXAT"), strconv.AppendInt(nil, exp, 10))
		} else {
			s.plainPropagate(db.ID, []byte("SET"), key, ne.Str)
		}
	} else {
		s.notify(notifyGeneric, "restore", key, db.ID)
		s.plainPropagate(db.ID, []byte("RESTORE"), key, strconv.AppendInt(nil, exp, 10), payload, []byte("REPLACE"), []byte("ABSTTL"))
		s.signalReady(db, key)
	}
}

// applyEffect runs a record's command on the key's (same) base, as the
// link's client, so its effects, notifications and blocked clients work
// as for a local write.
func (s *Server) applyEffect(c *Client, rec *record) bool {
	if len(rec.args) < 2 {
		return false
	}
	cmd := s.cmds[strings.ToLower(string(rec.args[0]))]
	// Only a single-key write on the record's own key: the base check
	// says nothing about any other key.
	if cmd == nil || !arityOK(cmd, len(rec.args)) || cmd.Flags&FlagWrite == 0 ||
		cmd.FirstKey != 1 || cmd.LastKey != 1 || cmd.KeysFn != nil || !bytes.Equal(rec.args[1], rec.key) {
		s.log.Printf("Active replication: cannot apply %q for key %q", rec.args[0], rec.key)
		return false
	}
	savedArgv, savedCmd, savedDB := c.argv, c.cmd, c.dbIndex
	c.selectDB(rec.db)
	c.argv, c.cmd = rec.args, cmd
	mark := len(c.out)
	s.call(c, cmd)
	if len(c.out) > mark && c.out[mark] == '-' {
		s.log.Printf("Active replication: %s on key %q failed: %s", rec.args[0], rec.key, strings.TrimSpace(string(c.out[mark:])))
	}
	c.out = c.out[:mark]
	c.argv, c.cmd = savedArgv, savedCmd
	c.selectDB(savedDB)
	return true
}

// applyFlush removes every key of the db older than the flush; newer
// writes made elsewhere meanwhile survive.
func (s *Server) applyFlush(rec *record) bool {
	db := s.dbs[rec.db]
	f := s.act.flushes[rec.db]
	if !rec.in.after(s.stampOf(f.stamp, f.origin)) {
		s.act.dups++
		return false
	}
	s.mergeFlushStamp(rec.db, rec.in.stamp, rec.origin)
	var gone [][]byte
	kept := 0
	db.Range(func(k string, e *keyspace.Entry) bool {
		if rec.in.after(s.stampOf(e.Stamp, e.Origin)) {
			gone = append(gone, []byte(k))
		} else {
			kept++
		}
		return true
	})
	if kept == 0 {
		s.flushDB(rec.db)
		s.plainPropagate(rec.db, []byte("FLUSHDB"))
	} else {
		for _, k := range gone {
			db.Delete(k)
			s.touchWatched(rec.db, k)
			s.plainPropagate(rec.db, []byte("DEL"), k)
		}
		s.stats.dirty += int64(len(gone))
	}
	for k, t := range s.act.tombs[rec.db] {
		if !s.stampOf(t.stamp, t.origin).after(rec.in) {
			delete(s.act.tombs[rec.db], k)
			s.act.nTombs--
		}
	}
	return true
}

// activeFlushed records a local FLUSHDB/FLUSHALL of db as a stamped flush.
func (s *Server) activeFlushed(dbs ...int) {
	a := &s.act
	if !a.on || a.applying {
		return
	}
	var b []byte
	for _, db := range dbs {
		st := s.clock.Next()
		s.mergeFlushStamp(db, st, s.self)
		for k := range a.tombs[db] {
			delete(a.tombs[db], k)
			a.nTombs--
		}
		b = s.appendRecord(b, st, s.self, 0, 0, db, nil, opFlush)
	}
	if len(dbs) > 1 {
		b = wrapMulti(b)
	}
	s.feedActive(b, s.self)
}

// fetchReply answers REPLCONF fetch: the key's current whole state goes
// into our active stream (its own stamp and origin; prev equal to it, so
// receivers do not count a second conflict).
func (s *Server) fetchReply(db int, key []byte) {
	if db < 0 || db >= len(s.dbs) || !s.act.on {
		return
	}
	d := s.dbs[db]
	cur, e := s.current(d, key)
	if cur.stamp == 0 {
		return
	}
	org := s.origins.Intern(cur.origin)
	var b []byte
	if e != nil {
		b = s.appendStateRecord(b, e, e.Stamp, e.Origin, db, key)
	} else {
		b = s.appendRecord(b, cur.stamp, org, cur.stamp, org, db, key, opDel)
	}
	s.relayed(append(s.relayBuf(org), b...))
}

// relayBuf returns the buffer of records this command relays, ready for
// one of origin org (a group holds one origin's records: another origin's
// flushes it first); the caller appends the record and calls relayed.
func (s *Server) relayBuf(org uint32) []byte {
	a := &s.act
	if a.relayN > 0 && a.relayOrg != org {
		s.activeFlush(nil)
	}
	a.relayOrg = org
	return a.relay
}

func (s *Server) relayed(b []byte) {
	s.act.relay = b
	s.act.relayN++
}

// fluidbSkipCmd accounts for stream bytes our master did not send us
// (records that came from us): the offset counts them.
func fluidbSkipCmd(c *Client) {
	if !c.isMaster() {
		c.addError("ERR FLUIDB.SKIP is only accepted on an active replication link")
		return
	}
	n, ok := parseInt(c.argv[1])
	if !ok || n < 0 {
		return
	}
	marker := int64(len(appendRESP(nil, c.argv)))
	c.s.act.skipAdj += n - marker
}

// fluidbCmd is FLUIDB ID | STAMP key | CONFLICTS [count].
func fluidbCmd(c *Client) {
	s := c.s
	sub := strings.ToLower(string(c.argv[1]))
	switch {
	case sub == "id" && len(c.argv) == 2:
		c.addBulkString(s.nodeID.String())
	case sub == "stamp" && len(c.argv) == 3:
		key := c.argv[2]
		e := c.lookupRead(key)
		if e != nil {
			c.addArrayLen(3)
			c.addInt(int64(e.Stamp))
			c.addBulkString(s.origins.ID(e.Origin).String())
			c.addBulkString("live")
			return
		}
		if s.act.on {
			if cur, _ := s.current(c.db, key); cur.stamp != 0 {
				c.addArrayLen(3)
				c.addInt(int64(cur.stamp))
				c.addBulkString(cur.origin.String())
				c.addBulkString("deleted")
				return
			}
		}
		c.addNull()
	case sub == "conflicts" && len(c.argv) <= 3:
		n := int64(10)
		if len(c.argv) == 3 {
			v, ok := c.getInt(c.argv[2])
			if !ok {
				return
			}
			if v < 0 {
				c.addError("ERR count must be positive")
				return
			}
			n = v
		}
		a := &s.act
		n = min(n, int64(len(a.conflicts)))
		c.addArrayLen(int(n))
		for i := int64(0); i < n; i++ {
			idx := (a.confNext - 1 - int(i) + 2*maxConflictLog) % maxConflictLog
			if len(a.conflicts) < maxConflictLog {
				idx = len(a.conflicts) - 1 - int(i)
			}
			r := a.conflicts[idx]
			c.addArrayLen(8)
			c.addBulkString(r.key)
			c.addInt(int64(r.db))
			c.addInt(int64(r.win.stamp))
			c.addBulkString(r.win.origin.String())
			c.addInt(int64(r.lose.stamp))
			c.addBulkString(r.lose.origin.String())
			if r.local {
				c.addBulkString("local")
			} else {
				c.addBulkString("remote")
			}
			c.addInt(r.at)
		}
	case sub == "help":
		c.addArrayLen(4)
		c.addSimple("FLUIDB <subcommand>. Subcommands are:")
		c.addSimple("ID -- this node's UUID.")
		c.addSimple("STAMP <key> -- the stamp and origin of the key's last write.")
		c.addSimple("CONFLICTS [<count>] -- the most recent conflicts, newest first.")
	default:
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(c.argv[1]) + "'. Try FLUIDB HELP.")
	}
}

// mergeLoaded merges a peer's snapshot (a full sync on an active link)
// into the live dataset, key by key under the rule, a chunk at a time so
// clients keep being served; nothing is flushed.
func (s *Server) mergeLoaded(ld *loaded) (merged int64) {
	const chunk = 256
	s.mu.Lock()
	stale := s.staleBelow(ld.info)
	s.mu.Unlock()
	type kv struct {
		key string
		e   *keyspace.Entry
	}
	for dbi, src := range ld.dbs {
		batch := make([]kv, 0, chunk)
		flush := func() {
			s.mu.Lock()
			for _, p := range batch {
				merged += s.mergeEntry(dbi, []byte(p.key), p.e, ld, stale)
			}
			s.afterCommand() // clients blocked on merged keys are served
			s.mu.Unlock()
			batch = batch[:0]
		}
		src.Range(func(k string, e *keyspace.Entry) bool {
			batch = append(batch, kv{k, e})
			if len(batch) == chunk {
				flush()
			}
			return true
		})
		if len(batch) > 0 {
			flush()
		}
	}
	if ld.info != nil {
		s.mu.Lock()
		for _, f := range ld.info.Flushes {
			id, err := uuid.Parse(f.Origin)
			if err != nil || f.DB >= len(s.dbs) {
				continue
			}
			org := s.origins.Intern(id)
			s.applyFlush(&record{in: stampID{f.Stamp, id}, origin: org, db: f.DB, op: "FLUSH"})
			s.afterMerge()
		}
		for i, t := range ld.info.Tombs {
			id, err := uuid.Parse(t.Origin)
			if err != nil || t.DB >= len(s.dbs) {
				continue
			}
			org := s.origins.Intern(id)
			rec := &record{in: stampID{t.Stamp, id}, origin: org, prev: stampID{t.Stamp, id}, db: t.DB, key: t.Key, op: "DEL"}
			if s.applyRecord(nil, rec) {
				s.relayed(s.appendRecord(s.relayBuf(org), t.Stamp, org, t.Stamp, org, t.DB, t.Key, opDel))
				s.afterMerge()
			}
			if i%chunk == chunk-1 {
				s.mu.Unlock()
				s.mu.Lock()
			}
		}
		s.mu.Unlock()
	}
	return merged
}

// mergeEntry merges one key of a peer's snapshot (s.mu held).
func (s *Server) mergeEntry(dbi int, key []byte, e *keyspace.Entry, ld *loaded, stale uint64) int64 {
	db := s.dbs[dbi]
	org := s.origins.Intern(ld.origins.ID(e.Origin))
	id := s.origins.ID(org)
	rec := &record{in: stampID{e.Stamp, id}, origin: org, prev: stampID{e.Stamp, id}, db: dbi, key: key, op: "SET"}
	cur, live := s.current(db, key)
	if live == nil && cur.stamp == 0 && e.Stamp != 0 && e.Stamp <= stale {
		// A key we deleted (and, the peer having acknowledged it, forgot
		// the tombstone of) is back from an old snapshot: delete it again,
		// just after the stale copy, so the peer drops it too.
		a := &s.act
		st := e.Stamp + 1
		s.setTomb(dbi, key, st, s.self)
		s.relayed(s.appendRecord(s.relayBuf(s.self), st, s.self, e.Stamp, org, dbi, key, opDel))
		a.resurrections++
		s.afterMerge()
		return 0
	}
	if live != nil && cur.origin != id && cur.stamp != 0 && e.Stamp != 0 {
		// A snapshot has no history: two different writers' states of
		// one key are counted as a conflict (one node's newer write
		// over another's older one, made without seeing it).
		rec.prev = stampID{}
	}
	if s.decide(rec, cur, live != nil) != applyIt {
		return 0
	}
	a := &s.act
	a.applying, a.applyStamp, a.applyOrigin = true, e.Stamp, org
	val := *e
	val.Stamp, val.Origin = e.Stamp, org
	var payload []byte
	if val.Obj != nil {
		s.persist.dumpEnc.Compress = s.cfg.RDBCompression
		var err error
		if payload, err = s.persist.dumpEnc.Dump(&val); err != nil {
			a.applying = false
			return 0
		}
	}
	s.installState(db, key, val, e.Expire, live, payload)
	a.applying = false
	if ne := db.Get(key); ne != nil {
		s.relayed(s.appendStateRecord(s.relayBuf(org), ne, ne.Stamp, ne.Origin, dbi, key))
	}
	s.afterMerge()
	return 1
}

// afterMerge sends what a merged key produced (outside any command).
func (s *Server) afterMerge() {
	if s.act.relayN > 0 {
		s.activeFlush(nil)
	}
	if len(s.prop.pending) > 0 {
		s.flushEffects()
	}
}
