package config

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// Kind is how a directive's arguments are parsed and rendered.
type Kind int

const (
	KindBool    Kind = iota // yes | no
	KindInt                 // decimal integer within [Min, Max]
	KindMemory              // byte count with optional unit: 64k, 1kb, 100mb, 1gb
	KindString              // any single argument
	KindEnum                // one of Values (several for flag sets)
	KindOctal               // octal integer, e.g. permission bits
	KindSpecial             // its own syntax, see Args
)

func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindMemory:
		return "memory"
	case KindString:
		return "string"
	case KindEnum:
		return "enum"
	case KindOctal:
		return "octal"
	}
	return "special"
}

// DirectiveInfo describes one directive, for generated documentation.
type DirectiveInfo struct {
	Name      string
	Aliases   []string
	Kind      Kind
	Args      string   // argument synopsis
	Default   string   // default value, as it would be written in a file
	Mutable   bool     // CONFIG SET can change it at run time
	Sensitive bool     // a secret: redact CONFIG SET arguments from SLOWLOG and MONITOR
	Min, Max  int64    // bounds of KindInt, KindMemory and KindOctal
	Values    []string // allowed values of KindEnum
	Doc       string
}

// Directives lists every directive in table order.
func Directives() []DirectiveInfo {
	out := make([]DirectiveInfo, 0, len(table))
	for _, d := range table {
		out = append(out, d.info())
	}
	return out
}

// Lookup describes the directive called name (canonical or alias, any case).
func Lookup(name string) (DirectiveInfo, bool) {
	if d := lookup(name); d != nil {
		return d.info(), true
	}
	return DirectiveInfo{}, false
}

func (d *directive) info() DirectiveInfo {
	info := DirectiveInfo{
		Name: d.name, Aliases: append([]string(nil), d.aliases...), Kind: d.kind,
		Args: d.argsSynopsis(), Default: d.def, Mutable: d.mutable, Sensitive: d.sensitive,
		Values: append([]string(nil), d.values...), Doc: d.doc,
	}
	if d.kind == KindInt || d.kind == KindMemory || d.kind == KindOctal {
		info.Min, info.Max = d.min, d.max
	}
	return info
}

// argError is a rejected value. reply is Redis's CONFIG SET wording; want and
// got give the friendlier file/command-line wording "'port' wants ..., got ...".
type argError struct {
	reply string
	want  string
	got   string
}

// human renders the error for a file or command line, naming the directive
// as the user wrote it.
func (e *argError) human(name string) string {
	if e.want != "" {
		return fmt.Sprintf("'%s' wants %s, got '%s'", name, e.want, e.got)
	}
	return fmt.Sprintf("'%s': %s, got '%s'", name, strings.TrimSuffix(e.reply, "."), e.got)
}

// rwLine is one line CONFIG REWRITE wants in the file; force means it must be
// written even if the file did not mention the directive (not at default).
type rwLine struct {
	text  string
	force bool
}

// directive is one row of the table. Generic kinds need only field (and
// bounds or values); KindSpecial rows supply set, get and lines.
type directive struct {
	name      string
	aliases   []string
	kind      Kind
	def       string // default, written as in redis.conf
	mutable   bool   // CONFIG SET may change it
	protected bool   // CONFIG SET also needs enable-protected-configs
	sensitive bool   // value is a secret
	multi     bool   // several arguments, or one argument holding them space-separated
	min, max  int64  // inclusive bounds of numeric kinds
	percent   bool   // KindMemory also accepts "N%", stored as -N
	values    []string
	args      string // synopsis; derived from kind when empty
	doc       string

	field func(c *Config) any   // *bool, *int, *int64 or *string backing a generic kind
	check func(v any) *argError // extra validation of a parsed bool, int64 or string
	after func(c *Config)       // side effects and normalisation after a set

	set   func(c *Config, args []string) *argError
	get   func(c *Config) string
	lines func(c, def *Config) []rwLine
}

const (
	i32 = math.MaxInt32
	i64 = math.MaxInt64
)

var protectedAction = []string{"no", "yes", "local"}
var shutdownFlags = []string{"default", "save", "nosave", "now", "force"}

