package server

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
)

// List commands (Redis 7.0's t_list.c), blocking pops included. Replies,
// argument checks and their order, and keyspace events follow Redis.

const (
	errPopCount      = "ERR value is out of range, must be positive"
	errNumkeys       = "ERR numkeys should be greater than 0"
	errMpopCount     = "ERR count should be greater than 0"
	errLposRankZero  = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errLposCountNeg  = "ERR COUNT can't be negative"
	errLposMaxlenNeg = "ERR MAXLEN can't be negative"
)

func registerListCommands(t table) {
	w := FlagWrite | FlagDenyOOM
	key1 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 1, 1, "list"
		return cmd
	}
	keys12 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 2, 1, "list"
		return cmd
	}
	t.add(
		key1(&Command{Name: "lpush", Proc: lpushCmd, Arity: -3, Flags: w | FlagFast}),
		key1(&Command{Name: "rpush", Proc: rpushCmd, Arity: -3, Flags: w | FlagFast}),
		key1(&Command{Name: "lpushx", Proc: lpushxCmd, Arity: -3, Flags: w | FlagFast}),
		key1(&Command{Name: "rpushx", Proc: rpushxCmd, Arity: -3, Flags: w | FlagFast}),
		key1(&Command{Name: "lpop", Proc: lpopCmd, Arity: -2, Flags: FlagWrite | FlagFast}),
		key1(&Command{Name: "rpop", Proc: rpopCmd, Arity: -2, Flags: FlagWrite | FlagFast}),
		key1(&Command{Name: "llen", Proc: llenCmd, Arity: 2, Flags: FlagReadonly | FlagFast}),
		key1(&Command{Name: "lindex", Proc: lindexCmd, Arity: 3, Flags: FlagReadonly}),
		key1(&Command{Name: "linsert", Proc: linsertCmd, Arity: 5, Flags: w}),
		key1(&Command{Name: "lset", Proc: lsetCmd, Arity: 4, Flags: w}),
		key1(&Command{Name: "lrange", Proc: lrangeCmd, Arity: 4, Flags: FlagReadonly}),
		key1(&Command{Name: "ltrim", Proc: ltrimCmd, Arity: 4, Flags: FlagWrite}),
		key1(&Command{Name: "lrem", Proc: lremCmd, Arity: 4, Flags: FlagWrite}),
		key1(&Command{Name: "lpos", Proc: lposCmd, Arity: -3, Flags: FlagReadonly}),
		keys12(&Command{Name: "lmove", Proc: lmoveCmd, Arity: 5, Flags: w}),
		keys12(&Command{Name: "rpoplpush", Proc: rpoplpushCmd, Arity: 3, Flags: w}),
		&Command{Name: "lmpop", Proc: lmpopCmd, Arity: -4, Flags: FlagWrite, KeysFn: numkeysKeys(1), Group: "list"},
		&Command{Name: "blpop", Proc: blpopCmd, Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: "list"},
		&Command{Name: "brpop", Proc: brpopCmd, Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: "list"},
		keys12(&Command{Name: "blmove", Proc: blmoveCmd, Arity: 6, Flags: w | FlagNoScript | FlagBlocking}),
		keys12(&Command{Name: "brpoplpush", Proc: brpoplpushCmd, Arity: 4, Flags: w | FlagNoScript | FlagBlocking}),
		&Command{Name: "blmpop", Proc: blmpopCmd, Arity: -5, Flags: FlagWrite | FlagBlocking, KeysFn: numkeysKeys(2), Group: "list"},
	)
}

// numkeysKeys finds the keys of a command whose argument idx is numkeys and
// whose keys follow it (LMPOP, BLMPOP).
func numkeysKeys(idx int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if idx >= len(args) {
			return nil
		}
		n, ok := parseInt(args[idx])
		if !ok || n <= 0 {
			return nil
		}
		var out []int
		for i := idx + 1; int64(i-idx) <= n && i < len(args); i++ {
			out = append(out, i)
		}
		return out
	}
}

// parseWhere reads LEFT/RIGHT; front is true for LEFT.
func (c *Client) parseWhere(b []byte) (front, ok bool) {
	switch {
	case strings.EqualFold(string(b), "left"):
		return true, true
	case strings.EqualFold(string(b), "right"):
		return false, true
	}
	c.addError(errSyntax)
	return false, false
}

func popEvent(front bool) string {
	if front {
		return "lpop"
	}
	return "rpop"
}

