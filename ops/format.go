package ops

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FormatBytes is n in B, K, M, G, T (powers of 1024), like redis-cli's
// used_memory_human.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	f := float64(n)
	for _, u := range []string{"K", "M", "G", "T"} {
		f /= unit
		if f < unit && f > -unit || u == "T" {
			return trimFloat(f) + u
		}
	}
	return ""
}

// FormatCount is n with k, M, G suffixes (powers of 1000).
func FormatCount(n float64) string {
	switch a := max(n, -n); {
	case a < 1000:
		if n == float64(int64(n)) {
			return strconv.FormatInt(int64(n), 10)
		}
		return strconv.FormatFloat(n, 'f', 1, 64)
	case a < 1e6:
		return trimFloat(n/1e3) + "k"
	case a < 1e9:
		return trimFloat(n/1e6) + "M"
	}
	return trimFloat(n/1e9) + "G"
}

// trimFloat prints one decimal under 100, none above.
func trimFloat(f float64) string {
	if f >= 100 || f <= -100 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0")
}

// FormatMs is a duration in milliseconds, compact: 0ms, 850ms, 12.5s, 3m10s, 2h5m.
func FormatMs(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case ms < 0:
		return "-" + FormatMs(-ms)
	case d < time.Second:
		return strconv.FormatInt(ms, 10) + "ms"
	case d < time.Minute:
		return trimFloat(d.Seconds()) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
}

// WriteText prints a pair or unpair result for a person.
func (r *PairResult) WriteText(w io.Writer) {
	if r.DryRun {
		fmt.Fprintln(w, "Plan (dry run, nothing changed):")
		for i, p := range r.Plan {
			fmt.Fprintf(w, "  %d. %s\n", i+1, p)
		}
		return
	}
	if r.Unpair {
		if len(r.Unlinked) == 0 {
			fmt.Fprintf(w, "%s and %s were not paired: nothing changed.\n", r.A.Addr, r.B.Addr)
			return
		}
		fmt.Fprintf(w, "Unpaired %s and %s in %s (REPLICAOF NO ONE on %s); both keep their data.\n",
			r.A.Addr, r.B.Addr, FormatMs(int64(r.TookMs)), strings.Join(r.Unlinked, " and "))
		return
	}
	state := "paired"
	if r.AlreadyPaired {
		state = "already paired, checked"
	}
	fmt.Fprintf(w, "%s and %s: %s in %s\n", r.A.Addr, r.B.Addr, state, FormatMs(int64(r.TookMs)))
	for _, s := range []struct {
		name string
		side Side
		from string
	}{{"A", r.A, "B"}, {"B", r.B, "A"}} {
		link := "down"
		if s.side.LinkUp {
			link = "up"
		}
		fmt.Fprintf(w, "  %s %-21s node %s  link from %s %-4s  lag %s / %s  probe %s->%s %.1fms  keys %d\n",
			s.name, s.side.Addr, ShortID(s.side.UUID), s.from, link, FormatBytes(s.side.LagBytes), FormatMs(s.side.LagMs),
			s.name, s.from, s.side.ProbeMs, s.side.Keys)
	}
	if r.A.Enabled || r.B.Enabled {
		fmt.Fprintln(w, "  active-replica was turned on with CONFIG SET: add \"active-replica yes\" to the config files too.")
	}
	fmt.Fprintln(w, "  The links live in memory: run CONFIG REWRITE on both nodes (or add replicaof to their files) to keep them across restarts.")
}

// ProgressPrinter returns a Progress callback that prints each step on its
// own line and a running sync at most once a second.
func ProgressPrinter(w io.Writer) func(Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Step == "sync" {
			if time.Since(last) < time.Second {
				return
			}
			last = time.Now()
		}
		fmt.Fprintln(w, p.Message)
	}
}
