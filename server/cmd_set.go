package server

import (
	"bytes"
	"sort"
	"strings"

	"github.com/fluidb/fluidb/server/keyspace"
)

// Set commands (Redis's t_set.c).

const (
	errNumkeysPositive = "ERR numkeys should be greater than 0"
	errNumkeysTooMany  = "ERR Number of keys can't be greater than number of args"
	errLimitNegative   = "ERR LIMIT can't be negative"
)

func registerSetCommands(t table) {
	k1 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 1, 1, "set"
		return cmd
	}
	all := func(cmd *Command, first int) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = first, -1, 1, "set"
		return cmd
	}
	t.add(
		k1(&Command{Name: "sadd", Proc: saddCmd, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast}),
		k1(&Command{Name: "srem", Proc: sremCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "scard", Proc: scardCmd, Arity: 2, Flags: FlagReadonly | FlagFast}),
		k1(&Command{Name: "sismember", Proc: sismemberCmd, Arity: 3, Flags: FlagReadonly | FlagFast}),
		k1(&Command{Name: "smismember", Proc: smismemberCmd, Arity: -3, Flags: FlagReadonly | FlagFast}),
		k1(&Command{Name: "smembers", Proc: smembersCmd, Arity: 2, Flags: FlagReadonly}),
		k1(&Command{Name: "srandmember", Proc: srandmemberCmd, Arity: -2, Flags: FlagReadonly}),
		k1(&Command{Name: "spop", Proc: spopCmd, Arity: -2, Flags: FlagWrite | FlagFast}),
		&Command{Name: "smove", Proc: smoveCmd, Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Group: "set"},
		all(&Command{Name: "sinter", Proc: sinterCmd, Arity: -2, Flags: FlagReadonly}, 1),
		&Command{Name: "sintercard", Proc: sintercardCmd, Arity: -3, Flags: FlagReadonly, KeysFn: sintercardKeys, Group: "set"},
		all(&Command{Name: "sinterstore", Proc: sinterstoreCmd, Arity: -3, Flags: FlagWrite | FlagDenyOOM}, 1),
		all(&Command{Name: "sunion", Proc: sunionCmd, Arity: -2, Flags: FlagReadonly}, 1),
		all(&Command{Name: "sunionstore", Proc: sunionstoreCmd, Arity: -3, Flags: FlagWrite | FlagDenyOOM}, 1),
		all(&Command{Name: "sdiff", Proc: sdiffCmd, Arity: -2, Flags: FlagReadonly}, 1),
		all(&Command{Name: "sdiffstore", Proc: sdiffstoreCmd, Arity: -3, Flags: FlagWrite | FlagDenyOOM}, 1),
		k1(&Command{Name: "sscan", Proc: sscanCmd, Arity: -3, Flags: FlagReadonly}),
	)
}

// sintercardKeys: SINTERCARD numkeys key [key ...] [LIMIT limit].
func sintercardKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	n, ok := parseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	out := make([]int, 0, n)
	for i := 2; i < 2+int(n); i++ {
		out = append(out, i)
	}
	return out
}

func (c *Client) maxIntset() int64 { return c.s.cfg.SetMaxIntsetEntries }

// setLookup returns the set at key, nil when missing; ok is false after a
// WRONGTYPE reply.
func (c *Client) setLookup(key []byte, write bool) (*keyspace.Entry, *keyspace.Set, bool) {
	e, ok := c.lookupType(key, keyspace.KindSet, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*keyspace.Set), true
}

// addSetMembers replies with a whole set (a RESP3 set).
func (c *Client) addSetMembers(s *keyspace.Set) {
	c.addSetLen(s.Len())
	s.Each(func(m string) bool { c.addBulkString(m); return true })
}

func saddCmd(c *Client) {
	key := c.argv[1]
	e, s, ok := c.setLookup(key, true)
	if !ok {
		return
	}
	if e == nil {
		s = keyspace.NewSet()
		e = c.hsReplaceKey(key, s)
	}
	added := 0
	for _, m := range c.argv[2:] {
		if s.Add(m, c.maxIntset()) {
			added++
		}
	}
	if added > 0 {
		c.s.modified(c.db, key, e)
		c.s.notify(notifySet, "sadd", key, c.dbIndex)
	}
	c.addInt(int64(added))
}

func sremCmd(c *Client) {
	key := c.argv[1]
	e, s, ok := c.setLookup(key, true)
	if !ok {
		return
	}
	if s == nil {
		c.addInt(0)
		return
	}
	deleted, removed := 0, false
	for _, m := range c.argv[2:] {
		if s.Remove(m) {
			deleted++
			if s.Len() == 0 {
				removed = true
				break
			}
		}
	}
	if deleted > 0 {
		if removed {
			c.hsDeleteKey(key)
		} else {
			c.s.modified(c.db, key, e)
		}
		c.s.notify(notifySet, "srem", key, c.dbIndex)
		if removed {
			c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		}
	}
	c.addInt(int64(deleted))
}