// table is the single list of directives fluidb understands. Order is the
// order of Directives() and of lines appended by CONFIG REWRITE.
var table = []*directive{
	// Network.
	{name: "bind", kind: KindSpecial, multi: true, def: "127.0.0.1", mutable: true, args: "<addr> [<addr> ...]",
		doc: "Addresses to listen on; a leading '-' (like -::1) marks an address whose bind failure is not fatal.",
		set: setBind, get: getBind, lines: bindLines},
	{name: "port", kind: KindInt, min: 0, max: 65535, def: "6379", mutable: true,
		doc: "TCP port to accept connections on; 0 disables TCP.", field: func(c *Config) any { return &c.Port }},
	{name: "protected-mode", kind: KindBool, def: "yes", mutable: true,
		doc: "Without a password or explicit bind, only accept clients from loopback.", field: func(c *Config) any { return &c.ProtectedMode }},
	{name: "tcp-backlog", kind: KindInt, min: 0, max: i32, def: "511",
		doc: "Backlog of the listen(2) queue.", field: func(c *Config) any { return &c.TCPBacklog }},
	{name: "timeout", kind: KindInt, min: 0, max: i32, def: "0", mutable: true,
		doc: "Close a client after this many idle seconds; 0 never.", field: func(c *Config) any { return &c.Timeout }},
	{name: "tcp-keepalive", kind: KindInt, min: 0, max: i32, def: "300", mutable: true,
		doc: "TCP keepalive period in seconds; 0 disables keepalives.", field: func(c *Config) any { return &c.TCPKeepalive }},
	{name: "unixsocket", kind: KindString, def: "",
		doc: "Path of a Unix domain socket to listen on as well.", field: func(c *Config) any { return &c.UnixSocket }},
	{name: "unixsocketperm", kind: KindOctal, min: 0, max: 0o777, def: "0",
		doc: "Permission bits of the Unix socket, in octal.", field: func(c *Config) any { return &c.UnixSocketPerm }},
	{name: "tls-port", kind: KindInt, min: 0, max: 65535, def: "0", mutable: true,
		doc: "TLS port; fluidb has no TLS, so only 0 is accepted.", field: func(c *Config) any { return &c.TLSPort },
		check: refuseIf(func(v any) bool { return v.(int64) != 0 }, "TLS is not supported by fluidb", "0 (TLS is not supported by fluidb)")},

	// Process and logging.
	{name: "daemonize", kind: KindBool, def: "no",
		doc: "Detach from the terminal (kept for compatibility; prefer a supervisor).", field: func(c *Config) any { return &c.Daemonize }},
	{name: "supervised", kind: KindEnum, values: []string{"upstart", "systemd", "auto", "no"}, def: "no",
		doc: "Supervision protocol used to signal readiness.", field: func(c *Config) any { return &c.Supervised }},
	{name: "pidfile", kind: KindString, def: "",
		doc: "File the process id is written to at start.", field: func(c *Config) any { return &c.PidFile }},
	{name: "loglevel", kind: KindEnum, values: []string{"debug", "verbose", "notice", "warning"}, def: "notice", mutable: true,
		doc: "Log verbosity.", field: func(c *Config) any { return &c.LogLevel }},
	{name: "logfile", kind: KindString, def: "",
		doc: "Log file; empty logs to standard output.", field: func(c *Config) any { return &c.LogFile }},
	{name: "syslog-enabled", kind: KindBool, def: "no",
		doc: "Also log to syslog.", field: func(c *Config) any { return &c.SyslogEnabled }},
	{name: "databases", kind: KindInt, min: 1, max: i32, def: "16",
		doc: "Number of logical databases (SELECT 0..n-1).", field: func(c *Config) any { return &c.Databases }},
	{name: "always-show-logo", kind: KindBool, def: "no",
		doc: "Print the ASCII logo even when logging to a file.", field: func(c *Config) any { return &c.AlwaysShowLogo }},
	{name: "set-proc-title", kind: KindBool, def: "yes",
		doc: "Rewrite the process title shown by ps.", field: func(c *Config) any { return &c.SetProcTitle }},
	{name: "proc-title-template", kind: KindString, def: "{title} {listen-addr} {server-mode}", mutable: true,
		doc:   "Template of the process title; variables {title} {listen-addr} {server-mode} {port} {tls-port} {unixsocket} {config-file}.",
		field: func(c *Config) any { return &c.ProcTitleTemplate }, check: checkProcTitle},
	{name: "locale-collate", kind: KindString, def: "", mutable: true,
		doc: "Locale used to compare strings in SORT; empty is byte order.", field: func(c *Config) any { return &c.LocaleCollate }},
	{name: "ignore-warnings", kind: KindString, def: "", mutable: true,
		doc: "Space-separated start-up warnings to suppress.", field: func(c *Config) any { return &c.IgnoreWarnings }},
	{name: "crash-log-enabled", kind: KindBool, def: "yes", mutable: true,
		doc: "Write a crash report to the log on fatal errors.", field: func(c *Config) any { return &c.CrashLogEnabled }},
	{name: "enable-protected-configs", kind: KindEnum, values: protectedAction, def: "no",
		doc:   "Allow CONFIG SET of protected directives (dir, dbfilename): no, yes, or local (loopback clients only).",
		field: func(c *Config) any { return &c.EnableProtectedConfigs }},
	{name: "enable-debug-command", kind: KindEnum, values: protectedAction, def: "local",
		doc: "Allow the DEBUG command: no, yes, or local (loopback clients only).", field: func(c *Config) any { return &c.EnableDebugCommand }},
	{name: "enable-module-command", kind: KindEnum, values: protectedAction, def: "no",
		doc: "Accepted for compatibility; fluidb has no modules.", field: func(c *Config) any { return &c.EnableModuleCommand }},
	{name: "cluster-enabled", kind: KindBool, def: "no",
		doc:   "Redis Cluster mode; fluidb replicates with active replicas instead, so only no is accepted.",
		field: func(c *Config) any { return &c.ClusterEnabled },
		check: refuseIf(func(v any) bool { return v.(bool) }, "cluster mode is not supported by fluidb (use active-replica)", "no (cluster mode is not supported by fluidb; use active-replica)")},
	{name: "io-threads", kind: KindInt, min: 1, max: 128, def: "1",
		doc: "Threads used for socket I/O.", field: func(c *Config) any { return &c.IOThreads }},
	{name: "oom-score-adj", kind: KindEnum, values: []string{"no", "yes", "relative", "absolute"}, def: "no", mutable: true,
		doc: "Adjust the Linux OOM killer score of the process.", field: func(c *Config) any { return &c.OOMScoreAdj }},
	{name: "jemalloc-bg-thread", kind: KindBool, def: "yes", mutable: true,
		doc: "Accepted for compatibility; fluidb does not use jemalloc.", field: func(c *Config) any { return &c.JemallocBgThread }},
	{name: "hz", kind: KindInt, min: 0, max: i32, def: "10", mutable: true,
		doc:   "Frequency of background tasks (expiry, timeouts) per second, clamped to 1..500.",
		field: func(c *Config) any { return &c.Hz }, after: clampHz},
	{name: "dynamic-hz", kind: KindBool, def: "yes", mutable: true,
		doc: "Raise hz temporarily when many clients are connected.", field: func(c *Config) any { return &c.DynamicHz }},
	{name: "shutdown-timeout", kind: KindInt, min: 0, max: i32, def: "10", mutable: true,
		doc: "Seconds to wait for replicas to catch up on shutdown.", field: func(c *Config) any { return &c.ShutdownTimeout }},
	{name: "shutdown-on-sigint", kind: KindEnum, multi: true, values: shutdownFlags, def: "default", mutable: true,
		doc: "SHUTDOWN flags applied on SIGINT.", field: func(c *Config) any { return &c.ShutdownOnSigint }},
	{name: "shutdown-on-sigterm", kind: KindEnum, multi: true, values: shutdownFlags, def: "default", mutable: true,
		doc: "SHUTDOWN flags applied on SIGTERM.", field: func(c *Config) any { return &c.ShutdownOnSigterm }},

	// Security.
	{name: "requirepass", kind: KindString, def: "", mutable: true, sensitive: true,
		doc: "Password of the default user; empty means no password.", field: func(c *Config) any { return &c.Requirepass }},
	{name: "masterauth", kind: KindString, def: "", mutable: true, sensitive: true,
		doc: "Password used to authenticate to the master (and to peers in active-replica mode).", field: func(c *Config) any { return &c.Masterauth }},
	{name: "masteruser", kind: KindString, def: "", mutable: true, sensitive: true,
		doc: "ACL user used to authenticate to the master.", field: func(c *Config) any { return &c.Masteruser }},
	{name: "aclfile", kind: KindString, def: "",
		doc: "File holding ACL users.", field: func(c *Config) any { return &c.ACLFile }},
	{name: "acllog-max-len", kind: KindInt, min: 0, max: i64, def: "128", mutable: true,
		doc: "Entries kept by ACL LOG.", field: func(c *Config) any { return &c.ACLLogMaxLen }},

	// Clients and memory.
	{name: "maxclients", kind: KindInt, min: 1, max: math.MaxUint32, def: "10000", mutable: true,
		doc: "Maximum number of connected clients.", field: func(c *Config) any { return &c.Maxclients }},
	{name: "maxmemory", kind: KindMemory, min: 0, max: i64, def: "0", mutable: true,
		doc: "Memory limit for data; 0 means no limit.", field: func(c *Config) any { return &c.Maxmemory }},
	{name: "maxmemory-policy", kind: KindEnum, def: "noeviction", mutable: true,
		values: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
		doc:    "What to evict when maxmemory is reached.", field: func(c *Config) any { return &c.MaxmemoryPolicy }},
	{name: "maxmemory-samples", kind: KindInt, min: 1, max: i32, def: "5", mutable: true,
		doc: "Keys sampled per eviction by the approximated LRU/LFU/TTL policies.", field: func(c *Config) any { return &c.MaxmemorySamples }},
	{name: "maxmemory-eviction-tenacity", kind: KindInt, min: 0, max: 100, def: "10", mutable: true,
		doc: "How long one eviction pass may run, 0..100.", field: func(c *Config) any { return &c.MaxmemoryEvictionTenacity }},
	{name: "maxmemory-clients", kind: KindMemory, percent: true, min: -100, max: i64, def: "0", mutable: true,
		doc:   "Memory limit for all client buffers, in bytes or as a percentage of maxmemory; 0 means no limit.",
		field: func(c *Config) any { return &c.MaxmemoryClients }},
	{name: "proto-max-bulk-len", kind: KindMemory, min: 1 << 20, max: i64, def: "512mb", mutable: true,
		doc: "Largest bulk string a client may send.", field: func(c *Config) any { return &c.ProtoMaxBulkLen }},
	{name: "client-query-buffer-limit", kind: KindMemory, min: 1 << 20, max: i64, def: "1gb", mutable: true,
		doc: "Largest query buffer of one client.", field: func(c *Config) any { return &c.ClientQueryBufferLimit }},
	{name: "client-output-buffer-limit", kind: KindSpecial, multi: true, mutable: true,
		def:  "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		args: "<class> <hard> <soft> <soft-seconds> [...]",
		doc:  "Output buffer limits per client class (normal, replica, pubsub); 0 disables a limit.",
		set:  setOutputBufferLimits, get: getOutputBufferLimits, lines: outputBufferLimitLines},
	{name: "lfu-log-factor", kind: KindInt, min: 0, max: i32, def: "10", mutable: true,
		doc: "Logarithmic factor of the LFU access counter.", field: func(c *Config) any { return &c.LFULogFactor }},
	{name: "lfu-decay-time", kind: KindInt, min: 0, max: i32, def: "1", mutable: true,
		doc: "Minutes after which the LFU counter is halved.", field: func(c *Config) any { return &c.LFUDecayTime }},
	{name: "active-expire-effort", kind: KindInt, min: 1, max: 10, def: "1", mutable: true,
		doc: "Effort spent expiring keys in the background, 1..10.", field: func(c *Config) any { return &c.ActiveExpireEffort }},
	{name: "activedefrag", kind: KindBool, def: "no", mutable: true,
		doc: "Active memory defragmentation (accepted for compatibility).", field: func(c *Config) any { return &c.ActiveDefrag }},
	{name: "activerehashing", kind: KindBool, def: "yes", mutable: true,
		doc: "Spend background time rehashing the main dictionaries.", field: func(c *Config) any { return &c.ActiveRehashing }},
	{name: "lazyfree-lazy-eviction", kind: KindBool, def: "no", mutable: true,
		doc: "Free evicted values in the background.", field: func(c *Config) any { return &c.LazyfreeLazyEviction }},
	{name: "lazyfree-lazy-expire", kind: KindBool, def: "no", mutable: true,
		doc: "Free expired values in the background.", field: func(c *Config) any { return &c.LazyfreeLazyExpire }},
	{name: "lazyfree-lazy-server-del", kind: KindBool, def: "no", mutable: true,
		doc: "Free values deleted implicitly (e.g. by RENAME) in the background.", field: func(c *Config) any { return &c.LazyfreeLazyServerDel }},
	{name: "lazyfree-lazy-user-del", kind: KindBool, def: "no", mutable: true,
		doc: "Make DEL behave like UNLINK.", field: func(c *Config) any { return &c.LazyfreeLazyUserDel }},
	{name: "lazyfree-lazy-user-flush", kind: KindBool, def: "no", mutable: true,
		doc: "Make FLUSHDB/FLUSHALL default to ASYNC.", field: func(c *Config) any { return &c.LazyfreeLazyUserFlush }},
	{name: "notify-keyspace-events", kind: KindSpecial, def: "", mutable: true, args: "<classes>",
		doc: "Keyspace notification classes, letters from KEg$lshzxetmdnA; empty disables notifications.",
		set: setNotify, get: func(c *Config) string { return c.NotifyKeyspaceEvents }, lines: notifyLines},

	// Persistence.
	{name: "save", kind: KindSpecial, multi: true, def: "3600 1 300 100 60 10000", mutable: true, args: "<seconds> <changes> [...] | \"\"",
		doc: "Snapshot after <seconds> if at least <changes> writes happened; several rules accumulate, save \"\" disables snapshots.",
		set: setSave, get: getSave, lines: saveLines},
	{name: "stop-writes-on-bgsave-error", kind: KindBool, def: "yes", mutable: true,
		doc: "Refuse writes while the last background save failed.", field: func(c *Config) any { return &c.StopWritesOnBgsaveError }},
	{name: "rdbcompression", kind: KindBool, def: "yes", mutable: true,
		doc: "Compress strings in RDB files with LZF.", field: func(c *Config) any { return &c.RDBCompression }},
	{name: "rdbchecksum", kind: KindBool, def: "yes",
		doc: "Append and verify a CRC64 checksum in RDB files.", field: func(c *Config) any { return &c.RDBChecksum }},
	{name: "dbfilename", kind: KindString, def: "dump.rdb", mutable: true, protected: true,
		doc: "Name of the RDB file, inside dir.", field: func(c *Config) any { return &c.DBFilename },
		check: checkBaseName("dbfilename can't be a path, just a filename", "")},
	{name: "rdb-del-sync-files", kind: KindBool, def: "no", mutable: true,
		doc: "Delete RDB files used only for replication when persistence is off.", field: func(c *Config) any { return &c.RDBDelSyncFiles }},
	{name: "rdb-save-incremental-fsync", kind: KindBool, def: "yes", mutable: true,
		doc: "fsync the RDB file every 4 MB while saving.", field: func(c *Config) any { return &c.RDBSaveIncrementalFsync }},
	{name: "dir", kind: KindSpecial, def: ".", mutable: true, protected: true, args: "<directory>",
		doc: "Working directory for RDB and AOF files; stored as an absolute path, relative values resolve against the previous dir.",
		set: setDir, get: func(c *Config) string { return c.Dir }, lines: dirLines},
	{name: "appendonly", kind: KindBool, def: "no", mutable: true,
		doc: "Log every write to the append-only file.", field: func(c *Config) any { return &c.AppendOnly }},
	{name: "appendfilename", kind: KindString, def: "appendonly.aof",
		doc: "Base name of the AOF files.", field: func(c *Config) any { return &c.AppendFilename },
		check: checkBaseName("appendfilename can't be a path, just a filename", "appendfilename can't be empty")},
	{name: "appenddirname", kind: KindString, def: "appendonlydir",
		doc: "Directory, inside dir, holding the AOF files.", field: func(c *Config) any { return &c.AppendDirname },
		check: checkBaseName("appenddirname can't be a path, just a dirname", "appenddirname can't be empty")},
	{name: "appendfsync", kind: KindEnum, values: []string{"everysec", "always", "no"}, def: "everysec", mutable: true,
		doc: "When to fsync the AOF.", field: func(c *Config) any { return &c.AppendFsync }},
	{name: "no-appendfsync-on-rewrite", kind: KindBool, def: "no", mutable: true,
		doc: "Skip AOF fsync while a rewrite or save runs.", field: func(c *Config) any { return &c.NoAppendfsyncOnRewrite }},
	{name: "auto-aof-rewrite-percentage", kind: KindInt, min: 0, max: i32, def: "100", mutable: true,
		doc: "Rewrite the AOF when it grew by this percentage; 0 disables.", field: func(c *Config) any { return &c.AutoAOFRewritePercentage }},
	{name: "auto-aof-rewrite-min-size", kind: KindMemory, min: 0, max: i64, def: "64mb", mutable: true,
		doc: "Minimum AOF size before automatic rewrites.", field: func(c *Config) any { return &c.AutoAOFRewriteMinSize }},
	{name: "aof-load-truncated", kind: KindBool, def: "yes", mutable: true,
		doc: "Load a truncated AOF instead of refusing to start.", field: func(c *Config) any { return &c.AOFLoadTruncated }},
	{name: "aof-use-rdb-preamble", kind: KindBool, def: "yes", mutable: true,
		doc: "Start rewritten AOFs with an RDB snapshot.", field: func(c *Config) any { return &c.AOFUseRDBPreamble }},
	{name: "aof-rewrite-incremental-fsync", kind: KindBool, def: "yes", mutable: true,
		doc: "fsync the rewritten AOF every 4 MB.", field: func(c *Config) any { return &c.AOFRewriteIncrementalFsync }},
	{name: "aof-timestamp-enabled", kind: KindBool, def: "no", mutable: true,
		doc: "Write timestamp annotations into the AOF.", field: func(c *Config) any { return &c.AOFTimestampEnabled }},

	// Replication.
	{name: "replicaof", aliases: []string{"slaveof"}, kind: KindSpecial, multi: true, def: "", args: "<host> <port> | no one",
		doc: "Replicate from this master; 'no one' makes this node a master. Change at run time with REPLICAOF.",
		set: setReplicaOf, get: getReplicaOf, lines: replicaOfLines},
	{name: "replica-read-only", aliases: []string{"slave-read-only"}, kind: KindBool, def: "yes", mutable: true,
		doc: "Refuse writes from clients on a replica.", field: func(c *Config) any { return &c.ReplicaReadOnly }},
	{name: "replica-serve-stale-data", aliases: []string{"slave-serve-stale-data"}, kind: KindBool, def: "yes", mutable: true,
		doc: "Answer reads while the link to the master is down or syncing.", field: func(c *Config) any { return &c.ReplicaServeStaleData }},
	{name: "replica-priority", aliases: []string{"slave-priority"}, kind: KindInt, min: 0, max: i32, def: "100", mutable: true,
		doc: "Promotion priority for failover tools; 0 never promotes.", field: func(c *Config) any { return &c.ReplicaPriority }},
	{name: "replica-announce-ip", aliases: []string{"slave-announce-ip"}, kind: KindString, def: "", mutable: true,
		doc: "Address this replica reports to its master (behind NAT).", field: func(c *Config) any { return &c.ReplicaAnnounceIP }},
	{name: "replica-announce-port", aliases: []string{"slave-announce-port"}, kind: KindInt, min: 0, max: 65535, def: "0", mutable: true,
		doc: "Port this replica reports to its master; 0 reports the real one.", field: func(c *Config) any { return &c.ReplicaAnnouncePort }},
	{name: "replica-ignore-maxmemory", aliases: []string{"slave-ignore-maxmemory"}, kind: KindBool, def: "yes", mutable: true,
		doc: "Do not evict on a replica; it follows its master's evictions.", field: func(c *Config) any { return &c.ReplicaIgnoreMaxmemory }},
	{name: "replica-lazy-flush", aliases: []string{"slave-lazy-flush"}, kind: KindBool, def: "no", mutable: true,
		doc: "Flush the old dataset in the background on full resync.", field: func(c *Config) any { return &c.ReplicaLazyFlush }},
	{name: "repl-backlog-size", kind: KindMemory, min: 1, max: i64, def: "1mb", mutable: true,
		doc: "Size of the backlog that lets replicas resync partially.", field: func(c *Config) any { return &c.ReplBacklogSize }},
	{name: "repl-backlog-ttl", kind: KindInt, min: 0, max: i64, def: "3600", mutable: true,
		doc: "Seconds without replicas after which the backlog is freed; 0 never.", field: func(c *Config) any { return &c.ReplBacklogTTL }},
	{name: "repl-timeout", kind: KindInt, min: 1, max: i32, def: "60", mutable: true,
		doc: "Replication link timeout in seconds; must exceed repl-ping-replica-period.", field: func(c *Config) any { return &c.ReplTimeout }},
	{name: "repl-ping-replica-period", aliases: []string{"repl-ping-slave-period"}, kind: KindInt, min: 1, max: i32, def: "10", mutable: true,
		doc: "Seconds between pings from master to replicas.", field: func(c *Config) any { return &c.ReplPingReplicaPeriod }},
	{name: "repl-disable-tcp-nodelay", kind: KindBool, def: "no", mutable: true,
		doc: "Batch small packets to replicas (less bandwidth, more lag).", field: func(c *Config) any { return &c.ReplDisableTCPNodelay }},
	{name: "repl-diskless-sync", kind: KindBool, def: "yes", mutable: true,
		doc: "Stream full syncs to replicas without writing an RDB file.", field: func(c *Config) any { return &c.ReplDisklessSync }},
	{name: "repl-diskless-sync-delay", kind: KindInt, min: 0, max: i32, def: "5", mutable: true,
		doc: "Seconds to wait for more replicas before a diskless sync.", field: func(c *Config) any { return &c.ReplDisklessSyncDelay }},
	{name: "repl-diskless-sync-max-replicas", kind: KindInt, min: 0, max: i32, def: "0", mutable: true,
		doc: "Start a diskless sync early once this many replicas wait; 0 no limit.", field: func(c *Config) any { return &c.ReplDisklessSyncMaxReplicas }},
	{name: "repl-diskless-load", kind: KindEnum, values: []string{"disabled", "on-empty-db", "swapdb"}, def: "disabled", mutable: true,
		doc: "How a replica loads a full sync: through a file, or directly from the socket.", field: func(c *Config) any { return &c.ReplDisklessLoad }},
	{name: "min-replicas-to-write", aliases: []string{"min-slaves-to-write"}, kind: KindInt, min: 0, max: i32, def: "0", mutable: true,
		doc:   "Refuse writes unless this many replicas are connected with lag below min-replicas-max-lag; 0 disables.",
		field: func(c *Config) any { return &c.MinReplicasToWrite }},
	{name: "min-replicas-max-lag", aliases: []string{"min-slaves-max-lag"}, kind: KindInt, min: 0, max: i32, def: "10", mutable: true,
		doc: "Lag in seconds under which a replica counts for min-replicas-to-write.", field: func(c *Config) any { return &c.MinReplicasMaxLag }},
	{name: "propagation-error-behavior", kind: KindEnum, values: []string{"ignore", "panic", "panic-on-replicas"}, def: "ignore", mutable: true,
		doc: "What a replica does when a replicated command fails.", field: func(c *Config) any { return &c.PropagationErrorBehavior }},
	{name: "active-replica", kind: KindBool, def: "no", mutable: true,
		doc:   "Multi-master replication: accept writes while replicating, resolving conflicts by timestamp; yes also sets replica-read-only no.",
		field: func(c *Config) any { return &c.ActiveReplica }, after: activeReplicaSideEffects},
	{name: "active-replica-max-clock-skew", kind: KindInt, min: 0, max: i64, def: "60000", mutable: true,
		doc:   "A peer's write stamped more than this many milliseconds ahead of our clock is still applied, but our clock does not jump to it (INFO fluidb stamps_clamped counts them); 0 absorbs every stamp.",
		field: func(c *Config) any { return &c.ActiveReplicaMaxClockSkew }},
	{name: "active-replica-tombstone-horizon", kind: KindInt, min: 1, max: i64, def: "86400", mutable: true,
		doc:   "Seconds a deletion tombstone is kept so late writes from peers cannot resurrect the key.",
		field: func(c *Config) any { return &c.ActiveReplicaTombstoneHorizon }},

	// Monitoring.
	{name: "slowlog-log-slower-than", kind: KindInt, min: -1, max: i64, def: "10000", mutable: true,
		doc: "Log commands slower than this many microseconds; -1 disables, 0 logs all.", field: func(c *Config) any { return &c.SlowlogLogSlowerThan }},
	{name: "slowlog-max-len", kind: KindInt, min: 0, max: i64, def: "128", mutable: true,
		doc: "Entries kept by SLOWLOG.", field: func(c *Config) any { return &c.SlowlogMaxLen }},
	{name: "latency-monitor-threshold", kind: KindInt, min: 0, max: i64, def: "0", mutable: true,
		doc: "Record events slower than this many milliseconds for LATENCY; 0 disables.", field: func(c *Config) any { return &c.LatencyMonitorThreshold }},
	{name: "latency-tracking", kind: KindBool, def: "yes", mutable: true,
		doc: "Track per-command latency histograms.", field: func(c *Config) any { return &c.LatencyTracking }},
	{name: "latency-tracking-info-percentiles", kind: KindSpecial, multi: true, def: "50 99 99.9", mutable: true, args: "<percentile> [...] | \"\"",
		doc: "Percentiles reported by INFO latencystats.",
		set: setPercentiles, get: getPercentiles, lines: percentileLines},
	{name: "busy-reply-threshold", aliases: []string{"lua-time-limit"}, kind: KindInt, min: 0, max: i64, def: "5000", mutable: true,
		doc: "Milliseconds a script may run before other clients get BUSY replies.", field: func(c *Config) any { return &c.BusyReplyThreshold }},

	// Encodings.
	{name: "list-max-listpack-size", aliases: []string{"list-max-ziplist-size"}, kind: KindInt, min: math.MinInt32, max: i32, def: "-2", mutable: true,
		doc: "Size of list nodes: positive is entries, -1..-5 is 4..64 KB.", field: func(c *Config) any { return &c.ListMaxListpackSize }},
	{name: "list-compress-depth", kind: KindInt, min: 0, max: i32, def: "0", mutable: true,
		doc: "List nodes at each end left uncompressed; 0 disables compression.", field: func(c *Config) any { return &c.ListCompressDepth }},
	{name: "hash-max-listpack-entries", aliases: []string{"hash-max-ziplist-entries"}, kind: KindInt, min: 0, max: i64, def: "512", mutable: true,
		doc: "Hashes with more fields use a hash table.", field: func(c *Config) any { return &c.HashMaxListpackEntries }},
	{name: "hash-max-listpack-value", aliases: []string{"hash-max-ziplist-value"}, kind: KindMemory, min: 0, max: i64, def: "64", mutable: true,
		doc: "Hashes with a longer field or value use a hash table.", field: func(c *Config) any { return &c.HashMaxListpackValue }},
	{name: "set-max-intset-entries", kind: KindInt, min: 0, max: i64, def: "512", mutable: true,
		doc: "Integer sets with more members use a hash table.", field: func(c *Config) any { return &c.SetMaxIntsetEntries }},
	{name: "set-max-listpack-entries", kind: KindInt, min: 0, max: i64, def: "128", mutable: true,
		doc: "Small non-integer sets with more members use a hash table.", field: func(c *Config) any { return &c.SetMaxListpackEntries }},
	{name: "set-max-listpack-value", kind: KindMemory, min: 0, max: i64, def: "64", mutable: true,
		doc: "Sets with a longer member use a hash table.", field: func(c *Config) any { return &c.SetMaxListpackValue }},
	{name: "zset-max-listpack-entries", aliases: []string{"zset-max-ziplist-entries"}, kind: KindInt, min: 0, max: i64, def: "128", mutable: true,
		doc: "Sorted sets with more members use a skiplist.", field: func(c *Config) any { return &c.ZsetMaxListpackEntries }},
	{name: "zset-max-listpack-value", aliases: []string{"zset-max-ziplist-value"}, kind: KindMemory, min: 0, max: i64, def: "64", mutable: true,
		doc: "Sorted sets with a longer member use a skiplist.", field: func(c *Config) any { return &c.ZsetMaxListpackValue }},
	{name: "stream-node-max-bytes", kind: KindMemory, min: 0, max: i64, def: "4096", mutable: true,
		doc: "Largest stream node in bytes; 0 no limit.", field: func(c *Config) any { return &c.StreamNodeMaxBytes }},
	{name: "stream-node-max-entries", kind: KindInt, min: 0, max: i64, def: "100", mutable: true,
		doc: "Most entries in one stream node; 0 no limit.", field: func(c *Config) any { return &c.StreamNodeMaxEntries }},
	{name: "hll-sparse-max-bytes", kind: KindMemory, min: 0, max: i64, def: "3000", mutable: true,
		doc: "HyperLogLogs larger than this use the dense encoding.", field: func(c *Config) any { return &c.HLLSparseMaxBytes }},
}

