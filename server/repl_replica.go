package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
	"github.com/fluidb/fluidb/server/resp"
)

// The replica side: one goroutine per configured master (replLink) that
// connects, does the handshake, loads the snapshot into fresh databases
// off the lock (clients keep being served the old data, or -MASTERDOWN when
// replica-serve-stale-data is no), swaps them in, and then applies the
// stream as the master client through the normal gate. The exact bytes
// applied are forwarded to our backlog and our own replicas (Redis's proxy
// behaviour), so a chain of replicas shares the master's replid and offsets.

type replLink struct {
	host    string
	port    int
	stop    chan struct{}
	stopped bool     // guarded by s.mu
	conn    net.Conn // guarded by s.mu
	wmu     sync.Mutex

	// GETACK: the offset to acknowledge after the current batch (-1: none).
	ackOffset int64
	// activeOffset is our active stream's offset when the applied offset
	// was last updated (-1: not an active link).
	activeOffset atomic.Int64
	// reader is the connection's reader (the link goroutine's own).
	reader *linkReader
}

// linkError is why a link attempt ended; auth marks a refused password,
// which backs off longer.
type linkError struct {
	msg  string
	auth bool
}

func (e *linkError) Error() string { return e.msg }

func linkErrorf(format string, args ...any) error {
	return &linkError{msg: fmt.Sprintf(format, args...)}
}

// startLink starts the link goroutine if this node is a replica without
// one (s.mu held).
func (s *Server) startLink() {
	if s.repl.link != nil || s.shuttingDown || !s.isReplica() {
		return
	}
	hp := s.cfg.ReplicaOf
	l := &replLink{host: hp.Host, port: hp.Port, stop: make(chan struct{}), ackOffset: -1}
	s.repl.link = l
	s.repl.state = linkConnect
	s.updateSink()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.linkLoop(l)
	}()
}

// stopLink ends the current link (s.mu held); the goroutine notices and
// exits without touching anything.
func (s *Server) stopLink(why string) {
	l := s.repl.link
	if l == nil {
		return
	}
	l.stopped = true
	close(l.stop)
	if l.conn != nil {
		l.conn.Close()
	}
	s.repl.link = nil
	s.dropMasterClient()
	s.repl.state = linkNone
	_ = why
}

// dropMasterClient frees the master client, keeping the db its stream is
// in for a partial resync (s.mu held).
func (s *Server) dropMasterClient() {
	mc := s.repl.master
	if mc == nil {
		return
	}
	s.repl.streamDB = mc.dbIndex
	if mc.flags&flagMulti != 0 {
		// A transaction cut by the link: its bytes were never counted,
		// and the master resends them with the rest.
		mc.discardTransaction()
	}
	s.freeClient(mc)
	s.repl.master = nil
}

// replicaLinkCron starts the link of a configured replica (the replicaof
// directive at boot) (s.mu held).
func (s *Server) replicaLinkCron(now time.Time) {
	if s.isReplica() && s.repl.link == nil && !s.loading {
		if s.repl.state == linkNone {
			s.repl.state = linkConnect
		}
		s.startLink()
	}
}

func (s *Server) linkLoop(l *replLink) {
	fails := 0
	for {
		err := s.linkOnce(l)
		s.mu.Lock()
		if l.stopped {
			s.mu.Unlock()
			return
		}
		wasUp := s.repl.state == linkConnected
		s.dropMasterClient()
		if l.conn != nil {
			l.conn.Close()
			l.conn = nil
		}
		s.repl.state = linkConnect
		if s.repl.downSince.IsZero() || wasUp {
			s.repl.downSince = time.Now()
		}
		msg := "connection lost"
		if err != nil {
			msg = err.Error()
		}
		s.repl.downReason = msg
		if wasUp {
			s.log.Printf("Connection with master lost (%s). Caching the disconnected master state.", msg)
			fails = 0
		} else {
			s.log.Printf("MASTER <-> REPLICA sync with %s failed: %s", hostPortString(l.host, l.port), msg)
		}
		s.mu.Unlock()

		// Back off: one second after a lost link (Redis's cadence), then
		// doubling for repeated failures, longer when the master refuses
		// our password.
		fails++
		limit := 5 * time.Second
		var le *linkError
		if errors.As(err, &le) && le.auth {
			limit = 60 * time.Second
		}
		delay := min(time.Second<<min(fails-1, 10), limit)
		t := time.NewTimer(delay)
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-s.stopCh:
			t.Stop()
			return
		case <-t.C:
		}
		s.mu.Lock()
		if l.stopped {
			s.mu.Unlock()
			return
		}
		s.log.Printf("Reconnecting to MASTER %s after failure", hostPortString(l.host, l.port))
		s.mu.Unlock()
	}
}

