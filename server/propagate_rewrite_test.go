package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// propHarness runs commands and returns what each one propagated, as the
// groups the captureSink saw, joined with "|" ("" when nothing).
type propHarness struct {
	t    *testing.T
	s    *Server
	sink *captureSink
}

func newPropHarness(t *testing.T) (*propHarness, *Client) {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	s.mu.Lock()
	s.addSink(sink)
	s.mu.Unlock()
	return &propHarness{t: t, s: s, sink: sink}, s.NewTestClient()
}

// run returns the effects of one command, each group's effects joined with
// " | " and groups with " || ". The clock bounds around the command let
// relativeTTL check absolute times computed from it.
func (h *propHarness) run(c *Client, args ...string) (got string, before, after int64) {
	n := len(h.sink.groups)
	before = time.Now().UnixMilli()
	c.Do(args...)
	after = time.Now().UnixMilli()
	var gs []string
	for _, g := range h.sink.groups[n:] {
		gs = append(gs, strings.Join(g, " | "))
	}
	return strings.Join(gs, " || "), before, after
}

// relTTL matches "{+N}" in a wanted effect: an absolute ms time N ms after
// the command ran.
var relTTL = regexp.MustCompile(`\{\+(-?\d+)\}`)

// matches compares got with want, where each "{+N}" in want stands for a
// number in [before+N, after+N]. Effects may hold binary arguments
// (RESTORE payloads), so only the placeholders go through regexp.
func matches(got, want string, before, after int64) bool {
	last := 0
	for _, l := range relTTL.FindAllStringSubmatchIndex(want, -1) {
		lit := want[last:l[0]]
		if !strings.HasPrefix(got, lit) {
			return false
		}
		got = got[len(lit):]
		n := 0
		for n < len(got) && got[n] >= '0' && got[n] <= '9' {
			n++
		}
		v, err := strconv.ParseInt(got[:n], 10, 64)
		off, _ := strconv.ParseInt(want[l[2]:l[3]], 10, 64)
		if err != nil || v < before+off || v > after+off {
			return false
		}
		got = got[n:]
		last = l[1]
	}
	return got == want[last:]
}

type propCase struct {
	args []string
	want string // "" means nothing propagated
}