func pushEvent(front bool) string {
	if front {
		return "lpush"
	}
	return "rpush"
}

func listPop(l *keyspace.List, front bool) []byte {
	var v []byte
	if front {
		v, _ = l.PopFront()
	} else {
		v, _ = l.PopBack()
	}
	return v
}

func listPush(l *keyspace.List, v []byte, front bool) {
	if front {
		l.PushFront(v)
	} else {
		l.PushBack(v)
	}
}

// listDone finishes a change that removed elements from key: an emptied
// list is deleted with a "del" event, as Redis does after the command's
// own event.
func (c *Client) listDone(key []byte, e *keyspace.Entry) {
	if e.Obj.(*keyspace.List).Len() == 0 {
		c.db.Delete(key)
		c.s.modified(c.db, key, nil)
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		return
	}
	c.s.modified(c.db, key, e)
}

// listCreate returns key's list entry, creating the key when missing; ok is
// false after a WRONGTYPE reply.
func (c *Client) listCreate(key []byte) (*keyspace.Entry, bool) {
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return nil, false
	}
	if e == nil {
		e, _ = c.db.Add(key)
		e.Obj = keyspace.NewList()
	}
	return e, true
}

// --- pushes

func lpushCmd(c *Client)  { pushGeneric(c, true, false) }
func rpushCmd(c *Client)  { pushGeneric(c, false, false) }
func lpushxCmd(c *Client) { pushGeneric(c, true, true) }
func rpushxCmd(c *Client) { pushGeneric(c, false, true) }

func pushGeneric(c *Client, front, onlyExisting bool) {
	key := c.argv[1]
	var e *keyspace.Entry
	if onlyExisting {
		var ok bool
		if e, ok = c.lookupType(key, keyspace.KindList, true); !ok {
			return
		}
		if e == nil {
			c.addInt(0)
			return
		}
	} else {
		var ok bool
		if e, ok = c.listCreate(key); !ok {
			return
		}
	}
	l := e.Obj.(*keyspace.List)
	for _, v := range c.argv[2:] {
		listPush(l, copyBytes(v), front)
	}
	c.addInt(int64(l.Len()))
	c.s.modified(c.db, key, e)
	c.s.notify(notifyList, pushEvent(front), key, c.dbIndex)
	c.s.signalReady(c.db, key)
}

// --- pops

func lpopCmd(c *Client) { popGeneric(c, true) }
func rpopCmd(c *Client) { popGeneric(c, false) }

func popGeneric(c *Client, front bool) {
	if len(c.argv) > 3 {
		c.addError(wrongArity(c.cmd.Name))
		return
	}
	hasCount := len(c.argv) == 3
	var count int64
	if hasCount {
		n, ok := parseInt(c.argv[2])
		if !ok || n < 0 {
			c.addError(errPopCount)
			return
		}
		count = n
	}
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return
	}
	if e == nil {
		if hasCount {
			c.addNullArray()
		} else {
			c.addNull()
		}
		return
	}
	l := e.Obj.(*keyspace.List)
	if !hasCount {
		c.addBulk(listPop(l, front))
	} else {
		if count == 0 {
			c.addArrayLen(0)
			return
		}
		c.popRangeReply(l, front, count)
	}
	c.s.notify(notifyList, popEvent(front), key, c.dbIndex)
	c.listDone(key, e)
}

// popRangeReply pops up to count elements from one end and replies with
// them as an array, in pop order.
func (c *Client) popRangeReply(l *keyspace.List, front bool, count int64) {
	n := int64(l.Len())
	if count < n {
		n = count
	}
	c.addArrayLen(int(n))
	for i := int64(0); i < n; i++ {
		c.addBulk(listPop(l, front))
	}
}

// mpop pops from the first non-empty list among keys, replying
// [key, [elements]], or a null array when every key is empty. ok is false
// after an error reply. When reserve is set (a blocked client being served
// again) keys of another type are passed over, as Redis serves only keys
// that hold lists.
func (c *Client) mpop(keys [][]byte, front bool, count int64, single, reserve bool) (served, ok bool) {
	for _, key := range keys {
		e := c.lookupWrite(key)
		if e == nil {
			continue
		}
		if e.Kind() != keyspace.KindList {
			if reserve {
				continue
			}
			c.addError(errWrongType)
			return false, false
		}
		l := e.Obj.(*keyspace.List)
		if l.Len() == 0 {
			continue
		}
		c.addArrayLen(2)
		c.addBulk(key)
		// Replicas replay the pop itself, on the key that was served:
		// BLPOP/BRPOP as LPOP/RPOP, [B]LMPOP as LPOP/RPOP with the count.
		if c.s.prop.active() {
			verb := "RPOP"
			if front {
				verb = "LPOP"
			}
			if single {
				c.rewriteArgvStrings(verb, string(key))
			} else {
				c.rewriteArgvStrings(verb, string(key), strconv.FormatInt(min(count, int64(l.Len())), 10))
			}
		}
		if single {
			c.addBulk(listPop(l, front))
		} else {
			c.popRangeReply(l, front, count)
		}
		c.s.notify(notifyList, popEvent(front), key, c.dbIndex)
		c.listDone(key, e)
		return true, true
	}
	return false, true
}

