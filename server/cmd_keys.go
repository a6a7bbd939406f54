package server

// Generic key commands (Redis's db.c and expire.c).

func registerKeyCommands(t table) {
	t.add(
		&Command{Name: "del", Proc: delCmd, Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic"},
		&Command{Name: "exists", Proc: existsCmd, Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic"},
	)
}

func delCmd(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if c.s.deleteKey(c, c.db, k) {
			c.s.notify(notifyGeneric, "del", k, c.dbIndex)
			n++
		}
	}
	c.addInt(int64(n))
}

func existsCmd(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if c.lookupRead(k) != nil {
			n++
		}
	}
	c.addInt(int64(n))
}
