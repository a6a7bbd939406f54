// Package server is the fluidb database server: the command table and the
// gate every command passes (command.go), the handlers grouped by data type
// (cmd_string.go, cmd_list.go, ...), the client connections (client.go) and
// the server's lifecycle (this file). The data itself lives in
// server/keyspace; the wire format in server/resp; configuration in
// server/config. It never imports the client-side packages ops and tui.
package server

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/clock"
	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/keyspace"
)

// Version is the fluidb version, set by the binary at start (ldflags).
var Version = "dev"

// RedisVersion is the Redis level whose semantics fluidb implements.
const RedisVersion = "7.0.15"

// Server is one fluidb node.
type Server struct {
	cfg *config.Config
	log *log.Logger

	// mu is the big lock: every command, the cron and every data change run
	// under it, which gives Redis's one-command-at-a-time semantics.
	mu sync.Mutex

	dbs      []*keyspace.DB
	cmds     table
	cmdCount int
	now      int64 // ms, cached per command like Redis's server.mstime
	lastTick time.Time

	clock   *clock.Clock
	nodeID  uuid.UUID
	origins *keyspace.Origins
	self    uint32 // this node's index in origins
	runID   string
	rng     *rand.Rand

	clients      map[uint64]*Client
	nextClientID uint64
	listeners    []net.Listener
	reactor      *reactor // nil: one goroutine per connection
	// linkWait is the master link's descriptor + 1 while its goroutine
	// waits for data (0 otherwise): the reactor wakes it (wakeLink).
	linkWait atomic.Int32
	monitors map[*Client]struct{}

	pubsub   pubsubState
	watched  map[watchKey][]*Client
	blocking blockingState

	readyKeys []readyKey
	evict     evictState
	prop      propagation
	repl      replState   // replication (replication.go)
	act       activeState // active replication (active.go, conflict.go)
	logFile   *os.File    // the logfile directive's file, closed at Shutdown

	// beforeWrite, when set, runs before every write command with the
	// command's arguments in c.argv (BGSAVE's copy-on-write hook).
	beforeWrite func(c *Client, cmd *Command)

	activeExpireDisabled bool     // DEBUG SET-ACTIVE-EXPIRE 0
	expireCursors        []uint64 // per db: where active expiry resumes

	loading bool
	persist persistState // RDB snapshots (persist.go)
	aof     aofState     // append-only file (aof.go)

	stats stats
	// Network byte counters are bumped by the I/O paths, outside the lock.
	netInput, netOutput atomic.Int64
	startTime           time.Time
	slowlog             slowlog
	latency             latencyMonitor
	intro               introState // INFO/CLIENT bookkeeping (info.go)

	pausedUntil  int64 // CLIENT PAUSE deadline (ms)
	pauseWrites  bool
	shuttingDown bool
	// shutdownSaved: SHUTDOWN already took the final snapshot (or was
	// told not to), so the signal path must not save again.
	shutdownSaved bool

	wg     sync.WaitGroup
	stopCh chan struct{}
	doneCh chan struct{}
}

type stats struct {
	connections      int64
	commands         int64
	rejectedConns    int64
	expiredKeys      int64
	evictedKeys      int64
	keyspaceHits     int64
	keyspaceMisses   int64
	rejectedCalls    int64
	failedCalls      int64
	dirty            int64 // changes since the last save
	opsSamples       [16]int64
	opsSampleIdx     int
	lastOpsSampleCmd int64
	lastOpsSampleMs  int64
	expiredStalePerc float64
}

// reset zeroes every counter (CONFIG RESETSTAT).
func (s *Server) resetCounters() {
	s.stats = stats{}
	s.netInput.Store(0)
	s.netOutput.Store(0)
}

// New builds a server from a configuration; it does not listen yet.
func New(cfg *config.Config) (*Server, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	s := &Server{
		cfg:       cfg,
		log:       log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds),
		clock:     clock.New(),
		nodeID:    uuid.New(),
		origins:   keyspace.NewOrigins(),
		clients:   map[uint64]*Client{},
		monitors:  map[*Client]struct{}{},
		watched:   map[watchKey][]*Client{},
		startTime: time.Now(),
		stopCh:    make(chan struct{}),
		doneCh:    make(chan struct{}),
		rng:       rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15)),
	}
	s.self = s.origins.Intern(s.nodeID)
	// Local writes are stamped from the per-command cached time: no extra
	// clock read on the write path.
	s.clock.Now = func() int64 { return s.now }
	s.tick()
	var rid [20]byte
	_, _ = crand.Read(rid[:])
	s.runID = hex.EncodeToString(rid[:])
	s.pubsub.init()
	s.blocking.init()
	s.slowlog.init()
	s.dbs = make([]*keyspace.DB, cfg.Databases)
	for i := range s.dbs {
		db := keyspace.NewDB(i)
		db.OnNew = func(key []byte) {
			if s.pubsub.notifyFlags&notifyNew != 0 {
				s.notify(notifyNew, "new", key, db.ID)
			}
		}
		s.dbs[i] = db
	}
	s.expireCursors = make([]uint64, len(s.dbs))
	s.buildTable()
	s.applyConfig()
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("can't open the log file: %w", err)
		}
		s.log.SetOutput(f)
		s.logFile = f
	}
	return s, nil
}

// NodeID is this process's UUID, drawn at boot.
func (s *Server) NodeID() uuid.UUID { return s.nodeID }

