package server

import (
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CLIENT and MONITOR (Redis's networking.c and replication.c parts), the
// CLIENT PAUSE gate, CLIENT REPLY's output suppression and the per-client
// cron work.

func registerClientCommands(t table) {
	adm := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	cl := FlagNoScript | FlagLoading | FlagStale
	t.add(
		&Command{Name: "client", Arity: -2, Group: "connection", Sub: map[string]*Command{
			"id":           {Proc: clientIDCmd, Arity: 2, Flags: cl},
			"info":         {Proc: clientInfoCmd, Arity: 2, Flags: cl},
			"list":         {Proc: clientListCmd, Arity: -2, Flags: adm},
			"kill":         {Proc: clientKillCmd, Arity: -3, Flags: adm},
			"getname":      {Proc: clientGetnameCmd, Arity: 2, Flags: cl},
			"setname":      {Proc: clientSetnameCmd, Arity: 3, Flags: cl},
			"setinfo":      {Proc: clientSetinfoCmd, Arity: 4, Flags: cl},
			"pause":        {Proc: clientPauseCmd, Arity: -3, Flags: adm},
			"unpause":      {Proc: clientUnpauseCmd, Arity: 2, Flags: adm},
			"reply":        {Proc: clientReplyCmd, Arity: 3, Flags: cl},
			"no-evict":     {Proc: clientFlagCmd(flagNoEvict), Arity: 3, Flags: adm},
			"no-touch":     {Proc: clientFlagCmd(flagNoTouch), Arity: 3, Flags: cl},
			"unblock":      {Proc: clientUnblockCmd, Arity: -3, Flags: adm},
			"tracking":     {Proc: clientTrackingCmd, Arity: -3, Flags: cl},
			"caching":      {Proc: clientCachingCmd, Arity: 3, Flags: cl},
			"getredir":     {Proc: func(c *Client) { c.addInt(-1) }, Arity: 2, Flags: cl},
			"trackinginfo": {Proc: clientTrackinginfoCmd, Arity: 2, Flags: cl},
			"help":         {Proc: clientHelpCmd, Arity: 2, Flags: FlagLoading | FlagStale},
		}},
		&Command{Name: "monitor", Proc: monitorCmd, Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server"},
	)
}

// Hooks the rest of the server calls.

func (s *Server) roleName() string { return s.helloRole() }

// pubsubOutputLimit is the hard output-buffer limit for clients receiving
// pushes (client-output-buffer-limit pubsub); 0 means none.
func (s *Server) pubsubOutputLimit() int64 {
	return s.cfg.ClientOutputBufferLimit.Pubsub.Hard
}

// clientsCron runs from the server cron (s.mu held): idle timeouts, blocked
// clients whose time ran out, the end of CLIENT PAUSE, the memory peak.
func (s *Server) clientsCron() {
	now := time.Now()
	if s.pausedUntil != 0 && now.UnixMilli() >= s.pausedUntil {
		s.unpause()
	}
	idle := time.Duration(s.cfg.Timeout) * time.Second
	for _, c := range s.clients {
		if c.blocked != nil && !c.blocked.deadline.IsZero() && now.After(c.blocked.deadline) {
			s.unblock(c, true)
			continue
		}
		if idle > 0 && c.conn != nil && c.blocked == nil && !c.inPubSub() &&
			c.flags&(flagMaster|flagReplica|flagMonitor) == 0 && now.Sub(c.lastActive) > idle {
			s.log.Printf("Closing idle client id=%d addr=%s", c.id, c.addr)
			c.closeConn()
		}
	}
	s.usedMemory()
}

// feedMonitors sends the command c just ran to every MONITOR client, in
// Redis's line format. Admin commands are not shown, as in Redis.
func (s *Server) feedMonitors(c *Client) {
	if c.cmd != nil && c.cmd.Flags&FlagAdmin != 0 {
		return
	}
	// A blocked command that is re-run when its key gets data runs on the
	// copy of argv saved when it blocked; it was shown when it first ran.
	if bs := c.blocked; bs != nil && len(bs.argv) > 0 && len(c.argv) > 0 && &bs.argv[0] == &c.argv[0] {
		return
	}
	now := time.Now()
	var b []byte
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	b = append(b, pad6(int64(now.Nanosecond()/1000))...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.dbIndex), 10)
	b = append(b, ' ')
	if c.conn == nil && c.addr == "" {
		b = append(b, "lua"...)
	} else {
		b = append(b, c.addr...)
	}
	b = append(b, ']')
	for _, a := range redactArgs(c.argv) {
		b = append(b, ' ')
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	for m := range s.monitors {
		m.push(func(m *Client) { m.addRaw(b) })
	}
}

// appendRepr quotes a string the way Redis's sdscatrepr does.
func appendRepr(b, s []byte) []byte {
	b = append(b, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}

func monitorCmd(c *Client) {
	if c.execing {
		c.addError("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.flags&(flagMonitor|flagReplica) != 0 {
		return
	}
	c.flags |= flagMonitor
	c.s.monitors[c] = struct{}{}
	c.startWriter()
	c.addOK()
}

// CLIENT REPLY OFF|SKIP: the gate brackets each command of a client in
// one of these modes with beginQuiet/endQuiet, which drop what the command
// wrote. Subscription confirmations still go out, as in Redis (they are
// pushes), and so do messages other clients publish (they never pass here).

// beginQuiet turns a pending SKIP into "skip this command" and returns
// where this command's reply will start.
func (c *Client) beginQuiet() int {
	if c.flags&flagReplySkipNext != 0 {
		c.flags = c.flags&^flagReplySkipNext | flagReplySkip
	}
	return len(c.out)
}

func (c *Client) endQuiet(mark int) {
	if c.flags&(flagReplyOff|flagReplySkip) != 0 && len(c.out) >= mark && !isSubscribeCommand(c.argv) {
		c.out = c.out[:mark]
	}
	c.flags &^= flagReplySkip
}

func isSubscribeCommand(argv [][]byte) bool {
	if len(argv) == 0 {
		return false
	}
	switch strings.ToLower(string(argv[0])) {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return true
	}
	return false
}

func clientReplyCmd(c *Client) {
	switch strings.ToUpper(string(c.argv[2])) {
	case "ON":
		c.flags &^= flagReplyOff | flagReplySkip | flagReplySkipNext
		c.addOK()
	case "OFF":
		c.flags |= flagReplyOff
	case "SKIP":
		if c.flags&flagReplyOff == 0 {
			c.flags |= flagReplySkipNext
		}
	default:
		c.addError(errSyntax)
	}
}

// CLIENT PAUSE. While a pause is in effect the gate calls postponeIfPaused
// before running a command; a paused command parks its client like a
// blocking command does and runs through the gate again when the pause
// ends.

// postponeIfPaused reports whether c's command must wait for the pause to
// end (and has been parked).
func (c *Client) postponeIfPaused(cmd *Command) bool {
	s := c.s
	if s.pausedUntil == 0 || c.flags&(flagMaster|flagReplica) != 0 || c.blocked != nil {
		return false
	}
	if time.Now().UnixMilli() >= s.pausedUntil {
		s.unpause()
		return false
	}
	if s.pauseWrites && !c.mayReplicate(cmd) {
		return false
	}
	c.block(nil, 0, nil)
	s.intro.postponed = append(s.intro.postponed, c)
	return true
}

// mayReplicate is Redis's is_may_replicate_command: writes, commands that
// may propagate (PUBLISH, EVAL ...), and an EXEC whose queue holds one.
func (c *Client) mayReplicate(cmd *Command) bool {
	if cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
		return true
	}
	if cmd.Name == "exec" {
		for _, q := range c.multi {
			if q.cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
				return true
			}
		}
	}
	return false
}

// pause starts or extends a pause; the longer deadline and the stronger
// mode (ALL over WRITE) win, as in Redis's pauseClients.
func (s *Server) pause(until int64, writesOnly bool) {
	if s.pausedUntil == 0 {
		s.pauseWrites = writesOnly
	} else if !writesOnly {
		s.pauseWrites = false
	}
	if until > s.pausedUntil {
		s.pausedUntil = until
	}
	if s.intro.pauseTimer != nil {
		s.intro.pauseTimer.Stop()
	}
	d := time.Until(time.UnixMilli(s.pausedUntil))
	s.intro.pauseTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.pausedUntil != 0 && time.Now().UnixMilli() >= s.pausedUntil {
			s.unpause()
		}
	})
}

// unpause ends the pause and runs the postponed commands in arrival order.
func (s *Server) unpause() {
	s.pausedUntil = 0
	s.pauseWrites = false
	if s.intro.pauseTimer != nil {
		s.intro.pauseTimer.Stop()
		s.intro.pauseTimer = nil
	}
	waiting := s.intro.postponed
	s.intro.postponed = nil
	for _, c := range waiting {
		bs := c.blocked
		if bs == nil || bs.keys != nil {
			continue // gone, or unblocked some other way
		}
		s.unblock(c, false)
		if c.flags&(flagCloseASAP|flagCloseAfterReply) != 0 {
			continue
		}
		c.process(bs.argv)
	}
}

func (c *Client) isPostponed() bool {
	for _, p := range c.s.intro.postponed {
		if p == c {
			return true
		}
	}
	return false
}

func clientPauseCmd(c *Client) {
	if len(c.argv) > 4 {
		c.addError(errSyntax)
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
	writesOnly := false
	if len(c.argv) == 4 {
		switch strings.ToUpper(string(c.argv[3])) {
		case "WRITE":
			writesOnly = true
		case "ALL":
		default:
			c.addError("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	c.s.pause(time.Now().UnixMilli()+ms, writesOnly)
	c.addOK()
}

func clientUnpauseCmd(c *Client) {
	c.s.unpause()
	c.addOK()
}

func clientIDCmd(c *Client) { c.addInt(int64(c.id)) }

func clientGetnameCmd(c *Client) {
	if c.name == "" {
		c.addNull()
		return
	}
	c.addBulkString(c.name)
}

func clientSetnameCmd(c *Client) {
	name := string(c.argv[2])
	if !validClientName(name) {
		c.addError("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.name = name
	c.addOK()
}

// clientSetinfoCmd is Redis 7.2's CLIENT SETINFO, which client libraries
// send on connect; the values show in CLIENT LIST.
func clientSetinfoCmd(c *Client) {
	attr := strings.ToLower(string(c.argv[2]))
	val := string(c.argv[3])
	if attr != "lib-name" && attr != "lib-ver" {
		c.addError("ERR Unrecognized option '" + string(c.argv[2]) + "'")
		return
	}
	for i := 0; i < len(val); i++ {
		if val[i] < '!' || val[i] > '~' {
			c.addError("ERR " + attr + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	if attr == "lib-name" {
		c.libName = val
	} else {
		c.libVer = val
	}
	c.addOK()
}

func clientFlagCmd(f clientFlag) func(c *Client) {
	return func(c *Client) {
		switch strings.ToUpper(string(c.argv[2])) {
		case "ON":
			c.flags |= f
		case "OFF":
			c.flags &^= f
		default:
			c.addError(errSyntax)
			return
		}
		c.addOK()
	}
}

func clientTrackingCmd(c *Client) {
	switch strings.ToUpper(string(c.argv[2])) {
	case "OFF":
		c.addOK()
	case "ON":
		c.addError("ERR CLIENT TRACKING (client-side caching) is not supported by fluidb yet")
	default:
		c.addError(errSyntax)
	}
}

func clientCachingCmd(c *Client) {
	c.addError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
}

func clientTrackinginfoCmd(c *Client) {
	c.addMapLen(3)
	c.addBulkString("flags")
	c.addSetLen(1)
	c.addBulkString("off")
	c.addBulkString("redirect")
	c.addInt(-1)
	c.addBulkString("prefixes")
	c.addArrayLen(0)
}

func clientUnblockCmd(c *Client) {
	if len(c.argv) > 4 {
		c.addError(errSyntax)
		return
	}
	id, ok := c.getInt(c.argv[2])
	if !ok {
		return
	}
	withError := false
	if len(c.argv) == 4 {
		switch strings.ToUpper(string(c.argv[3])) {
		case "TIMEOUT":
		case "ERROR":
			withError = true
		default:
			c.addError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	s := c.s
	target := s.clients[uint64(id)]
	if id <= 0 || target == nil || target.blocked == nil || target.isPostponed() {
		c.addInt(0)
		return
	}
	if withError {
		target.mu.Lock()
		target.addError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
		target.mu.Unlock()
		s.unblock(target, false)
	} else {
		s.unblock(target, true)
	}
	c.addInt(1)
}

func clientInfoCmd(c *Client) {
	c.addVerbatim(c.infoString(time.Now(), true) + "\n")
}

func clientListCmd(c *Client) {
	s := c.s
	var list []*Client
	switch {
	case len(c.argv) == 2:
		list = s.sortedClients()
	case len(c.argv) == 4 && strings.EqualFold(string(c.argv[2]), "type"):
		kind := strings.ToLower(string(c.argv[3]))
		if !validClientType(kind) {
			c.addError("ERR Unknown client type '" + string(c.argv[3]) + "'")
			return
		}
		for _, o := range s.sortedClients() {
			if o.typeName() == normalizeClientType(kind) {
				list = append(list, o)
			}
		}
	case len(c.argv) > 3 && strings.EqualFold(string(c.argv[2]), "id"):
		seen := map[uint64]bool{}
		for _, a := range c.argv[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.addError("ERR Invalid client ID")
				return
			}
			if o := s.clients[uint64(id)]; o != nil && !seen[o.id] {
				seen[o.id] = true
				list = append(list, o)
			}
		}
	default:
		c.addError(errSyntax)
		return
	}
	now := time.Now()
	var b strings.Builder
	for _, o := range list {
		b.WriteString(o.infoString(now, o == c))
		b.WriteByte('\n')
	}
	c.addVerbatim(b.String())
}

func (s *Server) sortedClients() []*Client {
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func validClientType(t string) bool {
	switch t {
	case "normal", "slave", "replica", "pubsub", "master":
		return true
	}
	return false
}

func normalizeClientType(t string) string {
	if t == "slave" {
		return "replica"
	}
	return t
}

// typeName is the client class CLIENT LIST TYPE and CLIENT KILL TYPE use.
func (c *Client) typeName() string {
	switch {
	case c.flags&flagMaster != 0:
		return "master"
	case c.flags&flagReplica != 0 && c.flags&flagMonitor == 0:
		return "replica"
	case c.inPubSub():
		return "pubsub"
	}
	return "normal"
}

// argvSize is the RESP size of the command being run: the part of the
// query buffer Redis still counts in qbuf while the command executes.
func argvSize(argv [][]byte) (resp, raw int) {
	resp = 1 + len(strconv.Itoa(len(argv))) + 2
	for _, a := range argv {
		resp += 1 + len(strconv.Itoa(len(a))) + 2 + len(a) + 2
		raw += len(a)
	}
	return resp, raw
}

// infoString is one CLIENT LIST line, fields as in Redis 7.0 (plus 7.2's
// lib-name and lib-ver at the end). self marks the client running the
// command: its query buffer still holds that command, as in Redis.
func (c *Client) infoString(now time.Time, self bool) string {
	var qbuf, argvMem, rbs int
	if self {
		qbuf, argvMem = argvSize(c.argv)
	}
	if c.rd != nil {
		qbuf += c.rd.Buffered()
		rbs = c.rd.QueryBufSize()
	}
	qfree := rbs - qbuf
	if qfree < 0 {
		qfree = 0
	}
	multi := -1
	multiMem := 0
	if c.flags&flagMulti != 0 {
		multi = len(c.multi)
		for _, q := range c.multi {
			_, raw := argvSize(q.argv)
			multiMem += raw
		}
	}
	obl := len(c.out)
	omem := 0
	if obl > 16<<10 {
		omem = obl - 16<<10
		obl = 16 << 10
	}
	oll := 0
	if omem > 0 {
		oll = 1
	}
	events := "r"
	if len(c.out) > 0 {
		events = "rw"
	}
	cmdName := "NULL"
	if c.cmd != nil {
		cmdName = c.cmd.Name
	} else if c.lastCmd != nil {
		cmdName = c.lastCmd.Name
	}
	totMem := rbs + cap(c.out) + argvMem + multiMem + 1024
	var b strings.Builder
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	num := func(k string, v int64) { field(k, strconv.FormatInt(v, 10)) }
	num("id", int64(c.id))
	field("addr", c.addr)
	field("laddr", c.laddr)
	num("fd", int64(c.fd()))
	field("name", c.name)
	num("age", int64(now.Sub(c.createdAt)/time.Second))
	num("idle", int64(now.Sub(c.lastActive)/time.Second))
	field("flags", c.flagString())
	num("db", int64(c.dbIndex))
	num("sub", int64(len(c.subs)))
	num("psub", int64(len(c.psubs)))
	num("ssub", int64(len(c.ssubs)))
	num("multi", int64(multi))
	num("qbuf", int64(qbuf))
	num("qbuf-free", int64(qfree))
	num("argv-mem", int64(argvMem))
	num("multi-mem", int64(multiMem))
	num("rbs", int64(rbs))
	num("rbp", int64(rbs))
	num("obl", int64(obl))
	num("oll", int64(oll))
	num("omem", int64(omem))
	num("tot-mem", int64(totMem))
	field("events", events)
	field("cmd", cmdName)
	field("user", "default")
	num("redir", -1)
	num("resp", int64(c.proto))
	field("lib-name", c.libName)
	field("lib-ver", c.libVer)
	return b.String()
}

func (c *Client) fd() int {
	tc, ok := c.conn.(*net.TCPConn)
	if !ok {
		return -1
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

func (c *Client) flagString() string {
	var b []byte
	if c.flags&flagMonitor != 0 {
		b = append(b, 'O')
	} else if c.flags&flagReplica != 0 {
		b = append(b, 'S')
	}
	if c.flags&flagMaster != 0 {
		b = append(b, 'M')
	}
	if c.inPubSub() {
		b = append(b, 'P')
	}
	if c.flags&flagMulti != 0 {
		b = append(b, 'x')
	}
	if c.flags&flagBlocked != 0 {
		b = append(b, 'b')
	}
	if c.flags&flagDirtyCAS != 0 {
		b = append(b, 'd')
	}
	if c.flags&flagCloseAfterReply != 0 {
		b = append(b, 'c')
	}
	if c.flags&flagCloseASAP != 0 {
		b = append(b, 'A')
	}
	if c.flags&flagNoEvict != 0 {
		b = append(b, 'e')
	}
	if c.flags&flagNoTouch != 0 {
		b = append(b, 'T')
	}
	if len(b) == 0 {
		b = append(b, 'N')
	}
	return string(b)
}

func clientKillCmd(c *Client) {
	s := c.s
	var (
		id       uint64
		kind     string
		addr     string
		laddr    string
		user     string
		skipme   = true
		oldStyle = len(c.argv) == 3
	)
	if oldStyle {
		addr = string(c.argv[2])
		skipme = false
	} else {
		for i := 2; i < len(c.argv); i += 2 {
			if i+1 >= len(c.argv) {
				c.addError(errSyntax)
				return
			}
			opt := strings.ToLower(string(c.argv[i]))
			val := string(c.argv[i+1])
			switch opt {
			case "id":
				n, ok := parseInt(c.argv[i+1])
				if !ok || n <= 0 {
					c.addError("ERR client-id should be greater than 0")
					return
				}
				id = uint64(n)
			case "type":
				k := strings.ToLower(val)
				if !validClientType(k) {
					c.addError("ERR Unknown client type '" + val + "'")
					return
				}
				kind = normalizeClientType(k)
			case "addr":
				addr = val
			case "laddr":
				laddr = val
			case "user":
				if val != "default" {
					c.addError("ERR No such user '" + val + "'")
					return
				}
				user = val
			case "skipme":
				switch strings.ToLower(val) {
				case "yes":
					skipme = true
				case "no":
					skipme = false
				default:
					c.addError(errSyntax)
					return
				}
			default:
				c.addError(errSyntax)
				return
			}
		}
	}
	killed := 0
	killSelf := false
	for _, o := range s.sortedClients() {
		if addr != "" && o.addr != addr {
			continue
		}
		if laddr != "" && o.laddr != laddr {
			continue
		}
		if id != 0 && o.id != id {
			continue
		}
		if kind != "" && o.typeName() != kind {
			continue
		}
		_ = user // every client is the default user
		if o == c {
			if skipme {
				continue
			}
			killSelf = true
			killed++
			continue
		}
		o.closeConn()
		// Remove it now so INFO and CLIENT LIST stop showing it at once;
		// its goroutine frees it again, harmlessly, when it notices.
		s.freeClient(o)
		killed++
	}
	if oldStyle {
		if killed == 0 {
			c.addError("ERR No such client")
			return
		}
		c.addOK()
	} else {
		c.addInt(int64(killed))
	}
	if killSelf {
		c.flags |= flagCloseAfterReply
	}
}

func clientHelpCmd(c *Client) {
	c.addHelp("CLIENT", []string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <LIB-NAME|LIB-VER> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	})
}
