package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type introStep struct {
	args []string
	want string // exact reply, or a regexp when it starts with "~"
}

func runIntroSteps(t *testing.T, c *Client, steps []introStep) {
	t.Helper()
	for _, st := range steps {
		got := c.Do(st.args...)
		if strings.HasPrefix(st.want, "~") {
			if !regexp.MustCompile(st.want[1:]).MatchString(got) {
				t.Errorf("%v: got %q, want match %q", st.args, got, st.want[1:])
			}
			continue
		}
		if got != st.want {
			t.Errorf("%v: got %q, want %q", st.args, got, st.want)
		}
	}
}

func TestConfigCommands(t *testing.T) {
	s, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		// redis-cli --stat relies on exactly one pair here.
		{[]string{"CONFIG", "GET", "databases"}, "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory", "maxmemory"}, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{[]string{"CONFIG", "GET", "nosuch"}, "*0\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory"}, "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "1mb", "hz"}, "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "10", "maxmemory", "20"}, "~duplicate parameter"},
		{[]string{"CONFIG", "SET", "daemonize", "yes"}, "~immutable"},
		{[]string{"CONFIG", "SET", "maxmemory", "1000", "hz", "nope"}, "~^-ERR CONFIG SET failed \\(possibly related to argument 'hz'\\)"},
		{[]string{"CONFIG", "GET", "maxmemory"}, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "1000", "slowlog-max-len", "5"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory"}, "*2\r\n$9\r\nmaxmemory\r\n$4\r\n1000\r\n"},
		{[]string{"CONFIG", "REWRITE"}, "-ERR The server is running without a config file\r\n"},
		{[]string{"CONFIG", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n"},
		{[]string{"CONFIG", "HELP"}, "~^\\*11\r\n\\+CONFIG <subcommand>"},
	})
	if s.cfg.SlowlogMaxLen != 5 {
		t.Errorf("slowlog-max-len = %d", s.cfg.SlowlogMaxLen)
	}
	c.Do("HELLO", "3")
	if got := c.Do("CONFIG", "GET", "databases"); got != "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n" {
		t.Errorf("RESP3 CONFIG GET = %q", got)
	}
	c.Do("SET", "a", "b")
	c.Do("CONFIG", "RESETSTAT")
	if got := introBulk(t, c.Do("HELLO", "2")[0:0]+c.Do("INFO", "commandstats")); got != "# Commandstats\r\ncmdstat_config|resetstat:calls=1,usec="+got[len("# Commandstats\r\ncmdstat_config|resetstat:calls=1,usec="):] {
		t.Errorf("commandstats after RESETSTAT = %q", got)
	}
}

