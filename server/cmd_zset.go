package server

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/keyspace"
)

// Sorted set commands (Redis's t_zset.c).

const (
	errZMinMaxFloat  = "ERR min or max is not a float"
	errZLexRange     = "ERR min or max not valid string range item"
	errZWeight       = "ERR weight value is not a float"
	errZPositive     = "ERR value is out of range, must be positive"
	errZNumkeys      = "ERR numkeys should be greater than 0"
	errZCount        = "ERR count should be greater than 0"
	errZLimitNeg     = "ERR LIMIT can't be negative"
	errZOutOfRange   = "ERR value is out of range"
	errZXXNX         = "ERR XX and NX options at the same time are not compatible"
	errZGTLTNX       = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZIncrPair     = "ERR INCR option supports a single increment-element pair"
	errZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZScoresBylex  = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errInvalidCursor = "ERR invalid cursor"
)

func registerZSetCommands(t table) {
	w := FlagWrite | FlagDenyOOM
	ro := FlagReadonly
	one := func(name string, proc func(*Client), arity int, flags CmdFlag) *Command {
		return &Command{Name: name, Proc: proc, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "sortedset"}
	}
	t.add(
		one("zadd", zaddCmd, -4, w|FlagFast),
		one("zincrby", zincrbyCmd, 4, w|FlagFast),
		one("zrem", zremCmd, -3, FlagWrite|FlagFast),
		one("zcard", zcardCmd, 2, ro|FlagFast),
		one("zscore", zscoreCmd, 3, ro|FlagFast),
		one("zmscore", zmscoreCmd, -3, ro|FlagFast),
		one("zrank", zrankCmd, 3, ro|FlagFast),
		one("zrevrank", zrevrankCmd, 3, ro|FlagFast),
		one("zcount", zcountCmd, 4, ro|FlagFast),
		one("zlexcount", zlexcountCmd, 4, ro|FlagFast),
		one("zrange", zrangeCmd, -4, ro),
		&Command{Name: "zrangestore", Proc: zrangestoreCmd, Arity: -5, Flags: w, FirstKey: 1, LastKey: 2, Step: 1, Group: "sortedset"},
		one("zrevrange", zrevrangeCmd, -4, ro),
		one("zrangebyscore", zrangebyscoreCmd, -4, ro),
		one("zrevrangebyscore", zrevrangebyscoreCmd, -4, ro),
		one("zrangebylex", zrangebylexCmd, -4, ro),
		one("zrevrangebylex", zrevrangebylexCmd, -4, ro),
		one("zremrangebyrank", zremrangebyrankCmd, 4, FlagWrite),
		one("zremrangebyscore", zremrangebyscoreCmd, 4, FlagWrite),
		one("zremrangebylex", zremrangebylexCmd, 4, FlagWrite),
		&Command{Name: "zunion", Proc: zunionCmd, Arity: -3, Flags: ro, KeysFn: zNumkeysKeys(1, false), Group: "sortedset"},
		&Command{Name: "zinter", Proc: zinterCmd, Arity: -3, Flags: ro, KeysFn: zNumkeysKeys(1, false), Group: "sortedset"},
		&Command{Name: "zdiff", Proc: zdiffCmd, Arity: -3, Flags: ro, KeysFn: zNumkeysKeys(1, false), Group: "sortedset"},
		&Command{Name: "zintercard", Proc: zintercardCmd, Arity: -3, Flags: ro, KeysFn: zNumkeysKeys(1, false), Group: "sortedset"},
		&Command{Name: "zunionstore", Proc: zunionstoreCmd, Arity: -4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: zNumkeysKeys(2, true), Group: "sortedset"},
		&Command{Name: "zinterstore", Proc: zinterstoreCmd, Arity: -4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: zNumkeysKeys(2, true), Group: "sortedset"},
		&Command{Name: "zdiffstore", Proc: zdiffstoreCmd, Arity: -4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: zNumkeysKeys(2, true), Group: "sortedset"},
		one("zpopmin", zpopminCmd, -2, FlagWrite|FlagFast),
		one("zpopmax", zpopmaxCmd, -2, FlagWrite|FlagFast),
		&Command{Name: "zmpop", Proc: zmpopCmd, Arity: -4, Flags: FlagWrite, KeysFn: zNumkeysKeys(1, false), Group: "sortedset"},
		&Command{Name: "bzpopmin", Proc: bzpopminCmd, Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, Group: "sortedset"},
		&Command{Name: "bzpopmax", Proc: bzpopmaxCmd, Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, Group: "sortedset"},
		&Command{Name: "bzmpop", Proc: bzmpopCmd, Arity: -5, Flags: FlagWrite | FlagBlocking, KeysFn: zNumkeysKeys(2, false), Group: "sortedset"},
		one("zrandmember", zrandmemberCmd, -2, ro),
		one("zscan", zscanCmd, -3, ro),
	)
}

// zNumkeysKeys returns a KeysFn for commands whose keys follow a numkeys
// argument at position idx (the key before it too when withDest).
func zNumkeysKeys(idx int, withDest bool) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		var out []int
		if withDest && len(args) > 1 {
			out = append(out, 1)
		}
		if idx >= len(args) {
			return out
		}
		n, ok := parseInt(args[idx])
		if !ok || n < 1 {
			return out
		}
		for i := idx + 1; i <= idx+int(n) && i < len(args); i++ {
			out = append(out, i)
		}
		return out
	}
}

// ---- argument parsing ----

func zIsSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// zStrtod converts s the way C's zStrtod does when the caller insists the
// whole string be consumed: it returns the value, whether every byte was
// consumed, and whether the result over- or underflowed.
func zStrtod(s string) (f float64, full bool, erange bool) {
	if s == "" {
		// zStrtod converts nothing, and the end pointer sits on the NUL.
		return 0, true, false
	}
	t := s
	for len(t) > 0 && zIsSpace(t[0]) {
		t = t[1:]
	}
	if t == "" || strings.ContainsRune(t, '_') {
		return 0, false, false
	}
	body := t
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		t += "p0"
	}
	if strings.HasPrefix(strings.ToLower(body), "nan") {
		return math.NaN(), strings.EqualFold(body, "nan"), false
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true, true
		}
		return 0, false, false
	}
	if v == 0 && strings.ContainsAny(zMantissa(body), "123456789") {
		return v, true, true
	}
	return v, true, false
}

// zMantissa is the part of a number before its exponent.
func zMantissa(s string) string {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if i := strings.IndexAny(s, "pP"); i >= 0 {
			return s[2:i]
		}
		return s[2:]
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}

// zParseScore reads a score or weight as Redis's getDoubleFromObject: no
// empty strings, no leading space, no NaN, no overflow.
func zParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || zIsSpace(b[0]) {
		return 0, false
	}
	f, full, erange := zStrtod(string(b))
	if !full || f != f {
		return 0, false
	}
	if erange && (math.IsInf(f, 0) || f == 0) {
		return 0, false
	}
	return f, true
}

// zParseRangeEnd reads one end of a score range: "(" makes it exclusive.
func zParseRangeEnd(b []byte) (v float64, ex bool, ok bool) {
	s := string(b)
	if len(s) > 0 && s[0] == '(' {
		s, ex = s[1:], true
	}
	f, full, _ := zStrtod(s)
	if !full || f != f {
		return 0, false, false
	}
	return f, ex, true
}

func zParseScoreRange(min, max []byte) (keyspace.ScoreRange, bool) {
	var r keyspace.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = zParseRangeEnd(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = zParseRangeEnd(max); !ok {
		return r, false
	}
	return r, true
}

func zParseLexBound(b []byte) (keyspace.LexBound, bool) {
	if len(b) == 0 {
		return keyspace.LexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) != 1 {
			return keyspace.LexBound{}, false
		}
		if b[0] == '+' {
			return keyspace.LexBound{Inf: 1, Ex: true}, true
		}
		return keyspace.LexBound{Inf: -1, Ex: true}, true
	case '(':
		return keyspace.LexBound{S: string(b[1:]), Ex: true}, true
	case '[':
		return keyspace.LexBound{S: string(b[1:])}, true
	}
	return keyspace.LexBound{}, false
}

func zParseLexRange(min, max []byte) (keyspace.LexRange, bool) {
	var r keyspace.LexRange
	var ok bool
	if r.Min, ok = zParseLexBound(min); !ok {
		return r, false
	}
	if r.Max, ok = zParseLexBound(max); !ok {
		return r, false
	}
	return r, true
}

// zGetLong parses an integer, replying msg (or the standard error).
func (c *Client) zGetLong(b []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = errNotInt
	}
	return c.getIntMsg(b, msg)
}

// zGetPositive is Redis's getPositiveLongFromObjectOrReply.
func (c *Client) zGetPositive(b []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = errZPositive
	}
	return c.zGetRange(b, 0, math.MaxInt64, msg)
}

// zGetRange is Redis's getRangeLongFromObjectOrReply.
func (c *Client) zGetRange(b []byte, min, max int64, msg string) (int64, bool) {
	n, ok := c.zGetLong(b, msg)
	if !ok {
		return 0, false
	}
	if n < min || n > max {
		if msg == "" {
			msg = "ERR value is out of range, value must between " + strconv.FormatInt(min, 10) + " and " + strconv.FormatInt(max, 10)
		}
		c.addError(msg)
		return 0, false
	}
	return n, true
}

// ---- encoding and the generic add ----

// zsetBig says whether a set of n members, the longest maxLen bytes, is a
// skiplist in Redis (the listpack limits).
func (s *Server) zsetBig(n, maxLen int) bool {
	return int64(n) > s.cfg.ZsetMaxListpackEntries || int64(maxLen) > s.cfg.ZsetMaxListpackValue
}

const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddIncr
)

const (
	zaddOutNaN = 1 << iota
	zaddOutNop
	zaddOutAdded
	zaddOutUpdated
)

// zsetAdd adds or updates one member as Redis's zsetAdd, converting the
// encoding when a new member passes the listpack limits.
func (s *Server) zsetAdd(z *keyspace.ZSet, score float64, member []byte, flags int) (int, float64) {
	if score != score {
		return zaddOutNaN, 0
	}
	stored := func(f float64) float64 {
		// A listpack keeps -0 as the integer 0.
		if f == 0 && !z.Big {
			return 0
		}
		return f
	}
	if cur, ok := z.Score(member); ok {
		if flags&zaddNX != 0 {
			return zaddOutNop, cur
		}
		if flags&zaddIncr != 0 {
			score += cur
			if score != score {
				return zaddOutNaN, 0
			}
		}
		if (flags&zaddLT != 0 && score >= cur) || (flags&zaddGT != 0 && score <= cur) {
			return zaddOutNop, cur
		}
		if score != cur {
			k, _ := z.Dict.KeyOf(member)
			z.Update(k, cur, stored(score))
			return zaddOutUpdated, score
		}
		return 0, score
	}
	if flags&zaddXX != 0 {
		return zaddOutNop, 0
	}
	if !z.Big && (int64(z.Len()+1) > s.cfg.ZsetMaxListpackEntries || int64(len(member)) > s.cfg.ZsetMaxListpackValue) {
		z.Big = true
	}
	z.Insert(string(member), stored(score))
	return zaddOutAdded, score
}

