package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/rdb"
)

// The master side of replication: REPLCONF, SYNC/PSYNC, the stream of
// effects to every replica, full and partial resynchronisation.
//
// A replica is an ordinary connection that sent SYNC or PSYNC. Its
// connection goroutine keeps reading (REPLCONF ACK); everything sent to it
// goes through a writer goroutine of its own (replicaRun), which writes the
// snapshot first and then the stream bytes that were buffered meanwhile, so
// the stream never overtakes the snapshot. The stream bytes wait in
// replica.out, bounded by client-output-buffer-limit replica: a replica
// that falls too far behind is dropped (it comes back and resyncs) and the
// master never grows without bound. They are queued in fixed-size blocks
// (outQueue), so a queue that grows while the replica is slow is never
// copied.

type replicaState int

const (
	replicaWaitBgsave    replicaState = iota // waiting for the snapshot to start
	replicaWaitBgsaveEnd                     // snapshot point taken: stream is buffered
	replicaSendBulk                          // sending a disk-style payload
	replicaOnline
)

func (st replicaState) String() string {
	switch st {
	case replicaWaitBgsave, replicaWaitBgsaveEnd:
		return "wait_bgsave"
	case replicaSendBulk:
		return "send_bulk"
	}
	return "online"
}

// replica is the master's view of one replica connection, guarded by s.mu
// (the writer goroutine takes it only to swap out the pending bytes).
type replica struct {
	c             *Client
	state         replicaState
	dead          bool
	listeningPort int
	announcedIP   string
	capaEOF       bool
	capaPsync2    bool
	oldSync       bool // SYNC, not PSYNC: no +FULLRESYNC line
	full          bool
	ackOff        int64
	ackTime       time.Time
	acked         bool // an ACK came since the last full sync
	waitAck       bool // diskless sync: the stream starts at the first ACK
	softSince     time.Time
	header        []byte // replies owed before the payload (+FULLRESYNC, +CONTINUE)

	// Active replication: the replica announced "capa active" and its
	// UUID; it is sent our active stream, minus what came from it (skip
	// counts the bytes not sent yet announced with FLUIDB.SKIP).
	capaActive bool
	active     bool
	peerID     uuid.UUID
	skip       int64
	peerOff    int64 // its own active offset when it last acknowledged ours

	out  outQueue // stream bytes not yet handed to the writer
	wake chan struct{}
	quit chan struct{}
}

func (r *replica) ip() string {
	if r.announcedIP != "" {
		return r.announcedIP
	}
	if r.c.conn != nil {
		if ta, ok := r.c.conn.RemoteAddr().(*net.TCPAddr); ok {
			return ta.IP.String()
		}
	}
	return "?"
}

func (r *replica) name() string {
	return hostPortString(r.ip(), r.listeningPort)
}

// replSink turns effects into stream bytes: SELECT when the db changes,
// each effect as a RESP array.
type replSink struct {
	s   *Server
	buf []byte
}

var selectWord = []byte("SELECT")

func (k *replSink) feedEffects(group []effect) {
	s := k.s
	if (s.isReplica() && !s.cfg.ActiveReplica) || s.repl.bl == nil || len(group) == 0 {
		return
	}
	b := k.buf[:0]
	for _, e := range group {
		if e.db != s.repl.lastDB {
			b = appendRESP(b, [][]byte{selectWord, strconv.AppendInt(nil, int64(e.db), 10)})
			s.repl.lastDB = e.db
		}
		b = appendRESP(b, e.argv)
	}
	s.feedStream(b)
	if cap(b) <= 1<<20 {
		k.buf = b[:0]
	} else {
		k.buf = nil
	}
	if c := s.prop.caller; c != nil {
		c.woff = s.repl.offset
	}
}