func TestFlushAndSwap(t *testing.T) {
	s, c := newIntroServer(t)
	w := s.NewTestClient()
	c.Do("SET", "x", "1")
	c.Do("SELECT", "1")
	c.Do("SET", "y", "1")
	// FLUSHDB only touches the current db, WATCH on existing keys fails.
	w.Do("WATCH", "x")
	runIntroSteps(t, c, []introStep{
		{[]string{"FLUSHDB", "NOPE"}, "-ERR syntax error\r\n"},
		{[]string{"FLUSHDB", "SYNC"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"},
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":1\r\n"},
	})
	w.Do("MULTI")
	w.Do("PING")
	if got := w.Do("EXEC"); got != "*1\r\n+PONG\r\n" {
		t.Errorf("EXEC after unrelated FLUSHDB = %q", got)
	}
	w.Do("WATCH", "x")
	c.Do("FLUSHALL", "ASYNC")
	w.Do("MULTI")
	if got := w.Do("EXEC"); got != "*-1\r\n" {
		t.Errorf("EXEC after FLUSHALL = %q", got)
	}
	runIntroSteps(t, c, []introStep{
		{[]string{"SWAPDB", "x", "1"}, "-ERR invalid first DB index\r\n"},
		{[]string{"SWAPDB", "0", "x"}, "-ERR invalid second DB index\r\n"},
		{[]string{"SWAPDB", "0", "16"}, "-ERR DB index is out of range\r\n"},
		{[]string{"SET", "a", "0"}, "+OK\r\n"},
		{[]string{"SWAPDB", "0", "1"}, "+OK\r\n"},
		{[]string{"GET", "a"}, "$-1\r\n"},
		{[]string{"SELECT", "1"}, "+OK\r\n"},
		{[]string{"GET", "a"}, "$1\r\n0\r\n"},
	})
	// A client blocked on a key that SWAPDB fills is served; a watcher of
	// a key that appears through the swap sees its EXEC fail.
	b := s.NewTestClient()
	b.Do("SELECT", "2")
	b.Do("BLPOP", "l", "0")
	w.Do("SELECT", "2")
	w.Do("WATCH", "a")
	c.Do("SELECT", "3")
	c.Do("RPUSH", "l", "v")
	if got := output(b); got != "" {
		t.Fatalf("blocked client served early: %q", got)
	}
	c.Do("SWAPDB", "3", "2")
	if got := output(b); got != "*2\r\n$1\r\nl\r\n$1\r\nv\r\n" {
		t.Errorf("BLPOP after SWAPDB = %q", got)
	}
	c.Do("SWAPDB", "1", "2")
	w.Do("MULTI")
	if got := w.Do("EXEC"); got != "*-1\r\n" {
		t.Errorf("EXEC after SWAPDB brought the key = %q", got)
	}
}

func TestTimeLastsaveRole(t *testing.T) {
	s, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		{[]string{"TIME"}, "~^\\*2\r\n\\$10\r\n[0-9]{10}\r\n\\$[0-9]\r\n[0-9]+\r\n$"},
		{[]string{"LASTSAVE"}, ":" + strconv.FormatInt(s.startTime.Unix(), 10) + "\r\n"},
		{[]string{"ROLE"}, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"},
		{[]string{"CLUSTER", "INFO"}, "-ERR This instance has cluster support disabled\r\n"},
		{[]string{"READONLY"}, "-ERR This instance has cluster support disabled\r\n"},
		{[]string{"FUNCTION", "FLUSH"}, "+OK\r\n"},
		{[]string{"FUNCTION", "LIST"}, "*0\r\n"},
		{[]string{"SCRIPT", "FLUSH", "SYNC"}, "+OK\r\n"},
		{[]string{"SCRIPT", "EXISTS", "a", "b"}, "*2\r\n:0\r\n:0\r\n"},
		{[]string{"LOLWUT"}, "~Redis ver\\. 7\\.0\\.15"},
		{[]string{"SHUTDOWN", "ABORT"}, "-ERR No shutdown in progress.\r\n"},
		{[]string{"SHUTDOWN", "MAYBE"}, "-ERR syntax error\r\n"},
	})
	c.Do("MULTI")
	if got := c.Do("SHUTDOWN"); got != "-ERR Command not allowed inside a transaction\r\n" {
		t.Errorf("SHUTDOWN in MULTI = %q", got)
	}
	c.Do("DISCARD")
	select {
	case <-s.Done():
		t.Fatal("Done closed early")
	default:
	}
	c.Do("SHUTDOWN", "NOSAVE")
	c.Do("SHUTDOWN")
	select {
	case <-s.Done():
	default:
		t.Fatal("SHUTDOWN did not close Done")
	}
}