// zsetOf returns the sorted set of a zset entry.
func zsetOf(e *keyspace.Entry) *keyspace.ZSet { return e.Obj.(*keyspace.ZSet) }

// zStore replaces dst with z (or deletes dst when z is empty), with
// the event Redis sends. It replies the new cardinality.
func (c *Client) zStore(dst []byte, z *keyspace.ZSet, event string) {
	if z.Len() == 0 {
		c.addInt(0)
		if c.lookupWrite(dst) != nil {
			c.db.Delete(dst)
			c.s.modified(c.db, dst, nil)
			c.s.notify(notifyGeneric, "del", dst, c.dbIndex)
		}
		return
	}
	if !z.Big {
		// A listpack keeps -0 as the integer 0.
		for n := z.First(); n != nil; n = n.Next() {
			if n.Score == 0 {
				n.Score = 0
				*z.Dict.Get(n.Member) = 0
			}
		}
	}
	c.lookupWrite(dst) // expire a stale dst first, as Redis's lookup does
	c.db.Delete(dst)
	e, _ := c.db.Add(dst)
	e.Obj = z
	c.s.modified(c.db, dst, e)
	c.s.signalReady(c.db, dst)
	c.addInt(int64(z.Len()))
	c.s.notify(notifyZSet, event, dst, c.dbIndex)
}

// zDeleteIfEmpty removes a sorted set left empty; the caller sends "del".
func (c *Client) zDeleteIfEmpty(key []byte, z *keyspace.ZSet) bool {
	if z.Len() > 0 {
		return false
	}
	c.db.Delete(key)
	return true
}

// ---- ZADD, ZINCRBY, ZREM ----

func zaddCmd(c *Client)    { c.zaddGeneric(0) }
func zincrbyCmd(c *Client) { c.zaddGeneric(zaddIncr) }

func (c *Client) zaddGeneric(flags int) {
	key := c.argv[1]
	ch := false
	i := 2
	for ; i < len(c.argv); i++ {
		switch strings.ToLower(string(c.argv[i])) {
		case "nx":
			flags |= zaddNX
		case "xx":
			flags |= zaddXX
		case "ch":
			ch = true
		case "incr":
			flags |= zaddIncr
		case "gt":
			flags |= zaddGT
		case "lt":
			flags |= zaddLT
		default:
			goto done
		}
	}
done:
	elems := len(c.argv) - i
	if elems == 0 || elems%2 != 0 {
		c.addError(errSyntax)
		return
	}
	elems /= 2
	nx, xx, gt, lt := flags&zaddNX != 0, flags&zaddXX != 0, flags&zaddGT != 0, flags&zaddLT != 0
	if nx && xx {
		c.addError(errZXXNX)
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.addError(errZGTLTNX)
		return
	}
	incr := flags&zaddIncr != 0
	if incr && elems > 1 {
		c.addError(errZIncrPair)
		return
	}
	scores := make([]float64, elems)
	for j := range scores {
		f, ok := zParseScore(c.argv[i+2*j])
		if !ok {
			c.addError(errNotFloat)
			return
		}
		scores[j] = f
	}
	e, ok := c.lookupType(key, keyspace.KindZSet, true)
	if !ok {
		return
	}
	added, updated, processed := 0, 0, 0
	var score float64
	created := false
	if e == nil && !xx {
		z := keyspace.NewZSet()
		if c.s.cfg.ZsetMaxListpackEntries == 0 || c.s.cfg.ZsetMaxListpackValue < int64(len(c.argv[i+1])) {
			z.Big = true
		}
		e, _ = c.db.Add(key)
		e.Obj = z
		created = true
	}
	nanErr := false
	if e != nil {
		z := zsetOf(e)
		for j := 0; j < elems; j++ {
			out, ns := c.s.zsetAdd(z, scores[j], c.argv[i+2*j+1], flags)
			if out&zaddOutNaN != 0 {
				nanErr = true
				break
			}
			if out&zaddOutAdded != 0 {
				added++
			}
			if out&zaddOutUpdated != 0 {
				updated++
			}
			if out&zaddOutNop == 0 {
				processed++
			}
			score = ns
		}
		if created && z.Len() == 0 {
			c.db.Delete(key)
			e = nil
		}
	}
	if nanErr {
		c.addError(errNaN)
	} else if incr {
		if processed > 0 {
			c.addDouble(score)
		} else {
			c.addNull()
		}
	} else if ch {
		c.addInt(int64(added + updated))
	} else {
		c.addInt(int64(added))
	}
	if added+updated > 0 {
		c.s.modified(c.db, key, e)
		if added > 0 {
			c.s.signalReady(c.db, key)
		}
		ev := "zadd"
		if incr {
			ev = "zincr"
		}
		c.s.notify(notifyZSet, ev, key, c.dbIndex)
	}
}

func zremCmd(c *Client) {
	key := c.argv[1]
	e, ok := c.lookupType(key, keyspace.KindZSet, true)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	z := zsetOf(e)
	deleted := 0
	removed := false
	for _, m := range c.argv[2:] {
		if z.Delete(m) {
			deleted++
		}
		if z.Len() == 0 {
			c.db.Delete(key)
			removed = true
			break
		}
	}
	if deleted > 0 {
		if removed {
			e = nil
		}
		c.s.modified(c.db, key, e)
		c.s.notify(notifyZSet, "zrem", key, c.dbIndex)
		if removed {
			c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		}
	}
	c.addInt(int64(deleted))
}

// ---- simple reads ----

