package server

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fluidb/fluidb/server/clock"
	"github.com/fluidb/fluidb/server/keyspace"
)

// INFO, and the introspection state the server keeps for it: error counts
// per error code, the memory peak, the replication id a standalone master
// reports, and the clients postponed by CLIENT PAUSE.

// introState is the introspection bookkeeping that has no better home.
type introState struct {
	replid       string           // master_replid, drawn on first use
	memPeak      int64            // used_memory_peak
	errors       map[string]int64 // errorstats: error replies per code
	errorReplies int64            // total_error_replies
	lastSave     int64            // LASTSAVE / rdb_last_save_time (unix s)
	postponed    []*Client        // clients whose command waits for CLIENT PAUSE to end
	pauseTimer   *time.Timer
	memSamples   []metrics.Sample
}

// maxErrorCodes bounds errorstats like Redis's ERRORSTATS_LIMIT, so a
// client inventing error codes (through scripts) cannot grow it forever.
const maxErrorCodes = 128

// countErrorReply records an error reply for errorstats, with Redis's rule
// for the code: the first word when a space comes within 32 bytes, else ERR.
func (s *Server) countErrorReply(msg string) {
	s.intro.errorReplies++
	code := "ERR"
	lim := msg
	if len(lim) > 32 {
		lim = lim[:32]
	}
	if i := strings.IndexByte(lim, ' '); i > 0 {
		code = msg[:i]
	}
	if s.intro.errors == nil {
		s.intro.errors = map[string]int64{}
	}
	if _, ok := s.intro.errors[code]; !ok && len(s.intro.errors) >= maxErrorCodes {
		return
	}
	s.intro.errors[code]++
}

// replID is the replication id INFO and ROLE report; a standalone master
// still has one, as in Redis.
func (s *Server) replID() string {
	if s.intro.replid == "" {
		var b [20]byte
		_, _ = rand.Read(b[:])
		s.intro.replid = hex.EncodeToString(b[:])
	}
	return s.intro.replid
}

// lastSaveTime is LASTSAVE: the start time until persistence exists.
func (s *Server) lastSaveTime() int64 {
	if s.intro.lastSave == 0 {
		s.intro.lastSave = s.startTime.Unix()
	}
	return s.intro.lastSave
}

// usedMemory is Go's heap in use by objects, the closest analogue of
// Redis's used_memory (bytes handed out by the allocator).
func (s *Server) usedMemory() int64 {
	if s.intro.memSamples == nil {
		s.intro.memSamples = []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/total:bytes"},
		}
	}
	metrics.Read(s.intro.memSamples)
	var used int64
	if v := s.intro.memSamples[0].Value; v.Kind() == metrics.KindUint64 {
		used = int64(v.Uint64())
	}
	if used > s.intro.memPeak {
		s.intro.memPeak = used
	}
	return used
}

// goMemoryTotal is all memory the Go runtime mapped (allocator_resident-ish).
func (s *Server) goMemoryTotal() int64 {
	if v := s.intro.memSamples[1].Value; v.Kind() == metrics.KindUint64 {
		return int64(v.Uint64())
	}
	return 0
}

// residentMemory reads the RSS from /proc/self/statm (0 where unavailable).
func residentMemory() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "MemTotal:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				kb, _ := strconv.ParseInt(fs[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// bytesToHuman renders a byte count like Redis's INFO (943.25K, 0B).
func bytesToHuman(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1024*1024:
		return strconv.FormatFloat(d/1024, 'f', 2, 64) + "K"
	case n < 1024*1024*1024:
		return strconv.FormatFloat(d/(1024*1024), 'f', 2, 64) + "M"
	case n < 1024*1024*1024*1024:
		return strconv.FormatFloat(d/(1024*1024*1024), 'f', 2, 64) + "G"
	case n < 1024*1024*1024*1024*1024:
		return strconv.FormatFloat(d/(1024*1024*1024*1024), 'f', 2, 64) + "T"
	}
	return strconv.FormatFloat(d/(1024*1024*1024*1024*1024), 'f', 2, 64) + "P"
}

// infoWriter accumulates "name:value\r\n" lines.
type infoWriter struct{ b strings.Builder }

func (w *infoWriter) section(name string) {
	if w.b.Len() > 0 {
		w.b.WriteString("\r\n")
	}
	w.b.WriteString("# ")
	w.b.WriteString(name)
	w.b.WriteString("\r\n")
}

