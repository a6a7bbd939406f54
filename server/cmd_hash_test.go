package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func newHSTestServer(t *testing.T) (*Server, *Client) {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.NewTestClient()
}

type hsStep struct {
	args []string
	want string
}

func hsRun(t *testing.T, c *Client, steps []hsStep) {
	t.Helper()
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Errorf("%v: got %q, want %q", st.args, got, st.want)
		}
	}
}

func hsArgs(s string) []string { return strings.Fields(s) }

// hsBulks is a RESP2 array of bulk strings.
func hsBulks(items ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(items)) + "\r\n")
	for _, it := range items {
		b.WriteString("$" + strconv.Itoa(len(it)) + "\r\n" + it + "\r\n")
	}
	return b.String()
}

func hsBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// hsEvents collects the keyevent notifications a PSUBSCRIBEd client got.
var hsEventRe = regexp.MustCompile(`__keyevent@0__:([a-z]+)\r\n`)

func hsEvents(sub *Client) []string {
	sub.mu.Lock()
	out := string(sub.out)
	sub.out = sub.out[:0]
	sub.mu.Unlock()
	var evs []string
	for _, m := range hsEventRe.FindAllStringSubmatch(out, -1) {
		evs = append(evs, m[1])
	}
	return evs
}

func hsSubscriber(t *testing.T, s *Server, c *Client) *Client {
	t.Helper()
	if got := c.Do("CONFIG", "SET", "notify-keyspace-events", "KEA"); got != "+OK\r\n" {
		t.Fatalf("config set: %q", got)
	}
	sub := s.NewTestClient()
	sub.Do("PSUBSCRIBE", "__keyevent@0__:*")
	return sub
}

func TestHashBasics(t *testing.T) {
	_, c := newHSTestServer(t)
	hsRun(t, c, []hsStep{
		{hsArgs("HSET h a 1 b 2"), ":2\r\n"},
		{hsArgs("HSET h a 10 c 3"), ":1\r\n"},
		{hsArgs("HSET h a"), "-ERR wrong number of arguments for 'hset' command\r\n"},
		{hsArgs("HMSET h a 1 b"), "-ERR wrong number of arguments for 'hmset' command\r\n"},
		{hsArgs("HMSET h d 4"), "+OK\r\n"},
		{hsArgs("HGET h a"), hsBulk("10")},
		{hsArgs("HGET h zz"), "$-1\r\n"},
		{hsArgs("HGET nokey a"), "$-1\r\n"},
		{hsArgs("HMGET h a zz b"), "*3\r\n$2\r\n10\r\n$-1\r\n$1\r\n2\r\n"},
		{hsArgs("HMGET nokey a"), "*1\r\n$-1\r\n"},
		{hsArgs("HLEN h"), ":4\r\n"},
		{hsArgs("HSTRLEN h a"), ":2\r\n"},
		{hsArgs("HSTRLEN h zz"), ":0\r\n"},
		{hsArgs("HEXISTS h a"), ":1\r\n"},
		{hsArgs("HEXISTS h zz"), ":0\r\n"},
		{hsArgs("HSETNX h a 5"), ":0\r\n"},
		{hsArgs("HSETNX h e 5"), ":1\r\n"},
		// A listpack answers in insertion order.
		{hsArgs("HKEYS h"), hsBulks("a", "b", "c", "d", "e")},
		{hsArgs("HVALS h"), hsBulks("10", "2", "3", "4", "5")},
		{hsArgs("HGETALL h"), hsBulks("a", "10", "b", "2", "c", "3", "d", "4", "e", "5")},
		{hsArgs("HGETALL nokey"), "*0\r\n"},
		{hsArgs("HKEYS nokey"), "*0\r\n"},
		{hsArgs("HDEL h a zz b"), ":2\r\n"},
		{hsArgs("HDEL nokey a"), ":0\r\n"},
		{hsArgs("HDEL h c d e"), ":3\r\n"},
		{hsArgs("EXISTS h"), ":0\r\n"},
		{hsArgs("SET s x"), "+OK\r\n"},
		{hsArgs("HSET s a 1"), "-" + errWrongType + "\r\n"},
		{hsArgs("HGET s a"), "-" + errWrongType + "\r\n"},
		{hsArgs("HMGET s a"), "-" + errWrongType + "\r\n"},
		{hsArgs("HGETALL s"), "-" + errWrongType + "\r\n"},
	})
}