// ignored are directives Redis 7.0 still accepts but no longer uses; they are
// skipped so old redis.conf files load.
var ignored = map[string]int{ // name -> number of arguments
	"list-max-ziplist-entries": 1,
	"list-max-ziplist-value":   1,
	"lua-replicate-commands":   1,
}

// unsupported are Redis directives fluidb refuses outright, with the reason.
var unsupported = map[string]string{
	"rename-command": "rename-command is not supported by fluidb (use ACLs to restrict commands)",
	"loadmodule":     "loadmodule is not supported by fluidb: there are no modules",
	"user":           "'user' lines are not supported by fluidb (use aclfile)",
	"sentinel":       "sentinel mode is not supported by fluidb",
}

var byName = func() map[string]*directive {
	m := make(map[string]*directive, 2*len(table))
	add := func(n string, d *directive) {
		if _, dup := m[n]; dup {
			panic("config: directive name registered twice: " + n)
		}
		m[n] = d
	}
	for _, d := range table {
		add(d.name, d)
		for _, a := range d.aliases {
			add(a, d)
		}
	}
	return m
}()

// lookup finds a directive by canonical name or alias, case-insensitively.
func lookup(name string) *directive { return byName[strings.ToLower(name)] }

func (d *directive) argsSynopsis() string {
	if d.args != "" {
		return d.args
	}
	switch d.kind {
	case KindBool:
		return "yes|no"
	case KindInt, KindOctal:
		return "<number>"
	case KindMemory:
		if d.percent {
			return "<bytes>|<percent>%"
		}
		return "<bytes>"
	case KindEnum:
		if d.multi {
			return strings.Join(d.values, "|") + " [...]"
		}
		return strings.Join(d.values, "|")
	}
	return "<string>"
}

