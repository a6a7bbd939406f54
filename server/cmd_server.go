package server

import (
	"errors"
	"net"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fluidb/fluidb/server/config"
)

// Server commands (Redis's server.c, config.c, db.c's FLUSH*/SWAPDB and
// friends): INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME,
// LASTSAVE, COMMAND, SHUTDOWN, MEMORY, ROLE, LOLWUT, SLOWLOG, LATENCY, and
// the answers fluidb gives for features it does not have (yet): CLUSTER,
// SAVE, FUNCTION, SCRIPT. CLIENT and MONITOR live in cmd_client.go, DEBUG
// in cmd_debug.go, INFO's sections in info.go.

func registerServerCommands(t table) {
	admin := FlagAdmin | FlagNoScript
	ls := FlagLoading | FlagStale
	help := func(proc func(*Client)) *Command {
		return &Command{Proc: proc, Arity: 2, Flags: ls}
	}
	clusterOff := func(c *Client) { c.addError("ERR This instance has cluster support disabled") }
	clusterSubs := map[string]*Command{}
	for _, name := range []string{"addslots", "addslotsrange", "bumpepoch", "count-failure-reports",
		"countkeysinslot", "delslots", "delslotsrange", "failover", "flushslots", "forget",
		"getkeysinslot", "help", "info", "keyslot", "links", "meet", "myid", "myshardid", "nodes",
		"replicas", "replicate", "reset", "saveconfig", "set-config-epoch", "setslot", "shards",
		"slaves", "slots"} {
		clusterSubs[name] = &Command{Proc: clusterOff, Arity: -2, Flags: ls}
	}
	notYet := func(what string) func(*Client) {
		return func(c *Client) { c.addError("ERR " + what + " is not implemented yet in fluidb") }
	}
	t.add(
		&Command{Name: "info", Proc: infoCmd, Arity: -1, Flags: ls, Group: "server"},
		&Command{Name: "config", Arity: -2, Group: "server", Summary: "A container for server configuration commands", Since: "2.0.0", Sub: map[string]*Command{
			"get":       {Proc: configGetCmd, Arity: -3, Flags: admin | ls, Summary: "Get the values of configuration parameters", Since: "2.0.0"},
			"set":       {Proc: configSetCmd, Arity: -4, Flags: admin | ls, Summary: "Set configuration parameters to the given values", Since: "2.0.0"},
			"rewrite":   {Proc: configRewriteCmd, Arity: 2, Flags: admin | ls, Summary: "Rewrite the configuration file with the in memory configuration", Since: "2.8.0"},
			"resetstat": {Proc: configResetstatCmd, Arity: 2, Flags: admin | ls, Summary: "Reset the stats returned by INFO", Since: "2.0.0"},
			"help":      help(configHelpCmd),
		}},
		&Command{Name: "dbsize", Proc: dbsizeCmd, Arity: 1, Flags: FlagReadonly | FlagFast, Group: "server"},
		&Command{Name: "flushdb", Proc: flushdbCmd, Arity: -1, Flags: FlagWrite, Group: "server"},
		&Command{Name: "flushall", Proc: flushallCmd, Arity: -1, Flags: FlagWrite, Group: "server"},
		&Command{Name: "swapdb", Proc: swapdbCmd, Arity: 3, Flags: FlagWrite | FlagFast, Group: "server"},
		&Command{Name: "time", Proc: timeCmd, Arity: 1, Flags: ls | FlagFast, Group: "server"},
		&Command{Name: "command", Proc: commandCmd, Arity: -1, Flags: ls, Group: "server", Sub: map[string]*Command{
			"count":           {Proc: commandCountCmd, Arity: 2, Flags: ls},
			"list":            {Proc: commandListCmd, Arity: -2, Flags: ls},
			"info":            {Proc: commandInfoCmd, Arity: -2, Flags: ls},
			"docs":            {Proc: commandDocsCmd, Arity: -2, Flags: ls},
			"getkeys":         {Proc: commandGetkeysCmd, Arity: -4, Flags: ls},
			"getkeysandflags": {Proc: commandGetkeysCmd, Arity: -4, Flags: ls},
			"help":            help(commandHelpCmd),
		}},
		&Command{Name: "shutdown", Proc: shutdownCmd, Arity: -1, Flags: admin | ls | FlagNoMulti | FlagAllowBusy, Group: "server"},
		&Command{Name: "slowlog", Arity: -2, Group: "server", Sub: map[string]*Command{
			"get":   {Proc: slowlogGetCmd, Arity: -2, Flags: admin | ls},
			"len":   {Proc: slowlogLenCmd, Arity: 2, Flags: admin | ls},
			"reset": {Proc: slowlogResetCmd, Arity: 2, Flags: admin | ls},
			"help":  help(slowlogCmd),
		}},
		&Command{Name: "latency", Arity: -2, Group: "server", Sub: map[string]*Command{
			"latest":    {Proc: latencyLatestCmd, Arity: 2, Flags: admin | ls},
			"history":   {Proc: latencyHistoryCmd, Arity: 3, Flags: admin | ls},
			"reset":     {Proc: latencyResetCmd, Arity: -2, Flags: admin | ls},
			"graph":     {Proc: latencyGraphCmd, Arity: 3, Flags: admin | ls},
			"doctor":    {Proc: latencyDoctorCmd, Arity: 2, Flags: admin | ls},
			"histogram": {Proc: latencyHistogramCmd, Arity: -2, Flags: admin | ls},
			"help":      help(latencyCmd),
		}},
		&Command{Name: "memory", Arity: -2, Group: "server", Sub: map[string]*Command{
			"usage":        {Proc: memoryUsageCmd, Arity: -3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1},
			"doctor":       {Proc: memoryDoctorCmd, Arity: 2},
			"stats":        {Proc: memoryStatsCmd, Arity: 2},
			"malloc-stats": {Proc: func(c *Client) { c.addVerbatim("Stats not supported for the current allocator") }, Arity: 2},
			"purge":        {Proc: func(c *Client) { c.addOK() }, Arity: 2},
			"help":         help(memoryHelpCmd),
		}},
		&Command{Name: "lolwut", Proc: lolwutCmd, Arity: -1, Flags: FlagReadonly | FlagFast, Group: "server"},
		&Command{Name: "cluster", Arity: -2, Group: "cluster", Sub: clusterSubs},
		&Command{Name: "readonly", Proc: clusterOff, Arity: 1, Flags: ls | FlagFast, Group: "cluster"},
		&Command{Name: "readwrite", Proc: clusterOff, Arity: 1, Flags: ls | FlagFast, Group: "cluster"},
		&Command{Name: "bgrewriteaof", Proc: notYet("BGREWRITEAOF"), Arity: 1, Flags: admin, Group: "server"},
		&Command{Name: "function", Arity: -2, Group: "scripting", Sub: map[string]*Command{
			"flush":   {Proc: flushRegistryCmd, Arity: -2, Flags: FlagWrite | FlagNoScript | FlagMayReplicate},
			"list":    {Proc: functionListCmd, Arity: -2, Flags: FlagNoScript},
			"stats":   {Proc: functionStatsCmd, Arity: 2, Flags: FlagNoScript | FlagAllowBusy},
			"dump":    {Proc: notYet("FUNCTION DUMP"), Arity: 2, Flags: FlagNoScript},
			"restore": {Proc: notYet("FUNCTION RESTORE"), Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagNoScript},
			"load":    {Proc: notYet("FUNCTION LOAD"), Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagNoScript},
			"delete":  {Proc: func(c *Client) { c.addError("ERR Library not found") }, Arity: 3, Flags: FlagWrite | FlagNoScript},
			"kill":    {Proc: noScriptRunningCmd, Arity: 2, Flags: FlagNoScript | FlagAllowBusy},
			"help":    help(functionHelpCmd),
		}},
		&Command{Name: "script", Arity: -2, Group: "scripting", Sub: map[string]*Command{
			"flush":  {Proc: flushRegistryCmd, Arity: -2, Flags: FlagNoScript},
			"exists": {Proc: scriptExistsCmd, Arity: -3, Flags: FlagNoScript},
			"load":   {Proc: notYet("SCRIPT LOAD"), Arity: 3, Flags: FlagNoScript | FlagStale},
			"kill":   {Proc: noScriptRunningCmd, Arity: 2, Flags: FlagNoScript | FlagAllowBusy},
			"help":   help(scriptHelpCmd),
		}},
	)
	registerClientCommands(t)
	registerDebugCommands(t)
}

