package server

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/keyspace"
)

// Hash commands (Redis's t_hash.c).

const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
	errNaNOrInf     = "ERR value is NaN or Infinity"
	errOutOfRange   = "ERR value is out of range"
	errLongRange    = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errMustPositive = "ERR value is out of range, must be positive"
	errBadCursor    = "ERR invalid cursor"
)

func registerHashCommands(t table) {
	w := FlagWrite | FlagDenyOOM | FlagFast
	ro := FlagReadonly | FlagFast
	k1 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 1, 1, "hash"
		return cmd
	}
	t.add(
		k1(&Command{Name: "hset", Proc: hsetCmd, Arity: -4, Flags: w}),
		k1(&Command{Name: "hmset", Proc: hsetCmd, Arity: -4, Flags: w}),
		k1(&Command{Name: "hsetnx", Proc: hsetnxCmd, Arity: 4, Flags: w}),
		k1(&Command{Name: "hget", Proc: hgetCmd, Arity: 3, Flags: ro}),
		k1(&Command{Name: "hmget", Proc: hmgetCmd, Arity: -3, Flags: ro}),
		k1(&Command{Name: "hdel", Proc: hdelCmd, Arity: -3, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "hlen", Proc: hlenCmd, Arity: 2, Flags: ro}),
		k1(&Command{Name: "hstrlen", Proc: hstrlenCmd, Arity: 3, Flags: ro}),
		k1(&Command{Name: "hexists", Proc: hexistsCmd, Arity: 3, Flags: ro}),
		k1(&Command{Name: "hkeys", Proc: hkeysCmd, Arity: 2, Flags: FlagReadonly}),
		k1(&Command{Name: "hvals", Proc: hvalsCmd, Arity: 2, Flags: FlagReadonly}),
		k1(&Command{Name: "hgetall", Proc: hgetallCmd, Arity: 2, Flags: FlagReadonly}),
		k1(&Command{Name: "hincrby", Proc: hincrbyCmd, Arity: 4, Flags: w}),
		k1(&Command{Name: "hincrbyfloat", Proc: hincrbyfloatCmd, Arity: 4, Flags: w}),
		k1(&Command{Name: "hrandfield", Proc: hrandfieldCmd, Arity: -2, Flags: FlagReadonly}),
		k1(&Command{Name: "hscan", Proc: hscanCmd, Arity: -3, Flags: FlagReadonly}),
	)
}

// hsReplaceKey makes key hold obj, whatever it held before (and without its
// TTL), as Redis's dbAdd / setKey do for a new or overwritten collection.
func (c *Client) hsReplaceKey(key []byte, obj any) *keyspace.Entry {
	e, isNew := c.db.Add(key)
	if !isNew && e.Expire != 0 {
		c.db.SetExpire(key, e, 0)
	}
	*e = keyspace.Entry{Obj: obj, Access: c.s.lruClock()}
	return e
}

// hsDeleteKey removes a collection that became empty: the key goes, the
// write is recorded, and "del" follows the command's own event.
func (c *Client) hsDeleteKey(key []byte) {
	c.db.Delete(key)
	c.s.modified(c.db, key, nil)
}

// hashLookup returns the hash at key for reading, nil when missing; ok is
// false after a WRONGTYPE reply.
func (c *Client) hashLookup(key []byte, write bool) (*keyspace.Entry, *keyspace.Hash, bool) {
	e, ok := c.lookupType(key, keyspace.KindHash, write)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Obj.(*keyspace.Hash), true
}

// hashLookupCreate is hashTypeLookupWriteOrCreate: the hash at key, created
// empty when missing.
func (c *Client) hashLookupCreate(key []byte) (*keyspace.Entry, *keyspace.Hash, bool) {
	e, h, ok := c.hashLookup(key, true)
	if !ok {
		return nil, nil, false
	}
	if e == nil {
		h = keyspace.NewHash()
		e = c.hsReplaceKey(key, h)
	}
	return e, h, true
}

// hashFitArgs converts a listpack hash that is about to receive one of
// args longer than hash-max-listpack-value, before anything is written.
func (c *Client) hashFitArgs(h *keyspace.Hash, args [][]byte) {
	if h.Big {
		return
	}
	max := c.s.cfg.HashMaxListpackValue
	for _, a := range args {
		if int64(len(a)) > max {
			h.Convert()
			return
		}
	}
}

