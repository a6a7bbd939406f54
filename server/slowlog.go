package server

import (
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SLOWLOG, the latency monitor (LATENCY) and the per-command latency
// histograms behind INFO latencystats and LATENCY HISTOGRAM. All three are
// fed from slowlogAdd, which call() runs after every command.

type slowlog struct {
	entries []slowlogEntry // newest first
	nextID  int64
}

type slowlogEntry struct {
	id       int64
	at       int64 // unix seconds
	duration time.Duration
	argv     []string
	addr     string
	name     string
}

// Redis keeps at most this many arguments, each at most this long, per
// slowlog entry, so one huge MSET cannot pin megabytes in the log.
const (
	slowlogMaxArgc   = 32
	slowlogMaxArgLen = 128
)

func (l *slowlog) init() { l.entries = nil }

// slowlogAdd does the after-command accounting: the latency histogram of
// the command, the latency monitor's "command"/"fast-command" events, and
// the slowlog entry when the command was slow enough.
func (s *Server) slowlogAdd(c *Client, d time.Duration) {
	cmd := c.cmd
	if cmd == nil {
		return
	}
	if s.cfg.LatencyTracking {
		s.latency.record(cmd, d)
	}
	if th := s.cfg.LatencyMonitorThreshold; th > 0 {
		ms := d.Milliseconds()
		if ms >= th {
			ev := "command"
			if cmd.Flags&FlagFast != 0 {
				ev = "fast-command"
			}
			s.latency.addSample(ev, time.Now().Unix(), ms)
		}
	}
	th := s.cfg.SlowlogLogSlowerThan
	if th < 0 || d.Microseconds() < th {
		return
	}
	s.slowlogPush(c, d)
}

func (s *Server) slowlogPush(c *Client, d time.Duration) {
	args := redactArgs(c.argv)
	n := len(args)
	if n > slowlogMaxArgc {
		n = slowlogMaxArgc
	}
	argv := make([]string, n)
	for i := 0; i < n; i++ {
		if n == slowlogMaxArgc && i == n-1 && len(args) > slowlogMaxArgc {
			argv[i] = "... (" + strconv.Itoa(len(args)-slowlogMaxArgc+1) + " more arguments)"
			break
		}
		a := args[i]
		if len(a) > slowlogMaxArgLen {
			argv[i] = string(a[:slowlogMaxArgLen]) + "... (" + strconv.Itoa(len(a)-slowlogMaxArgLen) + " more bytes)"
		} else {
			argv[i] = string(a)
		}
	}
	e := slowlogEntry{id: s.slowlog.nextID, at: time.Now().Unix(), duration: d, argv: argv, addr: c.addr, name: c.name}
	s.slowlog.nextID++
	s.slowlog.entries = append([]slowlogEntry{e}, s.slowlog.entries...)
	s.slowlogTrim()
}

func (s *Server) slowlogTrim() {
	max := s.cfg.SlowlogMaxLen
	if max < 0 {
		max = 0
	}
	if int64(len(s.slowlog.entries)) > max {
		s.slowlog.entries = s.slowlog.entries[:max]
	}
}

// redactArgs hides secrets from MONITOR and SLOWLOG as Redis does: AUTH's
// arguments, HELLO's AUTH pair, MIGRATE's AUTH/AUTH2 credentials and the
// values of sensitive CONFIG SET parameters.
func redactArgs(argv [][]byte) [][]byte {
	if len(argv) == 0 {
		return argv
	}
	var hide []int
	name := strings.ToLower(string(argv[0]))
	switch name {
	case "auth":
		for i := 1; i < len(argv); i++ {
			hide = append(hide, i)
		}
	case "hello":
		for i := 1; i < len(argv); i++ {
			if strings.EqualFold(string(argv[i]), "auth") && i+2 < len(argv) {
				hide = append(hide, i+1, i+2)
				i += 2
			}
		}
	case "migrate":
		for i := 6; i < len(argv); i++ {
			switch strings.ToLower(string(argv[i])) {
			case "auth":
				if i+1 < len(argv) {
					hide = append(hide, i+1)
					i++
				}
			case "auth2":
				if i+2 < len(argv) {
					hide = append(hide, i+1, i+2)
					i += 2
				}
			case "keys":
				i = len(argv)
			}
		}
	case "config":
		if len(argv) > 3 && strings.EqualFold(string(argv[1]), "set") {
			for i := 2; i+1 < len(argv); i += 2 {
				switch strings.ToLower(string(argv[i])) {
				case "requirepass", "masterauth", "masteruser":
					hide = append(hide, i+1)
				}
			}
		}
	case "acl":
		if len(argv) > 3 && strings.EqualFold(string(argv[1]), "setuser") {
			for i := 3; i < len(argv); i++ {
				hide = append(hide, i)
			}
		}
	}
	if len(hide) == 0 {
		return argv
	}
	out := append([][]byte(nil), argv...)
	for _, i := range hide {
		out[i] = []byte("(redacted)")
	}
	return out
}

func slowlogCmd(c *Client) {
	c.addHelp("SLOWLOG", []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

func slowlogGetCmd(c *Client) {
	if len(c.argv) > 3 {
		c.addError(wrongArity("slowlog|get"))
		return
	}
	count := int64(10)
	if len(c.argv) == 3 {
		n, ok := parseInt(c.argv[2])
		if !ok || n < -1 {
			c.addError("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	entries := c.s.slowlog.entries
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	c.addArrayLen(len(entries))
	for _, e := range entries {
		c.addArrayLen(6)
		c.addInt(e.id)
		c.addInt(e.at)
		c.addInt(e.duration.Microseconds())
		c.addBulkStrings(e.argv)
		c.addBulkString(e.addr)
		c.addBulkString(e.name)
	}
}

func slowlogLenCmd(c *Client) { c.addInt(int64(len(c.s.slowlog.entries))) }

func slowlogResetCmd(c *Client) {
	c.s.slowlog.entries = nil
	c.addOK()
}

// The latency monitor keeps, per event, the last latencyHistoryLen samples
// (one per second: samples in the same second keep the maximum) and the
// all-time maximum, like Redis's latency.c.
const latencyHistoryLen = 160

type latencySample struct {
	at int64 // unix seconds
	ms int64
}

type latencyEvent struct {
	samples []latencySample // oldest first
	max     int64
}

type latencyMonitor struct {
	events map[string]*latencyEvent
	hist   map[*Command]*latencyHist
}

func (l *latencyMonitor) addSample(event string, at, ms int64) {
	if l.events == nil {
		l.events = map[string]*latencyEvent{}
	}
	ev := l.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		l.events[event] = ev
	}
	if ms > ev.max {
		ev.max = ms
	}
	if n := len(ev.samples); n > 0 && ev.samples[n-1].at == at {
		if ms > ev.samples[n-1].ms {
			ev.samples[n-1].ms = ms
		}
		return
	}
	ev.samples = append(ev.samples, latencySample{at: at, ms: ms})
	if len(ev.samples) > latencyHistoryLen {
		ev.samples = ev.samples[len(ev.samples)-latencyHistoryLen:]
	}
}

// addLatencySample lets other parts of the server (expiry, eviction,
// persistence) report latency events above the threshold.
func (s *Server) addLatencySample(event string, d time.Duration) {
	th := s.cfg.LatencyMonitorThreshold
	if th <= 0 || d.Milliseconds() < th {
		return
	}
	s.latency.addSample(event, time.Now().Unix(), d.Milliseconds())
}

func (l *latencyMonitor) record(cmd *Command, d time.Duration) {
	if l.hist == nil {
		l.hist = map[*Command]*latencyHist{}
	}
	h := l.hist[cmd]
	if h == nil {
		h = &latencyHist{}
		l.hist[cmd] = h
	}
	h.add(d.Nanoseconds())
}

// latencyHist is a log-linear histogram of nanosecond durations with 128
// sub-buckets per power of two (under 1% error), the resolution Redis's
// HDR histograms give INFO latencystats.
type latencyHist struct {
	counts []uint64
	count  uint64
}

const histMaxValue = 1<<40 - 1

func histIndex(v int64) int {
	if v < 256 {
		if v < 1 {
			v = 1
		}
		return int(v)
	}
	if v > histMaxValue {
		v = histMaxValue
	}
	shift := bits.Len64(uint64(v)) - 8
	top := int(v >> shift)
	return 256 + (shift-1)*128 + (top - 128)
}

// histHigh is the highest value that falls in bucket idx.
func histHigh(idx int) int64 {
	if idx < 256 {
		return int64(idx)
	}
	shift := (idx-256)/128 + 1
	top := int64((idx-256)%128 + 128)
	return top<<shift + (1 << shift) - 1
}

func (h *latencyHist) add(ns int64) {
	i := histIndex(ns)
	if i >= len(h.counts) {
		n := make([]uint64, i+64)
		copy(n, h.counts)
		h.counts = n
	}
	h.counts[i]++
	h.count++
}

// percentile returns the value (ns) at or below which p percent fall.
func (h *latencyHist) percentile(p float64) int64 {
	if h.count == 0 {
		return 0
	}
	want := uint64(p/100*float64(h.count) + 0.5)
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i, n := range h.counts {
		seen += n
		if seen >= want {
			return histHigh(i)
		}
	}
	return histHigh(len(h.counts) - 1)
}

func latencyCmd(c *Client) {
	c.addHelp("LATENCY", []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}

func (l *latencyMonitor) sortedEvents() []string {
	names := make([]string, 0, len(l.events))
	for name := range l.events {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func latencyLatestCmd(c *Client) {
	l := &c.s.latency
	names := l.sortedEvents()
	c.addArrayLen(len(names))
	for _, name := range names {
		ev := l.events[name]
		last := ev.samples[len(ev.samples)-1]
		c.addArrayLen(4)
		c.addBulkString(name)
		c.addInt(last.at)
		c.addInt(last.ms)
		c.addInt(ev.max)
	}
}

func latencyHistoryCmd(c *Client) {
	ev := c.s.latency.events[string(c.argv[2])]
	if ev == nil {
		c.addArrayLen(0)
		return
	}
	c.addArrayLen(len(ev.samples))
	for _, smp := range ev.samples {
		c.addArrayLen(2)
		c.addInt(smp.at)
		c.addInt(smp.ms)
	}
}

func latencyResetCmd(c *Client) {
	l := &c.s.latency
	if len(c.argv) == 2 {
		n := len(l.events)
		l.events = nil
		c.addInt(int64(n))
		return
	}
	n := 0
	for _, a := range c.argv[2:] {
		if _, ok := l.events[string(a)]; ok {
			delete(l.events, string(a))
			n++
		}
	}
	c.addInt(int64(n))
}

func latencyGraphCmd(c *Client) {
	name := string(c.argv[2])
	ev := c.s.latency.events[name]
	if ev == nil {
		c.addError("ERR No samples available for event '" + name + "'")
		return
	}
	var b strings.Builder
	b.WriteString(name + " - high " + strconv.FormatInt(ev.max, 10) + " ms, low ")
	low := ev.max
	for _, smp := range ev.samples {
		low = min(low, smp.ms)
	}
	b.WriteString(strconv.FormatInt(low, 10) + " ms (all time high " + strconv.FormatInt(ev.max, 10) + " ms)\n")
	b.WriteString(strings.Repeat("-", 80) + "\n")
	now := time.Now().Unix()
	for _, smp := range ev.samples {
		bar := 1
		if ev.max > 0 {
			bar = int(smp.ms * 40 / ev.max)
		}
		b.WriteString(strconv.FormatInt(now-smp.at, 10) + "s " + strings.Repeat("#", max(bar, 1)) + " " + strconv.FormatInt(smp.ms, 10) + "ms\n")
	}
	c.addVerbatim(b.String())
}

func latencyDoctorCmd(c *Client) {
	l := &c.s.latency
	var b strings.Builder
	if c.s.cfg.LatencyMonitorThreshold == 0 {
		c.addVerbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
		return
	}
	if len(l.events) == 0 {
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep better.\n")
		c.addVerbatim(b.String())
		return
	}
	b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	for i, name := range l.sortedEvents() {
		ev := l.events[name]
		var sum int64
		for _, smp := range ev.samples {
			sum += smp.ms
		}
		avg := sum / int64(len(ev.samples))
		b.WriteString(strconv.Itoa(i+1) + ". " + name + ": " + strconv.Itoa(len(ev.samples)) +
			" latency spikes (average " + strconv.FormatInt(avg, 10) + "ms, worst all time " +
			strconv.FormatInt(ev.max, 10) + "ms).\n")
	}
	b.WriteString("\nI have a few advices for you:\n\n- Check your slowlog (SLOWLOG GET) for commands that take long, and prefer O(1) and O(log N) commands.\n")
	c.addVerbatim(b.String())
}

func latencyHistogramCmd(c *Client) {
	s := c.s
	var cmds []*Command
	if len(c.argv) == 2 {
		for _, cmd := range s.allCommands() {
			if h := s.latency.hist[cmd]; h != nil && h.count > 0 {
				cmds = append(cmds, cmd)
			}
		}
	} else {
		seen := map[*Command]bool{}
		for _, a := range c.argv[2:] {
			cmd := s.lookupFullName(string(a))
			if cmd == nil {
				continue
			}
			// A container command stands for its subcommands.
			group := []*Command{cmd}
			if len(cmd.Sub) > 0 {
				group = sortedSubs(cmd)
			}
			for _, cmd := range group {
				if h := s.latency.hist[cmd]; h != nil && h.count > 0 && !seen[cmd] {
					seen[cmd] = true
					cmds = append(cmds, cmd)
				}
			}
		}
	}
	c.addMapLen(len(cmds))
	for _, cmd := range cmds {
		h := s.latency.hist[cmd]
		c.addBulkString(cmd.Name)
		c.addMapLen(2)
		c.addBulkString("calls")
		c.addInt(int64(h.count))
		c.addBulkString("histogram_usec")
		// Cumulative counts at power-of-two microsecond bounds, as
		// Redis's log iterator from 1024 ns reports them.
		type pt struct{ us, cum int64 }
		var pts []pt
		var cum uint64
		var last int64
		bound := int64(1024)
		i := 0
		for cum < h.count {
			for i < len(h.counts) && histHigh(i) < bound {
				cum += h.counts[i]
				i++
			}
			if int64(cum) > last {
				pts = append(pts, pt{bound / 1000, int64(cum)})
				last = int64(cum)
			}
			bound *= 2
			if bound > histMaxValue {
				break
			}
		}
		c.addMapLen(len(pts))
		for _, p := range pts {
			c.addInt(p.us)
			c.addInt(p.cum)
		}
	}
}
