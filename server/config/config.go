package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// HostPort is a network endpoint, used for replicaof.
type HostPort struct {
	Host string
	Port int
}

// String renders the endpoint the way CONFIG GET replicaof does.
func (hp HostPort) String() string { return hp.Host + " " + strconv.Itoa(hp.Port) }

// SaveParam is one "save <seconds> <changes>" snapshot rule.
type SaveParam struct {
	Seconds int64
	Changes int64
}

// OutputBufferLimit is the output buffer limit of one client class. Zero
// means no limit; a client is dropped when it exceeds Hard, or stays above
// Soft for SoftSeconds seconds.
type OutputBufferLimit struct {
	Hard        int64
	Soft        int64
	SoftSeconds int64
}

// ClientOutputBufferLimits holds the three client classes Redis knows.
type ClientOutputBufferLimits struct {
	Normal  OutputBufferLimit
	Replica OutputBufferLimit
	Pubsub  OutputBufferLimit
}

// Config is the whole server configuration. Fields are plain values so the
// server reads them directly; the server serialises access with its own lock.
// Field comments give the directive name; see Directives() for docs.
type Config struct {
	// Network.
	Bind           []string // bind; a "-" prefix marks an optional address
	Port           int      // port
	ProtectedMode  bool     // protected-mode
	TCPBacklog     int      // tcp-backlog
	Timeout        int      // timeout (seconds, 0 = never)
	TCPKeepalive   int      // tcp-keepalive (seconds)
	UnixSocket     string   // unixsocket
	UnixSocketPerm int      // unixsocketperm (permission bits)
	TLSPort        int      // tls-port (always 0: TLS is refused)

	// Process and logging.
	Daemonize              bool   // daemonize
	Supervised             string // supervised
	PidFile                string // pidfile
	LogLevel               string // loglevel
	LogFile                string // logfile
	SyslogEnabled          bool   // syslog-enabled
	AlwaysShowLogo         bool   // always-show-logo
	SetProcTitle           bool   // set-proc-title
	ProcTitleTemplate      string // proc-title-template
	LocaleCollate          string // locale-collate
	IgnoreWarnings         string // ignore-warnings
	CrashLogEnabled        bool   // crash-log-enabled
	EnableProtectedConfigs string // enable-protected-configs: no|yes|local
	EnableDebugCommand     string // enable-debug-command: no|yes|local
	EnableModuleCommand    string // enable-module-command: no|yes|local
	ClusterEnabled         bool   // cluster-enabled (always false)
	IOThreads              int    // io-threads
	OOMScoreAdj            string // oom-score-adj
	JemallocBgThread       bool   // jemalloc-bg-thread
	Hz                     int    // hz, clamped to 1..500
	DynamicHz              bool   // dynamic-hz
	ShutdownTimeout        int    // shutdown-timeout (seconds)
	ShutdownOnSigint       string // shutdown-on-sigint, normalised flags
	ShutdownOnSigterm      string // shutdown-on-sigterm, normalised flags
	Databases              int    // databases

	// Security.
	Requirepass  string // requirepass
	Masterauth   string // masterauth
	Masteruser   string // masteruser
	ACLFile      string // aclfile
	ACLLogMaxLen int64  // acllog-max-len

	// Clients and memory.
	Maxclients                int                      // maxclients
	Maxmemory                 int64                    // maxmemory (bytes, 0 = unlimited)
	MaxmemoryPolicy           string                   // maxmemory-policy
	MaxmemorySamples          int                      // maxmemory-samples
	MaxmemoryEvictionTenacity int                      // maxmemory-eviction-tenacity
	MaxmemoryClients          int64                    // maxmemory-clients; negative = percent of maxmemory
	ProtoMaxBulkLen           int64                    // proto-max-bulk-len
	ClientQueryBufferLimit    int64                    // client-query-buffer-limit
	ClientOutputBufferLimit   ClientOutputBufferLimits // client-output-buffer-limit
	LFULogFactor              int                      // lfu-log-factor
	LFUDecayTime              int                      // lfu-decay-time (minutes)
	ActiveExpireEffort        int                      // active-expire-effort
	ActiveDefrag              bool                     // activedefrag
	ActiveRehashing           bool                     // activerehashing
	LazyfreeLazyEviction      bool                     // lazyfree-lazy-eviction
	LazyfreeLazyExpire        bool                     // lazyfree-lazy-expire
	LazyfreeLazyServerDel     bool                     // lazyfree-lazy-server-del
	LazyfreeLazyUserDel       bool                     // lazyfree-lazy-user-del
	LazyfreeLazyUserFlush     bool                     // lazyfree-lazy-user-flush
	NotifyKeyspaceEvents      string                   // notify-keyspace-events, normalised

	// Persistence.
	Save                       []SaveParam // save
	StopWritesOnBgsaveError    bool        // stop-writes-on-bgsave-error
	RDBCompression             bool        // rdbcompression
	RDBChecksum                bool        // rdbchecksum
	DBFilename                 string      // dbfilename
	RDBDelSyncFiles            bool        // rdb-del-sync-files
	RDBSaveIncrementalFsync    bool        // rdb-save-incremental-fsync
	Dir                        string      // dir, always absolute
	AppendOnly                 bool        // appendonly
	AppendFilename             string      // appendfilename
	AppendDirname              string      // appenddirname
	AppendFsync                string      // appendfsync
	NoAppendfsyncOnRewrite     bool        // no-appendfsync-on-rewrite
	AutoAOFRewritePercentage   int         // auto-aof-rewrite-percentage
	AutoAOFRewriteMinSize      int64       // auto-aof-rewrite-min-size
	AOFLoadTruncated           bool        // aof-load-truncated
	AOFUseRDBPreamble          bool        // aof-use-rdb-preamble
	AOFRewriteIncrementalFsync bool        // aof-rewrite-incremental-fsync
	AOFTimestampEnabled        bool        // aof-timestamp-enabled

	// Replication.
	ReplicaOf                     *HostPort // replicaof; nil = this node has no master
	ReplicaReadOnly               bool      // replica-read-only
	ReplicaServeStaleData         bool      // replica-serve-stale-data
	ReplicaPriority               int       // replica-priority
	ReplicaAnnounceIP             string    // replica-announce-ip
	ReplicaAnnouncePort           int       // replica-announce-port
	ReplicaIgnoreMaxmemory        bool      // replica-ignore-maxmemory
	ReplicaLazyFlush              bool      // replica-lazy-flush
	ReplBacklogSize               int64     // repl-backlog-size
	ReplBacklogTTL                int64     // repl-backlog-ttl (seconds)
	ReplTimeout                   int       // repl-timeout (seconds)
	ReplPingReplicaPeriod         int       // repl-ping-replica-period (seconds)
	ReplDisableTCPNodelay         bool      // repl-disable-tcp-nodelay
	ReplDisklessSync              bool      // repl-diskless-sync
	ReplDisklessSyncDelay         int       // repl-diskless-sync-delay (seconds)
	ReplDisklessSyncMaxReplicas   int       // repl-diskless-sync-max-replicas
	ReplDisklessLoad              string    // repl-diskless-load
	MinReplicasToWrite            int       // min-replicas-to-write
	MinReplicasMaxLag             int       // min-replicas-max-lag (seconds)
	PropagationErrorBehavior      string    // propagation-error-behavior
	ActiveReplica                 bool      // active-replica
	ActiveReplicaMaxClockSkew     int64     // active-replica-max-clock-skew (milliseconds)
	ActiveReplicaTombstoneHorizon int64     // active-replica-tombstone-horizon (seconds)

	// Monitoring.
	SlowlogLogSlowerThan           int64     // slowlog-log-slower-than (microseconds)
	SlowlogMaxLen                  int64     // slowlog-max-len
	LatencyMonitorThreshold        int64     // latency-monitor-threshold (milliseconds)
	LatencyTracking                bool      // latency-tracking
	LatencyTrackingInfoPercentiles []float64 // latency-tracking-info-percentiles
	BusyReplyThreshold             int64     // busy-reply-threshold (milliseconds)

	// Encodings.
	ListMaxListpackSize    int   // list-max-listpack-size
	ListCompressDepth      int   // list-compress-depth
	HashMaxListpackEntries int64 // hash-max-listpack-entries
	HashMaxListpackValue   int64 // hash-max-listpack-value
	SetMaxIntsetEntries    int64 // set-max-intset-entries
	SetMaxListpackEntries  int64 // set-max-listpack-entries
	SetMaxListpackValue    int64 // set-max-listpack-value
	ZsetMaxListpackEntries int64 // zset-max-listpack-entries
	ZsetMaxListpackValue   int64 // zset-max-listpack-value
	StreamNodeMaxBytes     int64 // stream-node-max-bytes
	StreamNodeMaxEntries   int64 // stream-node-max-entries
	HLLSparseMaxBytes      int64 // hll-sparse-max-bytes

	file string // absolute path of the loaded file, "" when none
}