// hashPut is hashTypeSet: store a copy of field and val, converting the
// hash when either is too long or the hash has too many fields.
func (c *Client) hashPut(h *keyspace.Hash, field, val []byte) bool {
	c.hashFitArgs(h, [][]byte{field, val})
	isNew := h.Put(field, copyBytes(val))
	if !h.Big && int64(h.Len()) > c.s.cfg.HashMaxListpackEntries {
		h.Convert()
	}
	return isNew
}

func hsetCmd(c *Client) {
	if len(c.argv)%2 != 0 {
		c.addError(wrongArity(c.cmd.Name))
		return
	}
	key := c.argv[1]
	e, h, ok := c.hashLookupCreate(key)
	if !ok {
		return
	}
	c.hashFitArgs(h, c.argv[2:])
	created := 0
	for i := 2; i < len(c.argv); i += 2 {
		if c.hashPut(h, c.argv[i], c.argv[i+1]) {
			created++
		}
	}
	c.s.modified(c.db, key, e)
	c.s.notify(notifyHash, "hset", key, c.dbIndex)
	if c.cmd.Name == "hmset" {
		c.addOK()
		return
	}
	c.addInt(int64(created))
}

func hsetnxCmd(c *Client) {
	key := c.argv[1]
	e, h, ok := c.hashLookup(key, true)
	if !ok {
		return
	}
	if h != nil && h.GetBytes(c.argv[2]) != nil {
		c.addInt(0)
		return
	}
	if e == nil {
		h = keyspace.NewHash()
		e = c.hsReplaceKey(key, h)
	}
	c.hashPut(h, c.argv[2], c.argv[3])
	c.s.modified(c.db, key, e)
	c.s.notify(notifyHash, "hset", key, c.dbIndex)
	c.addInt(1)
}

func hgetCmd(c *Client) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.addNull()
		return
	}
	if v := h.GetBytes(c.argv[2]); v != nil {
		c.addBulk(*v)
		return
	}
	c.addNull()
}

func hmgetCmd(c *Client) {
	// A missing key is an empty hash: nulls, not an error.
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	c.addArrayLen(len(c.argv) - 2)
	for _, f := range c.argv[2:] {
		var v *[]byte
		if h != nil {
			v = h.GetBytes(f)
		}
		if v == nil {
			c.addNull()
		} else {
			c.addBulk(*v)
		}
	}
}

func hdelCmd(c *Client) {
	key := c.argv[1]
	e, h, ok := c.hashLookup(key, true)
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	deleted, removed := 0, false
	for _, f := range c.argv[2:] {
		if h.Del(f) {
			deleted++
			if h.Len() == 0 {
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
		c.s.notify(notifyHash, "hdel", key, c.dbIndex)
		if removed {
			c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		}
	}
	c.addInt(int64(deleted))
}

func hlenCmd(c *Client) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(h.Len()))
}

func hstrlenCmd(c *Client) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	if v := h.GetBytes(c.argv[2]); v != nil {
		c.addInt(int64(len(*v)))
		return
	}
	c.addInt(0)
}

func hexistsCmd(c *Client) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h != nil && h.GetBytes(c.argv[2]) != nil {
		c.addInt(1)
		return
	}
	c.addInt(0)
}

const (
	hashKeys = 1 << iota
	hashVals
)

// hgetallGeneric is HKEYS, HVALS and HGETALL: a map when both halves are
// asked for (RESP3), a flat array otherwise.
func hgetallGeneric(c *Client, what int) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	both := what == hashKeys|hashVals
	n := 0
	if h != nil {
		n = h.Len()
	}
	if both {
		c.addMapLen(n)
	} else {
		c.addArrayLen(n)
	}
	if h == nil {
		return
	}
	h.Each(func(f string, v []byte) bool {
		if what&hashKeys != 0 {
			c.addBulkString(f)
		}
		if what&hashVals != 0 {
			c.addBulk(v)
		}
		return true
	})
}

func hkeysCmd(c *Client)   { hgetallGeneric(c, hashKeys) }
func hvalsCmd(c *Client)   { hgetallGeneric(c, hashVals) }
func hgetallCmd(c *Client) { hgetallGeneric(c, hashKeys|hashVals) }

