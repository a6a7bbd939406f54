package ops

import (
	"context"
	"net"
	"testing"
	"time"
)

// waitSnap reads updates until cond holds for the snapshots (or fails).
func waitSnap(t *testing.T, p *Poller, what string, cond func([]Snapshot) bool) []Snapshot {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-p.Updates():
			if cond(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last state %+v", what, p.Snapshots())
		}
	}
}

func TestPollerRatesUnreachableAndBack(t *testing.T) {
	a := startFake(t, activeInfo("aaaaaaaa-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000000", "127.0.0.1:1", 0), masterRole)
	p := NewPoller([]Addr{a.Addr()}, PollerOptions{Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	p.Start(ctx)

	s := waitSnap(t, p, "first poll", func(s []Snapshot) bool { return s[0].Reachable })
	if s[0].NodeUUID != "aaaaaaaa-0000-4000-8000-000000000000" || s[0].Keys != 5 || s[0].UsedMemory != 1048576 || !s[0].Active.ActiveReplica {
		t.Fatalf("snapshot = %+v", s[0])
	}
	// Others run 1000 commands and 7 conflicts happen between two polls;
	// the poller's own commands are not load.
	a.set(func(f *fakeNode) {
		f.extra += 1000
		f.info = activeInfo("aaaaaaaa-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000000", "127.0.0.1:1", 7)
	})
	s = waitSnap(t, p, "rates", func(s []Snapshot) bool { return s[0].ConflictsPerSec > 0 })
	if s[0].OpsPerSec < 1000/2.0 || s[0].Active.Conflicts != 7 {
		t.Errorf("after 1000 commands: ops/s %.1f, conflicts %d", s[0].OpsPerSec, s[0].Active.Conflicts)
	}
	s = waitSnap(t, p, "idle", func(s []Snapshot) bool { return s[0].ConflictsPerSec == 0 })
	if s[0].OpsPerSec != 0 {
		t.Errorf("idle node: ops/s %.1f, want 0 (the poller's own commands are not load)", s[0].OpsPerSec)
	}
	if len(s[0].OpsHistory) < 3 {
		t.Errorf("history %v", s[0].OpsHistory)
	}

	a.stop()
	s = waitSnap(t, p, "unreachable", func(s []Snapshot) bool { return !s[0].Reachable })
	if s[0].Err == "" || s[0].Keys != 5 || s[0].NodeUUID == "" {
		t.Errorf("unreachable node lost its last good data: %+v", s[0])
	}
	a.restart()
	waitSnap(t, p, "back", func(s []Snapshot) bool { return s[0].Reachable })
}

func TestPollerDiscoversPeers(t *testing.T) {
	b := startFake(t, "", masterRole)
	a := startFake(t, activeInfo("aaaaaaaa-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000000", b.addr, 0), masterRole)
	// b reports a under another name for the same listener: not a new node.
	_, port, _ := net.SplitHostPort(a.addr)
	b.set(func(f *fakeNode) {
		f.info = activeInfo("bbbbbbbb-0000-4000-8000-000000000000", "aaaaaaaa-0000-4000-8000-000000000000", "localhost:"+port, 0)
	})
	p := NewPoller([]Addr{a.Addr()}, PollerOptions{Interval: 20 * time.Millisecond, Discover: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	p.Start(ctx)
	s := waitSnap(t, p, "discovered peer", func(s []Snapshot) bool { return len(s) == 2 && s[1].Reachable })
	if s[1].Addr != b.addr || s[1].NodeUUID != "bbbbbbbb-0000-4000-8000-000000000000" {
		t.Errorf("discovered %+v", s[1])
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(p.Snapshots()); n != 2 {
		t.Errorf("%d nodes after discovery settled, want 2", n)
	}

	got := Collect(context.Background(), []Addr{a.Addr()}, PollerOptions{Discover: true})
	if len(got) != 2 || !got[0].Reachable || !got[1].Reachable {
		t.Errorf("Collect = %+v", got)
	}
}

func TestPollerNeverBlocks(t *testing.T) {
	// A node that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	silent, _ := ParseAddr(ln.Addr().String(), "")
	p := NewPoller([]Addr{silent}, PollerOptions{Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx)
	// Nobody reads Updates for a while; the calls below must not wait.
	time.Sleep(150 * time.Millisecond)
	start := time.Now()
	p.Refresh()
	p.SetPaused(true)
	_ = p.Snapshots()
	p.SetPaused(false)
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("poller calls took %v", d)
	}
	s := waitSnap(t, p, "timeout reported", func(s []Snapshot) bool { return s[0].Err != "" && s[0].Err != NotPolled })
	if s[0].Reachable {
		t.Errorf("silent node reachable: %+v", s[0])
	}
	cancel()
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("poller goroutines did not stop")
	}
}

func TestPollerPause(t *testing.T) {
	a := startFake(t, activeInfo("aaaaaaaa-0000-4000-8000-000000000000", "b", "127.0.0.1:1", 0), masterRole)
	p := NewPoller([]Addr{a.Addr()}, PollerOptions{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); p.Wait() }()
	p.Start(ctx)
	waitSnap(t, p, "first poll", func(s []Snapshot) bool { return s[0].Reachable })
	p.SetPaused(true)
	time.Sleep(50 * time.Millisecond) // let a poll in flight finish
	a.set(func(f *fakeNode) { f.commands = 0 })
	time.Sleep(100 * time.Millisecond)
	a.set(func(f *fakeNode) {
		if f.commands != 0 {
			t.Errorf("paused poller sent %d commands", f.commands)
		}
	})
	p.Refresh() // an explicit refresh polls even while paused
	waitSnap(t, p, "refresh while paused", func([]Snapshot) bool { return true })
}
