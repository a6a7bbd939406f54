package server

import (
	"strconv"
	"strings"
	"testing"
)

// zArr renders a RESP2 array of bulk strings.
func zArr(items ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(items)) + "\r\n")
	for _, it := range items {
		b.WriteString("$" + strconv.Itoa(len(it)) + "\r\n" + it + "\r\n")
	}
	return b.String()
}

func zInt(n int) string { return ":" + strconv.Itoa(n) + "\r\n" }

func zErr(msg string) string { return "-" + msg + "\r\n" }

type zstep struct {
	args string
	want string
}

func runZSteps(t *testing.T, c *Client, steps []zstep) {
	t.Helper()
	for _, st := range steps {
		if got := c.Do(strings.Fields(st.args)...); got != st.want {
			t.Errorf("%s: got %q, want %q", st.args, got, st.want)
		}
	}
}

func newZTestClient(t *testing.T) (*Server, *Client) {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.NewTestClient()
}

func TestZAddOptions(t *testing.T) {
	_, c := newZTestClient(t)
	runZSteps(t, c, []zstep{
		{"ZADD z 1 a 2 b 3 c", zInt(3)},
		{"ZADD z XX 10 a 20 d", zInt(0)},
		{"ZRANGE z 0 -1 WITHSCORES", zArr("b", "2", "c", "3", "a", "10")},
		{"ZADD z NX 5 a 4 d", zInt(1)},
		{"ZADD z GT CH 1 a 50 b", zInt(1)},
		{"ZADD z LT CH 1 a 50 c", zInt(1)},
		{"ZSCORE z a", zArr("1")[4:]},
		{"ZADD z XX NX 1 a", zErr(errZXXNX)},
		{"ZADD z GT LT 1 a", zErr(errZGTLTNX)},
		{"ZADD z NX GT 1 a", zErr(errZGTLTNX)},
		{"ZADD z INCR 1 a 2 b", zErr(errZIncrPair)},
		{"ZADD z 1 a 2", zErr(errSyntax)},
		{"ZADD z nan a", zErr(errNotFloat)},
		{"ZADD z INCR GT 0 a", "$-1\r\n"},
		{"ZADD z INCR 2.5 a", "$3\r\n3.5\r\n"},
		{"ZINCRBY z 1 new", "$1\r\n1\r\n"},
		{"ZADD inf +inf x", zInt(1)},
		{"ZINCRBY inf -inf x", zErr(errNaN)},
		{"ZADD missing XX 1 a", zInt(0)},
		{"EXISTS missing", zInt(0)},
		{"SET s v", "+OK\r\n"},
		{"ZADD s 1 a", zErr(errWrongType)},
	})
}

