package server

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
)

// DEBUG (Redis's debug.c, the parts tests and tools use) and MEMORY.
// DEBUG is gated by enable-debug-command (no | yes | local).

func registerDebugCommands(t table) {
	t.add(&Command{Name: "debug", Proc: debugCmd, Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server"})
}

func (c *Client) debugAllowed() bool {
	switch c.s.cfg.EnableDebugCommand {
	case "yes":
		return true
	case "local":
		return c.isLocal()
	}
	return false
}

var debugHelp = []string{
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"    fluidb's digest also covers each key's expiry time.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"HTSTATS <dbid>",
	"    Return hash table statistics of the specified Redis database.",
	"HTSTATS-KEY <key>",
	"    Like HTSTATS but for the hash table stored at <key>'s value.",
	"LISTPACK <key>",
	"    Show low level info about the listpack encoding of <key>.",
	"QUICKLIST-PACKED-THRESHOLD <size>",
	"    Sets the threshold for elements to be inserted as plain vs packed nodes",
	"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
	"OBJECT <key>",
	"    Show low level info about the <key> and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

func debugCmd(c *Client) {
	if !c.debugAllowed() {
		c.addError(errNotDebug)
		return
	}
	s := c.s
	sub := strings.ToLower(string(c.argv[1]))
	n := len(c.argv)
	switch {
	case sub == "help" && n == 2:
		c.addHelp("DEBUG", debugHelp)
	case sub == "log" && n == 3:
		s.log.Printf("DEBUG LOG: %s", c.argv[2])
		c.addOK()
	case sub == "error" && n == 3:
		c.addError(string(c.argv[2]))
	case sub == "sleep" && n == 3:
		// Like Redis, the whole server stops: the lock stays held.
		f, ok := parseFloat(c.argv[2])
		if !ok {
			f = 0
		}
		time.Sleep(time.Duration(f * float64(time.Second)))
		c.addOK()
	case sub == "set-active-expire" && n == 3:
		// Redis reads the flag with atoi: anything not a number is 0.
		v, _ := strconv.Atoi(string(c.argv[2]))
		s.activeExpireDisabled = v == 0
		c.addOK()
	case sub == "digest" && n == 2:
		d := s.datasetDigest()
		c.addSimple(hex.EncodeToString(d[:]))
	case sub == "digest-value" && n >= 2:
		c.addArrayLen(n - 2)
		for _, k := range c.argv[2:] {
			var d [20]byte
			if e := c.db.Get(k); e != nil {
				d = valueDigest(e)
			}
			c.addSimple(hex.EncodeToString(d[:]))
		}
	case sub == "object" && n == 3:
		debugObject(c)
	case sub == "protocol" && n == 3:
		debugProtocol(c)
	case sub == "populate" && n >= 3 && n <= 5:
		debugPopulate(c)
	case sub == "change-repl-id" && n == 2:
		s.intro.replid = ""
		s.log.Printf("Changing replication IDs after receiving DEBUG change-repl-id")
		c.addOK()
	case sub == "quicklist-packed-threshold" && n == 3:
		c.addOK()
	case sub == "listpack" && n == 3:
		if c.db.Get(c.argv[2]) == nil {
			c.addError(errNoKey)
			return
		}
		c.addSimple("Listpack structure printed on stdout")
	case sub == "htstats" && n >= 3:
		debugHTStats(c)
	case sub == "htstats-key" && n >= 3:
		e := c.db.Get(c.argv[2])
		if e == nil {
			c.addError(errNoKey)
			return
		}
		if e.Obj == nil || e.Kind() == keyspace.KindList {
			c.addError("ERR The value stored at the specified key is not represented using an hash table")
			return
		}
		c.addVerbatim("[Dictionary HT]\n")
	case sub == "pause-cron" && n == 3, sub == "replybuffer" && n == 4, sub == "dict-resizing" && n == 3,
		sub == "set-skip-checksum-validation" && n == 3, sub == "set-disable-deny-scripts" && n == 3:
		c.addOK()
	case sub == "config-rewrite-force-all" && n == 2:
		if err := s.cfg.Rewrite(); err != nil {
			c.addError(err.Error())
			return
		}
		c.addOK()
	case sub == "reload":
		// DEBUG RELOAD: save, empty, load back (the round trip the Redis
		// test suite uses to check persistence of every encoding).
		if err := s.reloadLocked(); err != nil {
			c.addError("ERR Error trying to load the RDB dump: " + err.Error())
			return
		}
		c.addOK()
	case sub == "loadaof":
		if err := s.debugLoadAOF(); err != nil { // aof.go
			c.addError("ERR Error trying to load the AOF files: " + err.Error())
			return
		}
		c.addOK()
	case sub == "segfault" || sub == "panic" ||
		sub == "assert" || sub == "oom" || sub == "restart" || sub == "crash-and-recover":
		c.addError("ERR DEBUG " + strings.ToUpper(sub) + " is not supported by fluidb")
	default:
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(c.argv[1]) + "'. Try DEBUG HELP.")
	}
}

// The dataset digest follows Redis's DEBUG DIGEST construction (SHA1
// digests XORed per key so key order does not matter, mixed per database)
// but is not byte-compatible with it, and it also covers each key's
// absolute expiry time, where Redis only notes that a TTL exists: two
// nodes agree on the digest only if keys, values and TTLs all agree.

// xorDigest XORs SHA1(p) into d.
func xorDigest(d *[20]byte, p []byte) {
	h := sha1.Sum(p)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mixDigest folds p into d in an order-dependent way.
func mixDigest(d *[20]byte, p []byte) {
	xorDigest(d, p)
	*d = sha1.Sum(d[:])
}

func (s *Server) datasetDigest() [20]byte {
	var final [20]byte
	for i, db := range s.dbs {
		if db.Len() == 0 {
			continue
		}
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], uint32(i))
		mixDigest(&final, id[:])
		db.Range(func(key string, e *keyspace.Entry) bool {
			var d [20]byte
			mixDigest(&d, []byte(key))
			v := valueDigest(e)
			mixDigest(&d, v[:])
			if e.Expire != 0 {
				mixDigest(&d, strconv.AppendInt([]byte("!!expire!!"), e.Expire, 10))
			}
			for j := range final {
				final[j] ^= d[j]
			}
			return true
		})
	}
	return final
}

// valueDigest digests one value: ordered types mix their elements in
// order; sets, hashes and sorted sets XOR per-element digests.
func valueDigest(e *keyspace.Entry) [20]byte {
	var d [20]byte
	mixDigest(&d, []byte(e.Kind().String()))
	switch v := e.Obj.(type) {
	case nil:
		mixDigest(&d, e.Str)
	case *keyspace.List:
		v.Range(false, func(_ int, el []byte) bool {
			mixDigest(&d, el)
			return true
		})
	case *keyspace.Set:
		var x [20]byte
		v.Each(func(m string) bool {
			xorDigest(&x, []byte(m))
			return true
		})
		mixDigest(&d, x[:])
	case *keyspace.Hash:
		var x [20]byte
		v.Each(func(f string, val []byte) bool {
			var el [20]byte
			mixDigest(&el, []byte(f))
			mixDigest(&el, val)
			for i := range x {
				x[i] ^= el[i]
			}
			return true
		})
		mixDigest(&d, x[:])
	case *keyspace.ZSet:
		var x [20]byte
		v.Range(func(m string, score float64) bool {
			var el [20]byte
			mixDigest(&el, []byte(m))
			mixDigest(&el, []byte(strconv.FormatFloat(score, 'g', 17, 64)))
			for i := range x {
				x[i] ^= el[i]
			}
			return true
		})
		mixDigest(&d, x[:])
	}
	return d
}

// debugObject is DEBUG OBJECT's one-line description, in Redis's shape.
func debugObject(c *Client) {
	e := c.db.Get(c.argv[2])
	if e == nil {
		c.addError(errNoKey)
		return
	}
	enc := encodingOf(e)
	var b strings.Builder
	b.WriteString("Value at:0x")
	b.WriteString(strconv.FormatUint(uint64(e.Stamp)|0x7f0000000000, 16))
	b.WriteString(" refcount:1 encoding:")
	b.WriteString(enc)
	b.WriteString(" serializedlength:")
	b.WriteString(strconv.FormatInt(serializedLength(e), 10))
	b.WriteString(" lru:")
	b.WriteString(strconv.FormatUint(uint64(e.Access)&(1<<24-1), 10))
	b.WriteString(" lru_seconds_idle:")
	idle := int64(c.s.lruClock()) - int64(e.Access)
	b.WriteString(strconv.FormatInt(max(idle, 0), 10))
	if l, ok := e.Obj.(*keyspace.List); ok {
		var size int
		l.Range(false, func(_ int, el []byte) bool {
			size += len(el)
			return true
		})
		nodes := max((l.Len()+127)/128, 1)
		b.WriteString(" ql_nodes:" + strconv.Itoa(nodes))
		b.WriteString(" ql_avg_node:" + strconv.FormatFloat(float64(l.Len())/float64(nodes), 'f', 2, 64))
		b.WriteString(" ql_listpack_max:" + strconv.Itoa(c.s.cfg.ListMaxListpackSize))
		b.WriteString(" ql_compressed:0")
		b.WriteString(" ql_uncompressed_size:" + strconv.Itoa(size))
	}
	c.addSimple(b.String())
}

// serializedLength approximates the RDB size of a value.
func serializedLength(e *keyspace.Entry) int64 {
	var n int64
	add := func(b int) { n += int64(b) + 1 }
	switch v := e.Obj.(type) {
	case nil:
		if _, ok := parseInt(e.Str); ok && len(e.Str) <= 11 {
			return 5
		}
		add(len(e.Str))
	case *keyspace.List:
		v.Range(false, func(_ int, el []byte) bool { add(len(el)); return true })
	case *keyspace.Set:
		v.Each(func(m string) bool { add(len(m)); return true })
	case *keyspace.Hash:
		v.Each(func(f string, val []byte) bool { add(len(f)); add(len(val)); return true })
	case *keyspace.ZSet:
		v.Range(func(m string, _ float64) bool { add(len(m)); n += 8; return true })
	}
	return n
}

func debugProtocol(c *Client) {
	switch strings.ToLower(string(c.argv[2])) {
	case "string":
		c.addBulkString("Hello World")
	case "integer":
		c.addInt(12345)
	case "double":
		c.addDouble(3.141)
	case "bignum":
		if c.proto >= 3 {
			c.addRaw([]byte("(1234567999999999999999999999999999999\r\n"))
		} else {
			c.addBulkString("1234567999999999999999999999999999999")
		}
	case "null":
		c.addNull()
	case "array":
		c.addArrayLen(3)
		for j := 0; j < 3; j++ {
			c.addInt(int64(j))
		}
	case "set":
		c.addSetLen(3)
		for j := 0; j < 3; j++ {
			c.addInt(int64(j))
		}
	case "map":
		c.addMapLen(3)
		for j := 0; j < 3; j++ {
			c.addInt(int64(j))
			c.addBool(j == 1)
		}
	case "attrib":
		if c.proto >= 3 {
			c.addRaw([]byte("|1\r\n"))
			c.addBulkString("key-popularity")
			c.addArrayLen(2)
			c.addBulkString("key:123")
			c.addInt(90)
		}
		c.addBulkString("Some real reply following the attribute")
	case "push":
		if c.proto < 3 {
			c.addError("ERR RESP2 is not supported by this command")
			return
		}
		c.addPushLen(2)
		c.addBulkString("server-cpu-usage")
		c.addInt(42)
		c.addBulkString("Some real reply following the push reply")
	case "true":
		c.addBool(true)
	case "false":
		c.addBool(false)
	case "verbatim":
		c.addVerbatim("This is a verbatim\nstring")
	default:
		c.addError("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

// debugPopulate is DEBUG POPULATE count [prefix] [size]: string keys
// prefix:N holding value:N (padded or cut to size), skipping keys that
// exist. Like Redis it does not notify or wake anyone, but the keys are
// stamped like any write.
func debugPopulate(c *Client) {
	count, ok := parseInt(c.argv[2])
	if !ok || count < 0 {
		c.addError("ERR value is out of range, must be positive")
		return
	}
	prefix := "key"
	if len(c.argv) >= 4 {
		prefix = string(c.argv[3])
	}
	size := int64(-1)
	if len(c.argv) == 5 {
		n, ok := parseInt(c.argv[4])
		if !ok || n < 0 {
			c.addError("ERR size must be greater than or equal to 0")
			return
		}
		size = n
	}
	s := c.s
	for j := int64(0); j < count; j++ {
		key := []byte(prefix + ":" + strconv.FormatInt(j, 10))
		if c.db.Get(key) != nil {
			continue
		}
		val := []byte("value:" + strconv.FormatInt(j, 10))
		if size >= 0 {
			if int64(len(val)) > size {
				val = val[:size]
			} else {
				val = append(val, make([]byte, size-int64(len(val)))...)
			}
		}
		e := s.setKey(c.db, key, val, false)
		e.Access = s.lruClock()
		s.modified(c.db, key, e)
	}
	c.addOK()
}

func debugHTStats(c *Client) {
	id, ok := parseInt(c.argv[2])
	if !ok || id < 0 || id >= int64(len(c.s.dbs)) {
		c.addError("ERR Out of range database")
		return
	}
	db := c.s.dbs[id]
	var b strings.Builder
	b.WriteString("[Dictionary HT]\n")
	if db.Len() == 0 {
		b.WriteString("No stats available for empty dictionaries\n")
	} else {
		b.WriteString("Hash table 0 stats (main hash table):\n table size: " + strconv.Itoa(tableSize(db.Len())) +
			"\n number of elements: " + strconv.Itoa(db.Len()) + "\n")
	}
	b.WriteString("[Expires HT]\n")
	if db.ExpiresLen() == 0 {
		b.WriteString("No stats available for empty dictionaries\n")
	} else {
		b.WriteString("Hash table 0 stats (main hash table):\n table size: " + strconv.Itoa(tableSize(db.ExpiresLen())) +
			"\n number of elements: " + strconv.Itoa(db.ExpiresLen()) + "\n")
	}
	c.addVerbatim(b.String())
}

func tableSize(n int) int {
	size := 4
	for size < n {
		size *= 2
	}
	return size
}

// MEMORY

func memoryHelpCmd(c *Client) {
	c.addHelp("MEMORY", []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

// Per-allocation overheads used by MEMORY USAGE's estimate; they follow
// the sizes of the Go structures holding each kind of value.
const (
	memKeyOverhead  = 48 // dict node + Entry header
	memElemOverhead = 40 // per element of a collection
)

func memoryUsageCmd(c *Client) {
	samples := int64(5)
	for i := 3; i < len(c.argv); i++ {
		if strings.EqualFold(string(c.argv[i]), "samples") && i+1 < len(c.argv) {
			n, ok := c.getInt(c.argv[i+1])
			if !ok {
				return
			}
			if n < 0 {
				c.addError(errSyntax)
				return
			}
			samples = n
			i++
			continue
		}
		c.addError(errSyntax)
		return
	}
	e := c.lookupNoTouch(c.argv[2])
	if e == nil {
		c.addNull()
		return
	}
	c.addInt(memoryUsage(c.argv[2], e, samples))
}

// memoryUsage estimates the bytes a key costs. Collections are sampled
// (samples elements, 0 = all) and the average extrapolated, as in Redis.
func memoryUsage(key []byte, e *keyspace.Entry, samples int64) int64 {
	size := int64(memKeyOverhead + len(key))
	var seen, bytes int64
	visit := func(n int) bool {
		seen++
		bytes += int64(n) + memElemOverhead
		return samples == 0 || seen < samples
	}
	var total int
	switch v := e.Obj.(type) {
	case nil:
		return size + int64(cap(e.Str))
	case *keyspace.List:
		total = v.Len()
		v.Range(false, func(_ int, el []byte) bool { return visit(len(el)) })
	case *keyspace.Set:
		total = v.Len()
		v.Each(func(m string) bool { return visit(len(m)) })
	case *keyspace.Hash:
		total = v.Len()
		v.Each(func(f string, val []byte) bool { return visit(len(f) + len(val)) })
	case *keyspace.ZSet:
		total = v.Len()
		v.Range(func(m string, _ float64) bool { return visit(len(m) + 8) })
	}
	if seen > 0 {
		size += int64(math.Round(float64(bytes) / float64(seen) * float64(total)))
	}
	return size
}

func memoryDoctorCmd(c *Client) {
	c.addVerbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
}

func memoryStatsCmd(c *Client) {
	s := c.s
	used := s.usedMemory()
	type kv struct {
		k string
		v int64
	}
	var dbs []int
	for i, db := range s.dbs {
		if db.Len() > 0 {
			dbs = append(dbs, i)
		}
	}
	var keys int64
	for _, db := range s.dbs {
		keys += int64(db.Len())
	}
	head := []kv{
		{"peak.allocated", s.intro.memPeak},
		{"total.allocated", used},
		{"startup.allocated", 0},
		{"replication.backlog", 0},
		{"clients.slaves", 0},
		{"clients.normal", 0},
		{"cluster.links", 0},
		{"aof.buffer", 0},
		{"lua.caches", 0},
		{"functions.caches", 0},
	}
	c.addMapLen(len(head) + len(dbs) + 6)
	for _, p := range head {
		c.addBulkString(p.k)
		c.addInt(p.v)
	}
	for _, i := range dbs {
		c.addBulkString("db." + strconv.Itoa(i))
		c.addMapLen(2)
		c.addBulkString("overhead.hashtable.main")
		c.addInt(int64(s.dbs[i].Len()) * memKeyOverhead)
		c.addBulkString("overhead.hashtable.expires")
		c.addInt(int64(s.dbs[i].ExpiresLen()) * 32)
	}
	c.addBulkString("overhead.total")
	c.addInt(0)
	c.addBulkString("keys.count")
	c.addInt(keys)
	c.addBulkString("keys.bytes-per-key")
	if keys > 0 {
		c.addInt(used / keys)
	} else {
		c.addInt(0)
	}
	c.addBulkString("dataset.bytes")
	c.addInt(used)
	c.addBulkString("dataset.percentage")
	c.addDouble(100)
	c.addBulkString("peak.percentage")
	if s.intro.memPeak > 0 {
		c.addDouble(float64(used) * 100 / float64(s.intro.memPeak))
	} else {
		c.addDouble(100)
	}
}