// linkReader reads from the master's connection with repl-timeout as the
// idle limit and records the last I/O time.
type linkReader struct {
	s       *Server
	conn    net.Conn
	raw     *rawConnIO
	timeout time.Duration
	fd      int // the connection's descriptor, -1 if unknown
	// resumed is when a read last had to wait for data: the link goroutine
	// was parked, so the node's clients could run (streamLoop).
	resumed time.Time
}

func (r *linkReader) Read(p []byte) (int, error) {
	if r.timeout > 0 {
		_ = r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	}
	if r.fd >= 0 {
		r.s.linkWait.Store(int32(r.fd) + 1)
	}
	n, waited, err := r.raw.Read(p)
	if waited {
		r.resumed = time.Now()
	}
	if r.fd >= 0 {
		r.s.linkWait.Store(0)
	}
	if n > 0 {
		r.s.repl.lastIO.Store(time.Now().UnixMilli())
	}
	return n, err
}

// linkOnce runs one connection to the master, from dial to disconnect.
func (s *Server) linkOnce(l *replLink) error {
	addr := hostPortString(l.host, l.port)
	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		return nil
	}
	s.repl.state = linkConnecting
	timeout := time.Duration(s.cfg.ReplTimeout) * time.Second
	s.log.Printf("Connecting to MASTER %s", addr)
	s.mu.Unlock()

	// Stopping the link or the server interrupts every wait below.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
		case <-s.stopCh:
		case <-ctx.Done():
		}
		cancel()
	}()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return linkErrorf("Error condition on socket for SYNC: %v", err)
	}
	defer conn.Close()
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopWatch()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		conn.Close()
		return nil
	}
	l.conn = conn
	s.repl.state = linkHandshake
	s.log.Printf("MASTER <-> REPLICA sync started")
	auth, user := s.cfg.Masterauth, s.cfg.Masteruser
	port := s.cfg.Port
	if s.cfg.ReplicaAnnouncePort != 0 {
		port = s.cfg.ReplicaAnnouncePort
	}
	announceIP := s.cfg.ReplicaAnnounceIP
	psyncID, psyncOff := s.replID(), s.repl.offset+1
	active := s.act.on
	s.act.linkActive = false
	s.mu.Unlock()

	lr := &linkReader{s: s, conn: conn, raw: newRawConnIO(conn), timeout: timeout, fd: -1}
	if s.reactor != nil {
		lr.fd = connFD(conn)
	}
	br := bufio.NewReaderSize(lr, 64<<10)
	l.reader = lr
	write := func(b []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err := conn.Write(b)
		return err
	}

	// PING first: it tells a dead or foreign endpoint apart early. An auth
	// error is fine here, AUTH comes next.
	if err := write(appendRESP(nil, argvOf("PING"))); err != nil {
		return linkErrorf("I/O error writing to MASTER: %v", err)
	}
	line, err := readLine(br)
	if err != nil {
		return linkErrorf("Master did not respond to command during SYNC handshake: %v", err)
	}
	if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "-NOAUTH") && !strings.HasPrefix(line, "-NOPERM") &&
		!strings.HasPrefix(line, "-ERR operation not permitted") && !strings.HasPrefix(line, "-MASTERDOWN") {
		return linkErrorf("Error reply to PING from master: '%s'", line)
	}
	s.log.Printf("Master replied to PING, replication can continue...")

	// The rest of the handshake in one write, as Redis's replicas do.
	var hs []byte
	n := 0
	if auth != "" {
		if user != "" {
			hs = appendRESP(hs, argvOf("AUTH", user, auth))
		} else {
			hs = appendRESP(hs, argvOf("AUTH", auth))
		}
		n++
	}
	hs = appendRESP(hs, argvOf("REPLCONF", "listening-port", strconv.Itoa(port)))
	n++
	if announceIP != "" {
		hs = appendRESP(hs, argvOf("REPLCONF", "ip-address", announceIP))
		n++
	}
	hs = appendRESP(hs, argvOf("REPLCONF", "capa", "eof", "capa", "psync2"))
	n++
	if err := write(hs); err != nil {
		return linkErrorf("I/O error writing to MASTER: %v", err)
	}
	for i := 0; i < n; i++ {
		line, err := readLine(br)
		if err != nil {
			return linkErrorf("Master did not respond to command during SYNC handshake: %v", err)
		}
		if i == 0 && auth != "" {
			if strings.HasPrefix(line, "-") {
				return &linkError{msg: "Unable to AUTH to MASTER: " + line, auth: true}
			}
			continue
		}
		if strings.HasPrefix(line, "-") {
			s.log.Printf("(Non critical) Master does not understand REPLCONF: %s", line)
		}
	}

	// Active replication: offer it with our UUID; an active master
	// answers with its own, and the link carries its active stream.
	if active {
		if err := write(appendRESP(nil, argvOf("REPLCONF", "capa", "active", "uuid", s.nodeID.String()))); err != nil {
			return linkErrorf("I/O error writing to MASTER: %v", err)
		}
		line, err := readLine(br)
		if err != nil {
			return linkErrorf("Master did not respond to command during SYNC handshake: %v", err)
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "+ACTIVE" {
			id, err := uuid.Parse(f[1])
			if err != nil {
				return linkErrorf("Master sent a malformed UUID: %s", line)
			}
			if id == s.nodeID {
				return &linkError{msg: "REPLICAOF points at this node itself (the master's UUID is ours)", auth: true}
			}
			s.mu.Lock()
			if s.act.masterID != id {
				// Another process: nothing of its stream is ours yet.
				s.act.masterID, s.act.masterReplid, s.act.masterOff = id, "", 0
			}
			s.act.linkActive = true
			s.seePeer(id, addr)
			if len(f) >= 3 {
				if ms, err := strconv.ParseInt(f[2], 10, 64); err == nil {
					s.act.peers[id].skewMs = ms - time.Now().UnixMilli()
				}
			}
			psyncID, psyncOff = s.act.masterReplid, s.act.masterOff+1
			if psyncID == "" {
				psyncID, psyncOff = "?", -1
			}
			s.mu.Unlock()
			s.log.Printf("Active link with master %s (%s)", addr, id)
		} else {
			s.log.Printf("Master %s is not an active replica (%s): plain replication", addr, line)
		}
	}

	// PSYNC with our history: the master continues it when it shares it.
	if err := write(appendRESP(nil, argvOf("PSYNC", psyncID, strconv.FormatInt(psyncOff, 10)))); err != nil {
		return linkErrorf("I/O error writing to MASTER: %v", err)
	}
	s.log.Printf("Trying a partial resynchronization (request %s:%d).", psyncID, psyncOff)
	for {
		line, err = readLine(br)
		if err != nil {
			return linkErrorf("Master did not reply to PSYNC: %v", err)
		}
		if line != "" {
			break // empty lines are keepalives
		}
	}
	switch {
	case strings.HasPrefix(line, "+FULLRESYNC"):
		f := strings.Fields(line)
		if len(f) < 3 || len(f[1]) != 40 {
			return linkErrorf("Master replied with wrong +FULLRESYNC syntax: %s", line)
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return linkErrorf("Master replied with wrong +FULLRESYNC syntax: %s", line)
		}
		s.log.Printf("Full resync from master: %s:%d", f[1], off)
		if s.activeLink() {
			return s.activeFullSync(l, conn, br, f[1], off)
		}
		return s.fullSync(l, conn, br, f[1], off)
	case strings.HasPrefix(line, "+CONTINUE"):
		f := strings.Fields(line)
		s.mu.Lock()
		if l.stopped {
			s.mu.Unlock()
			return nil
		}
		s.log.Printf("Successful partial resynchronization with master.")
		if s.act.linkActive {
			s.act.partialSyncs++
			s.mu.Unlock()
			return s.streamLoop(l, conn, br, 0)
		}
		if len(f) >= 2 && len(f[1]) == 40 && f[1] != s.replID() {
			// The master's history has a new name (it was promoted): ours
			// becomes replid2, and our replicas must learn the new one.
			s.repl.replid2 = s.replID()
			s.repl.second = s.repl.offset + 1
			s.setReplID(f[1])
			s.log.Printf("Master replication ID changed to %s", f[1])
			s.disconnectReplicas()
		}
		if s.repl.bl == nil {
			s.createBacklog()
		}
		s.log.Printf("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
		s.mu.Unlock()
		return s.streamLoop(l, conn, br, s.repl.streamDB)
	case strings.HasPrefix(line, "-NOMASTERLINK"), strings.HasPrefix(line, "-LOADING"):
		return linkErrorf("Master is currently unable to PSYNC but should be in the future: %s", line)
	case strings.HasPrefix(line, "-NOAUTH"), strings.HasPrefix(line, "-NOPERM"), strings.HasPrefix(line, "-WRONGPASS"):
		return &linkError{msg: "Unexpected reply to PSYNC from master: " + line, auth: true}
	}
	return linkErrorf("Unexpected reply to PSYNC from master: %s", line)
}

// readLine reads one protocol line without its CRLF.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// fullSync receives and loads the snapshot, swaps it in, and goes on with
// the stream.
func (s *Server) fullSync(l *replLink, conn net.Conn, br *bufio.Reader, replid string, offset int64) error {
	start := time.Now()
	ld, err := s.receiveSnapshot(l, br)
	if err != nil || ld == nil {
		return err
	}
	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		return nil
	}
	// The new dataset starts a new history here: our replicas must resync,
	// and our backlog restarts at the master's offset.
	s.disconnectReplicas()
	s.repl.bl = nil
	s.log.Printf("MASTER <-> REPLICA sync: Swapping active DB with loaded DB")
	s.swapInData(ld)
	s.aofRestartAfterSync() // the AOF must describe the new dataset (aof.go)
	s.setReplID(replid)
	s.clearReplID2()
	s.repl.offset = offset
	s.createBacklog()
	s.mu.Unlock()
	s.log.Printf("MASTER <-> REPLICA sync: Finished with success (%d keys in %v)", ld.keys, time.Since(start).Round(time.Millisecond))
	return s.streamLoop(l, conn, br, ld.streamDB)
}

