package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/fluidb/fluidb/ops"
)

// View draws the dashboard: a header, one table row per node, the selected
// node's detail (or the help), and the key bar. Every line is cut to the
// terminal's width and the whole to its height, so nothing wraps.
func (m Model) View() string {
	w, h := max(m.width, 20), max(m.height, 5)
	top := []string{m.header(w)}
	table := m.table(w)
	footer := m.st.dim.Render("↑↓/tab select · p pause · r refresh · ? help · q quit")

	// The table keeps the selected row in view when the nodes outnumber
	// the lines; the detail pane gets what is left.
	rowsRoom := h - len(top) - 2 // the table header and the footer
	if len(table)-1 > rowsRoom {
		first := min(max(0, m.sel-rowsRoom+1), len(table)-1-rowsRoom)
		table = append(table[:1], table[1+first:1+first+rowsRoom]...)
	}
	lines := append(top, table...)
	var detail []string
	if m.help {
		detail = m.helpPane(w)
	} else {
		detail = m.detail(w)
	}
	room := h - len(lines) - 1
	if room > 0 {
		lines = append(lines, detail[:min(len(detail), room)]...)
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, footer)
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// header is the title on the left and the state on the right. When they
// do not fit, the interval goes first, then the clock, then the note.
func (m Model) header(w int) string {
	plural := "s"
	if len(m.nodes) == 1 {
		plural = ""
	}
	title := m.st.title.Render(m.opt.Title) + m.st.dim.Render(fmt.Sprintf(" · %d node%s", len(m.nodes), plural))
	every := ""
	if m.opt.Interval > 0 {
		every = m.st.dim.Render(" · every " + m.opt.Interval.String())
	}
	state := m.st.ok.Render("● live")
	if m.paused {
		state = m.st.warn.Render("❚❚ PAUSED")
	}
	clock := " " + m.opt.Now().In(m.opt.Location).Format("15:04:05")
	note := ""
	if m.opt.Note != nil {
		if n := m.opt.Note(); n != "" {
			note = m.st.warn.Render(n) + "  "
		}
	}
	for _, try := range [][2]string{
		{title + every, note + state + clock},
		{title, note + state + clock},
		{title, note + state},
		{title, state},
	} {
		if gap := w - lipgloss.Width(try[0]) - lipgloss.Width(try[1]); gap >= 1 {
			return try[0] + strings.Repeat(" ", gap) + try[1]
		}
	}
	return title + " " + state
}

// table is the header line and one line per node.
func (m Model) table(w int) []string {
	rows := make([][numCols]cell, len(m.nodes))
	for i, s := range m.nodes {
		rows[i] = rowCells(s, m.opt.LagWarnMs)
	}
	show, widths := layout(rows, w, true)
	var hdr []string
	for i, col := range columns {
		if show[i] {
			hdr = append(hdr, pad(col.name, widths[i], col.right))
		}
	}
	out := []string{"  " + m.st.header.Render(strings.Join(hdr, " "))}
	if len(m.nodes) == 0 {
		return append(out, m.st.dim.Render("  waiting for the first poll…"))
	}
	for r, cells := range rows {
		stale := !m.nodes[r].Reachable && !m.nodes[r].Seen.IsZero()
		var parts []string
		for i, col := range columns {
			if !show[i] {
				continue
			}
			text := pad(cells[i].text, widths[i], col.right)
			switch {
			case i == colNode && r == m.sel:
				text = m.st.title.Render(text)
			case stale && i != colHealth && i != colLinks:
				text = m.st.stale.Render(text)
			default:
				text = m.tone(cells[i].tone).Render(text)
			}
			parts = append(parts, text)
		}
		marker := "  "
		if r == m.sel {
			marker = "▸ "
		}
		out = append(out, marker+strings.Join(parts, " "))
	}
	return out
}

func (m Model) tone(t tone) lipgloss.Style {
	switch t {
	case toneOK:
		return m.st.ok
	case toneWarn:
		return m.st.warn
	case toneBad:
		return m.st.bad
	}
	return m.opt.Renderer.NewStyle()
}

// rule is a horizontal line with a title, as wide as the terminal.
func (m Model) rule(w int, title string) string {
	t := "── " + title + " "
	return m.st.rule.Render(t + strings.Repeat("─", max(0, w-ansi.StringWidth(t))))
}

// detail is the selected node's pane: its links one by one, its trends and
// its recent conflicts.
func (m Model) detail(w int) []string {
	if len(m.nodes) == 0 {
		return nil
	}
	s := m.nodes[m.sel]
	title := clean(s.Addr)
	if s.RoleName() != "" {
		title += " · " + clean(s.RoleName())
	}
	if s.NodeUUID != "" {
		title += " · node " + clean(s.NodeUUID)
	}
	if s.Version != "" {
		title += " · " + clean(s.Version)
	}
	if s.Uptime > 0 {
		title += " · up " + ops.FormatMs(s.Uptime*1000)
	}
	out := []string{m.rule(w, title)}
	now := m.opt.Now()
	switch {
	case s.Reachable:
	case s.Seen.IsZero() && s.Err == ops.NotPolled:
		return append(out, " waiting for the first answer…")
	case s.Seen.IsZero():
		return append(out, m.st.bad.Render(" ? unreachable: "+clean(s.Err)))
	default:
		out = append(out, m.st.bad.Render(" ? unreachable: "+clean(s.Err)),
			m.st.stale.Render(" showing its last answer, from "+ago(now, s.Seen)))
	}
	body := m.st.dim
	if !s.Reachable {
		body = m.st.stale
	}
	links := s.Links()
	if len(links) == 0 {
		out = append(out, body.Render(" no replication links"))
	}
	for _, l := range links {
		out = append(out, m.linkLine(l, body))
	}
	spark := min(30, max(8, (w-40)/2))
	lag := "-"
	if _, ms := s.Lag(); ms >= 0 {
		lag = ops.FormatMs(ms)
	}
	out = append(out, fmt.Sprintf(" %s %s %-7s %s %s %s",
		body.Render("ops/s"), sparkline(s.OpsHistory, spark), ops.FormatCount(round1(s.OpsPerSec)),
		body.Render("lag"), sparkline(s.LagHistory, spark), lag))
	if !s.Active.ActiveReplica {
		return out
	}
	a := s.Active
	line := fmt.Sprintf(" conflicts %d (local won %d, remote won %d)", a.Conflicts, a.ConflictsLocalWon, a.ConflictsRemoteWon)
	if s.ConflictsPerSec > 0 {
		line += fmt.Sprintf(", +%s/s", ops.FormatCount(round1(s.ConflictsPerSec)))
	}
	out = append(out, line)
	if len(s.Conflicts) == 0 {
		return append(out, body.Render("   no recent conflicts"))
	}
	keyW := min(40, max(16, w-62))
	out = append(out, m.st.header.Render(fmt.Sprintf("   %s %2s  %-23s %-23s %s", pad("KEY", keyW, false), "DB", "WINNER (stamp, node)", "LOSER", "WON")))
	for i, c := range s.Conflicts {
		if i == m.opt.Conflicts {
			break
		}
		won := m.st.warn.Render(c.Side)
		if c.Side == "local" {
			won = m.st.ok.Render(c.Side)
		}
		out = append(out, fmt.Sprintf("   %s %2d  %-23s %-23s %s",
			pad(clean(c.Key), keyW, false), c.DB, m.stamp(c.WinnerStamp, c.WinnerOrigin), m.stamp(c.LoserStamp, c.LoserOrigin), won))
	}
	return out
}

func (m Model) linkLine(l ops.Link, body lipgloss.Style) string {
	peer := clean(l.Peer)
	if l.PeerUUID != "" {
		peer += " (" + clean(ops.ShortID(l.PeerUUID)) + ")"
	}
	state := func(label, s string) string {
		switch {
		case s == "":
			return body.Render(label + " -")
		case s == "up":
			return body.Render(label+" ") + m.st.ok.Render("✓ up")
		case s == "sync":
			t := "⟳ sync"
			if l.SyncTotal > 0 {
				t += fmt.Sprintf(" %d%% (%s of %s)", l.SyncBytes*100/l.SyncTotal, ops.FormatBytes(l.SyncBytes), ops.FormatBytes(l.SyncTotal))
			}
			return body.Render(label+" ") + m.st.warn.Render(t)
		}
		return body.Render(label+" ") + m.st.bad.Render("✗ "+s)
	}
	parts := []string{" ↔ " + peer, state("in", l.In), state("out", l.Out)}
	if l.LagMs >= 0 {
		lag := "lag " + ops.FormatBytes(max(l.LagBytes, 0)) + " " + ops.FormatMs(l.LagMs)
		if l.LagMs >= m.opt.LagWarnMs {
			parts = append(parts, m.st.warn.Render("! "+lag))
		} else {
			parts = append(parts, body.Render(lag))
		}
	}
	if l.LastIOMs >= 0 {
		parts = append(parts, body.Render("io "+ops.FormatMs(l.LastIOMs)+" ago"))
	}
	if l.HasSkew {
		parts = append(parts, body.Render("skew "+signedMs(l.SkewMs)))
	}
	return strings.Join(parts, "  ")
}

// stamp shows a hybrid logical clock stamp as its wall-clock time, its
// counter and the node that wrote it.
func (m Model) stamp(st uint64, origin string) string {
	t := ops.StampTime(st).In(m.opt.Location).Format("15:04:05.000")
	return t + "#" + strconv.Itoa(int(ops.StampCounter(st))) + " " + ops.ShortID(origin)
}

func (m Model) helpPane(w int) []string {
	out := []string{m.rule(w, "help (? to close)")}
	for _, l := range helpLines {
		out = append(out, " "+l)
	}
	return out
}
