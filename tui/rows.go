package tui

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/fluidb/fluidb/ops"
)

// health is a node's overall state, shown as a symbol in the first column
// and by the words in its cells.
type health int

const (
	healthWaiting     health = iota // not polled yet
	healthOK                        // answering, every link up
	healthSync                      // a sync is running
	healthLag                       // lag over the threshold
	healthDown                      // a link is down
	healthUnreachable               // the node does not answer
)

var healthSymbols = map[health]string{
	healthWaiting:     "…",
	healthOK:          "✓",
	healthSync:        "⟳",
	healthLag:         "!",
	healthDown:        "✗",
	healthUnreachable: "?",
}

func nodeHealth(s ops.Snapshot, lagWarnMs int64) health {
	switch {
	case !s.Reachable && s.Seen.IsZero() && s.Err == ops.NotPolled:
		return healthWaiting
	case !s.Reachable:
		return healthUnreachable
	}
	h := healthOK
	for _, l := range s.Links() {
		switch {
		case l.In == "sync" || l.Out == "sync":
			h = max(h, healthSync)
		case l.Down():
			h = max(h, healthDown)
		case l.LagMs >= lagWarnMs && l.LagMs >= 0:
			h = max(h, healthLag)
		}
	}
	return h
}

// tone picks a cell's colour; the text itself always says the same thing.
type tone int

const (
	toneNone tone = iota
	toneOK
	toneWarn
	toneBad
)

type cell struct {
	text string
	tone tone
}

// column is one table column. Columns with a higher drop value go first
// when the terminal is too narrow; 0 columns always stay.
type column struct {
	name  string
	drop  int
	right bool
	max   int // widest a cell may be (0: no limit)
	spark bool
}

const (
	colHealth = iota
	colNode
	colRole
	colID
	colLinks
	colIO
	colLag
	colOps
	colKeys
	colMem
	colConflicts
	colSkew
	colOpsTrend
	colLagTrend
	numCols
)

var columns = [numCols]column{
	colHealth:    {name: "", drop: 0},
	colNode:      {name: "NODE", drop: 0, max: 24},
	colRole:      {name: "ROLE", drop: 3},
	colID:        {name: "ID", drop: 7},
	colLinks:     {name: "LINKS", drop: 0, max: 24},
	colIO:        {name: "LAST IO", drop: 8, right: true},
	colLag:       {name: "LAG", drop: 1, right: true},
	colOps:       {name: "OPS/S", drop: 2, right: true},
	colKeys:      {name: "KEYS", drop: 4, right: true},
	colMem:       {name: "MEM", drop: 6, right: true},
	colConflicts: {name: "CONFLICTS", drop: 2, right: true},
	colSkew:      {name: "SKEW", drop: 9, right: true},
	colOpsTrend:  {name: "OPS/S TREND", drop: 10, spark: true},
	colLagTrend:  {name: "LAG TREND", drop: 10, spark: true},
}

const sparkWidth = 12

// roleNames shortens ROLE's words for the table.
var roleNames = map[string]string{"active-replica": "active", "slave": "replica"}

// rowCells is one node's table row, as text with tones.
func rowCells(s ops.Snapshot, lagWarnMs int64) [numCols]cell {
	var c [numCols]cell
	h := nodeHealth(s, lagWarnMs)
	c[colHealth] = cell{healthSymbols[h], healthTone(h)}
	c[colNode] = cell{text: clean(s.Addr)}
	if s.Seen.IsZero() {
		for i := colRole; i < numCols; i++ {
			c[i] = cell{text: "-"}
		}
		c[colLinks] = cell{"waiting", toneNone}
		if h == healthUnreachable {
			c[colLinks] = cell{"unreachable", toneBad}
		}
		return c
	}
	role := s.RoleName()
	if r, ok := roleNames[role]; ok {
		role = r
	}
	c[colRole] = cell{text: role}
	c[colID] = cell{text: s.ShortID()}
	links := s.Links()
	c[colLinks] = linksCell(links)
	if h == healthUnreachable {
		c[colLinks] = cell{"unreachable", toneBad}
	}
	c[colIO] = cell{text: "-"}
	c[colLag] = cell{text: "-"}
	c[colSkew] = cell{text: "-"}
	if len(links) > 0 {
		var io, skew int64 = -1, 0
		hasSkew := false
		for _, l := range links {
			io = max(io, l.LastIOMs)
			if l.HasSkew && (!hasSkew || abs(l.SkewMs) > abs(skew)) {
				skew, hasSkew = l.SkewMs, true
			}
		}
		if io >= 0 {
			c[colIO] = cell{text: ops.FormatMs(io)}
		}
		if hasSkew {
			c[colSkew] = cell{text: signedMs(skew)}
		}
		if b, ms := s.Lag(); ms >= 0 {
			c[colLag] = cell{text: ops.FormatBytes(max(b, 0)) + " " + ops.FormatMs(ms)}
			if ms >= lagWarnMs {
				c[colLag] = cell{"!" + c[colLag].text, toneWarn}
			}
		}
	}
	c[colOps] = cell{text: ops.FormatCount(round1(s.OpsPerSec))}
	c[colKeys] = cell{text: ops.FormatCount(float64(s.Keys))}
	c[colMem] = cell{text: ops.FormatBytes(s.UsedMemory)}
	c[colConflicts] = cell{text: "-"}
	if s.Active.ActiveReplica {
		t := ops.FormatCount(float64(s.Active.Conflicts))
		if s.ConflictsPerSec > 0 {
			t += " +" + ops.FormatCount(round1(s.ConflictsPerSec)) + "/s"
			c[colConflicts] = cell{t, toneWarn}
		} else {
			c[colConflicts] = cell{text: t}
		}
	}
	c[colOpsTrend] = cell{text: sparkline(s.OpsHistory, sparkWidth)}
	c[colLagTrend] = cell{text: sparkline(s.LagHistory, sparkWidth)}
	return c
}

