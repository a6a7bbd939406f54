package ops

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PairOptions tune Pair and Unpair; zero values take the defaults.
type PairOptions struct {
	// Timeout bounds the wait for each link to come up and finish its sync,
	// and for each probe to cross (default 60s).
	Timeout time.Duration
	// CommandTimeout bounds dialing and each command (default 5s, at most
	// Timeout).
	CommandTimeout time.Duration
	Enable         bool // turn active-replica on where it is off (CONFIG SET)
	Force          bool // pair or unpair even if a node has other links
	DryRun         bool // check and plan; change nothing
	// LinkA and LinkB are the addresses the other node replicates from
	// (REPLICAOF), when they differ from the addresses we reach A and B at
	// (NAT, a proxy, a forwarder). Zero: the same.
	LinkA, LinkB Addr
	// Progress, when set, hears about each step and a running sync.
	Progress func(Progress)
}

func (o *PairOptions) defaults(a, b Addr) {
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = min(5*time.Second, o.Timeout)
	}
	if o.LinkA.Host == "" {
		o.LinkA = a
	}
	if o.LinkB.Host == "" {
		o.LinkB = b
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
}

// Progress is one report from Pair while it works.
type Progress struct {
	Step    string `json:"step"` // check, plan, enable, link, sync, probe, unlink
	Node    string `json:"node,omitempty"`
	Message string `json:"message"`
	// While a sync runs (step "sync"): bytes read of the total, and
	// percent; Total is 0 while the master is still preparing it.
	Read    int64   `json:"read,omitempty"`
	Total   int64   `json:"total,omitempty"`
	Percent float64 `json:"percent,omitempty"`
}

// Side is what Pair found on, and did to, one node.
type Side struct {
	Addr     string   `json:"addr"`
	UUID     string   `json:"node_uuid"`
	Version  string   `json:"version"`
	Keys     int64    `json:"keys"`
	Keyspace []DBKeys `json:"keyspace"`
	Enabled  bool     `json:"enabled_active_replica"` // --enable turned active-replica on
	LinkUp   bool     `json:"link_up"`                // its link replicating from the other node
	LagBytes int64    `json:"lag_bytes"`
	LagMs    int64    `json:"lag_ms"`
	ProbeMs  float64  `json:"probe_ms"` // a write here seen on the other node after this long
}

// PairResult is the outcome of Pair or Unpair.
type PairResult struct {
	A             Side     `json:"a"`
	B             Side     `json:"b"`
	Plan          []string `json:"plan"`
	DryRun        bool     `json:"dry_run"`
	AlreadyPaired bool     `json:"already_paired"`
	Unpair        bool     `json:"unpair,omitempty"`
	Unlinked      []string `json:"unlinked,omitempty"` // unpair: the nodes REPLICAOF NO ONE ran on
	Paired        bool     `json:"paired"`             // the end state: both links up (false after an unpair)
	TookMs        float64  `json:"took_ms"`
	// Set by WithError for --json: what failed, and the exit code it maps to.
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	ExitCode  int    `json:"exit_code"`
}

// WithError records err (which may be nil) in the result, for --json.
func (r *PairResult) WithError(err error) *PairResult {
	r.ExitCode = ExitCode(err)
	if err != nil {
		r.Error, r.ErrorKind = err.Error(), KindOf(err).String()
	}
	return r
}

type pairNode struct {
	name  string // "A" or "B"
	addr  Addr   // where we reach it
	link  Addr   // where the other node reaches it
	c     *Client
	info  Info
	side  *Side
	other *pairNode
}

