package server

import (
	"strings"
	"testing"
)

func newListTestServer(t *testing.T) (*Server, *Client) {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.NewTestClient()
}

// bulks renders an array of bulk strings the way RESP2 sends it.
func bulks(items ...string) string {
	var b strings.Builder
	b.WriteString("*" + itoa(len(items)) + "\r\n")
	for _, it := range items {
		b.WriteString("$" + itoa(len(it)) + "\r\n" + it + "\r\n")
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var d []byte
	for n > 0 {
		d = append([]byte{byte('0' + n%10)}, d...)
		n /= 10
	}
	if neg {
		d = append([]byte{'-'}, d...)
	}
	return string(d)
}

type listStep struct {
	args []string
	want string
}

func runListSteps(t *testing.T, c *Client, steps []listStep) {
	t.Helper()
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Errorf("%v: got %q, want %q", st.args, got, st.want)
		}
	}
}

func TestListCommandsRESP2(t *testing.T) {
	_, c := newListTestServer(t)
	wrong := "-" + errWrongType + "\r\n"
	runListSteps(t, c, []listStep{
		{[]string{"RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"}, ":8\r\n"},
		{[]string{"LPUSH", "l2", "a", "b"}, ":2\r\n"},
		{[]string{"LRANGE", "l2", "0", "-1"}, bulks("b", "a")},
		{[]string{"LLEN", "l"}, ":8\r\n"},
		{[]string{"LLEN", "nokey"}, ":0\r\n"},
		{[]string{"LINDEX", "l", "-1"}, "$1\r\nc\r\n"},
		{[]string{"LINDEX", "l", "8"}, "$-1\r\n"},
		{[]string{"LINDEX", "nokey", "x"}, "$-1\r\n"},
		{[]string{"LINDEX", "l", "x"}, "-" + errNotInt + "\r\n"},
		{[]string{"LPOS", "l", "c"}, ":2\r\n"},
		{[]string{"LPOS", "l", "c", "RANK", "-1"}, ":7\r\n"},
		{[]string{"LPOS", "l", "c", "RANK", "4"}, "$-1\r\n"},
		{[]string{"LPOS", "l", "c", "COUNT", "0"}, "*3\r\n:2\r\n:6\r\n:7\r\n"},
		{[]string{"LPOS", "l", "c", "COUNT", "2", "RANK", "-1"}, "*2\r\n:7\r\n:6\r\n"},
		{[]string{"LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7", "RANK", "2"}, "*1\r\n:6\r\n"},
		{[]string{"LPOS", "l", "c", "RANK", "0"}, "-" + errLposRankZero + "\r\n"},
		{[]string{"LPOS", "l", "c", "COUNT", "-1"}, "-" + errLposCountNeg + "\r\n"},
		{[]string{"LPOS", "l", "c", "MAXLEN", "x"}, "-" + errLposMaxlenNeg + "\r\n"},
		{[]string{"LPOS", "l", "c", "RANK"}, "-ERR syntax error\r\n"},
		{[]string{"LPOS", "nokey", "c", "COUNT", "1"}, "*0\r\n"},
		{[]string{"LPOS", "nokey", "c"}, "$-1\r\n"},
		{[]string{"LPOP", "l", "2"}, bulks("a", "b")},
		{[]string{"RPOP", "l"}, "$1\r\nc\r\n"},
		{[]string{"LPOP", "l", "0"}, "*0\r\n"},
		{[]string{"LPOP", "nokey", "0"}, "*-1\r\n"},
		{[]string{"LPOP", "nokey"}, "$-1\r\n"},
		{[]string{"LPOP", "l", "-1"}, "-" + errPopCount + "\r\n"},
		{[]string{"LPOP", "l", "1", "1"}, "-ERR wrong number of arguments for 'lpop' command\r\n"},
		{[]string{"RPOP", "l", "100"}, bulks("c", "3", "2", "1", "c")},
		{[]string{"EXISTS", "l"}, ":0\r\n"},
		{[]string{"LPUSHX", "l", "a"}, ":0\r\n"},
		{[]string{"RPUSH", "l", "a", "c", "d"}, ":3\r\n"},
		{[]string{"RPUSHX", "l", "e", "f"}, ":5\r\n"},
		{[]string{"LINSERT", "l", "BEFORE", "c", "b"}, ":6\r\n"},
		{[]string{"LINSERT", "l", "after", "f", "g"}, ":7\r\n"},
		{[]string{"LINSERT", "l", "after", "zz", "g"}, ":-1\r\n"},
		{[]string{"LINSERT", "nokey", "after", "zz", "g"}, ":0\r\n"},
		{[]string{"LINSERT", "l", "middle", "zz", "g"}, "-ERR syntax error\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, bulks("a", "b", "c", "d", "e", "f", "g")},
		{[]string{"LRANGE", "l", "-100", "1"}, bulks("a", "b")},
		{[]string{"LRANGE", "l", "5", "2"}, "*0\r\n"},
		{[]string{"LRANGE", "l", "0", "-8"}, "*0\r\n"},
		{[]string{"LSET", "l", "-1", "G"}, "+OK\r\n"},
		{[]string{"LSET", "l", "7", "G"}, "-" + errIndexRange + "\r\n"},
		{[]string{"LSET", "nokey", "0", "G"}, "-" + errNoKey + "\r\n"},
		{[]string{"LTRIM", "l", "1", "-2"}, "+OK\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, bulks("b", "c", "d", "e", "f")},
		{[]string{"RPUSH", "r", "x", "y", "x", "z", "x"}, ":5\r\n"},
		{[]string{"LREM", "r", "-2", "x"}, ":2\r\n"},
		{[]string{"LRANGE", "r", "0", "-1"}, bulks("x", "y", "z")},
		{[]string{"LREM", "r", "0", "x"}, ":1\r\n"},
		{[]string{"LREM", "r", "1", "nope"}, ":0\r\n"},
		{[]string{"LTRIM", "r", "5", "10"}, "+OK\r\n"},
		{[]string{"EXISTS", "r"}, ":0\r\n"},
		{[]string{"LMOVE", "l", "m", "LEFT", "RIGHT"}, "$1\r\nb\r\n"},
		{[]string{"RPOPLPUSH", "l", "m"}, "$1\r\nf\r\n"},
		{[]string{"LRANGE", "m", "0", "-1"}, bulks("f", "b")},
		{[]string{"LMOVE", "m", "m", "left", "right"}, "$1\r\nf\r\n"},
		{[]string{"LRANGE", "m", "0", "-1"}, bulks("b", "f")},
		{[]string{"LMOVE", "l", "m", "up", "right"}, "-ERR syntax error\r\n"},
		{[]string{"RPOPLPUSH", "nokey", "m"}, "$-1\r\n"},
		{[]string{"SET", "s", "v"}, "+OK\r\n"},
		{[]string{"RPOPLPUSH", "l", "s"}, wrong},
		{[]string{"LRANGE", "l", "0", "-1"}, bulks("c", "d", "e")},
		{[]string{"LPUSH", "s", "x"}, wrong},
		{[]string{"LLEN", "s"}, wrong},
		{[]string{"LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "2"}, "*2\r\n$1\r\nl\r\n" + bulks("e", "d")},
		{[]string{"LMPOP", "2", "nokey", "s", "LEFT"}, wrong},
		{[]string{"LMPOP", "1", "nokey", "LEFT"}, "*-1\r\n"},
		{[]string{"LMPOP", "0", "l", "LEFT"}, "-" + errNumkeys + "\r\n"},
		{[]string{"LMPOP", "1", "l", "LEFT", "COUNT", "0"}, "-" + errMpopCount + "\r\n"},
		{[]string{"LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"}, "-ERR syntax error\r\n"},
		{[]string{"LMPOP", "2", "l", "LEFT"}, "-ERR syntax error\r\n"},
		{[]string{"LMPOP", "9223372036854775807", "l", "LEFT"}, "-ERR syntax error\r\n"},
		{[]string{"BLPOP", "l", "-1"}, "-" + errTimeoutNeg + "\r\n"},
		{[]string{"BLPOP", "nokey", "s", "0"}, wrong},
		{[]string{"BRPOP", "l", "0"}, "*2\r\n$1\r\nl\r\n$1\r\nc\r\n"},
		{[]string{"EXISTS", "l"}, ":0\r\n"},
	})
}

func TestListRESP3Nulls(t *testing.T) {
	_, c := newListTestServer(t)
	c.Do("HELLO", "3")
	runListSteps(t, c, []listStep{
		{[]string{"LPOP", "nokey"}, "_\r\n"},
		{[]string{"LPOP", "nokey", "1"}, "_\r\n"},
		{[]string{"LMPOP", "1", "nokey", "LEFT"}, "_\r\n"},
		{[]string{"RPUSH", "l", "a"}, ":1\r\n"},
		{[]string{"LPOP", "l", "0"}, "*0\r\n"},
		{[]string{"LPOS", "l", "b"}, "_\r\n"},
		{[]string{"LINDEX", "l", "3"}, "_\r\n"},
	})
}

func TestListBlockingInMulti(t *testing.T) {
	_, c := newListTestServer(t)
	runListSteps(t, c, []listStep{
		{[]string{"RPUSH", "x", "foo", "bar"}, ":2\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"BRPOPLPUSH", "x", "t", "0"}, "+QUEUED\r\n"},
		{[]string{"BRPOPLPUSH", "x", "t", "0"}, "+QUEUED\r\n"},
		{[]string{"BRPOPLPUSH", "x", "t", "0"}, "+QUEUED\r\n"},
		{[]string{"BLPOP", "x", "0"}, "+QUEUED\r\n"},
		{[]string{"BLMPOP", "0", "1", "x", "LEFT"}, "+QUEUED\r\n"},
		{[]string{"LRANGE", "t", "0", "-1"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*6\r\n$3\r\nbar\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n*-1\r\n" + bulks("foo", "bar")},
	})
}

// output drains what pushes and served blocked commands left for c.
func output(c *Client) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := string(c.out)
	c.out = c.out[:0]
	return out
}

func TestListBlockedClientsServedInOrder(t *testing.T) {
	s, c := newListTestServer(t)
	b1, b2, b3 := s.NewTestClient(), s.NewTestClient(), s.NewTestClient()
	if got := b1.Do("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"); got != "" {
		t.Fatalf("BLMOVE replied %q before data", got)
	}
	b2.Do("BLPOP", "dst", "0")
	b3.Do("BLMPOP", "0", "2", "other", "src", "LEFT", "COUNT", "5")
	// The push feeds b1, whose move feeds b2; b3 finds src empty again.
	c.Do("RPUSH", "src", "a")
	if got := output(b1); got != "$1\r\na\r\n" {
		t.Errorf("BLMOVE got %q", got)
	}
	if got := output(b2); got != "*2\r\n$3\r\ndst\r\n$1\r\na\r\n" {
		t.Errorf("BLPOP got %q", got)
	}
	if got := output(b3); got != "" {
		t.Errorf("BLMPOP got %q while src was empty", got)
	}
	// A key replaced by another type does not wake b3.
	c.Do("MULTI")
	c.Do("LPUSH", "src", "x")
	c.Do("SET", "src", "str")
	c.Do("EXEC")
	if got := output(b3); got != "" {
		t.Errorf("BLMPOP woke on a string: %q", got)
	}
	c.Do("DEL", "src")
	c.Do("RPUSH", "src", "1", "2", "3")
	if got := output(b3); got != "*2\r\n$3\r\nsrc\r\n"+bulks("1", "2", "3") {
		t.Errorf("BLMPOP got %q", got)
	}
	// A blocked BRPOPLPUSH whose destination has the wrong type gets the
	// error and leaves the element where it was.
	c.Do("SET", "str", "x")
	b1.Do("BRPOPLPUSH", "q", "str", "0")
	c.Do("RPUSH", "q", "e")
	if got := output(b1); got != "-"+errWrongType+"\r\n" {
		t.Errorf("BRPOPLPUSH got %q", got)
	}
	if got := c.Do("LRANGE", "q", "0", "-1"); got != bulks("e") {
		t.Errorf("q = %q", got)
	}
}

func TestListKeyspaceEvents(t *testing.T) {
	s, c := newListTestServer(t)
	s.pubsub.notifyFlags = parseNotifyFlags("KEA")
	sub := s.NewTestClient()
	sub.Do("PSUBSCRIBE", "__keyevent@0__:*")
	events := func() []string {
		var out []string
		for _, part := range strings.Split(output(sub), "__keyevent@0__:")[1:] {
			ev := part[:strings.Index(part, "\r\n")]
			if ev != "*" { // the pattern of the pmessage, not its channel
				out = append(out, ev)
			}
		}
		return out
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"RPUSH", "a", "1", "2"}, "rpush"},
		{[]string{"LPUSH", "a", "0"}, "lpush"},
		{[]string{"LINSERT", "a", "BEFORE", "1", "x"}, "linsert"},
		{[]string{"LINSERT", "a", "BEFORE", "nope", "x"}, ""},
		{[]string{"LSET", "a", "0", "y"}, "lset"},
		{[]string{"LREM", "a", "0", "x"}, "lrem"},
		{[]string{"LREM", "a", "0", "x"}, ""},
		{[]string{"LTRIM", "a", "0", "-1"}, "ltrim"},
		{[]string{"LMOVE", "a", "b", "LEFT", "RIGHT"}, "rpush lpop"},
		{[]string{"LPOP", "a", "0"}, ""},
		{[]string{"RPOP", "a", "5"}, "rpop del"},
		{[]string{"RPOPLPUSH", "b", "b"}, "lpush rpop"},
		{[]string{"LMPOP", "1", "b", "LEFT"}, "lpop del"},
		{[]string{"RPUSH", "c", "1"}, "rpush"},
		{[]string{"LTRIM", "c", "1", "0"}, "ltrim del"},
	}
	for _, st := range steps {
		c.Do(st.args...)
		if got := strings.Join(events(), " "); got != st.want {
			t.Errorf("%v: events %q, want %q", st.args, got, st.want)
		}
	}
}

func TestListCommandKeys(t *testing.T) {
	s, _ := newListTestServer(t)
	args := func(a ...string) [][]byte {
		out := make([][]byte, len(a))
		for i, x := range a {
			out[i] = []byte(x)
		}
		return out
	}
	if got := s.cmds["lmpop"].keyIndexes(args("lmpop", "2", "a", "b", "left")); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("lmpop keys %v", got)
	}
	if got := s.cmds["blmpop"].keyIndexes(args("blmpop", "0", "1", "a", "left")); len(got) != 1 || got[0] != 3 {
		t.Errorf("blmpop keys %v", got)
	}
	if got := s.cmds["blpop"].keyIndexes(args("blpop", "a", "b", "0")); len(got) != 2 {
		t.Errorf("blpop keys %v", got)
	}
}