// activeFullSync is a full sync on an active link: the master's snapshot
// is merged into our live data under the conflict rule (conflict.go), in
// chunks, with no -LOADING window; our own history and replicas stay.
func (s *Server) activeFullSync(l *replLink, conn net.Conn, br *bufio.Reader, replid string, offset int64) error {
	start := time.Now()
	ld, err := s.receiveSnapshot(l, br)
	if err != nil || ld == nil {
		return err
	}
	merged := s.mergeLoaded(ld)
	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		return nil
	}
	s.act.masterReplid, s.act.masterOff = replid, offset
	s.act.fullSyncs++
	s.mu.Unlock()
	s.log.Printf("MASTER <-> REPLICA sync: merged the master's snapshot (%d keys, %d newer than ours) in %v",
		ld.keys, merged, time.Since(start).Round(time.Millisecond))
	return s.streamLoop(l, conn, br, 0)
}

// activeLink reports whether the link being set up carries records.
func (s *Server) activeLink() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.act.linkActive
}

// receiveSnapshot reads the master's snapshot into fresh databases off
// the lock (nil, nil: the link was stopped).
func (s *Server) receiveSnapshot(l *replLink, br *bufio.Reader) (*loaded, error) {
	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		return nil, nil
	}
	s.repl.state = linkSync
	s.repl.syncTotal = 0
	s.repl.syncRead.Store(0)
	s.repl.syncLastIO.Store(time.Now().UnixMilli())
	s.mu.Unlock()

	var line string
	for {
		var err error
		line, err = readLine(br)
		if err != nil {
			return nil, linkErrorf("I/O error reading bulk count from MASTER: %v", err)
		}
		s.repl.syncLastIO.Store(time.Now().UnixMilli())
		if line != "" {
			break
		}
	}
	if strings.HasPrefix(line, "-") {
		return nil, linkErrorf("MASTER aborted replication with an error: %s", line[1:])
	}
	if !strings.HasPrefix(line, "$") {
		return nil, linkErrorf("Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure the host and port are right?", line)
	}
	var payload io.Reader
	size := int64(-1)
	var eof *eofReader
	if strings.HasPrefix(line, "$EOF:") && len(line) == 5+40 {
		eof = &eofReader{r: br, mark: []byte(line[5:])}
		payload = eof
		s.log.Printf("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
	} else {
		n, err := strconv.ParseInt(line[1:], 10, 64)
		if err != nil || n < 0 {
			return nil, linkErrorf("Bad bulk length from MASTER: %s", line)
		}
		size = n
		s.mu.Lock()
		s.repl.syncTotal = n
		s.mu.Unlock()
		payload = io.LimitReader(br, n)
		s.log.Printf("MASTER <-> REPLICA sync: receiving %d bytes from master to disk", n)
	}
	counted := &countingReader{r: payload, s: s}

	s.log.Printf("MASTER <-> REPLICA sync: Loading DB in memory")
	ld, err := s.replLoad(counted, size)
	if err != nil {
		return nil, linkErrorf("Failed trying to load the MASTER synchronization DB from socket: %v", err)
	}
	// Whatever the loader left unread belongs to the payload too (with
	// EOF, at least the mark).
	if _, err := io.Copy(io.Discard, payload); err != nil {
		return nil, linkErrorf("I/O error reading the payload from MASTER: %v", err)
	}
	if eof != nil && !eof.seen {
		return nil, linkErrorf("Replication stream EOF marker is broken")
	}

	return ld, nil
}

