package ops

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readReplyFile(t *testing.T, name string) Reply {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadReply(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// infoFile reads INFO text from a raw reply (.resp) or a redis-cli capture.
func infoFile(t *testing.T, name string) Info {
	t.Helper()
	if strings.HasSuffix(name, ".resp") {
		return ParseInfo(readReplyFile(t, name).Str)
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ParseInfo(string(b))
}

func TestParseInfoSections(t *testing.T) {
	in := infoFile(t, "redis-master.info.resp")
	if got := in.Get("redis_version"); got != "7.0.15" {
		t.Errorf("redis_version = %q", got)
	}
	if in.IsFluidb() {
		t.Error("redis-server taken for fluidb")
	}
	for _, s := range []string{"server", "Replication", "keyspace", "commandstats"} {
		if !in.HasSection(s) {
			t.Errorf("section %s missing", s)
		}
	}
	if keys := in.Section("replication"); len(keys) == 0 || keys[0] != "role" {
		t.Errorf("replication section keys = %v, want role first", keys)
	}
	if in.Int("used_memory") <= 0 || in.Int("total_commands_processed") <= 0 {
		t.Errorf("used_memory %d, total_commands_processed %d", in.Int("used_memory"), in.Int("total_commands_processed"))
	}
	// Values may hold colons: only the first one separates.
	if got := in.Get("cmdstat_info"); !strings.HasPrefix(got, "calls=") {
		t.Errorf("cmdstat_info = %q", got)
	}
	if got := ParseInfo("a:1\nb:x:y\n\ngarbage\n# S\nc:2").Get("b"); got != "x:y" {
		t.Errorf("LF-only INFO: b = %q", got)
	}
}

func TestParseInfoReplication(t *testing.T) {
	tests := []struct {
		file string
		want Replication
	}{
		{"redis-master.info.resp", Replication{Role: "master", ReplOffset: 156,
			Replicas: []ReplicaLink{{IP: "127.0.0.1", Port: 7101, State: "online", Offset: 156, Lag: 0}}}},
		{"redis-replica.info.resp", Replication{Role: "slave", ReplOffset: 156,
			Masters: []MasterLink{{Host: "127.0.0.1", Port: 7100, Status: "up", Offset: 156}}}},
		{"redis-replica-connecting.info", Replication{Role: "slave",
			Masters: []MasterLink{{Host: "127.0.0.1", Port: 7100, Status: "down", LastIOSecondsAgo: -1, DownSinceSeconds: -1, Offset: 1}}}},
		{"fluidb-master.info.resp", Replication{Role: "master", ReplOffset: 129,
			Replicas: []ReplicaLink{{IP: "127.0.0.1", Port: 7111, State: "online", Offset: 129}}}},
		{"fluidb-replica.info.resp", Replication{Role: "slave", ReplOffset: 129,
			Masters: []MasterLink{{Host: "127.0.0.1", Port: 7110, Status: "up", LastIOSecondsAgo: 3, Offset: 129}}}},
		{"active-replica.info", Replication{Role: "active-replica", GlobalLinkStatus: "up", ReplOffset: 1290,
			Masters:  []MasterLink{{Host: "127.0.0.1", Port: 7002, Status: "up", Offset: 1234}},
			Replicas: []ReplicaLink{{IP: "127.0.0.1", Port: 7002, State: "online", Offset: 1200}}}},
		{"active-replica-two-masters.info", Replication{Role: "active-replica", GlobalLinkStatus: "down", ReplOffset: 9100,
			Masters: []MasterLink{
				{Host: "10.0.0.2", Port: 6379, Status: "up", LastIOSecondsAgo: 1, Offset: 5000},
				{Host: "10.0.0.3", Port: 6380, Status: "down", LastIOSecondsAgo: -1, SyncInProgress: true,
					SyncTotalBytes: 1048576, SyncReadBytes: 262144, SyncPerc: 25, DownSinceSeconds: 7, Offset: 5000}},
			Replicas: []ReplicaLink{
				{IP: "10.0.0.2", Port: 6379, State: "online", Offset: 9000},
				{IP: "10.0.0.3", Port: 6380, State: "send_bulk"}}}},
	}
	for _, tt := range tests {
		got := infoFile(t, tt.file).Replication()
		got.ReplID = ""
		if tt.file == "redis-master.info.resp" || tt.file == "redis-replica.info.resp" {
			// captured while idle: offsets move with pings; compare the shape.
			tt.want.ReplOffset = got.ReplOffset
			for i := range got.Masters {
				tt.want.Masters[i].Offset = got.Masters[i].Offset
				tt.want.Masters[i].LastIOSecondsAgo = got.Masters[i].LastIOSecondsAgo
			}
			for i := range got.Replicas {
				tt.want.Replicas[i].Offset = got.Replicas[i].Offset
				tt.want.Replicas[i].Lag = got.Replicas[i].Lag
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
}

func TestParseInfoSyncProgress(t *testing.T) {
	m := infoFile(t, "redis-replica-sync.info").Replication().Masters
	if len(m) != 1 {
		t.Fatalf("masters = %+v", m)
	}
	if !m[0].SyncInProgress || m[0].SyncTotalBytes != 111776559 || m[0].SyncReadBytes != 12347392 || m[0].SyncPerc != 11.05 || m[0].Up() {
		t.Errorf("sync link = %+v", m[0])
	}
}

func TestParseInfoFluidb(t *testing.T) {
	f := infoFile(t, "fluidb-active-standalone.info.resp").Fluidb()
	if f.NodeUUID == "" || !f.ActiveReplica || f.HLC == 0 || len(f.Peers) != 0 {
		t.Errorf("captured standalone active node: %+v", f)
	}
	if in := infoFile(t, "fluidb-master.info.resp"); !in.IsFluidb() || in.Fluidb().ActiveReplica {
		t.Errorf("captured fluidb master: fluidb %v, %+v", in.IsFluidb(), in.Fluidb())
	}
	got := infoFile(t, "active-replica.info").Fluidb()
	want := Fluidb{
		NodeUUID: "6f1c0e1a-8f3b-4c1e-9d2a-3b4c5d6e7f80", ActiveReplica: true,
		HLC: 117695155485671427, HLCMs: 1795885551234,
		Peers: []Peer{{UUID: "0a9b8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", Addr: "127.0.0.1:7002", LinkIn: "up", LinkOut: "up",
			LagBytes: 56, LagMs: 12, LastAckMs: 120, SkewMs: -3}},
		Conflicts: 12, ConflictsLocalWon: 5, ConflictsRemoteWon: 7, Tombstones: 40, TombstonesCollected: 300,
		FullSyncs: 1, PartialSyncs: 2,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("active-replica fluidb section:\n got %+v\nwant %+v", got, want)
	}
	if StampTime(got.HLC).UnixMilli() != got.HLCMs || StampCounter(got.HLC) != 3 {
		t.Errorf("stamp split: %v %d", StampTime(got.HLC), StampCounter(got.HLC))
	}
}

func TestParseKeyspace(t *testing.T) {
	got := infoFile(t, "active-replica-two-masters.info").Keyspace()
	want := []DBKeys{{DB: 0, Keys: 1000, Expires: 10}, {DB: 15, Keys: 3}}
	if !reflect.DeepEqual(got, want) || TotalKeys(got) != 1003 {
		t.Errorf("keyspace = %+v", got)
	}
	if got := infoFile(t, "fluidb-master.info.resp").Keyspace(); TotalKeys(got) != 3 || len(got) != 2 || got[1].DB != 2 {
		t.Errorf("fluidb keyspace = %+v", got)
	}
}

func TestParseList(t *testing.T) {
	got := ParseList("ip=::1,port=6379,state=online,x")
	want := map[string]string{"ip": "::1", "port": "6379", "state": "online", "x": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseList = %v", got)
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		file string
		want Role
	}{
		{"redis-master-role.resp", Role{Role: "master", Offset: 156, Replicas: []RoleReplica{{Host: "127.0.0.1", Port: 7101, Offset: 156}}}},
		{"redis-replica-role.resp", Role{Role: "slave", Masters: []RoleMaster{{Host: "127.0.0.1", Port: 7100, State: "connected", Offset: 156}}}},
		{"fluidb-master-role.resp", Role{Role: "master", Offset: 129, Replicas: []RoleReplica{{Host: "127.0.0.1", Port: 7111, Offset: 129}}}},
		{"fluidb-replica-role.resp", Role{Role: "slave", Masters: []RoleMaster{{Host: "127.0.0.1", Port: 7110, State: "connected", Offset: 129}}}},
		{"active-replica-role.resp", Role{Role: "active-replica", Masters: []RoleMaster{{Host: "127.0.0.1", Port: 7002, State: "connected", Offset: 1234}}}},
		{"active-replica-two-masters-role.resp", Role{Role: "active-replica", Masters: []RoleMaster{
			{Host: "10.0.0.2", Port: 6379, State: "connected", Offset: 5000},
			{Host: "10.0.0.3", Port: 6380, State: "sync", Offset: -1}}}},
	}
	for _, tt := range tests {
		got, err := ParseRole(readReplyFile(t, tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
	for _, bad := range []Reply{
		{Type: '+', Str: "OK"},
		{Type: '*'},
		{Type: '*', Elems: []Reply{{Type: '$', Str: "slave"}, {Type: '$', Str: "h"}}},
		{Type: '*', Elems: []Reply{{Type: '$', Str: "leader"}}},
		{Type: '*', Elems: []Reply{{Type: '*', Elems: []Reply{{Type: '$', Str: "master"}, {Type: ':'}, {Type: '*'}}}}},
	} {
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%+v) accepted", bad)
		}
	}
}

func TestParseConflicts(t *testing.T) {
	got, err := ParseConflicts(readReplyFile(t, "conflicts.resp"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Conflict{
		{Key: "user:1", DB: 0, WinnerStamp: 117695155483443201, WinnerOrigin: "0a9b8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
			LoserStamp: 117695155482132480, LoserOrigin: "6f1c0e1a-8f3b-4c1e-9d2a-3b4c5d6e7f80", Side: "remote", AtMs: 1795885551210},
		{Key: "cart:42", DB: 3, WinnerStamp: 117695155404800007, WinnerOrigin: "6f1c0e1a-8f3b-4c1e-9d2a-3b4c5d6e7f80",
			LoserStamp: 117695155404144642, LoserOrigin: "0a9b8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", Side: "local", AtMs: 1795885550000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conflicts:\n got %+v\nwant %+v", got, want)
	}
	if _, err := ParseConflicts(Reply{Type: '*', Elems: []Reply{{Type: '*', Elems: []Reply{{Type: '$', Str: "k"}}}}}); err == nil {
		t.Error("short conflict entry accepted")
	}
}

func TestReadReplyRejectsBadInput(t *testing.T) {
	for _, in := range []string{
		"", "\r\n", "?x\r\n", ":abc\r\n", "$-2\r\n", "$99999999999\r\n", "$3\r\nab", "$3\r\nabcd\r\n",
		"*2\r\n:1\r\n", "*-5\r\n", "*99999999\r\n", "+OK\n", strings.Repeat("*1\r\n", 20) + ":1\r\n",
	} {
		if r, err := ReadReply(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("ReadReply(%q) = %+v, want an error", in, r)
		}
	}
	r, err := ReadReply(bufio.NewReader(strings.NewReader("*3\r\n$-1\r\n*-1\r\n-ERR x\r\n")))
	if err != nil || !r.Elems[0].Null || !r.Elems[1].Null || r.Elems[2].Type != '-' || r.Elems[2].Str != "ERR x" {
		t.Errorf("nulls and nested error: %+v, %v", r, err)
	}
}

func FuzzReadReply(f *testing.F) {
	for _, name := range []string{"conflicts.resp", "redis-master-role.resp", "active-replica-two-masters-role.resp"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadReply(bufio.NewReader(bytes.NewReader(b)))
		if err == nil {
			_, _ = ParseRole(r)
			_, _ = ParseConflicts(r)
			_ = ParseInfo(r.Str).Replication()
		}
	})
}

// Captures from `fluidb serve` with active replication (two nodes paired by
// hand, a conflict on user:1 and cart:42, then the peer killed).
func TestParseFluidbActiveCaptures(t *testing.T) {
	in := infoFile(t, "fluidb-active.info.resp")
	r, f := in.Replication(), in.Fluidb()
	if r.Role != "active-replica" || r.GlobalLinkStatus != "up" || len(r.Masters) != 1 || !r.Masters[0].Up() || len(r.Replicas) != 1 {
		t.Errorf("replication = %+v", r)
	}
	if !f.ActiveReplica || f.NodeUUID == "" || len(f.Peers) != 1 || f.Peers[0].LinkIn != "up" || f.Peers[0].LinkOut != "up" || f.Peers[0].Addr != "127.0.0.1:7121" {
		t.Errorf("fluidb = %+v", f)
	}
	if f.Conflicts != 2 || f.ConflictsLocalWon+f.ConflictsRemoteWon != 2 {
		t.Errorf("conflict counters = %+v", f)
	}
	role, err := ParseRole(readReplyFile(t, "fluidb-active-role.resp"))
	if err != nil || role.Role != "active-replica" || len(role.Masters) != 1 || role.Masters[0].State != "connected" || role.Masters[0].Port != 7121 {
		t.Errorf("ROLE = %+v, %v", role, err)
	}
	cs, err := ParseConflicts(readReplyFile(t, "fluidb-conflicts.resp"))
	if err != nil || len(cs) != 2 || cs[0].Key != "cart:42" || cs[0].DB != 3 || cs[1].Key != "user:1" || cs[0].WinnerStamp <= cs[0].LoserStamp {
		t.Errorf("conflicts = %+v, %v", cs, err)
	}
	for _, c := range cs {
		if c.Side != "local" && c.Side != "remote" || StampTime(c.WinnerStamp).Year() < 2020 {
			t.Errorf("conflict %+v", c)
		}
	}

	down := Snapshot{Replication: infoFile(t, "fluidb-active-peer-down.info.resp").Replication(),
		Active: infoFile(t, "fluidb-active-peer-down.info.resp").Fluidb()}
	if l := down.Links(); len(l) != 1 || !l[0].Down() || l[0].In != "down" || l[0].Out != "" {
		t.Errorf("peer down links = %+v", l)
	}
	role, err = ParseRole(readReplyFile(t, "fluidb-active-peer-down-role.resp"))
	if err != nil || role.Masters[0].State != "connect" {
		t.Errorf("ROLE with the peer down = %+v, %v", role, err)
	}
}
