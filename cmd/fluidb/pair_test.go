package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fluidb/fluidb/internal/testutil"
)

// runEnv runs the binary with extra environment variables, returning
// stdout, stderr and the exit code.
func runEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

var activeNode = []string{"--active-replica", "yes", "--repl-diskless-sync-delay", "0", "--save", ""}

func TestPairCLI(t *testing.T) {
	a := testutil.StartFluidb(t, activeNode...)
	b := testutil.StartFluidb(t, activeNode...)
	testutil.CLI(t, a.Port, "SET", "from-a", "1")

	out, errOut, code := runEnv(t, nil, "pair", a.Addr(), b.Addr(), "--dry-run")
	if code != 0 || !strings.Contains(out, "Plan (dry run") || !strings.Contains(out, "REPLICAOF") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runEnv(t, nil, "pair", a.Addr(), b.Addr(), "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "paired in") || !strings.Contains(errOut, "link to A is up") || !strings.Contains(errOut, "holds 1 key (db0 1)") {
		t.Fatalf("pair: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := testutil.CLI(t, b.Port, "GET", "from-a"); got != "1" {
		t.Errorf("B: GET from-a = %q after pairing", got)
	}
	out, _, code = runEnv(t, nil, "pair", b.Addr(), "redis://"+a.Addr(), "--json")
	var res struct {
		AlreadyPaired bool `json:"already_paired"`
		Paired        bool `json:"paired"`
		ExitCode      int  `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.AlreadyPaired || !res.Paired {
		t.Fatalf("pair again --json: exit %d, %v\n%s", code, err, out)
	}
	out, errOut, code = runEnv(t, nil, "pair", "--unpair", a.Addr(), b.Addr())
	if code != 0 || !strings.Contains(out, "Unpaired") {
		t.Fatalf("unpair: exit %d\n%s%s", code, out, errOut)
	}
	if got := testutil.CLI(t, a.Port, "ROLE"); !strings.HasPrefix(got, "master") {
		t.Errorf("A after unpair: ROLE = %q", got)
	}
}

func TestPairCLIExitCodes(t *testing.T) {
	a := testutil.StartFluidb(t, activeNode...)
	plain := testutil.StartFluidb(t, "--save", "")
	down := testutil.StartFluidb(t, activeNode...)
	down.Stop()
	locked := testutil.StartFluidb(t, activeNode...)
	testutil.CLI(t, locked.Port, "CONFIG", "SET", "requirepass", "s3cret")

	tests := []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"bad address", nil, []string{"pair", "db1:port", a.Addr()}, 2, "bad address"},
		{"one argument", nil, []string{"pair", a.Addr()}, 1, "accepts 2 arg"},
		{"node down", nil, []string{"pair", a.Addr(), down.Addr()}, 3, down.Addr()},
		{"no password", nil, []string{"pair", a.Addr(), locked.Addr()}, 4, "NOAUTH"},
		{"wrong password", []string{"FLUIDB_PASSWORD=nope"}, []string{"pair", a.Addr(), locked.Addr()}, 4, "WRONGPASS"},
		{"not active", nil, []string{"pair", a.Addr(), plain.Addr()}, 5, "CONFIG SET active-replica yes"},
		{"same node", nil, []string{"pair", a.Addr(), "localhost:" + strings.Split(a.Addr(), ":")[1]}, 6, "same node"},
	}
	for _, tt := range tests {
		out, errOut, code := runEnv(t, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.says) {
			t.Errorf("%s: exit %d (want %d), stderr %q (want %q)\n%s", tt.name, code, tt.code, errOut, tt.says, out)
		}
	}
	// --json reports the failure on stdout too.
	out, _, code := runEnv(t, nil, "pair", a.Addr(), plain.Addr(), "--json")
	var res struct {
		ErrorKind string `json:"error_kind"`
		ExitCode  int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 5 || res.ExitCode != 5 || res.ErrorKind != "not active" {
		t.Errorf("--json failure: exit %d, %+v, %v\n%s", code, res, err, out)
	}
	// The password from REDISCLI_AUTH works like redis-cli's.
	if _, errOut, code := runEnv(t, []string{"REDISCLI_AUTH=s3cret"}, "pair", "--dry-run", "redis://:s3cret@"+a.Addr(), locked.Addr()); code != 0 {
		t.Errorf("REDISCLI_AUTH: exit %d: %s", code, errOut)
	}
}
