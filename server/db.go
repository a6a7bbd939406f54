package server

import (
	"strconv"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
)

// The key access helpers every handler uses. They apply lazy expiry,
// keep hit/miss counters and, for writes, stamp the entry, mark WATCHers
// dirty and count the change for the save schedule. A handler never touches
// keyspace.DB for a read or write of a user key without going through here.

// lookupRead returns the live entry of key, or nil (missing or expired).
func (c *Client) lookupRead(key []byte) *keyspace.Entry {
	e := c.s.lookup(c, c.db, key)
	if e == nil {
		c.s.stats.keyspaceMisses++
	} else {
		c.s.stats.keyspaceHits++
	}
	return e
}

// lookupWrite returns the live entry of key for a command about to change
// it, or nil. It does not count hits or misses, as Redis's lookupKeyWrite.
func (c *Client) lookupWrite(key []byte) *keyspace.Entry {
	return c.s.lookup(c, c.db, key)
}

func (s *Server) lookup(c *Client, db *keyspace.DB, key []byte) *keyspace.Entry {
	e := db.Get(key)
	if e == nil {
		return nil
	}
	if e.Expire != 0 && e.Expire <= s.now {
		if !s.isReplicaOfMaster() {
			s.expireKey(db, key)
			return nil
		}
		if c == nil || !c.isMaster() {
			// A replica waits for its master's DEL, but never shows the key.
			return nil
		}
		// The master decides when its keys expire: commands from its
		// stream still see the key (as in Redis), or a write made just
		// before the TTL ran out would apply to a missing key here.
	}
	if c == nil || c.flags&flagNoTouch == 0 {
		s.touchAccess(e)
	}
	return e
}

// lookupType returns the entry if it exists and has type kind; when it
// exists with another type it replies WRONGTYPE and returns ok=false.
func (c *Client) lookupType(key []byte, kind keyspace.Kind, write bool) (e *keyspace.Entry, ok bool) {
	if write {
		e = c.lookupWrite(key)
	} else {
		e = c.lookupRead(key)
	}
	if e != nil && e.Kind() != kind {
		c.addError(errWrongType)
		return nil, false
	}
	return e, true
}

func (s *Server) isReplicaOfMaster() bool { return s.replPlainReplica() }

// lruClock is the coarse clock (seconds) stored in each entry on access.
func (s *Server) lruClock() uint32 { return uint32(s.now / 1000) }

// modified records a change to key in db: the entry (nil when the key was
// deleted) gets a fresh stamp from this node's clock, WATCHers are marked
// dirty, and the save schedule counts it. Every write path ends here, which
// is what makes every write carry a stamp.
func (s *Server) modified(db *keyspace.DB, key []byte, e *keyspace.Entry) {
	if s.act.on {
		s.activeModified(db, key, e) // active.go: the record and the stamp
		s.touchWatched(db.ID, key)
		s.stats.dirty++
		return
	}
	if e != nil {
		e.Stamp = s.clock.Next()
		e.Origin = s.self
	}
	s.touchWatched(db.ID, key)
	s.stats.dirty++
}

// setKey stores a string value, replacing whatever the key held (SET). The
// TTL is dropped unless keepTTL.
func (s *Server) setKey(db *keyspace.DB, key, val []byte, keepTTL bool) *keyspace.Entry {
	e, isNew := db.Add(key)
	if !isNew && !keepTTL && e.Expire != 0 {
		db.SetExpire(key, e, 0)
	}
	expire := e.Expire
	// The stamp stays until modified() replaces it: active replication
	// sends it as the key's previous state.
	*e = keyspace.Entry{Str: val, Expire: expire, Freq: keyspace.LFUInitVal, Access: s.lruClock(), Stamp: e.Stamp, Origin: e.Origin}
	_ = isNew
	return e
}

// deleteKey removes key; it returns whether it existed (expired keys count
// as missing and are removed as expired).
func (s *Server) deleteKey(c *Client, db *keyspace.DB, key []byte) bool {
	if s.lookup(c, db, key) == nil {
		return false
	}
	db.Delete(key)
	s.modified(db, key, nil)
	return true
}

// expireKey removes a key whose TTL has passed: the "expired" event and a
// DEL for replicas, as Redis does.
func (s *Server) expireKey(db *keyspace.DB, key []byte) {
	old, _ := db.Delete(key)
	s.activeExpired(db.ID, key, old)
	s.stats.expiredKeys++
	s.touchWatched(db.ID, key)
	s.notify(notifyExpired, "expired", key, db.ID)
	s.propagateExpire(db, key)
}

// propagateExpire sends the DEL that makes replicas and the AOF forget a
// key this node expired (replicas never expire keys on their own).
func (s *Server) propagateExpire(db *keyspace.DB, key []byte) {
	del := "DEL"
	if s.cfg.LazyfreeLazyExpire {
		del = "UNLINK"
	}
	s.alsoPropagate(db.ID, []byte(del), key)
}

// activeExpireCycle samples keys with a TTL and removes the expired ones,
// spending at most about a quarter of the cron period, and keeps going while
// more than a quarter of a sample turns out expired (Redis's adaptive
// algorithm, in its simple form).
func (s *Server) activeExpireCycle() {
	if s.activeExpireDisabled {
		return
	}
	if s.isReplicaOfMaster() {
		return
	}
	hz := s.cfg.Hz
	if hz <= 0 {
		hz = 10
	}
	budget := time.Second / time.Duration(hz) / 4
	start := time.Now()
	for _, db := range s.dbs {
		for {
			if db.ExpiresLen() == 0 {
				break
			}
			sampled, expired := 0, 0
			var toDelete []string
			cursor := s.expireCursors[db.ID]
			for sampled < 20 {
				cursor = db.ScanExpires(cursor, func(k string, e *keyspace.Entry) {
					sampled++
					if e.Expire <= s.now {
						toDelete = append(toDelete, k)
					}
				})
				if cursor == 0 {
					break
				}
			}
			s.expireCursors[db.ID] = cursor
			for _, k := range toDelete {
				kb := []byte(k)
				if e := db.Get(kb); e != nil && e.ExpiredAt(s.now) {
					s.expireKey(db, kb)
					expired++
				}
			}
			if expired*4 <= sampled || time.Since(start) > budget || cursor == 0 && expired == 0 {
				break
			}
		}
		if time.Since(start) > budget {
			break
		}
	}
}

// parseInt parses a Redis integer argument (no spaces, no leading +, fits
// in int64).
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) > 1 && (b[0] == '0' || (b[0] == '-' && b[1] == '0')) {
		return 0, false
	}
	if b[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// getInt parses an integer argument or replies with the standard error.
func (c *Client) getInt(b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		c.addError(errNotInt)
	}
	return n, ok
}

func (c *Client) getIntMsg(b []byte, msg string) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		c.addError(msg)
	}
	return n, ok
}

// parseFloat parses a Redis float argument (strtold rules: inf allowed,
// nan and trailing garbage refused, no leading spaces).
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	if f != f {
		return 0, false
	}
	return f, true
}

func (c *Client) getFloat(b []byte) (float64, bool) {
	f, ok := parseFloat(b)
	if !ok {
		c.addError(errNotFloat)
	}
	return f, ok
}

// copyBytes copies an argument that will be stored: argv points into the
// connection's read buffer, which is reused for the next command.
func copyBytes(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