func hincrbyCmd(c *Client) {
	incr, ok := c.getInt(c.argv[3])
	if !ok {
		return
	}
	key := c.argv[1]
	e, h, ok := c.hashLookup(key, true)
	if !ok {
		return
	}
	var cur int64
	if h != nil {
		if v := h.GetBytes(c.argv[2]); v != nil {
			n, ok := keyspace.ParseStrictInt(*v)
			if !ok {
				c.addError(errHashNotInt)
				return
			}
			cur = n
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) ||
		(incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.addError(errOverflow)
		return
	}
	cur += incr
	if e == nil {
		h = keyspace.NewHash()
		e = c.hsReplaceKey(key, h)
	}
	c.hashPut(h, c.argv[2], strconv.AppendInt(nil, cur, 10))
	c.s.modified(c.db, key, e)
	c.s.notify(notifyHash, "hincrby", key, c.dbIndex)
	c.addInt(cur)
}

func hincrbyfloatCmd(c *Client) {
	incr, ok := hashParseLD(c.argv[3])
	if !ok {
		c.addError(errNotFloat)
		return
	}
	if incr.IsInf() {
		c.addError(errNaNOrInf)
		return
	}
	key := c.argv[1]
	e, h, ok := c.hashLookup(key, true)
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(hldPrec)
	if h != nil {
		if v := h.GetBytes(c.argv[2]); v != nil {
			n, ok := hashParseLD(*v)
			if !ok {
				c.addError(errHashNotFloat)
				return
			}
			cur = n
		}
	}
	sum := new(big.Float).SetPrec(hldPrec).Add(cur, incr)
	if sum.IsInf() || hldOverflows(sum) {
		c.addError(errIncrNaN)
		return
	}
	out := hashFormatLD(sum)
	if e == nil {
		h = keyspace.NewHash()
		e = c.hsReplaceKey(key, h)
	}
	c.hashPut(h, c.argv[2], []byte(out))
	c.s.modified(c.db, key, e)
	c.s.notify(notifyHash, "hincrbyfloat", key, c.dbIndex)
	c.addBulkString(out)
	// The result, not the increment: replaying float arithmetic elsewhere
	// could round differently.
	c.rewriteArgvStrings("HSET", string(key), string(c.argv[2]), out)
}

// HINCRBYFLOAT computes in x87 long double, as Redis does on x86-64: a 64-bit
// mantissa, correctly rounded parsing, and "%.17Lf" with the trailing zeros
// cut. Doing the same with big.Float at 64 bits gives Redis's exact digits
// (1.23 + 0.77 = "2", 0.1 + 0.2 = "0.3"), which float64 would not.
const (
	hldPrec   = 64
	hldMaxExp = 16384 // |x| < 2^16384
	hldMinExp = -16444
	hldMaxLen = 5*1024 - 1 // MAX_LONG_DOUBLE_CHARS, minus the NUL
)

func hldOverflows(f *big.Float) bool {
	return f.Sign() != 0 && f.MantExp(nil) > hldMaxExp
}

// hashParseLD is Redis's string2ld (strtold, no spaces, nothing after
// the number, no NaN, no overflow). It returns ±Inf for "inf"/"infinity".
func hashParseLD(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) > hldMaxLen {
		return nil, false
	}
	s := string(b)
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	f := new(big.Float).SetPrec(hldPrec)
	if ls := strings.ToLower(s); ls == "inf" || ls == "infinity" {
		return f.SetInf(neg), true
	}
	var mant big.Int
	exp2, exp10 := int64(0), int64(0)
	hex := len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if hex {
		s = s[2:]
	}
	digits, frac, seenDot := 0, 0, false
	i := 0
	var chunk big.Int
	base := int64(10)
	if hex {
		base = 16
	}
	for ; i < len(s); i++ {
		ch := s[i]
		var d int64
		switch {
		case ch == '.' && !seenDot:
			seenDot = true
			continue
		case ch >= '0' && ch <= '9':
			d = int64(ch - '0')
		case hex && ch >= 'a' && ch <= 'f':
			d = int64(ch-'a') + 10
		case hex && ch >= 'A' && ch <= 'F':
			d = int64(ch-'A') + 10
		default:
			goto doneDigits
		}
		mant.Mul(&mant, big.NewInt(base))
		mant.Add(&mant, chunk.SetInt64(d))
		digits++
		if seenDot {
			frac++
		}
	}
doneDigits:
	if digits == 0 {
		return nil, false
	}
	if i < len(s) {
		// An exponent: e for decimal, p for hex; it must be complete.
		ch := s[i] | 0x20
		if (!hex && ch != 'e') || (hex && ch != 'p') {
			return nil, false
		}
		es := s[i+1:]
		if es == "" {
			return nil, false
		}
		eneg := false
		if es[0] == '+' || es[0] == '-' {
			eneg = es[0] == '-'
			es = es[1:]
		}
		if es == "" {
			return nil, false
		}
		var e int64
		for _, ch := range []byte(es) {
			if ch < '0' || ch > '9' {
				return nil, false
			}
			if e < 1<<40 {
				e = e*10 + int64(ch-'0')
			}
		}
		if eneg {
			e = -e
		}
		if hex {
			exp2 = e
		} else {
			exp10 = e
		}
	}
	if hex {
		exp2 -= int64(4 * frac)
	} else {
		exp10 -= int64(frac)
	}
	if mant.Sign() == 0 {
		if neg {
			f.Neg(f)
		}
		return f, true
	}
	if hex {
		bits := int64(mant.BitLen()) + exp2
		if bits > hldMaxExp {
			return nil, false
		}
		if bits < hldMinExp {
			return nil, false
		}
		f.SetInt(&mant)
		f.SetMantExp(f, int(exp2))
	} else {
		mag := int64(digits-frac) + exp10 + int64(frac) // decimal digits before the point
		if mag > 4934 {
			return nil, false
		}
		if mag < -4952 {
			return nil, false
		}
		exact := new(big.Float).SetInt(&mant)
		if exp10 >= 0 {
			p := new(big.Int).Exp(big.NewInt(10), big.NewInt(exp10), nil)
			f.SetInt(p.Mul(p, &mant))
		} else {
			p := new(big.Int).Exp(big.NewInt(10), big.NewInt(-exp10), nil)
			f.Quo(exact, new(big.Float).SetInt(p))
		}
		if hldOverflows(f) {
			return nil, false
		}
		if f.MantExp(nil) < hldMinExp {
			return nil, false
		}
	}
	if neg {
		f.Neg(f)
	}
	return f, true
}

