package tui

import (
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/fluidb/fluidb/ops"
)

// The fake clock every dashboard test runs at.
var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func stampAt(t time.Time, counter uint64) uint64 { return uint64(t.UnixMilli())<<16 | counter }

const (
	uuidA = "6f1c0e1a-8f3b-4c1e-9d2a-3b4c5d6e7f80"
	uuidB = "0a9b8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	uuidC = "c0ffee00-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	uuidD = "dead0000-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
)

func active(addr, uuid string, peers ...ops.Peer) ops.Snapshot {
	return ops.Snapshot{
		Addr: addr, Reachable: true, Seen: testNow, Fluidb: true, Version: "dev", NodeUUID: uuid,
		Role:        ops.Role{Role: "active-replica"},
		Replication: ops.Replication{Role: "active-replica"},
		Active:      ops.Fluidb{NodeUUID: uuid, ActiveReplica: true, Peers: peers},
		Keys:        12345, UsedMemory: 3 << 20, Uptime: 7260, OpsPerSec: 1234,
		OpsHistory: []float64{800, 900, 1000, 1200, 1100, 1234},
		LagHistory: []float64{0, 0, 3, 12, 5, 0},
	}
}

// fakeNodes covers each state the dashboard shows: links up with recent
// conflicts, a link down, lag over the threshold with a sync running, and
// a node that stopped answering.
func fakeNodes() []ops.Snapshot {
	a := active("127.0.0.1:7001", uuidA,
		ops.Peer{UUID: uuidB, Addr: "127.0.0.1:7002", LinkIn: "up", LinkOut: "up", LagBytes: 56, LagMs: 12, LastAckMs: 120, SkewMs: -3})
	a.Active.Conflicts, a.Active.ConflictsLocalWon, a.Active.ConflictsRemoteWon = 12, 5, 7
	a.ConflictsPerSec = 0.5
	a.Conflicts = []ops.Conflict{
		{Key: "user:1", DB: 0, WinnerStamp: stampAt(testNow.Add(-1500*time.Millisecond), 3), WinnerOrigin: uuidB,
			LoserStamp: stampAt(testNow.Add(-1520*time.Millisecond), 1), LoserOrigin: uuidA, Side: "remote"},
		{Key: "cart:42", DB: 3, WinnerStamp: stampAt(testNow.Add(-9*time.Second), 0), WinnerOrigin: uuidA,
			LoserStamp: stampAt(testNow.Add(-9010*time.Millisecond), 2), LoserOrigin: uuidB, Side: "local"},
	}

	b := active("127.0.0.1:7002", uuidB,
		ops.Peer{UUID: uuidA, Addr: "127.0.0.1:7001", LinkIn: "down", LinkOut: "up", LagBytes: 0, LagMs: 0, LastAckMs: 80, SkewMs: 3})
	b.Active.Conflicts, b.Active.ConflictsLocalWon, b.Active.ConflictsRemoteWon = 12, 7, 5
	b.Replication.Masters = []ops.MasterLink{{Host: "127.0.0.1", Port: 7001, Status: "down", DownSinceSeconds: 4}}

	c := active("10.20.30.40:6379", uuidC,
		ops.Peer{UUID: uuidA, Addr: "127.0.0.1:7001", LinkIn: "sync", LinkOut: "up", LagBytes: 1 << 20, LagMs: 2500, LastAckMs: 2500, SkewMs: 41})
	c.Replication.Masters = []ops.MasterLink{{Host: "127.0.0.1", Port: 7001, Status: "down", SyncInProgress: true,
		SyncReadBytes: 256 << 10, SyncTotalBytes: 1 << 20, SyncPerc: 25}}
	c.OpsPerSec, c.Keys = 0, 0
	c.LagHistory = []float64{0, 500, 1000, 1500, 2000, 2500}

	d := active("127.0.0.1:7004", uuidD)
	d.Reachable = false
	d.Err = "127.0.0.1:7004: dial tcp 127.0.0.1:7004: connect: connection refused"
	d.Seen = testNow.Add(-12 * time.Second)
	d.Role = ops.Role{Role: "master"}
	d.Active.ActiveReplica = false
	return []ops.Snapshot{a, b, c, d}
}

// testOptions draw without colour (termenv.Ascii) at the fake clock, in UTC.
func testOptions() Options {
	return optionsWith(termenv.Ascii)
}

func optionsWith(p termenv.Profile) Options {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return Options{Interval: time.Second, Renderer: r, Now: func() time.Time { return testNow }, Location: time.UTC}
}

// fakeSource records what the dashboard asked of it.
type fakeSource struct {
	ch        chan []ops.Snapshot
	refreshes int
	paused    bool
}

func newFakeSource() *fakeSource { return &fakeSource{ch: make(chan []ops.Snapshot, 1)} }

func (f *fakeSource) Updates() <-chan []ops.Snapshot { return f.ch }
func (f *fakeSource) Refresh()                       { f.refreshes++ }
func (f *fakeSource) SetPaused(p bool)               { f.paused = p }
