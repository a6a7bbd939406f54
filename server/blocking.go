package server

import (
	"math"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...) park the client on a
// set of keys. A command that adds data to a key a client waits on calls
// signalReady; after that command, serveBlocked re-runs each waiting
// client's command, first come first served, exactly as if the client had
// sent it again. Replicated and merged writes use the same path, so they
// wake clients like local writes do.

type blockedState struct {
	db        int
	keys      []string
	argv      [][]byte
	cmd       *Command
	deadline  time.Time
	onTimeout func(c *Client)
}

type blockingState struct {
	byKey map[watchKey][]*Client
	count int
}

type readyKey struct {
	db  int
	key string
}

func (b *blockingState) init() { b.byKey = map[watchKey][]*Client{} }

// block parks c on keys until timeout (0: forever). onTimeout writes the
// reply sent when the time runs out. When the client is being re-served
// and still cannot proceed, it stays where it was in the queues.
func (c *Client) block(keys [][]byte, timeout time.Duration, onTimeout func(c *Client)) {
	s := c.s
	if c.blocked != nil {
		c.blockAgain = true
		return
	}
	bs := &blockedState{db: c.dbIndex, cmd: c.cmd, onTimeout: onTimeout}
	if timeout > 0 {
		bs.deadline = time.Now().Add(timeout)
	}
	bs.argv = make([][]byte, len(c.argv))
	for i, a := range c.argv {
		bs.argv[i] = copyBytes(a)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		ks := string(k)
		if seen[ks] {
			continue
		}
		seen[ks] = true
		bs.keys = append(bs.keys, ks)
		wk := watchKey{db: c.dbIndex, key: ks}
		s.blocking.byKey[wk] = append(s.blocking.byKey[wk], c)
	}
	c.blocked = bs
	c.flags |= flagBlocked
	s.blocking.count++
	if c.inLoop && timeout > 0 {
		// Reactor clients have no goroutine waiting with a timer.
		c.blockTimer = time.AfterFunc(timeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.blocked == bs {
				s.tick()
				s.unblock(c, true)
			}
		})
	}
}

// signalReady notes that key in db got data a blocked client may want.
func (s *Server) signalReady(db *keyspace.DB, key []byte) {
	if s.blocking.count == 0 {
		return
	}
	if _, ok := s.blocking.byKey[watchKey{db: db.ID, key: string(key)}]; !ok {
		return
	}
	for _, r := range s.readyKeys {
		if r.db == db.ID && r.key == string(key) {
			return
		}
	}
	s.readyKeys = append(s.readyKeys, readyKey{db: db.ID, key: string(key)})
}

// serveBlocked re-runs the commands of clients blocked on ready keys. A
// served command may make more keys ready (BLMOVE), hence the loop.
func (s *Server) serveBlocked() {
	for len(s.readyKeys) > 0 {
		ready := s.readyKeys
		s.readyKeys = nil
		for _, rk := range ready {
			wk := watchKey{db: rk.db, key: rk.key}
			waiting := append([]*Client(nil), s.blocking.byKey[wk]...)
			for _, c := range waiting {
				if c.blocked == nil {
					continue
				}
				db := s.dbs[rk.db]
				if db.GetString(rk.key) == nil {
					break
				}
				bs := c.blocked
				saved, savedCmd, savedDB := c.argv, c.cmd, c.dbIndex
				c.argv, c.cmd = bs.argv, bs.cmd
				c.selectDB(bs.db)
				c.blockAgain = false
				s.call(c, bs.cmd)
				again := c.blockAgain
				c.blockAgain = false
				if savedCmd != nil {
					c.argv, c.cmd = saved, savedCmd
				}
				c.selectDB(savedDB)
				if !again {
					s.unblock(c, false)
				}
			}
		}
	}
}

// unblock releases c. With timedOut its timeout reply is written; either
// way the connection goroutine is woken to flush and read on.
func (s *Server) unblock(c *Client, timedOut bool) {
	bs := c.blocked
	if bs == nil {
		return
	}
	for _, k := range bs.keys {
		wk := watchKey{db: bs.db, key: k}
		list := s.blocking.byKey[wk]
		for i, o := range list {
			if o == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.blocking.byKey, wk)
		} else {
			s.blocking.byKey[wk] = list
		}
	}
	c.blocked = nil
	c.flags &^= flagBlocked
	s.blocking.count--
	if c.blockTimer != nil {
		c.blockTimer.Stop()
		c.blockTimer = nil
	}
	if timedOut && bs.onTimeout != nil {
		c.mu.Lock()
		bs.onTimeout(c)
		c.mu.Unlock()
	}
	if c.inLoop {
		c.s.reactor.schedule(c, nil)
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// parseTimeout reads a blocking command's timeout in seconds (a float, as
// Redis 6+ accepts). Like Redis 7.0 it rounds up to whole milliseconds (so
// a tiny positive timeout still times out), and values too large for a
// 64-bit millisecond count wrap negative there, hence "timeout is negative"
// for 1e20 and inf.
func (c *Client) parseTimeout(b []byte) (time.Duration, bool) {
	f, ok := parseFloat(b)
	if !ok || f != f {
		c.addError(errTimeout)
		return 0, false
	}
	ms := math.Ceil(f * 1000)
	if ms < 0 || ms >= math.MaxInt64 {
		c.addError(errTimeoutNeg)
		return 0, false
	}
	if time.Duration(ms) > math.MaxInt64/time.Millisecond {
		// Longer than time.Duration can hold (about 292 years): forever.
		return 0, true
	}
	return time.Duration(ms) * time.Millisecond, true
}

// inMultiOrScript says whether a blocking command must not block (it then
// behaves as its non-blocking form and times out at once).
func (c *Client) cannotBlock() bool { return c.flags&flagMulti != 0 || c.execing }
