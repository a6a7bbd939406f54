package server

import (
	"strings"
	"time"
)

// CmdFlag describes how the gate treats a command. The names follow
// Redis's command flags, which COMMAND INFO reports.
type CmdFlag uint32

const (
	FlagWrite CmdFlag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading // allowed while loading
	FlagStale   // allowed on a replica with a stale link
	FlagNoAuth  // allowed before AUTH
	FlagFast
	FlagNoMulti // refused inside MULTI
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAllowBusy
	FlagMayReplicate
	FlagNoMandatoryKeys
)

var flagNames = []struct {
	f    CmdFlag
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagAdmin, "admin"}, {FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"},
	{FlagBlocking, "blocking"}, {FlagLoading, "loading"}, {FlagStale, "stale"},
	{FlagNoAuth, "no_auth"}, {FlagFast, "fast"}, {FlagNoMulti, "no_multi"},
	{FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagAllowBusy, "allow_busy"}, {FlagMayReplicate, "may_replicate"},
	{FlagNoMandatoryKeys, "no_mandatory_keys"},
}

// Names lists the flag names set in f, in Redis's order.
func (f CmdFlag) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Command is one row of the command table: the data the gate needs to
// dispatch, check and account for a command, as in Redis's redisCommand.
type Command struct {
	Name  string // lower case; "config|get" for subcommands
	Proc  func(c *Client)
	Arity int // >0 exact argument count (name included), <0 at least -Arity
	Flags CmdFlag
	// Key positions: first, last (negative counts from the end), step; 0
	// when the command takes no keys. KeysFn overrides them for commands
	// whose keys depend on other arguments (ZUNIONSTORE, EVAL, LMPOP ...).
	FirstKey, LastKey, Step int
	KeysFn                  func(args [][]byte) []int
	Group                   string // Redis's group name ("string", "list", ...)
	Summary                 string
	Since                   string
	Sub                     map[string]*Command
	parent                  *Command

	// statistics for INFO commandstats
	calls, usec, rejected, failed int64
}

// FullName is the name Redis reports, "config|get" for a subcommand.
func (cmd *Command) FullName() string { return cmd.Name }

// table is the command table, keyed by lower-case name.
type table map[string]*Command

// add registers commands; each cmd_*.go file calls it from its own
// register function, so the table reads as data next to the handlers.
func (t table) add(cmds ...*Command) {
	for _, c := range cmds {
		if c.Group == "" {
			c.Group = "generic"
		}
		for name, sub := range c.Sub {
			sub.parent = c
			if !strings.Contains(sub.Name, "|") {
				sub.Name = c.Name + "|" + name
			}
			if sub.Group == "" {
				sub.Group = c.Group
			}
		}
		t[c.Name] = c
	}
}

// keyIndexes returns the argument positions of a command's keys.
func (cmd *Command) keyIndexes(args [][]byte) []int {
	if cmd.KeysFn != nil {
		return cmd.KeysFn(args)
	}
	if cmd.FirstKey == 0 {
		return nil
	}
	last := cmd.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := cmd.Step
	if step <= 0 {
		step = 1
	}
	var out []int
	for i := cmd.FirstKey; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}

func (s *Server) buildTable() {
	s.cmds = table{}
	registerStringCommands(s.cmds)
	registerKeyCommands(s.cmds)
	registerServerCommands(s.cmds)
	registerConnCommands(s.cmds)
	registerMultiCommands(s.cmds)
	registerListCommands(s.cmds)
	registerHashCommands(s.cmds)
	registerSetCommands(s.cmds)
	registerZSetCommands(s.cmds)
	registerPubSubCommands(s.cmds)
	registerPersistCommands(s.cmds)
	registerAOFCommands(s.cmds)
	registerSortCommands(s.cmds)
	registerReplicationCommands(s.cmds) // after server's: its ROLE replaces the stub
	registerActiveCommands(s.cmds)
	s.cmdCount = len(s.cmds)
}

