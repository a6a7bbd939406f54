package server

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/resp"
)

type clientFlag uint32

const (
	flagMulti clientFlag = 1 << iota
	flagDirtyCAS
	flagDirtyExec
	flagMonitor
	flagBlocked
	flagCloseAfterReply
	flagCloseASAP
	flagMaster // the link from our master (replication)
	flagReplica
	flagNoEvict
	flagReplyOff
	flagReplySkipNext
	flagReplySkip
	flagNoTouch
)

const readBufSize = 64 << 10

// Client is one connection's state. The connection goroutine owns it;
// other goroutines only touch out (under mu and s.mu) to push pub/sub
// messages or wake a blocked client.
type Client struct {
	s     *Server
	id    uint64
	conn  net.Conn
	rd    *resp.Reader
	addr  string
	laddr string

	// out holds replies not yet written. It is appended to with s.mu held;
	// the owner swaps it out under mu to write it.
	mu    sync.Mutex
	out   []byte
	spare []byte
	// writer is non-nil once the client can receive data it did not ask
	// for (pub/sub, MONITOR): from then on one goroutine writes, so pushes
	// and replies keep their order.
	writer chan struct{}

	proto         int
	db            *keyspace.DB
	dbIndex       int
	argv          [][]byte
	cmd           *Command
	lastCmd       *Command
	nameBuf       []byte
	lookName      []byte   // the last command name looked up, as sent
	lookCmd       *Command // and its command (lookup)
	authenticated bool
	name          string
	libName       string
	libVer        string
	flags         clientFlag
	errored       bool

	createdAt  time.Time
	lastActive time.Time

	multi   []queuedCommand
	watched []watchKey

	subs  map[string]struct{}
	psubs map[string]struct{}
	ssubs map[string]struct{} // sharded channels (SSUBSCRIBE)

	// Set when the connection is driven by the reactor (reactor_linux.go);
	// the fields after inLoop belong to the reactor goroutine, except
	// scheduled and loopTasks, which are guarded by the reactor's mutex.
	inLoop     bool
	sockFD     int
	events     uint32
	scheduled  bool
	loopTasks  []func()
	blockTimer *time.Timer

	blocked    *blockedState
	blockAgain bool // set when a re-served blocked command must keep waiting
	execing    bool // running EXEC's queued commands: blocking commands don't block
	wake       chan struct{}

	woff int64 // stream offset after this client's last write (WAIT)
	// woffActive is the same in the active stream (active peers' acks).
	woffActive int64
	aofLoader  bool     // the append-only file's replay client
	repl       *replica // set once the client sent REPLCONF or SYNC (repl_master.go)
}

type queuedCommand struct {
	cmd  *Command
	argv [][]byte
}

func (s *Server) newClient(conn net.Conn) *Client {
	c := &Client{
		s:          s,
		conn:       conn,
		proto:      2,
		createdAt:  time.Now(),
		lastActive: time.Now(),
		wake:       make(chan struct{}, 1),
		sockFD:     -1,
	}
	c.selectDB(0)
	c.authenticated = !s.requirePass()
	if conn != nil {
		c.addr = conn.RemoteAddr().String()
		c.laddr = conn.LocalAddr().String()
	}
	return c
}

// NewTestClient returns a client with no connection, for handler tests:
// replies accumulate in the buffer Output returns.
func (s *Server) NewTestClient() *Client {
	c := s.newClient(nil)
	s.mu.Lock()
	s.nextClientID++
	c.id = s.nextClientID
	s.clients[c.id] = c
	s.mu.Unlock()
	return c
}

// Do runs one command as this client, with the server lock held, and
// returns the raw reply bytes it produced.
func (c *Client) Do(args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.s.mu.Lock()
	c.s.tick()
	c.process(argv)
	c.s.mu.Unlock()
	c.mu.Lock()
	out := string(c.out)
	c.out = c.out[:0]
	c.mu.Unlock()
	return out
}

func (c *Client) selectDB(i int) {
	c.dbIndex = i
	c.db = c.s.dbs[i]
}

func (c *Client) isMaster() bool   { return c.flags&flagMaster != 0 }
func (c *Client) inPubSub() bool   { return len(c.subs)+len(c.psubs)+len(c.ssubs) > 0 }
func (c *Client) arg(i int) []byte { return c.argv[i] }

// isLocal says whether the peer connected over loopback (or a unix socket),
// which protected mode and DEBUG's "local" setting care about.
func (c *Client) isLocal() bool {
	if c.conn == nil {
		return true
	}
	ta, ok := c.conn.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return true
	}
	return ta.IP.IsLoopback()
}