// hashFormatLD is ld2string's LD_STR_HUMAN mode.
func hashFormatLD(f *big.Float) string {
	if f.IsInf() {
		if f.Sign() > 0 {
			return "inf"
		}
		return "-inf"
	}
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// hrandParseCount reads the <count> argument of HRANDFIELD/SRANDMEMBER:
// a long in [-LONG_MAX, LONG_MAX].
func (c *Client) hrandParseCount(b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		c.addError(errNotInt)
		return 0, false
	}
	if n == math.MinInt64 {
		c.addError(errLongRange)
		return 0, false
	}
	return n, true
}

func hrandfieldCmd(c *Client) {
	if len(c.argv) >= 3 {
		n, ok := c.hrandParseCount(c.argv[2])
		if !ok {
			return
		}
		withValues := false
		if len(c.argv) > 4 || (len(c.argv) == 4 && !strings.EqualFold(string(c.argv[3]), "withvalues")) {
			c.addError(errSyntax)
			return
		} else if len(c.argv) == 4 {
			withValues = true
			// The reply has two entries per pick.
			if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
				c.addError(errOutOfRange)
				return
			}
		}
		hrandfieldWithCount(c, n, withValues)
		return
	}
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.addNull()
		return
	}
	f, _ := h.Random(c.s.randUint64)
	c.addBulkString(f)
}

// hrandSubStrategyMul: when the hash is at most this many times the count,
// picking what to leave out beats picking what to return.
const hrandSubStrategyMul = 3

