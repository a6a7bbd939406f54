package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t), args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, code := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "fluidb ") || !strings.Contains(out, "commit") {
			t.Fatalf("fluidb %v: exit %d, %q", args, code, out)
		}
	}
}

func TestCompletion(t *testing.T) {
	out, code := run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "fluidb") {
		t.Fatalf("completion bash: exit %d", code)
	}
}

func TestTestConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "node.conf")
	seed := "port 6379\nrequirepass mypassword123\nmasterauth mypassword123\nactive-replica yes\nreplicaof 10.0.0.3 6379\n"
	if err := os.WriteFile(good, []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(t, "serve", good, "--test-config"); code != 0 {
		t.Fatalf("seed config refused: exit %d: %s", code, out)
	}
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("port 7000\n\nprot 7001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "serve", bad, "--test-config")
	if code == 0 || !strings.Contains(out, "bad.conf:3") || !strings.Contains(out, "prot") {
		t.Fatalf("bad directive: exit %d, %q; want non-zero naming bad.conf:3 and 'prot'", code, out)
	}
	out, code = run(t, "serve", "--port", "notaport", "--test-config")
	if code == 0 || !strings.Contains(out, "port") {
		t.Fatalf("bad --port: exit %d, %q", code, out)
	}
}

func TestServeWithRedisCLI(t *testing.T) {
	p := testutil.StartFluidb(t)
	if got := testutil.CLI(t, p.Port, "PING"); got != "PONG" {
		t.Fatalf("PING = %q", got)
	}
	if got := testutil.CLI(t, p.Port, "SET", "greeting", "hello world"); got != "OK" {
		t.Fatalf("SET = %q", got)
	}
	if got := testutil.CLI(t, p.Port, "GET", "greeting"); got != "hello world" {
		t.Fatalf("GET = %q", got)
	}
	if got := testutil.CLI(t, p.Port, "CONFIG", "GET", "databases"); got != "databases\n16" {
		t.Fatalf("CONFIG GET databases = %q", got)
	}
	// The command line overrides defaults, like redis-server.
	if got := testutil.CLI(t, p.Port, "CONFIG", "GET", "port"); got != "port\n"+strconv.Itoa(p.Port) {
		t.Fatalf("CONFIG GET port = %q", got)
	}
}

func TestOversizedRequestsAreRefused(t *testing.T) {
	p := testutil.StartFluidb(t)
	for _, req := range []string{"*3000000000\r\n", "*1\r\n$9999999999999\r\n", "*1\r\n$abc\r\n", "*-x\r\n"} {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.HasPrefix(line, "-ERR Protocol error") {
			t.Fatalf("request %q: reply %q, %v; want a protocol error", req, line, err)
		}
	}
	if got := testutil.CLI(t, p.Port, "PING"); got != "PONG" {
		t.Fatalf("server stopped serving after bad input: PING = %q", got)
	}
}

func TestRedisBenchmarkRuns(t *testing.T) {
	bench := testutil.Need(t, "redis-benchmark")
	p := testutil.StartFluidb(t)
	out, err := exec.Command(bench, "-p", strconv.Itoa(p.Port), "-n", "2000", "-c", "4", "-P", "4",
		"-t", "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	for _, want := range []string{"SET", "GET", "LPUSH", "ZADD", "MSET"} {
		if !strings.Contains(string(out), want+": ") && !strings.Contains(string(out), want+" ") {
			t.Errorf("redis-benchmark output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "ERR") {
		t.Fatalf("redis-benchmark saw errors:\n%s", out)
	}
}
