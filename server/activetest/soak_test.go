package activetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// runWriters starts one writer per side and returns a function that
// stops them and reports their failures.
func runWriters(ws ...*writer) func() []error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.run(stop)
		}()
	}
	return func() []error {
		close(stop)
		wg.Wait()
		var out []error
		for _, e := range errs {
			if e != nil {
				out = append(out, e)
			}
		}
		return out
	}
}

func reportModel(t *testing.T, what string, bad []string) {
	t.Helper()
	if len(bad) > 25 {
		bad = append(bad[:25], fmt.Sprintf("... and %d more", len(bad)-25))
	}
	for _, b := range bad {
		t.Errorf("%s: %s", what, b)
	}
}

// TestConcurrentWritesConnected: both nodes write the same keys at the
// same time while connected; after the writes stop each key holds the
// newest write of the two, on both nodes.
func TestConcurrentWritesConnected(t *testing.T) {
	p := startPair(t, pairOpts{})
	m := newModel(soakKeys())
	stop := runWriters(newWriter(0, p.a, m, 1, 0.5), newWriter(1, p.b, m, 2, 0.5))
	time.Sleep(2 * time.Second)
	for _, err := range stop() {
		t.Error(err)
	}
	p.waitSettled(10 * time.Second)
	reportModel(t, "after concurrent writes", m.check(p))
	t.Logf("%d writes, %d no-ops (%d stamped), %d error replies", m.writes, m.noops, m.stampedNoops, m.errReplies)
}

// TestSoak: random writes on both nodes, random cuts of either or both
// directions (links dropped, reconnections held or refused), a kill and
// restart of B from its snapshot during a partition. After each heal the
// nodes converge within 10 s and every key holds what the rule predicts.
// The choices come from a fixed seed, printed on failure;
// FLUIDB_SOAK_SEED=<n> or =random picks another (timing still varies from
// run to run), FLUIDB_SOAK_SECONDS sets the length (default 20).
func TestSoak(t *testing.T) {
	seed := uint64(20261128)
	switch s := os.Getenv("FLUIDB_SOAK_SEED"); s {
	case "":
	case "random":
		seed = uint64(time.Now().UnixNano())
	default:
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FLUIDB_SOAK_SEED=%q: want a number or random", s)
		}
		seed = v
	}
	dur := 20 * time.Second
	if s := os.Getenv("FLUIDB_SOAK_SECONDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("FLUIDB_SOAK_SECONDS=%q", s)
		}
		dur = time.Duration(v) * time.Second
	}
	t.Logf("soak seed %d", seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("soak seed was %d: FLUIDB_SOAK_SEED=%d replays its choices", seed, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 0))
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }

	p := startPair(t, pairOpts{})
	m := newModel(soakKeys())
	start := time.Now()
	restartRound := 1 + rng.IntN(2)
	for round := 0; round <= restartRound || time.Since(start) < dur; round++ {
		// A small backlog makes most heals full-sync merges, a large
		// one partial resyncs.
		for _, n := range p.nodes() {
			n.must("CONFIG", "SET", "repl-backlog-size", []string{"16kb", "1mb", "8mb"}[rng.IntN(3)])
		}
		wa := newWriter(0, p.a, m, rng.Uint64(), 0.5)
		wb := newWriter(1, p.b, m, rng.Uint64(), 0.5)
		stopA := runWriters(wa)
		stopB := runWriters(wb)
		var errs []error
		var log []string
		cuts := 1 + rng.IntN(3)
		for i := 0; i < cuts; i++ {
			time.Sleep(ms(50, 300))
			which := rng.IntN(3)
			restart := round == restartRound && i == 0
			if restart {
				which = 2
			}
			refuse := rng.IntN(3) == 0
			for j, f := range []*forwarder{p.fa, p.fb} {
				if which == j || which == 2 {
					if refuse {
						f.CutRefusing()
					} else {
						f.Cut()
					}
				}
			}
			log = append(log, fmt.Sprintf("cut %s refuse=%v", []string{"A->B", "B->A", "both"}[which], refuse))
			time.Sleep(ms(100, 800))
			if restart {
				// B stops writing, saves what it acknowledged, dies
				// and comes back from its snapshot, still cut off.
				errs = append(errs, stopB()...)
				p.b.must("SAVE")
				time.Sleep(ms(0, 200))
				p.restartB()
				wb = newWriter(1, p.b, m, rng.Uint64(), 0.5)
				stopB = runWriters(wb)
				time.Sleep(ms(100, 500))
				log = append(log, "B killed and restarted")
			}
			p.heal()
		}
		time.Sleep(ms(100, 300))
		errs = append(errs, stopA()...)
		errs = append(errs, stopB()...)
		for _, err := range errs {
			t.Error(err)
		}
		healed := time.Now()
		p.waitSettled(10 * time.Second)
		t.Logf("round %d: %v; converged %v after the heal; %d writes so far", round, log, time.Since(healed).Round(time.Millisecond), m.writes)
		reportModel(t, fmt.Sprintf("round %d", round), m.check(p))
		if t.Failed() {
			return
		}
	}
	fullA, partA := syncCounts(t, p.a)
	fullB, partB := syncCounts(t, p.b)
	t.Logf("%d writes, %d no-ops (%d stamped), %d error replies; syncs full/partial A %d/%d B %d/%d; fluidb A %v B %v",
		m.writes, m.noops, m.stampedNoops, m.errReplies, fullA, partA, fullB, partB, fluidbInfo(p.a), fluidbInfo(p.b))
	for _, n := range p.nodes() {
		if c := n.info("fluidb")["stamps_clamped"]; c != "0" {
			t.Errorf("node %s: stamps_clamped=%q with every clock on one machine", n.name, c)
		}
	}
}
