package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// maxBindAddrs matches Redis's CONFIG_BINDADDR_MAX.
const maxBindAddrs = 16

func setBind(c *Config, args []string) *argError {
	if len(args) > maxBindAddrs {
		return &argError{reply: "Too many bind addresses specified.",
			want: fmt.Sprintf("at most %d addresses", maxBindAddrs), got: strings.Join(args, " ")}
	}
	if len(args) == 1 && args[0] == "" {
		args = nil // bind "" (or an empty CONFIG SET value) listens nowhere on TCP
	}
	for _, a := range args {
		if a == "" || a == "-" {
			return &argError{reply: "Invalid bind address", want: "non-empty addresses", got: strings.Join(args, " ")}
		}
	}
	c.Bind = slices.Clone(args)
	return nil
}

func getBind(c *Config) string { return strings.Join(c.Bind, " ") }

func bindLines(c, def *Config) []rwLine {
	if len(c.Bind) == 0 {
		return []rwLine{{text: `bind ""`, force: true}}
	}
	parts := make([]string, len(c.Bind))
	for i, a := range c.Bind {
		parts[i] = quoteIfNeeded(a)
	}
	return []rwLine{{text: "bind " + strings.Join(parts, " "), force: !slices.Equal(c.Bind, def.Bind)}}
}

// setSave replaces the rules; the file loader makes successive lines
// accumulate instead.
func setSave(c *Config, args []string) *argError {
	if len(args) == 0 || (len(args) == 1 && args[0] == "") {
		c.Save = nil
		return nil
	}
	bad := &argError{reply: "Invalid save parameters", want: `pairs of <seconds> <changes>, or ""`, got: strings.Join(args, " ")}
	if len(args)%2 != 0 {
		return bad
	}
	rules := make([]SaveParam, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		secs, err1 := strconv.ParseInt(args[i], 10, 64)
		changes, err2 := strconv.ParseInt(args[i+1], 10, 64)
		if err1 != nil || err2 != nil || secs < 1 || changes < 0 {
			return bad
		}
		rules = append(rules, SaveParam{Seconds: secs, Changes: changes})
	}
	c.Save = rules
	return nil
}

func getSave(c *Config) string {
	parts := make([]string, 0, 2*len(c.Save))
	for _, s := range c.Save {
		parts = append(parts, strconv.FormatInt(s.Seconds, 10), strconv.FormatInt(s.Changes, 10))
	}
	return strings.Join(parts, " ")
}

func saveLines(c, def *Config) []rwLine {
	if len(c.Save) == 0 {
		return []rwLine{{text: `save ""`, force: true}}
	}
	force := !slices.Equal(c.Save, def.Save)
	out := make([]rwLine, len(c.Save))
	for i, s := range c.Save {
		out[i] = rwLine{text: fmt.Sprintf("save %d %d", s.Seconds, s.Changes), force: force}
	}
	return out
}

// obufClass maps a class name to its slot; "master" exists in Redis but
// cannot be limited, so it is rejected like an unknown class.
func obufClass(c *ClientOutputBufferLimits, name string) *OutputBufferLimit {
	switch strings.ToLower(name) {
	case "normal":
		return &c.Normal
	case "slave", "replica":
		return &c.Replica
	case "pubsub":
		return &c.Pubsub
	}
	return nil
}

