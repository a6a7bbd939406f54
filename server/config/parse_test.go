package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// loadText parses content as if it were a file called node.conf.
func loadText(t *testing.T, content string, args ...string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.conf")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(path))
	return Load("node.conf", args)
}

func mustLoad(t *testing.T, content string, args ...string) *Config {
	t.Helper()
	c, err := loadText(t, content, args...)
	if err != nil {
		t.Fatalf("load %q: %v", content, err)
	}
	return c
}

func TestSeedConfig(t *testing.T) {
	c := mustLoad(t, `port 6379
requirepass mypassword123
masterauth mypassword123
active-replica yes
replicaof 10.0.0.3 6379
`)
	if c.Port != 6379 || c.Requirepass != "mypassword123" || c.Masterauth != "mypassword123" || !c.ActiveReplica {
		t.Fatalf("unexpected values: %+v", c)
	}
	if c.ReplicaOf == nil || *c.ReplicaOf != (HostPort{"10.0.0.3", 6379}) {
		t.Fatalf("replicaof = %v", c.ReplicaOf)
	}
	if c.ReplicaReadOnly {
		t.Fatal("active-replica yes must turn replica-read-only off")
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !strings.HasSuffix(c.File(), string(filepath.Separator)+"node.conf") || !filepath.IsAbs(c.File()) {
		t.Fatalf("File() = %q", c.File())
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	wd, _ := os.Getwd()
	checks := []struct {
		name      string
		got, want any
	}{
		{"bind", c.Bind, []string{"127.0.0.1"}},
		{"port", c.Port, 6379},
		{"databases", c.Databases, 16},
		{"hz", c.Hz, 10},
		{"proto-max-bulk-len", c.ProtoMaxBulkLen, int64(512 << 20)},
		{"client-query-buffer-limit", c.ClientQueryBufferLimit, int64(1 << 30)},
		{"save", c.Save, []SaveParam{{3600, 1}, {300, 100}, {60, 10000}}},
		{"client-output-buffer-limit", c.ClientOutputBufferLimit, ClientOutputBufferLimits{
			Replica: OutputBufferLimit{256 << 20, 64 << 20, 60}, Pubsub: OutputBufferLimit{32 << 20, 8 << 20, 60}}},
		{"enable-debug-command", c.EnableDebugCommand, "local"},
		{"loglevel", c.LogLevel, "notice"},
		{"replicaof", c.ReplicaOf, (*HostPort)(nil)},
		{"replica-read-only", c.ReplicaReadOnly, true},
		{"dir", c.Dir, wd},
		{"active-replica-max-clock-skew", c.ActiveReplicaMaxClockSkew, int64(60000)},
		{"active-replica-tombstone-horizon", c.ActiveReplicaTombstoneHorizon, int64(86400)},
		{"latency-tracking-info-percentiles", c.LatencyTrackingInfoPercentiles, []float64{50, 99, 99.9}},
		{"list-max-listpack-size", c.ListMaxListpackSize, -2},
		{"hash-max-listpack-entries", c.HashMaxListpackEntries, int64(512)},
		{"maxclients", c.Maxclients, 10000},
		{"shutdown-on-sigterm", c.ShutdownOnSigterm, "default"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

// TestTable checks the table against Config: every exported field is backed
// by exactly one directive, names are unique and lower-case, and generic
// kinds point at fields of a type they can store.
func TestTable(t *testing.T) {
	var c Config
	owner := map[uintptr]string{}
	claim := func(name string, p unsafe.Pointer) {
		a := uintptr(p)
		if prev, ok := owner[a]; ok {
			t.Errorf("%s and %s share a field", prev, name)
		}
		owner[a] = name
	}
	special := map[string]unsafe.Pointer{
		"bind": unsafe.Pointer(&c.Bind), "client-output-buffer-limit": unsafe.Pointer(&c.ClientOutputBufferLimit),
		"notify-keyspace-events": unsafe.Pointer(&c.NotifyKeyspaceEvents), "save": unsafe.Pointer(&c.Save),
		"dir": unsafe.Pointer(&c.Dir), "replicaof": unsafe.Pointer(&c.ReplicaOf),
		"latency-tracking-info-percentiles": unsafe.Pointer(&c.LatencyTrackingInfoPercentiles),
	}
	for _, d := range table {
		if d.name != strings.ToLower(d.name) || d.doc == "" {
			t.Errorf("%s: name must be lower-case and documented", d.name)
		}
		if d.kind == KindSpecial {
			p, ok := special[d.name]
			if !ok || d.set == nil || d.get == nil || d.lines == nil {
				t.Errorf("%s: special directive incompletely defined", d.name)
				continue
			}
			claim(d.name, p)
			continue
		}
		if d.field == nil {
			t.Errorf("%s: no field", d.name)
			continue
		}
		f := d.field(&c)
		var ok bool
		switch d.kind {
		case KindBool:
			_, ok = f.(*bool)
		case KindString, KindEnum:
			_, ok = f.(*string)
		case KindMemory:
			_, ok = f.(*int64)
		case KindInt, KindOctal:
			_, isInt := f.(*int)
			_, isInt64 := f.(*int64)
			ok = isInt || isInt64
		}
		if !ok {
			t.Errorf("%s: field type %T does not fit kind %s", d.name, f, d.kind)
		}
		claim(d.name, reflect.ValueOf(f).UnsafePointer())
	}
	rt := reflect.TypeOf(c)
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		if !sf.IsExported() {
			continue
		}
		if _, ok := owner[uintptr(unsafe.Pointer(&c))+sf.Offset]; !ok {
			t.Errorf("Config.%s has no directive", sf.Name)
		}
	}
	if in, ok := Lookup("SLAVEOF"); !ok || in.Name != "replicaof" || in.Mutable {
		t.Errorf("Lookup(SLAVEOF) = %+v, %v", in, ok)
	}
	if in, _ := Lookup("requirepass"); !in.Sensitive {
		t.Error("requirepass must be sensitive")
	}
	if _, ok := Lookup("nosuch"); ok {
		t.Error("Lookup(nosuch) found something")
	}
	infos := Directives()
	if len(infos) != len(table) {
		t.Fatalf("Directives() = %d entries, table has %d", len(infos), len(table))
	}
	for _, in := range infos {
		if in.Args == "" || in.Doc == "" {
			t.Errorf("%s: missing args or doc", in.Name)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string // nil means unbalanced
	}{
		{"", []string{}},
		{"   \t ", []string{}},
		{"port 6379", []string{"port", "6379"}},
		{"  a   b\tc  ", []string{"a", "b", "c"}},
		{`save ""`, []string{"save", ""}},
		{`requirepass "with space"`, []string{"requirepass", "with space"}},
		{`x "a\nb\r\t\\\"\x41\x4a\xzz"`, []string{"x", "a\nb\r\t\\\"AJxzz"}},
		{`x "\b\a\q"`, []string{"x", "\b\aq"}},
		{`x 'it\'s' 'a\nb'`, []string{"x", "it's", `a\nb`}},
		{`x "a"b`, nil},
		{`x 'a'b`, nil},
		{`x "abc`, nil},
		{`x 'abc`, nil},
		{`x "abc\`, nil},
		{`x a"b c"`, []string{"x", "ab c"}},
		{`x "" ''`, []string{"x", "", ""}},
		{"x \"a\"\vb", []string{"x", "a", "b"}},
		{"a\x00b c", []string{"a"}},
		{"a\vb", []string{"a\vb"}},
	}
	for _, tt := range tests {
		got, ok := SplitArgs(tt.line)
		if tt.want == nil {
			if ok {
				t.Errorf("SplitArgs(%q) = %q, want unbalanced", tt.line, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tt.line, got, ok, tt.want)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "with space", `q"uote`, `back\slash`, "nl\nx", "\x00\x01\xff", "it's", "tab\there"} {
		got, ok := SplitArgs("x " + Quote(s) + " " + quoteIfNeeded(s))
		if !ok || len(got) != 3 || got[1] != s || got[2] != s {
			t.Errorf("round trip of %q: %q %v", s, got, ok)
		}
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(c *Config) bool
	}{
		{"comments and blanks", "# c\n\n   # indented\n\r\nport 1\n", func(c *Config) bool { return c.Port == 1 }},
		{"case-insensitive names", "PORT 2\nAppendOnly YES\n", func(c *Config) bool { return c.Port == 2 && c.AppendOnly }},
		{"later line wins", "port 1\nport 3\n", func(c *Config) bool { return c.Port == 3 }},
		{"crlf", "port 4\r\nloglevel debug\r\n", func(c *Config) bool { return c.Port == 4 && c.LogLevel == "debug" }},
		{"memory units", "maxmemory 64k\nrepl-backlog-size 2kb\nproto-max-bulk-len 2m\nclient-query-buffer-limit 3MB\nauto-aof-rewrite-min-size 1g\nstream-node-max-bytes 1GB",
			func(c *Config) bool {
				return c.Maxmemory == 64000 && c.ReplBacklogSize == 2048 && c.ProtoMaxBulkLen == 2000000 &&
					c.ClientQueryBufferLimit == 3<<20 && c.AutoAOFRewriteMinSize == 1e9 && c.StreamNodeMaxBytes == 1<<30
			}},
		{"memory plain bytes", "maxmemory 100b\nhash-max-listpack-value 100", func(c *Config) bool { return c.Maxmemory == 100 && c.HashMaxListpackValue == 100 }},
		{"percent", "maxmemory 1000\nmaxmemory-clients 10%", func(c *Config) bool {
			return c.MaxmemoryClients == -10 && c.MaxmemoryClientsBytes() == 100 && c.Get("maxmemory-clients")[0][1] == "10%"
		}},
		{"bind list", "bind 10.0.0.1 -::1", func(c *Config) bool { return slices.Equal(c.Bind, []string{"10.0.0.1", "-::1"}) }},
		{"bind one quoted arg", `bind "10.0.0.1 10.0.0.2"`, func(c *Config) bool { return slices.Equal(c.Bind, []string{"10.0.0.1", "10.0.0.2"}) }},
		{"bind empty", `bind ""`, func(c *Config) bool { return len(c.Bind) == 0 }},
		{"save accumulates", "save 900 1\nsave 300 10\n", func(c *Config) bool { return getSave(c) == "900 1 300 10" }},
		{"save one arg", `save "900 1 300 10"`, func(c *Config) bool { return getSave(c) == "900 1 300 10" }},
		{"save cleared", "save 900 1\nsave \"\"\n", func(c *Config) bool { return len(c.Save) == 0 }},
		{"save after clear", "save \"\"\nsave 60 1\n", func(c *Config) bool { return getSave(c) == "60 1" }},
		{"replicaof no one", "replicaof 1.2.3.4 6379\nreplicaof NO ONE", func(c *Config) bool { return c.ReplicaOf == nil }},
		{"slaveof alias", "slaveof h 1", func(c *Config) bool { return c.ReplicaOf != nil && c.ReplicaOf.String() == "h 1" }},
		{"aliases", "slave-read-only no\nslave-serve-stale-data no\nslave-priority 5\nlua-time-limit 7\nlist-max-ziplist-size 8\nhash-max-ziplist-entries 9\nzset-max-ziplist-value 10",
			func(c *Config) bool {
				return !c.ReplicaReadOnly && !c.ReplicaServeStaleData && c.ReplicaPriority == 5 && c.BusyReplyThreshold == 7 &&
					c.ListMaxListpackSize == 8 && c.HashMaxListpackEntries == 9 && c.ZsetMaxListpackValue == 10
			}},
		{"enum canonical", "maxmemory-policy AllKeys-LRU\nappendfsync ALWAYS", func(c *Config) bool { return c.MaxmemoryPolicy == "allkeys-lru" && c.AppendFsync == "always" }},
		{"enum flags", "shutdown-on-sigint now SAVE\nshutdown-on-sigterm default", func(c *Config) bool {
			return c.ShutdownOnSigint == "save now" && c.ShutdownOnSigterm == "default"
		}},
		{"notify normalised", "notify-keyspace-events Egx$", func(c *Config) bool { return c.NotifyKeyspaceEvents == "g$xE" }},
		{"notify all", "notify-keyspace-events KA", func(c *Config) bool { return c.NotifyKeyspaceEvents == "AK" }},
		{"notify all letters", "notify-keyspace-events g$lshzxetdKEm", func(c *Config) bool { return c.NotifyKeyspaceEvents == "AKEm" }},
		{"hz clamped high", "hz 1000", func(c *Config) bool { return c.Hz == 500 }},
		{"hz clamped low", "hz 0", func(c *Config) bool { return c.Hz == 1 }},
		{"octal", "unixsocketperm 700", func(c *Config) bool { return c.UnixSocketPerm == 0o700 && c.Get("unixsocketperm")[0][1] == "700" }},
		{"obuf partial", "client-output-buffer-limit pubsub 1mb 512kb 5\nclient-output-buffer-limit replica 0 0 0", func(c *Config) bool {
			return getOutputBufferLimits(c) == "normal 0 0 0 slave 0 0 0 pubsub 1048576 524288 5"
		}},
		{"quoted password", `requirepass "p a\"ss"`, func(c *Config) bool { return c.Requirepass == `p a"ss` }},
		{"single quoted", `masterauth 'x y'`, func(c *Config) bool { return c.Masterauth == "x y" }},
		{"negative int", "slowlog-log-slower-than -1\nlist-max-listpack-size -5", func(c *Config) bool {
			return c.SlowlogLogSlowerThan == -1 && c.ListMaxListpackSize == -5
		}},
		{"percentiles", "latency-tracking-info-percentiles 50 99.99", func(c *Config) bool {
			return getPercentiles(c) == "50 99.99"
		}},
		{"percentiles empty", `latency-tracking-info-percentiles ""`, func(c *Config) bool { return len(c.LatencyTrackingInfoPercentiles) == 0 }},
		{"deprecated ignored", "list-max-ziplist-entries 512\nlua-replicate-commands yes", func(c *Config) bool { return true }},
		{"active-replica order", "active-replica yes\nreplica-read-only yes", func(c *Config) bool { return c.ActiveReplica && c.ReplicaReadOnly }},
		{"dir relative", "dir sub\ndir ..\ndir sub", func(c *Config) bool { return filepath.Base(c.Dir) == "sub" && filepath.IsAbs(c.Dir) }},
		{"daemonize accepted", "daemonize yes", func(c *Config) bool { return c.Daemonize }},
		{"cluster no", "cluster-enabled no\ntls-port 0", func(c *Config) bool { return !c.ClusterEnabled }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.Mkdir(filepath.Join(dir, "sub", "sub"), 0o755)
			t.Chdir(dir)
			os.WriteFile("node.conf", []byte(tt.content), 0o644)
			c, err := Load("node.conf", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected result for %q: %+v", tt.content, *c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		content string
		want    string
	}{
		{"# c\n\nprot 6379", "node.conf:3: unknown directive 'prot'"},
		{"port 1\n\n\n\nport abc", "node.conf:5: 'port' wants an integer between 0 and 65535, got 'abc'"},
		{"port 70000", "node.conf:1: 'port' wants an integer between 0 and 65535, got '70000'"},
		{"port 007", "node.conf:1: 'port' wants an integer between 0 and 65535, got '007'"},
		{"port +7", "node.conf:1: 'port' wants an integer between 0 and 65535, got '+7'"},
		{"port 1 2", "node.conf:1: 'port' takes one argument (<number>), got 2 arguments"},
		{"port", "node.conf:1: 'port' takes one argument (<number>), got 0 arguments"},
		{"appendonly maybe", "node.conf:1: 'appendonly' wants yes or no, got 'maybe'"},
		{"maxmemory 10xb", "node.conf:1: 'maxmemory' wants a memory size like 4096, 64kb, 100mb or 1gb, got '10xb'"},
		{"maxmemory -1", "node.conf:1: 'maxmemory' wants a memory size like 4096, 64kb, 100mb or 1gb, got '-1'"},
		{"maxmemory 99999999999999999999", "node.conf:1: 'maxmemory' wants a memory size like 4096, 64kb, 100mb or 1gb, got '99999999999999999999'"},
		{"maxmemory 9000000000gb", "node.conf:1: 'maxmemory' wants a memory size like 4096, 64kb, 100mb or 1gb, got '9000000000gb'"},
		{"proto-max-bulk-len 1000", "node.conf:1: 'proto-max-bulk-len' wants a memory size between 1048576 and 9223372036854775807 bytes, got '1000'"},
		{"maxmemory-clients 200%", "node.conf:1: 'maxmemory-clients' wants a percentage of at most 100%, got '200%'"},
		{"maxmemory-clients x%", "node.conf:1: 'maxmemory-clients' wants a memory size like 100mb or a percentage like 10%, got 'x%'"},
		{"loglevel loud", "node.conf:1: 'loglevel' wants one of debug, verbose, notice, warning, got 'loud'"},
		{"shutdown-on-sigint save nosave", "node.conf:1: 'shutdown-on-sigint': shutdown options SAVE and NOSAVE can't be used simultaneously, got 'save nosave'"},
		{"shutdown-on-sigint later", "node.conf:1: 'shutdown-on-sigint' wants one of default, save, nosave, now, force, got 'later'"},
		{"save 60", `node.conf:1: 'save' wants pairs of <seconds> <changes>, or "", got '60'`},
		{"save 0 1", `node.conf:1: 'save' wants pairs of <seconds> <changes>, or "", got '0 1'`},
		{"save", `node.conf:1: 'save' takes <seconds> <changes> [...] | "", got no arguments`},
		{"replicaof host", "node.conf:1: 'replicaof' wants <host> <port> or 'no one', got 'host'"},
		{"slaveof host 99999", "node.conf:1: 'slaveof' wants <host> <port> with a port between 0 and 65535, or 'no one', got 'host 99999'"},
		{"cluster-enabled yes", "node.conf:1: 'cluster-enabled' wants no (cluster mode is not supported by fluidb; use active-replica), got 'yes'"},
		{"tls-port 6380", "node.conf:1: 'tls-port' wants 0 (TLS is not supported by fluidb), got '6380'"},
		{`rename-command FLUSHALL ""`, "node.conf:1: rename-command is not supported by fluidb (use ACLs to restrict commands)"},
		{"loadmodule /x.so", "node.conf:1: loadmodule is not supported by fluidb: there are no modules"},
		{"notify-keyspace-events KEq", "node.conf:1: 'notify-keyspace-events' wants letters from KEg$lshzxetmdnA, got 'KEq'"},
		{`requirepass "abc`, "node.conf:1: unbalanced quotes in configuration line"},
		{`requirepass "abc"def`, "node.conf:1: unbalanced quotes in configuration line"},
		{`save "60 '1"`, "node.conf:1: 'save': unbalanced quotes in '60 '1'"},
		{"dir /nonexistent/fluidb", "node.conf:1: 'dir' wants an existing directory, got '/nonexistent/fluidb'"},
		{"dir node.conf", "node.conf:1: 'dir' wants an existing directory, got 'node.conf'"},
		{"dbfilename a/b.rdb", "node.conf:1: 'dbfilename': dbfilename can't be a path, just a filename, got 'a/b.rdb'"},
		{`appendfilename ""`, "node.conf:1: 'appendfilename': appendfilename can't be empty, got ''"},
		{"client-output-buffer-limit master 0 0 0", "node.conf:1: 'client-output-buffer-limit' wants a class of normal, replica (slave) or pubsub, got 'master 0 0 0'"},
		{"client-output-buffer-limit normal 0 0", "node.conf:1: 'client-output-buffer-limit' wants groups of <class> <hard> <soft> <soft-seconds>, got 'normal 0 0'"},
		{"client-output-buffer-limit normal 1x 0 0", "node.conf:1: 'client-output-buffer-limit' wants <class> <hard bytes> <soft bytes> <soft seconds>, got 'normal 1x 0 0'"},
		{"unixsocketperm 999", "node.conf:1: 'unixsocketperm' wants an octal number between 0 and 777, got '999'"},
		{"unixsocketperm 1777", "node.conf:1: 'unixsocketperm' wants an octal number between 0 and 777, got '1777'"},
		{"latency-tracking-info-percentiles 50 101", "node.conf:1: 'latency-tracking-info-percentiles' wants numbers between 0 and 100, got '50 101'"},
		{"latency-tracking-info-percentiles 50 x", "node.conf:1: 'latency-tracking-info-percentiles' wants numbers between 0 and 100, got '50 x'"},
		{`proc-title-template "{bogus}"`, "node.conf:1: 'proc-title-template': template format is invalid or contains unknown variables, got '{bogus}'"},
		{`proc-title-template "{title}"`, "node.conf:1: 'proc-title-template': template format is invalid or contains unknown variables, got '{title}'"},
		{"bind " + strings.Repeat("a ", 17), "node.conf:1: 'bind' wants at most 16 addresses, got '" + strings.TrimSpace(strings.Repeat("a ", 17)) + "'"},
		{"databases 0", "node.conf:1: 'databases' wants an integer between 1 and 2147483647, got '0'"},
		{"io-threads 129", "node.conf:1: 'io-threads' wants an integer between 1 and 128, got '129'"},
		{"include", "node.conf:1: 'include' takes one path, got 0 arguments"},
		{"list-max-ziplist-entries", "node.conf:1: unknown directive 'list-max-ziplist-entries'"},
	}
	for _, tt := range tests {
		_, err := loadText(t, tt.content)
		if err == nil || err.Error() != tt.want {
			t.Errorf("content %q:\n got  %v\n want %s", tt.content, err, tt.want)
		}
	}
	// The error carries the location and directive as fields as well.
	_, err := loadText(t, "port 1\nmaxmemory lots\n")
	le, ok := err.(*LoadError)
	if !ok || le.File != "node.conf" || le.Line != 2 || le.Directive != "maxmemory" {
		t.Fatalf("LoadError = %#v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.conf"), nil); err == nil || !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args  []string
		check func(c *Config) bool
	}{
		{[]string{"--port", "7001", "--replicaof", "10.0.0.2", "6379", "--save", "", "--active-replica", "yes"}, func(c *Config) bool {
			return c.Port == 7001 && c.ReplicaOf != nil && c.ReplicaOf.String() == "10.0.0.2 6379" && len(c.Save) == 0 && c.ActiveReplica && !c.ReplicaReadOnly
		}},
		{[]string{"--save", "3600 1 300 100"}, func(c *Config) bool { return getSave(c) == "3600 1 300 100" }},
		{[]string{"--save", "60", "1", "--save", "30", "2"}, func(c *Config) bool { return getSave(c) == "60 1 30 2" }},
		{[]string{"--save", "--port", "1"}, func(c *Config) bool { return len(c.Save) == 0 && c.Port == 1 }},
		{[]string{"--port", "1", "--save"}, func(c *Config) bool { return len(c.Save) == 0 && c.Port == 1 }},
		{[]string{"--requirepass", "--not-an-option"}, func(c *Config) bool { return c.Requirepass == "--not-an-option" }},
		{[]string{"--port 6380", "--maxmemory", "1gb"}, func(c *Config) bool { return c.Port == 6380 && c.Maxmemory == 1<<30 }},
		{[]string{"--bind", "10.0.0.1", "-::1"}, func(c *Config) bool { return getBind(c) == "10.0.0.1 -::1" }},
		{[]string{"--requirepass", "a b \"c"}, func(c *Config) bool { return c.Requirepass == `a b "c` }},
		{[]string{"--SLAVEOF", "no", "one"}, func(c *Config) bool { return c.ReplicaOf == nil }},
		{[]string{"--list-max-listpack-size", "-1"}, func(c *Config) bool { return c.ListMaxListpackSize == -1 }},
		{nil, func(c *Config) bool { return c.Port == 6379 && c.File() == "" }},
	}
	for _, tt := range tests {
		c, err := Load("", tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%q: unexpected result %+v", tt.args, *c)
		}
	}

	errs := []struct {
		args []string
		want string
	}{
		{[]string{"--port", "abc"}, "command line: 'port' wants an integer between 0 and 65535, got 'abc'"},
		{[]string{"--prot", "1"}, "command line: unknown directive 'prot'"},
		{[]string{"7001"}, `command line: unexpected argument "7001" before any --option`},
		{[]string{"--port", "1", "2"}, "command line: 'port' takes one argument (<number>), got 2 arguments"},
		{[]string{"--port"}, "command line: 'port' takes one argument (<number>), got 0 arguments"},
		{[]string{"--replicaof", "h"}, "command line: 'replicaof' wants <host> <port> or 'no one', got 'h'"},
		{[]string{"--rename-command", "a", "b"}, "command line: rename-command is not supported by fluidb (use ACLs to restrict commands)"},
		{[]string{`--port "7`}, `command line: cannot parse option "--port \"7"`},
		{[]string{"--include", "/nonexistent/x.conf"}, "command line: open /nonexistent/x.conf: no such file or directory"},
	}
	for _, tt := range errs {
		_, err := Load("", tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got  %v\n want %s", tt.args, err, tt.want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	c := mustLoad(t, "port 7000\nmaxmemory 1mb\nsave 900 1\nsave 300 10\n",
		"--port", "7001", "--save", "60 5")
	if c.Port != 7001 {
		t.Errorf("command line must override the file: port %d", c.Port)
	}
	if c.Maxmemory != 1<<20 {
		t.Errorf("file must override defaults: maxmemory %d", c.Maxmemory)
	}
	if got := getSave(c); got != "60 5" {
		t.Errorf("--save must replace the file's rules, got %q", got)
	}
	c = mustLoad(t, "save 900 1\n")
	if got := getSave(c); got != "900 1" {
		t.Errorf("a file save line must replace the defaults, got %q", got)
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.conf", "port 1\ninclude conf.d/a.conf\nmaxmemory 2mb\ninclude conf.d/*.glob\ninclude conf.d/none-*.conf\n")
	write("conf.d/a.conf", "port 2\nmaxmemory 1mb\ninclude sub/b.conf\nsave 10 1\n")
	write("conf.d/sub/b.conf", "loglevel debug\nsave 20 2\n")
	write("conf.d/x.glob", "timeout 5\n")
	write("conf.d/y.glob", "timeout 6\n")
	t.Chdir(t.TempDir()) // includes resolve against the including file, not the cwd
	c, err := Load(filepath.Join(dir, "main.conf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 2 || c.Maxmemory != 2<<20 || c.LogLevel != "debug" || c.Timeout != 6 {
		t.Errorf("include not inlined in order: port %d maxmemory %d loglevel %s timeout %d", c.Port, c.Maxmemory, c.LogLevel, c.Timeout)
	}
	if got := getSave(c); got != "20 2 10 1" {
		t.Errorf("save across includes = %q", got)
	}

	write("loop1.conf", "port 1\ninclude loop2.conf\n")
	write("loop2.conf", "\ninclude ./loop1.conf\n")
	_, err = Load(filepath.Join(dir, "loop1.conf"), nil)
	want := filepath.Join(dir, "loop2.conf") + ":2: include loop: " + filepath.Join(dir, "loop1.conf") + " -> " +
		filepath.Join(dir, "loop2.conf") + " -> " + filepath.Join(dir, "loop1.conf")
	if err == nil || err.Error() != want {
		t.Errorf("loop:\n got  %v\n want %s", err, want)
	}

	write("self.conf", "include self.conf\n")
	if _, err := Load(filepath.Join(dir, "self.conf"), nil); err == nil || !strings.Contains(err.Error(), "include loop") {
		t.Errorf("self include: %v", err)
	}

	write("bad.conf", "port 1\ninclude conf.d/bad-inner.conf\n")
	write("conf.d/bad-inner.conf", "\n\nbogus 1\n")
	_, err = Load(filepath.Join(dir, "bad.conf"), nil)
	if want := filepath.Join(dir, "conf.d/bad-inner.conf") + ":3: unknown directive 'bogus'"; err == nil || err.Error() != want {
		t.Errorf("error inside include:\n got  %v\n want %s", err, want)
	}

	write("missing.conf", "include nothere.conf\n")
	_, err = Load(filepath.Join(dir, "missing.conf"), nil)
	if want := filepath.Join(dir, "missing.conf") + ":1: open " + filepath.Join(dir, "nothere.conf") + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing include:\n got  %v\n want %s", err, want)
	}

	// Relative main path: error names follow the path the user gave.
	t.Chdir(dir)
	_, err = Load("bad.conf", nil)
	if want := "conf.d/bad-inner.conf:3: unknown directive 'bogus'"; err == nil || err.Error() != want {
		t.Errorf("relative names:\n got  %v\n want %s", err, want)
	}
}
