package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSlowlog(t *testing.T) {
	s, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		{[]string{"SLOWLOG", "GET", "-2"}, "-ERR count should be greater than or equal to -1\r\n"},
		{[]string{"SLOWLOG", "LEN"}, ":0\r\n"},
		{[]string{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, "+OK\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"SLOWLOG", "LEN"}, ":2\r\n"},
		{[]string{"SLOWLOG", "GET", "1"}, "~^\\*1\r\n\\*6\r\n:2\r\n:\\d+\r\n:\\d+\r\n\\*2\r\n\\$7\r\nSLOWLOG\r\n\\$3\r\nLEN\r\n\\$0\r\n\r\n\\$0\r\n\r\n$"},
		{[]string{"SLOWLOG", "RESET"}, "+OK\r\n"},
		{[]string{"CONFIG", "SET", "slowlog-log-slower-than", "-1"}, "+OK\r\n"},
		{[]string{"SLOWLOG", "LEN"}, ":1\r\n"}, // the RESET itself
	})
	c.Do("SLOWLOG", "RESET")
	c.Do("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.Do("CLIENT", "SETNAME", "slow")
	args := []string{"SADD", "set"}
	for i := 0; i < 40; i++ {
		args = append(args, strconv.Itoa(i))
	}
	args[5] = strings.Repeat("x", 200)
	c.Do(args...)
	s.mu.Lock()
	e := s.slowlog.entries[0]
	s.mu.Unlock()
	if len(e.argv) != 32 || e.argv[31] != "... (11 more arguments)" {
		t.Errorf("argv not cut like Redis: %d args, last %q", len(e.argv), e.argv[len(e.argv)-1])
	}
	if e.argv[5] != strings.Repeat("x", 128)+"... (72 more bytes)" {
		t.Errorf("long argument = %q", e.argv[5])
	}
	if e.name != "slow" {
		t.Errorf("client name = %q", e.name)
	}
	c.Do("AUTH", "pw")
	s.mu.Lock()
	auth := s.slowlog.entries[0].argv
	s.mu.Unlock()
	if strings.Join(auth, " ") != "AUTH (redacted)" {
		t.Errorf("AUTH logged as %q", auth)
	}
	c.Do("CONFIG", "SET", "slowlog-max-len", "2")
	if got := c.Do("SLOWLOG", "LEN"); got != ":2\r\n" {
		t.Errorf("SLOWLOG LEN after shrinking = %q", got)
	}
}

func TestLatencyMonitor(t *testing.T) {
	_, c := newIntroServer(t)
	runIntroSteps(t, c, []introStep{
		{[]string{"LATENCY", "LATEST"}, "*0\r\n"},
		{[]string{"LATENCY", "DOCTOR"}, "~^\\$\\d+\r\nI'm sorry, Dave"},
		{[]string{"CONFIG", "SET", "latency-monitor-threshold", "5"}, "+OK\r\n"},
		{[]string{"DEBUG", "SLEEP", "0.01"}, "+OK\r\n"},
		{[]string{"LATENCY", "LATEST"}, "~^\\*1\r\n\\*4\r\n\\$7\r\ncommand\r\n:\\d+\r\n:\\d+\r\n:\\d+\r\n$"},
		{[]string{"LATENCY", "HISTORY", "command"}, "~^\\*1\r\n\\*2\r\n:\\d+\r\n:\\d+\r\n$"},
		{[]string{"LATENCY", "HISTORY", "nosuch"}, "*0\r\n"},
		{[]string{"LATENCY", "GRAPH", "nosuch"}, "-ERR No samples available for event 'nosuch'\r\n"},
		{[]string{"LATENCY", "DOCTOR"}, "~command: 1 latency spikes"},
		{[]string{"LATENCY", "RESET", "nosuch"}, ":0\r\n"},
		{[]string{"LATENCY", "RESET"}, ":1\r\n"},
		{[]string{"LATENCY", "LATEST"}, "*0\r\n"},
		{[]string{"LATENCY", "HISTOGRAM", "debug"}, "~^\\*2\r\n\\$5\r\ndebug\r\n\\*4\r\n\\$5\r\ncalls\r\n:1\r\n\\$14\r\nhistogram_usec\r\n"},
		{[]string{"LATENCY", "HISTOGRAM", "nosuch"}, "*0\r\n"},
		{[]string{"LATENCY", "HISTOGRAM", "latency"}, "~^\\*12\r\n\\$14\r\nlatency\\|doctor\r\n(?s:.*)\\$13\r\nlatency\\|reset\r\n"},
	})
}

func TestLatencyHistogram(t *testing.T) {
	var h latencyHist
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * int64(time.Microsecond))
	}
	for p, want := range map[float64]int64{50: 500_000, 99: 990_000, 100: 1_000_000} {
		got := h.percentile(p)
		if got < want || float64(got) > float64(want)*1.01 {
			t.Errorf("p%v = %d, want about %d", p, got, want)
		}
	}
	for v := int64(1); v < 1<<40; v = v*3 + 1 {
		if hi := histHigh(histIndex(v)); hi < v || float64(hi) > float64(v)*1.01+1 {
			t.Errorf("bucket of %d tops at %d", v, hi)
		}
	}
}