func (w *infoWriter) str(k, v string) {
	w.b.WriteString(k)
	w.b.WriteByte(':')
	w.b.WriteString(v)
	w.b.WriteString("\r\n")
}

func (w *infoWriter) int(k string, v int64) { w.str(k, strconv.FormatInt(v, 10)) }

func (w *infoWriter) float(k string, v float64, prec int) {
	w.str(k, strconv.FormatFloat(v, 'f', prec, 64))
}

// infoSection is one INFO section; def marks the ones "default" includes,
// all the ones "all" includes ("everything" is all of them).
type infoSection struct {
	name string
	def  bool
	all  bool
	gen  func(s *Server, w *infoWriter)
}

// infoSections is Redis 7.0's section order; fluidb's own section comes
// last and only on request or with all/everything, so tools reading the
// default INFO see exactly Redis's sections.
var infoSections = []infoSection{
	{"server", true, true, (*Server).infoServer},
	{"clients", true, true, (*Server).infoClients},
	{"memory", true, true, (*Server).infoMemory},
	{"persistence", true, true, (*Server).infoPersistence},
	{"stats", true, true, (*Server).infoStats},
	{"replication", true, true, (*Server).infoReplication},
	{"cpu", true, true, (*Server).infoCPU},
	{"modules", true, true, func(s *Server, w *infoWriter) { w.section("Modules") }},
	{"commandstats", false, true, (*Server).infoCommandStats},
	{"errorstats", true, true, (*Server).infoErrorStats},
	{"latencystats", false, true, (*Server).infoLatencyStats},
	{"cluster", true, true, func(s *Server, w *infoWriter) { w.section("Cluster"); w.int("cluster_enabled", 0) }},
	{"keyspace", true, true, (*Server).infoKeyspace},
	{"fluidb", true, true, (*Server).infoFluidb},
}

// genInfo renders the sections named by args (Redis's rules: none means
// "default"; "all", "default" and "everything" expand; names are
// case-insensitive; unknown names add nothing).
func (s *Server) genInfo(args [][]byte) string {
	want := map[string]bool{}
	if len(args) == 0 {
		args = [][]byte{[]byte("default")}
	}
	for _, a := range args {
		name := strings.ToLower(string(a))
		switch name {
		case "default":
			for _, sec := range infoSections {
				if sec.def {
					want[sec.name] = true
				}
			}
		case "all", "everything":
			for _, sec := range infoSections {
				if sec.all {
					want[sec.name] = true
				}
			}
		default:
			want[name] = true
		}
	}
	var w infoWriter
	for _, sec := range infoSections {
		if want[sec.name] {
			sec.gen(s, &w)
		}
	}
	return w.b.String()
}

func infoCmd(c *Client) {
	c.addVerbatim(c.s.genInfo(c.argv[1:]))
}

func (s *Server) infoServer(w *infoWriter) {
	now := time.Now()
	w.section("Server")
	w.str("redis_version", RedisVersion)
	w.str("fluidb_version", Version)
	w.str("redis_git_sha1", "0")
	w.str("redis_git_dirty", "0")
	w.str("redis_build_id", buildID())
	w.str("redis_mode", "standalone")
	w.str("os", osName())
	w.int("arch_bits", strconv.IntSize)
	w.str("monotonic_clock", "POSIX clock_gettime")
	w.str("multiplexing_api", multiplexingAPI())
	w.str("atomicvar_api", "c11-builtin")
	w.str("gcc_version", "0.0.0")
	w.int("process_id", int64(os.Getpid()))
	w.str("process_supervised", "no")
	w.str("run_id", s.runID)
	w.int("tcp_port", int64(s.cfg.Port))
	w.int("server_time_usec", now.UnixMicro())
	up := int64(now.Sub(s.startTime) / time.Second)
	w.int("uptime_in_seconds", up)
	w.int("uptime_in_days", up/86400)
	hz := s.cfg.Hz
	w.int("hz", int64(hz))
	w.int("configured_hz", int64(hz))
	w.int("lru_clock", (now.UnixMilli()/1000)&(1<<24-1))
	exe, _ := os.Executable()
	w.str("executable", exe)
	w.str("config_file", s.cfg.File())
	w.int("io_threads_active", 0)
}