func scardCmd(c *Client) {
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(s.Len()))
}

func sismemberCmd(c *Client) {
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s != nil && s.Has(c.argv[2]) {
		c.addInt(1)
		return
	}
	c.addInt(0)
}

func smismemberCmd(c *Client) {
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	c.addArrayLen(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		if s != nil && s.Has(m) {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
	}
}

func smembersCmd(c *Client) {
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.addSetLen(0)
		return
	}
	c.addSetMembers(s)
}

func srandmemberCmd(c *Client) {
	if len(c.argv) == 3 {
		srandmemberWithCount(c)
		return
	} else if len(c.argv) > 3 {
		c.addError(errSyntax)
		return
	}
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.addNull()
		return
	}
	c.addBulkString(s.Random(c.s.randUint64))
}

func srandmemberWithCount(c *Client) {
	n, ok := c.hrandParseCount(c.argv[2])
	if !ok {
		return
	}
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil || n == 0 {
		c.addArrayLen(0)
		return
	}
	count := uint64(n)
	uniq := true
	if n < 0 {
		count, uniq = uint64(-n), false
	}
	size := uint64(s.Len())
	// Repeats allowed: independent picks.
	if !uniq || count == 1 {
		c.addArrayLen(int(count))
		for ; count > 0; count-- {
			c.addBulkString(s.Random(c.s.randUint64))
			if c.flags&flagCloseASAP != 0 {
				break
			}
		}
		return
	}
	if count >= size {
		c.addArrayLen(int(size))
		s.Each(func(m string) bool { c.addBulkString(m); return true })
		return
	}
	c.addArrayLen(int(count))
	if count*hrandSubStrategyMul > size {
		// Take everything, then drop random members down to count.
		all := s.Members()
		for uint64(len(all)) > count {
			i := c.s.randUint64() % uint64(len(all))
			all[i] = all[len(all)-1]
			all = all[:len(all)-1]
		}
		for _, m := range all {
			c.addBulkString(m)
		}
		return
	}
	seen := make(map[string]struct{}, count)
	for uint64(len(seen)) < count {
		m := s.Random(c.s.randUint64)
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		c.addBulkString(m)
	}
}

func spopCmd(c *Client) {
	if len(c.argv) == 3 {
		spopWithCount(c)
		return
	} else if len(c.argv) > 3 {
		c.addError(errSyntax)
		return
	}
	key := c.argv[1]
	e, s, ok := c.setLookup(key, true)
	if !ok {
		return
	}
	if s == nil {
		c.addNull()
		return
	}
	m := s.Random(c.s.randUint64)
	s.Remove([]byte(m))
	c.s.notify(notifySet, "spop", key, c.dbIndex)
	c.rewriteArgvStrings("SREM", string(key), m) // the pick is random: replay its outcome
	c.addBulkString(m)
	if s.Len() == 0 {
		c.hsDeleteKey(key)
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		return
	}
	c.s.modified(c.db, key, e)
}

// spopMoveStrategyMul: when fewer than count/5 members would remain, SPOP
// picks the survivors instead of the victims.
const spopMoveStrategyMul = 5

func spopWithCount(c *Client) {
	// Redis parses the count with getPositiveLongFromObjectOrReply: a
	// non-number gets the same "must be positive" error.
	n, ok := parseInt(c.argv[2])
	if !ok {
		c.addError(errMustPositive)
		return
	}
	if n < 0 {
		c.addError(errMustPositive)
		return
	}
	key := c.argv[1]
	e, s, ok := c.setLookup(key, true)
	if !ok {
		return
	}
	if s == nil || n == 0 {
		c.addSetLen(0)
		return
	}
	count := uint64(n)
	size := uint64(s.Len())
	c.s.notify(notifySet, "spop", key, c.dbIndex)
	if count >= size {
		c.addSetMembers(s)
		c.hsDeleteKey(key)
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		c.rewriteArgvStrings("DEL", string(key))
		return
	}
	// The picks are random: replicas get one SREM per popped member (Redis
	// 7.0 sends them one by one, wrapped in MULTI/EXEC), not the SPOP.
	srem := func(m string) {
		if c.s.prop.active() {
			c.s.alsoPropagate(c.dbIndex, []byte("SREM"), key, []byte(m))
		}
	}
	c.addSetLen(int(count))
	remaining := size - count
	if remaining*spopMoveStrategyMul > count {
		for ; count > 0; count-- {
			m := s.Random(c.s.randUint64)
			c.addBulkString(m)
			s.Remove([]byte(m))
			srem(m)
		}
	} else {
		// Move the survivors to a new set (whose encoding follows from its
		// members, as in Redis) and return what is left in the old one.
		ns := keyspace.NewSet()
		for ; remaining > 0; remaining-- {
			m := []byte(s.Random(c.s.randUint64))
			ns.Add(m, c.maxIntset())
			s.Remove(m)
		}
		s.Each(func(m string) bool { c.addBulkString(m); srem(m); return true })
		e.Obj = ns
	}
	c.preventPropagation()
	c.s.modified(c.db, key, e)
}