// lookup finds the command named by args[0] without allocating: the name
// is lower-cased into a per-client buffer and the map is indexed with a
// string conversion the compiler does not copy. A pipeline usually repeats
// one command: the last name as sent and its command are kept, and the
// same bytes again skip the map.
func (c *Client) lookup(name []byte) *Command {
	if c.lookCmd != nil && string(name) == string(c.lookName) {
		return c.lookCmd
	}
	cmd := c.lookupName(name)
	if cmd != nil && len(name) <= 32 {
		c.lookName = append(c.lookName[:0], name...)
		c.lookCmd = cmd
	}
	return cmd
}

func (c *Client) lookupName(name []byte) *Command {
	b := c.nameBuf[:0]
	for _, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	c.nameBuf = b
	return c.s.cmds[string(b)]
}

func arityOK(cmd *Command, n int) bool {
	return (cmd.Arity > 0 && n == cmd.Arity) || (cmd.Arity < 0 && n >= -cmd.Arity)
}

// unknownCommandError is Redis 7.0's text, which quotes the first arguments.
func unknownCommandError(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	b.Write(name)
	b.WriteString("', with args beginning with: ")
	for _, a := range args[1:] {
		if b.Len() > 128 {
			break
		}
		b.WriteByte('\'')
		if len(a) > 128-b.Len() && 128-b.Len() > 0 {
			a = a[:128-b.Len()]
		}
		b.Write(a)
		b.WriteString("' ")
	}
	return b.String()
}