func dbsizeCmd(c *Client) { c.addInt(int64(c.db.Len())) }

func timeCmd(c *Client) {
	now := time.Now()
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatInt(now.Unix(), 10))
	c.addBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// parseFlushMode accepts FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Freeing
// is done by Go's collector either way, so both modes behave alike.
func (c *Client) parseFlushMode() bool {
	if len(c.argv) > 2 {
		c.addError(errSyntax)
		return false
	}
	if len(c.argv) == 2 {
		m := strings.ToUpper(string(c.argv[1]))
		if m != "ASYNC" && m != "SYNC" {
			c.addError(errSyntax)
			return false
		}
	}
	return true
}

// flushDB empties database i: WATCHers of keys that existed are touched
// first (that test needs the keys), and every removed key counts as a
// change for the save schedule, as in Redis's emptyData.
func (s *Server) flushDB(i int) {
	db := s.dbs[i]
	s.touchAllWatched(i, -1)
	s.stats.dirty += int64(db.Len())
	db.Clear()
	if i < len(s.expireCursors) {
		s.expireCursors[i] = 0
	}
}

func flushdbCmd(c *Client) {
	if !c.parseFlushMode() {
		return
	}
	c.s.flushDB(c.dbIndex)
	c.s.activeFlushed(c.dbIndex)
	c.forcePropagation()
	c.addOK()
}

