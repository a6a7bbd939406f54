package server

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/keyspace"
)

// Generic key commands (Redis's db.c, expire.c and object.c).

func registerKeyCommands(t table) {
	k1 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 1, 1, "generic"
		return cmd
	}
	all := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, -1, 1, "generic"
		return cmd
	}
	two := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 2, 1, "generic"
		return cmd
	}
	ro := FlagReadonly
	objSub := func(proc func(*Client)) *Command {
		return &Command{Proc: proc, Arity: 3, Flags: ro, FirstKey: 2, LastKey: 2, Step: 1}
	}
	t.add(
		all(&Command{Name: "del", Proc: delCmd, Arity: -2, Flags: FlagWrite}),
		all(&Command{Name: "unlink", Proc: delCmd, Arity: -2, Flags: FlagWrite | FlagFast}),
		all(&Command{Name: "exists", Proc: existsCmd, Arity: -2, Flags: ro | FlagFast}),
		all(&Command{Name: "touch", Proc: touchCmd, Arity: -2, Flags: ro | FlagFast}),
		k1(&Command{Name: "type", Proc: typeCmd, Arity: 2, Flags: ro | FlagFast}),
		k1(&Command{Name: "expire", Proc: expireCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "pexpire", Proc: pexpireCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "expireat", Proc: expireatCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "pexpireat", Proc: pexpireatCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "ttl", Proc: ttlCmd, Arity: 2, Flags: ro | FlagFast}),
		k1(&Command{Name: "pttl", Proc: pttlCmd, Arity: 2, Flags: ro | FlagFast}),
		k1(&Command{Name: "expiretime", Proc: expiretimeCmd, Arity: 2, Flags: ro | FlagFast}),
		k1(&Command{Name: "pexpiretime", Proc: pexpiretimeCmd, Arity: 2, Flags: ro | FlagFast}),
		k1(&Command{Name: "persist", Proc: persistCmd, Arity: 2, Flags: FlagWrite | FlagFast}),
		two(&Command{Name: "rename", Proc: renameCmd, Arity: 3, Flags: FlagWrite}),
		two(&Command{Name: "renamenx", Proc: renamenxCmd, Arity: 3, Flags: FlagWrite | FlagFast}),
		two(&Command{Name: "copy", Proc: copyCmd, Arity: -3, Flags: FlagWrite | FlagDenyOOM}),
		k1(&Command{Name: "move", Proc: moveCmd, Arity: 3, Flags: FlagWrite | FlagFast}),
		&Command{Name: "keys", Proc: keysCmd, Arity: 2, Flags: ro, Group: "generic"},
		&Command{Name: "scan", Proc: scanCmd, Arity: -2, Flags: ro, Group: "generic"},
		&Command{Name: "randomkey", Proc: randomkeyCmd, Arity: 1, Flags: ro, Group: "generic"},
		&Command{Name: "object", Arity: -2, Group: "generic", Sub: map[string]*Command{
			"encoding": objSub(objectEncodingCmd),
			"refcount": objSub(objectRefcountCmd),
			"idletime": objSub(objectIdletimeCmd),
			"freq":     objSub(objectFreqCmd),
			"help":     {Proc: objectHelpCmd, Arity: 2, Flags: FlagLoading | FlagStale},
		}},
	)
}

// lookupNoTouch is lookupRead without updating the access time (Redis's
// LOOKUP_NOTOUCH: TYPE, TTL, OBJECT and friends must not make a key look
// recently used).
func (c *Client) lookupNoTouch(key []byte) *keyspace.Entry {
	had := c.flags & flagNoTouch
	c.flags |= flagNoTouch
	e := c.lookupRead(key)
	c.flags = c.flags&^flagNoTouch | had
	return e
}