func (h *propHarness) check(c *Client, cases []propCase) {
	h.t.Helper()
	for _, tc := range cases {
		got, before, after := h.run(c, tc.args...)
		if !matches(got, tc.want, before, after) {
			h.t.Errorf("%q propagated %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestPropagateStringRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	h.check(c, []propCase{
		{[]string{"SET", "k", "v", "EX", "100"}, "0:SET k v PXAT {+100000}"},
		{[]string{"SET", "k", "v", "PX", "100", "NX"}, ""}, // exists: nothing done
		{[]string{"SET", "k", "v", "px", "5000", "XX", "GET"}, "0:SET k v PXAT {+5000}"},
		{[]string{"SET", "k", "v", "EXAT", "4000000000"}, "0:SET k v PXAT 4000000000000"},
		{[]string{"SET", "k", "v", "PXAT", "4000000000001", "GET"}, "0:SET k v PXAT 4000000000001"},
		// A past EXAT still sets (with a past expiry), as Redis 7.0 does.
		{[]string{"SET", "old", "v", "EXAT", "1"}, "0:SET old v PXAT 1000"},
		{[]string{"SET", "k", "v", "GET"}, "0:SET k v"},
		{[]string{"SET", "k", "v2", "get", "KEEPTTL", "GET"}, "0:SET k v2 KEEPTTL"},
		{[]string{"SET", "k", "v", "XX"}, "0:SET k v XX"},
		{[]string{"SET", "k", "v", "KEEPTTL"}, "0:SET k v KEEPTTL"},
		{[]string{"SET", "k", "v", "NX", "GET"}, ""},
		{[]string{"SET", "k", "v", "EX", "0"}, ""}, // error
		{[]string{"SETEX", "k", "100", "v"}, "0:SET k v PXAT {+100000}"},
		{[]string{"PSETEX", "k", "100", "v"}, "0:SET k v PXAT {+100}"},
		{[]string{"SETNX", "n", "1"}, "0:SETNX n 1"},
		{[]string{"SETNX", "n", "1"}, ""},
		// GETEX
		{[]string{"GETEX", "n", "EX", "100"}, "0:PEXPIREAT n {+100000}"},
		{[]string{"GETEX", "n", "PX", "100"}, "0:PEXPIREAT n {+100}"},
		{[]string{"GETEX", "n", "EXAT", "4000000000"}, "0:PEXPIREAT n 4000000000000"},
		{[]string{"GETEX", "n"}, ""},
		{[]string{"GETEX", "n", "PERSIST"}, "0:PERSIST n"},
		{[]string{"GETEX", "n", "PERSIST"}, ""}, // no TTL left to remove
		{[]string{"GETEX", "missing", "EX", "10"}, ""},
		{[]string{"GETEX", "n", "PXAT", "1"}, "0:DEL n"},
		// GETDEL, GETSET
		{[]string{"SET", "g", "1"}, "0:SET g 1"},
		{[]string{"GETDEL", "g"}, "0:DEL g"},
		{[]string{"GETDEL", "g"}, ""},
		{[]string{"GETSET", "g", "2"}, "0:SET g 2"},
		// INCRBYFLOAT replicates its result.
		{[]string{"INCRBYFLOAT", "f", "1.5"}, "0:SET f 1.5 KEEPTTL"},
		{[]string{"INCRBYFLOAT", "f", "0.1"}, "0:SET f 1.6 KEEPTTL"},
		{[]string{"INCRBYFLOAT", "f", "x"}, ""},
		// Other string writes propagate as they are, and only on a change.
		{[]string{"INCR", "i"}, "0:INCR i"},
		{[]string{"APPEND", "i", "0"}, "0:APPEND i 0"},
		{[]string{"SETRANGE", "i", "0", ""}, ""},
		{[]string{"SETRANGE", "nokey", "5", ""}, ""},
		{[]string{"MSETNX", "i", "1", "j", "2"}, ""},
		{[]string{"SETBIT", "b", "3", "1"}, "0:SETBIT b 3 1"},
		{[]string{"SETBIT", "b", "3", "1"}, ""},
	})
}

func TestPropagateLazyfreeVerbs(t *testing.T) {
	h, c := newPropHarness(t)
	h.s.cfg.LazyfreeLazyExpire = true
	h.s.cfg.LazyfreeLazyUserDel = true
	h.check(c, []propCase{
		{[]string{"SET", "a", "1"}, "0:SET a 1"},
		{[]string{"GETDEL", "a"}, "0:UNLINK a"},
		{[]string{"SET", "a", "1"}, "0:SET a 1"},
		{[]string{"EXPIRE", "a", "-1"}, "0:UNLINK a"},
		{[]string{"SET", "a", "1"}, "0:SET a 1"},
		{[]string{"GETEX", "a", "EXAT", "1"}, "0:UNLINK a"},
	})
}

func TestPropagateExpireRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("SET", "k", "v")
	h.check(c, []propCase{
		{[]string{"EXPIRE", "k", "100"}, "0:PEXPIREAT k {+100000}"},
		{[]string{"EXPIRE", "k", "100", "NX"}, ""}, // has a TTL already
		{[]string{"PEXPIRE", "k", "5000", "xx"}, "0:PEXPIREAT k {+5000} xx"},
		{[]string{"EXPIREAT", "k", "4000000000"}, "0:PEXPIREAT k 4000000000000"},
		{[]string{"PEXPIREAT", "k", "4000000000001", "GT"}, "0:PEXPIREAT k 4000000000001 GT"},
		{[]string{"EXPIRE", "k", "100", "GT"}, ""},
		{[]string{"EXPIRE", "missing", "100"}, ""},
		{[]string{"PERSIST", "k"}, "0:PERSIST k"},
		{[]string{"PERSIST", "k"}, ""},
		{[]string{"EXPIRE", "k", "-1"}, "0:DEL k"},
		{[]string{"SET", "k", "v"}, "0:SET k v"},
		{[]string{"EXPIREAT", "k", "1"}, "0:DEL k"},
		{[]string{"SET", "k", "v"}, "0:SET k v"},
		{[]string{"PEXPIREAT", "k", "1"}, "0:DEL k"},
		{[]string{"EXPIRE", "k", "x"}, ""},
	})
}

