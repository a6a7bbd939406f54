package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClientBasics(t *testing.T) {
	s, c := newIntroServer(t)
	other := s.NewTestClient()
	id := strconv.FormatUint(c.id, 10)
	runIntroSteps(t, c, []introStep{
		{[]string{"CLIENT", "ID"}, ":" + id + "\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$-1\r\n"},
		{[]string{"CLIENT", "SETNAME", "foo bar"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETNAME", "me"}, "+OK\r\n"},
		{[]string{"CLIENT", "GETNAME"}, "$2\r\nme\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-name", "go-redis"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "9 1"}, "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "other", "x"}, "-ERR Unrecognized option 'other'\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "NO-EVICT", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "TRACKING", "on"}, "~^-ERR .*not supported"},
		{[]string{"CLIENT", "TRACKING", "off"}, "+OK\r\n"},
		{[]string{"CLIENT", "GETREDIR"}, ":-1\r\n"},
		{[]string{"CLIENT", "LIST", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'\r\n"},
		{[]string{"CLIENT", "LIST", "ID", "x"}, "-ERR Invalid client ID\r\n"},
		{[]string{"CLIENT", "LIST", "bogus"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "HELP"}, "~^\\*[0-9]+\r\n\\+CLIENT <subcommand>"},
	})
	line := introBulk(t, c.Do("CLIENT", "INFO"))
	re := `^id=` + id + ` addr= laddr= fd=-1 name=me age=\d+ idle=\d+ flags=eT db=0 sub=0 psub=0 ssub=0 multi=-1 ` +
		`qbuf=26 qbuf-free=\d+ argv-mem=10 multi-mem=0 rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ events=r ` +
		`cmd=client\|info user=default redir=-1 resp=2 lib-name=go-redis lib-ver=\n$`
	if !regexp.MustCompile(re).MatchString(line) {
		t.Errorf("CLIENT INFO = %q", line)
	}
	list := introBulk(t, c.Do("CLIENT", "LIST"))
	if n := strings.Count(list, "\n"); n != 2 {
		t.Errorf("CLIENT LIST has %d lines: %q", n, list)
	}
	if got := introBulk(t, c.Do("CLIENT", "LIST", "ID", strconv.FormatUint(other.id, 10), "999")); !strings.HasPrefix(got, "id="+strconv.FormatUint(other.id, 10)+" ") || strings.Count(got, "\n") != 1 {
		t.Errorf("CLIENT LIST ID = %q", got)
	}
	other.Do("SUBSCRIBE", "ch")
	if got := introBulk(t, c.Do("CLIENT", "LIST", "TYPE", "pubsub")); !strings.Contains(got, "flags=P ") || !strings.Contains(got, "sub=1 ") {
		t.Errorf("CLIENT LIST TYPE pubsub = %q", got)
	}
	other.Do("UNSUBSCRIBE")
	c.Do("HELLO", "3")
	if got := c.Do("CLIENT", "INFO"); !strings.HasPrefix(got, "=") || !strings.Contains(got, "txt:id=") {
		t.Errorf("RESP3 CLIENT INFO = %q", got)
	}
}

func TestClientKill(t *testing.T) {
	s, c := newIntroServer(t)
	a, b := s.NewTestClient(), s.NewTestClient()
	runIntroSteps(t, c, []introStep{
		{[]string{"CLIENT", "KILL"}, "-ERR wrong number of arguments for 'client|kill' command\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "10", "wrong_arg"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "str"}, "-ERR client-id should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "ID", "0"}, "-ERR client-id should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "TYPE", "wrong"}, "-ERR Unknown client type 'wrong'\r\n"},
		{[]string{"CLIENT", "KILL", "USER", "wrong"}, "-ERR No such user 'wrong'\r\n"},
		{[]string{"CLIENT", "KILL", "SKIPME", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "KILL", "1.2.3.4:5"}, "-ERR No such client\r\n"},
		{[]string{"CLIENT", "KILL", "ID", strconv.FormatUint(a.id, 10)}, ":1\r\n"},
	})
	if s.clients[a.id] != nil || a.flags&flagCloseASAP == 0 {
		t.Error("killed client still registered")
	}
	if got := c.Do("CLIENT", "KILL", "SKIPME", "yes"); got != ":1\r\n" || s.clients[b.id] != nil {
		t.Errorf("KILL SKIPME yes = %q", got)
	}
	if got := c.Do("CLIENT", "KILL", "SKIPME", "no"); got != ":1\r\n" || c.flags&flagCloseAfterReply == 0 {
		t.Errorf("KILL SKIPME no = %q (flags %b)", got, c.flags)
	}
}

func TestClientReply(t *testing.T) {
	s, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		{[]string{"CLIENT", "REPLY", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "REPLY", "OFF"}, ""},
		{[]string{"PING", "a"}, ""},
		{[]string{"NOSUCH"}, ""},
		{[]string{"SUBSCRIBE", "ch"}, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"},
		{[]string{"UNSUBSCRIBE"}, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"},
		{[]string{"CLIENT", "REPLY", "ON"}, "+OK\r\n"},
		{[]string{"CLIENT", "REPLY", "SKIP"}, ""},
		{[]string{"PING", "a"}, ""},
		{[]string{"PING", "b"}, "$1\r\nb\r\n"},
		{[]string{"CLIENT", "REPLY", "SKIP"}, ""},
		{[]string{"CLIENT", "REPLY", "ON"}, "+OK\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"CLIENT", "REPLY", "OFF"}, ""},
		{[]string{"CLIENT", "REPLY", "SKIP"}, ""},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
	})
	// Messages published to a silenced client still arrive.
	c.Do("CLIENT", "REPLY", "OFF")
	c.Do("SUBSCRIBE", "news")
	s.NewTestClient().Do("PUBLISH", "news", "hi")
	if got := output(c); got != "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n" {
		t.Errorf("publish to silenced client = %q", got)
	}
}

func TestClientPause(t *testing.T) {
	s, c := newIntroServer(t)
	w := s.NewTestClient()
	runIntroSteps(t, c, []introStep{
		{[]string{"CLIENT", "PAUSE", "x"}, "-ERR timeout is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "PAUSE", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"CLIENT", "PAUSE", "10", "some"}, "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"},
		{[]string{"CLIENT", "PAUSE", "100000", "WRITE"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
	})
	if got := w.Do("SET", "k", "v"); got != "" {
		t.Fatalf("write during WRITE pause answered %q", got)
	}
	if !strings.Contains(introBulk(t, c.Do("INFO", "clients")), "blocked_clients:1") {
		t.Error("postponed client not counted as blocked")
	}
	// MULTI queues reads; EXEC of a write transaction waits too.
	if got := c.Do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("UNPAUSE = %q", got)
	}
	if got := output(w); got != "+OK\r\n" {
		t.Errorf("postponed SET answered %q after UNPAUSE", got)
	}
	if got := c.Do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Errorf("GET after unpause = %q", got)
	}
	// ALL pauses reads too, and the pause ends by itself.
	c.Do("CLIENT", "PAUSE", "50", "ALL")
	if got := w.Do("GET", "k"); got != "" {
		t.Fatalf("read during ALL pause answered %q", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		s.mu.Lock()
		paused := s.pausedUntil != 0
		s.mu.Unlock()
		if !paused || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := output(w); got != "$1\r\nv\r\n" {
		t.Errorf("postponed GET answered %q after the pause expired", got)
	}
}

func TestClientUnblock(t *testing.T) {
	s, c := newIntroServer(t)
	b := s.NewTestClient()
	b.Do("BLPOP", "l", "0")
	bid := strconv.FormatUint(b.id, 10)
	runIntroSteps(t, c, []introStep{
		{[]string{"CLIENT", "UNBLOCK", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "UNBLOCK", bid, "maybe"}, "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"},
		{[]string{"CLIENT", "UNBLOCK", strconv.FormatUint(c.id, 10)}, ":0\r\n"},
		{[]string{"CLIENT", "UNBLOCK", bid}, ":1\r\n"},
	})
	if got := output(b); got != "*-1\r\n" {
		t.Errorf("BLPOP unblocked with TIMEOUT got %q", got)
	}
	b.Do("BLPOP", "l", "0")
	c.Do("CLIENT", "UNBLOCK", bid, "ERROR")
	if got := output(b); got != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
		t.Errorf("BLPOP unblocked with ERROR got %q", got)
	}
}

func TestMonitor(t *testing.T) {
	s, c := newIntroServer(t)
	m := s.NewTestClient()
	if got := m.Do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	c.Do("SET", "k", "a \"q\"\n\x01")
	c.Do("CONFIG", "GET", "port") // admin: not shown
	c.Do("AUTH", "secret")
	c.Do("MULTI")
	c.Do("SET", "x", "1")
	c.Do("EXEC")
	got := output(m)
	lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
	want := []string{
		`"SET" "k" "a \"q\"\n\x01"`,
		`"AUTH" "(redacted)"`,
		`"MULTI"`,
		`"SET" "x" "1"`,
		`"EXEC"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("MONITOR got %q", got)
	}
	re := regexp.MustCompile(`^\+\d{10}\.\d{6} \[0 lua\] (.*)$`)
	for i, l := range lines {
		mm := re.FindStringSubmatch(l)
		if mm == nil || mm[1] != want[i] {
			t.Errorf("line %d = %q, want args %s", i, l, want[i])
		}
	}
	if !strings.Contains(introBulk(t, c.Do("CLIENT", "LIST")), "flags=O ") {
		t.Error("monitor client lacks flag O")
	}
}

func TestMonitorBlockedCommandShownOnce(t *testing.T) {
	s, c := newIntroServer(t)
	m := s.NewTestClient()
	m.Do("MONITOR")
	b := s.NewTestClient()
	b.Do("BLPOP", "q", "0")
	c.Do("RPUSH", "q", "x")
	if got := output(b); got != "*2\r\n$1\r\nq\r\n$1\r\nx\r\n" {
		t.Fatalf("BLPOP = %q", got)
	}
	if got := output(m); strings.Count(got, `"BLPOP"`) != 1 || strings.Count(got, `"RPUSH"`) != 1 {
		t.Errorf("MONITOR = %q", got)
	}
}