// expireIfNeeded removes key from db when its TTL has passed and reports
// whether it did (or, on a replica, whether the key is logically gone).
func (s *Server) expireIfNeeded(c *Client, db *keyspace.DB, key []byte) bool {
	e := db.Get(key)
	if e == nil || !e.ExpiredAt(s.now) {
		return false
	}
	if s.isReplicaOfMaster() && (c == nil || !c.isMaster()) {
		return true
	}
	s.expireKey(db, key)
	return true
}

// putEntry stores v under key in db (which must not hold key), with v's TTL
// registered in the expires index; it returns the stored entry.
func (s *Server) putEntry(db *keyspace.DB, key []byte, v keyspace.Entry) *keyspace.Entry {
	at := v.Expire
	v.Expire = 0
	ne, _ := db.Add(key)
	*ne = v
	if at != 0 {
		db.SetExpire(key, ne, at)
	}
	switch ne.Kind() {
	case keyspace.KindList, keyspace.KindZSet, keyspace.KindStream:
		s.signalReady(db, key)
	}
	return ne
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
		if c.lookupNoTouch(k) != nil {
			n++
		}
	}
	c.addInt(int64(n))
}

func touchCmd(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if c.lookupRead(k) != nil {
			n++
		}
	}
	c.addInt(int64(n))
}

func typeName(e *keyspace.Entry) string {
	if e == nil {
		return "none"
	}
	return e.Kind().String()
}

func typeCmd(c *Client) { c.addSimple(typeName(c.lookupNoTouch(c.argv[1]))) }

// Expire flags (expire.c).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

func expireCmd(c *Client)    { c.expireGeneric(c.s.now, 1000) }
func pexpireCmd(c *Client)   { c.expireGeneric(c.s.now, 1) }
func expireatCmd(c *Client)  { c.expireGeneric(0, 1000) }
func pexpireatCmd(c *Client) { c.expireGeneric(0, 1) }

func (c *Client) invalidExpire() {
	c.addError("ERR invalid expire time in '" + c.cmd.Name + "' command")
}

// expireGeneric is Redis's expireGenericCommand: basetime is added to the
// argument (0 for the *AT forms), unit is 1000 for seconds.
func (c *Client) expireGeneric(basetime, unit int64) {
	key := c.argv[1]
	flags := 0
	for _, a := range c.argv[3:] {
		switch strings.ToUpper(string(a)) {
		case "NX":
			flags |= expireNX
		case "XX":
			flags |= expireXX
		case "GT":
			flags |= expireGT
		case "LT":
			flags |= expireLT
		default:
			c.addError("ERR Unsupported option " + string(a))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.addError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.addError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	if unit == 1000 {
		if when > (1<<63-1)/1000 || when < (-1<<63)/1000 {
			c.invalidExpire()
			return
		}
		when *= 1000
	}
	if when > (1<<63-1)-basetime {
		c.invalidExpire()
		return
	}
	when += basetime
	e := c.lookupWrite(key)
	if e == nil {
		c.addInt(0)
		return
	}
	if flags != 0 {
		cur := e.Expire
		switch {
		case flags&expireNX != 0 && cur != 0,
			flags&expireXX != 0 && cur == 0,
			flags&expireGT != 0 && (cur == 0 || when <= cur),
			flags&expireLT != 0 && cur != 0 && when >= cur:
			c.addInt(0)
			return
		}
	}
	if when <= c.s.now && !c.s.loading && !c.s.isReplicaOfMaster() {
		c.db.Delete(key)
		c.s.modified(c.db, key, nil)
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		c.rewriteArgv([]byte(c.s.delVerb(c.s.cfg.LazyfreeLazyExpire)), key)
		c.addInt(1)
		return
	}
	c.db.SetExpire(key, e, when)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyGeneric, "expire", key, c.dbIndex)
	if c.cmd.Name != "pexpireat" && c.s.prop.active() {
		// Replayed later, a relative TTL would end later: propagate the
		// absolute time, keeping the NX/XX/GT/LT options as Redis does.
		argv := append([][]byte{[]byte("PEXPIREAT"), key, strconv.AppendInt(nil, when, 10)}, c.argv[3:]...)
		c.rewriteArgv(argv...)
	}
	c.addInt(1)
}

// delVerb is the command a deletion is replayed as: UNLINK when the
// matching lazyfree option is on, as Redis propagates it.
func (s *Server) delVerb(lazy bool) string {
	if lazy {
		return "UNLINK"
	}
	return "DEL"
}

func ttlCmd(c *Client)         { c.ttlGeneric(false, false) }
func pttlCmd(c *Client)        { c.ttlGeneric(true, false) }
func expiretimeCmd(c *Client)  { c.ttlGeneric(false, true) }
func pexpiretimeCmd(c *Client) { c.ttlGeneric(true, true) }

func (c *Client) ttlGeneric(ms, absolute bool) {
	e := c.lookupNoTouch(c.argv[1])
	if e == nil {
		c.addInt(-2)
		return
	}
	if e.Expire == 0 {
		c.addInt(-1)
		return
	}
	ttl := e.Expire
	if !absolute {
		ttl -= c.s.now
	}
	if ttl < 0 {
		ttl = 0
	}
	if ms {
		c.addInt(ttl)
	} else {
		c.addInt((ttl + 500) / 1000)
	}
}

func persistCmd(c *Client) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	if e == nil || e.Expire == 0 {
		c.addInt(0)
		return
	}
	c.db.SetExpire(key, e, 0)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyGeneric, "persist", key, c.dbIndex)
	c.addInt(1)
}

