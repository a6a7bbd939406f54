package tui

import "github.com/charmbracelet/lipgloss"

// styles are every colour and emphasis the dashboard uses. State is never
// told by colour alone: each styled cell also carries a word or a symbol,
// so it reads the same with NO_COLOR or on a monochrome terminal.
type styles struct {
	title    lipgloss.Style
	header   lipgloss.Style // table column names
	selected lipgloss.Style // the selected row
	ok       lipgloss.Style
	warn     lipgloss.Style // lag over the threshold, a sync running
	bad      lipgloss.Style // a link down
	stale    lipgloss.Style // an unreachable node's last good data
	dim      lipgloss.Style // labels, help, the key bar
	rule     lipgloss.Style
}

// ANSI colours 1-8 follow the terminal's own palette, light or dark.
func newStyles(r *lipgloss.Renderer) styles {
	return styles{
		title:    r.NewStyle().Bold(true),
		header:   r.NewStyle().Bold(true),
		selected: r.NewStyle().Reverse(true),
		ok:       r.NewStyle().Foreground(lipgloss.Color("2")),
		warn:     r.NewStyle().Foreground(lipgloss.Color("3")),
		bad:      r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		stale:    r.NewStyle().Foreground(lipgloss.Color("8")).Faint(true),
		dim:      r.NewStyle().Foreground(lipgloss.Color("8")),
		rule:     r.NewStyle().Foreground(lipgloss.Color("8")),
	}
}