func (s *Server) serveConn(nc net.Conn) {
	s.mu.Lock()
	ka := s.cfg.TCPKeepalive
	c := s.newClient(nc)
	s.mu.Unlock()
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if ka > 0 {
			_ = tc.SetKeepAlive(true)
			_ = tc.SetKeepAlivePeriod(time.Duration(ka) * time.Second)
		}
	}
	s.mu.Lock()
	if s.shuttingDown {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.clients) >= s.cfg.Maxclients {
		s.stats.rejectedConns++
		s.mu.Unlock()
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return
	}
	if msg := s.protectedModeRefusal(c); msg != "" {
		s.stats.rejectedConns++
		s.mu.Unlock()
		nc.Write([]byte("-" + msg + "\r\n"))
		nc.Close()
		return
	}
	s.nextClientID++
	c.id = s.nextClientID
	s.clients[c.id] = c
	s.stats.connections++
	s.mu.Unlock()

	if s.reactor != nil && s.reactor.register(c) {
		return
	}

	c.rd = resp.NewReader(&blockAwareReader{c: c}, readBufSize)
	c.applyReaderLimits()
	c.loop()

	s.mu.Lock()
	s.freeClient(c)
	s.mu.Unlock()
	c.stopWriter()
	nc.Close()
}

func (c *Client) applyReaderLimits() {
	c.rd.MaxBulkLen = c.s.cfg.ProtoMaxBulkLen
	c.rd.MaxQueryBuf = c.s.cfg.ClientQueryBufferLimit
	c.rd.Unauthenticated = !c.authenticated
}

// loop reads commands and runs them. A pipelined batch runs under one
// acquisition of the server lock and its replies go out in one write.
func (c *Client) loop() {
	s := c.s
	for {
		args, err := c.rd.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				s.mu.Lock()
				c.addError(pe.Error())
				s.mu.Unlock()
				c.flush()
				s.log.Printf("Protocol error (%s) from client: id=%d addr=%s", pe.Error(), c.id, c.addr)
			}
			return
		}
		s.mu.Lock()
		s.tick()
		c.lastActive = s.lastTick
		for {
			c.process(args)
			if c.flags&(flagCloseAfterReply|flagCloseASAP|flagBlocked) != 0 || !c.rd.HasPending() {
				break
			}
			if args, err = c.rd.ReadCommand(); err != nil {
				break
			}
		}
		wasAuth := c.authenticated
		closing := c.flags&(flagCloseAfterReply|flagCloseASAP) != 0
		blocked := c.flags&flagBlocked != 0
		s.mu.Unlock()
		if wasAuth == c.rd.Unauthenticated {
			c.rd.Unauthenticated = !wasAuth
		}
		if blocked && !c.waitUnblocked() {
			return
		}
		s.aofBeforeReply() // the AOF is written before replies go out (aof.go)
		if err := c.flush(); err != nil || closing {
			return
		}
	}
}

// flush writes pending replies, or hands them to the writer goroutine.
func (c *Client) flush() error {
	if c.inLoop {
		c.s.reactor.schedule(c, nil)
		return nil
	}
	c.mu.Lock()
	if len(c.out) == 0 || c.conn == nil {
		c.mu.Unlock()
		return nil
	}
	if c.writer != nil {
		c.mu.Unlock()
		c.signalWriter()
		return nil
	}
	buf := c.out
	c.out = c.spare[:0]
	c.mu.Unlock()
	c.s.countOutput(len(buf))
	_, err := c.conn.Write(buf)
	if cap(buf) <= 64<<10 {
		c.spare = buf[:0]
	} else {
		c.spare = nil
	}
	return err
}

func (s *Server) countOutput(n int) { s.netOutput.Add(int64(n)) }

func (c *Client) signalWriter() {
	select {
	case c.writer <- struct{}{}:
	default:
	}
}

