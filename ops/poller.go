package ops

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PollerOptions tune a Poller; zero values take the defaults.
type PollerOptions struct {
	Interval  time.Duration // between polls of one node (default 1s)
	Timeout   time.Duration // bound on one poll (default: the interval, at least 1s)
	Conflicts int           // recent conflicts to read per node (default 20; <0: none)
	History   int           // samples kept for sparklines (default 120)
	// Discover adds the peers a node reports in INFO, so that watching one
	// node shows its whole group.
	Discover bool
	// MaxNodes bounds discovery (default 16).
	MaxNodes int
}

func (o *PollerOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = max(o.Interval, time.Second)
	}
	if o.Conflicts == 0 {
		o.Conflicts = 20
	}
	if o.History <= 0 {
		o.History = 120
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = 16
	}
}

// Poller polls nodes, each in its own goroutine, and publishes every node's
// latest Snapshot. Nothing it does blocks its caller: Updates delivers the
// newest state (older undelivered states are dropped), Refresh and
// SetPaused only signal.
type Poller struct {
	opt      PollerOptions
	password string // for discovered nodes
	updates  chan []Snapshot
	paused   atomic.Bool

	mu    sync.Mutex
	ctx   context.Context // set by Start
	wg    sync.WaitGroup
	nodes []*polled
}

type polled struct {
	addr       Addr
	discovered bool
	refresh    chan struct{}
	cancel     context.CancelFunc
	snap       Snapshot // guarded by Poller.mu
}

// NewPoller makes a poller of addrs; Start starts it.
func NewPoller(addrs []Addr, opt PollerOptions) *Poller {
	opt.defaults()
	p := &Poller{opt: opt, updates: make(chan []Snapshot, 1)}
	for _, a := range addrs {
		if p.password == "" {
			p.password = a.Password
		}
		p.nodes = append(p.nodes, newPolled(a, false))
	}
	return p
}

// NotPolled is a Snapshot's Err before the node's first poll ends.
const NotPolled = "not polled yet"

func newPolled(a Addr, discovered bool) *polled {
	return &polled{addr: a, discovered: discovered, refresh: make(chan struct{}, 1),
		snap: Snapshot{Addr: a.String(), Err: NotPolled}}
}

// Start polls every node now and then every interval, until ctx ends;
// then Updates is closed.
func (p *Poller) Start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctx = ctx
	for _, n := range p.nodes {
		p.startLocked(n)
	}
	go func() {
		<-ctx.Done()
		p.wg.Wait() // no poll publishes after this
		close(p.updates)
	}()
}

func (p *Poller) startLocked(n *polled) {
	ctx, cancel := context.WithCancel(p.ctx)
	n.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.run(ctx, n)
	}()
}

// Wait waits for the polling goroutines to stop (after Start's ctx ends).
func (p *Poller) Wait() { p.wg.Wait() }

// Updates delivers every node's snapshot after each poll. A slow reader
// gets the newest state, never a backlog. It is closed when the poller
// stops.
func (p *Poller) Updates() <-chan []Snapshot { return p.updates }

// Snapshots is the current state, in node order.
func (p *Poller) Snapshots() []Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshotsLocked()
}

func (p *Poller) snapshotsLocked() []Snapshot {
	out := make([]Snapshot, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = n.snap
	}
	return out
}

// Refresh polls every node now instead of at its next tick.
func (p *Poller) Refresh() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.nodes {
		select {
		case n.refresh <- struct{}{}:
		default:
		}
	}
}

// SetPaused stops or resumes polling; a paused poller keeps its last state.
func (p *Poller) SetPaused(paused bool) { p.paused.Store(paused) }

// Paused reports whether polling is paused.
func (p *Poller) Paused() bool { return p.paused.Load() }

func (p *Poller) run(ctx context.Context, n *polled) {
	var c *Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	t := time.NewTicker(p.opt.Interval)
	defer t.Stop()
	// A refresh polls even while paused: it is an explicit request.
	for due := true; ; {
		if due {
			c = p.poll(ctx, n, c)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			due = !p.paused.Load()
		case <-n.refresh:
			due = true
		}
	}
}

