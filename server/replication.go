package server

import (
	crand "crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fluidb/fluidb/server/config"
)

// Replication, Redis's protocol in both directions. This file holds the
// state both sides share (the dataset's identity: replid, replid2 and the
// stream offset; the backlog), the commands REPLICAOF/SLAVEOF, ROLE and
// WAIT, the periodic work, and the INFO fields. The master side (SYNC,
// PSYNC, REPLCONF, feeding replicas) is repl_master.go; the replica side
// (the link to our master) is repl_replica.go. docs/replication.md tells
// the story.
//
// Whether this node is a replica is s.cfg.ReplicaOf (the replicaof
// directive, changed by REPLICAOF), so the read-only and stale-data gates
// hold from the first command after boot; the link itself is started by
// the cron.

type linkState int

const (
	linkNone       linkState = iota
	linkConnect              // waiting to (re)connect
	linkConnecting           // TCP connect in progress
	linkHandshake            // PING, AUTH, REPLCONF, PSYNC
	linkSync                 // receiving the snapshot
	linkConnected            // applying the stream
)

type replState struct {
	// The dataset's history: replid is s.intro.replid (info.go, so DEBUG
	// CHANGE-REPL-ID keeps working); replid2 is the previous history's id,
	// valid up to second-1 (second == 0: none).
	replid2 string
	second  int64
	offset  int64 // master_repl_offset: last byte of the stream
	bl      *backlog
	sinkOn  bool
	sink    *replSink
	lastDB  int // db the stream has SELECTed; -1 forces a SELECT

	// Master side.
	replicas        []*replica
	waiters         []*waitReq
	noReplicasSince time.Time
	lastPing        time.Time
	lastActivePing  time.Time
	lastCron        time.Time
	syncFull        int64
	adopted         string // loaded snapshot's replid already taken over
	syncPartialOK   int64
	syncPartialErr  int64

	// Replica side (repl_replica.go).
	link       *replLink
	state      linkState
	master     *Client // the connection from our master while connected
	streamDB   int     // db the master's stream is in, kept across a dropped link
	downSince  time.Time
	downReason string
	readOffset int64 // slave_read_repl_offset
	syncTotal  int64
	syncRead   atomic.Int64
	syncLastIO atomic.Int64 // unix ms
	lastIO     atomic.Int64 // unix ms of the last byte from the master
}

