package tui

// keyMap lists the keys each action answers to (tea.KeyMsg.String()).
type keyMap struct {
	up, down, next, prev, pause, refresh, help, quit []string
}

var keys = keyMap{
	up:      []string{"up", "k"},
	down:    []string{"down", "j"},
	next:    []string{"tab"},
	prev:    []string{"shift+tab"},
	pause:   []string{"p", " "},
	refresh: []string{"r"},
	help:    []string{"?"},
	quit:    []string{"q", "ctrl+c"},
}

// helpLines is the help screen, one key per line.
var helpLines = []string{
	"↑/k ↓/j    select the previous / next node",
	"tab        select the next node (shift+tab: previous)",
	"p, space   pause or resume polling (the data stays on screen)",
	"r          poll every node now",
	"?          show or hide this help",
	"q, ctrl+c  quit",
	"",
	"✓ links up   ⟳ a sync is running   ! lag over the threshold",
	"✗ a link is down   ? the node does not answer (its last data, greyed)",
	"LINKS in/out: our link replicating from the peer / the peer's from us;",
	"  - no such link.  LAG: bytes and ms the peer is behind this node.",
}

func matches(k string, list []string) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}
