package server

import (
	"strings"
	"testing"
)

// kstep is one command (words split on spaces, `""` for an empty word) and
// its expected raw RESP reply; a reply that ends in "*" is matched as a
// prefix.
type kstep struct {
	cmd  string
	want string
}

func newKeysTestClient(t *testing.T) *Client {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s.NewTestClient()
}

func runKSteps(t *testing.T, c *Client, steps []kstep) {
	t.Helper()
	for _, st := range steps {
		args := strings.Fields(st.cmd)
		for i, a := range args {
			if a == `""` {
				args[i] = ""
			}
		}
		got := c.Do(args...)
		if strings.HasSuffix(st.want, "*") {
			if !strings.HasPrefix(got, strings.TrimSuffix(st.want, "*")) {
				t.Errorf("%s: got %q, want prefix %q", st.cmd, got, st.want)
			}
			continue
		}
		if got != st.want {
			t.Errorf("%s: got %q, want %q", st.cmd, got, st.want)
		}
	}
}

func bulk(s string) string { return "$" + itoa(len(s)) + "\r\n" + s + "\r\n" }

const (
	rOK   = "+OK\r\n"
	rNull = "$-1\r\n"
	r0    = ":0\r\n"
	r1    = ":1\r\n"
)

func TestStringSetOptions(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"SET k v NX XX", "-ERR syntax error\r\n"},
		{"SET k v EX 10 PX 10", "-ERR syntax error\r\n"},
		{"SET k v EX 10 KEEPTTL", "-ERR syntax error\r\n"},
		{"SET k v EX abc XX NX", "-ERR syntax error\r\n"},
		{"SET k v EX abc", "-ERR value is not an integer or out of range\r\n"},
		{"SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET k v PX -1", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET k v EX 10000000000000000", "-ERR invalid expire time in 'set' command\r\n"},
		{"SET k v EX 10 EX 20", rOK},
		{"TTL k", ":20\r\n"},
		{"SET k v2 GET NX", bulk("v")},
		{"GET k", bulk("v")},
		{"SET n v GET NX", rNull},
		{"GET n", bulk("v")},
		{"SET m v GET XX", rNull},
		{"EXISTS m", r0},
		{"SET k v3 KEEPTTL", rOK},
		{"TTL k", ":20\r\n"},
		{"SET k v4", rOK},
		{"TTL k", ":-1\r\n"},
		{"SETNX k x", r0},
		{"SETNX k2 x", r1},
		{"SETEX k3 0 x", "-ERR invalid expire time in 'setex' command\r\n"},
		{"PSETEX k3 100000 x", rOK},
		{"TTL k3", ":100\r\n"},
		{"RPUSH l a", "*"},
		{"SET l x GET", "-WRONGTYPE*"},
	})
}

func TestStringMore(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"SET k hello", rOK},
		{"GETEX k PERSIST EX 10", "-ERR syntax error\r\n"},
		{"GETEX k NX", "-ERR syntax error\r\n"},
		{"GETEX k EX 100", bulk("hello")},
		{"TTL k", ":100\r\n"},
		{"GETEX k PERSIST", bulk("hello")},
		{"TTL k", ":-1\r\n"},
		{"GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n"},
		{"GETEX nokey EX 0", rNull},
		{"GETEX k EXAT 1", bulk("hello")},
		{"EXISTS k", r0},
		{"SET k hello", rOK},
		{"GETDEL k", bulk("hello")},
		{"GETDEL k", rNull},
		{"GETSET k a", rNull},
		{"GETSET k b", bulk("a")},
		{"APPEND k cd", ":3\r\n"},
		{"STRLEN k", ":3\r\n"},
		{"STRLEN nokey", r0},
		{"SETRANGE k -1 x", "-ERR offset is out of range\r\n"},
		{"SETRANGE k 5 x", ":6\r\n"},
		{"GET k", bulk("bcd\x00\x00x")},
		{`SETRANGE new 0 ""`, r0},
		{"EXISTS new", r0},
		{"GETRANGE k 0 1", bulk("bc")},
		{"GETRANGE k -2 -1", bulk("\x00x")},
		{"GETRANGE k 5 3", bulk("")},
		{"GETRANGE nokey 0 -1", bulk("")},
		{"SUBSTR k 0 0", bulk("b")},
		{"MSETNX a 1 b 2", r1},
		{"MSETNX a 1 c 2", r0},
		{"EXISTS c", r0},
		{"MSETNX a 1 c", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
	})
}