func buildID() string {
	b := []byte(Version + "/" + runtime.Version())
	var h uint64 = 14695981039346656037
	for _, ch := range b {
		h ^= uint64(ch)
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 16)
}

func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	case "solaris", "illumos":
		return "evport"
	}
	return "select"
}

func (s *Server) infoClients(w *infoWriter) {
	w.section("Clients")
	replicas, inTimeout := 0, 0
	for _, c := range s.clients {
		if c.flags&flagReplica != 0 {
			replicas++
		}
		if c.blocked != nil && !c.blocked.deadline.IsZero() {
			inTimeout++
		}
	}
	w.int("connected_clients", int64(len(s.clients)-replicas))
	w.int("cluster_connections", 0)
	w.int("maxclients", int64(s.cfg.Maxclients))
	w.int("client_recent_max_input_buffer", 0)
	w.int("client_recent_max_output_buffer", 0)
	w.int("blocked_clients", int64(s.blocking.count))
	w.int("tracking_clients", 0)
	w.int("clients_in_timeout_table", int64(inTimeout))
	w.int("total_blocking_keys", int64(len(s.blocking.byKey)))
}

func (s *Server) infoMemory(w *infoWriter) {
	used := s.usedMemory()
	rss := residentMemory()
	peak := s.intro.memPeak
	total := s.goMemoryTotal()
	sys := totalSystemMemory()
	w.section("Memory")
	w.int("used_memory", used)
	w.str("used_memory_human", bytesToHuman(used))
	w.int("used_memory_rss", rss)
	w.str("used_memory_rss_human", bytesToHuman(rss))
	w.int("used_memory_peak", peak)
	w.str("used_memory_peak_human", bytesToHuman(peak))
	perc := 0.0
	if peak > 0 {
		perc = float64(used) * 100 / float64(peak)
	}
	w.str("used_memory_peak_perc", strconv.FormatFloat(perc, 'f', 2, 64)+"%")
	w.int("used_memory_overhead", 0)
	w.int("used_memory_startup", 0)
	w.int("used_memory_dataset", used)
	w.str("used_memory_dataset_perc", "100.00%")
	w.int("allocator_allocated", used)
	w.int("allocator_active", used)
	w.int("allocator_resident", total)
	w.int("total_system_memory", sys)
	w.str("total_system_memory_human", bytesToHuman(sys))
	w.int("used_memory_lua", 0)
	w.int("used_memory_vm_eval", 0)
	w.str("used_memory_lua_human", "0B")
	w.int("used_memory_scripts_eval", 0)
	w.int("number_of_cached_scripts", 0)
	w.int("number_of_functions", 0)
	w.int("number_of_libraries", 0)
	w.int("used_memory_vm_functions", 0)
	w.int("used_memory_vm_total", 0)
	w.str("used_memory_vm_total_human", "0B")
	w.int("used_memory_functions", 0)
	w.int("used_memory_scripts", 0)
	w.str("used_memory_scripts_human", "0B")
	w.int("maxmemory", s.cfg.Maxmemory)
	w.str("maxmemory_human", bytesToHuman(s.cfg.Maxmemory))
	w.str("maxmemory_policy", s.cfg.MaxmemoryPolicy)
	ratio := func(a, b int64) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	w.float("allocator_frag_ratio", 1, 2)
	w.int("allocator_frag_bytes", 0)
	w.float("allocator_rss_ratio", ratio(rss, total), 2)
	w.int("allocator_rss_bytes", rss-total)
	w.float("rss_overhead_ratio", 1, 2)
	w.int("rss_overhead_bytes", 0)
	w.float("mem_fragmentation_ratio", ratio(rss, used), 2)
	w.int("mem_fragmentation_bytes", rss-used)
	w.int("mem_not_counted_for_evict", 0)
	w.int("mem_replication_backlog", 0)
	w.int("mem_total_replication_buffers", 0)
	w.int("mem_clients_slaves", 0)
	var normal int64
	for _, c := range s.clients {
		normal += int64(cap(c.out))
	}
	w.int("mem_clients_normal", normal)
	w.int("mem_cluster_links", 0)
	w.int("mem_aof_buffer", 0)
	w.str("mem_allocator", "go")
	w.int("active_defrag_running", 0)
	w.int("lazyfree_pending_objects", 0)
	w.int("lazyfreed_objects", 0)
}