func TestHashRESP3(t *testing.T) {
	_, c := newHSTestServer(t)
	c.Do("HELLO", "3")
	hsRun(t, c, []hsStep{
		{hsArgs("HSET h a 1"), ":1\r\n"},
		{hsArgs("HGETALL h"), "%1\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{hsArgs("HGETALL nokey"), "%0\r\n"},
		{hsArgs("HGET nokey a"), "_\r\n"},
		{hsArgs("HRANDFIELD h 1 WITHVALUES"), "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{hsArgs("HRANDFIELD h -2"), "*2\r\n$1\r\na\r\n$1\r\na\r\n"},
		{hsArgs("HRANDFIELD nokey"), "_\r\n"},
		{hsArgs("HRANDFIELD nokey 3"), "*0\r\n"},
		{hsArgs("HINCRBYFLOAT h a 1.5"), hsBulk("2.5")},
	})
}

func TestHashIncr(t *testing.T) {
	_, c := newHSTestServer(t)
	hsRun(t, c, []hsStep{
		{hsArgs("HINCRBY h n 5"), ":5\r\n"},
		{hsArgs("HINCRBY h n -7"), ":-2\r\n"},
		{hsArgs("HINCRBY h n x"), "-" + errNotInt + "\r\n"},
		{[]string{"HSET", "h", "s", " 11"}, ":1\r\n"},
		{hsArgs("HINCRBY h s 1"), "-ERR hash value is not an integer\r\n"},
		{hsArgs("HINCRBYFLOAT h s 1"), "-ERR hash value is not a float\r\n"},
		{hsArgs("HSET h big 9223372036854775807"), ":1\r\n"},
		{hsArgs("HINCRBY h big 1"), "-ERR increment or decrement would overflow\r\n"},
		{hsArgs("HINCRBYFLOAT f x 1.23"), hsBulk("1.23")},
		{hsArgs("HINCRBYFLOAT f x 0.77"), hsBulk("2")},
		{hsArgs("HINCRBYFLOAT f x -0.1"), hsBulk("1.9")},
		{hsArgs("HINCRBYFLOAT g x 0.1"), hsBulk("0.1")},
		{hsArgs("HINCRBYFLOAT g x 0.2"), hsBulk("0.3")},
		{hsArgs("HINCRBYFLOAT g x -0.3"), hsBulk("0")},
		{hsArgs("HINCRBYFLOAT g y 17179869184"), hsBulk("17179869184")},
		{hsArgs("HINCRBYFLOAT g y 1e3"), hsBulk("17179870184")},
		{hsArgs("HINCRBYFLOAT g y 0x10"), hsBulk("17179870200")},
		{hsArgs("HINCRBYFLOAT g y abc"), "-ERR value is not a valid float\r\n"},
		{hsArgs("HINCRBYFLOAT g y +inf"), "-ERR value is NaN or Infinity\r\n"},
		{hsArgs("HINCRBYFLOAT g y nan"), "-ERR value is not a valid float\r\n"},
		{hsArgs("HINCRBYFLOAT g y 1e5000"), "-ERR value is not a valid float\r\n"},
		{hsArgs("HSET g z 1e4932"), ":1\r\n"},
		{hsArgs("HINCRBYFLOAT g z 1e4932"), "-ERR increment would produce NaN or Infinity\r\n"},
		{hsArgs("EXISTS nokey"), ":0\r\n"},
		{hsArgs("HINCRBYFLOAT nokey a inf"), "-ERR value is NaN or Infinity\r\n"},
		{hsArgs("EXISTS nokey"), ":0\r\n"},
		{[]string{"HSET", "h", "nul", "1\x002"}, ":1\r\n"},
		{hsArgs("HINCRBYFLOAT h nul 1"), "-ERR hash value is not a float\r\n"},
	})
}

func TestHashEncoding(t *testing.T) {
	s, c := newHSTestServer(t)
	enc := func(key string) string {
		e := c.db.GetString(key)
		if e == nil {
			return "none"
		}
		type encoder interface{ Encoding() string }
		return e.Obj.(encoder).Encoding()
	}
	c.Do("HSET", "small", "a", "1")
	if enc("small") != "listpack" {
		t.Fatal(enc("small"))
	}
	c.Do("HSET", "long", "a", strings.Repeat("x", 65))
	if enc("long") != "hashtable" {
		t.Fatal(enc("long"))
	}
	s.cfg.HashMaxListpackEntries = 2
	c.Do("HSET", "many", "a", "1", "b", "2")
	if enc("many") != "listpack" {
		t.Fatal(enc("many"))
	}
	c.Do("HSET", "many", "c", "3")
	if enc("many") != "hashtable" {
		t.Fatal(enc("many"))
	}
	c.Do("HDEL", "many", "a", "b")
	if enc("many") != "hashtable" {
		t.Fatal("must stay a hashtable")
	}
	// HINCRBYFLOAT checks the new value's length (Redis's hashTypeSet).
	s.cfg.HashMaxListpackEntries = 128
	s.cfg.HashMaxListpackValue = 8
	c.Do("HSET", "f1", "tmp", "0")
	c.Do("HINCRBYFLOAT", "f1", "tmp", "0.000005")
	c.Do("HSET", "f2", "tmp", "0")
	c.Do("HINCRBYFLOAT", "f2", "tmp", "0.0000005")
	if enc("f1") != "listpack" || enc("f2") != "hashtable" {
		t.Fatal(enc("f1"), enc("f2"))
	}
	c.Do("HINCRBYFLOAT", "f3", "abcdefghi", "1")
	if enc("f3") != "hashtable" {
		t.Fatal(enc("f3"))
	}
}

func TestHashRandField(t *testing.T) {
	_, c := newHSTestServer(t)
	hsRun(t, c, []hsStep{
		{hsArgs("HSET h a 1 b 2 c 3"), ":3\r\n"},
		{hsArgs("HRANDFIELD h 0"), "*0\r\n"},
		{hsArgs("HRANDFIELD h 10"), hsBulks("a", "b", "c")},
		{hsArgs("HRANDFIELD h 10 WITHVALUES"), hsBulks("a", "1", "b", "2", "c", "3")},
		{hsArgs("HRANDFIELD h 1 foo"), "-ERR syntax error\r\n"},
		{hsArgs("HRANDFIELD h 1 withvalues x"), "-ERR syntax error\r\n"},
		{hsArgs("HRANDFIELD h -9223372036854775808"), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
		{hsArgs("HRANDFIELD h -9223372036854770000 withvalues"), "-ERR value is out of range\r\n"},
		{hsArgs("HRANDFIELD h x"), "-" + errNotInt + "\r\n"},
	})
	for _, n := range []string{"2", "-5", "-5 withvalues", "2 withvalues"} {
		args := append([]string{"HRANDFIELD", "h"}, strings.Fields(n)...)
		got := c.Do(args...)
		want := map[string]int{"2": 2, "-5": 5, "-5 withvalues": 10, "2 withvalues": 4}[n]
		if !strings.HasPrefix(got, "*"+strconv.Itoa(want)+"\r\n") {
			t.Errorf("%v: %q", args, got)
		}
	}
	// Positive counts never repeat a field.
	c.Do("DEL", "h")
	for i := 0; i < 100; i++ {
		c.Do("HSET", "h", "f"+strconv.Itoa(i), "v")
	}
	for _, n := range []string{"10", "60", "99"} {
		got := c.Do("HRANDFIELD", "h", n)
		fields := strings.Split(got, "\r\n")
		seen := map[string]bool{}
		for _, f := range fields {
			if strings.HasPrefix(f, "f") {
				if seen[f] {
					t.Fatalf("count %s repeated %s", n, f)
				}
				seen[f] = true
			}
		}
		if strconv.Itoa(len(seen)) != n {
			t.Fatalf("count %s gave %d", n, len(seen))
		}
	}
}

func TestHashScan(t *testing.T) {
	_, c := newHSTestServer(t)
	c.Do("HSET", "h", "foo", "1", "bar", "2", "food", "3")
	hsRun(t, c, []hsStep{
		{hsArgs("HSCAN h 0"), "*2\r\n$1\r\n0\r\n" + hsBulks("foo", "1", "bar", "2", "food", "3")},
		{hsArgs("HSCAN h 0 MATCH foo*"), "*2\r\n$1\r\n0\r\n" + hsBulks("foo", "1", "food", "3")},
		{hsArgs("HSCAN nokey 0"), "*2\r\n$1\r\n0\r\n*0\r\n"},
		{hsArgs("HSCAN h x"), "-ERR invalid cursor\r\n"},
		{hsArgs("HSCAN h 0 COUNT 0"), "-ERR syntax error\r\n"},
		{hsArgs("HSCAN h 0 COUNT x"), "-" + errNotInt + "\r\n"},
		{hsArgs("HSCAN h 0 TYPE string"), "-ERR syntax error\r\n"},
		{hsArgs("HSCAN h 0 MATCH"), "-ERR syntax error\r\n"},
	})
	// A hashtable is walked with the cursor; every field comes back.
	for i := 0; i < 500; i++ {
		c.Do("HSET", "big", "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	seen := map[string]bool{}
	cursor := "0"
	for rounds := 0; ; rounds++ {
		got := c.Do("HSCAN", "big", cursor, "COUNT", "20")
		parts := strings.Split(got, "\r\n")
		cursor = parts[2]
		for i := 5; i+2 < len(parts); i += 4 {
			if "v"+parts[i][1:] != parts[i+2] {
				t.Fatalf("field %s value %s", parts[i], parts[i+2])
			}
			seen[parts[i]] = true
		}
		if cursor == "0" {
			break
		}
		if rounds > 1000 {
			t.Fatal("scan does not end")
		}
	}
	if len(seen) != 500 {
		t.Fatalf("scan saw %d fields", len(seen))
	}
}

func TestHashEvents(t *testing.T) {
	s, c := newHSTestServer(t)
	sub := hsSubscriber(t, s, c)
	hsEvents(sub)
	steps := []struct {
		cmd  string
		want string
	}{
		{"HSET h a 1", "hset"},
		{"HMSET h b 2", "hset"},
		{"HSETNX h c 3", "hset"},
		{"HSETNX h c 3", ""},
		{"HINCRBY h n 1", "hincrby"},
		{"HINCRBYFLOAT h n 1.5", "hincrbyfloat"},
		{"HDEL h zz", ""},
		{"HDEL h a b", "hdel"},
		{"HDEL h c n", "hdel del"},
	}
	for _, st := range steps {
		c.Do(hsArgs(st.cmd)...)
		if got := strings.Join(hsEvents(sub), " "); got != st.want {
			t.Errorf("%s: events %q, want %q", st.cmd, got, st.want)
		}
	}
}