// countingReader counts snapshot bytes for INFO's master_sync_* fields.
type countingReader struct {
	r io.Reader
	s *Server
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.s.repl.syncRead.Add(int64(n))
		c.s.repl.syncLastIO.Store(time.Now().UnixMilli())
	}
	return n, err
}

// eofReader delivers a diskless payload, which ends with the 40-byte mark
// announced in "$EOF:<mark>". The master sends nothing after the mark
// until our first ACK, so the mark is always the tail of what was read:
// the last 40 bytes are held back until they are known not to be it.
type eofReader struct {
	r    io.Reader
	mark []byte
	tail []byte
	seen bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	var buf [64 << 10]byte
	for {
		if e.seen {
			return 0, io.EOF
		}
		if avail := len(e.tail) - len(e.mark); avail > 0 {
			n := copy(p, e.tail[:avail])
			e.tail = append(e.tail[:0], e.tail[n:]...)
			return n, nil
		}
		if bytes.Equal(e.tail, e.mark) {
			e.seen = true
			return 0, io.EOF
		}
		n, err := e.r.Read(buf[:])
		e.tail = append(e.tail, buf[:n]...)
		if n == 0 && err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
}

// loaded is a dataset read from a master, not yet in use.
type loaded struct {
	dbs      []*keyspace.DB
	origins  *keyspace.Origins
	baseOrig int // origins below this index are the server's own
	keys     int64
	streamDB int
	info     *rdb.Info
}

// replLoad reads an RDB stream into fresh databases, without the lock.
func (s *Server) replLoad(in io.Reader, size int64) (*loaded, error) {
	s.mu.Lock()
	n := len(s.dbs)
	orig := keyspace.NewOrigins()
	for i := 1; i < s.origins.Len(); i++ {
		orig.Intern(s.origins.ID(uint32(i)))
	}
	cfg := s.cfg
	opts := &rdb.Options{
		Limits: rdb.Limits{
			HashMaxListpackEntries: cfg.HashMaxListpackEntries,
			HashMaxListpackValue:   cfg.HashMaxListpackValue,
			SetMaxIntsetEntries:    cfg.SetMaxIntsetEntries,
			ZSetMaxListpackEntries: cfg.ZsetMaxListpackEntries,
			ZSetMaxListpackValue:   cfg.ZsetMaxListpackValue,
		},
		VerifyChecksum: cfg.RDBChecksum,
		Origins:        orig,
		Databases:      n,
		Logf:           s.log.Printf,
	}
	lru := s.lruClock()
	s.mu.Unlock()

	ld := &loaded{dbs: make([]*keyspace.DB, n), origins: orig, baseOrig: orig.Len()}
	for i := range ld.dbs {
		ld.dbs[i] = keyspace.NewDB(i)
	}
	info, err := rdb.Load(in, size, opts, func(rec *rdb.Record) error {
		if rec.DB < 0 || rec.DB >= n {
			return fmt.Errorf("database %d out of range", rec.DB)
		}
		db := ld.dbs[rec.DB]
		e, _ := db.Add(rec.Key)
		exp := rec.Entry.Expire
		*e = rec.Entry
		e.Expire = 0
		if exp != 0 {
			db.SetExpire(rec.Key, e, exp)
		}
		if rec.Idle >= 0 && int64(lru) > rec.Idle {
			e.Access = lru - uint32(rec.Idle)
		} else {
			e.Access = lru
		}
		if rec.Freq >= 0 {
			e.Freq = uint8(rec.Freq)
		}
		ld.keys++
		return nil
	})
	if err != nil {
		return nil, err
	}
	ld.info = info
	if v, ok := info.Aux["repl-stream-db"]; ok {
		if d, err := strconv.Atoi(v); err == nil && d >= 0 && d < n {
			ld.streamDB = d
		}
	}
	return ld, nil
}

// swapInData replaces the datasets with a loaded one (s.mu held). Clients
// keep their db numbers; WATCHers see a change, as after FLUSHALL.
func (s *Server) swapInData(ld *loaded) {
	// Origins first seen in the file get indices in the server's table;
	// they match the file's unless someone interned meanwhile.
	var remap map[uint32]uint32
	for i := ld.baseOrig; i < ld.origins.Len(); i++ {
		got := s.origins.Intern(ld.origins.ID(uint32(i)))
		if got != uint32(i) {
			if remap == nil {
				remap = map[uint32]uint32{}
			}
			remap[uint32(i)] = got
		}
	}
	if remap != nil {
		for _, db := range ld.dbs {
			db.Range(func(_ string, e *keyspace.Entry) bool {
				if to, ok := remap[e.Origin]; ok {
					e.Origin = to
				}
				return true
			})
		}
	}
	// A background save walks the databases being replaced: it is
	// abandoned, as Redis kills its child before loading.
	s.abortBgsave()
	for i := range s.dbs {
		s.dbs[i].Swap(ld.dbs[i])
	}
	for i := range s.expireCursors {
		s.expireCursors[i] = 0
	}
	for _, list := range s.watched {
		for _, c := range list {
			c.flags |= flagDirtyCAS
		}
	}
	for wk := range s.blocking.byKey {
		if s.dbs[wk.db].GetString(wk.key) != nil {
			s.signalReady(s.dbs[wk.db], []byte(wk.key))
		}
	}
	s.stats.dirty++
	s.afterCommand()
}

// teeReader keeps what the stream parser read, so the exact bytes of each
// applied command can be forwarded to our backlog and replicas.
type teeReader struct {
	// countOnly: an active link, whose records are re-encoded by
	// FLUIDB.APPLY, only needs the byte count.
	countOnly bool
	r         io.Reader
	n         int64  // bytes read in total
	buf       []byte // bytes read and not yet forwarded
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.n += int64(n)
		if !t.countOnly {
			t.buf = append(t.buf, p[:n]...)
		}
	}
	return n, err
}