// replicaAppend queues stream bytes for r and enforces the output limits.
func (s *Server) replicaAppend(r *replica, p []byte) {
	r.out.write(p)
	n := r.out.n
	lim := s.cfg.ClientOutputBufferLimit.Replica
	if lim.Hard > 0 && n > lim.Hard {
		s.dropReplica(r, "overcoming of output buffer limits")
		return
	}
	if lim.Soft > 0 && n > lim.Soft {
		if r.softSince.IsZero() {
			r.softSince = s.lastTick
		} else if s.lastTick.Sub(r.softSince) > time.Duration(lim.SoftSeconds)*time.Second {
			s.dropReplica(r, "overcoming of output buffer limits")
			return
		}
	} else {
		r.softSince = time.Time{}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// writeBuffers writes bufs to conn (writev where the system has it)
// without changing bufs (net.Buffers consumes the slice it writes: it gets
// a copy, so the replica's blocks keep their capacity for reuse).
func writeBuffers(conn net.Conn, bufs [][]byte) error {
	nb := append(net.Buffers(nil), bufs...)
	_, err := nb.WriteTo(conn)
	return err
}

// outQueue is a replica's pending stream in blocks of outBlock bytes:
// appending never moves what is queued, and written blocks are reused.
type outQueue struct {
	blocks [][]byte // in order; only the last one has room
	n      int64    // bytes queued
	spare  [][]byte // written blocks, emptied for reuse
}

const (
	outBlock  = 64 << 10
	outSpares = 16 // blocks kept for reuse, per replica
)

func (q *outQueue) write(p []byte) {
	q.n += int64(len(p))
	for len(p) > 0 {
		if k := len(q.blocks); k > 0 {
			last := q.blocks[k-1]
			if room := cap(last) - len(last); room > 0 {
				m := min(room, len(p))
				q.blocks[k-1] = append(last, p[:m]...)
				p = p[m:]
				continue
			}
		}
		var b []byte
		if k := len(q.spare); k > 0 {
			b, q.spare = q.spare[k-1], q.spare[:k-1]
		} else {
			b = make([]byte, 0, outBlock)
		}
		q.blocks = append(q.blocks, b)
	}
}

// take moves the queued blocks into dst (reusing its array) and empties
// the queue.
func (q *outQueue) take(dst [][]byte) [][]byte {
	dst = append(dst[:0], q.blocks...)
	clear(q.blocks)
	q.blocks, q.n = q.blocks[:0], 0
	return dst
}

// recycle takes back blocks that have been written.
func (q *outQueue) recycle(bs [][]byte) {
	for i, b := range bs {
		if len(q.spare) < outSpares && cap(b) == outBlock {
			q.spare = append(q.spare, b[:0])
		}
		bs[i] = nil
	}
}

// dropReplica closes a replica's connection (s.mu held). It is removed from
// the list by the next sweep.
func (s *Server) dropReplica(r *replica, why string) {
	if r.dead {
		return
	}
	r.dead = true
	s.act.topologyChanged()
	s.log.Printf("Client id=%d addr=%s (replica %s) scheduled to be closed ASAP for %s.", r.c.id, r.c.addr, r.name(), why)
	r.c.closeConn()
	close(r.quit)
}

// sweepReplicas forgets replicas whose connection is gone (s.mu held).
func (s *Server) sweepReplicas() {
	if len(s.repl.replicas) == 0 {
		return
	}
	kept := s.repl.replicas[:0]
	for _, r := range s.repl.replicas {
		if !r.dead && s.clients[r.c.id] == r.c {
			kept = append(kept, r)
			continue
		}
		if !r.dead {
			r.dead = true
			close(r.quit)
		}
		s.act.topologyChanged()
		s.log.Printf("Connection with replica %s lost.", r.name())
	}
	for i := len(kept); i < len(s.repl.replicas); i++ {
		s.repl.replicas[i] = nil
	}
	s.repl.replicas = kept
	if len(kept) == 0 {
		s.repl.noReplicasSince = s.lastTick
	}
}

// disconnectReplicas drops every replica (our history changed under them).
func (s *Server) disconnectReplicas() {
	for _, r := range s.repl.replicas {
		s.dropReplica(r, "a change of replication history")
	}
	s.sweepReplicas()
}

// replicasCron is the master's once-a-second work (s.mu held).
func (s *Server) replicasCron(now time.Time) {
	if !s.isReplica() && len(s.repl.replicas) > 0 {
		period := time.Duration(max(s.cfg.ReplPingReplicaPeriod, 1)) * time.Second
		if now.Sub(s.repl.lastPing) >= period {
			s.repl.lastPing = now
			s.feedStream(pingStream)
		}
	}
	timeout := time.Duration(s.cfg.ReplTimeout) * time.Second
	for _, r := range s.repl.replicas {
		if r.dead || r.state != replicaOnline || !r.acked || r.oldSync {
			continue
		}
		if now.Sub(r.ackTime) > timeout {
			s.log.Printf("Disconnecting timedout replica (streaming sync): %s", r.name())
			s.dropReplica(r, "a timeout")
		}
	}
	s.sweepReplicas()
	if ttl := s.cfg.ReplBacklogTTL; ttl > 0 && !s.isReplica() && s.repl.bl != nil && len(s.repl.replicas) == 0 &&
		!s.repl.noReplicasSince.IsZero() && now.Sub(s.repl.noReplicasSince) > time.Duration(ttl)*time.Second {
		// Replicas still holding this history must not continue it: it
		// is gone, so the id changes too.
		s.setReplID(newReplID())
		s.clearReplID2()
		s.freeBacklog()
		s.log.Printf("Replication backlog freed after %d seconds without connected replicas.", ttl)
	}
}

var (
	pingStream   = appendRESP(nil, argvOf("PING"))
	getackStream = appendRESP(nil, argvOf("REPLCONF", "GETACK", "*"))
)

// requestAcks puts REPLCONF GETACK in the stream so replicas answer now
// (WAIT).
func (s *Server) requestAcks() {
	if !s.isReplica() && len(s.repl.replicas) > 0 {
		s.feedStream(getackStream)
	}
	if s.act.on && len(s.activeReplicas()) > 0 {
		s.feedActive(getackStream, noOrigin)
	}
}

// ---- REPLCONF ----

func replconfCmd(c *Client) {
	s := c.s
	if len(c.argv)%2 == 0 {
		c.addError("ERR syntax error")
		return
	}
	r := c.repl
	if r == nil {
		r = &replica{c: c}
	}
	for j := 1; j < len(c.argv); j += 2 {
		opt := strings.ToLower(string(c.argv[j]))
		val := c.argv[j+1]
		switch opt {
		case "listening-port":
			port, ok := parseInt(val)
			if !ok {
				c.addError(errNotInt)
				return
			}
			r.listeningPort = int(port)
		case "ip-address":
			if len(val) >= 46 {
				c.addError("ERR REPLCONF ip-address provided by replica instance is too long: " + strconv.Itoa(len(val)) + " bytes")
				return
			}
			r.announcedIP = string(val)
		case "capa":
			switch strings.ToLower(string(val)) {
			case "eof":
				r.capaEOF = true
			case "psync2":
				r.capaPsync2 = true
			case "active":
				r.capaActive = true
			}
			// Unknown capabilities are ignored, so peers can offer more.
		case "ack":
			if c.flags&flagReplica == 0 || c.repl == nil {
				return
			}
			off, ok := parseInt(val)
			if !ok {
				return
			}
			if off > r.ackOff {
				r.ackOff = off
			}
			for k := j + 2; k+1 < len(c.argv); k += 2 {
				switch strings.ToLower(string(c.argv[k])) {
				case "aoff":
					if v, ok := parseInt(c.argv[k+1]); ok && v > r.peerOff {
						r.peerOff = v
					}
				case "time":
					// The peer's wall clock, a moment ago on a local
					// network: INFO's skew_ms.
					if v, ok := parseInt(c.argv[k+1]); ok && s.act.peers != nil {
						if p := s.act.peers[r.peerID]; p != nil {
							p.skewMs = v - time.Now().UnixMilli()
						}
					}
				}
			}
			r.ackTime = time.Now()
			r.acked = true
			if r.waitAck && r.state == replicaOnline {
				r.waitAck = false
				s.log.Printf("Synchronization with replica %s succeeded", r.name())
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
			s.serveWaiters()
			return // ACKs are never answered
		case "getack":
			if c.isMaster() && s.isReplica() {
				s.replGetAck()
			}
			return
		case "uuid":
			id, err := uuid.ParseBytes(val)
			if err != nil {
				c.addError("ERR invalid uuid")
				return
			}
			r.peerID = id
			s.act.topologyChanged()
			if r.capaActive && s.act.on {
				// An active link: answer with our UUID (the replica
				// refuses a link to itself).
				c.repl = r
				c.addSimple("ACTIVE " + s.nodeID.String() + " " + strconv.FormatInt(time.Now().UnixMilli(), 10))
				return
			}
		case "fetch":
			// An active replica lacks the base of one of our effects: it
			// is sent the key's whole state in the stream. No reply.
			if c.flags&flagReplica == 0 || c.repl == nil || !c.repl.active {
				return
			}
			if i := bytes.IndexByte(val, ':'); i > 0 {
				if db, ok := parseInt(val[:i]); ok {
					s.fetchReply(int(db), val[i+1:])
				}
			}
			return
		case "rdb-only", "rdb-filter-only":
			// Accepted for redis-cli --rdb; the full dataset is sent.
		default:
			c.addError("ERR Unrecognized REPLCONF option: " + string(c.argv[j]))
			return
		}
	}
	c.repl = r
	c.addOK()
}

// ---- SYNC / PSYNC ----

func syncCmd(c *Client) {
	s := c.s
	if c.flags&flagReplica != 0 {
		return // already a replica: ignored, as Redis does
	}
	if s.isReplica() && s.repl.state != linkConnected && !s.cfg.ActiveReplica {
		c.addError("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	r := c.repl
	if r == nil {
		r = &replica{c: c}
		c.repl = r
	}
	r.wake = make(chan struct{}, 1)
	r.quit = make(chan struct{})
	// Replies still owed from the same pipeline go out before ours.
	c.mu.Lock()
	r.header = append(r.header[:0], c.out...)
	c.out = c.out[:0]
	c.mu.Unlock()

	psync := strings.EqualFold(string(c.argv[0]), "psync")
	s.log.Printf("Replica %s asks for synchronization", r.name())
	if psync && r.capaActive && s.act.on && r.peerID != uuid.Nil {
		s.activeSync(r) // active.go: our own active stream
		return
	}
	if psync {
		replid := string(c.argv[1])
		off, ok := parseInt(c.argv[2])
		if ok && s.tryPartialResync(r, replid, off) {
			s.repl.syncPartialOK++
			s.attachReplica(r)
			return
		}
		if replid != "?" {
			s.repl.syncPartialErr++
		} else {
			s.log.Printf("Full resync requested by replica %s", r.name())
		}
	} else {
		r.oldSync = true
	}
	s.repl.syncFull++
	r.full = true
	r.state = replicaWaitBgsave
	if s.repl.bl == nil && (!s.isReplica() || s.cfg.ActiveReplica) {
		// A backlog from scratch starts a new history: nobody can hold a
		// valid part of it yet.
		s.setReplID(newReplID())
		s.clearReplID2()
		s.createBacklog()
		s.log.Printf("Replication backlog created, my new replication IDs are '%s' and '%s'", s.replID(), s.replID2())
	}
	s.attachReplica(r)
}

func (s *Server) attachReplica(r *replica) {
	c := r.c
	c.flags |= flagReplica
	s.repl.replicas = append(s.repl.replicas, r)
	s.act.topologyChanged()
	s.repl.noReplicasSince = time.Time{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.replicaRun(r)
	}()
}

// tryPartialResync continues r from offset when our history holds it.
func (s *Server) tryPartialResync(r *replica, replid string, offset int64) bool {
	if !strings.EqualFold(replid, s.replID()) {
		if !strings.EqualFold(replid, s.repl.replid2) || s.repl.replid2 == "" || offset > s.repl.second {
			if replid != "?" {
				if !strings.EqualFold(replid, s.repl.replid2) {
					s.log.Printf("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '%s', my replication IDs are '%s' and '%s')", replid, s.replID(), s.replID2())
				} else {
					s.log.Printf("Partial resynchronization not accepted: Requested offset for second ID was %d, but I can reply up to %d", offset, s.repl.second)
				}
			}
			return false
		}
	}
	bl := s.repl.bl
	if bl == nil || !bl.covers(offset) {
		s.log.Printf("Unable to partial resync with replica %s for lack of backlog (Replica request was: %d).", r.name(), offset)
		return false
	}
	if r.capaPsync2 {
		r.header = append(r.header, "+CONTINUE "+s.replID()+"\r\n"...)
	} else {
		r.header = append(r.header, "+CONTINUE\r\n"...)
	}
	data := bl.from(offset)
	r.out.write(data)
	r.wake <- struct{}{} // the writer sends it right after +CONTINUE
	r.state = replicaOnline
	r.ackTime = time.Now()
	r.ackOff = offset - 1
	s.log.Printf("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", r.name(), len(data), offset)
	return true
}

// replicaRun is r's writer goroutine: the snapshot (full sync) or the
// +CONTINUE line, then the stream until the replica goes away.
func (s *Server) replicaRun(r *replica) {
	conn := r.c.conn
	if r.full {
		if err := s.sendSnapshot(r); err != nil {
			s.mu.Lock()
			if !r.dead {
				s.log.Printf("SYNC failed for replica %s: %v", r.name(), err)
				s.dropReplica(r, "a failed synchronization")
			}
			s.mu.Unlock()
			return
		}
	} else if len(r.header) > 0 {
		if _, err := conn.Write(r.header); err != nil {
			s.replicaWriteFailed(r, err)
			return
		}
	}
	// The writer takes the queued blocks and sends them while the master
	// queues more; it hands them back for reuse the next time. Taking s.mu
	// also waits for the command batch in progress, so a pipelined batch
	// goes out in one write.
	var mine [][]byte
	raw := newRawConnIO(conn)
	for {
		select {
		case <-r.wake:
		case <-r.quit:
			return
		case <-s.stopCh:
			return
		}
		s.mu.Lock()
		if r.waitAck {
			s.mu.Unlock()
			continue
		}
		r.out.recycle(mine)
		mine = r.out.take(mine)
		s.mu.Unlock()
		if len(mine) == 0 {
			continue
		}
		if err := raw.WriteAll(mine); err != nil {
			s.replicaWriteFailed(r, err)
			return
		}
	}
}

func (s *Server) replicaWriteFailed(r *replica, err error) {
	s.mu.Lock()
	if !r.dead {
		s.log.Printf("Write error sending data to replica %s: %v", r.name(), err)
		s.dropReplica(r, "a write error")
	}
	s.mu.Unlock()
}

// sendSnapshot runs a full sync: it waits repl-diskless-sync-delay for a
// diskless replica (writing keepalive newlines), takes the snapshot point
// under the lock (from then on the stream is buffered for r), then sends
// +FULLRESYNC and the payload.
func (s *Server) sendSnapshot(r *replica) error {
	conn := r.c.conn
	s.mu.Lock()
	eof := r.capaEOF && !r.oldSync && s.cfg.ReplDisklessSync
	delay := time.Duration(s.cfg.ReplDisklessSyncDelay) * time.Second
	if r.active {
		delay = 0 // an active peer syncs alone: no one to wait for
	}
	s.mu.Unlock()
	if eof && delay > 0 {
		deadline := time.Now().Add(delay)
		tick := time.NewTicker(time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-r.quit:
				tick.Stop()
				return io.ErrClosedPipe
			case <-s.stopCh:
				tick.Stop()
				return io.ErrClosedPipe
			case <-tick.C:
				if _, err := conn.Write([]byte{'\n'}); err != nil {
					tick.Stop()
					return err
				}
			case <-time.After(time.Until(deadline)):
			}
		}
		tick.Stop()
	}

	// Take the snapshot point; while a background save holds the slot,
	// wait for it, sending keepalives.
	var snap func(io.Writer) error
	lastNL := time.Now()
	waited := false
	for {
		s.mu.Lock()
		if r.dead {
			s.mu.Unlock()
			return io.ErrClosedPipe
		}
		var ok bool
		if snap, ok = s.replSnapshot(); ok {
			break
		}
		if !waited {
			waited = true
			s.log.Printf("Waiting for the running background save to end before SYNC with replica %s", r.name())
		}
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		if time.Since(lastNL) >= time.Second {
			lastNL = time.Now()
			if _, err := conn.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
	}
	s.tick()
	id, off := s.replID(), s.repl.offset
	if r.active {
		id, off = s.act.replid, s.act.offset
	} else {
		s.repl.lastDB = -1 // the new replica's stream starts with a SELECT
	}
	r.state = replicaWaitBgsaveEnd
	head := r.header
	r.header = nil
	if !r.oldSync {
		head = append(head, "+FULLRESYNC "+id+" "+strconv.FormatInt(off, 10)+"\r\n"...)
	}
	target := "disk"
	if eof {
		target = "replicas sockets"
	}
	s.log.Printf("Starting BGSAVE for SYNC with target: %s (replica %s, offset %d)", target, r.name(), off)
	s.mu.Unlock()

	if _, err := conn.Write(head); err != nil {
		return err
	}
	if eof {
		mark := []byte(newReplID())
		bw := bufio.NewWriterSize(conn, 64<<10)
		bw.WriteString("$EOF:")
		bw.Write(mark)
		bw.WriteString("\r\n")
		if err := snap(bw); err != nil {
			return err
		}
		bw.Write(mark)
		if err := bw.Flush(); err != nil {
			return err
		}
		s.mu.Lock()
		r.state = replicaOnline
		r.waitAck = true
		r.acked = false
		r.ackTime = time.Now()
		s.mu.Unlock()
		s.log.Printf("Streamed RDB transfer with replica %s succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming", r.name())
		return nil
	}

	// Disk-style payload: the length comes first, so build it, sending
	// keepalives while that takes time.
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var buf bytes.Buffer
		err := snap(&buf)
		done <- result{buf.Bytes(), err}
	}()
	tick := time.NewTicker(time.Second)
	var res result
wait:
	for {
		select {
		case res = <-done:
			break wait
		case <-tick.C:
			if _, err := conn.Write([]byte{'\n'}); err != nil {
				tick.Stop()
				<-done
				return err
			}
		}
	}
	tick.Stop()
	if res.err != nil {
		return res.err
	}
	s.mu.Lock()
	r.state = replicaSendBulk
	s.mu.Unlock()
	hdr := append([]byte{'$'}, strconv.Itoa(len(res.data))...)
	hdr = append(hdr, '\r', '\n')
	if _, err := (&net.Buffers{hdr, res.data}).WriteTo(conn); err != nil {
		return err
	}
	s.mu.Lock()
	r.state = replicaOnline
	r.acked = false
	r.ackTime = time.Now()
	s.mu.Unlock()
	s.log.Printf("Synchronization with replica %s succeeded", r.name())
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// replSnapshot starts a point-in-time image of the dataset for a full sync
// (s.mu held) and returns the function that writes it, off the lock, as an
// RDB stream. It is persistence's copy-on-write walk (persist.go) with a
// socket instead of a file as the target, and it occupies the same slot: it
// returns ok=false while a BGSAVE runs (the caller waits, as Redis waits
// for its child), and a BGSAVE asked meanwhile is refused as "already in
// progress". FLUSHALL or SHUTDOWN abandon it (the replica retries).
func (s *Server) replSnapshot() (write func(w io.Writer) error, ok bool) {
	if s.persist.bg != nil {
		return nil, false
	}
	o := s.saveOptions("")
	streamDB := 0
	if mc := s.repl.master; mc != nil && s.isReplica() {
		// A replica of a replica starts its master client in the db
		// our proxied stream is in.
		streamDB = mc.dbIndex
	}
	for i := range o.aux {
		switch o.aux[i][0] {
		case rdb.AuxReplID:
			o.aux[i][1] = s.replID()
		case rdb.AuxReplOffset:
			o.aux[i][1] = strconv.FormatInt(s.repl.offset, 10)
		}
	}
	o.aux = append(o.aux, [2]string{"repl-stream-db", strconv.Itoa(streamDB)})
	bg := s.beginWalk(time.Now(), o)
	return func(w io.Writer) error { return s.runReplSnapshot(bg, w) }, true
}

// runReplSnapshot is runBgsave's walk writing to w.
func (s *Server) runReplSnapshot(bg *bgSave, out io.Writer) error {
	defer close(bg.done)
	w := rdb.NewWriter(out, bg.opts.checksum)
	err := func() error {
		if err := s.walkSnapshot(bg, w); err != nil {
			return err
		}
		return w.Finish()
	}()
	s.mu.Lock()
	s.endWalk(bg)
	s.log.Printf("Replication snapshot: %d bytes, %d bytes kept for changed keys, longest hold of the lock %v",
		w.Len(), bg.cowPeak, bg.maxHold.Round(time.Microsecond))
	s.mu.Unlock()
	return err
}
