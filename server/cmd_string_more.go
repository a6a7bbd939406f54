package server

import (
	"math/big"
	"math/bits"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/keyspace"
)

// The rest of Redis's string commands (t_string.c) and the bit commands
// that work on strings (bitops.c).

func registerMoreStringCommands(t table) {
	w := FlagWrite | FlagDenyOOM
	k1 := func(cmd *Command) *Command {
		cmd.FirstKey, cmd.LastKey, cmd.Step, cmd.Group = 1, 1, 1, "string"
		return cmd
	}
	t.add(
		k1(&Command{Name: "getex", Proc: getexCmd, Arity: -2, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "getdel", Proc: getdelCmd, Arity: 2, Flags: FlagWrite | FlagFast}),
		k1(&Command{Name: "getset", Proc: getsetCmd, Arity: 3, Flags: w | FlagFast}),
		k1(&Command{Name: "setrange", Proc: setrangeCmd, Arity: 4, Flags: w}),
		k1(&Command{Name: "getrange", Proc: getrangeCmd, Arity: 4, Flags: FlagReadonly}),
		k1(&Command{Name: "substr", Proc: getrangeCmd, Arity: 4, Flags: FlagReadonly}),
		k1(&Command{Name: "append", Proc: appendCmd, Arity: 3, Flags: w | FlagFast}),
		k1(&Command{Name: "strlen", Proc: strlenCmd, Arity: 2, Flags: FlagReadonly | FlagFast}),
		k1(&Command{Name: "incrbyfloat", Proc: incrbyfloatCmd, Arity: 3, Flags: w | FlagFast}),
		&Command{Name: "msetnx", Proc: msetnxCmd, Arity: -3, Flags: w, FirstKey: 1, LastKey: -1, Step: 2, Group: "string"},
		&Command{Name: "lcs", Proc: lcsCmd, Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 2, Step: 1, Group: "string"},
		k1(&Command{Name: "setbit", Proc: setbitCmd, Arity: 4, Flags: w}),
		k1(&Command{Name: "getbit", Proc: getbitCmd, Arity: 3, Flags: FlagReadonly | FlagFast}),
		k1(&Command{Name: "bitcount", Proc: bitcountCmd, Arity: -2, Flags: FlagReadonly}),
		k1(&Command{Name: "bitpos", Proc: bitposCmd, Arity: -3, Flags: FlagReadonly}),
	)
	for _, n := range []string{"setbit", "getbit", "bitcount", "bitpos"} {
		t[n].Group = "bitmap"
	}
}

// String encodings, kept in Entry.StrEnc so OBJECT ENCODING answers what
// Redis 7.0 would. strEncAuto is what a freshly stored argument gets
// (tryObjectEncoding: int, else embstr or raw by length); strEncPlain is a
// value Redis builds with createStringObject (embstr or raw by length, never
// int: INCRBYFLOAT); strEncRaw is a value edited in place (APPEND, SETRANGE,
// SETBIT), which Redis unshares into a raw sds.
const (
	strEncAuto  uint8 = 0
	strEncInt   uint8 = 1
	strEncRaw   uint8 = 2
	strEncPlain uint8 = 3
)

const embstrSizeLimit = 44

func setStrEnc(e *keyspace.Entry, enc uint8) { e.StrEnc = enc }

// strEncoding is OBJECT ENCODING for a string entry.
func strEncoding(e *keyspace.Entry) string {
	switch e.StrEnc {
	case strEncInt:
		return "int"
	case strEncRaw:
		return "raw"
	case strEncAuto:
		if len(e.Str) <= 20 {
			if _, ok := parseInt(e.Str); ok {
				return "int"
			}
		}
	}
	if len(e.Str) <= embstrSizeLimit {
		return "embstr"
	}
	return "raw"
}

// strIsSharedInt says whether Redis would hold this value as one of its
// shared integers 0..9999 (OBJECT REFCOUNT reports INT_MAX for those).
func (s *Server) strIsSharedInt(e *keyspace.Entry) bool {
	if strEncoding(e) != "int" {
		return false
	}
	n, _ := parseInt(e.Str)
	if n < 0 || n >= 10000 {
		return false
	}
	if s.cfg.Maxmemory != 0 {
		p := strings.ToLower(s.cfg.MaxmemoryPolicy)
		if strings.Contains(p, "lru") || strings.Contains(p, "lfu") {
			return false
		}
	}
	return true
}

// checkStringLength refuses a string that would grow past
// proto-max-bulk-len (Redis's checkStringLength).
func (c *Client) checkStringLength(size, add int64) bool {
	if c.isMaster() {
		return true
	}
	max := c.s.cfg.ProtoMaxBulkLen
	if add > max || size > max-add {
		c.addError(errStringTooLong)
		return false
	}
	return true
}