func (s *Server) infoPersistence(w *infoWriter) {
	w.section("Persistence")
	s.persistenceInfo(w)
	for _, kv := range s.aofInfo() { // aof.go
		w.str(kv[0], kv[1])
	}
	w.int("module_fork_in_progress", 0)
	w.int("module_fork_last_cow_size", 0)
	for _, kv := range s.aofInfoEnabled() {
		w.str(kv[0], kv[1])
	}
}

func (s *Server) infoStats(w *infoWriter) {
	st := &s.stats
	w.section("Stats")
	w.int("total_connections_received", st.connections)
	w.int("total_commands_processed", st.commands)
	w.int("instantaneous_ops_per_sec", s.instantaneousOps())
	w.int("total_net_input_bytes", s.netInput.Load())
	w.int("total_net_output_bytes", s.netOutput.Load())
	w.int("total_net_repl_input_bytes", 0)
	w.int("total_net_repl_output_bytes", 0)
	w.str("instantaneous_input_kbps", "0.00")
	w.str("instantaneous_output_kbps", "0.00")
	w.str("instantaneous_input_repl_kbps", "0.00")
	w.str("instantaneous_output_repl_kbps", "0.00")
	w.int("rejected_connections", st.rejectedConns)
	full, pok, perr := s.replicationStats()
	w.int("sync_full", full)
	w.int("sync_partial_ok", pok)
	w.int("sync_partial_err", perr)
	w.int("expired_keys", st.expiredKeys)
	w.float("expired_stale_perc", st.expiredStalePerc*100, 2)
	w.int("expired_time_cap_reached_count", 0)
	w.int("expire_cycle_cpu_milliseconds", 0)
	w.int("evicted_keys", st.evictedKeys)
	w.int("evicted_clients", 0)
	w.int("total_eviction_exceeded_time", 0)
	w.int("current_eviction_exceeded_time", 0)
	w.int("keyspace_hits", st.keyspaceHits)
	w.int("keyspace_misses", st.keyspaceMisses)
	w.int("pubsub_channels", int64(len(s.pubsub.channels)))
	w.int("pubsub_patterns", int64(len(s.pubsub.patterns)))
	w.int("pubsubshard_channels", 0)
	w.int("latest_fork_usec", 0)
	w.int("total_forks", 0)
	w.int("migrate_cached_sockets", 0)
	w.int("slave_expires_tracked_keys", 0)
	w.int("active_defrag_hits", 0)
	w.int("active_defrag_misses", 0)
	w.int("active_defrag_key_hits", 0)
	w.int("active_defrag_key_misses", 0)
	w.int("total_active_defrag_time", 0)
	w.int("current_active_defrag_time", 0)
	w.int("tracking_total_keys", 0)
	w.int("tracking_total_items", 0)
	w.int("tracking_total_prefixes", 0)
	w.int("unexpected_error_replies", 0)
	w.int("total_error_replies", s.intro.errorReplies)
	w.int("dump_payload_sanitizations", 0)
	w.int("total_reads_processed", 0)
	w.int("total_writes_processed", 0)
	w.int("io_threaded_reads_processed", 0)
	w.int("io_threaded_writes_processed", 0)
	w.int("reply_buffer_shrinks", 0)
	w.int("reply_buffer_expands", 0)
}

func (s *Server) infoReplication(w *infoWriter) {
	w.section("Replication")
	for _, kv := range s.replicationInfo() {
		w.str(kv[0], kv[1])
	}
}

func (s *Server) infoCPU(w *infoWriter) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatInt(int64(t.Sec), 10) + "." + pad6(int64(t.Usec))
	}
	w.section("CPU")
	w.str("used_cpu_sys", tv(self.Stime))
	w.str("used_cpu_user", tv(self.Utime))
	w.str("used_cpu_sys_children", tv(children.Stime))
	w.str("used_cpu_user_children", tv(children.Utime))
	// Go spreads work over OS threads; the process figures are the
	// honest answer for "the thread that runs commands".
	w.str("used_cpu_sys_main_thread", tv(self.Stime))
	w.str("used_cpu_user_main_thread", tv(self.Utime))
}

