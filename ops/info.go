package ops

import (
	"sort"
	"strconv"
	"strings"
)

// Info is a parsed INFO reply: "# Section" headers and key:value lines.
// Keys are unique across sections in Redis and fluidb, so lookups are flat.
type Info struct {
	fields   map[string]string
	sections map[string][]string // lower-case section name -> its keys in order
}

// ParseInfo parses INFO text (CRLF or LF line ends). Lines that are neither
// a header nor key:value are ignored.
func ParseInfo(text string) Info {
	in := Info{fields: map[string]string{}, sections: map[string][]string{}}
	section := ""
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if name, ok := strings.CutPrefix(line, "# "); ok {
			section = strings.ToLower(strings.TrimSpace(name))
			if _, seen := in.sections[section]; !seen {
				in.sections[section] = nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		if _, dup := in.fields[k]; !dup {
			in.sections[section] = append(in.sections[section], k)
		}
		in.fields[k] = v
	}
	return in
}

// Get is the value of key ("" when absent).
func (in Info) Get(key string) string { return in.fields[key] }

// Has reports whether key is present.
func (in Info) Has(key string) bool { _, ok := in.fields[key]; return ok }

// Int is key's value as an integer (0 when absent or not a number).
func (in Info) Int(key string) int64 {
	n, _ := strconv.ParseInt(in.fields[key], 10, 64)
	return n
}

// Float is key's value as a float (0 when absent or not a number).
func (in Info) Float(key string) float64 {
	f, _ := strconv.ParseFloat(in.fields[key], 64)
	return f
}

// Section lists a section's keys in the order INFO gave them (name is
// case-insensitive).
func (in Info) Section(name string) []string { return in.sections[strings.ToLower(name)] }

// HasSection reports whether INFO had a "# name" header.
func (in Info) HasSection(name string) bool {
	_, ok := in.sections[strings.ToLower(name)]
	return ok
}

// ParseList splits a comma list such as "ip=10.0.0.2,port=6379,state=online"
// (the values of slaveN, peerN and dbN) into its fields.
func ParseList(v string) map[string]string {
	m := map[string]string{}
	for part := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(part, "=")
		if k != "" {
			m[k] = val
		}
	}
	return m
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// numbered returns the values of prefix0, prefix1, ... (slaveN, peerN) in
// order, stopping at the first gap.
func (in Info) numbered(prefix string) []map[string]string {
	var out []map[string]string
	for i := 0; ; i++ {
		v, ok := in.fields[prefix+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, ParseList(v))
	}
}

// Replication is the "# Replication" section.
type Replication struct {
	Role string `json:"role"` // master, slave or active-replica
	// GlobalLinkStatus is master_global_link_status: up when every master
	// link is up (active replicas only).
	GlobalLinkStatus string        `json:"master_global_link_status,omitempty"`
	Masters          []MasterLink  `json:"masters,omitempty"`
	Replicas         []ReplicaLink `json:"replicas,omitempty"`
	ReplID           string        `json:"master_replid,omitempty"`
	ReplOffset       int64         `json:"master_repl_offset"`
}

// MasterLink is one link replicating from a master. The first is INFO's
// master_host, master_port, ...; further ones are master_1_host,
// master_2_host, ... (KeyDB's numbering for several masters).
type MasterLink struct {
	Host             string  `json:"host"`
	Port             int     `json:"port"`
	Status           string  `json:"link_status"` // up or down
	LastIOSecondsAgo int64   `json:"last_io_seconds_ago"`
	SyncInProgress   bool    `json:"sync_in_progress"`
	SyncTotalBytes   int64   `json:"sync_total_bytes,omitempty"`
	SyncReadBytes    int64   `json:"sync_read_bytes,omitempty"`
	SyncPerc         float64 `json:"sync_perc,omitempty"`
	DownSinceSeconds int64   `json:"link_down_since_seconds,omitempty"` // -1: never up
	Offset           int64   `json:"offset"`                            // slave_repl_offset
}

// Up reports whether the link is up and not syncing.
func (m MasterLink) Up() bool { return m.Status == "up" && !m.SyncInProgress }

// Addr is the master's host:port.
func (m MasterLink) Addr() string { return Addr{Host: m.Host, Port: m.Port}.String() }

// ReplicaLink is one replica attached to this node (INFO's slaveN).
type ReplicaLink struct {
	IP     string `json:"ip"`
	Port   int    `json:"port"`
	State  string `json:"state"` // wait_bgsave, send_bulk, online
	Offset int64  `json:"offset"`
	Lag    int64  `json:"lag"` // seconds since its last ACK
}

// Replication decodes the replication section.
func (in Info) Replication() Replication {
	r := Replication{
		Role:             in.Get("role"),
		GlobalLinkStatus: in.Get("master_global_link_status"),
		ReplID:           in.Get("master_replid"),
		ReplOffset:       in.Int("master_repl_offset"),
	}
	for i := 0; ; i++ {
		p := "master_"
		if i > 0 {
			p = "master_" + strconv.Itoa(i) + "_"
		}
		if !in.Has(p + "host") {
			break
		}
		m := MasterLink{
			Host:             in.Get(p + "host"),
			Port:             int(in.Int(p + "port")),
			Status:           in.Get(p + "link_status"),
			LastIOSecondsAgo: in.Int(p + "last_io_seconds_ago"),
			SyncInProgress:   in.Get(p+"sync_in_progress") == "1",
			SyncTotalBytes:   in.Int(p + "sync_total_bytes"),
			SyncReadBytes:    in.Int(p + "sync_read_bytes"),
			SyncPerc:         in.Float(p + "sync_perc"),
			DownSinceSeconds: in.Int(p + "link_down_since_seconds"),
			Offset:           in.Int("slave_repl_offset"),
		}
		r.Masters = append(r.Masters, m)
	}
	for _, s := range in.numbered("slave") {
		r.Replicas = append(r.Replicas, ReplicaLink{
			IP:     s["ip"],
			Port:   int(atoi(s["port"])),
			State:  s["state"],
			Offset: atoi(s["offset"]),
			Lag:    atoi(s["lag"]),
		})
	}
	return r
}

// Fluidb is fluidb's own INFO section ("# Fluidb"); the zero value on a
// server that has none.
type Fluidb struct {
	NodeUUID            string `json:"node_uuid,omitempty"`
	ActiveReplica       bool   `json:"active_replica"`
	HLC                 uint64 `json:"hlc,omitempty"`
	HLCMs               int64  `json:"hlc_ms,omitempty"`
	Peers               []Peer `json:"peers,omitempty"`
	Conflicts           int64  `json:"conflicts"`
	ConflictsLocalWon   int64  `json:"conflicts_local_won"`
	ConflictsRemoteWon  int64  `json:"conflicts_remote_won"`
	Tombstones          int64  `json:"tombstones"`
	TombstonesCollected int64  `json:"tombstones_collected"`
	StampsClamped       int64  `json:"stamps_clamped"`
	DuplicatesDropped   int64  `json:"duplicates_dropped"`
	FullSyncs           int64  `json:"full_syncs"`
	PartialSyncs        int64  `json:"partial_syncs"`
}

// Peer is one active peer (INFO fluidb's peerN).
type Peer struct {
	UUID      string `json:"uuid"`
	Addr      string `json:"addr"`
	LinkIn    string `json:"link_in"`  // our link replicating from the peer: up, down, connecting, sync, none
	LinkOut   string `json:"link_out"` // the peer replicating from us: up, down, none
	LagBytes  int64  `json:"lag_bytes"`
	LagMs     int64  `json:"lag_ms"`
	LastAckMs int64  `json:"last_ack_ms"`
	SkewMs    int64  `json:"skew_ms"`
}

// Fluidb decodes the fluidb section.
func (in Info) Fluidb() Fluidb {
	f := Fluidb{
		NodeUUID:            in.Get("node_uuid"),
		ActiveReplica:       in.Get("active_replica") == "1",
		HLCMs:               in.Int("hlc_ms"),
		Conflicts:           in.Int("conflicts"),
		ConflictsLocalWon:   in.Int("conflicts_local_won"),
		ConflictsRemoteWon:  in.Int("conflicts_remote_won"),
		Tombstones:          in.Int("tombstones"),
		TombstonesCollected: in.Int("tombstones_collected"),
		StampsClamped:       in.Int("stamps_clamped"),
		DuplicatesDropped:   in.Int("duplicates_dropped"),
		FullSyncs:           in.Int("full_syncs"),
		PartialSyncs:        in.Int("partial_syncs"),
	}
	if f.NodeUUID == "" {
		f.NodeUUID = in.Get("node_id") // fluidb before active replication named it so
	}
	f.HLC, _ = strconv.ParseUint(in.Get("hlc"), 10, 64)
	if f.HLCMs == 0 && f.HLC != 0 {
		f.HLCMs = int64(f.HLC >> 16)
	}
	for _, p := range in.numbered("peer") {
		f.Peers = append(f.Peers, Peer{
			UUID:      p["uuid"],
			Addr:      p["addr"],
			LinkIn:    p["link_in"],
			LinkOut:   p["link_out"],
			LagBytes:  atoi(p["lag_bytes"]),
			LagMs:     atoi(p["lag_ms"]),
			LastAckMs: atoi(p["last_ack_ms"]),
			SkewMs:    atoi(p["skew_ms"]),
		})
	}
	return f
}

// IsFluidb reports whether the INFO came from fluidb rather than Redis.
func (in Info) IsFluidb() bool {
	return in.Has("fluidb_version") || in.Has("node_uuid") || in.Has("node_id")
}

// DBKeys is one line of the keyspace section.
type DBKeys struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
}

// Keyspace decodes the keyspace section (db0:keys=..,expires=..), by DB.
func (in Info) Keyspace() []DBKeys {
	var out []DBKeys
	for k, v := range in.fields {
		n, ok := strings.CutPrefix(k, "db")
		if !ok {
			continue
		}
		db, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		m := ParseList(v)
		out = append(out, DBKeys{DB: db, Keys: atoi(m["keys"]), Expires: atoi(m["expires"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DB < out[j].DB })
	return out
}

// TotalKeys is the sum of keys over every DB.
func TotalKeys(dbs []DBKeys) int64 {
	var n int64
	for _, d := range dbs {
		n += d.Keys
	}
	return n
}
