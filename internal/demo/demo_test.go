package demo

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
	"github.com/fluidb/fluidb/ops"
)

// The whole demo in-process: paired, loaded, partitioned, and conflicts
// show up; Stop leaves nothing behind.
func TestDemoMakesConflictsAndStopsClean(t *testing.T) {
	log := &testutil.SyncBuffer{}
	d, err := Start(context.Background(), Options{OpsPerSec: 200, PartitionEvery: 300 * time.Millisecond, PartitionFor: 500 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	addrs := d.Addrs()
	deadline := time.Now().Add(40 * time.Second) // generous: CI machines are loaded
	for {
		snaps := ops.Collect(context.Background(), addrs, ops.PollerOptions{Timeout: 2 * time.Second})
		if len(snaps) != 2 || !snaps[0].Reachable || !snaps[1].Reachable {
			t.Fatalf("nodes: %+v", snaps)
		}
		if note := d.Note(); !strings.Contains(note, "partition") && !strings.Contains(note, "PARTITION") {
			t.Fatalf("Note() = %q", note)
		}
		if snaps[0].Active.Conflicts+snaps[1].Active.Conflicts > 0 && len(snaps[0].Conflicts)+len(snaps[1].Conflicts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no conflicts after 40s of partitions; log:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Stop: %v", dir, err)
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a.String(), 200*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("%s still listening after Stop", a)
		}
	}
	if !strings.Contains(log.String(), "partition: cutting") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestStartFailsCleanlyOnABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	d, err := Start(context.Background(), Options{Ports: [2]int{0, busy}, PartitionEvery: -1})
	if err == nil {
		d.Stop()
		t.Fatal("started on a busy port")
	}
	if !strings.Contains(err.Error(), "node 2") {
		t.Errorf("error %q does not name the node", err)
	}
}