func smoveCmd(c *Client) {
	srcKey, dstKey, member := c.argv[1], c.argv[2], c.argv[3]
	srcE := c.lookupWrite(srcKey)
	dstE := c.lookupWrite(dstKey)
	if srcE == nil {
		c.addInt(0)
		return
	}
	if srcE.Kind() != keyspace.KindSet || (dstE != nil && dstE.Kind() != keyspace.KindSet) {
		c.addError(errWrongType)
		return
	}
	src := srcE.Obj.(*keyspace.Set)
	if bytes.Equal(srcKey, dstKey) {
		if src.Has(member) {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
		return
	}
	if !src.Remove(member) {
		c.addInt(0)
		return
	}
	c.s.notify(notifySet, "srem", srcKey, c.dbIndex)
	if src.Len() == 0 {
		c.hsDeleteKey(srcKey)
		c.s.notify(notifyGeneric, "del", srcKey, c.dbIndex)
	} else {
		c.s.modified(c.db, srcKey, srcE)
	}
	var dst *keyspace.Set
	if dstE == nil {
		dst = keyspace.NewSet()
		dstE = c.hsReplaceKey(dstKey, dst)
	} else {
		dst = dstE.Obj.(*keyspace.Set)
	}
	// Only a real addition touches the destination (WATCH relies on it).
	if dst.Add(member, c.maxIntset()) {
		c.s.modified(c.db, dstKey, dstE)
		c.s.notify(notifySet, "sadd", dstKey, c.dbIndex)
	}
	c.addInt(1)
}

// setsLookup reads the sets named by keys (nil for a missing key); ok is
// false after a WRONGTYPE reply.
func (c *Client) setsLookup(keys [][]byte) ([]*keyspace.Set, bool) {
	sets := make([]*keyspace.Set, len(keys))
	for i, k := range keys {
		_, s, ok := c.setLookup(k, false)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// setStoreResult is the end of every *STORE variant: the destination gets
// the result, or is deleted when the result is empty.
func (c *Client) setStoreResult(dst []byte, res *keyspace.Set, event string) {
	if res != nil && res.Len() > 0 {
		e := c.hsReplaceKey(dst, res)
		c.s.modified(c.db, dst, e)
		c.addInt(int64(res.Len()))
		c.s.notify(notifySet, event, dst, c.dbIndex)
		return
	}
	c.addInt(0)
	if c.lookupWrite(dst) != nil {
		c.hsDeleteKey(dst)
		c.s.notify(notifyGeneric, "del", dst, c.dbIndex)
	}
}

func sinterCmd(c *Client)      { sinterGeneric(c, c.argv[1:], nil, false, 0) }
func sinterstoreCmd(c *Client) { sinterGeneric(c, c.argv[2:], c.argv[1], false, 0) }

func sintercardCmd(c *Client) {
	n, ok := parseInt(c.argv[1])
	if !ok || n < 1 {
		c.addError(errNumkeysPositive)
		return
	}
	if n > int64(len(c.argv)-2) {
		c.addError(errNumkeysTooMany)
		return
	}
	var limit int64
	for j := 2 + int(n); j < len(c.argv); j++ {
		more := j < len(c.argv)-1
		if strings.EqualFold(string(c.argv[j]), "limit") && more {
			j++
			l, ok := parseInt(c.argv[j])
			if !ok || l < 0 {
				c.addError(errLimitNegative)
				return
			}
			limit = l
		} else {
			c.addError(errSyntax)
			return
		}
	}
	sinterGeneric(c, c.argv[2:2+int(n)], nil, true, limit)
}

// sinterGeneric is SINTER, SINTERSTORE (dst != nil) and SINTERCARD
// (cardOnly, stopping at limit when limit > 0).
func sinterGeneric(c *Client, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, ok := c.setsLookup(keys)
	if !ok {
		return
	}
	for _, s := range sets {
		if s == nil {
			// Intersecting with an empty set: nothing to compute.
			switch {
			case dst != nil:
				c.setStoreResult(dst, nil, "")
			case cardOnly:
				c.addInt(0)
			default:
				c.addSetLen(0)
			}
			return
		}
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].Len() < sets[j].Len() })
	var res []string
	var card int64
	sets[0].Each(func(m string) bool {
		for _, o := range sets[1:] {
			if o != sets[0] && o.Get(m) == nil {
				return true
			}
		}
		card++
		if !cardOnly {
			res = append(res, m)
		}
		return !(cardOnly && limit > 0 && card >= limit)
	})
	switch {
	case cardOnly:
		c.addInt(card)
	case dst != nil:
		out := keyspace.NewSet()
		for _, m := range res {
			out.Add([]byte(m), c.maxIntset())
		}
		c.setStoreResult(dst, out, "sinterstore")
	default:
		c.addSetLen(len(res))
		for _, m := range res {
			c.addBulkString(m)
		}
	}
}

const (
	setOpUnion = iota
	setOpDiff
)

func sunionCmd(c *Client)      { sunionDiffGeneric(c, c.argv[1:], nil, setOpUnion) }
func sunionstoreCmd(c *Client) { sunionDiffGeneric(c, c.argv[2:], c.argv[1], setOpUnion) }
func sdiffCmd(c *Client)       { sunionDiffGeneric(c, c.argv[1:], nil, setOpDiff) }
func sdiffstoreCmd(c *Client)  { sunionDiffGeneric(c, c.argv[2:], c.argv[1], setOpDiff) }

// sunionDiffGeneric is SUNION, SDIFF and their STORE variants. The result
// is built as a set starting out as an intset, like Redis's, so the stored
// encoding and the reply order match Redis's.
func sunionDiffGeneric(c *Client, keys [][]byte, dst []byte, op int) {
	sets, ok := c.setsLookup(keys)
	if !ok {
		return
	}
	max := c.maxIntset()
	res := keyspace.NewSet()
	switch op {
	case setOpUnion:
		for _, s := range sets {
			if s == nil {
				continue
			}
			s.Each(func(m string) bool { res.Add([]byte(m), max); return true })
		}
	case setOpDiff:
		first := sets[0]
		if first == nil {
			break
		}
		for _, s := range sets[1:] {
			if s == first {
				// Subtracting the set from itself.
				first = nil
				break
			}
		}
		if first == nil {
			break
		}
		// Redis picks between two algorithms by expected work; they build
		// the result differently, which can show in its encoding.
		var one, two int
		for _, s := range sets {
			if s != nil {
				one += first.Len()
				two += s.Len()
			}
		}
		if one/2 <= two {
			others := append([]*keyspace.Set(nil), sets[1:]...)
			sort.SliceStable(others, func(i, j int) bool { return setLen(others[i]) > setLen(others[j]) })
			first.Each(func(m string) bool {
				for _, o := range others {
					if o != nil && o.Get(m) != nil {
						return true
					}
				}
				res.Add([]byte(m), max)
				return true
			})
		} else {
			for i, s := range sets {
				if s == nil {
					continue
				}
				s.Each(func(m string) bool {
					if i == 0 {
						res.Add([]byte(m), max)
					} else {
						res.Remove([]byte(m))
					}
					return true
				})
				if res.Len() == 0 {
					break
				}
			}
		}
	}
	if dst != nil {
		event := "sunionstore"
		if op == setOpDiff {
			event = "sdiffstore"
		}
		c.setStoreResult(dst, res, event)
		return
	}
	c.addSetMembers(res)
}

func setLen(s *keyspace.Set) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

func sscanCmd(c *Client) {
	cursor, ok := hsParseCursor(c.argv[2])
	if !ok {
		c.addError(errBadCursor)
		return
	}
	_, s, ok := c.setLookup(c.argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.hsReplyScan(0, nil)
		return
	}
	o, ok := c.hsParseScanOptions(c.argv[3:])
	if !ok {
		return
	}
	var items []string
	if !s.Big {
		// An intset is small: all of it at once, like Redis.
		s.Each(func(m string) bool {
			if o.keep(m) {
				items = append(items, m)
			}
			return true
		})
		c.hsReplyScan(0, items)
		return
	}
	maxIter := o.count * 10
	seen := int64(0)
	for {
		cursor = s.Scan(cursor, func(m string, _ *struct{}) {
			seen++
			if o.keep(m) {
				items = append(items, m)
			}
		})
		if cursor == 0 || maxIter == 0 || seen >= o.count {
			break
		}
		maxIter--
	}
	c.hsReplyScan(cursor, items)
}