// setOutputBufferLimits updates only the classes named, so one file line per
// class works, and validates every group before changing any.
func setOutputBufferLimits(c *Config, args []string) *argError {
	got := strings.Join(args, " ")
	if len(args)%4 != 0 {
		return &argError{reply: "Wrong number of arguments in buffer limit configuration.",
			want: "groups of <class> <hard> <soft> <soft-seconds>", got: got}
	}
	next := c.ClientOutputBufferLimit
	for i := 0; i < len(args); i += 4 {
		slot := obufClass(&next, args[i])
		if slot == nil {
			return &argError{reply: "Invalid client class specified in buffer limit configuration.",
				want: "a class of normal, replica (slave) or pubsub", got: got}
		}
		hard, ok1 := parseMemory(args[i+1])
		soft, ok2 := parseMemory(args[i+2])
		secs, err := strconv.ParseInt(args[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || secs < 0 {
			return &argError{reply: "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
				want: "<class> <hard bytes> <soft bytes> <soft seconds>", got: got}
		}
		*slot = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: secs}
	}
	c.ClientOutputBufferLimit = next
	return nil
}

func getOutputBufferLimits(c *Config) string {
	l := &c.ClientOutputBufferLimit
	f := func(name string, o OutputBufferLimit) string {
		return fmt.Sprintf("%s %d %d %d", name, o.Hard, o.Soft, o.SoftSeconds)
	}
	return f("normal", l.Normal) + " " + f("slave", l.Replica) + " " + f("pubsub", l.Pubsub)
}

func outputBufferLimitLines(c, def *Config) []rwLine {
	// All three classes are written together once any differs, so the
	// lines keep their places on the next rewrite instead of the first slot
	// switching class.
	force := c.ClientOutputBufferLimit != def.ClientOutputBufferLimit
	line := func(name string, o OutputBufferLimit) rwLine {
		return rwLine{
			text:  fmt.Sprintf("client-output-buffer-limit %s %s %s %d", name, formatMemory(o.Hard), formatMemory(o.Soft), o.SoftSeconds),
			force: force,
		}
	}
	l := &c.ClientOutputBufferLimit
	return []rwLine{line("normal", l.Normal), line("replica", l.Replica), line("pubsub", l.Pubsub)}
}

// setNotify validates the classes and stores them normalised, so that the
// server can test for a letter with strings.IndexByte and CONFIG GET shows
// what Redis shows.
func setNotify(c *Config, args []string) *argError {
	s, ok := normalizeKeyspaceEvents(args[0])
	if !ok {
		return &argError{reply: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
			want: "letters from KEg$lshzxetmdnA", got: args[0]}
	}
	c.NotifyKeyspaceEvents = s
	return nil
}

// allClasses is what "A" stands for; m (key miss) and n (new key) are
// deliberately excluded, as in Redis.
const allClasses = "g$lshzxetd"

func normalizeKeyspaceEvents(s string) (string, bool) {
	var has [256]bool
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == 'A':
			for j := 0; j < len(allClasses); j++ {
				has[allClasses[j]] = true
			}
		case strings.IndexByte(allClasses+"KEmn", ch) >= 0:
			has[ch] = true
		default:
			return "", false
		}
	}
	var b strings.Builder
	all := true
	for j := 0; j < len(allClasses); j++ {
		all = all && has[allClasses[j]]
	}
	if all {
		b.WriteByte('A')
	} else {
		for j := 0; j < len(allClasses); j++ {
			if has[allClasses[j]] {
				b.WriteByte(allClasses[j])
			}
		}
	}
	// Redis 7.0 drops n when printing A; keeping it avoids losing the flag
	// across CONFIG GET / CONFIG REWRITE round trips.
	for _, ch := range []byte("nKEm") {
		if has[ch] {
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}

func notifyLines(c, def *Config) []rwLine {
	return []rwLine{{text: "notify-keyspace-events " + Quote(c.NotifyKeyspaceEvents), force: c.NotifyKeyspaceEvents != def.NotifyKeyspaceEvents}}
}

// setDir resolves relative paths against the current dir, as Redis does by
// chdir-ing on every dir line, and insists the directory exists, because
// persistence would otherwise fail much later.
func setDir(c *Config, args []string) *argError {
	p := args[0]
	if p == "" {
		return &argError{reply: "No such file or directory", want: "an existing directory", got: p}
	}
	if !filepath.IsAbs(p) {
		base := c.Dir
		if base == "" {
			wd, err := os.Getwd()
			if err != nil {
				return &argError{reply: errnoText(err), want: "an absolute directory (cannot read the working directory)", got: p}
			}
			base = wd
		}
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	st, err := os.Stat(p)
	if err != nil {
		return &argError{reply: errnoText(err), want: "an existing directory", got: args[0]}
	}
	if !st.IsDir() {
		return &argError{reply: "Not a directory", want: "an existing directory", got: args[0]}
	}
	c.Dir = p
	return nil
}

// errnoText renders an OS error like strerror(3), which is what Redis puts
// in its replies.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return err.Error()
}

func dirLines(c, _ *Config) []rwLine {
	// Always written, as Redis does, so the file keeps working when the
	// server is later started from another working directory.
	return []rwLine{{text: "dir " + Quote(c.Dir), force: true}}
}

func setReplicaOf(c *Config, args []string) *argError {
	if len(args) != 2 {
		return &argError{reply: "wrong number of arguments", want: "<host> <port> or 'no one'", got: strings.Join(args, " ")}
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		c.ReplicaOf = nil
		return nil
	}
	port, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || port < 0 || port > 65535 || args[0] == "" {
		return &argError{reply: "Invalid master port", want: "<host> <port> with a port between 0 and 65535, or 'no one'", got: strings.Join(args, " ")}
	}
	c.ReplicaOf = &HostPort{Host: args[0], Port: int(port)}
	return nil
}

func getReplicaOf(c *Config) string {
	if c.ReplicaOf == nil {
		return ""
	}
	return c.ReplicaOf.String()
}

func replicaOfLines(c, _ *Config) []rwLine {
	if c.ReplicaOf == nil {
		return nil
	}
	return []rwLine{{text: fmt.Sprintf("replicaof %s %d", quoteIfNeeded(c.ReplicaOf.Host), c.ReplicaOf.Port), force: true}}
}

func setPercentiles(c *Config, args []string) *argError {
	if len(args) == 0 || (len(args) == 1 && args[0] == "") {
		c.LatencyTrackingInfoPercentiles = nil
		return nil
	}
	got := strings.Join(args, " ")
	out := make([]float64, 0, len(args))
	for _, a := range args {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f != f || strings.ContainsAny(a, "_xXpP") {
			return &argError{reply: "Invalid latency-tracking-info-percentiles parameters", want: "numbers between 0 and 100", got: got}
		}
		if f < 0 || f > 100 {
			return &argError{reply: "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
				want: "numbers between 0 and 100", got: got}
		}
		out = append(out, f)
	}
	c.LatencyTrackingInfoPercentiles = out
	return nil
}

// formatPercentile prints like Redis's "%f" followed by trimDoubleString.
func formatPercentile(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func getPercentiles(c *Config) string {
	parts := make([]string, len(c.LatencyTrackingInfoPercentiles))
	for i, f := range c.LatencyTrackingInfoPercentiles {
		parts[i] = formatPercentile(f)
	}
	return strings.Join(parts, " ")
}

func percentileLines(c, def *Config) []rwLine {
	v := getPercentiles(c)
	if v == "" {
		v = `""`
	}
	return []rwLine{{text: "latency-tracking-info-percentiles " + v, force: getPercentiles(c) != getPercentiles(def)}}
}