func renameCmd(c *Client)   { c.renameGeneric(false) }
func renamenxCmd(c *Client) { c.renameGeneric(true) }

func (c *Client) renameGeneric(nx bool) {
	src, dst := c.argv[1], c.argv[2]
	e := c.lookupWrite(src)
	if e == nil {
		c.addError(errNoKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.addInt(0)
		} else {
			c.addOK()
		}
		return
	}
	v := *e
	if c.lookupWrite(dst) != nil {
		if nx {
			c.addInt(0)
			return
		}
		c.db.Delete(dst)
	}
	c.db.Delete(src)
	ne := c.s.putEntry(c.db, dst, v)
	c.s.modified(c.db, src, nil)
	c.s.modified(c.db, dst, ne)
	c.s.notify(notifyGeneric, "rename_from", src, c.dbIndex)
	c.s.notify(notifyGeneric, "rename_to", dst, c.dbIndex)
	if nx {
		c.addInt(1)
	} else {
		c.addOK()
	}
}

// dbIndexArg parses a DB number like Redis's getIntFromObjectOrReply plus
// selectDb: an int32, then a valid index.
func (c *Client) dbIndexArg(arg []byte) (int, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.addError(errNotInt)
		return 0, false
	}
	if n < -1<<31 || n > 1<<31-1 {
		c.addError("ERR value is out of range, value must between -2147483648 and 2147483647")
		return 0, false
	}
	if n < 0 || n >= int64(len(c.s.dbs)) {
		c.addError(errDBIndex)
		return 0, false
	}
	return int(n), true
}