// LoadError reports a bad line in a configuration file or a bad directive on
// the command line.
type LoadError struct {
	File      string // file name as given (or resolved for includes); "" for the command line
	Line      int    // 1-based line number; 0 for the command line
	Directive string // directive name as written, lower-cased; "" when unknown
	Msg       string
}

func (e *LoadError) Error() string {
	if e.File == "" {
		return "command line: " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Default returns a configuration holding every directive's default value.
// dir defaults to the absolute current working directory.
func Default() *Config {
	c := &Config{}
	for _, d := range table {
		if d.def == "" && d.kind == KindSpecial {
			continue // the zero value is the default (replicaof none, no events)
		}
		var args []string
		if d.multi {
			args, _ = SplitArgs(d.def)
		} else {
			args = []string{d.def}
		}
		if err := d.apply(c, args); err != nil {
			panic(fmt.Sprintf("config: default of %q does not parse: %s", d.name, err.reply))
		}
	}
	return c
}

// Load builds the configuration from defaults, then the file at path (if path
// is not ""), then args: the rest of a redis-server style command line such as
// ["--port", "7001", "--replicaof", "10.0.0.2", "6379", "--save", ""]. Later
// settings override earlier ones. Within the file (with its includes) and
// within the command line, "save" lines accumulate; the first one of each
// source replaces what came before, so --save on the command line overrides
// the file's rules.
func Load(path string, args []string) (*Config, error) {
	c := Default()
	l := &loader{cfg: c}
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		c.file = abs
		if err := l.loadFile(path, abs); err != nil {
			return nil, err
		}
	}
	l.saveSeen = false
	if err := l.loadArgs(args); err != nil {
		return nil, err
	}
	return c, nil
}

// File returns the absolute path of the configuration file, or "" when the
// server runs without one.
func (c *Config) File() string { return c.file }

// Clone returns a deep copy, so that a candidate configuration can be built
// and validated without touching the live one.
func (c *Config) Clone() *Config {
	n := *c
	n.Bind = slices.Clone(c.Bind)
	n.Save = slices.Clone(c.Save)
	n.LatencyTrackingInfoPercentiles = slices.Clone(c.LatencyTrackingInfoPercentiles)
	if c.ReplicaOf != nil {
		hp := *c.ReplicaOf
		n.ReplicaOf = &hp
	}
	return &n
}

// MaxmemoryClientsBytes resolves maxmemory-clients, which may be a
// percentage of maxmemory, to bytes (0 = no limit).
func (c *Config) MaxmemoryClientsBytes() int64 {
	if c.MaxmemoryClients >= 0 {
		return c.MaxmemoryClients
	}
	return c.Maxmemory / 100 * -c.MaxmemoryClients
}

// Validate checks constraints that involve several directives or the
// environment; each directive's own syntax was already checked when it was
// set. All problems are reported, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Port == 0 && c.UnixSocket == "" {
		bad("not listening anywhere: port is 0 and unixsocket is not set")
	}
	if c.ActiveReplica && c.ReplicaReadOnly {
		bad("active-replica yes needs replica-read-only no: active replicas accept writes")
	}
	if hp := c.ReplicaOf; hp != nil && hp.Port == c.Port && isLocalHost(hp.Host) {
		bad("replicaof %s %d points at this server itself", hp.Host, hp.Port)
	}
	if c.ReplTimeout <= c.ReplPingReplicaPeriod {
		bad("repl-timeout (%d) must be greater than repl-ping-replica-period (%d), or replicas will time out between pings",
			c.ReplTimeout, c.ReplPingReplicaPeriod)
	}
	if st, err := os.Stat(c.Dir); err != nil {
		bad("dir %q: %v", c.Dir, err)
	} else if !st.IsDir() {
		bad("dir %q is not a directory", c.Dir)
	}
	if c.LogFile != "" {
		d := filepath.Dir(c.logPath())
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			bad("logfile %q: directory %q does not exist", c.LogFile, d)
		}
	}
	if c.UnixSocket != "" {
		d := filepath.Dir(c.relToDir(c.UnixSocket))
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			bad("unixsocket %q: directory %q does not exist", c.UnixSocket, d)
		}
	}
	return errors.Join(errs...)
}

// logPath resolves logfile the way the server opens it: relative to dir,
// which Redis makes the working directory.
func (c *Config) logPath() string { return c.relToDir(c.LogFile) }

func (c *Config) relToDir(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

func isLocalHost(h string) bool {
	switch strings.ToLower(h) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}