func pad6(n int64) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// allCommands lists every command and subcommand, sorted by full name.
func (s *Server) allCommands() []*Command {
	var out []*Command
	for _, cmd := range s.cmds {
		out = append(out, cmd)
		for _, sub := range cmd.Sub {
			out = append(out, sub)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) infoCommandStats(w *infoWriter) {
	w.section("Commandstats")
	for _, cmd := range s.allCommands() {
		if cmd.calls == 0 && cmd.failed == 0 && cmd.rejected == 0 {
			continue
		}
		per := 0.0
		if cmd.calls > 0 {
			per = float64(cmd.usec) / float64(cmd.calls)
		}
		w.str("cmdstat_"+cmd.Name, "calls="+strconv.FormatInt(cmd.calls, 10)+
			",usec="+strconv.FormatInt(cmd.usec, 10)+
			",usec_per_call="+strconv.FormatFloat(per, 'f', 2, 64)+
			",rejected_calls="+strconv.FormatInt(cmd.rejected, 10)+
			",failed_calls="+strconv.FormatInt(cmd.failed, 10))
	}
}

func (s *Server) infoErrorStats(w *infoWriter) {
	w.section("Errorstats")
	codes := make([]string, 0, len(s.intro.errors))
	for code := range s.intro.errors {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		w.str("errorstat_"+code, "count="+strconv.FormatInt(s.intro.errors[code], 10))
	}
}

func (s *Server) infoLatencyStats(w *infoWriter) {
	w.section("Latencystats")
	if !s.cfg.LatencyTracking {
		return
	}
	for _, cmd := range s.allCommands() {
		h := s.latency.hist[cmd]
		if h == nil || h.count == 0 {
			continue
		}
		var b strings.Builder
		for i, p := range s.cfg.LatencyTrackingInfoPercentiles {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("p")
			b.WriteString(strconv.FormatFloat(p, 'f', -1, 64))
			b.WriteByte('=')
			b.WriteString(strconv.FormatFloat(float64(h.percentile(p))/1000, 'f', 3, 64))
		}
		w.str("latency_percentiles_usec_"+cmd.Name, b.String())
	}
}

func (s *Server) infoKeyspace(w *infoWriter) {
	w.section("Keyspace")
	for i, db := range s.dbs {
		if db.Len() == 0 {
			continue
		}
		w.str("db"+strconv.Itoa(i), "keys="+strconv.Itoa(db.Len())+
			",expires="+strconv.Itoa(db.ExpiresLen())+
			",avg_ttl="+strconv.FormatInt(s.avgTTL(i), 10))
	}
}

// avgTTL estimates the mean remaining TTL (ms) of a db from a small sample
// of its volatile keys; Redis also reports an estimate.
func (s *Server) avgTTL(i int) int64 {
	db := s.dbs[i]
	if db.ExpiresLen() == 0 {
		return 0
	}
	now := time.Now().UnixMilli()
	var sum, n int64
	var cursor uint64
	// Bounded in buckets as well as samples: a table full of keys that
	// expired but are not removed yet must not turn INFO into a full scan.
	for steps := 0; n < 32 && steps < 128; steps++ {
		cursor = db.ScanExpires(cursor, func(_ string, e *keyspace.Entry) {
			if ttl := e.Expire - now; ttl > 0 {
				sum += ttl
				n++
			}
		})
		if cursor == 0 {
			break
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// osName is what uname -s -r -m says, as Redis reports it.
func osName() string {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	typ, rel := read("/proc/sys/kernel/ostype"), read("/proc/sys/kernel/osrelease")
	if typ == "" {
		typ = runtime.GOOS
	}
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	case "386":
		arch = "i686"
	}
	return strings.TrimSpace(typ + " " + rel + " " + arch)
}

func (s *Server) infoFluidb(w *infoWriter) {
	w.section("Fluidb")
	w.str("node_uuid", s.NodeID().String())
	w.int("active_replica", boolInt(s.cfg.ActiveReplica))
	hlc := max(s.clock.Last(), clock.Make(time.Now().UnixMilli(), 0))
	w.int("hlc", int64(hlc))
	w.int("hlc_ms", clock.Millis(hlc))
	for _, kv := range s.replicationFluidbInfo() {
		w.str(kv[0], kv[1])
	}
	for _, kv := range s.activeInfo() {
		w.str(kv[0], kv[1])
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
