package demo

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/ops"
)

func TestForwarderCutAndHeal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	f, err := newForwarder(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	echo := func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("hi")); err != nil {
			return err
		}
		b := make([]byte, 2)
		_, err := io.ReadFull(c, b)
		return err
	}
	c, err := net.Dial("tcp", f.addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := echo(c); err != nil {
		t.Fatalf("through the forwarder: %v", err)
	}
	f.setCut(true)
	if err := echo(c); err == nil {
		t.Error("an open connection survived the cut")
	}
	if c2, err := net.Dial("tcp", f.addr().String()); err == nil {
		if echo(c2) == nil {
			t.Error("a new connection got through the cut")
		}
		c2.Close()
	}
	f.setCut(false)
	c3, err := net.Dial("tcp", f.addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := echo(c3); err != nil {
		t.Errorf("after healing: %v", err)
	}
}

// The whole demo in-process: paired, loaded, partitioned, and conflicts
// show up; Stop leaves nothing behind.
func TestDemoMakesConflictsAndStopsClean(t *testing.T) {
	log := &lockedWriter{}
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
