package ops_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
	"github.com/fluidb/fluidb/ops"
)

// Pairing end to end against real `fluidb serve` processes.

// activeArgs start a node ready to pair: active, and syncing at once
// (Redis's default waits 5s for more replicas before a diskless sync).
var activeArgs = []string{"--active-replica", "yes", "--repl-diskless-sync-delay", "0", "--save", ""}

func startActive(t *testing.T, extra ...string) (*testutil.Proc, ops.Addr) {
	t.Helper()
	p := testutil.StartFluidb(t, append(append([]string{}, activeArgs...), extra...)...)
	return p, addrOf(t, p, "")
}

func addrOf(t *testing.T, p *testutil.Proc, password string) ops.Addr {
	t.Helper()
	a, err := ops.ParseAddr(p.Addr(), password)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func fastOpts() ops.PairOptions {
	return ops.PairOptions{Timeout: 15 * time.Second, CommandTimeout: 2 * time.Second}
}

func do(t *testing.T, a ops.Addr, args ...string) ops.Reply {
	t.Helper()
	ctx := context.Background()
	c, err := ops.Dial(ctx, a, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Do(ctx, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return r
}

func wantKind(t *testing.T, err error, kind ops.ErrorKind, contains string) {
	t.Helper()
	if ops.KindOf(err) != kind {
		t.Fatalf("error %v: kind %v, want %v", err, ops.KindOf(err), kind)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func TestPairWrongPassword(t *testing.T) {
	// testutil waits for an unauthenticated PING: set the password after.
	pa, a := startActive(t, "--masterauth", "s3cret")
	pb, b := startActive(t, "--masterauth", "s3cret")
	do(t, a, "CONFIG", "SET", "requirepass", "s3cret")
	do(t, b, "CONFIG", "SET", "requirepass", "s3cret")
	_, err := ops.Pair(context.Background(), addrOf(t, pa, "wrong"), addrOf(t, pb, "wrong"), fastOpts())
	wantKind(t, err, ops.ErrAuth, pa.Addr())
	if ops.ExitCode(err) != 4 {
		t.Errorf("exit code %d", ops.ExitCode(err))
	}
	_, err = ops.Pair(context.Background(), addrOf(t, pa, ""), addrOf(t, pb, ""), fastOpts())
	wantKind(t, err, ops.ErrAuth, "--password")
	// The right password gets past the checks (a dry run changes nothing).
	res, err := ops.Pair(context.Background(), addrOf(t, pa, "s3cret"), addrOf(t, pb, "s3cret"), ops.PairOptions{DryRun: true})
	if err != nil || len(res.Plan) == 0 {
		t.Fatalf("dry run with the password: %v", err)
	}
}

func TestPairNodeDown(t *testing.T) {
	_, a := startActive(t)
	pb, b := startActive(t)
	pb.Stop()
	start := time.Now()
	_, err := ops.Pair(context.Background(), a, b, fastOpts())
	wantKind(t, err, ops.ErrUnreachable, b.String())
	if ops.ExitCode(err) != 3 || time.Since(start) > 5*time.Second {
		t.Errorf("exit %d after %v", ops.ExitCode(err), time.Since(start))
	}
}

func TestPairNotActive(t *testing.T) {
	_, a := startActive(t)
	pb := testutil.StartFluidb(t, "--save", "")
	b := addrOf(t, pb, "")
	_, err := ops.Pair(context.Background(), a, b, fastOpts())
	wantKind(t, err, ops.ErrNotActive, "CONFIG SET active-replica yes")
	if ops.ExitCode(err) != 5 {
		t.Errorf("exit code %d", ops.ExitCode(err))
	}
	// --enable plans the CONFIG SET; a dry run does not apply it.
	opt := fastOpts()
	opt.Enable, opt.DryRun = true, true
	res, err := ops.Pair(context.Background(), a, b, opt)
	if err != nil || !strings.Contains(strings.Join(res.Plan, "\n"), "CONFIG SET active-replica yes on B") {
		t.Fatalf("dry run with --enable: %v, plan %q", err, res.Plan)
	}
	if got := do(t, b, "CONFIG", "GET", "active-replica"); got.Elems[1].Str != "no" {
		t.Errorf("dry run changed active-replica to %q", got.Elems[1].Str)
	}
	t.Run("redis-server", func(t *testing.T) {
		pr := testutil.StartRedis(t)
		_, err := ops.Pair(context.Background(), a, addrOf(t, pr, ""), fastOpts())
		wantKind(t, err, ops.ErrNotActive, "not fluidb")
	})
}

func TestPairRefusesSelf(t *testing.T) {
	pa, a := startActive(t)
	same, _ := ops.ParseAddr("localhost:"+strings.Split(pa.Addr(), ":")[1], "")
	_, err := ops.Pair(context.Background(), a, same, fastOpts())
	wantKind(t, err, ops.ErrRefused, "same node")
	if ops.ExitCode(err) != 6 {
		t.Errorf("exit code %d", ops.ExitCode(err))
	}
}

func TestPairRefusesNodePairedElsewhere(t *testing.T) {
	_, a := startActive(t)
	_, b := startActive(t)
	_, c := startActive(t)
	do(t, a, "REPLICAOF", c.Host, itoa(c.Port))
	_, err := ops.Pair(context.Background(), a, b, fastOpts())
	wantKind(t, err, ops.ErrRefused, "already paired with "+c.String())
	opt := fastOpts()
	opt.Force, opt.DryRun = true, true
	if _, err := ops.Pair(context.Background(), a, b, opt); err != nil {
		t.Errorf("--force --dry-run: %v", err)
	}
}

// The tests below need the server's active replication
// (docs/active-replication.md, /work/specs/active-interface.md).

func TestPairHappyPath(t *testing.T) {
	_, a := startActive(t)
	_, b := startActive(t)
	for i := range 50 {
		do(t, a, "SET", "a:"+itoa(i), "x")
	}
	do(t, b, "SET", "b:only", "y")
	var steps []string
	opt := fastOpts()
	opt.Progress = func(p ops.Progress) { steps = append(steps, p.Step) }
	res, err := ops.Pair(context.Background(), a, b, opt)
	if err != nil {
		t.Fatalf("pair: %v\nsteps %v", err, steps)
	}
	if !res.Paired || !res.A.LinkUp || !res.B.LinkUp || res.AlreadyPaired {
		t.Errorf("result %+v", res)
	}
	if res.A.Keys != 50 || res.B.Keys != 1 || res.A.UUID == "" || res.A.UUID == res.B.UUID {
		t.Errorf("sides before pairing: A %+v B %+v", res.A, res.B)
	}
	if res.A.ProbeMs <= 0 || res.B.ProbeMs <= 0 {
		t.Errorf("probe round trips %v / %v", res.A.ProbeMs, res.B.ProbeMs)
	}
	// Merged, nothing flushed, probes gone.
	for _, n := range []ops.Addr{a, b} {
		if got := do(t, n, "DBSIZE").Int; got != 51 {
			t.Errorf("%s holds %d keys after pairing, want 51", n, got)
		}
		if got := do(t, n, "KEYS", "fluidb:pair:probe:*"); len(got.Elems) != 0 {
			t.Errorf("%s: probe keys left: %+v", n, got.Elems)
		}
	}
	// A write on either side reaches the other.
	do(t, b, "SET", "after", "1")
	waitGet(t, a, "after", "1")
	js, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(js), `"paired":true`) || !strings.Contains(string(js), `"probe_ms"`) {
		t.Errorf("JSON %s, %v", js, err)
	}
	for _, want := range []string{"check", "link", "probe"} {
		if !strings.Contains(strings.Join(steps, " "), want) {
			t.Errorf("no %q progress in %v", want, steps)
		}
	}
}

func TestPairTwiceAndUnpair(t *testing.T) {
	_, a := startActive(t)
	_, b := startActive(t)
	if _, err := ops.Pair(context.Background(), a, b, fastOpts()); err != nil {
		t.Fatalf("first pair: %v", err)
	}
	res, err := ops.Pair(context.Background(), a, b, fastOpts())
	if err != nil || !res.AlreadyPaired || !res.Paired {
		t.Fatalf("second pair: %+v, %v", res, err)
	}
	// Pairing in the other order is the same pair.
	if res, err := ops.Pair(context.Background(), b, a, fastOpts()); err != nil || !res.AlreadyPaired {
		t.Fatalf("pair B A: %+v, %v", res, err)
	}
	do(t, a, "SET", "kept", "1")
	waitGet(t, b, "kept", "1")

	res, err = ops.Unpair(context.Background(), a, b, fastOpts())
	if err != nil || !res.Unpair {
		t.Fatalf("unpair: %+v, %v", res, err)
	}
	for _, n := range []ops.Addr{a, b} {
		if role := do(t, n, "ROLE").Elems[0].Str; role != "master" {
			t.Errorf("%s role %q after unpair", n, role)
		}
		if got := do(t, n, "GET", "kept"); got.Str != "1" {
			t.Errorf("%s lost its data on unpair", n)
		}
	}
	do(t, a, "SET", "alone", "1")
	time.Sleep(200 * time.Millisecond)
	if got := do(t, b, "GET", "alone"); !got.Null {
		t.Error("a write crossed after unpair")
	}
	// Unpairing again is a no-op.
	if res, err := ops.Unpair(context.Background(), a, b, fastOpts()); err != nil || !strings.Contains(strings.Join(res.Plan, " "), "not paired") {
		t.Errorf("second unpair: %+v, %v", res, err)
	}
}

func waitGet(t *testing.T, a ops.Addr, key, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := do(t, a, "GET", key); !got.Null && got.Str == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET %s never became %q", a, key, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