// getGeneric replies with the string value of argv[1] (null when missing);
// false after a WRONGTYPE reply.
func (c *Client) getGeneric() (*keyspace.Entry, bool) {
	e, ok := c.getString(c.argv[1])
	if !ok {
		return nil, false
	}
	if e == nil {
		c.addNull()
	} else {
		c.addBulk(e.Str)
	}
	return e, true
}

func getexCmd(c *Client) {
	o, ok := c.parseSetOptions(c.argv[2:], true)
	if !ok {
		return
	}
	key := c.argv[1]
	e, ok := c.getString(key)
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	var at int64
	if o.expireArg != nil {
		if at, ok = c.expireMillis(o.expireArg, o.unit); !ok {
			return
		}
	}
	c.addBulk(e.Str)
	switch {
	case (o.unit == "EXAT" || o.unit == "PXAT") && at <= c.s.now:
		c.db.Delete(key)
		c.s.modified(c.db, key, nil)
		c.s.notify(notifyGeneric, "del", key, c.dbIndex)
		c.rewriteArgv([]byte(c.s.delVerb(c.s.cfg.LazyfreeLazyExpire)), key)
	case o.expireArg != nil:
		c.db.SetExpire(key, e, at)
		c.s.modified(c.db, key, e)
		c.s.notify(notifyGeneric, "expire", key, c.dbIndex)
		if c.s.prop.active() {
			c.rewriteArgv([]byte("PEXPIREAT"), key, strconv.AppendInt(nil, at, 10))
		}
	case o.persist && e.Expire != 0:
		c.db.SetExpire(key, e, 0)
		c.s.modified(c.db, key, e)
		c.s.notify(notifyGeneric, "persist", key, c.dbIndex)
		c.rewriteArgv([]byte("PERSIST"), key)
	}
}

func getdelCmd(c *Client) {
	e, ok := c.getGeneric()
	if !ok || e == nil {
		return
	}
	key := c.argv[1]
	c.db.Delete(key)
	c.s.modified(c.db, key, nil)
	c.s.notify(notifyGeneric, "del", key, c.dbIndex)
	c.rewriteArgv([]byte(c.s.delVerb(c.s.cfg.LazyfreeLazyUserDel)), key)
}

func getsetCmd(c *Client) {
	if _, ok := c.getGeneric(); !ok {
		return
	}
	key := c.argv[1]
	e := c.s.setKey(c.db, key, copyBytes(c.argv[2]), false)
	setStrEnc(e, strEncAuto)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyString, "set", key, c.dbIndex)
	c.rewriteArgv([]byte("SET"), key, c.argv[2])
}

// growZero extends b with zero bytes to length n (sdsgrowzero).
func growZero(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	if cap(b) >= n {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	nb := make([]byte, n, n+n/4)
	copy(nb, b)
	return nb
}

func setrangeCmd(c *Client) {
	key, val := c.argv[1], c.argv[3]
	offset, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	if offset < 0 {
		c.addError("ERR offset is out of range")
		return
	}
	e := c.lookupWrite(key)
	if e == nil {
		if len(val) == 0 {
			c.addInt(0)
			return
		}
		if !c.checkStringLength(offset, int64(len(val))) {
			return
		}
		e, _ = c.db.Add(key)
		*e = keyspace.Entry{}
	} else {
		if e.Obj != nil {
			c.addError(errWrongType)
			return
		}
		if len(val) == 0 {
			c.addInt(int64(len(e.Str)))
			return
		}
		if !c.checkStringLength(offset, int64(len(val))) {
			return
		}
	}
	end := int(offset) + len(val)
	e.Str = growZero(e.Str, end)
	copy(e.Str[offset:], val)
	setStrEnc(e, strEncRaw)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyString, "setrange", key, c.dbIndex)
	c.addInt(int64(len(e.Str)))
}

func getrangeCmd(c *Client) {
	start, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	end, ok := c.getInt(c.argv[3])
	if !ok {
		return
	}
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addBulk(nil)
		return
	}
	str := e.Str
	n := int64(len(str))
	if start < 0 && end < 0 && start > end {
		c.addBulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.addBulk(nil)
		return
	}
	c.addBulk(str[start : end+1])
}