func healthTone(h health) tone {
	switch h {
	case healthOK:
		return toneOK
	case healthSync, healthLag:
		return toneWarn
	case healthDown, healthUnreachable:
		return toneBad
	}
	return toneNone
}

// linksCell is each link's in/out state ("-" where there is no such link),
// with a running sync's percentage.
func linksCell(links []ops.Link) cell {
	if len(links) == 0 {
		return cell{text: "none"}
	}
	parts := make([]string, len(links))
	t := toneOK
	for i, l := range links {
		in, out := dash(l.In), dash(l.Out)
		if l.In == "sync" && l.SyncTotal > 0 {
			in = "sync " + strconv.FormatInt(l.SyncBytes*100/l.SyncTotal, 10) + "%"
		}
		parts[i] = in + "/" + out
		switch {
		case l.In == "sync" || l.Out == "sync":
			t = max(t, toneWarn)
		case l.Down():
			t = toneBad
		}
	}
	return cell{strings.Join(parts, ", "), t}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func abs(n int64) int64 { return max(n, -n) }

func signedMs(ms int64) string {
	if ms > 0 {
		return "+" + ops.FormatMs(ms)
	}
	return ops.FormatMs(ms)
}

// round1 keeps one decimal under 10 (a rate of 0.5/s), none above.
func round1(f float64) float64 {
	if f >= 10 {
		return float64(int64(f + 0.5))
	}
	return float64(int64(f*10+0.5)) / 10
}

// layout picks the columns that fit in width (the selection marker takes
// two cells) and their widths. Cells wider than a column's max are cut.
func layout(rows [][numCols]cell, width int, withSparks bool) (show [numCols]bool, widths [numCols]int) {
	for i, col := range columns {
		widths[i] = ansi.StringWidth(col.name)
		if col.spark {
			widths[i] = max(widths[i], sparkWidth)
		}
		for _, r := range rows {
			widths[i] = max(widths[i], ansi.StringWidth(r[i].text))
		}
		if col.max > 0 {
			widths[i] = min(widths[i], col.max)
		}
		show[i] = withSparks || !col.spark
	}
	total := func() int { // the marker, then columns one space apart
		n := 2
		for i := range columns {
			if show[i] {
				n += widths[i] + 1
			}
		}
		return n - 1
	}
	for width > 0 && total() > width {
		drop := -1
		for i, col := range columns {
			if show[i] && col.drop > 0 && (drop < 0 || col.drop >= columns[drop].drop) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		show[drop] = false
	}
	return show, widths
}

// pad fits s into w cells, cut with an ellipsis or padded with spaces.
func pad(s string, w int, right bool) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	gap := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
	if right {
		return gap + s
	}
	return s + gap
}

// sparkLevels are the eight block heights of a sparkline.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values, scaled to their maximum; older
// positions without data are blank.
func sparkline(vals []float64, width int) string {
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	hi := 0.0
	for _, v := range vals {
		hi = max(hi, v)
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", width-len(vals)))
	for _, v := range vals {
		i := 0
		if hi > 0 {
			i = int(v / hi * float64(len(sparkLevels)-1))
		}
		b.WriteRune(sparkLevels[max(0, min(i, len(sparkLevels)-1))])
	}
	return b.String()
}

// clean makes text from a server safe to draw: a key or an error with a
// newline or an escape sequence in it would break the layout, or drive the
// terminal. Such text is shown quoted.
func clean(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// ago is how long before now t was, for people.
func ago(now, t time.Time) string {
	return ops.FormatMs(max(0, now.Sub(t).Milliseconds())) + " ago"
}
