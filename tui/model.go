package tui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/fluidb/fluidb/ops"
)

// Source is where the dashboard's data comes from: an *ops.Poller, or a
// fake in tests. Its methods must not block.
type Source interface {
	Updates() <-chan []ops.Snapshot
	Refresh()
	SetPaused(bool)
}

// Options tune the dashboard; zero values take the defaults.
type Options struct {
	Title    string        // default "fluidb watch"
	Interval time.Duration // the polling interval, shown in the header
	// LagWarnMs is the lag from which a link shows as lagging (default
	// 2000: replicas acknowledge once a second, so up to a second of lag is
	// what a busy, healthy link shows).
	LagWarnMs int64
	Conflicts int // most recent conflicts listed in the detail pane, as room allows (default 20)
	// Renderer decides colours (lipgloss.DefaultRenderer() when nil); one
	// with the termenv.Ascii profile draws without any.
	Renderer *lipgloss.Renderer
	Now      func() time.Time // default time.Now; tests fix it
	Location *time.Location   // for stamps and clocks (default time.Local)
	// Note, when set, is shown in the header (fluidb demo: where the
	// partition cycle is). It is called from View, so it must not block.
	Note func() string
}

// DefaultLagWarnMs is the lag from which a link shows as lagging.
const DefaultLagWarnMs = 2000

// SnapshotsMsg carries one round of polling to Update.
type SnapshotsMsg []ops.Snapshot

// Model is the dashboard's state. Update never blocks: data arrives as
// SnapshotsMsg from a command that waits on the Source.
type Model struct {
	src    Source
	opt    Options
	st     styles
	nodes  []ops.Snapshot
	sel    int
	paused bool
	help   bool
	width  int
	height int
}

// New builds the dashboard on src (nil: data only from SnapshotsMsg sent
// by the caller, as tests do).
func New(src Source, opt Options) Model {
	if opt.Title == "" {
		opt.Title = "fluidb watch"
	}
	if opt.LagWarnMs <= 0 {
		opt.LagWarnMs = DefaultLagWarnMs
	}
	if opt.Conflicts <= 0 {
		opt.Conflicts = 20
	}
	if opt.Renderer == nil {
		opt.Renderer = lipgloss.DefaultRenderer()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	return Model{src: src, opt: opt, st: newStyles(opt.Renderer), width: 80, height: 24}
}

// Init starts listening to the source.
func (m Model) Init() tea.Cmd { return m.next() }

// next waits, in bubbletea's command goroutine, for the source's next round.
func (m Model) next() tea.Cmd {
	if m.src == nil {
		return nil
	}
	ch := m.src.Updates()
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return nil
		}
		return SnapshotsMsg(s)
	}
}

// Update handles keys, resizes and data.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case SnapshotsMsg:
		m.nodes = msg
		m.sel = min(m.sel, max(0, len(m.nodes)-1))
		return m, m.next()
	case tea.KeyMsg:
		return m.key(msg.String())
	}
	return m, nil
}

func (m Model) key(k string) (tea.Model, tea.Cmd) {
	n := len(m.nodes)
	switch {
	case matches(k, keys.quit):
		return m, tea.Quit
	case matches(k, keys.help):
		m.help = !m.help
	case k == "esc" && m.help:
		m.help = false
	case matches(k, keys.up) && n > 0:
		m.sel = max(0, m.sel-1)
	case matches(k, keys.down) && n > 0:
		m.sel = min(n-1, m.sel+1)
	case matches(k, keys.next) && n > 0:
		m.sel = (m.sel + 1) % n
	case matches(k, keys.prev) && n > 0:
		m.sel = (m.sel + n - 1) % n
	case matches(k, keys.pause):
		m.paused = !m.paused
		if m.src != nil {
			m.src.SetPaused(m.paused)
		}
	case matches(k, keys.refresh):
		if m.src != nil {
			m.src.Refresh()
		}
	}
	return m, nil
}

// Selected is the index of the selected node.
func (m Model) Selected() int { return m.sel }

// Paused reports whether polling is paused.
func (m Model) Paused() bool { return m.paused }

// Run shows the dashboard on the terminal, fed by p (already started), until
// the user quits or ctx ends.
func Run(ctx context.Context, p *ops.Poller, opt Options) error {
	// Signals end ctx (cmd/fluidb's main): bubbletea's own handler would
	// race it at shutdown, blocked sending to a program that has stopped
	// reading. Ctrl-C in the raw terminal is a key press, handled by Update.
	prog := tea.NewProgram(New(p, opt), tea.WithAltScreen(), tea.WithContext(ctx), tea.WithoutSignalHandler())
	_, err := prog.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // stopped by ctx (a signal): not a failure
	}
	return err
}
