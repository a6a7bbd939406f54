package server

import (
	"strconv"
	"strings"
	"testing"
)

// respArr builds the RESP2 array reply of bulk strings; "<nil>" is a null.
func respArr(items ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(items)) + "\r\n")
	for _, it := range items {
		if it == "<nil>" {
			b.WriteString("$-1\r\n")
			continue
		}
		b.WriteString("$" + strconv.Itoa(len(it)) + "\r\n" + it + "\r\n")
	}
	return b.String()
}

func TestSort(t *testing.T) {
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewTestClient()
	setup := [][]string{
		{"RPUSH", "l", "3", "1", "2", "10", "1.5"},
		{"MSET", "w_3", "30", "w_1", "10", "w_2", "-5", "w_10", "0x10", "w_1.5", ""},
		{"HSET", "h_3", "f", "three"},
		{"HSET", "h_1", "f", "one"},
		{"SADD", "s", "b", "a", "c"},
		{"ZADD", "z", "1", "a", "3", "b", "2", "c"},
		{"SET", "str", "x"},
		{"SET", "x:a->", "100"},
		{"RPUSH", "arrow", "a"},
	}
	for _, a := range setup {
		c.Do(a...)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"SORT", "l"}, respArr("1", "1.5", "2", "3", "10")},
		{[]string{"SORT", "l", "DESC"}, respArr("10", "3", "2", "1.5", "1")},
		{[]string{"SORT", "l", "ALPHA"}, respArr("1", "1.5", "10", "2", "3")},
		{[]string{"SORT", "l", "LIMIT", "1", "2"}, respArr("1.5", "2")},
		{[]string{"SORT", "l", "LIMIT", "-5", "2"}, respArr("1", "1.5")},
		{[]string{"SORT", "l", "LIMIT", "3", "-1"}, respArr("3", "10")},
		{[]string{"SORT", "l", "LIMIT", "9", "2"}, respArr()},
		{[]string{"SORT", "l", "BY", "nosort"}, respArr("3", "1", "2", "10", "1.5")},
		{[]string{"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"}, respArr("10", "2")},
		// w_1.5 is "" (0), w_10 is hex 16.
		{[]string{"SORT", "l", "BY", "w_*"}, respArr("2", "1.5", "1", "10", "3")},
		{[]string{"SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"},
			respArr("2", "<nil>", "1.5", "<nil>", "1", "one", "10", "<nil>", "3", "three")},
		{[]string{"SORT", "l", "BY", "h_*->f", "ALPHA", "LIMIT", "3", "2"}, respArr("1", "3")},
		{[]string{"SORT", "l", "GET", "nokey", "LIMIT", "0", "1"}, respArr("<nil>")},
		{[]string{"SORT", "arrow", "BY", "num", "GET", "x:*->"}, respArr("100")},
		{[]string{"SORT", "s", "ALPHA"}, respArr("a", "b", "c")},
		{[]string{"SORT", "z", "BY", "nosort"}, respArr("a", "c", "b")},
		{[]string{"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"}, respArr("c", "a")},
		{[]string{"SORT", "z", "ALPHA", "DESC"}, respArr("c", "b", "a")},
		{[]string{"OBJECT", "ENCODING", "z"}, "$8\r\nskiplist\r\n"},
		{[]string{"SORT", "nokey"}, respArr()},
		{[]string{"SORT", "str"}, "-" + errWrongType + "\r\n"},
		{[]string{"SORT", "s"}, "-ERR One or more scores can't be converted into double\r\n"},
		{[]string{"SORT", "l", "LIMIT", "a", "1"}, "-" + errNotInt + "\r\n"},
		{[]string{"SORT", "l", "LIMIT", "1"}, "-" + errSyntax + "\r\n"},
		{[]string{"SORT", "l", "FOO"}, "-" + errSyntax + "\r\n"},
		{[]string{"SORT_RO", "l", "STORE", "x"}, "-" + errSyntax + "\r\n"},
		{[]string{"SORT_RO", "l", "BY", "nosort", "LIMIT", "0", "1"}, respArr("3")},
		// STORE: a list, overwriting; an empty result deletes.
		{[]string{"SORT", "l", "BY", "w_*", "STORE", "str"}, ":5\r\n"},
		{[]string{"LRANGE", "str", "0", "-1"}, respArr("2", "1.5", "1", "10", "3")},
		{[]string{"SORT", "l", "GET", "h_*->f", "LIMIT", "0", "2", "STORE", "dst"}, ":2\r\n"},
		{[]string{"LRANGE", "dst", "0", "-1"}, respArr("one", "")},
		{[]string{"SORT", "s", "BY", "nosort", "STORE", "dst"}, ":3\r\n"},
		{[]string{"LRANGE", "dst", "0", "-1"}, respArr("a", "b", "c")},
		{[]string{"SORT", "nokey", "STORE", "dst"}, ":0\r\n"},
		{[]string{"EXISTS", "dst"}, ":0\r\n"},
		{[]string{"SORT", "l", "LIMIT", "10", "10", "STORE", "dst"}, ":0\r\n"},
		{[]string{"EXISTS", "dst"}, ":0\r\n"},
		{[]string{"COMMAND", "GETKEYS", "SORT", "abc", "STORE", "bad", "GET", "store", "STORE", "def"}, respArr("abc", "def")},
		{[]string{"COMMAND", "GETKEYS", "SORT_RO", "abc"}, respArr("abc")},
	}
	for _, tt := range tests {
		if got := c.Do(tt.args...); got != tt.want {
			t.Errorf("%q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestSortStoreEventsAndTTL(t *testing.T) {
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewTestClient()
	c.Do("RPUSH", "src", "2", "1")
	c.Do("SET", "dst", "x", "EX", "100")
	if got := c.Do("SORT", "src", "STORE", "dst"); got != ":2\r\n" {
		t.Fatalf("SORT STORE = %q", got)
	}
	if got := c.Do("TTL", "dst"); got != ":-1\r\n" {
		t.Fatalf("TTL after SORT STORE = %q, want -1 (STORE drops the TTL)", got)
	}
	if got := c.Do("TYPE", "dst"); got != "+list\r\n" {
		t.Fatalf("TYPE = %q", got)
	}
}