// startWriter switches the client to a dedicated writer goroutine. Called
// with s.mu held when the client subscribes or starts MONITOR.
func (c *Client) startWriter() {
	if c.inLoop {
		return // the reactor writes pushes as they come
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writer != nil || c.conn == nil {
		return
	}
	ch := make(chan struct{}, 1)
	c.writer = ch
	go func() {
		for range ch {
			c.mu.Lock()
			buf := c.out
			c.out = nil
			c.mu.Unlock()
			if len(buf) == 0 {
				continue
			}
			if _, err := c.conn.Write(buf); err != nil {
				c.conn.Close()
			}
		}
	}()
}

func (c *Client) stopWriter() {
	c.mu.Lock()
	if c.writer != nil {
		close(c.writer)
		c.writer = nil
	}
	c.mu.Unlock()
}

// push appends data for this client from another client's command (s.mu
// held) and makes sure it gets written.
func (c *Client) push(fn func(c *Client)) {
	c.mu.Lock()
	fn(c)
	n := len(c.out)
	c.mu.Unlock()
	if limit := c.s.pubsubOutputLimit(); limit > 0 && int64(n) > limit {
		c.s.log.Printf("Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, c.addr)
		c.closeConn()
		return
	}
	if c.inLoop {
		c.s.reactor.schedule(c, nil)
	} else if c.writer != nil {
		c.signalWriter()
	}
}

func (c *Client) closeConn() {
	c.flags |= flagCloseASAP
	if c.inLoop {
		// Only the reactor closes its sockets (fd numbers get reused).
		c.s.reactor.schedule(c, nil)
		return
	}
	if c.conn != nil {
		c.conn.Close()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// freeClient removes every trace of the client from the server (s.mu held).
func (s *Server) freeClient(c *Client) {
	if c.blocked != nil {
		s.unblock(c, false)
	}
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	delete(s.monitors, c)
	delete(s.clients, c.id)
}

func (s *Server) protectedModeRefusal(c *Client) string {
	if !s.cfg.ProtectedMode || s.cfg.Requirepass != "" || c.isLocal() {
		return ""
	}
	if !s.bindIsDefault() {
		return ""
	}
	return "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."
}

// bindIsDefault: Redis applies protected mode only when no explicit bind
// address was configured (or the default loopback bind).
func (s *Server) bindIsDefault() bool {
	for _, b := range s.cfg.Bind {
		b = strings.TrimPrefix(b, "-")
		if b != "127.0.0.1" && b != "::1" && b != "localhost" {
			return false
		}
	}
	return true
}

// blockAwareReader is what the RESP reader reads from. While the client is
// blocked (BLPOP), a watcher goroutine keeps reading so a disconnect is
// noticed; what it read is kept here and handed to the RESP reader first.
type blockAwareReader struct {
	c       *Client
	pending []byte
}

func (b *blockAwareReader) Read(p []byte) (int, error) {
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	n, err := b.c.conn.Read(p)
	if n > 0 {
		b.c.s.netInput.Add(int64(n))
	}
	return n, err
}

// waitUnblocked parks the connection goroutine until the client is served,
// times out, or disconnects. It returns false when the connection is gone.
func (c *Client) waitUnblocked() bool {
	s := c.s
	// Flush what came before the blocking command (pipelines).
	c.flush()
	src := c.rd.Source().(*blockAwareReader)
	watchDone := make(chan error, 1)
	go func() {
		var buf [4096]byte
		for {
			n, err := c.conn.Read(buf[:])
			if n > 0 {
				s.mu.Lock()
				src.pending = append(src.pending, buf[:n]...)
				s.mu.Unlock()
			}
			if err != nil {
				watchDone <- err
				return
			}
		}
	}()
	var timer <-chan time.Time
	s.mu.Lock()
	deadline := time.Time{}
	if c.blocked != nil {
		deadline = c.blocked.deadline
	}
	s.mu.Unlock()
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	alive := true
	for {
		select {
		case <-c.wake:
		case <-timer:
			s.mu.Lock()
			if c.blocked != nil {
				s.unblock(c, true)
			}
			s.mu.Unlock()
		case err := <-watchDone:
			if !isTimeout(err) {
				alive = false
				s.mu.Lock()
				if c.blocked != nil {
					s.unblock(c, false)
				}
				s.mu.Unlock()
				return false
			}
			watchDone = nil
		}
		s.mu.Lock()
		still := c.blocked != nil && c.flags&flagCloseASAP == 0
		s.mu.Unlock()
		if !still {
			break
		}
	}
	// Stop the watcher: a read deadline in the past makes its Read return.
	if watchDone != nil {
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
		err := <-watchDone
		_ = c.conn.SetReadDeadline(time.Time{})
		if err != nil && !isTimeout(err) {
			alive = false
		}
	}
	s.mu.Lock()
	closing := c.flags&flagCloseASAP != 0
	s.mu.Unlock()
	return alive && !closing
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var _ io.Reader = (*blockAwareReader)(nil)

// warmBatch prepares the keyspace lookups of a pipelined batch: args is
// its first command (already read), the rest is still in the read buffer.
// The key of each command (its argument keyArg) is looked up in advance
// all at once, so that the cache misses overlap instead of coming one per
// command (profiles on 100k keys: the lookup's misses were a third of
// the time). A batch of one command is left alone. It returns how many
// complete commands it saw after args: the caller knows they are there
// (no HasPending needed) and calls it again after them.
func (c *Client) warmBatch(args [][]byte, keyArg int) int {
	if c.rd.Buffered() == 0 || c.db == nil {
		return 0
	}
	var keys [keyspace.WarmMax][]byte
	ks := keys[:0]
	if len(args) > keyArg && len(args[keyArg]) <= warmKeyMax {
		ks = append(ks, args[keyArg])
	}
	seen := 0
	c.rd.Peek(keyspace.WarmMax-1, keyArg+1, func(a [][]byte) {
		seen++
		if len(a) > keyArg && len(a[keyArg]) <= warmKeyMax {
			ks = append(ks, a[keyArg])
		}
	})
	if len(ks) > 1 {
		c.db.Warm(ks)
	}
	return seen
}

// warmKeyMax: longer keys are not warmed (hashing them twice costs more
// than the miss it saves).
const warmKeyMax = 128