func TestPropagateKeyCommandsAsIs(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("SET", "a", "1")
	c.Do("SELECT", "0")
	h.check(c, []propCase{
		{[]string{"RENAME", "a", "b"}, "0:RENAME a b"},
		{[]string{"RENAME", "b", "b"}, ""},
		{[]string{"RENAMENX", "b", "b"}, ""},
		{[]string{"COPY", "b", "c"}, "0:COPY b c"},
		{[]string{"COPY", "b", "c"}, ""},
		{[]string{"RENAMENX", "b", "c"}, ""},
		{[]string{"MOVE", "c", "1"}, "0:MOVE c 1"},
		{[]string{"MOVE", "nokey", "1"}, ""},
		{[]string{"DEL", "nokey", "b"}, "0:DEL nokey b"},
		{[]string{"DEL", "nokey"}, ""},
		{[]string{"UNLINK", "nokey"}, ""},
		{[]string{"SWAPDB", "0", "1"}, "0:SWAPDB 0 1"},
		{[]string{"FLUSHALL", "ASYNC"}, "0:FLUSHALL ASYNC"},
	})
}

func TestPropagateListRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("RPUSH", "l", "a", "b", "c")
	h.check(c, []propCase{
		{[]string{"LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "5"}, "0:LPOP l 3"},
		{[]string{"LMPOP", "1", "l", "LEFT"}, ""},
		{[]string{"RPUSH", "l", "a", "b", "c"}, "0:RPUSH l a b c"},
		{[]string{"LMPOP", "1", "l", "RIGHT"}, "0:RPOP l 1"},
		{[]string{"BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "1"}, "0:RPOP l 1"},
		{[]string{"RPUSH", "l", "a", "b", "c"}, "0:RPUSH l a b c"},
		{[]string{"BLPOP", "nokey", "l", "0"}, "0:LPOP l"},
		{[]string{"BRPOP", "l", "0"}, "0:RPOP l"},
		{[]string{"BLMOVE", "l", "m", "LEFT", "RIGHT", "0"}, "0:LMOVE l m LEFT RIGHT"},
		{[]string{"RPUSH", "l", "x"}, "0:RPUSH l x"},
		{[]string{"BRPOPLPUSH", "l", "m", "0"}, "0:RPOPLPUSH l m"},
		{[]string{"LPOP", "l"}, "0:LPOP l"},
		{[]string{"LPOP", "l"}, ""},
		{[]string{"LPOP", "m", "0"}, ""},
		{[]string{"LPOP", "m"}, "0:LPOP m"},
		{[]string{"LTRIM", "m", "0", "-1"}, ""}, // nothing trimmed
		{[]string{"LTRIM", "m", "1", "-1"}, "0:LTRIM m 1 -1"},
		{[]string{"LREM", "nokey", "0", "a"}, ""},
		{[]string{"LINSERT", "nokey", "BEFORE", "a", "b"}, ""},
		{[]string{"RPUSHX", "nokey", "a"}, ""},
		{[]string{"LPOS", "m", "a"}, ""},
	})
}

// Clients served after blocking propagate the non-blocking form, after the
// push that woke them, as a group of their own.
func TestPropagateServedBlockedClients(t *testing.T) {
	h, c := newPropHarness(t)
	b1, b2, b3 := h.s.NewTestClient(), h.s.NewTestClient(), h.s.NewTestClient()
	b1.Do("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
	b2.Do("BLPOP", "dst", "0")
	b3.Do("BLMPOP", "0", "1", "src2", "LEFT", "COUNT", "5")
	if len(h.sink.groups) != 0 {
		t.Fatalf("blocking propagated %q", h.sink.groups)
	}
	h.check(c, []propCase{
		{[]string{"RPUSH", "src", "a"}, "0:RPUSH src a || 0:LMOVE src dst right left || 0:LPOP dst"},
		{[]string{"RPUSH", "src2", "a", "b"}, "0:RPUSH src2 a b || 0:LPOP src2 2"},
	})
	b1.Do("BRPOPLPUSH", "q", "dst", "0")
	h.check(c, []propCase{
		{[]string{"RPUSH", "q", "a"}, "0:RPUSH q a || 0:RPOPLPUSH q dst"},
	})
}

func TestPropagateHashRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	h.check(c, []propCase{
		{[]string{"HINCRBYFLOAT", "h", "f", "1.5"}, "0:HSET h f 1.5"},
		{[]string{"HINCRBYFLOAT", "h", "f", "0.25"}, "0:HSET h f 1.75"},
		{[]string{"HINCRBYFLOAT", "h", "f", "x"}, ""},
		{[]string{"HINCRBY", "h", "i", "1"}, "0:HINCRBY h i 1"},
		{[]string{"HSETNX", "h", "i", "1"}, ""},
		{[]string{"HDEL", "h", "nofield"}, ""},
		{[]string{"HDEL", "nokey", "f"}, ""},
	})
}

func TestPropagateSetRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("SADD", "s", "a")
	h.check(c, []propCase{
		{[]string{"SPOP", "s"}, "0:SREM s a"},
		{[]string{"SPOP", "s"}, ""},
		{[]string{"SPOP", "s", "3"}, ""},
		{[]string{"SADD", "s", "a", "b", "c"}, "0:SADD s a b c"},
		{[]string{"SPOP", "s", "0"}, ""},
		{[]string{"SPOP", "s", "3"}, "0:DEL s"},
		{[]string{"SADD", "s", "a", "b", "c"}, "0:SADD s a b c"},
		{[]string{"SRANDMEMBER", "s", "2"}, ""},
		{[]string{"SADD", "s", "a"}, ""},
		{[]string{"SREM", "s", "x"}, ""},
		{[]string{"SMOVE", "s", "s", "a"}, ""},
		{[]string{"SMOVE", "s", "t", "x"}, ""},
		{[]string{"SINTERSTORE", "d", "nokey", "s"}, ""},
	})
	// SPOP with a count: one SREM per popped member, in MULTI/EXEC; the
	// members are the ones the reply gave. Both of Redis's strategies.
	for _, n := range []string{"1", "2"} {
		c.Do("DEL", "s")
		c.Do("SADD", "s", "a", "b", "c")
		k := len(h.sink.groups)
		reply := c.Do("SPOP", "s", n)
		groups := h.sink.groups[k:]
		if len(groups) != 1 {
			t.Fatalf("SPOP s %s propagated %q", n, groups)
		}
		g := groups[0]
		cnt, _ := strconv.Atoi(n)
		var popped []string
		for _, e := range g {
			if m, ok := strings.CutPrefix(e, "0:SREM s "); ok {
				popped = append(popped, m)
			}
		}
		if len(popped) != cnt {
			t.Fatalf("SPOP s %s propagated %q", n, g)
		}
		if cnt > 1 && (g[0] != "0:MULTI" || g[len(g)-1] != "0:EXEC" || len(g) != cnt+2) {
			t.Fatalf("SPOP s %s propagated %q, want MULTI/EXEC around the SREMs", n, g)
		}
		for _, m := range popped {
			if !strings.Contains(reply, "\r\n"+m+"\r\n") {
				t.Fatalf("SPOP s %s replied %q but propagated SREM of %q", n, reply, m)
			}
			if got := c.Do("SISMEMBER", "s", m); got != ":0\r\n" {
				t.Fatalf("%q still in s", m)
			}
		}
	}
}

func TestPropagateSort(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("RPUSH", "l", "2", "1")
	h.check(c, []propCase{
		{[]string{"SORT", "l"}, ""},
		{[]string{"SORT_RO", "l"}, ""},
		{[]string{"SORT", "l", "STORE", "d"}, "0:SORT l STORE d"},
		{[]string{"SORT", "nokey", "STORE", "d"}, "0:SORT nokey STORE d"}, // deletes d
		{[]string{"SORT", "nokey", "STORE", "d"}, ""},
	})
}

// A transaction's effects (rewritten ones included) go out as one
// MULTI/EXEC group; a transaction that changed nothing sends nothing.
func TestPropagateRewritesInsideMulti(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("SADD", "s", "m")
	c.Do("MULTI")
	c.Do("SET", "k", "v", "EXAT", "4000000000")
	c.Do("SPOP", "s")
	c.Do("GET", "k")
	c.Do("INCRBYFLOAT", "f", "2")
	got, _, _ := h.run(c, "EXEC")
	want := "0:MULTI | 0:SET k v PXAT 4000000000000 | 0:SREM s m | 0:SET f 2 KEEPTTL | 0:EXEC"
	if got != want {
		t.Errorf("EXEC propagated %q, want %q", got, want)
	}
	c.Do("MULTI")
	c.Do("GET", "k")
	c.Do("DEL", "nokey")
	if got, _, _ := h.run(c, "EXEC"); got != "" {
		t.Errorf("no-op EXEC propagated %q", got)
	}
}

func TestPropagateZSetRewrites(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("ZADD", "z", "1", "a", "2", "b", "3", "c")
	h.check(c, []propCase{
		{[]string{"ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "2"}, "0:ZPOPMIN z 2"},
		{[]string{"ZMPOP", "1", "z", "MAX", "COUNT", "5"}, "0:ZPOPMAX z 1"},
		{[]string{"ZMPOP", "1", "z", "MAX"}, ""},
		{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, "0:ZADD z 1 a 2 b 3 c"},
		{[]string{"BZMPOP", "0", "1", "z", "MAX", "COUNT", "1"}, "0:ZPOPMAX z 1"},
		{[]string{"BZPOPMIN", "nokey", "z", "0"}, "0:ZPOPMIN z"},
		{[]string{"BZPOPMAX", "z", "0"}, "0:ZPOPMAX z"},
		{[]string{"ZPOPMIN", "z"}, ""},
		{[]string{"ZPOPMIN", "nokey", "3"}, ""},
		// No-op writes propagate nothing.
		{[]string{"ZADD", "z", "1", "a"}, "0:ZADD z 1 a"},
		{[]string{"ZADD", "z", "1", "a"}, ""},
		{[]string{"ZADD", "z", "XX", "1", "nomember"}, ""},
		{[]string{"ZREM", "z", "nomember"}, ""},
		{[]string{"ZREMRANGEBYSCORE", "z", "5", "6"}, ""},
		{[]string{"ZREMRANGEBYRANK", "z", "5", "6"}, ""},
		{[]string{"ZREMRANGEBYLEX", "z", "[x", "[y"}, ""},
		{[]string{"ZUNIONSTORE", "d", "1", "nokey"}, ""},
		{[]string{"ZRANGESTORE", "d", "nokey", "0", "-1"}, ""},
		{[]string{"ZINCRBY", "z", "1", "a"}, "0:ZINCRBY z 1 a"},
	})
	b := h.s.NewTestClient()
	b.Do("BZPOPMIN", "q", "0")
	b2 := h.s.NewTestClient()
	b2.Do("BZMPOP", "0", "1", "q2", "MAX", "COUNT", "3")
	h.check(c, []propCase{
		{[]string{"ZADD", "q", "1", "a", "2", "b"}, "0:ZADD q 1 a 2 b || 0:ZPOPMIN q"},
		{[]string{"ZADD", "q2", "1", "a", "2", "b"}, "0:ZADD q2 1 a 2 b || 0:ZPOPMAX q2 2"},
	})
}

func TestPropagateRestoreAbsTTL(t *testing.T) {
	h, c := newPropHarness(t)
	c.Do("SET", "src", "v")
	dump := c.Do("DUMP", "src")
	// The bulk reply's payload.
	payload := dump[strings.Index(dump, "\r\n")+2 : len(dump)-2]
	h.check(c, []propCase{
		{[]string{"RESTORE", "k", "0", payload}, "0:RESTORE k 0 " + payload},
		{[]string{"RESTORE", "k", "5000", payload, "REPLACE"}, "0:RESTORE k {+5000} " + payload + " REPLACE ABSTTL"},
		{[]string{"RESTORE", "k", "4000000000000", payload, "REPLACE", "ABSTTL"}, "0:RESTORE k 4000000000000 " + payload + " REPLACE ABSTTL"},
		{[]string{"RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"}, "0:DEL k"},
		{[]string{"RESTORE", "k", "1", payload, "ABSTTL"}, ""},
	})
}
