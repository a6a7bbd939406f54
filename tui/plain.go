package tui

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/fluidb/fluidb/ops"
)

// WriteTable prints one plain-text snapshot table, for `watch --once` and
// for output that is not a terminal: no colour, no width limit, the health
// symbol and the words carrying the state.
func WriteTable(w io.Writer, nodes []ops.Snapshot, lagWarnMs int64) error {
	if lagWarnMs <= 0 {
		lagWarnMs = DefaultLagWarnMs
	}
	rows := make([][numCols]cell, len(nodes))
	for i, s := range nodes {
		rows[i] = rowCells(s, lagWarnMs)
	}
	show, widths := layout(rows, 0, false)
	line := func(cells []string) string { return strings.TrimRight(strings.Join(cells, " "), " ") + "\n" }
	var hdr []string
	for i, col := range columns {
		if show[i] {
			hdr = append(hdr, pad(col.name, widths[i], col.right))
		}
	}
	var b strings.Builder
	b.WriteString(line(hdr))
	for _, r := range rows {
		var parts []string
		for i, col := range columns {
			if show[i] {
				parts = append(parts, pad(r[i].text, widths[i], col.right))
			}
		}
		b.WriteString(line(parts))
	}
	for _, s := range nodes {
		if !s.Reachable && s.Err != "" {
			msg := s.Err
			if !strings.HasPrefix(msg, s.Addr) {
				msg = s.Addr + ": " + msg
			}
			b.WriteString(clean(msg) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is the JSON document of `watch --json`.
type Report struct {
	Time  time.Time      `json:"time"`
	Nodes []ops.Snapshot `json:"nodes"`
}

// WriteJSON prints the snapshot as indented JSON.
func WriteJSON(w io.Writer, now time.Time, nodes []ops.Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Report{Time: now, Nodes: nodes})
}