func wrongArity(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// process is the gate: every command, from every client, passes here, in
// the order Redis's processCommand checks things. It runs with s.mu held.
func (c *Client) process(args [][]byte) {
	s := c.s
	c.argv = args
	if len(args) == 0 {
		return
	}
	if c.flags&(flagReplyOff|flagReplySkip|flagReplySkipNext) != 0 {
		defer c.endQuiet(c.beginQuiet()) // CLIENT REPLY (cmd_client.go)
	}
	cmd := c.lookup(args[0])
	c.cmd = cmd // rejections are counted against this command, or none
	if cmd == nil {
		c.rejectCommand(unknownCommandError(args))
		return
	}
	if cmd.Sub != nil && len(args) >= 2 {
		sub := cmd.Sub[strings.ToLower(string(args[1]))]
		if sub == nil {
			if !arityOK(cmd, len(args)) {
				c.rejectCommand(wrongArity(cmd.Name))
				return
			}
			if cmd.Proc == nil {
				c.rejectCommand("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try " + strings.ToUpper(cmd.Name) + " HELP.")
				return
			}
		} else {
			cmd = sub
		}
	}
	if !arityOK(cmd, len(args)) {
		c.rejectCommand(wrongArity(cmd.Name))
		return
	}
	if cmd.Proc == nil {
		c.rejectCommand(wrongArity(cmd.Name))
		return
	}
	c.cmd = cmd
	if s.requirePass() && !c.authenticated && cmd.Flags&FlagNoAuth == 0 {
		c.rejectCommand(errNoAuth)
		return
	}
	if c.flags&flagMulti != 0 && cmd.Flags&FlagNoMulti != 0 {
		c.rejectCommand("ERR Command not allowed inside a transaction")
		return
	}
	if c.proto == 2 && c.inPubSub() && !allowedInPubSub(cmd.Name) {
		c.rejectCommand("ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if msg := s.writeGate(c, cmd); msg != "" {
		c.rejectCommand(msg)
		return
	}
	if s.pausedUntil != 0 && c.postponeIfPaused(cmd) {
		return // CLIENT PAUSE (cmd_client.go)
	}
	if c.flags&flagMulti != 0 && !isMultiControl(cmd.Name) {
		c.queueCommand(cmd, args)
		return
	}
	s.call(c, cmd)
	s.afterCommand()
}

// rejectCommand answers an error before the command ran; inside MULTI it
// also dooms the transaction, as Redis does (EXECABORT at EXEC).
func (c *Client) rejectCommand(msg string) {
	if c.flags&flagMulti != 0 {
		c.flags |= flagDirtyExec
	}
	if c.cmd != nil {
		c.cmd.rejected++
	}
	c.s.stats.rejectedCalls++
	if c.cmd != nil && c.cmd.Name == "exec" {
		// A refused EXEC aborts the transaction, in or out of MULTI
		// (Redis's execCommandAbort), quoting why without the ERR code.
		c.addError("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		c.discardTransaction()
		return
	}
	c.addError(msg)
}

// writeGate returns the error that stops cmd before it runs, or "".
func (s *Server) writeGate(c *Client, cmd *Command) string {
	flags := cmd.Flags
	denyStale := flags&FlagStale == 0
	if cmd.Name == "exec" && c.flags&flagMulti != 0 {
		// EXEC is judged by what it will run (Redis's mstate.cmd_flags):
		// a transaction holding a write is a write, one holding a command
		// that may not run on a stale replica may not either. The queued
		// commands are not checked again one by one when EXEC runs them.
		denyStale = false
		for _, q := range c.multi {
			flags |= q.cmd.Flags & (FlagWrite | FlagDenyOOM)
			if q.cmd.Flags&FlagStale == 0 {
				denyStale = true
			}
		}
	}
	isWrite := flags&FlagWrite != 0
	if s.loading && cmd.Flags&FlagLoading == 0 {
		return errLoading
	}
	if isWrite && !c.isMaster() && s.readOnlyReplica() {
		return errReadOnly
	}
	if denyStale && !c.isMaster() && s.masterDown() &&
		!(s.cfg.ActiveReplica && (cmd.Name == "psync" || cmd.Name == "sync" || cmd.Name == "ping")) {
		// An active node keeps accepting its peers' links while its own
		// link is down: two nodes each waiting for the other would
		// otherwise never connect again.
		return errMasterDown
	}
	if isWrite || cmd.Name == "ping" {
		if msg := s.diskErrorMessage(); msg != "" { // RDB or AOF (aof.go)
			return msg
		}
	}
	if s.cfg.Maxmemory > 0 && !c.isMaster() {
		// Redis 7.0's rule: denyoom commands (and EXEC of a transaction
		// holding one) fail when eviction cannot get under maxmemory;
		// inside MULTI every command but EXEC/DISCARD/QUIT/RESET does,
		// since queueing itself takes memory.
		reject := flags&FlagDenyOOM != 0
		if c.flags&flagMulti != 0 {
			switch cmd.Name {
			case "exec", "discard", "quit", "reset":
			default:
				reject = true
			}
		}
		if !s.performEvictions() && reject {
			return errOOM
		}
	}
	return ""
}

// call runs a command's handler and does the accounting that follows every
// command: stats, slowlog, latency and (later) propagation.
func (s *Server) call(c *Client, cmd *Command) {
	// One clock read per command: the end of the previous command (or the
	// tick taken when the lock was acquired) is this one's start. Reading
	// the clock is a visible cost at pipelined rates.
	start := s.lastTick
	s.now = start.UnixMilli()
	c.errored = false
	if cmd.Flags&FlagWrite != 0 && s.beforeWrite != nil {
		// A background snapshot is running: let it keep the point-in-time
		// image of the keys this command is about to change.
		s.beforeWrite(c, cmd)
	}
	if s.prop.active() {
		dirty := s.stats.dirty
		o, set, sup := s.beginCall()
		cmd.Proc(c)
		s.endCall(c, s.stats.dirty != dirty, o, set, sup)
	} else {
		cmd.Proc(c)
	}
	end := time.Now()
	d := end.Sub(start)
	s.lastTick = end
	s.now = end.UnixMilli()
	cmd.calls++
	cmd.usec += d.Microseconds()
	if c.errored {
		cmd.failed++
		s.stats.failedCalls++
	}
	s.stats.commands++
	if cmd.Flags&FlagSkipSlowlog == 0 {
		s.slowlogAdd(c, d)
	}
	if len(s.monitors) > 0 && cmd.Flags&FlagSkipMonitor == 0 {
		s.feedMonitors(c)
	}
}

// afterCommand serves clients blocked on keys a command made ready.
func (s *Server) afterCommand() {
	if len(s.readyKeys) > 0 {
		s.serveBlocked()
	}
}

func allowedInPubSub(name string) bool {
	switch name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}

func isMultiControl(name string) bool {
	switch name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

func isMultiExec(name string) bool { return name == "exec" }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
