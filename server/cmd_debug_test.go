package server

import (
	"strings"
	"testing"
)

func TestDebugGate(t *testing.T) {
	s, c := newIntroServer(t)
	for _, tc := range []struct {
		setting string
		allowed bool
	}{{"yes", true}, {"local", true}, {"no", false}} {
		s.cfg.EnableDebugCommand = tc.setting
		got := c.Do("DEBUG", "LOG", "hello")
		if tc.allowed != (got == "+OK\r\n") {
			t.Errorf("enable-debug-command %s: DEBUG LOG = %q", tc.setting, got)
		}
	}
}

func TestDebugCommands(t *testing.T) {
	s, c := newIntroServer(t)
	zero := "+" + strings.Repeat("0", 40) + "\r\n"
	runIntroSteps(t, c, []introStep{
		{[]string{"DEBUG", "DIGEST"}, zero},
		{[]string{"DEBUG", "DIGEST-VALUE", "nosuch"}, "*1\r\n" + zero},
		{[]string{"DEBUG", "NOSUCH"}, "-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.\r\n"},
		{[]string{"DEBUG", "SET-ACTIVE-EXPIRE", "0"}, "+OK\r\n"},
		{[]string{"DEBUG", "SLEEP", "0"}, "+OK\r\n"},
		{[]string{"DEBUG", "OBJECT", "nosuch"}, "-ERR no such key\r\n"},
		{[]string{"DEBUG", "POPULATE", "3"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":3\r\n"},
		{[]string{"GET", "key:2"}, "$7\r\nvalue:2\r\n"},
		{[]string{"DEBUG", "POPULATE", "2", "p", "10"}, "+OK\r\n"},
		{[]string{"GET", "p:1"}, "$10\r\nvalue:1\x00\x00\x00\r\n"},
		{[]string{"DEBUG", "OBJECT", "key:1"}, "~^\\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:8 lru:\\d+ lru_seconds_idle:\\d+\r\n$"},
		{[]string{"DEBUG", "PROTOCOL", "bignum"}, "$37\r\n1234567999999999999999999999999999999\r\n"},
		{[]string{"DEBUG", "PROTOCOL", "push"}, "-ERR RESP2 is not supported by this command\r\n"},
		{[]string{"DEBUG", "PROTOCOL", "map"}, "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"},
		{[]string{"DEBUG", "HELP"}, "~^\\*[0-9]+\r\n\\+DEBUG <subcommand>"},
	})
	if !s.activeExpireDisabled {
		t.Error("SET-ACTIVE-EXPIRE 0 did not disable active expiry")
	}
	c.Do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
	if s.activeExpireDisabled {
		t.Error("SET-ACTIVE-EXPIRE 1 did not re-enable active expiry")
	}
	c.Do("HELLO", "3")
	runIntroSteps(t, c, []introStep{
		{[]string{"DEBUG", "PROTOCOL", "bignum"}, "(1234567999999999999999999999999999999\r\n"},
		{[]string{"DEBUG", "PROTOCOL", "attrib"}, "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"},
		{[]string{"DEBUG", "PROTOCOL", "true"}, "#t\r\n"},
		{[]string{"DEBUG", "PROTOCOL", "verbatim"}, "=29\r\ntxt:This is a verbatim\nstring\r\n"},
	})
}

func TestDebugDigest(t *testing.T) {
	s, c := newIntroServer(t)
	digest := func() string { return c.Do("DEBUG", "DIGEST") }
	c.Do("SET", "a", "1")
	c.Do("RPUSH", "l", "x", "y")
	c.Do("SADD", "s", "m1", "m2")
	c.Do("HSET", "h", "f", "v")
	c.Do("ZADD", "z", "1", "m")
	d1 := digest()
	// Same content built in another order gives the same digest.
	s2, c2 := newIntroServer(t)
	_ = s2
	c2.Do("ZADD", "z", "1", "m")
	c2.Do("HSET", "h", "f", "v")
	c2.Do("SADD", "s", "m2", "m1")
	c2.Do("RPUSH", "l", "x", "y")
	c2.Do("SET", "a", "1")
	if d2 := c2.Do("DEBUG", "DIGEST"); d1 != d2 {
		t.Errorf("same dataset, different digests %q %q", d1, d2)
	}
	for _, change := range [][]string{
		{"RPUSH", "l", "z"},
		{"PEXPIREAT", "a", "99999999999999"},
		{"PEXPIREAT", "a", "99999999999998"}, // a different TTL is a different dataset
		{"MOVE", "a", "1"},
	} {
		before := digest()
		c.Do(change...)
		if digest() == before {
			t.Errorf("%v did not change the digest", change)
		}
	}
	// DIGEST-VALUE ignores key names and TTLs.
	c.Do("SET", "b", "same")
	c.Do("SET", "c", "same")
	c.Do("EXPIRE", "c", "100")
	if got := c.Do("DEBUG", "DIGEST-VALUE", "b", "c"); strings.Count(got, got[5:45]) != 2 {
		t.Errorf("DIGEST-VALUE of equal values = %q", got)
	}
	c.Do("FLUSHALL")
	if got := digest(); got != "+"+strings.Repeat("0", 40)+"\r\n" {
		t.Errorf("empty dataset digest = %q", got)
	}
	_ = s
}
