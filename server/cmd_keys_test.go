package server

import (
	"strings"
	"testing"
)

func TestKeysExpire(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"SET k v", rOK},
		{"EXPIRE k 100 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
		{"EXPIRE k 100 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
		{"EXPIRE k 100 XX AB", "-ERR Unsupported option AB\r\n"},
		{"EXPIRE k abc", "-ERR value is not an integer or out of range\r\n"},
		{"EXPIRE k 9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
		{"PEXPIRE k 9223372036854770000", "-ERR invalid expire time in 'pexpire' command\r\n"},
		{"EXPIRE k 100 XX", r0},
		{"EXPIRE k 100 GT", r0},
		{"EXPIRE k 100 LT", r1},
		{"TTL k", ":100\r\n"},
		{"EXPIRE k 200 NX", r0},
		{"EXPIRE k 200 GT", r1},
		{"TTL k", ":200\r\n"},
		{"EXPIRE k 300 LT", r0},
		{"PERSIST k", r1},
		{"PERSIST k", r0},
		{"TTL k", ":-1\r\n"},
		{"PTTL k", ":-1\r\n"},
		{"EXPIRETIME k", ":-1\r\n"},
		{"EXPIREAT k 4000000000", r1},
		{"EXPIRETIME k", ":4000000000\r\n"},
		{"PEXPIRETIME k", ":4000000000000\r\n"},
		{"TTL nokey", ":-2\r\n"},
		{"PEXPIRETIME nokey", ":-2\r\n"},
		{"EXPIRE nokey 10", r0},
		{"PEXPIREAT k -9223372036854770000", r1},
		{"EXISTS k", r0},
	})
}

func TestKeysRenameCopyMove(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"RENAME nokey x", "-ERR no such key\r\n"},
		{"SET a 1", rOK},
		{"RENAME a a", rOK},
		{"RENAMENX a a", r0},
		{"EXPIRE a 100", r1},
		{"SET b 2", rOK},
		{"RENAMENX a b", r0},
		{"RENAME a b", rOK},
		{"TTL b", ":100\r\n"},
		{"EXISTS a", r0},
		{"COPY b b", "-ERR source and destination objects are the same\r\n"},
		{"COPY b c DB 99", "-ERR DB index is out of range\r\n"},
		{"COPY b c DB x", "-ERR value is not an integer or out of range\r\n"},
		{"COPY b c FOO", "-ERR syntax error\r\n"},
		{"COPY nokey c", r0},
		{"COPY b c", r1},
		{"TTL c", ":100\r\n"},
		{"COPY b c", r0},
		{"COPY b c REPLACE", r1},
		{"COPY b c DB 1", r1},
		{"RPUSH l x y", ":2\r\n"},
		{"COPY l l2", r1},
		{"RPUSH l z", ":3\r\n"},
		{"LLEN l2", ":2\r\n"},
		{"SADD s 1 2", ":2\r\n"},
		{"COPY s s2", r1},
		{"SCARD s2", ":2\r\n"},
		{"OBJECT ENCODING s2", bulk("intset")},
		{"ZADD z 1 a", r1},
		{"COPY z z2", r1},
		{"ZSCORE z2 a", "*"},
		{"HSET h f v", r1},
		{"COPY h h2", r1},
		{"HGET h2 f", bulk("v")},
		{"MOVE b 0", "-ERR source and destination objects are the same\r\n"},
		{"MOVE b 99999999999", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
		{"MOVE c 1", r0},
		{"MOVE c 2", r1},
		{"EXISTS c", r0},
		{"SELECT 2", rOK},
		{"TTL c", ":100\r\n"},
		{"SELECT 0", rOK},
	})
}

func TestKeysMisc(t *testing.T) {
	c := newKeysTestClient(t)
	runKSteps(t, c, []kstep{
		{"RANDOMKEY", rNull},
		{"SET foo_a 1", rOK},
		{"RPUSH foo_b x", r1},
		{"TYPE foo_a", "+string\r\n"},
		{"TYPE foo_b", "+list\r\n"},
		{"TYPE nokey", "+none\r\n"},
		{"KEYS foo_?", "*2\r\n*"},
		{"KEYS nomatch*", "*0\r\n"},
		{"RANDOMKEY", "$5\r\nfoo_*"},
		{"TOUCH foo_a nokey foo_b", ":2\r\n"},
		{"UNLINK foo_a nokey", r1},
		{"SCAN x", "-ERR invalid cursor\r\n"},
		{"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
		{"SCAN 0 MATCH", "-ERR syntax error\r\n"},
		{"SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*1\r\n$5\r\nfoo_b\r\n"},
		{"SCAN 0 TYPE string", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"OBJECT", "-ERR wrong number of arguments for 'object' command\r\n"},
		{"OBJECT foo", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"},
		{"OBJECT ENCODING foo_b", bulk("quicklist")},
		{"OBJECT FREQ foo_b", "-ERR An LFU maxmemory policy is not selected*"},
		{"OBJECT IDLETIME foo_b", r0},
		{"OBJECT HELP", "*15\r\n+OBJECT <subcommand>*"},
	})
}

func TestScanExpiredAndAll(t *testing.T) {
	c := newKeysTestClient(t)
	for i := 0; i < 500; i++ {
		c.Do("SET", "k"+itoa(i), "v")
	}
	c.Do("SET", "gone", "v", "PX", "100000")
	c.s.mu.Lock()
	if e := c.db.Get([]byte("gone")); e != nil {
		c.db.SetExpire([]byte("gone"), e, 1) // long past
	}
	c.s.mu.Unlock()
	seen := map[string]bool{}
	cursor := "0"
	for {
		out := c.Do("SCAN", cursor, "COUNT", "7")
		lines := strings.Split(out, "\r\n")
		cursor = lines[2]
		for i := 5; i < len(lines); i += 2 {
			if lines[i] != "" {
				seen[lines[i]] = true
			}
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 500 || seen["gone"] {
		t.Fatalf("SCAN saw %d keys (gone=%v), want the 500 live ones", len(seen), seen["gone"])
	}
}