// parseMpop reads LMPOP's "numkeys key [key ...] LEFT|RIGHT [COUNT n]"
// starting at argv[idx].
func (c *Client) parseMpop(idx int) (keys [][]byte, front bool, count int64, ok bool) {
	numkeys, okn := parseInt(c.argv[idx])
	if !okn || numkeys <= 0 {
		c.addError(errNumkeys)
		return nil, false, 0, false
	}
	whereIdx := int64(idx) + numkeys + 1
	if numkeys >= int64(len(c.argv)) || whereIdx >= int64(len(c.argv)) {
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	if front, ok = c.parseWhere(c.argv[whereIdx]); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(c.argv); j++ {
		if count == -1 && strings.EqualFold(string(c.argv[j]), "count") && j+1 < len(c.argv) {
			j++
			n, okc := parseInt(c.argv[j])
			if !okc || n <= 0 {
				c.addError(errMpopCount)
				return nil, false, 0, false
			}
			count = n
			continue
		}
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.argv[idx+1 : whereIdx], front, count, true
}

func lmpopCmd(c *Client) {
	keys, front, count, ok := c.parseMpop(1)
	if !ok {
		return
	}
	if served, ok := c.mpop(keys, front, count, false, false); ok && !served {
		c.addNullArray()
	}
}

// --- reads

func llenCmd(c *Client) {
	e, ok := c.lookupType(c.argv[1], keyspace.KindList, false)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(e.Obj.(*keyspace.List).Len()))
}

func lindexCmd(c *Client) {
	e, ok := c.lookupType(c.argv[1], keyspace.KindList, false)
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	idx, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	l := e.Obj.(*keyspace.List)
	n := int64(l.Len())
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		c.addNull()
		return
	}
	c.addBulk(l.Index(int(idx)))
}

// rangeBounds converts Redis start/stop arguments (negative from the end)
// into a valid [start, stop] for a list of n; empty is true when nothing
// is selected.
func rangeBounds(start, stop, n int64) (int, int, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, true
	}
	if stop >= n {
		stop = n - 1
	}
	return int(start), int(stop), false
}

func lrangeCmd(c *Client) {
	start, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	stop, ok := c.getInt(c.argv[3])
	if !ok {
		return
	}
	e, ok := c.lookupType(c.argv[1], keyspace.KindList, false)
	if !ok {
		return
	}
	if e == nil {
		c.addArrayLen(0)
		return
	}
	l := e.Obj.(*keyspace.List)
	from, to, empty := rangeBounds(start, stop, int64(l.Len()))
	if empty {
		c.addArrayLen(0)
		return
	}
	// Size the reply once: LRANGE replies are mostly short elements, and
	// growing the buffer as they are appended showed in profiles.
	need := 16
	for i := from; i <= to; i++ {
		need += len(l.Index(i)) + 16
	}
	c.out = slices.Grow(c.out, need)
	c.addArrayLen(to - from + 1)
	for i := from; i <= to; i++ {
		c.addBulk(l.Index(i))
	}
}