// Pair makes a and b active replicas of each other: it checks both, turns
// active-replica on if asked, links b to a and waits for the sync, then a to
// b, and proves both directions with a probe key.
func Pair(ctx context.Context, a, b Addr, opt PairOptions) (*PairResult, error) {
	opt.defaults(a, b)
	start := time.Now()
	res := &PairResult{DryRun: opt.DryRun}
	na, nb, err := openPair(ctx, a, b, res, &opt)
	if err != nil {
		return res, err
	}
	defer closeBoth(na, nb)

	for _, n := range []*pairNode{na, nb} {
		if n.info.Fluidb().ActiveReplica {
			continue
		}
		if !opt.Enable {
			return res, errorf(ErrNotActive, n.addr.String(),
				fmt.Sprintf("enable it with: redis-cli -h %s -p %d CONFIG SET active-replica yes (and add \"active-replica yes\" to its config file), or rerun with --enable",
					n.addr.Host, n.addr.Port),
				"active-replica is off on %s", n.name)
		}
		res.Plan = append(res.Plan, fmt.Sprintf("CONFIG SET active-replica yes on %s (%s)", n.name, n.addr))
	}

	fromA, fromB := replicatesFrom(na), replicatesFrom(nb)
	for _, n := range []*pairNode{na, nb} {
		if others := otherLinks(n); len(others) > 0 && !opt.Force {
			return res, errorf(ErrRefused, n.addr.String(),
				"unpair it first (fluidb pair --unpair), or rerun with --force (REPLICAOF then replaces the node's current master)",
				"%s is already paired with %s", n.name, strings.Join(others, ", "))
		}
	}
	res.AlreadyPaired = fromA && fromB
	res.Plan = append(res.Plan, holdings(na), holdings(nb))
	if res.AlreadyPaired {
		res.Plan = append(res.Plan, "A and B are already paired: check both links and probe them")
	} else {
		res.Plan = append(res.Plan, fmt.Sprintf("Merge: key by key, the newest write wins, nothing is flushed; afterwards both hold the union (at most %d keys)",
			na.side.Keys+nb.side.Keys))
	}
	if !fromB {
		res.Plan = append(res.Plan, fmt.Sprintf("REPLICAOF %s %d on B, then wait for B's link to A and its sync", na.link.Host, na.link.Port))
	}
	if !fromA {
		res.Plan = append(res.Plan, fmt.Sprintf("REPLICAOF %s %d on A, then wait for A's link to B and its sync", nb.link.Host, nb.link.Port))
	}
	res.Plan = append(res.Plan, "Probe: write a key on each side, read it on the other, delete it")
	if opt.DryRun {
		return res, nil
	}
	for _, p := range res.Plan {
		opt.Progress(Progress{Step: "plan", Message: p})
	}

	for _, n := range []*pairNode{na, nb} {
		if n.info.Fluidb().ActiveReplica {
			continue
		}
		opt.Progress(Progress{Step: "enable", Node: n.addr.String(), Message: "CONFIG SET active-replica yes on " + n.name})
		if _, err := n.c.Do(ctx, "CONFIG", "SET", "active-replica", "yes"); err != nil {
			return res, err
		}
		n.side.Enabled = true
	}
	// B first: it takes A's data, then A takes B's (now a superset).
	for _, n := range []*pairNode{nb, na} {
		if err := link(ctx, n, opt); err != nil {
			return res, err
		}
	}
	for _, n := range []*pairNode{na, nb} {
		if err := probe(ctx, n, opt); err != nil {
			return res, err
		}
	}
	for _, n := range []*pairNode{na, nb} {
		info, err := ReadInfo(ctx, n.c)
		if err != nil {
			return res, err
		}
		n.info = info
		n.side.LinkUp = linkUp(n)
		n.side.LagBytes, n.side.LagMs = lagTo(n)
	}
	res.Paired = na.side.LinkUp && nb.side.LinkUp
	res.TookMs = ms(time.Since(start))
	return res, nil
}