func newReplID() string {
	var b [20]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const noReplID = "0000000000000000000000000000000000000000"

// isReplica says whether this node follows a master (REPLICAOF host port).
func (s *Server) isReplica() bool { return s.cfg.ReplicaOf != nil }

// replReadOnly is the gate's read-only check: a plain replica refuses
// writes from its clients.
func (s *Server) replReadOnly() bool { return s.isReplica() && s.cfg.ReplicaReadOnly }

// replMasterDown is the gate's stale check: a replica whose link is not up
// refuses most commands when replica-serve-stale-data is no.
func (s *Server) replMasterDown() bool {
	if !s.isReplica() || s.repl.state == linkConnected || s.cfg.ReplicaServeStaleData {
		return false
	}
	if s.cfg.ActiveReplica {
		// An active replica is a writable node of its own: it refuses
		// only once its link has been down longer than repl-timeout.
		return !s.repl.downSince.IsZero() && time.Since(s.repl.downSince) > time.Duration(s.cfg.ReplTimeout)*time.Second
	}
	return true
}

// replPlainReplica says whether keys must not expire here on their own (a
// replica waits for its master's DEL). Active replicas expire their own.
func (s *Server) replPlainReplica() bool { return s.isReplica() && !s.cfg.ActiveReplica }

func (s *Server) replID2() string {
	if s.repl.replid2 == "" {
		return noReplID
	}
	return s.repl.replid2
}

func (s *Server) secondReplOffset() int64 {
	if s.repl.second == 0 {
		return -1
	}
	return s.repl.second
}

// setReplID starts a new history name (and forgets the old one unless
// shiftReplID kept it as replid2 first).
func (s *Server) setReplID(id string) { s.intro.replid = id }

// shiftReplID is what a replica does when it becomes a master: its
// master's history stays valid as replid2 up to here, so its own replicas
// and the old master's other replicas can continue from it.
func (s *Server) shiftReplID() {
	s.repl.replid2 = s.replID()
	s.repl.second = s.repl.offset + 1
	s.setReplID(newReplID())
	s.log.Printf("Setting secondary replication ID to %s, valid up to offset: %d. New replication ID is %s",
		s.repl.replid2, s.repl.second, s.replID())
}

func (s *Server) clearReplID2() {
	s.repl.replid2 = ""
	s.repl.second = 0
}

// createBacklog starts keeping stream history; from then on the offset
// advances with every write.
func (s *Server) createBacklog() {
	if s.repl.bl != nil {
		return
	}
	s.repl.bl = newBacklog(s.cfg.ReplBacklogSize, s.repl.offset)
	s.persist.replInfo = s.replInfoForSave
	s.updateSink()
}

func (s *Server) freeBacklog() {
	s.repl.bl = nil
	s.updateSink()
}

// updateSink attaches the replication stream to the effects pipeline when
// this node is a master with a backlog, and detaches it otherwise (a
// replica forwards its master's bytes instead, and a master without a
// backlog pays nothing).
func (s *Server) updateSink() {
	// An active replica's stream is its own: local and applied writes
	// alike (it does not proxy its master's bytes).
	want := s.repl.bl != nil && (!s.isReplica() || s.cfg.ActiveReplica)
	if want == s.repl.sinkOn {
		return
	}
	if s.repl.sink == nil {
		s.repl.sink = &replSink{s: s}
	}
	if want {
		s.repl.lastDB = -1
		s.addSink(s.repl.sink)
	} else {
		s.removeSink(s.repl.sink)
	}
	s.repl.sinkOn = want
}

// feedStream appends bytes to the replication stream: the backlog, the
// offset, and every replica past the snapshot point.
func (s *Server) feedStream(p []byte) {
	if s.repl.bl == nil || len(p) == 0 {
		return
	}
	s.repl.bl.write(p)
	s.repl.offset += int64(len(p))
	for _, r := range s.repl.replicas {
		if r.state >= replicaWaitBgsaveEnd && !r.dead && !r.active {
			s.replicaAppend(r, p)
		}
	}
}

// replicationCron runs from the server cron with s.mu held.
func (s *Server) replicationCron() {
	now := s.lastTick
	if s.persist.replInfo == nil {
		s.persist.replInfo = s.replInfoForSave
	}
	if !s.loading && s.persist.loadedReplID != "" && s.persist.loadedReplID != s.repl.adopted {
		// A snapshot loaded at boot names the history its data is at.
		s.repl.adopted = s.persist.loadedReplID
		if s.repl.master == nil && len(s.repl.replicas) == 0 && s.repl.state != linkConnected &&
			(s.persist.loadedReplOffset > 0 || s.isReplica()) {
			s.replicationRestore(s.persist.loadedReplID, s.persist.loadedReplOffset, 0)
			s.log.Printf("Replication history restored from the snapshot: %s:%d", s.replID(), s.repl.offset)
		}
	}
	s.sweepReplicas()
	s.activeCron(now)
	if now.Sub(s.repl.lastCron) < time.Second {
		return
	}
	s.repl.lastCron = now
	s.replicaLinkCron(now)
	s.replicasCron(now)
	if s.repl.bl != nil && s.repl.bl.size() != max(s.cfg.ReplBacklogSize, 16<<10) {
		s.repl.bl.resize(s.cfg.ReplBacklogSize)
	}
}

// ---- REPLICAOF / SLAVEOF ----

func registerReplicationCommands(t table) {
	ro := FlagAdmin | FlagNoScript | FlagStale
	t.add(
		&Command{Name: "replicaof", Proc: replicaofCmd, Arity: 3, Flags: ro, Group: "server"},
		&Command{Name: "slaveof", Proc: replicaofCmd, Arity: 3, Flags: ro, Group: "server"},
		&Command{Name: "role", Proc: replRoleCmd, Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: "server"},
		&Command{Name: "wait", Proc: waitCmd, Arity: 3, Flags: FlagNoScript, Group: "generic"},
		&Command{Name: "sync", Proc: syncCmd, Arity: 1, Flags: FlagAdmin | FlagNoMulti | FlagNoScript, Group: "server"},
		&Command{Name: "psync", Proc: syncCmd, Arity: -3, Flags: FlagAdmin | FlagNoMulti | FlagNoScript, Group: "server"},
		&Command{Name: "replconf", Proc: replconfCmd, Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagAllowBusy, Group: "server"},
	)
}

func replicaofCmd(c *Client) {
	s := c.s
	if strings.EqualFold(string(c.argv[1]), "no") && strings.EqualFold(string(c.argv[2]), "one") {
		if s.isReplica() {
			s.replicationUnsetMaster()
			s.log.Printf("MASTER MODE enabled (user request from '%s')", c.infoString(time.Now(), false))
		}
		c.addOK()
		return
	}
	if c.flags&flagReplica != 0 {
		c.addError("ERR Command is not valid when client is a replica.")
		return
	}
	port, ok := parseInt(c.argv[2])
	if !ok || port < 0 || port > 65535 {
		c.addError("ERR Invalid master port")
		return
	}
	host := string(c.argv[1])
	if s.isOwnAddress(host, int(port)) {
		c.addError("ERR REPLICAOF cannot point at this server itself")
		return
	}
	if hp := s.cfg.ReplicaOf; hp != nil && strings.EqualFold(hp.Host, host) && hp.Port == int(port) {
		s.log.Printf("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
		c.addSimple("OK Already connected to specified master")
		return
	}
	s.replicationSetMaster(host, int(port))
	s.log.Printf("REPLICAOF %s:%d enabled (user request from '%s')", host, port, c.infoString(time.Now(), false))
	c.addOK()
}

// replicationSetMaster makes this node a replica of host:port. Its own
// history becomes the "cached master", so the new master can continue it
// partially when it shares it (a demoted master, a sibling replica).
func (s *Server) replicationSetMaster(host string, port int) {
	wasMaster := !s.isReplica()
	s.stopLink("changing master")
	s.cfg.ReplicaOf = &config.HostPort{Host: host, Port: port}
	if s.cfg.ActiveReplica {
		// An active replica keeps its data, its own streams and its
		// replicas: the master's data is merged in (conflict.go).
		s.act.linkActive = false
		s.updateSink()
		s.repl.state = linkConnect
		s.repl.downSince = time.Time{}
		s.repl.downReason = ""
		s.startLink()
		return
	}
	if wasMaster {
		// Our own stream is the history we offer: continuing it, the new
		// master's bytes apply in the db our stream was last in.
		s.repl.streamDB = max(s.repl.lastDB, 0)
	}
	s.updateSink()
	s.failWaiters()
	// Our replicas must follow whatever the new master says.
	s.disconnectReplicas()
	s.repl.state = linkConnect
	s.repl.downSince = time.Time{}
	s.repl.downReason = ""
	s.startLink()
}

// replicationUnsetMaster turns a replica into a master, keeping the
// dataset and the history (replid2) so its replicas continue partially.
func (s *Server) replicationUnsetMaster() {
	if !s.isReplica() {
		return
	}
	s.stopLink("master mode enabled")
	s.cfg.ReplicaOf = nil
	if s.cfg.ActiveReplica {
		s.act.linkActive = false
		s.repl.state = linkNone
		s.repl.downReason = ""
		s.updateSink()
		return
	}
	s.shiftReplID()
	s.repl.state = linkNone
	s.repl.downReason = ""
	// Replicas reconnect and learn the new id with +CONTINUE.
	s.disconnectReplicas()
	if s.repl.bl == nil {
		s.createBacklog()
	}
	s.repl.noReplicasSince = time.Now()
	s.updateSink()
}

// ---- ROLE ----

func replRoleCmd(c *Client) {
	s := c.s
	if !s.isReplica() {
		c.addArrayLen(3)
		c.addBulkString("master")
		c.addInt(s.repl.offset)
		n := 0
		for _, r := range s.repl.replicas {
			if r.state == replicaOnline && !r.dead {
				n++
			}
		}
		c.addArrayLen(n)
		for _, r := range s.repl.replicas {
			if r.state != replicaOnline || r.dead {
				continue
			}
			c.addArrayLen(3)
			c.addBulkString(r.ip())
			c.addBulkString(strconv.Itoa(r.listeningPort))
			c.addBulkString(strconv.FormatInt(r.ackOff, 10))
		}
		return
	}
	hp := s.cfg.ReplicaOf
	c.addArrayLen(5)
	if s.cfg.ActiveReplica {
		c.addBulkString("active-replica")
	} else {
		c.addBulkString("slave")
	}
	c.addBulkString(hp.Host)
	c.addInt(int64(hp.Port))
	c.addBulkString(s.repl.state.roleName())
	if s.act.linkActive && s.repl.master != nil {
		c.addInt(s.act.masterOff)
	} else if s.repl.master != nil {
		c.addInt(s.repl.offset)
	} else {
		c.addInt(-1)
	}
}

func (st linkState) roleName() string {
	switch st {
	case linkConnect:
		return "connect"
	case linkConnecting:
		return "connecting"
	case linkHandshake:
		return "handshake"
	case linkSync:
		return "sync"
	case linkConnected:
		return "connected"
	}
	return "none"
}

// ---- WAIT ----

type waitReq struct {
	c       *Client
	bs      *blockedState
	offset  int64
	aoffset int64
	n       int64
}

const errWaitReplica = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."

func waitCmd(c *Client) {
	s := c.s
	if s.isReplica() && !s.cfg.ActiveReplica {
		c.addError(errWaitReplica)
		return
	}
	n, ok := parseInt(c.argv[1])
	if !ok {
		c.addError(errNotInt)
		return
	}
	ms, ok := parseInt(c.argv[2])
	if !ok {
		c.addError("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return
	}
	acked := s.countAcks(c.woff, c.woffActive)
	if acked >= n || c.cannotBlock() {
		c.addInt(acked)
		return
	}
	off, aoff := c.woff, c.woffActive
	c.block(nil, time.Duration(ms)*time.Millisecond, func(c *Client) {
		c.addInt(c.s.countAcks(off, aoff))
	})
	if c.blocked == nil {
		return
	}
	s.repl.waiters = append(s.repl.waiters, &waitReq{c: c, bs: c.blocked, offset: off, aoffset: aoff, n: n})
	// Ask for ACKs now rather than waiting for the replicas' next second.
	s.requestAcks()
}

// countAcks is the number of replicas that acknowledged offset (plain
// replicas) or aoffset (active peers, in our active stream).
func (s *Server) countAcks(offset, aoffset int64) int64 {
	var n int64
	for _, r := range s.repl.replicas {
		want := offset
		if r.active {
			want = aoffset
		}
		if r.state == replicaOnline && !r.dead && r.ackOff >= want {
			n++
		}
	}
	return n
}

// serveWaiters answers the WAITs that enough replicas have acknowledged.
func (s *Server) serveWaiters() {
	if len(s.repl.waiters) == 0 {
		return
	}
	kept := s.repl.waiters[:0]
	for _, w := range s.repl.waiters {
		if w.c.blocked != w.bs {
			continue // timed out or gone
		}
		if acked := s.countAcks(w.offset, w.aoffset); acked >= w.n {
			w.c.mu.Lock()
			w.c.addInt(acked)
			w.c.mu.Unlock()
			s.unblock(w.c, false)
			continue
		}
		kept = append(kept, w)
	}
	for i := len(kept); i < len(s.repl.waiters); i++ {
		s.repl.waiters[i] = nil
	}
	s.repl.waiters = kept
}

// failWaiters answers every WAIT with what it has now (the node stops
// being a master).
func (s *Server) failWaiters() {
	for _, w := range s.repl.waiters {
		if w.c.blocked == w.bs {
			s.unblock(w.c, true)
		}
	}
	s.repl.waiters = nil
}

// ---- INFO ----

// replicationInfo returns the "# Replication" section's fields in Redis
// 7.0's order.
func (s *Server) replicationInfo() [][2]string {
	var out [][2]string
	add := func(k string, v any) {
		var sv string
		switch x := v.(type) {
		case string:
			sv = x
		case int:
			sv = strconv.Itoa(x)
		case int64:
			sv = strconv.FormatInt(x, 10)
		}
		out = append(out, [2]string{k, sv})
	}
	now := time.Now()
	if !s.isReplica() {
		add("role", "master")
	} else {
		hp := s.cfg.ReplicaOf
		if s.cfg.ActiveReplica {
			// KeyDB's layout: the first master's fields unnumbered, the
			// next ones as master_1_*, ... (one master link today).
			add("role", "active-replica")
			if s.repl.state == linkConnected {
				add("master_global_link_status", "up")
			} else {
				add("master_global_link_status", "down")
			}
			add("connected_masters", boolInt(s.repl.state == linkConnected))
		} else {
			add("role", "slave")
		}
		add("master_host", hp.Host)
		add("master_port", hp.Port)
		if s.repl.state == linkConnected {
			add("master_link_status", "up")
		} else {
			add("master_link_status", "down")
		}
		if s.repl.master != nil {
			add("master_last_io_seconds_ago", int64(now.Sub(time.UnixMilli(s.repl.lastIO.Load())).Seconds()))
		} else {
			add("master_last_io_seconds_ago", -1)
		}
		add("master_sync_in_progress", boolInt(s.repl.state == linkSync))
		applied, read := int64(-1), int64(-1)
		if s.act.linkActive {
			applied, read = s.act.masterOff, max(s.repl.readOffset, s.act.masterOff)
		} else if s.repl.master != nil || s.repl.bl != nil {
			applied, read = s.repl.offset, max(s.repl.readOffset, s.repl.offset)
		}
		add("slave_read_repl_offset", read)
		add("slave_repl_offset", applied)
		if s.repl.state == linkSync {
			total, got := s.repl.syncTotal, s.repl.syncRead.Load()
			perc := 0.0
			if total > 0 {
				perc = float64(got) / float64(total) * 100
			}
			add("master_sync_total_bytes", total)
			add("master_sync_read_bytes", got)
			add("master_sync_left_bytes", total-got)
			add("master_sync_perc", strconv.FormatFloat(perc, 'f', 2, 64))
			add("master_sync_last_io_seconds_ago", int64(now.Sub(time.UnixMilli(s.repl.syncLastIO.Load())).Seconds()))
		}
		if s.repl.state != linkConnected {
			if s.repl.downSince.IsZero() {
				add("master_link_down_since_seconds", -1)
			} else {
				add("master_link_down_since_seconds", int64(now.Sub(s.repl.downSince).Seconds()))
			}
		}
		add("slave_priority", s.cfg.ReplicaPriority)
		add("slave_read_only", boolInt(s.cfg.ReplicaReadOnly))
		add("replica_announced", 1)
	}
	live := make([]*replica, 0, len(s.repl.replicas))
	for _, r := range s.repl.replicas {
		if !r.dead {
			live = append(live, r)
		}
	}
	add("connected_slaves", len(live))
	if s.cfg.MinReplicasToWrite > 0 && s.cfg.MinReplicasMaxLag > 0 {
		good := 0
		for _, r := range live {
			if r.state == replicaOnline && now.Sub(r.ackTime) <= time.Duration(s.cfg.MinReplicasMaxLag)*time.Second {
				good++
			}
		}
		add("min_slaves_good_slaves", good)
	}
	for i, r := range live {
		lag := int64(0)
		if r.state == replicaOnline {
			lag = int64(now.Sub(r.ackTime).Seconds())
		}
		add("slave"+strconv.Itoa(i), "ip="+r.ip()+",port="+strconv.Itoa(r.listeningPort)+",state="+r.state.String()+
			",offset="+strconv.FormatInt(r.ackOff, 10)+",lag="+strconv.FormatInt(lag, 10))
	}
	add("master_failover_state", "no-failover")
	add("master_replid", s.replID())
	add("master_replid2", s.replID2())
	add("master_repl_offset", s.repl.offset)
	add("second_repl_offset", s.secondReplOffset())
	if bl := s.repl.bl; bl != nil {
		add("repl_backlog_active", 1)
		add("repl_backlog_size", bl.size())
		add("repl_backlog_first_byte_offset", bl.firstOffset())
		add("repl_backlog_histlen", bl.histlen)
	} else {
		add("repl_backlog_active", 0)
		add("repl_backlog_size", s.cfg.ReplBacklogSize)
		add("repl_backlog_first_byte_offset", 0)
		add("repl_backlog_histlen", 0)
	}
	return out
}

// replicationStats returns # Stats' sync_full, sync_partial_ok and
// sync_partial_err.
func (s *Server) replicationStats() (full, partialOK, partialErr int64) {
	return s.repl.syncFull, s.repl.syncPartialOK, s.repl.syncPartialErr
}

// replicationFluidbInfo returns fluidb's own replication fields for the
// "# Fluidb" section: why the link to the master is down, if it is.
func (s *Server) replicationFluidbInfo() [][2]string {
	if !s.isReplica() {
		return nil
	}
	reason := ""
	if s.repl.state != linkConnected {
		reason = s.repl.downReason
	}
	return [][2]string{{"master_link_down_reason", reason}}
}

// isOwnAddress reports whether host:port is this server's own listening
// address (a loopback, wildcard or local interface address on our port).
func (s *Server) isOwnAddress(host string, port int) bool {
	if port != s.cfg.Port || port == 0 {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// helloRole is the role HELLO reports.
func (s *Server) helloRole() string {
	if s.isReplica() {
		return "replica"
	}
	return "master"
}

func hostPortString(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
