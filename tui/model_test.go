package tui

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/fluidb/fluidb/ops"
)

// runDashboard drives the real program at a fixed size: the fake nodes
// arrive through the Source like a poll round, then keys, then q.
func runDashboard(t *testing.T, opt Options, w, h int, keys ...string) Model {
	t.Helper()
	src := newFakeSource()
	tm := teatest.NewTestModel(t, New(src, opt), teatest.WithInitialTermSize(w, h))
	src.ch <- fakeNodes()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("127.0.0.1:7004")) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	for _, k := range keys {
		tm.Send(keyMsg(k))
	}
	tm.Send(keyMsg("q"))
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func TestDashboard80x24(t *testing.T) {
	m := runDashboard(t, testOptions(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(m.View()))
}

func TestDashboard200x50(t *testing.T) {
	m := runDashboard(t, testOptions(), 200, 50)
	teatest.RequireEqualOutput(t, []byte(m.View()))
}

func TestDashboardUnreachableSelected(t *testing.T) {
	m := runDashboard(t, testOptions(), 100, 30, "down", "down", "down")
	if m.Selected() != 3 {
		t.Fatalf("selected %d", m.Selected())
	}
	teatest.RequireEqualOutput(t, []byte(m.View()))
}

func TestDashboardLinkDownSelectedPaused(t *testing.T) {
	m := runDashboard(t, testOptions(), 100, 30, "tab", "p")
	teatest.RequireEqualOutput(t, []byte(m.View()))
}

func TestDashboardHelp(t *testing.T) {
	m := runDashboard(t, testOptions(), 80, 24, "?")
	teatest.RequireEqualOutput(t, []byte(m.View()))
}

// The same screen in colour: link down red, lag yellow, the stale row grey.
func TestDashboardColour(t *testing.T) {
	m := runDashboard(t, optionsWith(termenv.ANSI), 80, 24)
	out := m.View()
	for _, want := range []string{"\x1b[1;31m✗", "\x1b[33m!1M 2.5s", "\x1b[32m✓", "\x1b[2;90m127.0.0.1:7004"} {
		if !strings.Contains(out, want) {
			t.Errorf("colour view lacks %q", want)
		}
	}
	teatest.RequireEqualOutput(t, []byte(out))
}

func update(m Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, msg := range msgs {
		var mm tea.Model
		mm, cmd = m.Update(msg)
		m = mm.(Model)
	}
	return m, cmd
}

func TestUpdateKeys(t *testing.T) {
	src := newFakeSource()
	m, _ := update(New(src, testOptions()), SnapshotsMsg(fakeNodes()))
	steps := []struct {
		key  string
		want int
	}{{"down", 1}, {"j", 2}, {"down", 3}, {"down", 3}, {"tab", 0}, {"shift+tab", 3}, {"up", 2}, {"k", 1}, {"up", 0}, {"up", 0}}
	for _, s := range steps {
		m, _ = update(m, keyMsg(s.key))
		if m.Selected() != s.want {
			t.Fatalf("after %q selected %d, want %d", s.key, m.Selected(), s.want)
		}
	}
	m, _ = update(m, keyMsg("p"))
	if !m.Paused() || !src.paused || !strings.Contains(m.View(), "PAUSED") {
		t.Errorf("p: paused %v, source paused %v", m.Paused(), src.paused)
	}
	m, _ = update(m, keyMsg("p"))
	if m.Paused() || src.paused {
		t.Error("second p did not resume")
	}
	m, _ = update(m, keyMsg("r"))
	if src.refreshes != 1 {
		t.Errorf("r: %d refreshes", src.refreshes)
	}
	m, _ = update(m, keyMsg("?"))
	if !strings.Contains(m.View(), "pause or resume") {
		t.Error("? did not show the help")
	}
	m, _ = update(m, keyMsg("esc"))
	if strings.Contains(m.View(), "pause or resume") {
		t.Error("esc did not close the help")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		if _, cmd := update(m, keyMsg(k)); cmd == nil || cmd() != tea.Quit() {
			t.Errorf("%s does not quit", k)
		}
	}
}

func TestUpdateSnapshotsKeepSelectionInRange(t *testing.T) {
	src := newFakeSource()
	m, cmd := update(New(src, testOptions()), SnapshotsMsg(fakeNodes()), keyMsg("shift+tab"))
	if m.Selected() != 3 {
		t.Fatalf("selected %d", m.Selected())
	}
	m, cmd = update(m, SnapshotsMsg(fakeNodes()[:2]))
	if m.Selected() != 1 {
		t.Errorf("selection %d after the node list shrank to 2", m.Selected())
	}
	// Each round re-arms the wait on the source; the wait delivers the next.
	if cmd == nil {
		t.Fatal("no command waiting for the next round")
	}
	src.ch <- fakeNodes()[:1]
	if msg, ok := cmd().(SnapshotsMsg); !ok || len(msg) != 1 {
		t.Errorf("next round = %v", msg)
	}
}

// Nothing wraps or overflows, at any size, in any state.
func TestViewFitsTheTerminal(t *testing.T) {
	many := fakeNodes()
	for i := range 30 {
		s := fakeNodes()[i%4]
		s.Addr = "node-with-a-rather-long-hostname-" + string(rune('a'+i%26)) + ".example.com:6379"
		many = append(many, s)
	}
	for _, nodes := range [][]ops.Snapshot{nil, fakeNodes(), many} {
		for _, sel := range []string{"", "shift+tab", "?"} {
			for w := 20; w <= 220; w += 13 {
				for h := 5; h <= 60; h += 7 {
					opt := testOptions()
					opt.Note = func() string { return "PARTITION: link cut, heals in 3s" }
					m, _ := update(New(nil, opt), tea.WindowSizeMsg{Width: w, Height: h}, SnapshotsMsg(nodes))
					if sel != "" {
						m, _ = update(m, keyMsg(sel))
					}
					lines := strings.Split(m.View(), "\n")
					if len(lines) != h {
						t.Fatalf("%dx%d, %d nodes: %d lines", w, h, len(nodes), len(lines))
					}
					for _, l := range lines {
						if ansi.StringWidth(l) > w {
							t.Fatalf("%dx%d: line %q is %d wide", w, h, l, ansi.StringWidth(l))
						}
					}
					if sel == "shift+tab" && len(nodes) > 0 && h > 8 && !strings.Contains(m.View(), "▸") {
						t.Fatalf("%dx%d: the selected (last) row is not in view", w, h)
					}
				}
			}
		}
	}
}

func TestHeaderMakesRoomForTheNote(t *testing.T) {
	opt := testOptions()
	opt.Note = func() string { return "PARTITION: link cut, heals in 3s" }
	m, _ := update(New(nil, opt), tea.WindowSizeMsg{Width: 80, Height: 24}, SnapshotsMsg(fakeNodes()))
	header := strings.Split(m.View(), "\n")[0]
	if !strings.Contains(header, "PARTITION: link cut, heals in 3s  ● live") || strings.Contains(header, "every") {
		t.Errorf("80-column header: %q", header)
	}
	m, _ = update(m, tea.WindowSizeMsg{Width: 140, Height: 24})
	if header := strings.Split(m.View(), "\n")[0]; !strings.Contains(header, "every 1s") || !strings.Contains(header, "12:00:00") {
		t.Errorf("140-column header: %q", header)
	}
}

func TestNoColourHasNoEscapes(t *testing.T) {
	m, _ := update(New(nil, testOptions()), tea.WindowSizeMsg{Width: 120, Height: 40}, SnapshotsMsg(fakeNodes()))
	out := m.View()
	if strings.Contains(out, "\x1b") {
		t.Error("Ascii profile output has escape sequences")
	}
	// The states still read: symbols and words.
	for _, want := range []string{"✓", "✗", "⟳", "?", "down/up", "!1M 2.5s", "unreachable", "sync 25%"} {
		if !strings.Contains(out, want) {
			t.Errorf("monochrome view lacks %q", want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, fakeNodes(), 0); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") || strings.Contains(b.String(), "TREND") {
		t.Errorf("plain table has escapes or sparklines:\n%s", b.String())
	}
	teatest.RequireEqualOutput(t, b.Bytes())
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, testNow, fakeNodes()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Time  time.Time `json:"time"`
		Nodes []struct {
			Addr      string `json:"addr"`
			Reachable bool   `json:"reachable"`
			Error     string `json:"error"`
			NodeUUID  string `json:"node_uuid"`
			Active    struct {
				Conflicts int64 `json:"conflicts"`
				Peers     []struct {
					LinkIn string `json:"link_in"`
				} `json:"peers"`
			} `json:"active"`
			Recent []struct {
				Key  string `json:"key"`
				Side string `json:"side"`
			} `json:"recent_conflicts"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if !got.Time.Equal(testNow) || len(got.Nodes) != 4 || got.Nodes[0].NodeUUID != uuidA || got.Nodes[0].Active.Conflicts != 12 ||
		got.Nodes[1].Active.Peers[0].LinkIn != "down" || got.Nodes[0].Recent[0].Side != "remote" ||
		got.Nodes[3].Reachable || !strings.Contains(got.Nodes[3].Error, "refused") {
		t.Errorf("JSON:\n%s", b.String())
	}
	if strings.Contains(b.String(), "OpsHistory") {
		t.Error("sparkline history in the JSON")
	}
}

func TestSparkline(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		w    int
		want string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0}, 4, "  ▁▁"},
		{[]float64{0, 1, 2, 4, 8}, 4, "▁▂▄█"},
	} {
		if got := sparkline(tt.in, tt.w); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
	}
}

// Text from a server (keys, errors) cannot break the layout or drive the
// terminal.
func TestServerTextIsCleaned(t *testing.T) {
	nodes := fakeNodes()
	nodes[0].Conflicts[0].Key = "evil\n\x1b[2Jkey"
	nodes[3].Err = "line one\nline two"
	m, _ := update(New(nil, testOptions()), tea.WindowSizeMsg{Width: 120, Height: 40}, SnapshotsMsg(nodes))
	out := m.View()
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `"evil\n\x1b[2Jkey"`) {
		t.Errorf("conflict key drawn raw:\n%s", out)
	}
	m, _ = update(m, keyMsg("shift+tab"))
	if lines := strings.Split(m.View(), "\n"); len(lines) != 40 || !strings.Contains(m.View(), `"line one\nline two"`) {
		t.Errorf("error with a newline:\n%s", m.View())
	}
}
