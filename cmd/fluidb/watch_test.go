package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fluidb/fluidb/internal/testutil"
)

func TestWatchOnceAndJSON(t *testing.T) {
	a := testutil.StartFluidb(t, activeNode...)
	b := testutil.StartFluidb(t, activeNode...)
	if _, errOut, code := runEnv(t, nil, "pair", a.Addr(), b.Addr(), "--timeout", "20s"); code != 0 {
		t.Fatalf("pair: exit %d: %s", code, errOut)
	}

	// One node given: its peer is discovered. stdout is not a terminal, so
	// even without --once this prints one table.
	for _, args := range [][]string{{"watch", "--once", a.Addr()}, {"watch", a.Addr()}} {
		out, errOut, code := runEnv(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.Contains(lines[0], "NODE") || !strings.Contains(out, "active") ||
			strings.Count(out, "up/up") != 2 || strings.Contains(out, "\x1b") {
			t.Fatalf("%v:\n%s", args, out)
		}
	}

	out, _, code := runEnv(t, nil, "watch", "--json", a.Addr(), b.Addr())
	var rep struct {
		Nodes []struct {
			Addr      string `json:"addr"`
			Reachable bool   `json:"reachable"`
			NodeUUID  string `json:"node_uuid"`
			Active    struct {
				ActiveReplica bool `json:"active_replica"`
				Peers         []struct {
					LinkIn string `json:"link_in"`
				} `json:"peers"`
			} `json:"active"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || len(rep.Nodes) != 2 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	for _, n := range rep.Nodes {
		if !n.Reachable || n.NodeUUID == "" || !n.Active.ActiveReplica || len(n.Active.Peers) != 1 || n.Active.Peers[0].LinkIn != "up" {
			t.Errorf("node %+v", n)
		}
	}

	b.Stop()
	out, errOut, code := runEnv(t, nil, "watch", "--once", a.Addr(), b.Addr())
	if code != 3 || !strings.Contains(out, "unreachable") || !strings.Contains(errOut, b.Addr()) {
		t.Errorf("a node down: exit %d\n%s%s", code, out, errOut)
	}
}
