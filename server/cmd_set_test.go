package server

import (
	"sort"
	"strconv"
	"strings"
	"testing"
)

// hsMembers extracts the sorted bulk strings of a flat reply.
func hsMembers(reply string) []string {
	parts := strings.Split(reply, "\r\n")
	var out []string
	for i := 1; i+1 < len(parts); i++ {
		if strings.HasPrefix(parts[i], "$") {
			out = append(out, parts[i+1])
			i++
		}
	}
	sort.Strings(out)
	return out
}

func hsSetEnc(c *Client, key string) string {
	e := c.db.GetString(key)
	if e == nil {
		return "none"
	}
	type encoder interface{ Encoding() string }
	return e.Obj.(encoder).Encoding()
}

func TestSetBasics(t *testing.T) {
	_, c := newHSTestServer(t)
	hsRun(t, c, []hsStep{
		{hsArgs("SADD s 3 1 2 1"), ":3\r\n"},
		{hsArgs("SADD s 2"), ":0\r\n"},
		{hsArgs("SMEMBERS s"), hsBulks("1", "2", "3")},
		{hsArgs("SCARD s"), ":3\r\n"},
		{hsArgs("SCARD nokey"), ":0\r\n"},
		{hsArgs("SISMEMBER s 2"), ":1\r\n"},
		{hsArgs("SISMEMBER s 9"), ":0\r\n"},
		{hsArgs("SMISMEMBER s 9 1"), "*2\r\n:0\r\n:1\r\n"},
		{hsArgs("SMISMEMBER nokey a"), "*1\r\n:0\r\n"},
		{hsArgs("SREM s 1 9"), ":1\r\n"},
		{hsArgs("SREM s 2 3 4"), ":2\r\n"},
		{hsArgs("EXISTS s"), ":0\r\n"},
		{hsArgs("SMEMBERS nokey"), "*0\r\n"},
		{hsArgs("LPUSH l a"), ":1\r\n"},
		{hsArgs("SADD l a"), "-" + errWrongType + "\r\n"},
		{hsArgs("SMISMEMBER l a"), "-" + errWrongType + "\r\n"},
		{hsArgs("SMISMEMBER l"), "-ERR wrong number of arguments for 'smismember' command\r\n"},
		{hsArgs("SRANDMEMBER nokey"), "$-1\r\n"},
		{hsArgs("SRANDMEMBER nokey 5"), "*0\r\n"},
		{hsArgs("SPOP nokey"), "$-1\r\n"},
		{hsArgs("SPOP nokey 3"), "*0\r\n"},
		{hsArgs("SPOP nokey -1"), "-ERR value is out of range, must be positive\r\n"},
		{hsArgs("SPOP s 1 2"), "-ERR syntax error\r\n"},
		{hsArgs("SRANDMEMBER s 1 2"), "-ERR syntax error\r\n"},
		{hsArgs("SADD r a"), ":1\r\n"},
		{hsArgs("SRANDMEMBER r -9223372036854775808"), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
		{hsArgs("SRANDMEMBER r 0"), "*0\r\n"},
		{hsArgs("SRANDMEMBER r -3"), hsBulks("a", "a", "a")},
	})
}

func TestSetRESP3(t *testing.T) {
	_, c := newHSTestServer(t)
	c.Do("HELLO", "3")
	hsRun(t, c, []hsStep{
		{hsArgs("SADD s 2 1"), ":2\r\n"},
		{hsArgs("SMEMBERS s"), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{hsArgs("SMEMBERS nokey"), "~0\r\n"},
		{hsArgs("SINTER s nokey"), "~0\r\n"},
		{hsArgs("SUNION s nokey"), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{hsArgs("SPOP nokey 2"), "~0\r\n"},
		{hsArgs("SRANDMEMBER s 5"), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{hsArgs("SPOP s 5"), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{hsArgs("SPOP nokey"), "_\r\n"},
	})
}

func TestSetEncoding(t *testing.T) {
	s, c := newHSTestServer(t)
	c.Do("SADD", "i", "1", "2")
	c.Do("SADD", "h", "a")
	if hsSetEnc(c, "i") != "intset" || hsSetEnc(c, "h") != "hashtable" {
		t.Fatal(hsSetEnc(c, "i"), hsSetEnc(c, "h"))
	}
	c.Do("SADD", "i", "x")
	c.Do("SREM", "i", "x")
	if hsSetEnc(c, "i") != "hashtable" {
		t.Fatal("must stay a hashtable")
	}
	s.cfg.SetMaxIntsetEntries = 3
	c.Do("SADD", "n", "1", "2", "3")
	if hsSetEnc(c, "n") != "intset" {
		t.Fatal(hsSetEnc(c, "n"))
	}
	c.Do("SADD", "n", "4")
	if hsSetEnc(c, "n") != "hashtable" {
		t.Fatal(hsSetEnc(c, "n"))
	}
	// STORE results start as intsets, like Redis's.
	s.cfg.SetMaxIntsetEntries = 512
	c.Do("SADD", "x", "1", "2", "3", "a")
	c.Do("SREM", "x", "a")
	c.Do("SINTERSTORE", "d", "x", "x")
	c.Do("SUNIONSTORE", "u", "x", "h")
	if hsSetEnc(c, "x") != "hashtable" || hsSetEnc(c, "d") != "intset" || hsSetEnc(c, "u") != "hashtable" {
		t.Fatal(hsSetEnc(c, "x"), hsSetEnc(c, "d"), hsSetEnc(c, "u"))
	}
	// SMOVE creates the destination with the member's encoding.
	c.Do("SMOVE", "x", "m1", "2")
	c.Do("SADD", "src", "a", "b")
	c.Do("SMOVE", "src", "m2", "a")
	if hsSetEnc(c, "m1") != "intset" || hsSetEnc(c, "m2") != "hashtable" {
		t.Fatal(hsSetEnc(c, "m1"), hsSetEnc(c, "m2"))
	}
}

func TestSetAlgebra(t *testing.T) {
	_, c := newHSTestServer(t)
	c.Do("SADD", "a", "1", "2", "3", "x")
	c.Do("SADD", "b", "2", "3", "4", "x")
	c.Do("SADD", "c", "3", "x", "y")
	c.Do("SET", "str", "v")
	check := func(args string, want ...string) {
		t.Helper()
		got := hsMembers(c.Do(hsArgs(args)...))
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", args, got, want)
		}
	}
	check("SINTER a b c", "3", "x")
	check("SINTER a b", "2", "3", "x")
	check("SINTER a nokey")
	check("SUNION a b nokey", "1", "2", "3", "4", "x")
	check("SDIFF a b", "1")
	check("SDIFF a b c", "1")
	check("SDIFF a a")
	check("SDIFF nokey a")
	hsRun(t, c, []hsStep{
		{hsArgs("SINTER a str"), "-" + errWrongType + "\r\n"},
		{hsArgs("SINTER nokey str"), "-" + errWrongType + "\r\n"},
		{hsArgs("SUNION str a"), "-" + errWrongType + "\r\n"},
		{hsArgs("SDIFF a str"), "-" + errWrongType + "\r\n"},
		{hsArgs("SINTERCARD 2 a b"), ":3\r\n"},
		{hsArgs("SINTERCARD 2 a b LIMIT 2"), ":2\r\n"},
		{hsArgs("SINTERCARD 2 a b limit 0"), ":3\r\n"},
		{hsArgs("SINTERCARD 1 nokey"), ":0\r\n"},
		{hsArgs("SINTERCARD 0 a"), "-ERR numkeys should be greater than 0\r\n"},
		{hsArgs("SINTERCARD x a"), "-ERR numkeys should be greater than 0\r\n"},
		{hsArgs("SINTERCARD 2 a"), "-ERR Number of keys can't be greater than number of args\r\n"},
		{hsArgs("SINTERCARD 1 a b"), "-ERR syntax error\r\n"},
		{hsArgs("SINTERCARD 1 a LIMIT"), "-ERR syntax error\r\n"},
		{hsArgs("SINTERCARD 1 a LIMIT -1"), "-ERR LIMIT can't be negative\r\n"},
		{hsArgs("SINTERCARD 1 str"), "-" + errWrongType + "\r\n"},
		{hsArgs("SINTERSTORE d a b"), ":3\r\n"},
		{hsArgs("SUNIONSTORE d a b"), ":5\r\n"},
		{hsArgs("SDIFFSTORE d a b"), ":1\r\n"},
		{hsArgs("SMEMBERS d"), hsBulks("1")},
		{hsArgs("SDIFFSTORE d b b"), ":0\r\n"},
		{hsArgs("EXISTS d"), ":0\r\n"},
		{hsArgs("SINTERSTORE str nokey a"), ":0\r\n"},
		{hsArgs("EXISTS str"), ":0\r\n"},
		{hsArgs("SET str v"), "+OK\r\n"},
		{hsArgs("SADD d z"), ":1\r\n"},
		{hsArgs("SUNIONSTORE d str a"), "-" + errWrongType + "\r\n"},
		{hsArgs("SMEMBERS d"), hsBulks("z")},
		// The destination is overwritten whatever its type, TTL dropped.
		{hsArgs("EXPIRE str 100"), ":1\r\n"},
		{hsArgs("SUNIONSTORE str a"), ":4\r\n"},
		{hsArgs("TTL str"), ":-1\r\n"},
		{hsArgs("TYPE str"), "+set\r\n"},
	})
}

func TestSetPopRandMove(t *testing.T) {
	_, c := newHSTestServer(t)
	var members []string
	for i := 1; i <= 20; i++ {
		members = append(members, strconv.Itoa(i))
	}
	for _, n := range []int{1, 2, 3, 18, 19, 20, 30} {
		c.Do("DEL", "s")
		c.Do(append([]string{"SADD", "s"}, members...)...)
		popped := hsMembers(c.Do("SPOP", "s", strconv.Itoa(n)))
		rest := hsMembers(c.Do("SMEMBERS", "s"))
		want := n
		if want > 20 {
			want = 20
		}
		if len(popped) != want || len(popped)+len(rest) != 20 {
			t.Fatalf("SPOP %d: popped %d, left %d", n, len(popped), len(rest))
		}
		all := append(popped, rest...)
		sort.Strings(all)
		for i := 1; i < len(all); i++ {
			if all[i] == all[i-1] {
				t.Fatalf("SPOP %d: %s twice", n, all[i])
			}
		}
	}
	c.Do("DEL", "s")
	c.Do(append([]string{"SADD", "s"}, members...)...)
	for _, n := range []int{5, 15, 19, 25} {
		got := hsMembers(c.Do("SRANDMEMBER", "s", strconv.Itoa(n)))
		want := n
		if want > 20 {
			want = 20
		}
		seen := map[string]bool{}
		for _, m := range got {
			seen[m] = true
		}
		if len(got) != want || len(seen) != want {
			t.Fatalf("SRANDMEMBER %d: %v", n, got)
		}
	}
	if got := hsMembers(c.Do("SRANDMEMBER", "s", "-50")); len(got) != 50 {
		t.Fatalf("negative count: %d", len(got))
	}
	c.Do("SADD", "src", "1", "a", "b")
	c.Do("SADD", "dst", "2", "3")
	c.Do("SET", "str", "v")
	hsRun(t, c, []hsStep{
		{hsArgs("SMOVE src dst a"), ":1\r\n"},
		{hsArgs("SMOVE src dst a"), ":0\r\n"},
		{hsArgs("SMOVE nokey dst a"), ":0\r\n"},
		{hsArgs("SMOVE src src b"), ":1\r\n"},
		{hsArgs("SMOVE src src zz"), ":0\r\n"},
		{hsArgs("SMOVE str dst a"), "-" + errWrongType + "\r\n"},
		{hsArgs("SMOVE src str b"), "-" + errWrongType + "\r\n"},
		{hsArgs("SMOVE src new b"), ":1\r\n"},
		{hsArgs("SMOVE src new 1"), ":1\r\n"},
		{hsArgs("EXISTS src"), ":0\r\n"},
	})
}

func TestSetScan(t *testing.T) {
	_, c := newHSTestServer(t)
	c.Do("SADD", "i", "3", "1", "12")
	hsRun(t, c, []hsStep{
		{hsArgs("SSCAN i 0"), "*2\r\n$1\r\n0\r\n" + hsBulks("1", "3", "12")},
		{hsArgs("SSCAN i 0 MATCH 1*"), "*2\r\n$1\r\n0\r\n" + hsBulks("1", "12")},
		{hsArgs("SSCAN nokey 0"), "*2\r\n$1\r\n0\r\n*0\r\n"},
		{hsArgs("SSCAN i -1"), "*2\r\n$1\r\n0\r\n" + hsBulks("1", "3", "12")},
		{hsArgs("SSCAN i 18446744073709551616"), "-ERR invalid cursor\r\n"},
	})
	for i := 0; i < 1000; i++ {
		c.Do("SADD", "big", "m"+strconv.Itoa(i))
	}
	seen := map[string]bool{}
	cursor := "0"
	for {
		parts := strings.Split(c.Do("SSCAN", "big", cursor), "\r\n")
		cursor = parts[2]
		for i := 5; i < len(parts); i += 2 {
			seen[parts[i]] = true
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("scan saw %d", len(seen))
	}
}

func TestSetEvents(t *testing.T) {
	s, c := newHSTestServer(t)
	sub := hsSubscriber(t, s, c)
	c.Do("SET", "str", "v")
	hsEvents(sub)
	steps := []struct {
		cmd  string
		want string
	}{
		{"SADD s a b c", "sadd"},
		{"SADD s a", ""},
		{"SREM s zz", ""},
		{"SREM s a", "srem"},
		{"SPOP s", "spop"},
		{"SPOP s 5", "spop del"},
		{"SADD s a b", "sadd"},
		{"SADD t b", "sadd"},
		{"SMOVE s t b", "srem"},
		{"SMOVE s t a", "srem del sadd"},
		{"SADD s 1 2", "sadd"},
		{"SINTERSTORE d s t", ""},
		{"SUNIONSTORE d s t", "sunionstore"},
		{"SDIFFSTORE d s t", "sdiffstore"},
		{"SINTERSTORE d s nokey", "del"},
		{"SINTERSTORE d s nokey", ""},
		{"SDIFFSTORE d s s", ""},
		{"SINTERSTORE d s s", "sinterstore"},
		{"SREM s 1 2", "srem del"},
	}
	for _, st := range steps {
		c.Do(hsArgs(st.cmd)...)
		if got := strings.Join(hsEvents(sub), " "); got != st.want {
			t.Errorf("%s: events %q, want %q", st.cmd, got, st.want)
		}
	}
}

// SMOVE must not touch an unchanged destination (WATCH sees no change).
func TestSetSmoveWatch(t *testing.T) {
	s, c := newHSTestServer(t)
	other := s.NewTestClient()
	c.Do("SADD", "src", "a", "b")
	c.Do("SADD", "dst", "a")
	c.Do("WATCH", "dst")
	c.Do("MULTI")
	c.Do("SADD", "dst", "c")
	other.Do("SMOVE", "src", "dst", "a")
	if got := c.Do("EXEC"); got != "*1\r\n:1\r\n" {
		t.Fatalf("EXEC: %q", got)
	}
}