func lposCmd(c *Client) {
	ele := c.argv[2]
	var rank, count, maxlen int64 = 1, -1, 0
	for j := 3; j < len(c.argv); j++ {
		opt := string(c.argv[j])
		more := j+1 < len(c.argv)
		switch {
		case strings.EqualFold(opt, "rank") && more:
			j++
			n, ok := c.getInt(c.argv[j])
			if !ok {
				return
			}
			if n == 0 {
				c.addError(errLposRankZero)
				return
			}
			rank = n
		case strings.EqualFold(opt, "count") && more:
			j++
			n, ok := parseInt(c.argv[j])
			if !ok || n < 0 {
				c.addError(errLposCountNeg)
				return
			}
			count = n
		case strings.EqualFold(opt, "maxlen") && more:
			j++
			n, ok := parseInt(c.argv[j])
			if !ok || n < 0 {
				c.addError(errLposMaxlenNeg)
				return
			}
			maxlen = n
		default:
			c.addError(errSyntax)
			return
		}
	}
	fromTail := false
	if rank < 0 {
		// -MinInt64 stays negative; Redis's long arithmetic does the same
		// and still searches from the tail.
		rank = -rank
		fromTail = true
	}
	e, ok := c.lookupType(c.argv[1], keyspace.KindList, false)
	if !ok {
		return
	}
	if e == nil {
		if count != -1 {
			c.addArrayLen(0)
		} else {
			c.addNull()
		}
		return
	}
	l := e.Obj.(*keyspace.List)
	var matches, scanned int64
	var found []int64
	match := int64(-1)
	l.Range(fromTail, func(i int, v []byte) bool {
		if maxlen != 0 && scanned >= maxlen {
			return false
		}
		scanned++
		if !bytes.Equal(v, ele) {
			return true
		}
		matches++
		if matches < rank {
			return true
		}
		if count == -1 {
			match = int64(i)
			return false
		}
		found = append(found, int64(i))
		return count == 0 || matches-rank+1 < count
	})
	if count != -1 {
		c.addArrayLen(len(found))
		for _, i := range found {
			c.addInt(i)
		}
		return
	}
	if match < 0 {
		c.addNull()
		return
	}
	c.addInt(match)
}

// --- in-place writes

func lsetCmd(c *Client) {
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return
	}
	if e == nil {
		c.addError(errNoKey)
		return
	}
	idx, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	l := e.Obj.(*keyspace.List)
	n := int64(l.Len())
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		c.addError(errIndexRange)
		return
	}
	l.SetIndex(int(idx), copyBytes(c.argv[3]))
	c.addOK()
	c.s.modified(c.db, key, e)
	c.s.notify(notifyList, "lset", key, c.dbIndex)
}

func linsertCmd(c *Client) {
	var after bool
	switch w := string(c.argv[2]); {
	case strings.EqualFold(w, "after"):
		after = true
	case strings.EqualFold(w, "before"):
	default:
		c.addError(errSyntax)
		return
	}
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	l := e.Obj.(*keyspace.List)
	pivot := c.argv[3]
	at := -1
	l.Range(false, func(i int, v []byte) bool {
		if bytes.Equal(v, pivot) {
			at = i
			return false
		}
		return true
	})
	if at < 0 {
		c.addInt(-1)
		return
	}
	if after {
		at++
	}
	l.Insert(at, copyBytes(c.argv[4]))
	c.s.modified(c.db, key, e)
	c.s.notify(notifyList, "linsert", key, c.dbIndex)
	c.addInt(int64(l.Len()))
}

func ltrimCmd(c *Client) {
	start, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	stop, ok := c.getInt(c.argv[3])
	if !ok {
		return
	}
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return
	}
	if e == nil {
		c.addOK()
		return
	}
	l := e.Obj.(*keyspace.List)
	before := l.Len()
	from, to, empty := rangeBounds(start, stop, int64(l.Len()))
	if empty {
		l.Clear()
	} else {
		l.Trim(from, to)
	}
	c.s.notify(notifyList, "ltrim", key, c.dbIndex)
	if l.Len() == before {
		// Nothing trimmed: WATCHers are still touched, as in Redis, but no
		// change is counted, so nothing is propagated.
		c.s.touchWatched(c.db.ID, key)
	} else {
		c.listDone(key, e)
	}
	c.addOK()
}

func lremCmd(c *Client) {
	count, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindList, true)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	l := e.Obj.(*keyspace.List)
	// Counts beyond the list's length mean "all the matches"; clamping keeps
	// the conversion to int safe.
	if count > int64(l.Len()) {
		count = int64(l.Len())
	} else if count < -int64(l.Len()) {
		count = -int64(l.Len())
	}
	removed := l.RemoveEqual(c.argv[3], int(count))
	if removed > 0 {
		c.s.notify(notifyList, "lrem", key, c.dbIndex)
		c.listDone(key, e)
	}
	c.addInt(int64(removed))
}

// --- moves