func (t *teeReader) take(n int) []byte {
	out := t.buf[:n]
	t.buf = t.buf[n:]
	if len(t.buf) == 0 {
		t.buf = t.buf[:0:0]
		if cap(out) <= 1<<20 {
			t.buf = out[:0] // reuse once the caller is done (see streamLoop)
		}
	}
	return out
}

// streamLoop applies the master's stream: each command through the gate as
// the master client, the offset advancing by each fully executed command
// (a MULTI block counts at its EXEC), the applied bytes forwarded.
func (s *Server) streamLoop(l *replLink, conn net.Conn, br *bufio.Reader, db int) error {
	tee := &teeReader{r: br}
	rd := resp.NewReader(tee, readBufSize)
	rd.MaxBulkLen = math.MaxInt64
	rd.MaxQueryBuf = math.MaxInt64

	s.mu.Lock()
	if l.stopped {
		s.mu.Unlock()
		return nil
	}
	mc := s.newClient(conn)
	mc.flags |= flagMaster
	mc.authenticated = true
	mc.rd = rd
	s.nextClientID++
	mc.id = s.nextClientID
	s.clients[mc.id] = mc
	if db >= len(s.dbs) {
		db = 0
	}
	mc.selectDB(db)
	s.repl.master = mc
	s.repl.state = linkConnected
	s.repl.downReason = ""
	s.repl.downSince = time.Time{}
	active := s.act.linkActive
	tee.countOnly = active
	l.activeOffset.Store(-1)
	if active {
		l.activeOffset.Store(s.act.offset)
	}
	base := s.repl.offset
	if active {
		base = s.act.masterOff
		s.act.skipAdj = 0
		// Fetches a dropped link left unanswered are asked again.
		s.act.fetchQ = s.act.fetchQ[:0]
		for k := range s.act.fetchNeed {
			s.act.fetchQ = append(s.act.fetchQ, k)
		}
	}
	s.repl.readOffset = base
	s.log.Printf("MASTER <-> REPLICA sync: replication stream from offset %d", base)
	s.mu.Unlock()

	// The first ACK at once: a diskless master starts the stream on it.
	if err := l.sendAck(conn, base); err != nil {
		return linkErrorf("I/O error writing to MASTER: %v", err)
	}
	done := make(chan struct{})
	defer close(done)
	go s.ackLoop(l, conn, done)

	var applied int64  // stream bytes applied (and forwarded) so far
	var busy time.Time // since when the link has applied without waiting or yielding
	for {
		args, err := rd.ReadCommand()
		if err != nil {
			if isTimeout(err) {
				return linkErrorf("MASTER timeout: no data nor PING received...")
			}
			return linkErrorf("Connection with master lost: %v", err)
		}
		s.mu.Lock()
		if l.stopped {
			s.mu.Unlock()
			return nil
		}
		s.tick()
		mc.lastActive = s.lastTick
		ahead := 0 // complete commands known to follow (warmBatch saw them)
		keyArg := 1
		if active {
			keyArg = 2 // FLUIDB.APPLY <meta> <key> ...
		}
		for {
			if ahead == 0 {
				ahead = mc.warmBatch(args, keyArg)
			} else {
				ahead--
			}
			mc.process(args)
			if len(mc.out) > 0 {
				if mc.out[0] == '-' {
					s.log.Printf("== CRITICAL == This replica is sending an error to its master: '%s' after processing the command '%s'",
						strings.TrimRight(string(mc.out[1:]), "\r\n"), args[0])
				}
				mc.out = mc.out[:0]
			}
			if mc.flags&flagMulti == 0 {
				consumed := tee.n - int64(rd.Buffered())
				if k := consumed - applied; k > 0 {
					if active {
						// Records were re-emitted by FLUIDB.APPLY into
						// our own streams; the offset is the master's.
						s.act.masterOff = base + consumed + s.act.skipAdj
						l.activeOffset.Store(s.act.offset)
					} else {
						s.feedStream(tee.take(int(k)))
					}
					applied = consumed
				}
			}
			if mc.flags&flagCloseASAP != 0 || (ahead == 0 && !rd.HasPending()) {
				break
			}
			if args, err = rd.ReadCommand(); err != nil {
				break
			}
		}
		s.repl.readOffset = base + tee.n
		var fetch []byte
		if active {
			s.repl.readOffset += s.act.skipAdj
			for _, k := range s.act.fetchQ {
				fetch = appendRESP(fetch, [][]byte{[]byte("REPLCONF"), []byte("fetch"), []byte(strconv.Itoa(k.db) + ":" + k.key)})
			}
			s.act.fetchQ = s.act.fetchQ[:0]
		}
		ack := l.ackOffset
		l.ackOffset = -1
		closing := mc.flags&flagCloseASAP != 0
		now := s.lastTick // the end of the batch's last command
		s.mu.Unlock()
		if len(fetch) > 0 {
			if err := l.send(conn, fetch); err != nil {
				return linkErrorf("I/O error writing to MASTER: %v", err)
			}
		}
		if ack >= 0 {
			if err := l.sendAck(conn, ack); err != nil {
				return linkErrorf("I/O error writing to MASTER: %v", err)
			}
		}
		if closing {
			return linkErrorf("master client closed")
		}
		if lr := l.reader; lr != nil && lr.resumed.After(busy) {
			busy = lr.resumed
		}
		if s.reactor != nil && now.Sub(busy) >= streamSlice {
			s.reactor.letClientsIn()
			busy = now
		}
	}
}

