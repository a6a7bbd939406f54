package server

import (
	"regexp"
	"strings"
	"testing"
)

func newIntroServer(t *testing.T) (*Server, *Client) {
	t.Helper()
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, s.NewTestClient()
}

// introBulk extracts the payload of a RESP2 bulk string reply.
func introBulk(t *testing.T, reply string) string {
	t.Helper()
	i := strings.Index(reply, "\r\n")
	if !strings.HasPrefix(reply, "$") || i < 0 {
		t.Fatalf("not a bulk string: %q", reply)
	}
	return strings.TrimSuffix(reply[i+2:], "\r\n")
}

func infoSectionsOf(info string) []string {
	var out []string
	for _, l := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(l, "# ") {
			out = append(out, l[2:])
		}
	}
	return out
}

func TestInfoSections(t *testing.T) {
	_, c := newIntroServer(t)
	def := "Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace Fluidb"
	all := "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace Fluidb"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"all"}, all},
		{[]string{"everything"}, all},
		{[]string{"CPU"}, "CPU"},
		{[]string{"cpu", "cluster", "cpu"}, "CPU Cluster"},
		{[]string{"cpu", "default"}, def},
		{[]string{"nosuch"}, ""},
		{[]string{"fluidb"}, "Fluidb"},
	} {
		info := introBulk(t, c.Do(append([]string{"INFO"}, tc.args...)...))
		if got := strings.Join(infoSectionsOf(info), " "); got != tc.want {
			t.Errorf("INFO %v sections = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestInfoFields(t *testing.T) {
	s, c := newIntroServer(t)
	c.Do("SET", "k", "v")
	c.Do("SET", "t", "v", "EX", "100")
	c.Do("NOSUCHCOMMAND")
	c.Do("INCR", "k")
	info := introBulk(t, c.Do("INFO", "everything"))
	for _, re := range []string{
		`(?m)^redis_version:7\.0\.15\r$`,
		`(?m)^fluidb_version:` + regexp.QuoteMeta(Version) + `\r$`,
		`(?m)^run_id:` + s.runID + `\r$`,
		`(?m)^redis_mode:standalone\r$`,
		`(?m)^connected_clients:1\r$`,
		`(?m)^used_memory:[1-9][0-9]*\r$`,
		`(?m)^mem_allocator:go\r$`,
		`(?m)^loading:0\r$`,
		`(?m)^rdb_changes_since_last_save:[1-9]`,
		`(?m)^role:master\r$`,
		`(?m)^master_replid:[0-9a-f]{40}\r$`,
		`(?m)^master_replid2:0{40}\r$`,
		`(?m)^used_cpu_user:[0-9]+\.[0-9]{6}\r$`,
		`(?m)^cluster_enabled:0\r$`,
		`(?m)^db0:keys=2,expires=1,avg_ttl=[0-9]+\r$`,
		`(?m)^cmdstat_set:calls=2,usec=[0-9]+,usec_per_call=[0-9.]+,rejected_calls=0,failed_calls=0\r$`,
		`(?m)^cmdstat_incr:calls=1,.*failed_calls=1\r$`,
		`(?m)^errorstat_ERR:count=2\r$`,
		`(?m)^total_error_replies:2\r$`,
		`(?m)^latency_percentiles_usec_set:p50=[0-9.]+,p99=[0-9.]+,p99\.9=[0-9.]+\r$`,
		`(?m)^node_uuid:` + s.NodeID().String() + `\r$`,
	} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("INFO everything lacks %s", re)
		}
	}
	if testing.Verbose() {
		t.Log(info)
	}
	if strings.Contains(info, "db1:") {
		t.Error("INFO shows an empty database")
	}
	// Field order within a section follows Redis.
	if i, j := strings.Index(info, "redis_version:"), strings.Index(info, "config_file:"); i < 0 || j < i {
		t.Error("Server fields out of order")
	}
	// The fluidb section's fields never look like Redis's prefixes.
	fl := info[strings.Index(info, "# Fluidb"):]
	for _, l := range strings.Split(fl, "\r\n")[1:] {
		if strings.HasPrefix(l, "db") || strings.HasPrefix(l, "cmdstat_") || strings.HasPrefix(l, "cluster_") {
			t.Errorf("fluidb field %q shadows a Redis prefix", l)
		}
	}
	// RESP3: a verbatim string.
	c.Do("HELLO", "3")
	if got := c.Do("INFO", "cluster"); got != "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n" {
		t.Errorf("RESP3 INFO cluster = %q", got)
	}
}

func TestErrorStatsCodes(t *testing.T) {
	s, c := newIntroServer(t)
	c.Do("SET", "s", "x")
	c.Do("LPUSH", "s", "a")                                   // WRONGTYPE
	c.addError("NOSPACEHERE_BUT_VERY_LONG_CODE_EXCEEDING_32") // no space within 32 bytes: ERR
	c.Do("CONFIG", "RESETSTAT")
	if len(s.intro.errors) != 0 || s.intro.errorReplies != 0 {
		t.Fatalf("RESETSTAT left errorstats %v", s.intro.errors)
	}
	c.Do("LPUSH", "s", "a")
	c.addError("NOSPACEHERE_BUT_VERY_LONG_CODE_EXCEEDING_32")
	c.out = c.out[:0]
	info := introBulk(t, c.Do("INFO", "errorstats"))
	if want := "# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_WRONGTYPE:count=1\r\n"; info != want {
		t.Errorf("errorstats = %q, want %q", info, want)
	}
}

func TestBytesToHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 965888: "943.25K", 6643712: "6.34M", 25276510208: "23.54G"} {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", n, got, want)
		}
	}
}