func TestZScoreFormatting(t *testing.T) {
	_, c := newZTestClient(t)
	runZSteps(t, c, []zstep{
		{"ZADD z 0.1 a 1e300 b inf c -inf d", zInt(4)},
		{"ZSCORE z a", "$19\r\n0.10000000000000001\r\n"},
		{"ZSCORE z b", "$23\r\n1.0000000000000001e+300\r\n"},
		{"ZSCORE z c", "$3\r\ninf\r\n"},
		{"ZMSCORE z d nope", "*2\r\n$4\r\n-inf\r\n$-1\r\n"},
	})
	c.Do("HELLO", "3")
	runZSteps(t, c, []zstep{
		{"ZSCORE z a", ",0.10000000000000001\r\n"},
		{"ZSCORE z c", ",inf\r\n"},
		{"ZSCORE z nope", "_\r\n"},
		{"ZRANGE z 0 0 WITHSCORES", "*1\r\n*2\r\n$1\r\nd\r\n,-inf\r\n"},
		{"ZPOPMIN z", "*2\r\n$1\r\nd\r\n,-inf\r\n"},
		{"ZPOPMIN z 1", "*1\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n"},
		{"ZMPOP 1 z MAX", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,inf\r\n"},
		{"ZMPOP 1 none MAX", "_\r\n"},
	})
}

func TestZRangeForms(t *testing.T) {
	_, c := newZTestClient(t)
	runZSteps(t, c, []zstep{
		{"ZADD z 1 a 2 b 3 c 4 d 5 e", zInt(5)},
		{"ZRANGE z 1 -2", zArr("b", "c", "d")},
		{"ZRANGE z -2 -1 REV", zArr("b", "a")},
		{"ZREVRANGE z 0 1 WITHSCORES", zArr("e", "5", "d", "4")},
		{"ZRANGE z (1 3 BYSCORE", zArr("b", "c")},
		{"ZRANGE z 5 (2 BYSCORE REV LIMIT 1 2", zArr("d", "c")},
		{"ZRANGEBYSCORE z -inf +inf LIMIT 3 -1", zArr("d", "e")},
		{"ZREVRANGEBYSCORE z 4 2 WITHSCORES", zArr("d", "4", "c", "3", "b", "2")},
		{"ZRANGE z 0 1 LIMIT 0 1", zErr(errZLimitRank)},
		{"ZRANGE z - + BYLEX WITHSCORES", zErr(errZScoresBylex)},
		{"ZRANGE z 0 1 BYSCORE BYLEX", zErr(errSyntax)},
		{"ZRANGEBYSCORE z a 1", zErr(errZMinMaxFloat)},
		{"ZCOUNT z (1 +inf", zInt(4)},
		{"ZRANK z c", zInt(2)},
		{"ZREVRANK z c", zInt(2)},
		{"ZRANK z nope", "$-1\r\n"},
		{"ZRANGESTORE dst z 1 5 BYSCORE LIMIT 1 2", zInt(2)},
		{"ZRANGE dst 0 -1", zArr("b", "c")},
		{"ZRANGESTORE dst none 0 -1", zInt(0)},
		{"EXISTS dst", zInt(0)},
	})
	runZSteps(t, c, []zstep{
		{"ZADD l 0 a 0 b 0 c 0 d 0 e", zInt(5)},
		{"ZRANGEBYLEX l [b (d", zArr("b", "c")},
		{"ZREVRANGEBYLEX l + (c", zArr("e", "d")},
		{"ZRANGEBYLEX l - + LIMIT 1 1", zArr("b")},
		{"ZLEXCOUNT l - +", zInt(5)},
		{"ZLEXCOUNT l (a [c", zInt(2)},
		{"ZRANGEBYLEX l a c", zErr(errZLexRange)},
		{"ZREMRANGEBYLEX l [a (c", zInt(2)},
		{"ZREMRANGEBYRANK l 0 0", zInt(1)},
		{"ZREMRANGEBYSCORE l -inf +inf", zInt(2)},
		{"EXISTS l", zInt(0)},
	})
}

func TestZSetOps(t *testing.T) {
	_, c := newZTestClient(t)
	c.Do("SADD", "s", "z", "w")
	runZSteps(t, c, []zstep{
		{"ZADD a 1 x 2 y 3 z", zInt(3)},
		{"ZADD b 10 y 20 z 30 w", zInt(3)},
		{"ZUNION 2 a b WITHSCORES", zArr("x", "1", "y", "12", "z", "23", "w", "30")},
		{"ZINTER 2 a b AGGREGATE MAX WITHSCORES", zArr("y", "10", "z", "20")},
		{"ZINTERSTORE d 2 a b WEIGHTS 2 1", zInt(2)},
		{"ZRANGE d 0 -1 WITHSCORES", zArr("y", "14", "z", "26")},
		{"ZDIFF 2 a b", zArr("x")},
		{"ZINTERCARD 2 a b LIMIT 1", zInt(1)},
		{"ZINTERCARD 2 a b LIMIT -1", zErr(errZLimitNeg)},
		{"ZUNION 0 a", zErr("ERR at least 1 input key is needed for 'zunion' command")},
		{"ZUNION 3 a b", zErr(errSyntax)},
		{"ZUNIONSTORE d 1 a WITHSCORES", zErr(errSyntax)},
		{"ZUNION 1 a WEIGHTS x", zErr(errZWeight)},
		{"ZDIFFSTORE d 2 a a", zInt(0)},
		{"EXISTS d", zInt(0)},
	})
	if got := c.Do("ZINTER", "2", "a", "s", "WITHSCORES"); got != zArr("z", "4") {
		t.Errorf("ZINTER with a set: %q", got)
	}
}

func TestZPopAndEncoding(t *testing.T) {
	s, c := newZTestClient(t)
	runZSteps(t, c, []zstep{
		{"ZADD z 1 a 2 b 3 c", zInt(3)},
		{"ZPOPMIN z", zArr("a", "1")},
		{"ZPOPMAX z 5", zArr("c", "3", "b", "2")},
		{"EXISTS z", zInt(0)},
		{"ZPOPMIN z -1", zErr(errZPositive)},
		{"ZMPOP 0 z MIN", zErr(errZNumkeys)},
		{"ZMPOP 1 z MIN COUNT 0", zErr(errZCount)},
		{"ZMPOP 1 z bad", zErr(errSyntax)},
		{"ZMPOP 1 z MIN", "*-1\r\n"},
		{"BZPOPMIN z -1", zErr(errTimeoutNeg)},
	})
	c.Do("ZADD", "small", "1", "a")
	s.mu.Lock()
	enc := zsetOf(c.db.Get([]byte("small"))).Encoding()
	s.mu.Unlock()
	if enc != "listpack" {
		t.Fatalf("encoding %s", enc)
	}
	c.Do("ZADD", "small", "2", strings.Repeat("x", 65))
	c.Do("ZREM", "small", strings.Repeat("x", 65))
	s.mu.Lock()
	enc = zsetOf(c.db.Get([]byte("small"))).Encoding()
	s.mu.Unlock()
	if enc != "skiplist" {
		t.Fatalf("encoding after a long member: %s (want sticky skiplist)", enc)
	}
}

func TestZRandMemberAndScan(t *testing.T) {
	_, c := newZTestClient(t)
	c.Do("ZADD", "z", "1", "a", "2", "b", "3", "c")
	if got := c.Do("ZRANDMEMBER", "z", "5"); got != zArr("c", "b", "a") {
		t.Errorf("ZRANDMEMBER 5: %q", got)
	}
	if got := c.Do("ZRANDMEMBER", "z", "-5"); !strings.HasPrefix(got, "*5\r\n") {
		t.Errorf("ZRANDMEMBER -5: %q", got)
	}
	if got := c.Do("ZRANDMEMBER", "z", "2", "WITHSCORES"); !strings.HasPrefix(got, "*4\r\n") {
		t.Errorf("ZRANDMEMBER 2 WITHSCORES: %q", got)
	}
	if got := c.Do("ZRANDMEMBER", "z", "-9223372036854775808"); !strings.Contains(got, "value is out of range") {
		t.Errorf("overflow: %q", got)
	}
	want := "*2\r\n$1\r\n0\r\n" + zArr("a", "1", "b", "2", "c", "3")
	if got := c.Do("ZSCAN", "z", "0"); got != want {
		t.Errorf("ZSCAN: %q", got)
	}
	if got := c.Do("ZSCAN", "z", "0", "MATCH", "b"); got != "*2\r\n$1\r\n0\r\n"+zArr("b", "2") {
		t.Errorf("ZSCAN MATCH: %q", got)
	}
}

func TestZSetBlockingInMulti(t *testing.T) {
	_, c := newZTestClient(t)
	runZSteps(t, c, []zstep{
		{"MULTI", "+OK\r\n"},
		{"BZPOPMIN z 0", "+QUEUED\r\n"},
		{"EXEC", "*1\r\n*-1\r\n"},
	})
}