// streamSlice: the stream goes first, and the node's clients get a reactor
// round (reactor.letClientsIn) once the link has applied for this long
// without waiting for data. Yielding after every batch gave the clients
// most of the node when both nodes of a pair took writes (a round serves
// every ready client, a batch is what one read brought): the streams fell
// 100-600 ms behind. Never yielding let a busy stream keep a replica's
// clients waiting for 60 ms.
const streamSlice = 2 * time.Millisecond

// replGetAck answers REPLCONF GETACK from the master: the ACK carries the
// offset before the GETACK itself and goes out after the current batch
// (s.mu held).
func (s *Server) replGetAck() {
	if l := s.repl.link; l != nil {
		l.ackOffset = s.repl.offset
		if s.act.linkActive {
			l.ackOffset = s.act.masterOff
		}
	}
}

func (l *replLink) sendAck(conn net.Conn, off int64) error {
	argv := argvOf("REPLCONF", "ACK", strconv.FormatInt(off, 10))
	if aoff := l.activeOffset.Load(); aoff >= 0 {
		// On an active link: how far our own active stream was when we
		// had applied off, so the master knows when it has heard
		// everything we wrote before (tombstone collection, active.go).
		argv = append(argv, []byte("AOFF"), strconv.AppendInt(nil, aoff, 10),
			[]byte("TIME"), strconv.AppendInt(nil, time.Now().UnixMilli(), 10))
	}
	return l.send(conn, appendRESP(nil, argv))
}