// poll reads one snapshot of n, reusing the connection c (or dialing one),
// and returns the connection to use next time (nil after a failure).
func (p *Poller) poll(ctx context.Context, n *polled, c *Client) *Client {
	pctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	var err error
	if c == nil {
		c, err = Dial(pctx, n.addr, p.opt.Timeout)
	}
	var s Snapshot
	if err == nil {
		s, err = Fetch(pctx, c, max(p.opt.Conflicts, 0))
	}
	if ctx.Err() != nil {
		return c // shutting down: nothing to report
	}
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	p.record(n, s, err, time.Now())
	return c
}

// record stores a poll's result (keeping the last good data on failure),
// computes rates from the previous good poll, publishes, and discovers.
func (p *Poller) record(n *polled, s Snapshot, err error, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		n.snap.Reachable = false
		// One line: an *Error's hint goes after a dash.
		n.snap.Err = strings.ReplaceAll(err.Error(), "\n  ", " — ")
		p.publishLocked()
		return
	}
	prev := n.snap
	s.Seen = now
	if !prev.Seen.IsZero() {
		s.OpsHistory, s.LagHistory = prev.OpsHistory, prev.LagHistory
		if dt := now.Sub(prev.Seen).Seconds(); dt > 0 && prev.RunID == s.RunID { // same process: counters comparable
			if d := s.Commands - prev.Commands - prev.commandsSent; prev.Commands <= s.Commands {
				s.OpsPerSec = float64(max(d, 0)) / dt
			}
			if d := s.Active.Conflicts - prev.Active.Conflicts; d >= 0 {
				s.ConflictsPerSec = float64(d) / dt
			}
		}
	}
	_, lagMs := s.Lag()
	s.OpsHistory = appendSample(s.OpsHistory, s.OpsPerSec, p.opt.History)
	s.LagHistory = appendSample(s.LagHistory, float64(max(lagMs, 0)), p.opt.History)
	n.snap = s
	if p.opt.Discover {
		p.discoverLocked(n)
	}
	p.publishLocked()
}

// appendSample appends v, keeping at most keep samples. It never writes into
// h's array, which published snapshots share.
func appendSample(h []float64, v float64, keep int) []float64 {
	if len(h) >= keep {
		h = h[len(h)-keep+1:]
	}
	return append(h[:len(h):len(h)], v)
}

func (p *Poller) publishLocked() {
	snaps := p.snapshotsLocked()
	select {
	case <-p.updates: // drop the state nobody read yet
	default:
	}
	select {
	case p.updates <- snaps:
	default:
	}
}

// discoverLocked adds n's peers that are not polled yet, and drops n if it
// was discovered under a second address of a node already polled.
func (p *Poller) discoverLocked(n *polled) {
	if n.discovered && n.snap.NodeUUID != "" {
		for _, o := range p.nodes {
			if o != n && o.snap.NodeUUID == n.snap.NodeUUID {
				if n.cancel != nil {
					n.cancel()
				}
				p.nodes = slices.DeleteFunc(p.nodes, func(x *polled) bool { return x == n })
				return
			}
		}
	}
	for _, peer := range n.snap.PeerAddrs() {
		if len(p.nodes) >= p.opt.MaxNodes {
			return
		}
		a, err := ParseAddr(peer, p.password)
		if err != nil || p.knownLocked(a) {
			continue
		}
		m := newPolled(a, true)
		p.nodes = append(p.nodes, m)
		if p.ctx != nil {
			p.startLocked(m)
		}
	}
}

func (p *Poller) knownLocked(a Addr) bool {
	for _, o := range p.nodes {
		if sameEndpoint(o.addr.Host, o.addr.Port, a.Host, a.Port) {
			return true
		}
	}
	return false
}

// Collect polls every node once (and the peers it discovers, when
// opt.Discover is set) and returns what it found: `watch --once`.
func Collect(ctx context.Context, addrs []Addr, opt PollerOptions) []Snapshot {
	p := NewPoller(addrs, opt) // not started: discovered nodes are only listed
	done := map[*polled]bool{}
	for {
		p.mu.Lock()
		i := slices.IndexFunc(p.nodes, func(n *polled) bool { return !done[n] })
		var n *polled
		if i >= 0 {
			n = p.nodes[i]
		}
		p.mu.Unlock()
		if n == nil {
			break
		}
		done[n] = true
		if c := p.poll(ctx, n, nil); c != nil {
			c.Close()
		}
	}
	snaps := p.Snapshots()
	for i := range snaps {
		snaps[i].OpsHistory, snaps[i].LagHistory = nil, nil
	}
	return snaps
}