func refuseIf(bad func(v any) bool, reply, want string) func(v any) *argError {
	return func(v any) *argError {
		if bad(v) {
			return &argError{reply: reply, want: want}
		}
		return nil
	}
}

func checkBaseName(notBase, empty string) func(v any) *argError {
	return func(v any) *argError {
		s := v.(string)
		if s == "" && empty != "" {
			return &argError{reply: empty}
		}
		if s != "" && filepath.Base(s) != s {
			return &argError{reply: notBase}
		}
		return nil
	}
}

func clampHz(c *Config) {
	c.Hz = max(1, min(500, c.Hz))
}

// activeReplicaSideEffects mirrors KeyDB: an active replica must accept
// writes, so switching it on turns read-only off. Switching it off leaves
// replica-read-only alone, as the operator may have chosen either.
func activeReplicaSideEffects(c *Config) {
	if c.ActiveReplica {
		c.ReplicaReadOnly = false
	}
}

// checkProcTitle accepts a template only if it uses known variables and does
// not expand to an empty title, as Redis's validateProcTitleTemplate does.
func checkProcTitle(v any) *argError {
	bad := &argError{reply: "template format is invalid or contains unknown variables"}
	s := v.(string)
	var out strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		s = s[i+1:]
		if s == "" {
			return bad
		}
		if s[0] == '{' {
			out.WriteByte('{')
			s = s[1:]
			continue
		}
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return bad
		}
		switch s[:j] {
		case "title", "server-mode", "unixsocket":
			// may expand to nothing
		case "listen-addr", "port", "tls-port", "config-file":
			out.WriteString("x")
		default:
			return bad
		}
		s = s[j+1:]
	}
	if strings.Trim(out.String(), " ") == "" {
		return bad
	}
	return nil
}