// send writes to the master's connection (ACKs, fetch requests).
func (l *replLink) send(conn net.Conn, b []byte) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := conn.Write(b)
	return err
}

// ackLoop sends REPLCONF ACK every second while the link is up.
func (s *Server) ackLoop(l *replLink, conn net.Conn, done chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if l.stopped || s.repl.master == nil {
			s.mu.Unlock()
			return
		}
		off := s.repl.offset
		if s.act.linkActive {
			off = s.act.masterOff
		}
		s.mu.Unlock()
		if err := l.sendAck(conn, off); err != nil {
			conn.Close()
			return
		}
	}
}

// ---- persistence hooks ----

// replicationSaveInfo is what a snapshot records about the replication
// history (AUX repl-id, repl-offset, repl-stream-db), so a restarted node
// can continue it with a partial resync (s.mu held). ok is false when
// there is nothing worth recording.
func (s *Server) replicationSaveInfo() (replid string, offset int64, streamDB int, ok bool) {
	if s.isReplica() {
		if mc := s.repl.master; mc != nil {
			return s.replID(), s.repl.offset, mc.dbIndex, true
		}
		if s.repl.bl != nil {
			return s.replID(), s.repl.offset, s.repl.streamDB, true
		}
		return "", 0, 0, false
	}
	if s.repl.bl == nil {
		return "", 0, 0, false
	}
	return s.replID(), s.repl.offset, max(s.repl.lastDB, 0), true
}

