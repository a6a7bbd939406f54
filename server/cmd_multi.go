package server

// MULTI/EXEC/DISCARD/WATCH/UNWATCH, and the WATCH bookkeeping every write
// passes through (touchWatched).

type watchKey struct {
	db  int
	key string
}

func registerMultiCommands(t table) {
	t.add(
		&Command{Name: "multi", Proc: multiCmd, Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: "transactions"},
		&Command{Name: "exec", Proc: execCmd, Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog, Group: "transactions"},
		&Command{Name: "discard", Proc: discardCmd, Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: "transactions"},
		&Command{Name: "watch", Proc: watchCmd, Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, FirstKey: 1, LastKey: -1, Step: 1, Group: "transactions"},
		&Command{Name: "unwatch", Proc: unwatchCmd, Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: "transactions"},
	)
}

func multiCmd(c *Client) {
	if c.flags&flagMulti != 0 {
		c.addError(errMultiNested)
		return
	}
	c.flags |= flagMulti
	c.multi = c.multi[:0]
	c.addOK()
}

func (c *Client) queueCommand(cmd *Command, args [][]byte) {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = copyBytes(a)
	}
	c.multi = append(c.multi, queuedCommand{cmd: cmd, argv: argv})
	c.addSimple("QUEUED")
}

func (c *Client) discardTransaction() {
	c.multi = nil
	c.flags &^= flagMulti | flagDirtyCAS | flagDirtyExec
	c.unwatchAll()
}

func discardCmd(c *Client) {
	if c.flags&flagMulti == 0 {
		c.addError(errDiscardNoMul)
		return
	}
	c.discardTransaction()
	c.addOK()
}

func execCmd(c *Client) {
	s := c.s
	if c.flags&flagMulti == 0 {
		c.addError(errExecNoMulti)
		return
	}
	if c.flags&flagDirtyExec != 0 {
		c.addError(errExecAbort)
		c.discardTransaction()
		return
	}
	if c.flags&flagDirtyCAS != 0 {
		c.addNullArray()
		c.discardTransaction()
		return
	}
	queued := c.multi
	c.multi = nil
	c.flags &^= flagMulti
	c.unwatchAll()
	c.addArrayLen(len(queued))
	c.execing = true
	savedArgv, savedCmd := c.argv, c.cmd
	// The gate judged EXEC by every queued command's flags; once it
	// runs, the queued commands run as a whole (a REPLICAOF inside the
	// transaction does not turn the later writes into READONLY errors).
	for _, q := range queued {
		c.argv, c.cmd = q.argv, q.cmd
		s.call(c, q.cmd)
	}
	c.argv, c.cmd = savedArgv, savedCmd
	c.execing = false
	c.flags &^= flagDirtyCAS | flagDirtyExec
}

func watchCmd(c *Client) {
	if c.flags&flagMulti != 0 {
		c.addError(errWatchInMulti)
		return
	}
	for _, k := range c.argv[1:] {
		wk := watchKey{db: c.dbIndex, key: string(k)}
		dup := false
		for _, w := range c.watched {
			if w == wk {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		// A key that is already expired counts as missing; if it later
		// gets removed by expiry that is not a change (Redis 7.0).
		c.watched = append(c.watched, wk)
		c.s.watched[wk] = append(c.s.watched[wk], c)
	}
	c.addOK()
}

func unwatchCmd(c *Client) {
	c.unwatchAll()
	c.flags &^= flagDirtyCAS
	c.addOK()
}

func (c *Client) unwatchAll() {
	s := c.s
	for _, wk := range c.watched {
		list := s.watched[wk]
		for i, o := range list {
			if o == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.watched, wk)
		} else {
			s.watched[wk] = list
		}
	}
	c.watched = nil
}

// touchWatched marks the clients watching key as dirty (their EXEC fails).
func (s *Server) touchWatched(db int, key []byte) {
	if len(s.watched) == 0 {
		return
	}
	for _, c := range s.watched[watchKey{db: db, key: string(key)}] {
		c.flags |= flagDirtyCAS
	}
}

// touchAllWatched marks every client watching a key of db that exists
// (FLUSHDB, FLUSHALL, SWAPDB).
func (s *Server) touchAllWatched(db int, alsoExistsIn int) {
	if len(s.watched) == 0 {
		return
	}
	for wk, list := range s.watched {
		if wk.db != db {
			continue
		}
		if s.dbs[db].GetString(wk.key) == nil && (alsoExistsIn < 0 || s.dbs[alsoExistsIn].GetString(wk.key) == nil) {
			continue
		}
		for _, c := range list {
			c.flags |= flagDirtyCAS
		}
	}
}