// zRead looks key up for reading: z is nil when the key is missing;
// ok is false after a WRONGTYPE reply.
func (c *Client) zRead(key []byte) (*keyspace.ZSet, bool) {
	e, ok := c.lookupType(key, keyspace.KindZSet, false)
	if !ok || e == nil {
		return nil, ok
	}
	return zsetOf(e), true
}

func zcardCmd(c *Client) {
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(z.Len()))
}

func zscoreCmd(c *Client) {
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	if f, ok := z.Score(c.argv[2]); ok {
		c.addDouble(f)
	} else {
		c.addNull()
	}
}

func zmscoreCmd(c *Client) {
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	c.addArrayLen(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		if z != nil {
			if f, ok := z.Score(m); ok {
				c.addDouble(f)
				continue
			}
		}
		c.addNull()
	}
}

func zrankCmd(c *Client)    { c.zrankGeneric(false) }
func zrevrankCmd(c *Client) { c.zrankGeneric(true) }

func (c *Client) zrankGeneric(rev bool) {
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	r, ok := z.Rank(c.argv[2])
	if !ok {
		c.addNull()
		return
	}
	if rev {
		r = z.Len() - 1 - r
	}
	c.addInt(int64(r))
}

func zcountCmd(c *Client) {
	r, ok := zParseScoreRange(c.argv[2], c.argv[3])
	if !ok {
		c.addError(errZMinMaxFloat)
		return
	}
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	first := z.FirstInRange(r)
	if first == nil {
		c.addInt(0)
		return
	}
	last := z.LastInRange(r)
	c.addInt(int64(z.RankOfNode(last) - z.RankOfNode(first) + 1))
}

func zlexcountCmd(c *Client) {
	r, ok := zParseLexRange(c.argv[2], c.argv[3])
	if !ok {
		c.addError(errZLexRange)
		return
	}
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	first := z.FirstInLexRange(r)
	if first == nil {
		c.addInt(0)
		return
	}
	last := z.LastInLexRange(r)
	c.addInt(int64(z.RankOfNode(last) - z.RankOfNode(first) + 1))
}

// ---- ZRANGE family ----

type zrangeKind int