func copyCmd(c *Client) {
	src, dst := c.argv[1], c.argv[2]
	dstDB := c.db
	replace := false
	for j := 3; j < len(c.argv); j++ {
		opt := strings.ToUpper(string(c.argv[j]))
		switch {
		case opt == "REPLACE":
			replace = true
		case opt == "DB" && j+1 < len(c.argv):
			i, ok := c.dbIndexArg(c.argv[j+1])
			if !ok {
				return
			}
			dstDB = c.s.dbs[i]
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	if dstDB == c.db && string(src) == string(dst) {
		c.addError(errSameObject)
		return
	}
	e := c.lookupRead(src)
	if e == nil {
		c.addInt(0)
		return
	}
	if c.s.lookup(c, dstDB, dst) != nil {
		if !replace {
			c.addInt(0)
			return
		}
		dstDB.Delete(dst)
	}
	v, ok := cloneEntry(e)
	if !ok {
		c.addError("ERR COPY is not supported for this type")
		return
	}
	ne := c.s.putEntry(dstDB, dst, v)
	c.s.modified(dstDB, dst, ne)
	c.s.notify(notifyGeneric, "copy_to", dst, dstDB.ID)
	c.addInt(1)
}

// cloneEntry deep-copies a key's value (and TTL) for COPY. The stamp and
// origin are left for modified to set.
func cloneEntry(e *keyspace.Entry) (keyspace.Entry, bool) {
	v := keyspace.Entry{Expire: e.Expire, StrEnc: e.StrEnc}
	if e.Obj == nil {
		v.Str = append(make([]byte, 0, len(e.Str)), e.Str...)
		return v, true
	}
	obj := cloneValue(e)
	if obj == nil {
		return v, false
	}
	v.Obj = obj
	return v, true
}

// cloneValue deep-copies a collection value. A type's own Clone method is
// preferred (it knows its encoding state); otherwise the copy is rebuilt
// through the type's public API.
func cloneValue(e *keyspace.Entry) any {
	if m := reflect.ValueOf(e.Obj).MethodByName("Clone"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
		return m.Call(nil)[0].Interface()
	}
	switch v := e.Obj.(type) {
	case *keyspace.List:
		n := keyspace.NewList()
		for _, el := range v.All() {
			n.PushBack(append([]byte(nil), el...))
		}
		return n
	case *keyspace.ZSet:
		n := keyspace.NewZSet()
		v.Range(func(m string, score float64) bool {
			n.Insert(m, score)
			return true
		})
		n.Big = v.Big
		return n
	}
	return nil
}

func moveCmd(c *Client) {
	key := c.argv[1]
	i, ok := c.dbIndexArg(c.argv[2])
	if !ok {
		return
	}
	dstDB := c.s.dbs[i]
	if dstDB == c.db {
		c.addError(errSameObject)
		return
	}
	e := c.lookupWrite(key)
	if e == nil {
		c.addInt(0)
		return
	}
	if c.s.lookup(c, dstDB, key) != nil {
		c.addInt(0)
		return
	}
	v := *e
	c.db.Delete(key)
	ne := c.s.putEntry(dstDB, key, v)
	c.s.modified(c.db, key, nil)
	c.s.modified(dstDB, key, ne)
	c.s.notify(notifyGeneric, "move_from", key, c.dbIndex)
	c.s.notify(notifyGeneric, "move_to", key, dstDB.ID)
	c.addInt(1)
}

func keysCmd(c *Client) {
	pattern := string(c.argv[1])
	all := pattern == "*"
	var out []string
	now := c.s.now
	c.db.Range(func(k string, e *keyspace.Entry) bool {
		if (all || config.GlobMatch(pattern, k, false)) && !e.ExpiredAt(now) {
			out = append(out, k)
		}
		return true
	})
	c.addBulkStrings(out)
}

// parseScanCursor reads a cursor as strtoul does in Redis's
// parseScanCursorOrReply (a '-' wraps around, as there).
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if isCSpace(b[0]) {
		return 0, false
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// scanArgs are SCAN's (and the other *SCAN commands') options.
type scanArgs struct {
	count    int64
	pattern  string
	matchAll bool
	typeName string
}

// parseScanArgs reads COUNT, MATCH and (when allowType) TYPE from args.
func (c *Client) parseScanArgs(args [][]byte, allowType bool) (scanArgs, bool) {
	sa := scanArgs{count: 10, matchAll: true}
	for i := 0; i < len(args); i += 2 {
		opt := strings.ToUpper(string(args[i]))
		if i+1 >= len(args) {
			c.addError(errSyntax)
			return sa, false
		}
		switch {
		case opt == "COUNT":
			n, ok := c.getInt(args[i+1])
			if !ok {
				return sa, false
			}
			if n < 1 {
				c.addError(errSyntax)
				return sa, false
			}
			sa.count = n
		case opt == "MATCH":
			sa.pattern = string(args[i+1])
			sa.matchAll = sa.pattern == "*"
		case opt == "TYPE" && allowType:
			sa.typeName = string(args[i+1])
		default:
			c.addError(errSyntax)
			return sa, false
		}
	}
	return sa, true
}

func scanCmd(c *Client) {
	cursor, ok := parseScanCursor(c.argv[1])
	if !ok {
		c.addError("ERR invalid cursor")
		return
	}
	sa, ok := c.parseScanArgs(c.argv[2:], true)
	if !ok {
		return
	}
	var keys []string
	maxIter := sa.count * 10
	if sa.count > 1<<58 {
		maxIter = 1 << 62
	}
	for {
		cursor = c.db.Scan(cursor, func(k string, _ *keyspace.Entry) {
			keys = append(keys, k)
		})
		maxIter--
		if cursor == 0 || maxIter <= 0 || int64(len(keys)) >= sa.count {
			break
		}
	}
	out := keys[:0]
	for _, k := range keys {
		if !sa.matchAll && !config.GlobMatch(sa.pattern, k, false) {
			continue
		}
		kb := []byte(k)
		if sa.typeName != "" {
			e := c.lookupNoTouch(kb)
			if !strings.EqualFold(sa.typeName, typeName(e)) {
				continue
			}
		}
		if c.s.expireIfNeeded(c, c.db, kb) {
			continue
		}
		out = append(out, k)
	}
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(cursor, 10))
	c.addBulkStrings(out)
}

func randomkeyCmd(c *Client) {
	for {
		k, e, ok := c.db.RandomKey(c.s.randUint64)
		if !ok {
			c.addNull()
			return
		}
		if e.ExpiredAt(c.s.now) {
			if c.s.expireIfNeeded(c, c.db, []byte(k)) && !c.s.isReplicaOfMaster() {
				continue
			}
		}
		c.addBulkString(k)
		return
	}
}

// OBJECT subcommands (object.c). The key lookup does not touch the key.

func (c *Client) objectLookup() *keyspace.Entry {
	e := c.lookupNoTouch(c.argv[2])
	if e == nil {
		c.addNull()
	}
	return e
}

// encodingOf is OBJECT ENCODING's answer for an entry.
func encodingOf(e *keyspace.Entry) string {
	if e.Obj == nil {
		return strEncoding(e)
	}
	if enc, ok := e.Obj.(interface{ Encoding() string }); ok {
		return enc.Encoding()
	}
	switch e.Kind() {
	case keyspace.KindList:
		return "quicklist"
	case keyspace.KindZSet:
		return "skiplist"
	case keyspace.KindStream:
		return "stream"
	}
	return "hashtable"
}

func objectEncodingCmd(c *Client) {
	if e := c.objectLookup(); e != nil {
		c.addBulkString(encodingOf(e))
	}
}

func objectRefcountCmd(c *Client) {
	e := c.objectLookup()
	if e == nil {
		return
	}
	if e.Obj == nil && c.s.strIsSharedInt(e) {
		c.addInt(1<<31 - 1)
		return
	}
	c.addInt(1)
}

func (s *Server) lfuPolicy() bool {
	return strings.Contains(strings.ToLower(s.cfg.MaxmemoryPolicy), "lfu")
}

func objectIdletimeCmd(c *Client) {
	e := c.objectLookup()
	if e == nil {
		return
	}
	if c.s.lfuPolicy() {
		c.addError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	idle := int64(c.s.lruClock()) - int64(e.Access)
	if idle < 0 {
		idle = 0
	}
	c.addInt(idle)
}

func objectFreqCmd(c *Client) {
	e := c.objectLookup()
	if e == nil {
		return
	}
	if !c.s.lfuPolicy() {
		c.addError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.addInt(int64(e.Freq))
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func objectHelpCmd(c *Client) {
	c.addArrayLen(len(objectHelp))
	for _, l := range objectHelp {
		c.addSimple(l)
	}
}