// Addr returns the address of the first listener (useful with port 0).
func (s *Server) Addr() net.Addr {
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

// Start opens the listeners and starts serving and the cron.
func (s *Server) Start() error {
	addrs := s.cfg.Bind
	if len(addrs) == 0 {
		addrs = []string{"0.0.0.0"}
	}
	for _, a := range addrs {
		optional := false
		if len(a) > 0 && a[0] == '-' {
			optional, a = true, a[1:]
		}
		if a == "*" {
			a = ""
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			if optional {
				continue
			}
			s.closeListeners()
			return fmt.Errorf("could not listen on %s: %w", net.JoinHostPort(a, strconv.Itoa(s.cfg.Port)), err)
		}
		s.listeners = append(s.listeners, ln)
		if s.cfg.Port == 0 {
			// Port 0 (tests): every further listener must share the port
			// the first one got.
			s.cfg.Port = ln.Addr().(*net.TCPAddr).Port
		}
	}
	if len(s.listeners) == 0 {
		return errors.New("no address to listen on")
	}
	// Read before any goroutine serves clients: CONFIG SET may rewrite the
	// configuration as soon as they do.
	port := s.cfg.Port
	if r, err := newReactor(s); err == nil {
		s.reactor = r
		s.wg.Add(1)
		go r.run()
	}
	for _, ln := range s.listeners {
		s.wg.Add(1)
		go s.acceptLoop(ln)
	}
	s.wg.Add(1)
	go s.cronLoop()
	s.log.Printf("fluidb %s (redis %s compatible) node %s ready to accept connections on port %d", Version, RedisVersion, s.nodeID, port)
	return nil
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.stopCh:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
		}()
	}
}

// Shutdown stops accepting, closes every client and waits for the
// goroutines the server owns, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.shuttingDown {
		s.mu.Unlock()
		return nil
	}
	s.shuttingDown = true
	close(s.stopCh)
	s.closeListeners()
	for _, c := range s.clients {
		c.closeConn()
	}
	if s.reactor != nil {
		s.reactor.shutdown()
	}
	s.aofShutdown()
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		if s.logFile != nil {
			s.log.SetOutput(os.Stderr)
			s.logFile.Close()
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SaveOnExit is what a SIGTERM/SIGINT does before the process exits: a
// final snapshot when save points are configured, as redis-server does.
// It does nothing after a SHUTDOWN command, which already decided.
func (s *Server) SaveOnExit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdownSaved || len(s.cfg.Save) == 0 {
		return nil
	}
	s.shutdownSaved = true
	return s.saveForShutdown()
}

// Done is closed when the server has been asked to stop from inside (the
// SHUTDOWN command), so the binary can exit.
func (s *Server) Done() <-chan struct{} { return s.doneCh }

// tick refreshes the cached time. Whoever takes s.mu to run commands
// after time may have passed calls it first.
func (s *Server) tick() {
	s.lastTick = time.Now()
	s.now = s.lastTick.UnixMilli()
}

func (s *Server) requirePass() bool { return s.cfg.Requirepass != "" }

// Hooks filled in by replication and persistence; standalone answers.
func (s *Server) readOnlyReplica() bool         { return s.replReadOnly() }
func (s *Server) masterDown() bool              { return s.replMasterDown() }
func (s *Server) persistenceBlocksWrites() bool { return s.persistenceBlocksWritesRDB() }

func (s *Server) randUint64() uint64 { return s.rng.Uint64() }

func (s *Server) cronLoop() {
	defer s.wg.Done()
	s.mu.Lock()
	hz := s.cfg.Hz
	s.mu.Unlock()
	if hz <= 0 {
		hz = 10
	}
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	for {
		select {
		case <-s.stopCh:
			return
		case <-t.C:
			s.mu.Lock()
			s.cron()
			newHz := s.cfg.Hz
			s.mu.Unlock()
			if newHz > 0 && newHz != hz {
				hz = newHz
				t.Reset(time.Second / time.Duration(hz))
			}
		}
	}
}

// cron is the periodic work, with s.mu held: active expiry, incremental
// rehashing (activerehashing), ops/sec sampling, client timeouts.
func (s *Server) cron() {
	s.tick()
	s.sampleOps()
	s.activeExpireCycle()
	if s.cfg.ActiveRehashing {
		// Up to 1 ms per tick, on the first database that needs it (as
		// Redis's databasesCron does).
		for _, db := range s.dbs {
			if db.Rehash(time.Millisecond) {
				break
			}
		}
	}
	s.clientsCron()
	s.persistCron()
	s.aofCron()
	s.replicationCron()
}

func (s *Server) sampleOps() {
	now := s.now
	if s.stats.lastOpsSampleMs == 0 {
		s.stats.lastOpsSampleMs = now
		s.stats.lastOpsSampleCmd = s.stats.commands
		return
	}
	dt := now - s.stats.lastOpsSampleMs
	if dt < 100 {
		return
	}
	ops := (s.stats.commands - s.stats.lastOpsSampleCmd) * 1000 / dt
	s.stats.opsSamples[s.stats.opsSampleIdx%len(s.stats.opsSamples)] = ops
	s.stats.opsSampleIdx++
	s.stats.lastOpsSampleMs = now
	s.stats.lastOpsSampleCmd = s.stats.commands
}

func (s *Server) instantaneousOps() int64 {
	var sum int64
	n := len(s.stats.opsSamples)
	if s.stats.opsSampleIdx < n {
		n = s.stats.opsSampleIdx
	}
	if n == 0 {
		return 0
	}
	for i := 0; i < n; i++ {
		sum += s.stats.opsSamples[i]
	}
	return sum / int64(n)
}