func appendCmd(c *Client) {
	key, val := c.argv[1], c.argv[2]
	e := c.lookupWrite(key)
	if e == nil {
		e = c.s.setKey(c.db, key, copyBytes(val), false)
		setStrEnc(e, strEncAuto)
	} else {
		if e.Obj != nil {
			c.addError(errWrongType)
			return
		}
		if !c.checkStringLength(int64(len(e.Str)), int64(len(val))) {
			return
		}
		e.Str = append(e.Str, val...)
		setStrEnc(e, strEncRaw)
	}
	c.s.modified(c.db, key, e)
	c.s.notify(notifyString, "append", key, c.dbIndex)
	c.addInt(int64(len(e.Str)))
}

func strlenCmd(c *Client) {
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(len(e.Str)))
}

// INCRBYFLOAT computes in x87 80-bit long double on the platforms Redis is
// built for; a 64-bit-mantissa big.Float reproduces that arithmetic and its
// rounding exactly, which is what makes "10.5 + 0.1" print as 10.6.
const (
	longDoublePrec   = 64
	longDoubleMaxExp = 16384  // values at or above 2^16384 overflow to inf
	longDoubleMinExp = -16444 // below the smallest denormal they underflow
	maxLongDoubleLen = 5 * 1024
)

func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// parseLongDouble follows Redis's string2ld: strtold over the whole
// argument, no leading space, no NaN, no overflow or underflow to zero.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleLen || isCSpace(b[0]) {
		return nil, false
	}
	s := string(b)
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		return new(big.Float).SetPrec(longDoublePrec).SetInf(neg), true
	}
	base := 10
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		if !validHexFloat(body[2:]) {
			return nil, false
		}
		base = 0
	} else if !validDecimalFloat(body) {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, base, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.Sign() != 0 {
		exp := f.MantExp(nil)
		if exp > longDoubleMaxExp || exp < longDoubleMinExp {
			return nil, false
		}
	}
	return f, true
}

// validDecimalFloat accepts digits with an optional '.' and exponent, the
// decimal forms strtold reads (hex floats are left out).
func validDecimalFloat(s string) bool {
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ed := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return false
		}
	}
	return i == len(s)
}

// validHexFloat accepts what strtold reads after "0x": hex digits with an
// optional '.', then an optional binary exponent p[sign]digits.
func validHexFloat(s string) bool {
	isHex := func(b byte) bool {
		return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
	}
	i, digits := 0, 0
	for i < len(s) && isHex(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isHex(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'p' || s[i] == 'P') {
		return validDecimalFloat("0e" + s[i+1:])
	}
	return i == len(s)
}

// formatLongDouble is Redis's ld2string in human mode: %.17Lf, then the
// trailing zeros (and a bare '.') removed, and "-0" written "0".
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	if len(s)+1 > maxLongDoubleLen {
		return []byte{}
	}
	return []byte(s)
}