func TestCommandCommand(t *testing.T) {
	s, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		{[]string{"COMMAND", "COUNT"}, ":" + strconv.Itoa(len(s.cmds)) + "\r\n"},
		{[]string{"COMMAND", "INFO", "get"}, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n" +
			"*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n" +
			"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
			"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"},
		{[]string{"COMMAND", "INFO", "get|key", "config|get|key", "nosuch"}, "*3\r\n$-1\r\n$-1\r\n$-1\r\n"},
		{[]string{"COMMAND", "INFO", "config|get"}, "~^\\*1\r\n\\*10\r\n\\$10\r\nconfig\\|get\r\n:-3\r\n"},
		{[]string{"COMMAND", "GETKEYS", "get", "key"}, "*1\r\n$3\r\nkey\r\n"},
		{[]string{"COMMAND", "GETKEYS", "memory", "usage", "key"}, "*1\r\n$3\r\nkey\r\n"},
		{[]string{"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"COMMAND", "GETKEYS", "ping", "x"}, "-ERR The command has no key arguments\r\n"},
		{[]string{"COMMAND", "GETKEYS", "nosuch", "x"}, "-ERR Invalid command specified\r\n"},
		{[]string{"COMMAND", "GETKEYS", "get", "a", "b"}, "-ERR Invalid number of arguments specified for command\r\n"},
		{[]string{"COMMAND", "GETKEYS", "get"}, "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"}, "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n"},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET"}, "*1\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"},
		{[]string{"COMMAND", "GETKEYSANDFLAGS", "lmove", "k1", "k2", "left", "right"},
			"*2\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$2\r\nk2\r\n*2\r\n+RW\r\n+insert\r\n"},
		{[]string{"COMMAND", "LIST", "bad"}, "-ERR syntax error\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "bad", "x"}, "-ERR syntax error\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "PATTERN", "set"}, "*1\r\n$3\r\nset\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*re*"}, "*2\r\n$16\r\nconfig|resetstat\r\n$14\r\nconfig|rewrite\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"}, "*0\r\n"},
		{[]string{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"}, "*0\r\n"},
		{[]string{"COMMAND", "DOCS", "config"}, "~^\\*2\r\n\\$6\r\nconfig\r\n\\*8\r\n\\$7\r\nsummary\r\n"},
		{[]string{"COMMAND", "HELP"}, "~^\\*21\r\n\\+COMMAND <subcommand>"},
	})
	all := c.Do("COMMAND", "LIST")
	for _, name := range []string{"set", "client|list", "cluster|help", "config|get"} {
		if !strings.Contains(all, "\r\n"+name+"\r\n") {
			t.Errorf("COMMAND LIST lacks %s", name)
		}
	}
	if got := c.Do("COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"); !strings.Contains(got, "\r\nflushall\r\n") || strings.Contains(got, "\r\nget\r\n") {
		t.Errorf("ACLCAT dangerous = %q", got)
	}
	if got := c.Do("COMMAND"); !strings.HasPrefix(got, "*"+strconv.Itoa(len(s.cmds))+"\r\n") {
		t.Errorf("COMMAND header = %q", got[:20])
	}
	c.Do("HELLO", "3")
	if got := c.Do("COMMAND", "INFO", "nosuch"); got != "*1\r\n_\r\n" {
		t.Errorf("RESP3 unknown COMMAND INFO = %q", got)
	}
}

func TestMemoryUsage(t *testing.T) {
	_, c := newIntroServer(t)
	c.Do("SET", "s", "hello")
	c.Do("RPUSH", "l", "a", "b", "c", "d", "e", "f")
	runIntroSteps(t, c, []introStep{
		{[]string{"MEMORY", "USAGE", "nosuch"}, "$-1\r\n"},
		{[]string{"MEMORY", "USAGE", "s"}, "~^:[1-9][0-9]*\r\n$"},
		{[]string{"MEMORY", "USAGE", "l", "SAMPLES", "0"}, "~^:[1-9][0-9]*\r\n$"},
		{[]string{"MEMORY", "USAGE", "l", "SAMPLES", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"MEMORY", "USAGE", "l", "FOO"}, "-ERR syntax error\r\n"},
		{[]string{"MEMORY", "DOCTOR"}, "~^\\$[0-9]+\r\nHi Sam"},
		{[]string{"MEMORY", "STATS"}, "~peak\\.allocated"},
	})
	small, _ := strconv.Atoi(strings.Trim(c.Do("MEMORY", "USAGE", "s"), ":\r\n"))
	big, _ := strconv.Atoi(strings.Trim(c.Do("MEMORY", "USAGE", "l"), ":\r\n"))
	if big <= small {
		t.Errorf("list usage %d <= string usage %d", big, small)
	}
}