func hrandfieldWithCount(c *Client, n int64, withValues bool) {
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil || n == 0 {
		c.addArrayLen(0)
		return
	}
	count := uint64(n)
	uniq := true
	if n < 0 {
		count, uniq = uint64(-n), false
	}
	size := uint64(h.Len())
	pair := func(f string, v []byte) {
		if withValues && c.proto > 2 {
			c.addArrayLen(2)
		}
		c.addBulkString(f)
		if withValues {
			c.addBulk(v)
		}
	}
	replyLen := func(n uint64) {
		if withValues && c.proto == 2 {
			c.addArrayLen(int(n * 2))
		} else {
			c.addArrayLen(int(n))
		}
	}
	// Repeats allowed: independent picks.
	if !uniq || count == 1 {
		replyLen(count)
		for ; count > 0; count-- {
			pair(h.Random(c.s.randUint64))
			if c.flags&flagCloseASAP != 0 {
				break
			}
		}
		return
	}
	if count >= size {
		replyLen(size)
		h.Each(func(f string, v []byte) bool { pair(f, v); return true })
		return
	}
	replyLen(count)
	if count*hrandSubStrategyMul > size {
		// Take everything, then drop random fields down to count.
		all := make([]string, 0, size)
		h.Each(func(f string, _ []byte) bool { all = append(all, f); return true })
		for uint64(len(all)) > count {
			i := c.s.randUint64() % uint64(len(all))
			all[i] = all[len(all)-1]
			all = all[:len(all)-1]
		}
		for _, f := range all {
			pair(f, *h.Get(f))
		}
		return
	}
	seen := make(map[string]struct{}, count)
	for uint64(len(seen)) < count {
		f, v := h.Random(c.s.randUint64)
		if _, dup := seen[f]; dup {
			continue
		}
		seen[f] = struct{}{}
		pair(f, v)
	}
}

// hsParseCursor reads a SCAN cursor as Redis does (strtoul: an optional
// sign, a negative value wraps around; no spaces, nothing after).
func hsParseCursor(b []byte) (uint64, bool) {
	s := string(b)
	if s == "" {
		return 0, true
	}
	neg := false
	switch s[0] {
	case '+', '-':
		neg = s[0] == '-'
		s = s[1:]
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

// hsScanOptions are HSCAN/SSCAN's COUNT and MATCH.
type hsScanOptions struct {
	count   int64
	pattern string
	match   bool
}

func (c *Client) hsParseScanOptions(args [][]byte) (hsScanOptions, bool) {
	o := hsScanOptions{count: 10}
	for i := 0; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case strings.EqualFold(string(args[i]), "count") && more:
			n, ok := c.getInt(args[i+1])
			if !ok {
				return o, false
			}
			if n < 1 {
				c.addError(errSyntax)
				return o, false
			}
			o.count = n
		case strings.EqualFold(string(args[i]), "match") && more:
			o.pattern = string(args[i+1])
			o.match = o.pattern != "*"
		default:
			c.addError(errSyntax)
			return o, false
		}
	}
	return o, true
}

func (o *hsScanOptions) keep(s string) bool {
	return !o.match || config.GlobMatch(o.pattern, s, false)
}

// hsReplyScan writes a SCAN-family reply.
func (c *Client) hsReplyScan(cursor uint64, items []string) {
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(cursor, 10))
	c.addBulkStrings(items)
}

func hscanCmd(c *Client) {
	cursor, ok := hsParseCursor(c.argv[2])
	if !ok {
		c.addError(errBadCursor)
		return
	}
	_, h, ok := c.hashLookup(c.argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.hsReplyScan(0, nil)
		return
	}
	o, ok := c.hsParseScanOptions(c.argv[3:])
	if !ok {
		return
	}
	var items []string
	add := func(f string, v []byte) {
		if o.keep(f) {
			items = append(items, f, string(v))
		}
	}
	if !h.Big {
		// A listpack is small: all of it at once, like Redis.
		h.Each(func(f string, v []byte) bool { add(f, v); return true })
		c.hsReplyScan(0, items)
		return
	}
	// Redis counts fields and values, and stops after ten times COUNT
	// buckets so a sparse table cannot stall the server.
	want := o.count * 2
	maxIter := want * 10
	seen := int64(0)
	for {
		cursor = h.Scan(cursor, func(f string, v *[]byte) {
			seen += 2
			add(f, *v)
		})
		if cursor == 0 || maxIter == 0 || seen >= want {
			break
		}
		maxIter--
	}
	c.hsReplyScan(cursor, items)
}