func TestIncrByFloat(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"SET k 10.50", rOK},
		{"INCRBYFLOAT k 0.1", bulk("10.6")},
		{"INCRBYFLOAT k -5", bulk("5.6")},
		{"SET k 5.0e3", rOK},
		{"INCRBYFLOAT k 2.0e2", bulk("5200")},
		{"SET k 1", rOK},
		{"INCRBYFLOAT k -1.1", bulk("-0.1")},
		{"INCRBYFLOAT k abc", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT k +inf", "-ERR increment would produce NaN or Infinity\r\n"},
		{"SET k 1e400", rOK},
		{"INCRBYFLOAT k 1", "*"},
		{"SET k 1e5000", rOK},
		{"INCRBYFLOAT k 1", "-ERR value is not a valid float\r\n"},
		{"INCRBYFLOAT f 3", bulk("3")},
		{"OBJECT ENCODING f", bulk("embstr")},
	})
}

func TestStringEncodings(t *testing.T) {
	c := newKeysTestClient(t)
	long := strings.Repeat("x", 45)
	runKSteps(t, c, []kstep{
		{"SET k 1234", rOK},
		{"OBJECT ENCODING k", bulk("int")},
		{"OBJECT REFCOUNT k", ":2147483647\r\n"},
		{"SET k 12345", rOK},
		{"OBJECT REFCOUNT k", r1},
		{`SETRANGE k 0 ""`, ":5\r\n"},
		{"OBJECT ENCODING k", bulk("int")},
		{"SETRANGE k 0 2", ":5\r\n"},
		{"OBJECT ENCODING k", bulk("raw")},
		{"SET k abc", rOK},
		{"OBJECT ENCODING k", bulk("embstr")},
		{"SET k " + long, rOK},
		{"OBJECT ENCODING k", bulk("raw")},
		{"INCR i", r1},
		{"OBJECT ENCODING i", bulk("int")},
		{"APPEND i 2", ":2\r\n"},
		{"OBJECT ENCODING i", bulk("raw")},
		{"APPEND a 12", ":2\r\n"},
		{"OBJECT ENCODING a", bulk("int")},
		{"OBJECT ENCODING nokey", rNull},
	})
}

func TestLCS(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"MSET a ohmytext b mynewtext", rOK},
		{"LCS a b", bulk("mytext")},
		{"LCS a b LEN", ":6\r\n"},
		{"LCS a b LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
		{"LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
		{"LCS a b IDX", "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
		{"LCS a nokey", bulk("")},
		{"RPUSH l x", r1},
		{"LCS a l", "-ERR The specified keys must contain string values\r\n"},
	})
}

func TestBitCommands(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"SETBIT k 1 1", r0},
		{"GET k", bulk("@")},
		{"SETBIT k 1 0", r1},
		{"SETBIT k 0 2", "-ERR bit is not an integer or out of range\r\n"},
		{"SETBIT k -1 1", "-ERR bit offset is not an integer or out of range\r\n"},
		{"SETBIT k 4294967296 1", "-ERR bit offset is not an integer or out of range\r\n"},
		{"GETBIT k 100", r0},
		{"SET k foobar", rOK},
		{"BITCOUNT k", ":26\r\n"},
		{"BITCOUNT k 0 0", ":4\r\n"},
		{"BITCOUNT k 1 1", ":6\r\n"},
		{"BITCOUNT k 1 1 BYTE", ":6\r\n"},
		{"BITCOUNT k 5 30 BIT", ":17\r\n"},
		{"BITCOUNT k 0", "-ERR syntax error\r\n"},
		{"BITCOUNT nokey a b", r0},
		{"SET m \xff\xf0\x00", rOK},
		{"BITPOS m 0", ":12\r\n"},
		{"SET m \x00\xff\xf0", rOK},
		{"BITPOS m 1 0", ":8\r\n"},
		{"BITPOS m 1 2", ":16\r\n"},
		{"BITPOS m 1 2 -1 BYTE", ":16\r\n"},
		{"BITPOS m 1 7 15 BIT", ":8\r\n"},
		{"BITPOS m 1 7 -3 BIT", ":8\r\n"},
		{"SET m \xff\xff\xff", rOK},
		{"BITPOS m 0", ":24\r\n"},
		{"BITPOS m 0 0", ":24\r\n"},
		{"BITPOS m 0 0 -1", ":-1\r\n"},
		{"BITPOS nokey 0", r0},
		{"BITPOS nokey 1", ":-1\r\n"},
		{"BITPOS m 2", "-ERR The bit argument must be 1 or 0.\r\n"},
	})
}