// Unpair drops the links between a and b (REPLICAOF NO ONE on each side that
// replicates from the other) and waits until they are down. Data stays.
func Unpair(ctx context.Context, a, b Addr, opt PairOptions) (*PairResult, error) {
	opt.defaults(a, b)
	start := time.Now()
	res := &PairResult{DryRun: opt.DryRun, Unpair: true}
	na, nb, err := openPair(ctx, a, b, res, &opt)
	if err != nil {
		return res, err
	}
	defer closeBoth(na, nb)

	var todo []*pairNode
	for _, n := range []*pairNode{na, nb} {
		if !replicatesFrom(n) {
			continue
		}
		// REPLICAOF NO ONE drops every link of the node, not just this one.
		if others := otherLinks(n); len(others) > 0 && !opt.Force {
			return res, errorf(ErrRefused, n.addr.String(), "rerun with --force to drop all of its links",
				"%s also replicates from %s, and REPLICAOF NO ONE would drop those links too", n.name, strings.Join(others, ", "))
		}
		todo = append(todo, n)
		res.Plan = append(res.Plan, fmt.Sprintf("REPLICAOF NO ONE on %s (%s), then wait for its link to %s to close",
			n.name, n.addr, n.other.name))
	}
	if len(todo) == 0 {
		res.Plan = append(res.Plan, "A and B are not paired: nothing to do")
	}
	res.Plan = append(res.Plan, "Both keep their data")
	if opt.DryRun {
		return res, nil
	}
	for _, n := range todo {
		opt.Progress(Progress{Step: "unlink", Node: n.addr.String(), Message: "REPLICAOF NO ONE on " + n.name})
		if _, err := n.c.Do(ctx, "REPLICAOF", "NO", "ONE"); err != nil {
			return res, err
		}
		res.Unlinked = append(res.Unlinked, n.side.Addr)
	}
	for _, n := range todo {
		err := waitFor(ctx, n, opt, func() bool { return !replicatesFrom(n) })
		if err != nil {
			return res, withKind(err, ErrTimeout, "%s still replicates from %s after %v", n.name, n.other.name, opt.Timeout)
		}
	}
	res.TookMs = ms(time.Since(start))
	return res, nil
}

// closeBoth closes the nodes' connections (waitFor may have redialed).
func closeBoth(na, nb *pairNode) {
	na.c.Close()
	nb.c.Close()
}

// openPair dials both nodes, reads their INFO and checks that they are two
// different fluidb nodes.
func openPair(ctx context.Context, a, b Addr, res *PairResult, opt *PairOptions) (*pairNode, *pairNode, error) {
	na := &pairNode{name: "A", addr: a, link: opt.LinkA, side: &res.A}
	nb := &pairNode{name: "B", addr: b, link: opt.LinkB, side: &res.B}
	na.other, nb.other = nb, na
	for _, n := range []*pairNode{na, nb} {
		n.side.Addr = n.addr.String()
		opt.Progress(Progress{Step: "check", Node: n.addr.String(), Message: "checking " + n.name + " (" + n.addr.String() + ")"})
		c, err := Dial(ctx, n.addr, opt.CommandTimeout)
		if err == nil {
			n.c = c
			n.info, err = ReadInfo(ctx, c)
		}
		if err != nil {
			if na.c != nil {
				na.c.Close()
			}
			if nb.c != nil {
				nb.c.Close()
			}
			return nil, nil, err
		}
		f := n.info.Fluidb()
		n.side.UUID = f.NodeUUID
		n.side.Version = n.info.Get("fluidb_version")
		n.side.Keyspace = n.info.Keyspace()
		n.side.Keys = TotalKeys(n.side.Keyspace)
	}
	fail := func(err error) (*pairNode, *pairNode, error) {
		na.c.Close()
		nb.c.Close()
		return nil, nil, err
	}
	for _, n := range []*pairNode{na, nb} {
		if !n.info.IsFluidb() {
			return fail(errorf(ErrNotActive, n.addr.String(), "pair works between fluidb nodes only",
				"%s is not fluidb (redis_version %s)", n.name, n.info.Get("redis_version")))
		}
	}
	if na.side.UUID == nb.side.UUID {
		return fail(errorf(ErrRefused, "", "give the addresses of two different nodes",
			"%s and %s are the same node (uuid %s)", a, b, na.side.UUID))
	}
	return na, nb, nil
}

