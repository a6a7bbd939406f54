package server

import (
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/keyspace"
)

// String commands (Redis's t_string.c).

func registerStringCommands(t table) {
	w := FlagWrite | FlagDenyOOM
	t.add(
		&Command{Name: "get", Proc: getCmd, Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "set", Proc: setCmd, Arity: -3, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "setnx", Proc: setnxCmd, Arity: 3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "setex", Proc: setexCmd, Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "psetex", Proc: psetexCmd, Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "incr", Proc: incrCmd, Arity: 2, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "decr", Proc: decrCmd, Arity: 2, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "incrby", Proc: incrbyCmd, Arity: 3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "decrby", Proc: decrbyCmd, Arity: 3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string"},
		&Command{Name: "mset", Proc: msetCmd, Arity: -3, Flags: w, FirstKey: 1, LastKey: -1, Step: 2, Group: "string"},
		&Command{Name: "mget", Proc: mgetCmd, Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: "string"},
	)
	registerMoreStringCommands(t)
}

// getString returns the string value of key; ok is false after a
// WRONGTYPE reply. A missing key gives (nil, true).
func (c *Client) getString(key []byte) (*keyspace.Entry, bool) {
	e := c.lookupRead(key)
	if e != nil && e.Obj != nil {
		c.addError(errWrongType)
		return nil, false
	}
	return e, true
}

func getCmd(c *Client) {
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	c.addBulk(e.Str)
}

// setOptions is what SET's (and GETEX's) flags say. The expire argument is
// kept raw: Redis reports syntax errors in later options before a bad TTL.
type setOptions struct {
	nx, xx, get, keepTTL, persist bool
	expireArg                     []byte // EX/PX/EXAT/PXAT argument; nil when absent
	unit                          string // "EX", "PX", "EXAT" or "PXAT"
}

// parseSetOptions reads SET's options from args (after key and value); with
// forGetex it reads GETEX's instead (EX/PX/EXAT/PXAT/PERSIST only). Like
// Redis's parseExtendedStringArgumentsOrReply, repeating an option is
// allowed but combining exclusive ones is a syntax error.
func (c *Client) parseSetOptions(args [][]byte, forGetex bool) (setOptions, bool) {
	var o setOptions
	for i := 0; i < len(args); i++ {
		a := strings.ToUpper(string(args[i]))
		next := i+1 < len(args)
		isSet := !forGetex
		switch {
		case a == "NX" && !o.xx && isSet:
			o.nx = true
		case a == "XX" && !o.nx && isSet:
			o.xx = true
		case a == "GET" && isSet:
			o.get = true
		case a == "KEEPTTL" && !o.persist && o.expireArg == nil && isSet:
			o.keepTTL = true
		case a == "PERSIST" && forGetex && o.expireArg == nil && !o.keepTTL:
			o.persist = true
		case (a == "EX" || a == "PX" || a == "EXAT" || a == "PXAT") && !o.keepTTL && !o.persist &&
			(o.expireArg == nil || o.unit == a) && next:
			o.expireArg, o.unit = args[i+1], a
			i++
		default:
			c.addError(errSyntax)
			return o, false
		}
	}
	return o, true
}

// expireMillis validates an EX/PX/EXAT/PXAT argument and returns the
// absolute expiry in ms (Redis's getExpireMillisecondsOrReply).
func (c *Client) expireMillis(arg []byte, unit string) (int64, bool) {
	n, ok := c.getInt(arg)
	if !ok {
		return 0, false
	}
	return c.absExpire(n, unit)
}

// absExpire turns an EX/PX/EXAT/PXAT argument into absolute ms, with
// Redis's errors for non-positive and overflowing values.
func (c *Client) absExpire(n int64, unit string) (int64, bool) {
	if n <= 0 {
		c.addError("ERR invalid expire time in '" + c.cmd.Name + "' command")
		return 0, false
	}
	var ms int64
	switch unit {
	case "EX", "EXAT":
		if n > (1<<63-1)/1000 {
			c.addError("ERR invalid expire time in '" + c.cmd.Name + "' command")
			return 0, false
		}
		ms = n * 1000
	default:
		ms = n
	}
	if unit == "EX" || unit == "PX" {
		if ms > (1<<63-1)-c.s.now {
			c.addError("ERR invalid expire time in '" + c.cmd.Name + "' command")
			return 0, false
		}
		ms += c.s.now
	}
	return ms, true
}

func setCmd(c *Client) {
	o, ok := c.parseSetOptions(c.argv[3:], false)
	if !ok {
		return
	}
	c.setGeneric(c.argv[1], c.argv[2], o, false)
}

// setGeneric is SET with every option (Redis's setGenericCommand); the
// other SET-like commands call it. intReply answers 1/0 instead of OK/null
// (SETNX).
func (c *Client) setGeneric(key, val []byte, o setOptions, intReply bool) {
	s := c.s
	var expireAt int64
	if o.expireArg != nil {
		at, ok := c.expireMillis(o.expireArg, o.unit)
		if !ok {
			return
		}
		expireAt = at
	}
	if o.get {
		old := c.lookupRead(key)
		if old != nil && old.Obj != nil {
			c.addError(errWrongType)
			return
		}
		if old != nil {
			c.addBulk(old.Str)
		} else {
			c.addNull()
		}
	}
	found := c.lookupWrite(key) != nil
	if (o.nx && found) || (o.xx && !found) {
		if !o.get {
			if intReply {
				c.addInt(0)
			} else {
				c.addNull()
			}
		}
		return
	}
	e := s.setKey(c.db, key, copyBytes(val), o.keepTTL)
	setStrEnc(e, strEncAuto)
	if o.expireArg != nil {
		c.db.SetExpire(key, e, expireAt)
	}
	s.modified(c.db, key, e)
	s.notify(notifyString, "set", key, c.dbIndex)
	if o.expireArg != nil {
		s.notify(notifyGeneric, "expire", key, c.dbIndex)
		// A relative TTL replayed later would expire later: replicas and
		// the AOF get the absolute time.
		if s.prop.active() {
			c.rewriteArgv([]byte("SET"), key, val, []byte("PXAT"), strconv.AppendInt(nil, expireAt, 10))
		}
	} else if o.get && s.prop.active() {
		c.rewriteArgv(dropGetArgs(c.argv)...)
	}
	if !o.get {
		if intReply {
			c.addInt(1)
		} else {
			c.addOK()
		}
	}
}

// dropGetArgs is SET's argv without its GET options: the old value is a
// reply, nothing to replay.
func dropGetArgs(argv [][]byte) [][]byte {
	out := make([][]byte, 0, len(argv))
	for j, a := range argv {
		if j >= 3 && strings.EqualFold(string(a), "get") {
			continue
		}
		out = append(out, a)
	}
	return out
}

func setnxCmd(c *Client) {
	c.setGeneric(c.argv[1], c.argv[2], setOptions{nx: true}, true)
}

func setexCmd(c *Client)  { setexGeneric(c, "EX") }
func psetexCmd(c *Client) { setexGeneric(c, "PX") }

func setexGeneric(c *Client, unit string) {
	c.setGeneric(c.argv[1], c.argv[3], setOptions{expireArg: c.argv[2], unit: unit}, false)
}

func incrCmd(c *Client) { c.incrDecr(1) }
func decrCmd(c *Client) { c.incrDecr(-1) }
func incrbyCmd(c *Client) {
	if n, ok := c.getInt(c.argv[2]); ok {
		c.incrDecr(n)
	}
}
func decrbyCmd(c *Client) {
	n, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	if n == -1<<63 {
		c.addError("ERR decrement would overflow")
		return
	}
	c.incrDecr(-n)
}

func (c *Client) incrDecr(by int64) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	var cur int64
	if e != nil {
		if e.Obj != nil {
			c.addError(errWrongType)
			return
		}
		n, ok := parseInt(e.Str)
		if !ok {
			c.addError(errNotInt)
			return
		}
		cur = n
	}
	if (by < 0 && cur < 0 && by < -1<<63-cur) || (by > 0 && cur > 0 && by > 1<<63-1-cur) {
		c.addError(errOverflow)
		return
	}
	cur += by
	val := strconv.AppendInt(nil, cur, 10)
	if e == nil {
		e = c.s.setKey(c.db, key, val, false)
	} else {
		e.Str = val
	}
	setStrEnc(e, strEncInt)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyString, "incrby", key, c.dbIndex)
	c.addInt(cur)
}

func msetCmd(c *Client) {
	if len(c.argv)%2 != 1 {
		c.addError(wrongArity(c.cmd.Name))
		return
	}
	for i := 1; i < len(c.argv); i += 2 {
		e := c.s.setKey(c.db, c.argv[i], copyBytes(c.argv[i+1]), false)
		setStrEnc(e, strEncAuto)
		c.s.modified(c.db, c.argv[i], e)
		c.s.notify(notifyString, "set", c.argv[i], c.dbIndex)
	}
	c.addOK()
}

func mgetCmd(c *Client) {
	c.addArrayLen(len(c.argv) - 1)
	for _, k := range c.argv[1:] {
		e := c.lookupRead(k)
		if e == nil || e.Obj != nil {
			c.addNull()
			continue
		}
		c.addBulk(e.Str)
	}
}