func flushallCmd(c *Client) {
	if !c.parseFlushMode() {
		return
	}
	all := make([]int, len(c.s.dbs))
	for i := range c.s.dbs {
		c.s.flushDB(i)
		all[i] = i
	}
	c.s.activeFlushed(all...)
	c.s.flushAllSave()
	c.forcePropagation()
	c.addOK()
}

func swapdbCmd(c *Client) {
	s := c.s
	id1, ok := parseInt(c.argv[1])
	if !ok || id1 < -1<<31 || id1 > 1<<31-1 {
		c.addError("ERR invalid first DB index")
		return
	}
	id2, ok := parseInt(c.argv[2])
	if !ok || id2 < -1<<31 || id2 > 1<<31-1 {
		c.addError("ERR invalid second DB index")
		return
	}
	n := int64(len(s.dbs))
	if id1 < 0 || id1 >= n || id2 < 0 || id2 >= n {
		c.addError(errDBIndex)
		return
	}
	if s.act.on {
		c.addError("ERR SWAPDB is not supported with active-replica yes (peers would not agree on which keys each database holds)")
		return
	}
	if id1 != id2 {
		a, b := int(id1), int(id2)
		// A watched key changes if it existed on either side.
		s.touchAllWatched(a, b)
		s.touchAllWatched(b, a)
		s.dbs[a].Swap(s.dbs[b])
		// Clients blocked on keys that now hold data are served.
		for wk := range s.blocking.byKey {
			if (wk.db == a || wk.db == b) && s.dbs[wk.db].GetString(wk.key) != nil {
				s.signalReady(s.dbs[wk.db], []byte(wk.key))
			}
		}
	}
	s.stats.dirty++
	c.addOK()
}

func configHelpCmd(c *Client) {
	c.addHelp("CONFIG", []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}

func configGetCmd(c *Client) {
	var pairs [][2]string
	seen := map[string]bool{}
	for _, p := range c.argv[2:] {
		for _, kv := range c.s.cfg.Get(string(p)) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				pairs = append(pairs, kv)
			}
		}
	}
	c.addMapLen(len(pairs))
	for _, kv := range pairs {
		c.addBulkString(kv[0])
		c.addBulkString(kv[1])
	}
}

func configSetCmd(c *Client) {
	if len(c.argv)%2 != 0 {
		c.addError(wrongArity("config|set"))
		return
	}
	var pairs [][2]string
	for i := 2; i < len(c.argv); i += 2 {
		pairs = append(pairs, [2]string{string(c.argv[i]), string(c.argv[i+1])})
	}
	s := c.s
	old := s.cfg.Clone()
	changed, err := s.cfg.SetFrom(pairs, c.isLocal())
	if err != nil {
		c.addError(err.Error())
		return
	}
	if name, err := s.applyConfigChanges(changed, pairs); err != nil {
		// All or nothing, as in Redis: an apply failure restores every
		// parameter of the call.
		*s.cfg = *old
		s.applyConfig()
		c.addError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + err.Error())
		return
	}
	c.addOK()
}

// applyConfigChanges applies what CONFIG SET changed that needs more than
// a new field value. On failure it names the argument (as the user spelled
// it) that caused it.
func (s *Server) applyConfigChanges(changed []string, pairs [][2]string) (string, error) {
	argName := func(canon string) string {
		for _, p := range pairs {
			if strings.EqualFold(p[0], canon) {
				return strings.ToLower(p[0])
			}
		}
		return canon
	}
	relisten, portChanged := false, false
	for _, name := range changed {
		switch name {
		case "port":
			relisten, portChanged = true, true
		case "bind":
			relisten = true
		case "appendonly":
			if err := s.aofConfigChanged(); err != nil { // aof.go
				return argName("appendonly"), err
			}
		}
	}
	if relisten {
		if err := s.relisten(); err != nil {
			if portChanged {
				return argName("port"), errors.New("Unable to listen on this port: " + errnoText(err))
			}
			return argName("bind"), errors.New("Failed to bind to specified addresses.")
		}
	}
	s.applyConfig()
	return "", nil
}

// errnoText is strerror's wording of a system error, as Redis prints it.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return capitalize(errno.Error())
	}
	return err.Error()
}