// replicatesFrom reports whether n is set to replicate from n.other
// (REPLICAOF), matched by address, or has a live link from it by UUID.
func replicatesFrom(n *pairNode) bool {
	for _, m := range n.info.Replication().Masters {
		if isNode(n.other, m.Host, m.Port) {
			return true
		}
	}
	for _, p := range n.info.Fluidb().Peers {
		if p.UUID == n.other.side.UUID && live(p.LinkIn) {
			return true
		}
	}
	return false
}

// live reports whether a peer link state is a link that exists: fluidb
// lists a peer it lost recently with both links "down".
func live(state string) bool { return state != "" && state != "none" && state != "down" }

func isNode(n *pairNode, host string, port int) bool {
	return sameEndpoint(host, port, n.link.Host, n.link.Port) || sameEndpoint(host, port, n.addr.Host, n.addr.Port)
}

// otherLinks lists the nodes other than n.other that n replicates from
// (even over a link that is down) or that have a live link with it.
func otherLinks(n *pairNode) []string {
	var out []string
	for _, m := range n.info.Replication().Masters {
		if !isNode(n.other, m.Host, m.Port) {
			out = append(out, m.Addr())
		}
	}
	for _, p := range n.info.Fluidb().Peers {
		if p.UUID == n.other.side.UUID || !live(p.LinkIn) && !live(p.LinkOut) {
			continue
		}
		if h, ps, err := net.SplitHostPort(p.Addr); err == nil && isNode(n.other, h, int(atoi(ps))) {
			continue
		}
		addr := p.Addr
		if addr == "" {
			addr = "node " + ShortID(p.UUID)
		}
		if !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}

func holdings(n *pairNode) string {
	var dbs []string
	for _, d := range n.side.Keyspace {
		dbs = append(dbs, fmt.Sprintf("db%d %d", d.DB, d.Keys))
	}
	keys := "keys"
	if n.side.Keys == 1 {
		keys = "key"
	}
	s := fmt.Sprintf("%s %s (node %s) holds %d %s", n.name, n.addr, ShortID(n.side.UUID), n.side.Keys, keys)
	if len(dbs) > 0 {
		s += " (" + strings.Join(dbs, ", ") + ")"
	}
	return s
}

// link makes n replicate from n.other and waits until the link is up and
// its sync done, reporting the sync's progress.
func link(ctx context.Context, n *pairNode, opt PairOptions) error {
	if replicatesFrom(n) && linkUp(n) {
		return nil
	}
	o := n.other.link
	opt.Progress(Progress{Step: "link", Node: n.addr.String(),
		Message: fmt.Sprintf("REPLICAOF %s %d on %s", o.Host, o.Port, n.name)})
	if n.other.addr.Password != "" {
		// The link authenticates to the other node with masterauth.
		if _, err := n.c.Do(ctx, "CONFIG", "SET", "masterauth", n.other.addr.Password); err != nil {
			return err
		}
	}
	if _, err := n.c.Do(ctx, "REPLICAOF", o.Host, strconv.Itoa(o.Port)); err != nil {
		return err
	}
	err := waitFor(ctx, n, opt, func() bool {
		for _, m := range n.info.Replication().Masters {
			if isNode(n.other, m.Host, m.Port) && m.SyncInProgress {
				p := Progress{Step: "sync", Node: n.addr.String(), Read: m.SyncReadBytes, Total: max(m.SyncTotalBytes, 0), Percent: max(m.SyncPerc, 0)}
				p.Message = fmt.Sprintf("%s syncing from %s: %s", n.name, n.other.name, syncText(p))
				opt.Progress(p)
			}
		}
		return linkUp(n)
	})
	if err != nil {
		return withKind(err, ErrTimeout, "%s's link to %s (%s) is not up after %v%s", n.name, n.other.name, o, opt.Timeout, downReason(n))
	}
	opt.Progress(Progress{Step: "link", Node: n.addr.String(), Message: fmt.Sprintf("%s's link to %s is up", n.name, n.other.name)})
	return nil
}

func syncText(p Progress) string {
	if p.Total <= 0 {
		return FormatBytes(p.Read) + " received" // a diskless sync: no size ahead
	}
	return fmt.Sprintf("%s of %s (%.0f%%)", FormatBytes(p.Read), FormatBytes(p.Total), p.Percent)
}

func downReason(n *pairNode) string {
	if r := n.info.Get("master_link_down_reason"); r != "" {
		return " (" + r + ")"
	}
	return ""
}

// linkUp reports whether n's link replicating from n.other is up and done
// syncing.
func linkUp(n *pairNode) bool {
	for _, m := range n.info.Replication().Masters {
		if isNode(n.other, m.Host, m.Port) && m.Up() {
			return true
		}
	}
	for _, p := range n.info.Fluidb().Peers {
		if p.UUID == n.other.side.UUID && p.LinkIn == "up" {
			return true
		}
	}
	return false
}

// lagTo is how far the other node is behind n (INFO fluidb's peer entry).
func lagTo(n *pairNode) (bytes, ms int64) {
	for _, p := range n.info.Fluidb().Peers {
		if p.UUID == n.other.side.UUID {
			return p.LagBytes, p.LagMs
		}
	}
	return 0, 0
}

// waitFor re-reads n's INFO every 100ms until cond holds or opt.Timeout
// passes. A node busy loading a large sync may not answer for a while: a
// failed read redials instead of giving up.
func waitFor(ctx context.Context, n *pairNode, opt PairOptions, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := ReadInfo(ctx, n.c)
		if err == nil {
			n.info = info
			if cond() {
				return nil
			}
		} else if KindOf(err) == ErrAuth || ctx.Err() != nil {
			return err
		} else {
			n.c.Close()
			if c, derr := Dial(ctx, n.addr, opt.CommandTimeout); derr == nil {
				n.c = c
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// withKind turns a wait's deadline into an *Error of kind with msg; other
// errors pass through.
func withKind(err error, kind ErrorKind, format string, a ...any) error {
	if errors.Is(err, context.DeadlineExceeded) || KindOf(err) == ErrTimeout {
		return &Error{Kind: kind, Err: fmt.Errorf(format, a...)}
	}
	return err
}

// probe writes a key on n, waits until n.other reads it, and deletes it.
func probe(ctx context.Context, n *pairNode, opt PairOptions) error {
	var tok [8]byte
	_, _ = crand.Read(tok[:])
	key := "fluidb:pair:probe:" + ShortID(n.side.UUID) + ":" + hex.EncodeToString(tok[:])
	val := hex.EncodeToString(tok[:])
	opt.Progress(Progress{Step: "probe", Node: n.addr.String(), Message: fmt.Sprintf("probe %s -> %s", n.name, n.other.name)})
	if _, err := n.c.Do(ctx, "SET", key, val, "EX", "3600"); err != nil {
		return err
	}
	start := time.Now()
	if err := until(ctx, n.other, opt, key, val); err != nil {
		return withKind(err, ErrProbe, "a write on %s did not reach %s within %v", n.name, n.other.name, opt.Timeout)
	}
	n.side.ProbeMs = ms(time.Since(start))
	if _, err := n.c.Do(ctx, "DEL", key); err != nil {
		return err
	}
	if err := until(ctx, n.other, opt, key, ""); err != nil {
		return withKind(err, ErrProbe, "a delete on %s did not reach %s within %v", n.name, n.other.name, opt.Timeout)
	}
	return nil
}

// until polls GET key on n until it answers val ("" for no key).
func until(ctx context.Context, n *pairNode, opt PairOptions, key, val string) error {
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	for {
		r, err := n.c.Do(ctx, "GET", key)
		if err != nil {
			return err
		}
		if (val == "" && r.Null) || (!r.Null && r.Str == val) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
