package server

// Propagation: every command that changes data emits its *effects* (what
// to replay elsewhere to reach the same state), which feed the append-only
// file and the replication stream. By default a command that changed
// something propagates its own arguments; a handler whose request is not
// deterministic or not idempotent on replay says what to send instead with
// rewriteArgv (SET ... EX 10 becomes SET ... PXAT <abs>, SPOP becomes SREM,
// INCRBYFLOAT becomes SET ... KEEPTTL, BLPOP becomes LPOP ...) or adds
// effects with alsoPropagate. Effects of one command (or one EXEC) that are
// more than one are wrapped in MULTI/EXEC so they apply atomically.
//
// Nothing is collected while no sink is attached, so a standalone server
// pays only a length check per command.

// effect is one command to replay, in database db.
type effect struct {
	db   int
	argv [][]byte
}

// effectSink receives the effects of each top-level command, in order, as
// one group (already wrapped in MULTI/EXEC when needed).
type effectSink interface {
	feedEffects(group []effect)
}

type propagation struct {
	sinks   []effectSink
	depth   int // nesting of call(): only the outermost one flushes
	pending []effect
	// override, when set by the running command, replaces its default
	// effect (its own argv).
	override    [][]byte
	overrideSet bool
	suppress    bool // the running command asked not to propagate itself
	// caller is the client whose command is being flushed (WAIT's offset).
	caller *Client
}

func (p *propagation) active() bool { return len(p.sinks) > 0 }

func cloneArgv(argv [][]byte) [][]byte {
	out := make([][]byte, len(argv))
	for i, a := range argv {
		out[i] = copyBytes(a)
	}
	return out
}

func argvOf(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

// rewriteArgv sets what the running command propagates instead of its own
// arguments. The slices are copied.
func (c *Client) rewriteArgv(argv ...[]byte) {
	p := &c.s.prop
	if !p.active() {
		return
	}
	p.override = cloneArgv(argv)
	p.overrideSet = true
}

// rewriteArgvStrings is rewriteArgv for string arguments.
func (c *Client) rewriteArgvStrings(argv ...string) {
	if !c.s.prop.active() {
		return
	}
	c.s.prop.override = argvOf(argv...)
	c.s.prop.overrideSet = true
}

// forcePropagation propagates the running command as is even if it changed
// nothing (FLUSHALL on an empty server is still replicated, as in Redis).
func (c *Client) forcePropagation() {
	if !c.s.prop.active() {
		return
	}
	c.s.alsoPropagate(c.dbIndex, c.argv...)
	c.preventPropagation()
}

// preventPropagation stops the running command's default effect (used by
// commands that propagate only what alsoPropagate adds).
func (c *Client) preventPropagation() { c.s.prop.suppress = true }

// plainPropagate is alsoPropagate for what only the plain stream and the
// AOF need (active replication sends records instead): skipped when no
// such sink is attached.
func (s *Server) plainPropagate(db int, argv ...[]byte) {
	for _, k := range s.prop.sinks {
		if k != effectSink(s.act.sink) {
			s.alsoPropagate(db, argv...)
			return
		}
	}
}

// alsoPropagate adds an effect in db, before the command's own.
func (s *Server) alsoPropagate(db int, argv ...[]byte) {
	if !s.prop.active() {
		return
	}
	s.prop.pending = append(s.prop.pending, effect{db: db, argv: cloneArgv(argv)})
	if s.prop.depth == 0 {
		// Outside any command (active expiry in the cron): send now.
		s.flushEffects()
	}
}

// beginCall and endCall bracket a command's execution in call().
func (s *Server) beginCall() (savedOverride [][]byte, savedSet, savedSuppress bool) {
	p := &s.prop
	p.depth++
	savedOverride, savedSet, savedSuppress = p.override, p.overrideSet, p.suppress
	p.override, p.overrideSet, p.suppress = nil, false, false
	return
}

func (s *Server) endCall(c *Client, changed bool, savedOverride [][]byte, savedSet, savedSuppress bool) {
	p := &s.prop
	if changed && !p.suppress && c.cmd != nil && c.cmd.Name != "exec" {
		argv := p.override
		if !p.overrideSet {
			// No copy: the group is flushed (and every sink encodes it)
			// when the outermost call returns, before the connection's
			// buffers are reused; EXEC's queued argv are copies already.
			argv = c.argv
		}
		if argv != nil {
			p.pending = append(p.pending, effect{db: c.dbIndex, argv: argv})
		}
	}
	p.override, p.overrideSet, p.suppress = savedOverride, savedSet, savedSuppress
	p.depth--
	if p.depth == 0 && (len(p.pending) > 0 || s.act.hasWork()) {
		p.caller = c
		s.flushEffects()
		p.caller = nil
	}
}

func (s *Server) flushEffects() {
	p := &s.prop
	group := p.pending
	own := group
	p.pending = nil
	if len(group) > 1 {
		wrapped := make([]effect, 0, len(group)+2)
		wrapped = append(wrapped, effect{db: group[0].db, argv: argvOf("MULTI")})
		wrapped = append(wrapped, group...)
		wrapped = append(wrapped, effect{db: group[len(group)-1].db, argv: argvOf("EXEC")})
		group = wrapped
	}
	for _, sink := range p.sinks {
		sink.feedEffects(group)
	}
	// No sink keeps the group: the next command reuses its slice (one
	// allocation per write otherwise), unless a sink queued more meanwhile.
	if p.pending == nil && cap(own) <= 64 {
		clear(own)
		p.pending = own[:0]
	}
}

// addSink attaches a consumer of effects (AOF, replication).
func (s *Server) addSink(k effectSink) { s.prop.sinks = append(s.prop.sinks, k) }

// removeSink detaches a consumer.
func (s *Server) removeSink(k effectSink) {
	for i, o := range s.prop.sinks {
		if o == k {
			s.prop.sinks = append(s.prop.sinks[:i], s.prop.sinks[i+1:]...)
			return
		}
	}
}

// appendRESP encodes argv as a RESP array (the wire form of an effect).
func appendRESP(b []byte, argv [][]byte) []byte {
	b = appendHeader(b, '*', len(argv))
	for _, a := range argv {
		b = appendHeader(b, '$', len(a))
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = appendUint(b, uint64(n))
	return append(b, '\r', '\n')
}

func appendUint(b []byte, n uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