func incrbyfloatCmd(c *Client) {
	key := c.argv[1]
	e := c.lookupWrite(key)
	if e != nil && e.Obj != nil {
		c.addError(errWrongType)
		return
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	if e != nil {
		v, ok := parseLongDouble(e.Str)
		if !ok {
			c.addError(errNotFloat)
			return
		}
		cur = v
	}
	incr, ok := parseLongDouble(c.argv[2])
	if !ok {
		c.addError(errNotFloat)
		return
	}
	if cur.IsInf() || incr.IsInf() {
		c.addError(errIncrNaN)
		return
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleMaxExp {
		c.addError(errIncrNaN)
		return
	}
	val := formatLongDouble(sum)
	if e == nil {
		e = c.s.setKey(c.db, key, val, false)
	} else {
		e.Str = val
	}
	setStrEnc(e, strEncPlain)
	c.s.modified(c.db, key, e)
	c.s.notify(notifyString, "incrbyfloat", key, c.dbIndex)
	c.addBulk(val)
	// The result, not the increment: replaying float arithmetic elsewhere
	// could round differently.
	c.rewriteArgv([]byte("SET"), key, val, []byte("KEEPTTL"))
}

func msetnxCmd(c *Client) {
	if len(c.argv)%2 != 1 {
		c.addError(wrongArity(c.cmd.Name))
		return
	}
	for i := 1; i < len(c.argv); i += 2 {
		if c.lookupWrite(c.argv[i]) != nil {
			c.addInt(0)
			return
		}
	}
	for i := 1; i < len(c.argv); i += 2 {
		e := c.s.setKey(c.db, c.argv[i], copyBytes(c.argv[i+1]), false)
		setStrEnc(e, strEncAuto)
		c.s.modified(c.db, c.argv[i], e)
		c.s.notify(notifyString, "set", c.argv[i], c.dbIndex)
	}
	c.addInt(1)
}

type lcsRange struct{ aStart, aEnd, bStart, bEnd, length uint32 }

func lcsCmd(c *Client) {
	ea := c.lookupRead(c.argv[1])
	eb := c.lookupRead(c.argv[2])
	if (ea != nil && ea.Obj != nil) || (eb != nil && eb.Obj != nil) {
		c.addError("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if ea != nil {
		a = ea.Str
	}
	if eb != nil {
		b = eb.Str
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.argv); j++ {
		opt := strings.ToUpper(string(c.argv[j]))
		switch {
		case opt == "IDX":
			getIdx = true
		case opt == "LEN":
			getLen = true
		case opt == "WITHMATCHLEN":
			withMatchLen = true
		case opt == "MINMATCHLEN" && j+1 < len(c.argv):
			n, ok := c.getInt(c.argv[j+1])
			if !ok {
				return
			}
			if n < 0 {
				n = 0
			}
			minMatchLen = n
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.addError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)) >= 1<<32-2 || uint64(len(b)) >= 1<<32-2 {
		c.addError("ERR String too long for LCS")
		return
	}
	alen, blen := uint32(len(a)), uint32(len(b))
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(c.s.cfg.ProtoMaxBulkLen) {
		c.addError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	w := uint64(blen + 1)
	tab := make([]uint32, cells)
	at := func(i, j uint32) uint32 { return tab[uint64(i)*w+uint64(j)] }
	for i := uint32(1); i <= alen; i++ {
		row := uint64(i) * w
		prev := row - w
		for j := uint32(1); j <= blen; j++ {
			if a[i-1] == b[j-1] {
				tab[row+uint64(j)] = tab[prev+uint64(j-1)] + 1
			} else {
				l1, l2 := tab[prev+uint64(j)], tab[row+uint64(j-1)]
				if l1 > l2 {
					tab[row+uint64(j)] = l1
				} else {
					tab[row+uint64(j)] = l2
				}
			}
		}
	}
	idx := at(alen, blen)
	total := idx
	computeLCS := getIdx || !getLen
	var result []byte
	if computeLCS {
		result = make([]byte, idx)
	}
	var ranges []lcsRange
	aStart, aEnd, bStart, bEnd := alen, uint32(0), uint32(0), uint32(0)
	i, j := alen, blen
	// Walk back through the table as Redis does, so the ranges come out in
	// the same order and with the same boundaries.
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		matchLen := aEnd - aStart + 1
		if emit {
			if minMatchLen == 0 || int64(matchLen) >= minMatchLen {
				ranges = append(ranges, lcsRange{aStart, aEnd, bStart, bEnd, matchLen})
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.addMapLen(2)
		c.addBulkString("matches")
		c.addArrayLen(len(ranges))
		for _, r := range ranges {
			if withMatchLen {
				c.addArrayLen(3)
			} else {
				c.addArrayLen(2)
			}
			c.addArrayLen(2)
			c.addInt(int64(r.aStart))
			c.addInt(int64(r.aEnd))
			c.addArrayLen(2)
			c.addInt(int64(r.bStart))
			c.addInt(int64(r.bEnd))
			if withMatchLen {
				c.addInt(int64(r.length))
			}
		}
		c.addBulkString("len")
		c.addInt(int64(total))
	case getLen:
		c.addInt(int64(total))
	default:
		c.addBulk(result)
	}
}

// bitOffset parses a SETBIT/GETBIT offset (getBitOffsetFromArgument).
func (c *Client) bitOffset(arg []byte) (uint64, bool) {
	n, ok := parseInt(arg)
	if !ok || n < 0 || (!c.isMaster() && n>>3 >= c.s.cfg.ProtoMaxBulkLen) {
		c.addError(errBitOffset)
		return 0, false
	}
	return uint64(n), true
}

func setbitCmd(c *Client) {
	key := c.argv[1]
	off, ok := c.bitOffset(c.argv[2])
	if !ok {
		return
	}
	const errBit = "ERR bit is not an integer or out of range"
	on, ok := parseInt(c.argv[3])
	if !ok || on&^1 != 0 {
		c.addError(errBit)
		return
	}
	byteIdx := int(off >> 3)
	e := c.lookupWrite(key)
	dirty := false
	if e == nil {
		e, _ = c.db.Add(key)
		*e = keyspace.Entry{Str: make([]byte, byteIdx+1)}
		dirty = true
	} else {
		if e.Obj != nil {
			c.addError(errWrongType)
			return
		}
		if len(e.Str) < byteIdx+1 {
			e.Str = growZero(e.Str, byteIdx+1)
			dirty = true
		}
	}
	// Redis unshares the value even when no bit changes.
	setStrEnc(e, strEncRaw)
	bit := uint(7 - off&7)
	old := e.Str[byteIdx] >> bit & 1
	if dirty || int64(old) != on {
		e.Str[byteIdx] = e.Str[byteIdx]&^(1<<bit) | byte(on)<<bit
		c.s.modified(c.db, key, e)
		c.s.notify(notifyString, "setbit", key, c.dbIndex)
	}
	c.addInt(int64(old))
}

func getbitCmd(c *Client) {
	off, ok := c.bitOffset(c.argv[2])
	if !ok {
		return
	}
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	byteIdx := off >> 3
	if byteIdx >= uint64(len(e.Str)) {
		c.addInt(0)
		return
	}
	c.addInt(int64(e.Str[byteIdx] >> (7 - off&7) & 1))
}

// bitRange turns BITCOUNT/BITPOS start/end (bytes, or bits with BIT) into
// an inclusive range of bit positions, clamped like Redis; empty when
// lo > hi.
func bitRange(start, end, strlen int64, isBit bool) (lo, hi int64) {
	total := strlen
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 1, 0
	}
	if isBit {
		return start, end
	}
	return start << 3, end<<3 | 7
}

func parseBitUnit(arg []byte) (isBit, ok bool) {
	switch strings.ToUpper(string(arg)) {
	case "BIT":
		return true, true
	case "BYTE":
		return false, true
	}
	return false, false
}

func bitcountCmd(c *Client) {
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	str := e.Str
	var lo, hi int64
	switch len(c.argv) {
	case 4, 5:
		start, ok := c.getInt(c.argv[2])
		if !ok {
			return
		}
		end, ok := c.getInt(c.argv[3])
		if !ok {
			return
		}
		if start < 0 && end < 0 && start > end {
			c.addInt(0)
			return
		}
		isBit := false
		if len(c.argv) == 5 {
			if isBit, ok = parseBitUnit(c.argv[4]); !ok {
				c.addError(errSyntax)
				return
			}
		}
		lo, hi = bitRange(start, end, int64(len(str)), isBit)
	case 2:
		lo, hi = 0, int64(len(str))*8-1
	default:
		c.addError(errSyntax)
		return
	}
	if lo > hi {
		c.addInt(0)
		return
	}
	c.addInt(popcountBits(str, lo, hi))
}

// popcountBits counts the set bits of str in the inclusive bit range.
func popcountBits(str []byte, lo, hi int64) int64 {
	bl, bh := lo>>3, hi>>3
	var n int64
	for i := bl; i <= bh; i++ {
		v := str[i]
		if i == bl {
			v &= 0xff >> (lo & 7)
		}
		if i == bh {
			v &= 0xff << (7 - hi&7)
		}
		n += int64(bits.OnesCount8(v))
	}
	return n
}

func bitposCmd(c *Client) {
	want, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	if want != 0 && want != 1 {
		c.addError("ERR The bit argument must be 1 or 0.")
		return
	}
	e, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if e == nil {
		if want == 1 {
			c.addInt(-1)
		} else {
			c.addInt(0)
		}
		return
	}
	str := e.Str
	endGiven := false
	var lo, hi int64
	switch len(c.argv) {
	case 4, 5, 6:
		start, ok := c.getInt(c.argv[3])
		if !ok {
			return
		}
		isBit := false
		if len(c.argv) == 6 {
			if isBit, ok = parseBitUnit(c.argv[5]); !ok {
				c.addError(errSyntax)
				return
			}
		}
		end := int64(len(str)) - 1
		if isBit {
			end = int64(len(str))*8 - 1
		}
		if len(c.argv) >= 5 {
			if end, ok = c.getInt(c.argv[4]); !ok {
				return
			}
			endGiven = true
		}
		lo, hi = bitRange(start, end, int64(len(str)), isBit)
	case 3:
		lo, hi = 0, int64(len(str))*8-1
	default:
		c.addError(errSyntax)
		return
	}
	if lo > hi {
		c.addInt(-1)
		return
	}
	for p := lo; p <= hi; {
		v := str[p>>3]
		if want == 0 {
			v = ^v
		}
		if p&7 == 0 && v == 0 && p+7 <= hi {
			p += 8
			continue
		}
		if v>>(7-p&7)&1 == 1 {
			c.addInt(p)
			return
		}
		p++
	}
	// Past the end of the string every bit is clear: looking for a 0
	// without an explicit end finds the first bit after the range.
	if want == 0 && !endGiven {
		c.addInt(hi + 1)
		return
	}
	c.addInt(-1)
}