// relisten replaces the listeners after port or bind changed. The new ones
// are opened first, so a failure leaves the server listening as before.
func (s *Server) relisten() error {
	if len(s.listeners) == 0 {
		return nil // not started (tests, or New before Start)
	}
	var lns []net.Listener
	fail := func(err error) error {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	if s.cfg.Port != 0 {
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
				return fail(err)
			}
			lns = append(lns, ln)
		}
		if len(lns) == 0 {
			return fail(errors.New("no address to listen on"))
		}
	}
	old := s.listeners
	s.listeners = lns
	for _, ln := range old {
		ln.Close()
	}
	for _, ln := range lns {
		s.wg.Add(1)
		go s.acceptLoop(ln)
	}
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// applyConfig pushes runtime-changeable settings into the running server.
func (s *Server) applyConfig() {
	s.activeConfigChanged()
	s.pubsub.notifyFlags = parseNotifyFlags(s.cfg.NotifyKeyspaceEvents)
	for _, c := range s.clients {
		// The master's link reads its stream off the lock, unbounded.
		if c.rd != nil && !c.isMaster() {
			c.rd.MaxBulkLen = s.cfg.ProtoMaxBulkLen
			c.rd.MaxQueryBuf = s.cfg.ClientQueryBufferLimit
		}
	}
	s.slowlogTrim()
	if s.cfg.Maxmemory > 0 {
		// Lowering maxmemory evicts at once, as Redis does.
		s.performEvictions()
	}
}

func configRewriteCmd(c *Client) {
	if err := c.s.cfg.Rewrite(); err != nil {
		c.s.log.Printf("CONFIG REWRITE failed: %v", err)
		c.addError(err.Error())
		return
	}
	c.s.log.Printf("CONFIG REWRITE executed with success.")
	c.addOK()
}

// resetStats is CONFIG RESETSTAT: the counters INFO reports start over
// (the dirty counter, which drives saving, does not).
func (s *Server) resetStats() {
	dirty := s.stats.dirty
	s.resetCounters()
	s.stats.dirty = dirty
	for _, cmd := range s.allCommands() {
		cmd.calls, cmd.usec, cmd.rejected, cmd.failed = 0, 0, 0, 0
	}
	s.intro.errors = nil
	s.intro.errorReplies = 0
	s.intro.memPeak = 0
	s.latency.hist = nil
}

func configResetstatCmd(c *Client) {
	c.s.resetStats()
	c.addOK()
}