func lmoveCmd(c *Client) {
	from, ok := c.parseWhere(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.parseWhere(c.argv[4])
	if !ok {
		return
	}
	c.lmove(c.argv[1], c.argv[2], from, to)
}

func rpoplpushCmd(c *Client) { c.lmove(c.argv[1], c.argv[2], false, true) }

// lmove pops from src and pushes onto dst, replying with the element (null
// when src is empty). Events come in Redis's order: the push on dst, then
// the pop on src, then "del" when src was emptied.
func (c *Client) lmove(src, dst []byte, from, to bool) {
	se, ok := c.lookupType(src, keyspace.KindList, true)
	if !ok {
		return
	}
	if se == nil {
		c.addNull()
		return
	}
	c.lmoveFrom(se, src, dst, from, to)
}

func (c *Client) lmoveFrom(se *keyspace.Entry, src, dst []byte, from, to bool) {
	de := c.lookupWrite(dst)
	if de != nil && de.Kind() != keyspace.KindList {
		c.addError(errWrongType)
		return
	}
	sl := se.Obj.(*keyspace.List)
	v := listPop(sl, from)
	if de == nil {
		de, _ = c.db.Add(dst)
		de.Obj = keyspace.NewList()
	}
	listPush(de.Obj.(*keyspace.List), v, to)
	c.s.modified(c.db, dst, de)
	c.s.notify(notifyList, pushEvent(to), dst, c.dbIndex)
	c.s.signalReady(c.db, dst)
	c.addBulk(v)
	c.s.notify(notifyList, popEvent(from), src, c.dbIndex)
	c.listDone(src, se)
	switch c.cmd.Name {
	case "blmove":
		wf, wt := c.argv[3], c.argv[4]
		if c.blocked != nil {
			// Served after blocking, Redis spells the ends its own way.
			wf, wt = []byte(listEndName(from)), []byte(listEndName(to))
		}
		c.rewriteArgv([]byte("LMOVE"), src, dst, wf, wt)
	case "brpoplpush":
		c.rewriteArgv([]byte("RPOPLPUSH"), src, dst)
	}
}

func listEndName(front bool) string {
	if front {
		return "left"
	}
	return "right"
}

// --- blocking

func blpopCmd(c *Client) { bpopGeneric(c, true) }
func brpopCmd(c *Client) { bpopGeneric(c, false) }

func bpopGeneric(c *Client, front bool) {
	timeout, ok := c.parseTimeout(c.argv[len(c.argv)-1])
	if !ok {
		return
	}
	c.bpop(c.argv[1:len(c.argv)-1], front, 1, true, timeout)
}

func blmpopCmd(c *Client) {
	timeout, ok := c.parseTimeout(c.argv[1])
	if !ok {
		return
	}
	keys, front, count, ok := c.parseMpop(2)
	if !ok {
		return
	}
	c.bpop(keys, front, count, false, timeout)
}

// bpop serves a blocking pop at once when a key has data, else parks the
// client (or, where it may not block, replies with a null array).
func (c *Client) bpop(keys [][]byte, front bool, count int64, single bool, timeout time.Duration) {
	served, ok := c.mpop(keys, front, count, single, c.blocked != nil)
	if !ok || served {
		return
	}
	if c.cannotBlock() {
		c.addNullArray()
		return
	}
	c.block(keys, timeout, blockedListTimeout)
}

// blockedListTimeout is the reply of every list blocking command that ran
// out of time (BLMOVE too): a null array, as Redis 7.0 sends.
func blockedListTimeout(c *Client) { c.addNullArray() }

func blmoveCmd(c *Client) {
	from, ok := c.parseWhere(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.parseWhere(c.argv[4])
	if !ok {
		return
	}
	timeout, ok := c.parseTimeout(c.argv[5])
	if !ok {
		return
	}
	c.blmove(from, to, timeout)
}

func brpoplpushCmd(c *Client) {
	timeout, ok := c.parseTimeout(c.argv[3])
	if !ok {
		return
	}
	c.blmove(false, true, timeout)
}

func (c *Client) blmove(from, to bool, timeout time.Duration) {
	src, dst := c.argv[1], c.argv[2]
	se := c.lookupWrite(src)
	if se != nil && se.Kind() != keyspace.KindList {
		if c.blocked != nil {
			// Being served again, but src now holds another type: Redis
			// only serves keys holding lists, so keep waiting.
			c.block([][]byte{src}, timeout, blockedListTimeout)
			return
		}
		c.addError(errWrongType)
		return
	}
	if se == nil {
		if c.cannotBlock() {
			c.addNull()
			return
		}
		c.block([][]byte{src}, timeout, blockedListTimeout)
		return
	}
	c.lmoveFrom(se, src, dst, from, to)
}