const (
	zrangeAuto zrangeKind = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir int

const (
	zDirAuto zrangeDir = iota
	zDirForward
	zDirReverse
)

// zitem is one member of a range result.
type zitem struct {
	member string
	score  float64
}

// zReply replies a list of members, with their scores when withScores:
// flat in RESP2, [member, score] pairs in RESP3, as Redis 7.0 does.
func (c *Client) zReply(items []zitem, withScores bool) {
	if withScores && c.proto == 2 {
		c.addArrayLen(2 * len(items))
	} else {
		c.addArrayLen(len(items))
	}
	for _, it := range items {
		if withScores && c.proto > 2 {
			c.addArrayLen(2)
		}
		c.addBulkString(it.member)
		if withScores {
			c.addDouble(it.score)
		}
	}
}

func zrangeCmd(c *Client)           { c.zrangeGeneric(1, nil, zrangeAuto, zDirAuto) }
func zrangestoreCmd(c *Client)      { c.zrangeGeneric(2, c.argv[1], zrangeAuto, zDirAuto) }
func zrevrangeCmd(c *Client)        { c.zrangeGeneric(1, nil, zrangeRank, zDirReverse) }
func zrangebyscoreCmd(c *Client)    { c.zrangeGeneric(1, nil, zrangeScore, zDirForward) }
func zrevrangebyscoreCmd(c *Client) { c.zrangeGeneric(1, nil, zrangeScore, zDirReverse) }
func zrangebylexCmd(c *Client)      { c.zrangeGeneric(1, nil, zrangeLex, zDirForward) }
func zrevrangebylexCmd(c *Client)   { c.zrangeGeneric(1, nil, zrangeLex, zDirReverse) }

// zrangeGeneric is ZRANGE with all its forms; dst is the ZRANGESTORE
// destination (nil: reply to the client).
func (c *Client) zrangeGeneric(argStart int, dst []byte, kind zrangeKind, dir zrangeDir) {
	store := dst != nil
	key := c.argv[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(c.argv); j++ {
		left := len(c.argv) - j - 1
		a := string(c.argv[j])
		switch {
		case !store && strings.EqualFold(a, "withscores"):
			withScores = true
		case strings.EqualFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.getInt(c.argv[j+1]); !ok {
				return
			}
			if limit, ok = c.getInt(c.argv[j+2]); !ok {
				return
			}
			j += 2
		case dir == zDirAuto && strings.EqualFold(a, "rev"):
			dir = zDirReverse
		case kind == zrangeAuto && strings.EqualFold(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && strings.EqualFold(a, "byscore"):
			kind = zrangeScore
		default:
			c.addError(errSyntax)
			return
		}
	}
	if dir == zDirAuto {
		dir = zDirForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.addError(errZLimitRank)
		return
	}
	if withScores && kind == zrangeLex {
		c.addError(errZScoresBylex)
		return
	}
	rev := dir == zDirReverse
	if rev && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = c.getInt(c.argv[minIdx]); !ok {
			return
		}
		if end, ok = c.getInt(c.argv[maxIdx]); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = zParseScoreRange(c.argv[minIdx], c.argv[maxIdx]); !ok {
			c.addError(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = zParseLexRange(c.argv[minIdx], c.argv[maxIdx]); !ok {
			c.addError(errZLexRange)
			return
		}
	}
	z, ok := c.zRead(key)
	if !ok {
		return
	}
	var items []zitem
	if z != nil {
		switch kind {
		case zrangeRank:
			items = zrangeByRank(z, start, end, rev)
		case zrangeScore:
			items = zrangeByScore(z, sr, offset, limit, rev)
		case zrangeLex:
			items = zrangeByLex(z, lr, offset, limit, rev)
		}
	}
	if !store {
		c.zReply(items, withScores)
		return
	}
	out := keyspace.NewZSet()
	maxLen := 0
	for _, it := range items {
		out.Insert(it.member, it.score)
		if len(it.member) > maxLen {
			maxLen = len(it.member)
		}
	}
	out.Big = c.s.zsetBig(len(items), maxLen)
	c.zStore(dst, out, "zrangestore")
}

// zClampRank turns Redis's start/end (negative from the end) into a valid
// inclusive range; ok is false when the range is empty.
func zClampRank(start, end int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

func zrangeByRank(z *keyspace.ZSet, start, end int64, rev bool) []zitem {
	s, e, ok := zClampRank(start, end, z.Len())
	if !ok {
		return nil
	}
	items := make([]zitem, 0, e-s+1)
	var n *keyspace.ZNode
	if rev {
		n = z.ByRank(z.Len() - 1 - s)
	} else {
		n = z.ByRank(s)
	}
	for i := s; i <= e && n != nil; i++ {
		items = append(items, zitem{n.Member, n.Score})
		if rev {
			n = n.Prev()
		} else {
			n = n.Next()
		}
	}
	return items
}

func zrangeByScore(z *keyspace.ZSet, r keyspace.ScoreRange, offset, limit int64, rev bool) []zitem {
	if rev {
		return zrangeWalk(z, z.LastInRange(r), offset, limit, rev, func(n *keyspace.ZNode) bool { return r.GteMin(n.Score) })
	}
	return zrangeWalk(z, z.FirstInRange(r), offset, limit, rev, func(n *keyspace.ZNode) bool { return r.LteMax(n.Score) })
}

func zrangeByLex(z *keyspace.ZSet, r keyspace.LexRange, offset, limit int64, rev bool) []zitem {
	if rev {
		return zrangeWalk(z, z.LastInLexRange(r), offset, limit, rev, func(n *keyspace.ZNode) bool { return r.GteMin(n.Member) })
	}
	return zrangeWalk(z, z.FirstInLexRange(r), offset, limit, rev, func(n *keyspace.ZNode) bool { return r.LteMax(n.Member) })
}

// zrangeWalk collects up to limit elements (negative: all) from n in
// direction rev, after skipping offset, while inRange holds: the shared
// loop of ZRANGE BYSCORE and BYLEX.
func zrangeWalk(z *keyspace.ZSet, n *keyspace.ZNode, offset, limit int64, rev bool, inRange func(*keyspace.ZNode) bool) []zitem {
	// Redis's offset loop never ends for a negative offset: nothing.
	if offset < 0 || offset > 0 && offset >= int64(z.Len()) {
		return nil
	}
	step := func(n *keyspace.ZNode) *keyspace.ZNode {
		if rev {
			return n.Prev()
		}
		return n.Next()
	}
	for ; n != nil && offset > 0; offset-- {
		n = step(n)
	}
	var items []zitem
	for ; n != nil && limit != 0 && inRange(n); limit-- {
		items = append(items, zitem{n.Member, n.Score})
		n = step(n)
	}
	return items
}

// ---- ZREMRANGEBY* ----

func zremrangebyrankCmd(c *Client)  { c.zremrangeGeneric(zrangeRank) }
func zremrangebyscoreCmd(c *Client) { c.zremrangeGeneric(zrangeScore) }
func zremrangebylexCmd(c *Client)   { c.zremrangeGeneric(zrangeLex) }

func (c *Client) zremrangeGeneric(kind zrangeKind) {
	key := c.argv[1]
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	var event string
	switch kind {
	case zrangeRank:
		event = "zremrangebyrank"
		var ok bool
		if start, ok = c.getInt(c.argv[2]); !ok {
			return
		}
		if end, ok = c.getInt(c.argv[3]); !ok {
			return
		}
	case zrangeScore:
		event = "zremrangebyscore"
		var ok bool
		if sr, ok = zParseScoreRange(c.argv[2], c.argv[3]); !ok {
			c.addError(errZMinMaxFloat)
			return
		}
	case zrangeLex:
		event = "zremrangebylex"
		var ok bool
		if lr, ok = zParseLexRange(c.argv[2], c.argv[3]); !ok {
			c.addError(errZLexRange)
			return
		}
	}
	e, ok := c.lookupType(key, keyspace.KindZSet, true)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	z := zsetOf(e)
	deleted := 0
	switch kind {
	case zrangeRank:
		s, en, ok := zClampRank(start, end, z.Len())
		if !ok {
			c.addInt(0)
			return
		}
		deleted = z.DeleteRangeByRank(s, en)
	case zrangeScore:
		deleted = z.DeleteRangeByScore(sr)
	case zrangeLex:
		deleted = z.DeleteRangeByLex(lr)
	}
	removed := c.zDeleteIfEmpty(key, z)
	if deleted > 0 {
		if removed {
			e = nil
		}
		c.s.modified(c.db, key, e)
		c.s.notify(notifyZSet, event, key, c.dbIndex)
		if removed {
			c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		}
	}
	c.addInt(int64(deleted))
}

// ---- ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD ----

const (
	zOpUnion = iota
	zOpInter
	zOpDiff
)

const (
	zAggSum = iota
	zAggMin
	zAggMax
)

// zsrc is one input of a set operation: a sorted set, or a plain set whose
// members all score 1, or nothing (a missing key).
type zsrc struct {
	z      *keyspace.ZSet
	set    *keyspace.Set
	weight float64
}

func (s *zsrc) length() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// each calls fn for every member of the input, in its own order.
func (s *zsrc) each(fn func(member string, score float64) bool) {
	switch {
	case s.z != nil:
		s.z.Range(fn)
	case s.set != nil:
		s.set.Range(func(k string, _ *struct{}) bool { return fn(k, 1) })
	}
}

func (s *zsrc) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.ScoreOf(member)
	case s.set != nil:
		if s.set.Get(member) != nil {
			return 1, true
		}
	}
	return 0, false
}

func zAggregate(target *float64, v float64, agg int) {
	switch agg {
	case zAggSum:
		*target += v
		// inf + -inf is NaN: Redis's convention is 0.
		if *target != *target {
			*target = 0
		}
	case zAggMin:
		if v < *target {
			*target = v
		}
	case zAggMax:
		if v > *target {
			*target = v
		}
	}
}

func zunionCmd(c *Client)      { c.zsetOpGeneric(nil, 1, zOpUnion, false) }
func zinterCmd(c *Client)      { c.zsetOpGeneric(nil, 1, zOpInter, false) }
func zdiffCmd(c *Client)       { c.zsetOpGeneric(nil, 1, zOpDiff, false) }
func zintercardCmd(c *Client)  { c.zsetOpGeneric(nil, 1, zOpInter, true) }
func zunionstoreCmd(c *Client) { c.zsetOpGeneric(c.argv[1], 2, zOpUnion, false) }
func zinterstoreCmd(c *Client) { c.zsetOpGeneric(c.argv[1], 2, zOpInter, false) }
func zdiffstoreCmd(c *Client)  { c.zsetOpGeneric(c.argv[1], 2, zOpDiff, false) }

func (c *Client) zsetOpGeneric(dst []byte, numIdx int, op int, cardOnly bool) {
	setnum, ok := c.getInt(c.argv[numIdx])
	if !ok {
		return
	}
	if setnum < 1 {
		c.addError("ERR at least 1 input key is needed for '" + c.cmd.Name + "' command")
		return
	}
	if setnum > int64(len(c.argv)-(numIdx+1)) {
		c.addError(errSyntax)
		return
	}
	srcs := make([]zsrc, setnum)
	j := numIdx + 1
	for i := range srcs {
		srcs[i].weight = 1
		e := c.lookupRead(c.argv[j])
		j++
		if e == nil {
			continue
		}
		switch v := e.Obj.(type) {
		case *keyspace.ZSet:
			srcs[i].z = v
		case *keyspace.Set:
			srcs[i].set = v
		default:
			c.addError(errWrongType)
			return
		}
	}
	agg := zAggSum
	withScores := false
	var limit int64
	for j < len(c.argv) {
		remaining := len(c.argv) - j
		a := string(c.argv[j])
		switch {
		case op != zOpDiff && !cardOnly && remaining >= len(srcs)+1 && strings.EqualFold(a, "weights"):
			j++
			for i := range srcs {
				f, ok := zParseScore(c.argv[j])
				if !ok {
					c.addError(errZWeight)
					return
				}
				srcs[i].weight = f
				j++
			}
		case op != zOpDiff && !cardOnly && remaining >= 2 && strings.EqualFold(a, "aggregate"):
			switch strings.ToLower(string(c.argv[j+1])) {
			case "sum":
				agg = zAggSum
			case "min":
				agg = zAggMin
			case "max":
				agg = zAggMax
			default:
				c.addError(errSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && strings.EqualFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && strings.EqualFold(a, "limit"):
			n, ok := c.zGetPositive(c.argv[j+1], errZLimitNeg)
			if !ok {
				return
			}
			limit = n
			j += 2
		default:
			c.addError(errSyntax)
			return
		}
	}
	if op != zOpDiff {
		sort.SliceStable(srcs, func(a, b int) bool { return srcs[a].length() < srcs[b].length() })
	}
	out := keyspace.NewZSet()
	maxLen := 0
	var card int64
	switch op {
	case zOpInter:
		if srcs[0].length() == 0 {
			break
		}
		first := &srcs[0]
		first.each(func(m string, sc float64) bool {
			score := first.weight * sc
			if score != score {
				score = 0
			}
			for k := 1; k < len(srcs); k++ {
				o := &srcs[k]
				v, found := sc, true
				if !(o.z != nil && o.z == first.z || o.set != nil && o.set == first.set) {
					v, found = o.find(m)
				}
				if !found {
					return true
				}
				zAggregate(&score, v*o.weight, agg)
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			out.Insert(m, score)
			if len(m) > maxLen {
				maxLen = len(m)
			}
			return true
		})
	case zOpUnion:
		acc := map[string]float64{}
		var order []string
		for k := range srcs {
			s := &srcs[k]
			s.each(func(m string, sc float64) bool {
				score := s.weight * sc
				if score != score {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					zAggregate(&cur, score, agg)
					acc[m] = cur
				} else {
					acc[m] = score
					order = append(order, m)
				}
				return true
			})
		}
		for _, m := range order {
			out.Insert(m, acc[m])
			if len(m) > maxLen {
				maxLen = len(m)
			}
		}
	case zOpDiff:
		srcs[0].each(func(m string, sc float64) bool {
			for k := 1; k < len(srcs); k++ {
				if _, found := srcs[k].find(m); found {
					return true
				}
			}
			out.Insert(m, sc)
			if len(m) > maxLen {
				maxLen = len(m)
			}
			return true
		})
	}
	switch {
	case dst != nil:
		out.Big = c.s.zsetBig(out.Len(), maxLen)
		event := [...]string{"zunionstore", "zinterstore", "zdiffstore"}[op]
		c.zStore(dst, out, event)
	case cardOnly:
		c.addInt(card)
	default:
		items := make([]zitem, 0, out.Len())
		out.Range(func(m string, sc float64) bool {
			items = append(items, zitem{m, sc})
			return true
		})
		c.zReply(items, withScores)
	}
}

// ---- pops ----

const (
	zsetMin = iota
	zsetMax
)

func zpopminCmd(c *Client) { c.zpopMinMax(zsetMin) }
func zpopmaxCmd(c *Client) { c.zpopMinMax(zsetMax) }

func (c *Client) zpopMinMax(where int) {
	if len(c.argv) > 3 {
		c.addError(errSyntax)
		return
	}
	count := int64(-1)
	if len(c.argv) == 3 {
		n, ok := c.zGetPositive(c.argv[2], "")
		if !ok {
			return
		}
		count = n
	}
	nested := c.proto > 2 && count != -1
	c.zpopGeneric(c.argv[1:2], where, false, count, nested, false)
}

// zpopGeneric pops from the first non-empty key of keys, as Redis's
// genericZpopCommand: emitKey puts the key name in the reply, nested
// gives [member, score] pairs, nilWhenEmpty answers a null array instead
// of an empty one when there is nothing to pop.
func (c *Client) zpopGeneric(keys [][]byte, where int, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var key []byte
	var e *keyspace.Entry
	for _, k := range keys {
		ke := c.lookupWrite(k)
		if ke == nil {
			continue
		}
		if ke.Kind() != keyspace.KindZSet {
			c.addError(errWrongType)
			return
		}
		key, e = k, ke
		break
	}
	if e == nil {
		if nilWhenEmpty {
			c.addNullArray()
		} else {
			c.addArrayLen(0)
		}
		return
	}
	if count == 0 {
		c.addArrayLen(0)
		return
	}
	if count == -1 {
		count = 1
	}
	z := zsetOf(e)
	n := int(count)
	if int64(z.Len()) < count {
		n = z.Len()
	}
	if c.s.prop.active() {
		// Replicas replay the pop itself, on the key that was served.
		verb := [...]string{"ZPOPMIN", "ZPOPMAX"}[where]
		switch c.cmd.Name {
		case "bzpopmin", "bzpopmax":
			c.rewriteArgvStrings(verb, string(key))
		case "zmpop", "bzmpop":
			c.rewriteArgvStrings(verb, string(key), strconv.Itoa(n))
		}
	}
	switch {
	case !nested && !emitKey:
		c.addArrayLen(2 * n)
	case nested && !emitKey:
		c.addArrayLen(n)
	case !nested && emitKey:
		c.addArrayLen(2*n + 1)
		c.addBulk(key)
	default:
		c.addArrayLen(2)
		c.addBulk(key)
		c.addArrayLen(n)
	}
	for i := 0; i < n; i++ {
		var node *keyspace.ZNode
		if where == zsetMax {
			node = z.Last()
		} else {
			node = z.First()
		}
		m, sc := node.Member, node.Score
		z.DeleteString(m)
		if nested {
			c.addArrayLen(2)
		}
		c.addBulkString(m)
		c.addDouble(sc)
	}
	removed := z.Len() == 0
	if removed {
		c.db.Delete(key)
		e = nil
	}
	c.s.modified(c.db, key, e)
	c.s.notify(notifyZSet, [...]string{"zpopmin", "zpopmax"}[where], key, c.dbIndex)
	if removed {
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
	}
}

func bzpopminCmd(c *Client) {
	c.bzpopGeneric(c.argv[1:len(c.argv)-1], zsetMin, len(c.argv)-1, -1, false)
}
func bzpopmaxCmd(c *Client) {
	c.bzpopGeneric(c.argv[1:len(c.argv)-1], zsetMax, len(c.argv)-1, -1, false)
}

// bzpopGeneric is BZPOPMIN/BZPOPMAX/BZMPOP: pop at once if a key has
// members, otherwise block. When a blocked client is served again, keys
// that meanwhile became another type are passed over, as Redis only serves
// it from a key that holds a sorted set.
func (c *Client) bzpopGeneric(keys [][]byte, where int, timeoutIdx int, count int64, nested bool) {
	timeout, ok := c.parseTimeout(c.argv[timeoutIdx])
	if !ok {
		return
	}
	reserving := c.blocked != nil
	for _, k := range keys {
		e := c.lookupWrite(k)
		if e == nil {
			continue
		}
		if e.Kind() != keyspace.KindZSet {
			if reserving {
				continue
			}
			c.addError(errWrongType)
			return
		}
		if zsetOf(e).Len() == 0 {
			continue
		}
		c.zpopGeneric([][]byte{k}, where, true, count, nested, nested)
		return
	}
	if c.cannotBlock() {
		c.addNullArray()
		return
	}
	c.block(keys, timeout, func(c *Client) { c.addNullArray() })
}

func zmpopCmd(c *Client)  { c.zmpopGeneric(1, false) }
func bzmpopCmd(c *Client) { c.zmpopGeneric(2, true) }

func (c *Client) zmpopGeneric(numIdx int, block bool) {
	numkeys, ok := c.zGetRange(c.argv[numIdx], 1, math.MaxInt64, errZNumkeys)
	if !ok {
		return
	}
	whereIdx := int64(numIdx) + numkeys + 1
	if whereIdx >= int64(len(c.argv)) {
		c.addError(errSyntax)
		return
	}
	var where int
	switch strings.ToLower(string(c.argv[whereIdx])) {
	case "min":
		where = zsetMin
	case "max":
		where = zsetMax
	default:
		c.addError(errSyntax)
		return
	}
	count := int64(-1)
	for j := int(whereIdx) + 1; j < len(c.argv); j++ {
		more := len(c.argv) - 1 - j
		if count == -1 && strings.EqualFold(string(c.argv[j]), "count") && more > 0 {
			j++
			n, ok := c.zGetRange(c.argv[j], 1, math.MaxInt64, errZCount)
			if !ok {
				return
			}
			count = n
		} else {
			c.addError(errSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := c.argv[numIdx+1 : whereIdx]
	if block {
		c.bzpopGeneric(keys, where, 1, count, true)
		return
	}
	c.zpopGeneric(keys, where, true, count, true, true)
}

// ---- ZRANDMEMBER ----

func zrandmemberCmd(c *Client) {
	if len(c.argv) >= 3 {
		l, ok := c.zGetRange(c.argv[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		withScores := false
		if len(c.argv) > 4 || (len(c.argv) == 4 && !strings.EqualFold(string(c.argv[3]), "withscores")) {
			c.addError(errSyntax)
			return
		}
		if len(c.argv) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.addError(errZOutOfRange)
				return
			}
		}
		c.zrandmemberWithCount(l, withScores)
		return
	}
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	n := z.ByRank(int(c.s.randUint64() % uint64(z.Len())))
	c.addBulkString(n.Member)
}

// zrandMaxReply bounds the reply of ZRANDMEMBER with a huge negative count.
const zrandMaxReply = 1 << 30

// zrandmemberWithCount picks members by random rank: the skiplist makes
// that O(log n) and uniform, which a hash table bucket pick is not.
func (c *Client) zrandmemberWithCount(l int64, withScores bool) {
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.addArrayLen(0)
		return
	}
	size := z.Len()
	rnd := func(n int) int { return int(c.s.randUint64() % uint64(n)) }
	emit := func(n *keyspace.ZNode) {
		if withScores && c.proto > 2 {
			c.addArrayLen(2)
		}
		c.addBulkString(n.Member)
		if withScores {
			c.addDouble(n.Score)
		}
	}
	header := func(n int) {
		if withScores && c.proto == 2 {
			c.addArrayLen(2 * n)
		} else {
			c.addArrayLen(n)
		}
	}
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		header(int(count))
		for i := int64(0); i < count; i++ {
			emit(z.ByRank(rnd(size)))
			if i&1023 == 0 && len(c.out) > zrandMaxReply {
				// Redis would build this reply until memory runs out;
				// drop the client instead, as an output limit would.
				c.closeConn()
				return
			}
		}
		return
	}
	count := int(l)
	if int64(count) != l || count >= size {
		// Redis walks a sorted set from its tail here.
		header(size)
		for n := z.Last(); n != nil; n = n.Prev() {
			emit(n)
		}
		return
	}
	header(count)
	if count*3 > size {
		// Most of the set: shuffle the ranks and keep a prefix.
		ranks := make([]int, size)
		for i := range ranks {
			ranks[i] = i
		}
		for i := 0; i < count; i++ {
			k := i + rnd(size-i)
			ranks[i], ranks[k] = ranks[k], ranks[i]
		}
		for _, r := range ranks[:count] {
			emit(z.ByRank(r))
		}
		return
	}
	seen := make(map[int]struct{}, count)
	for len(seen) < count {
		r := rnd(size)
		if _, dup := seen[r]; dup {
			continue
		}
		seen[r] = struct{}{}
		emit(z.ByRank(r))
	}
}

// ---- ZSCAN ----

// zParseCursor reads a SCAN cursor as Redis does (strtoul, no sign games).
func zParseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 || zIsSpace(b[0]) {
		return 0, len(b) == 0
	}
	s := string(b)
	if s[0] == '+' {
		s = s[1:]
	}
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// zListpackScore renders a score as a listpack stores it (integers without
// exponent), which is what ZSCAN returns for a small set.
func zListpackScore(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	if !math.IsInf(f, 0) && f >= -(math.MaxInt64/2) && f <= math.MaxInt64/2 && f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return formatDouble(f)
}

func zscanCmd(c *Client) {
	cursor, ok := zParseCursor(c.argv[2])
	if !ok {
		c.addError(errInvalidCursor)
		return
	}
	count := int64(10)
	pattern := ""
	usePattern := false
	for i := 3; i < len(c.argv); {
		left := len(c.argv) - i
		a := string(c.argv[i])
		switch {
		case strings.EqualFold(a, "count") && left >= 2:
			n, ok := c.getInt(c.argv[i+1])
			if !ok {
				return
			}
			if n < 1 {
				c.addError(errSyntax)
				return
			}
			count = n
			i += 2
		case strings.EqualFold(a, "match") && left >= 2:
			pattern = string(c.argv[i+1])
			usePattern = pattern != "*"
			i += 2
		default:
			c.addError(errSyntax)
			return
		}
	}
	z, ok := c.zRead(c.argv[1])
	if !ok {
		return
	}
	var out []string
	if z == nil {
		cursor = 0
	} else if !z.Big {
		z.Range(func(m string, sc float64) bool {
			if !usePattern || config.GlobMatch(pattern, m, false) {
				out = append(out, m, zListpackScore(sc))
			}
			return true
		})
		cursor = 0
	} else {
		// Like Redis: COUNT bounds the elements visited (two reply items
		// each), and the pattern filters them afterwards.
		want := count * 2
		maxIter := want * 10
		visited := int64(0)
		for {
			cursor = z.Dict.Scan(cursor, func(m string, sc *float64) {
				visited += 2
				if !usePattern || config.GlobMatch(pattern, m, false) {
					out = append(out, m, formatDouble(*sc))
				}
			})
			if cursor == 0 || maxIter == 0 || visited >= want {
				break
			}
			maxIter--
		}
	}
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(cursor, 10))
	c.addBulkStrings(out)
}