// replInfoForSave is persistence's hook for the repl-id and repl-offset
// AUX fields. The file has no repl-stream-db field, so a replica whose
// stream is not in db 0 records a history nobody shares: after a restart
// it resyncs fully rather than apply the stream to the wrong db.
func (s *Server) replInfoForSave() (string, int64) {
	id, off, db, ok := s.replicationSaveInfo()
	if !ok {
		return s.replID(), 0
	}
	if s.isReplica() && db != 0 {
		return newReplID(), 0
	}
	return id, off
}

// replicationRestore adopts the history recorded in a snapshot loaded at
// boot (s.mu held, or before Start). A replica continues it as its cached
// master (PSYNC id offset+1); a master keeps it as replid2, so replicas
// that were at that point continue partially with the restarted master.
func (s *Server) replicationRestore(replid string, offset int64, streamDB int) {
	if len(replid) != 40 || offset < 0 {
		return
	}
	if streamDB < 0 || streamDB >= len(s.dbs) {
		streamDB = 0
	}
	s.repl.bl = nil
	s.repl.offset = offset
	if s.isReplica() {
		s.setReplID(replid)
		s.clearReplID2()
		s.repl.streamDB = streamDB
	} else {
		s.repl.replid2 = replid
		s.repl.second = offset + 1
		s.setReplID(newReplID())
	}
	s.repl.lastDB = -1
	s.createBacklog()
	s.repl.noReplicasSince = time.Now()
}
