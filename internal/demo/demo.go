// Package demo is `fluidb demo`: two in-process active-replica nodes,
// paired, under a light mixed write load, with a short network partition
// now and then so that conflicts appear and resolve, shown in the watch
// dashboard. It may import server, ops and tui; nothing imports it but the
// binary.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fluidb/fluidb/internal/netcut"
	"github.com/fluidb/fluidb/ops"
	"github.com/fluidb/fluidb/server"
	"github.com/fluidb/fluidb/server/config"
)

// Options tune the demo; zero values take the defaults.
type Options struct {
	Ports [2]int // the nodes' ports on 127.0.0.1 (0: a free one)
	// OpsPerSec is each node's write load (default 40).
	OpsPerSec int
	// PartitionEvery is the time between partitions (default 25s; <0: none),
	// PartitionFor how long each lasts (default 4s).
	PartitionEvery, PartitionFor time.Duration
	// Log hears what the demo does: starting, pairing, partitions.
	Log io.Writer
}

func (o *Options) defaults() {
	if o.OpsPerSec <= 0 {
		o.OpsPerSec = 40
	}
	if o.PartitionEvery == 0 {
		o.PartitionEvery = 25 * time.Second
	}
	if o.PartitionFor <= 0 {
		o.PartitionFor = 4 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Demo is a running demo. Stop ends it.
type Demo struct {
	opt   Options
	dir   string
	nodes []*server.Server
	fwds  []*netcut.Forwarder // fwds[i] stands in front of nodes[i]
	addrs []ops.Addr

	mu     sync.Mutex // guards log and the partition state
	log    io.Writer
	cutAt  time.Time // when the current partition began (zero: none)
	nextAt time.Time // when the next one begins
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts two nodes, pairs them through forwarders it controls, and
// starts the load and the partitions. On error everything started is
// stopped again.
func Start(ctx context.Context, opt Options) (d *Demo, err error) {
	opt.defaults()
	dir, err := os.MkdirTemp("", "fluidb-demo-")
	if err != nil {
		return nil, err
	}
	d = &Demo{opt: opt, dir: dir, log: opt.Log}
	defer func() {
		if err != nil {
			d.Stop()
			d = nil
		}
	}()
	for i := range 2 {
		srv, err := startNode(filepath.Join(dir, "node"+strconv.Itoa(i+1)), opt.Ports[i])
		if err != nil {
			return d, fmt.Errorf("starting node %d: %w", i+1, err)
		}
		d.nodes = append(d.nodes, srv)
		port := srv.Addr().(*net.TCPAddr).Port
		d.addrs = append(d.addrs, ops.Addr{Host: "127.0.0.1", Port: port})
		f, err := netcut.New(d.addrs[i].String())
		if err != nil {
			return d, err
		}
		d.fwds = append(d.fwds, f)
		d.logf("node %d listening on %s (node %s)", i+1, d.addrs[i], ops.ShortID(srv.NodeID().String()))
	}
	d.logf("pairing them through TCP forwarders the demo cuts for partitions")
	res, err := ops.Pair(ctx, d.addrs[0], d.addrs[1], ops.PairOptions{
		Timeout: 20 * time.Second,
		LinkA:   ops.Addr{Host: "127.0.0.1", Port: d.fwds[0].Port()},
		LinkB:   ops.Addr{Host: "127.0.0.1", Port: d.fwds[1].Port()},
	})
	if err != nil {
		return d, fmt.Errorf("pairing: %w", err)
	}
	d.logf("paired in %s", ops.FormatMs(int64(res.TookMs)))

	bg, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	for i, a := range d.addrs {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.load(bg, a, i)
		}()
	}
	if opt.PartitionEvery > 0 {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.partitions(bg)
		}()
	}
	return d, nil
}

// Addrs are the two nodes' addresses.
func (d *Demo) Addrs() []ops.Addr { return d.addrs }

// Stop ends the load and the partitions, stops both nodes and removes their
// files. It is safe to call more than once.
func (d *Demo) Stop() error {
	if d.cancel != nil {
		d.cancel()
		d.wg.Wait()
		d.cancel = nil
	}
	var errs []error
	for _, f := range d.fwds {
		f.Close()
	}
	d.fwds = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range d.nodes {
		if err := n.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	d.nodes = nil
	if d.dir != "" {
		errs = append(errs, os.RemoveAll(d.dir))
		d.dir = ""
	}
	return errors.Join(errs...)
}

// startNode runs one active-replica node on 127.0.0.1 (port 0: a free one,
// which the server then announces to its peers), with no snapshots, its
// log in its own directory (the dashboard owns the terminal), and syncs
// that start at once.
func startNode(dir string, port int) (*server.Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.Port = port
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Dir = dir
	cfg.LogFile = filepath.Join(dir, "fluidb.log")
	cfg.Save = nil
	cfg.AppendOnly = false
	cfg.ActiveReplica = true
	cfg.ReplicaReadOnly = false
	cfg.ReplDisklessSyncDelay = 0
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	return srv, nil
}

func (d *Demo) logf(format string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.log, "demo: "+format+"\n", a...)
}

// setLog redirects the demo's messages (away from a terminal the dashboard
// now owns).
func (d *Demo) setLog(w io.Writer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = w
}

// Note says where the partition cycle is, for the dashboard's header.
func (d *Demo) Note() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	switch {
	case !d.cutAt.IsZero():
		left := d.opt.PartitionFor - now.Sub(d.cutAt)
		return fmt.Sprintf("PARTITION: link cut, heals in %ds", max(0, int(left.Seconds()+0.5)))
	case !d.nextAt.IsZero():
		return fmt.Sprintf("next partition in %ds", max(0, int(d.nextAt.Sub(now).Seconds()+0.5)))
	}
	return ""
}

