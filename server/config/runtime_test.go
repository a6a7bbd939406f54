package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func names(pairs [][2]string) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0]
	}
	return out
}

func TestGet(t *testing.T) {
	c := Default()
	c.ReplicaOf = &HostPort{"10.0.0.3", 6379}
	tests := []struct {
		pattern string
		want    [][2]string
	}{
		{"databases", [][2]string{{"databases", "16"}}},
		{"DATABASES", [][2]string{{"databases", "16"}}},
		{"port", [][2]string{{"port", "6379"}}},
		{"slaveof", [][2]string{{"slaveof", "10.0.0.3 6379"}}},
		{"nosuch", nil},
		{"*of", [][2]string{{"replicaof", "10.0.0.3 6379"}, {"slaveof", "10.0.0.3 6379"}}},
		{"*read-only", [][2]string{{"replica-read-only", "yes"}, {"slave-read-only", "yes"}}},
		{"slave-read-*", [][2]string{{"slave-read-only", "yes"}}},
		{"maxmemory", [][2]string{{"maxmemory", "0"}}},
		{"maxmemory-p*", [][2]string{{"maxmemory-policy", "noeviction"}}},
		{"proto-max-bulk-len", [][2]string{{"proto-max-bulk-len", "536870912"}}},
		{"client-output-buffer-limit", [][2]string{{"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}}},
		{"save", [][2]string{{"save", "3600 1 300 100 60 10000"}}},
		{"bind", [][2]string{{"bind", "127.0.0.1"}}},
		{"appendonl?", [][2]string{{"appendonly", "no"}}},
		{"[pq]ort", [][2]string{{"port", "6379"}}},
		{"[^p]ort", nil},
		{"HZ*", [][2]string{{"hz", "10"}}},
		{"lua-*", [][2]string{{"lua-time-limit", "5000"}}},
		{"*ziplist*", [][2]string{
			{"list-max-ziplist-size", "-2"}, {"hash-max-ziplist-entries", "512"}, {"hash-max-ziplist-value", "64"},
			{"zset-max-ziplist-entries", "128"}, {"zset-max-ziplist-value", "64"}}},
	}
	for _, tt := range tests {
		if got := c.Get(tt.pattern); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
	all := c.Get("*")
	want := 0
	for _, d := range table {
		want += 1 + len(d.aliases)
	}
	if len(all) != want {
		t.Errorf("Get(*) returned %d pairs, want %d", len(all), want)
	}
	if n := names(all); slices.Contains(n, "") || len(slices.Compact(slices.Sorted(slices.Values(n)))) != len(n) {
		t.Error("Get(*) returned duplicate names")
	}
	c.ReplicaOf = nil
	if got := c.Get("replicaof"); got[0][1] != "" {
		t.Errorf("replicaof without master = %q", got[0][1])
	}
}

func TestSet(t *testing.T) {
	c := Default()
	changed, err := c.Set([][2]string{{"port", "7000"}, {"MaxMemory", "100mb"}, {"save", "900 1 300 10"}, {"loglevel", "notice"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7000 || c.Maxmemory != 100<<20 || getSave(c) != "900 1 300 10" {
		t.Fatalf("values not applied: %+v", *c)
	}
	if want := []string{"port", "maxmemory", "save"}; !slices.Equal(changed, want) {
		t.Errorf("changed = %q, want %q (unchanged loglevel must not be listed)", changed, want)
	}

	changed, err = c.Set([][2]string{{"active-replica", "yes"}})
	if err != nil || !c.ActiveReplica || c.ReplicaReadOnly {
		t.Fatalf("active-replica: %v %+v", err, *c)
	}
	if want := []string{"replica-read-only", "active-replica"}; !slices.Equal(changed, want) {
		t.Errorf("changed = %q, want %q", changed, want)
	}

	for _, tt := range []struct {
		value string
		want  string
	}{
		{"", ""}, {"3600 1", "3600 1"},
	} {
		if _, err := c.Set([][2]string{{"save", tt.value}}); err != nil || getSave(c) != tt.want {
			t.Errorf("save %q -> %q, %v", tt.value, getSave(c), err)
		}
	}
	if _, err := c.Set([][2]string{{"client-output-buffer-limit", "pubsub 1mb 1kb 9"}}); err != nil ||
		getOutputBufferLimits(c) != "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 1024 9" {
		t.Errorf("obuf: %v %s", err, getOutputBufferLimits(c))
	}
	if _, err := c.Set([][2]string{{"bind", "0.0.0.0 -::1"}}); err != nil || !slices.Equal(c.Bind, []string{"0.0.0.0", "-::1"}) {
		t.Errorf("bind: %v %q", err, c.Bind)
	}
	if _, err := c.Set([][2]string{{"hz", "100000"}}); err != nil || c.Hz != 500 || c.Get("hz")[0][1] != "500" {
		t.Errorf("hz clamp: %v %d", err, c.Hz)
	}
	if _, err := c.Set([][2]string{{"notify-keyspace-events", "KExg"}}); err != nil || c.NotifyKeyspaceEvents != "gxKE" {
		t.Errorf("notify: %v %q", err, c.NotifyKeyspaceEvents)
	}
	if _, err := c.Set([][2]string{{"requirepass", "a b"}}); err != nil || c.Requirepass != "a b" {
		t.Errorf("single-arg values must not be split: %q", c.Requirepass)
	}
	if _, err := c.Set(nil); err != nil {
		t.Errorf("empty Set: %v", err)
	}
}

func TestSetErrors(t *testing.T) {
	const failed = "ERR CONFIG SET failed (possibly related to argument "
	tests := []struct {
		pairs [][2]string
		want  string
	}{
		{[][2]string{{"foo", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"port", "1"}, {"foo", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"databases", "1"}, {"foo", "1"}}, failed + "'databases') - can't set immutable config"},
		{[][2]string{{"port", "abc"}}, failed + "'port') - argument couldn't be parsed into an integer"},
		{[][2]string{{"port", "70000"}}, failed + "'port') - argument must be between 0 and 65535 inclusive"},
		{[][2]string{{"PORT", "70000"}}, failed + "'port') - argument must be between 0 and 65535 inclusive"},
		{[][2]string{{"appendonly", "maybe"}}, failed + "'appendonly') - argument must be 'yes' or 'no'"},
		{[][2]string{{"slave-read-only", "maybe"}}, failed + "'slave-read-only') - argument must be 'yes' or 'no'"},
		{[][2]string{{"maxmemory", "10xb"}}, failed + "'maxmemory') - argument must be a memory value"},
		{[][2]string{{"maxmemory-clients", "x"}}, failed + "'maxmemory-clients') - argument must be a memory or percent value"},
		{[][2]string{{"maxmemory-clients", "101%"}}, failed + "'maxmemory-clients') - percentage argument must be less or equal to 100"},
		{[][2]string{{"proto-max-bulk-len", "1000"}}, failed + "'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"},
		{[][2]string{{"maxmemory-policy", "lru"}}, failed + "'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[][2]string{{"shutdown-on-sigint", "save nosave"}}, failed + "'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously"},
		{[][2]string{{"databases", "1"}}, failed + "'databases') - can't set immutable config"},
		{[][2]string{{"Databases", "1"}}, failed + "'Databases') - can't set immutable config"},
		{[][2]string{{"replicaof", "h 1"}}, failed + "'replicaof') - can't set immutable config"},
		{[][2]string{{"dir", "/tmp"}}, failed + "'dir') - can't set protected config"},
		{[][2]string{{"dbfilename", "x.rdb"}}, failed + "'dbfilename') - can't set protected config"},
		{[][2]string{{"port", "1"}, {"PORT", "2"}}, failed + "'PORT') - duplicate parameter"},
		{[][2]string{{"replica-read-only", "yes"}, {"slave-read-only", "no"}}, failed + "'slave-read-only') - duplicate parameter"},
		{[][2]string{{"save", "60"}}, failed + "'save') - Invalid save parameters"},
		{[][2]string{{"save", "60  1"}}, failed + "'save') - Invalid save parameters"},
		{[][2]string{{"notify-keyspace-events", "KEq"}}, failed + "'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{[][2]string{{"client-output-buffer-limit", "normal 1 2"}}, failed + "'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."},
		{[][2]string{{"client-output-buffer-limit", "master 1 2 3"}}, failed + "'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."},
		{[][2]string{{"client-output-buffer-limit", "normal 1 2 -3"}}, failed + "'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{[][2]string{{"bind", strings.TrimSpace(strings.Repeat("a ", 17))}}, failed + "'bind') - Too many bind addresses specified."},
		{[][2]string{{"latency-tracking-info-percentiles", "50 x"}}, failed + "'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters"},
		{[][2]string{{"latency-tracking-info-percentiles", "101"}}, failed + "'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
		{[][2]string{{"proc-title-template", "{x}"}}, failed + "'proc-title-template') - template format is invalid or contains unknown variables"},
		{[][2]string{{"tls-port", "6380"}}, failed + "'tls-port') - TLS is not supported by fluidb"},
		{[][2]string{{"loglevel", ""}}, failed + "'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"},
	}
	for _, tt := range tests {
		c := Default()
		before := c.Clone()
		changed, err := c.Set(tt.pairs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q):\n got  %v\n want %s", tt.pairs, err, tt.want)
		}
		if changed != nil || !reflect.DeepEqual(c, before) {
			t.Errorf("Set(%q) failed but changed the config", tt.pairs)
		}
	}
}

func TestSetAtomic(t *testing.T) {
	c := Default()
	before := c.Clone()
	_, err := c.Set([][2]string{{"port", "7000"}, {"maxmemory", "1gb"}, {"save", ""}, {"active-replica", "yes"}, {"appendonly", "maybe"}})
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'" {
		t.Fatalf("err = %v", err)
	}
	if !reflect.DeepEqual(c, before) {
		t.Fatalf("partial CONFIG SET leaked: port %d maxmemory %d save %v", c.Port, c.Maxmemory, c.Save)
	}
	// Later pairs see earlier ones' effects, so a replica-read-only in the
	// same call after active-replica wins, as it would in a file.
	if _, err := c.Set([][2]string{{"active-replica", "yes"}, {"replica-read-only", "yes"}}); err != nil || !c.ReplicaReadOnly {
		t.Fatalf("ordered apply: %v %v", err, c.ReplicaReadOnly)
	}
}

func TestSetProtected(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		setting string
		local   bool
		ok      bool
	}{
		{"no", true, false}, {"local", false, false}, {"local", true, true}, {"yes", false, true},
	} {
		c := Default()
		c.EnableProtectedConfigs = tt.setting
		_, err := c.SetFrom([][2]string{{"dir", dir}, {"dbfilename", "x.rdb"}}, tt.local)
		if (err == nil) != tt.ok {
			t.Errorf("%s local=%v: err %v", tt.setting, tt.local, err)
		}
		if tt.ok && (c.Dir != dir || c.DBFilename != "x.rdb") {
			t.Errorf("%s: dir %q dbfilename %q", tt.setting, c.Dir, c.DBFilename)
		}
	}
	c := Default()
	c.EnableProtectedConfigs = "yes"
	_, err := c.Set([][2]string{{"dir", "/nonexistent/fluidb"}})
	if want := "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"; err == nil || err.Error() != want {
		t.Errorf("dir error:\n got  %v\n want %s", err, want)
	}
}

func TestRewriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.conf")
	os.WriteFile(filepath.Join(dir, "extra.conf"), []byte("timeout 30\n"), 0o644)
	original := `# fluidb test configuration
port 6379

# replication
slaveof 10.0.0.3 6379
save 900 1
save 300 10
include extra.conf
requirepass "old pass"
   # indented comment kept
loglevel notice
list-max-ziplist-entries 512
bind 127.0.0.1
`
	if err := os.WriteFile(path, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set([][2]string{
		{"port", "7000"}, {"requirepass", `new "pass"` + "\n"}, {"maxmemory", "100mb"}, {"save", "3600 1"},
		{"notify-keyspace-events", "Ex"}, {"client-output-buffer-limit", "pubsub 64mb 16mb 90"}, {"active-replica", "yes"},
	}); err != nil {
		t.Fatal(err)
	}
	c.ReplicaOf = nil // as REPLICAOF NO ONE would
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	want := `# fluidb test configuration
port 7000

# replication
save 3600 1
include extra.conf
requirepass "new \"pass\"\n"
   # indented comment kept
loglevel notice
list-max-ziplist-entries 512
bind 127.0.0.1
# Generated by CONFIG REWRITE
timeout 30
maxmemory 100mb
client-output-buffer-limit normal 0 0 0
client-output-buffer-limit replica 256mb 64mb 60
client-output-buffer-limit pubsub 64mb 16mb 90
notify-keyspace-events "xE"
dir ` + Quote(c.Dir) + `
replica-read-only no
active-replica yes
`
	if got != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode not kept: %v", st.Mode())
	}
	again, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Get("*"), c.Get("*")) {
		t.Errorf("reload differs:\n%q\n%q", again.Get("*"), c.Get("*"))
	}

	// A second rewrite with nothing changed is a fixed point.
	if err := again.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if data2, _ := os.ReadFile(path); string(data2) != got {
		t.Errorf("second rewrite changed the file:\n%s", data2)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestRewriteCases(t *testing.T) {
	tests := []struct {
		name  string
		old   string
		setup func(c *Config)
		want  string
	}{
		{"defaults add only dir", "port 6379\n", func(c *Config) {},
			"port 6379\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"signature not repeated", "# Generated by CONFIG REWRITE\ndir /x\n", func(c *Config) { c.Port = 1 },
			"# Generated by CONFIG REWRITE\ndir \"/d\"\nport 1\n"},
		{"duplicates dropped", "port 1\nport 2\n# end\n", func(c *Config) { c.Port = 3 },
			"port 3\n# end\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"unknown line commented", "bogus 1\nport 5\n", func(c *Config) { c.Port = 5 },
			"# ??? bogus 1\nport 5\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"unbalanced line commented", "port \"5\n", func(c *Config) {},
			"# ??? port \"5\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"save back to default keeps all rules", "save 900 1\n", func(c *Config) {},
			"save 3600 1\n# Generated by CONFIG REWRITE\nsave 300 100\nsave 60 10000\ndir \"/d\"\n"},
		{"save cleared", "save 900 1\nsave 60 1\n", func(c *Config) { c.Save = nil },
			"save \"\"\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"empty password removed", "requirepass x\nport 1\n", func(c *Config) { c.Requirepass = ""; c.Port = 1 },
			"port 1\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"alias replaced by name", "slave-read-only yes\n", func(c *Config) { c.ReplicaReadOnly = false },
			"replica-read-only no\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
		{"replicaof written", "", func(c *Config) { c.ReplicaOf = &HostPort{"h", 1} },
			"# Generated by CONFIG REWRITE\ndir \"/d\"\nreplicaof h 1\n"},
		{"empty bind", "", func(c *Config) { c.Bind = nil },
			"# Generated by CONFIG REWRITE\nbind \"\"\ndir \"/d\"\n"},
		{"memory units", "", func(c *Config) { c.Maxmemory = 3 << 30; c.ReplBacklogSize = 1500; c.MaxmemoryClients = -5 },
			"# Generated by CONFIG REWRITE\nmaxmemory 3gb\nmaxmemory-clients 5%\ndir \"/d\"\nrepl-backlog-size 1500\n"},
		{"octal and flags", "", func(c *Config) { c.UnixSocketPerm = 0o755; c.ShutdownOnSigint = "save now" },
			"# Generated by CONFIG REWRITE\nunixsocketperm 755\nshutdown-on-sigint save now\ndir \"/d\"\n"},
		{"percentiles", "latency-tracking-info-percentiles 50 99 99.9\n", func(c *Config) { c.LatencyTrackingInfoPercentiles = nil },
			"latency-tracking-info-percentiles \"\"\n# Generated by CONFIG REWRITE\ndir \"/d\"\n"},
	}
	for _, tt := range tests {
		c := Default()
		c.Dir = "/d"
		tt.setup(c)
		if got := c.rewriteContent(tt.old); got != tt.want {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	c := Default()
	if err := c.Rewrite(); err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Errorf("no file: %v", err)
	}
	dir := t.TempDir()
	c, err := loadText(t, "port 1\n")
	if err != nil {
		t.Fatal(err)
	}
	c.file = filepath.Join(dir, "gone", "node.conf")
	if err := c.Rewrite(); err == nil || !strings.HasPrefix(err.Error(), "ERR Rewriting config file: ") {
		t.Errorf("unwritable: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		setup func(c *Config)
		want  string
	}{
		{"ok", func(c *Config) {}, ""},
		{"nowhere", func(c *Config) { c.Port = 0 }, "not listening anywhere: port is 0 and unixsocket is not set"},
		{"active read-only", func(c *Config) { c.ActiveReplica = true }, "active-replica yes needs replica-read-only no: active replicas accept writes"},
		{"self", func(c *Config) { c.ReplicaOf = &HostPort{"LocalHost", 6379} }, "replicaof LocalHost 6379 points at this server itself"},
		{"timeouts", func(c *Config) { c.ReplTimeout = 10 }, "repl-timeout (10) must be greater than repl-ping-replica-period (10), or replicas will time out between pings"},
		{"dir gone", func(c *Config) { c.Dir = "/nonexistent/fluidb" }, `dir "/nonexistent/fluidb": stat /nonexistent/fluidb: no such file or directory`},
		{"logfile dir", func(c *Config) { c.LogFile = "/nonexistent/x.log" }, `logfile "/nonexistent/x.log": directory "/nonexistent" does not exist`},
		{"two problems", func(c *Config) { c.Port = 0; c.ActiveReplica = true },
			"not listening anywhere: port is 0 and unixsocket is not set\nactive-replica yes needs replica-read-only no: active replicas accept writes"},
	}
	for _, tt := range tests {
		c := Default()
		tt.setup(c)
		err := c.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
		}
	}
}
