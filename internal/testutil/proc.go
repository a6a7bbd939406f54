// Package testutil starts real fluidb and redis-server processes for the
// process-level tests. Test code only; it imports no fluidb package.
package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds ./cmd/fluidb once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fluidb-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "fluidb")
		cmd := exec.Command("go", "build", "-race", "-o", buildPath, "./cmd/fluidb")
		if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
			cmd = exec.Command("go", "build", "-o", buildPath, "./cmd/fluidb")
		}
		cmd.Dir = RepoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// RepoRoot is the module root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Need returns the path of an external program, failing the test when it
// is missing in CI (where .ci/run installs it) and skipping it elsewhere.
func Need(t testing.TB, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (CI must install it)", prog)
		}
		t.Skipf("%s not installed", prog)
	}
	return p
}

// Proc is a running server process.
type Proc struct {
	Port int
	Cmd  *exec.Cmd
	Dir  string
	out  *SyncBuffer
}

// SyncBuffer collects what several goroutines write (a process's output,
// a test's log) and hands it back as one string.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *SyncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *SyncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Output is what the process has printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Addr is host:port.
func (p *Proc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// StartFluidb runs `fluidb serve` with args (directives as --name value) on
// a free port in a temporary working directory, waits until it answers
// PING, and stops it when the test ends.
func StartFluidb(t testing.TB, args ...string) *Proc {
	t.Helper()
	port := FreePort(t)
	dir := t.TempDir()
	full := append([]string{"serve", "--port", strconv.Itoa(port), "--dir", dir}, args...)
	return start(t, Binary(t), full, port, dir)
}

// StartRedis runs Debian's redis-server the same way.
func StartRedis(t testing.TB, args ...string) *Proc {
	t.Helper()
	bin := Need(t, "redis-server")
	port := FreePort(t)
	dir := t.TempDir()
	full := append([]string{"--port", strconv.Itoa(port), "--dir", dir, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"}, args...)
	return start(t, bin, full, port, dir)
}

func start(t testing.TB, bin string, args []string, port int, dir string) *Proc {
	t.Helper()
	p := &Proc{Port: port, Dir: dir, out: &SyncBuffer{}}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Dir = dir
	p.Cmd.Stdout = p.out
	p.Cmd.Stderr = p.out
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		if Serving(p.Addr()) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer PING on %d:\n%s", bin, port, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the process (if it is still running) and waits for it.
func (p *Proc) Stop() {
	if p.Cmd.ProcessState != nil {
		return
	}
	_ = p.Cmd.Process.Kill()
	_, _ = p.Cmd.Process.Wait()
}

// Wait waits for the process to exit by itself, up to d.
func (p *Proc) Wait(d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("process still running after %v", d)
	}
}

// Serving reports whether addr answers PING (or asks for a password: it
// is up either way).
func Serving(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

// CLI runs redis-cli against port with args and returns its trimmed output.
func CLI(t testing.TB, port int, args ...string) string {
	t.Helper()
	bin := Need(t, "redis-cli")
	full := append([]string{"-p", strconv.Itoa(port)}, args...)
	out, err := exec.Command(bin, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}
