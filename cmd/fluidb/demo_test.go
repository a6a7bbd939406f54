package main

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

func TestDemoRunsAndStops(t *testing.T) {
	out, errOut, code := runEnv(t, nil, "demo", "--for", "3s", "--partition-every", "1s", "--partition-for", "300ms")
	if code != 0 || !strings.Contains(errOut, "paired in") || !strings.Contains(errOut, "partition healed") {
		t.Fatalf("demo --for: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Count(out, "active") < 2 {
		t.Errorf("no table of the two nodes:\n%s", out)
	}

	// Without --for (and without a terminal) it runs until a signal.
	cmd := exec.Command(testutil.Binary(t), "demo")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started, eof := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "paired in") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not start")
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-eof: // the process closed stderr: it is exiting
	case <-time.After(10 * time.Second):
		t.Fatal("demo still running 10s after SIGINT")
	}
	if err := cmd.Wait(); err != nil || time.Since(start) > 10*time.Second {
		t.Errorf("demo after SIGINT: %v after %v", err, time.Since(start))
	}
}