// shutdownCmd asks the binary to stop (Done is closed); persistence will
// hook SAVE/NOSAVE in here. Like Redis it sends no reply on success: the
// connection just closes.
func shutdownCmd(c *Client) {
	abort, save, nosave, force := false, false, false, false
	for _, a := range c.argv[1:] {
		switch strings.ToUpper(string(a)) {
		case "NOSAVE":
			nosave = true
		case "SAVE":
			save = true
		case "NOW":
		case "FORCE":
			force = true
		case "ABORT":
			abort = true
		default:
			c.addError(errSyntax)
			return
		}
	}
	if abort {
		if len(c.argv) > 2 {
			c.addError(errSyntax)
			return
		}
		c.addError("ERR No shutdown in progress.")
		return
	}
	if save && nosave {
		c.addError(errSyntax)
		return
	}
	s := c.s
	s.log.Printf("User requested shutdown...")
	// Like Redis: save when save points are configured (or SAVE is
	// given) unless NOSAVE; a failed save cancels the shutdown unless FORCE.
	if (len(s.cfg.Save) > 0 || save) && !nosave {
		if err := s.saveForShutdown(); err != nil && !force {
			c.addError("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
	}
	s.shutdownSaved = true
	select {
	case <-s.doneCh:
	default:
		close(s.doneCh)
	}
	c.flags |= flagCloseAfterReply
}

func lolwutCmd(c *Client) {
	for i := 1; i < len(c.argv); i++ {
		if strings.EqualFold(string(c.argv[i]), "version") && i+1 < len(c.argv) {
			if _, ok := c.getInt(c.argv[i+1]); !ok {
				return
			}
			i++
		}
	}
	c.addVerbatim("fluidb ver. " + Version + ", Redis ver. " + RedisVersion + "\n")
}

// FUNCTION and SCRIPT: there is no scripting engine yet, so the registries
// are always empty and the answers are the ones Redis gives then.

func flushRegistryCmd(c *Client) {
	if len(c.argv) > 3 {
		c.addError(errSyntax)
		return
	}
	if len(c.argv) == 3 {
		m := strings.ToUpper(string(c.argv[2]))
		if m != "ASYNC" && m != "SYNC" {
			if strings.EqualFold(string(c.argv[0]), "function") {
				c.addError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			} else {
				c.addError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			}
			return
		}
	}
	c.addOK()
}

func functionListCmd(c *Client) {
	for i := 2; i < len(c.argv); i++ {
		switch strings.ToUpper(string(c.argv[i])) {
		case "WITHCODE":
		case "LIBRARYNAME":
			if i+1 >= len(c.argv) {
				c.addError("ERR library name argument was not given")
				return
			}
			i++
		default:
			c.addError("ERR Unknown argument " + string(c.argv[i]))
			return
		}
	}
	c.addArrayLen(0)
}

func functionStatsCmd(c *Client) {
	c.addMapLen(2)
	c.addBulkString("running_script")
	c.addNull()
	c.addBulkString("engines")
	c.addMapLen(1)
	c.addBulkString("LUA")
	c.addMapLen(2)
	c.addBulkString("libraries_count")
	c.addInt(0)
	c.addBulkString("functions_count")
	c.addInt(0)
}

func noScriptRunningCmd(c *Client) {
	c.addError("NOTBUSY No scripts in execution right now.")
}

func scriptExistsCmd(c *Client) {
	c.addArrayLen(len(c.argv) - 2)
	for range c.argv[2:] {
		c.addInt(0)
	}
}

func functionHelpCmd(c *Client) {
	c.addHelp("FUNCTION", []string{
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	})
}

func scriptHelpCmd(c *Client) {
	c.addHelp("SCRIPT", []string{
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}

// COMMAND and its subcommands: the command table described for clients
// (redis-cli hints, cluster-aware libraries) in Redis 7.0's formats.

func commandHelpCmd(c *Client) {
	c.addHelp("COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// sortedCommands lists the top-level commands by name.
func (s *Server) sortedCommands() []*Command {
	out := make([]*Command, 0, len(s.cmds))
	for _, cmd := range s.cmds {
		out = append(out, cmd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedSubs(cmd *Command) []*Command {
	out := make([]*Command, 0, len(cmd.Sub))
	for _, sub := range cmd.Sub {
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lookupFullName finds "get" or "config|get"; anything deeper, or a
// subcommand of a command without subcommands, is unknown (as in Redis).
func (s *Server) lookupFullName(name string) *Command {
	parts := strings.Split(strings.ToLower(name), "|")
	cmd := s.cmds[parts[0]]
	if cmd == nil || len(parts) > 2 {
		return nil
	}
	if len(parts) == 2 {
		if cmd.Sub == nil {
			return nil
		}
		return cmd.Sub[parts[1]]
	}
	return cmd
}

func commandCmd(c *Client) {
	if len(c.argv) > 1 {
		c.addError("ERR unknown subcommand '" + truncate(string(c.argv[1]), 128) + "'. Try COMMAND HELP.")
		return
	}
	cmds := c.s.sortedCommands()
	c.addArrayLen(len(cmds))
	for _, cmd := range cmds {
		c.addCommandInfo(cmd)
	}
}

func commandCountCmd(c *Client) { c.addInt(int64(len(c.s.cmds))) }

func commandListCmd(c *Client) {
	s := c.s
	var filter func(cmd *Command) bool
	switch {
	case len(c.argv) == 2:
		filter = func(*Command) bool { return true }
	case len(c.argv) == 5 && strings.EqualFold(string(c.argv[2]), "filterby"):
		val := string(c.argv[4])
		switch strings.ToLower(string(c.argv[3])) {
		case "module":
			filter = func(*Command) bool { return false }
		case "aclcat":
			cat := strings.ToLower(strings.TrimPrefix(val, "@"))
			filter = func(cmd *Command) bool {
				for _, have := range aclCategories(cmd) {
					if have == "@"+cat {
						return true
					}
				}
				return false
			}
		case "pattern":
			filter = func(cmd *Command) bool { return config.GlobMatch(val, cmd.Name, true) }
		}
	}
	if filter == nil {
		c.addError(errSyntax)
		return
	}
	var out []string
	for _, cmd := range s.sortedCommands() {
		if filter(cmd) {
			out = append(out, cmd.Name)
		}
		for _, sub := range sortedSubs(cmd) {
			if filter(sub) {
				out = append(out, sub.Name)
			}
		}
	}
	c.addBulkStrings(out)
}

func commandInfoCmd(c *Client) {
	s := c.s
	if len(c.argv) == 2 {
		cmds := s.sortedCommands()
		c.addArrayLen(len(cmds))
		for _, cmd := range cmds {
			c.addCommandInfo(cmd)
		}
		return
	}
	c.addArrayLen(len(c.argv) - 2)
	for _, a := range c.argv[2:] {
		if cmd := s.lookupFullName(string(a)); cmd != nil {
			c.addCommandInfo(cmd)
		} else {
			c.addNull()
		}
	}
}

// legacyKeys is COMMAND INFO's first/last/step triple.
func legacyKeys(cmd *Command) (first, last, step int) {
	if cmd.FirstKey == 0 {
		return 0, 0, 0
	}
	step = cmd.Step
	if step == 0 {
		step = 1
	}
	return cmd.FirstKey, cmd.LastKey, step
}

func commandFlagNames(cmd *Command) []string {
	names := cmd.Flags.Names()
	if cmd.KeysFn != nil {
		names = append(names, "movablekeys")
	}
	return names
}

// addCommandInfo writes Redis 7.0's 10-element command description.
func (c *Client) addCommandInfo(cmd *Command) {
	first, last, step := legacyKeys(cmd)
	c.addArrayLen(10)
	c.addBulkString(cmd.Name)
	c.addInt(int64(cmd.Arity))
	flags := commandFlagNames(cmd)
	c.addSetLen(len(flags))
	for _, f := range flags {
		c.addSimple(f)
	}
	c.addInt(int64(first))
	c.addInt(int64(last))
	c.addInt(int64(step))
	cats := aclCategories(cmd)
	c.addSetLen(len(cats))
	for _, cat := range cats {
		c.addSimple(cat)
	}
	c.addSetLen(0) // tips
	c.addKeySpecs(cmd)
	subs := sortedSubs(cmd)
	c.addArrayLen(len(subs))
	for _, sub := range subs {
		c.addCommandInfo(sub)
	}
}

// addKeySpecs describes where a command's keys are, in Redis 7.0's key
// specification format.
func (c *Client) addKeySpecs(cmd *Command) {
	if cmd.FirstKey == 0 && cmd.KeysFn == nil {
		c.addArrayLen(0)
		return
	}
	flags := keySpecFlagsFor(cmd, nil)
	note := keySpecNotes[cmd.Name]
	c.addArrayLen(1)
	if note != "" {
		c.addMapLen(4)
		c.addBulkString("notes")
		c.addBulkString(note)
	} else {
		c.addMapLen(3)
	}
	c.addBulkString("flags")
	c.addSetLen(len(flags[0]))
	for _, f := range flags[0] {
		c.addSimple(f)
	}
	c.addBulkString("begin_search")
	c.addMapLen(2)
	c.addBulkString("type")
	if cmd.FirstKey > 0 {
		c.addBulkString("index")
		c.addBulkString("spec")
		c.addMapLen(1)
		c.addBulkString("index")
		c.addInt(int64(cmd.FirstKey))
	} else {
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addMapLen(0)
	}
	c.addBulkString("find_keys")
	c.addMapLen(2)
	c.addBulkString("type")
	if cmd.KeysFn == nil {
		lastkey := cmd.LastKey
		if lastkey >= 0 {
			lastkey -= cmd.FirstKey
		}
		step := cmd.Step
		if step == 0 {
			step = 1
		}
		c.addBulkString("range")
		c.addBulkString("spec")
		c.addMapLen(3)
		c.addBulkString("lastkey")
		c.addInt(int64(lastkey))
		c.addBulkString("keystep")
		c.addInt(int64(step))
		c.addBulkString("limit")
		c.addInt(0)
	} else {
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addMapLen(0)
	}
}

// aclCategoryOrder is Redis's ACL category table order, which COMMAND INFO
// follows.
var aclCategoryOrder = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash",
	"string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting"}

// dangerousCommands are the non-admin commands Redis files under @dangerous.
var dangerousCommands = map[string]bool{
	"keys": true, "flushdb": true, "flushall": true, "info": true, "lastsave": true,
	"sort": true, "swapdb": true, "role": true, "migrate": true, "restore": true,
	"restore-asking": true,
}

// aclCategories derives a command's ACL categories the way Redis does:
// the group's category, then the ones implied by the flags.
func aclCategories(cmd *Command) []string {
	has := map[string]bool{}
	group := cmd.Group
	top := cmd
	if cmd.parent != nil {
		top = cmd.parent
		if group == "" {
			group = top.Group
		}
	}
	switch group {
	case "generic":
		has["keyspace"] = true
	case "string", "list", "hash", "set", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "scripting":
		has[group] = true
	case "sortedset", "sorted_set":
		has["sortedset"] = true
	case "connection":
		has["connection"] = true
	case "transactions":
		has["transaction"] = true
	}
	switch top.Name {
	case "command", "client":
		has["connection"] = true
	}
	f := cmd.Flags
	if f&FlagWrite != 0 {
		has["write"] = true
	}
	if f&FlagReadonly != 0 && group != "scripting" {
		has["read"] = true
	}
	if f&FlagAdmin != 0 {
		has["admin"] = true
		has["dangerous"] = true
	}
	if f&FlagPubSub != 0 {
		has["pubsub"] = true
	}
	if f&FlagFast != 0 {
		has["fast"] = true
	} else {
		has["slow"] = true
	}
	if f&FlagBlocking != 0 {
		has["blocking"] = true
	}
	if dangerousCommands[cmd.Name] {
		has["dangerous"] = true
	}
	var out []string
	for _, cat := range aclCategoryOrder {
		if has[cat] {
			out = append(out, "@"+cat)
		}
	}
	return out
}

// keySpecFlags gives Redis 7.0's key-spec flags where they differ from the
// defaults (RO access for reads, RW access update for writes); entry i
// describes the command's i-th key, the last one repeating.
var keySpecFlags = map[string][][]string{
	"mset":         {{"OW", "update"}},
	"msetnx":       {{"OW", "insert"}},
	"setnx":        {{"OW", "insert"}},
	"setex":        {{"OW", "update"}},
	"psetex":       {{"OW", "update"}},
	"getdel":       {{"RW", "access", "delete"}},
	"del":          {{"RM", "delete"}},
	"unlink":       {{"RM", "delete"}},
	"lmove":        {{"RW", "access", "delete"}, {"RW", "insert"}},
	"blmove":       {{"RW", "access", "delete"}, {"RW", "insert"}},
	"rpoplpush":    {{"RW", "access", "delete"}, {"RW", "insert"}},
	"brpoplpush":   {{"RW", "access", "delete"}, {"RW", "insert"}},
	"smove":        {{"RW", "access", "delete"}, {"RW", "insert"}},
	"lpush":        {{"RW", "insert"}},
	"rpush":        {{"RW", "insert"}},
	"lpushx":       {{"RW", "insert"}},
	"rpushx":       {{"RW", "insert"}},
	"linsert":      {{"RW", "insert"}},
	"sadd":         {{"RW", "insert"}},
	"hsetnx":       {{"RW", "insert"}},
	"hset":         {{"RW", "update"}},
	"hmset":        {{"RW", "update"}},
	"zadd":         {{"RW", "update"}},
	"setrange":     {{"RW", "update"}},
	"pfadd":        {{"RW", "insert"}},
	"xadd":         {{"RW", "update"}},
	"append":       {{"RW", "insert"}},
	"lpop":         {{"RW", "access", "delete"}},
	"rpop":         {{"RW", "access", "delete"}},
	"blpop":        {{"RW", "access", "delete"}},
	"brpop":        {{"RW", "access", "delete"}},
	"lmpop":        {{"RW", "access", "delete"}},
	"blmpop":       {{"RW", "access", "delete"}},
	"spop":         {{"RW", "access", "delete"}},
	"zpopmin":      {{"RW", "access", "delete"}},
	"zpopmax":      {{"RW", "access", "delete"}},
	"bzpopmin":     {{"RW", "access", "delete"}},
	"bzpopmax":     {{"RW", "access", "delete"}},
	"zmpop":        {{"RW", "access", "delete"}},
	"bzmpop":       {{"RW", "access", "delete"}},
	"srem":         {{"RW", "delete"}},
	"zrem":         {{"RW", "delete"}},
	"hdel":         {{"RW", "delete"}},
	"lrem":         {{"RW", "delete"}},
	"ltrim":        {{"RW", "delete"}},
	"sort":         {{"RO", "access"}, {"OW", "update"}},
	"sinterstore":  {{"OW", "update"}, {"RO", "access"}},
	"sunionstore":  {{"OW", "update"}, {"RO", "access"}},
	"sdiffstore":   {{"OW", "update"}, {"RO", "access"}},
	"zunionstore":  {{"OW", "update"}, {"RO", "access"}},
	"zinterstore":  {{"OW", "update"}, {"RO", "access"}},
	"zdiffstore":   {{"OW", "update"}, {"RO", "access"}},
	"zrangestore":  {{"OW", "update"}, {"RO", "access"}},
	"copy":         {{"RO", "access"}, {"OW", "update"}},
	"rename":       {{"RW", "access", "delete"}, {"OW", "update"}},
	"renamenx":     {{"RW", "access", "delete"}, {"OW", "insert"}},
	"move":         {{"RW", "access", "delete"}},
	"expire":       {{"RW", "update"}},
	"pexpire":      {{"RW", "update"}},
	"expireat":     {{"RW", "update"}},
	"pexpireat":    {{"RW", "update"}},
	"persist":      {{"RW", "update"}},
	"exists":       {{"RO"}},
	"type":         {{"RO"}},
	"touch":        {{"RO"}},
	"object":       {{"RO"}},
	"watch":        {{"RO"}},
	"memory|usage": {{"RO"}},
	"ttl":          {{"RO", "access"}},
	"pttl":         {{"RO", "access"}},
	"expiretime":   {{"RO", "access"}},
	"pexpiretime":  {{"RO", "access"}},
}

// keySpecNotes are the notes Redis attaches to some key specs.
var keySpecNotes = map[string]string{
	"set": "RW and ACCESS due to the optional `GET` argument",
}

// keySpecFlagsFor returns the flags of each key spec of cmd; argv, when
// given, lets SET tell its plain form (OW update) from SET ... GET.
func keySpecFlagsFor(cmd *Command, argv [][]byte) [][]string {
	if cmd.Name == "set" {
		for _, a := range argv[min(3, len(argv)):] {
			if strings.EqualFold(string(a), "get") {
				return [][]string{{"RW", "access", "update"}}
			}
		}
		if argv == nil {
			return [][]string{{"RW", "access", "update", "variable_flags"}}
		}
		return [][]string{{"OW", "update"}}
	}
	if f, ok := keySpecFlags[cmd.Name]; ok {
		return f
	}
	if cmd.parent != nil {
		if f, ok := keySpecFlags[cmd.parent.Name]; ok {
			return f
		}
	}
	switch {
	case cmd.Flags&FlagWrite != 0:
		return [][]string{{"RW", "access", "update"}}
	case cmd.Flags&FlagReadonly != 0:
		return [][]string{{"RO", "access"}}
	}
	return [][]string{{"RO"}}
}

// commandGetkeysCmd is COMMAND GETKEYS and GETKEYSANDFLAGS.
func commandGetkeysCmd(c *Client) {
	args := c.argv[2:]
	withFlags := strings.EqualFold(string(c.argv[1]), "getkeysandflags")
	cmd := c.s.cmds[strings.ToLower(string(args[0]))]
	if cmd != nil && cmd.Sub != nil && len(args) >= 2 {
		if sub := cmd.Sub[strings.ToLower(string(args[1]))]; sub != nil {
			cmd = sub
		} else if cmd.Proc == nil {
			cmd = nil
		}
	}
	if cmd == nil {
		c.addError("ERR Invalid command specified")
		return
	}
	if cmd.FirstKey == 0 && cmd.KeysFn == nil {
		c.addError("ERR The command has no key arguments")
		return
	}
	if !arityOK(cmd, len(args)) {
		c.addError("ERR Invalid number of arguments specified for command")
		return
	}
	idx := cmd.keyIndexes(args)
	if len(idx) == 0 {
		if cmd.Flags&FlagNoMandatoryKeys != 0 {
			c.addArrayLen(0)
		} else {
			c.addError("ERR Invalid arguments specified for command")
		}
		return
	}
	specs := keySpecFlagsFor(cmd, args)
	c.addArrayLen(len(idx))
	for n, i := range idx {
		if !withFlags {
			c.addBulk(args[i])
			continue
		}
		f := specs[min(n, len(specs)-1)]
		c.addArrayLen(2)
		c.addBulk(args[i])
		c.addSetLen(len(f))
		for _, fl := range f {
			c.addSimple(fl)
		}
	}
}

// commandDocsCmd answers COMMAND DOCS with what fluidb knows about each
// command: its summary and version when recorded, and its group.
func commandDocsCmd(c *Client) {
	s := c.s
	var cmds []*Command
	if len(c.argv) == 2 {
		cmds = s.sortedCommands()
	} else {
		for _, a := range c.argv[2:] {
			if cmd := s.lookupFullName(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.addMapLen(len(cmds))
	for _, cmd := range cmds {
		c.addBulkString(cmd.Name)
		c.addCommandDocs(cmd)
	}
}

func (c *Client) addCommandDocs(cmd *Command) {
	n := 1
	if cmd.Summary != "" {
		n++
	}
	if cmd.Since != "" {
		n++
	}
	if len(cmd.Sub) > 0 {
		n++
	}
	group := cmd.Group
	if group == "sortedset" {
		group = "sorted_set"
	}
	c.addMapLen(n)
	if cmd.Summary != "" {
		c.addBulkString("summary")
		c.addBulkString(cmd.Summary)
	}
	if cmd.Since != "" {
		c.addBulkString("since")
		c.addBulkString(cmd.Since)
	}
	c.addBulkString("group")
	c.addBulkString(group)
	if len(cmd.Sub) > 0 {
		subs := sortedSubs(cmd)
		c.addBulkString("subcommands")
		c.addMapLen(len(subs))
		for _, sub := range subs {
			c.addBulkString(sub.Name)
			c.addCommandDocs(sub)
		}
	}
}

var _ = config.GlobMatch