// The load writes a small shared keyspace on both nodes, so that writes
// made on both sides during a partition collide.
const loadKeys = 200

func (d *Demo) load(ctx context.Context, a ops.Addr, node int) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(node)))
	tick := time.NewTicker(time.Second / time.Duration(d.opt.OpsPerSec))
	defer tick.Stop()
	var c *ops.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	me := "node" + strconv.Itoa(node+1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if c == nil {
			var err error
			if c, err = ops.Dial(ctx, a, time.Second); err != nil {
				continue
			}
		}
		if _, err := c.Do(ctx, write(rng, me)...); err != nil && ops.KindOf(err) != ops.ErrOther {
			c.Close()
			c = nil
		}
	}
}

// write is one random command of the mixed load.
func write(rng *rand.Rand, me string) []string {
	k := strconv.Itoa(rng.IntN(loadKeys))
	switch rng.IntN(10) {
	case 0, 1, 2:
		return []string{"SET", "user:" + k, me + ":" + strconv.Itoa(rng.IntN(1000))}
	case 3, 4:
		return []string{"INCR", "counter:" + k}
	case 5, 6:
		return []string{"HSET", "cart:" + k, "item" + strconv.Itoa(rng.IntN(5)), strconv.Itoa(rng.IntN(10))}
	case 7:
		return []string{"SADD", "tags:" + k, me}
	case 8:
		return []string{"SET", "session:" + k, me, "EX", "30"}
	}
	return []string{"DEL", "user:" + k}
}

// partitions cuts the link between the nodes now and then, and heals it.
func (d *Demo) partitions(ctx context.Context) {
	for {
		d.mu.Lock()
		d.nextAt = time.Now().Add(d.opt.PartitionEvery)
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.opt.PartitionEvery):
		}
		d.logf("partition: cutting the link for %v", d.opt.PartitionFor)
		d.setCut(true)
		select {
		case <-ctx.Done():
		case <-time.After(d.opt.PartitionFor):
		}
		d.setCut(false)
		d.logf("partition healed")
	}
}

func (d *Demo) setCut(cut bool) {
	d.mu.Lock()
	d.cutAt = time.Time{}
	if cut {
		d.cutAt = time.Now()
	}
	d.mu.Unlock()
	for _, f := range d.fwds {
		if cut {
			f.CutRefusing() // both nodes see their links drop and fail to reconnect
		} else {
			f.Heal()
		}
	}
}
