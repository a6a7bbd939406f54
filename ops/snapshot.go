package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Snapshot is what polling one node found. When the node stops answering,
// Reachable turns false and Err says why, while the other fields keep the
// last good data (read at Seen).
type Snapshot struct {
	Addr      string    `json:"addr"`
	Reachable bool      `json:"reachable"`
	Err       string    `json:"error,omitempty"`
	Seen      time.Time `json:"seen,omitzero"` // when the data below was read

	Fluidb      bool        `json:"fluidb"` // false: a Redis server
	Version     string      `json:"version,omitempty"`
	NodeUUID    string      `json:"node_uuid,omitempty"` // fluidb only
	RunID       string      `json:"run_id,omitempty"`
	Role        Role        `json:"role"`
	Replication Replication `json:"replication"`
	Active      Fluidb      `json:"active"` // INFO fluidb
	Keyspace    []DBKeys    `json:"keyspace,omitempty"`
	Keys        int64       `json:"keys"`
	UsedMemory  int64       `json:"used_memory"`
	Commands    int64       `json:"total_commands_processed"`
	Uptime      int64       `json:"uptime_in_seconds"`

	// Rates from counter deltas between the last two good polls.
	OpsPerSec       float64 `json:"ops_per_sec"`
	ConflictsPerSec float64 `json:"conflicts_per_sec"`

	Conflicts []Conflict `json:"recent_conflicts,omitempty"` // newest first

	// Recent samples, oldest first, for sparklines.
	OpsHistory []float64 `json:"-"`
	LagHistory []float64 `json:"-"`

	commandsSent int64 // commands this poll sent, not counted as the node's load
}

// ShortID is the first 8 characters of the node's UUID (of its run_id on
// Redis).
func (s Snapshot) ShortID() string {
	if s.NodeUUID == "" {
		return ShortID(s.RunID)
	}
	return ShortID(s.NodeUUID)
}

// ShortID is the first 8 characters of a UUID.
func ShortID(id string) string { return id[:min(8, len(id))] }

// RoleName is the node's role, from ROLE or else INFO.
func (s Snapshot) RoleName() string {
	if s.Role.Role != "" {
		return s.Role.Role
	}
	return s.Replication.Role
}

// Link is one replication relationship of a node with another, in one shape
// for fluidb's active peers and for plain Redis masters and replicas.
type Link struct {
	Peer     string `json:"peer"` // host:port
	PeerUUID string `json:"peer_uuid,omitempty"`
	// In is the state of our link replicating from the peer, Out of the
	// peer's link replicating from us: up, down, connecting, sync, or ""
	// when there is no such link.
	In        string `json:"in,omitempty"`
	Out       string `json:"out,omitempty"`
	LastIOMs  int64  `json:"last_io_ms"` // -1: unknown
	LagBytes  int64  `json:"lag_bytes"`  // -1: unknown (a plain replica cannot tell)
	LagMs     int64  `json:"lag_ms"`     // -1: unknown
	SkewMs    int64  `json:"skew_ms"`
	HasSkew   bool   `json:"has_skew"`
	SyncBytes int64  `json:"sync_bytes,omitempty"` // a sync in progress: read so far
	SyncTotal int64  `json:"sync_total,omitempty"`
}

// Down reports whether either direction of the link is not up.
func (l Link) Down() bool {
	return (l.In != "" && l.In != "up") || (l.Out != "" && l.Out != "up")
}

// Links lists the node's replication links: INFO fluidb's peers on an
// active replica, else its masters and replicas from INFO replication.
func (s Snapshot) Links() []Link {
	var out []Link
	if len(s.Active.Peers) > 0 {
		for _, p := range s.Active.Peers {
			l := Link{Peer: p.Addr, PeerUUID: p.UUID, In: none(p.LinkIn), Out: none(p.LinkOut),
				LastIOMs: p.LastAckMs, LagBytes: p.LagBytes, LagMs: p.LagMs, SkewMs: p.SkewMs, HasSkew: true}
			for _, m := range s.Replication.Masters {
				if m.Addr() == p.Addr && m.SyncInProgress {
					l.SyncBytes, l.SyncTotal = m.SyncReadBytes, m.SyncTotalBytes
				}
			}
			out = append(out, l)
		}
		return out
	}
	for _, m := range s.Replication.Masters {
		l := Link{Peer: m.Addr(), In: m.Status, LastIOMs: m.LastIOSecondsAgo * 1000, LagBytes: -1, LagMs: -1}
		if m.LastIOSecondsAgo < 0 {
			l.LastIOMs = -1
		}
		if m.SyncInProgress {
			l.In = "sync"
			l.SyncBytes, l.SyncTotal = m.SyncReadBytes, m.SyncTotalBytes
		}
		out = append(out, l)
	}
	for _, r := range s.Replication.Replicas {
		l := Link{Peer: Addr{Host: r.IP, Port: r.Port}.String(), Out: "down", LastIOMs: r.Lag * 1000,
			LagBytes: max(0, s.Replication.ReplOffset-r.Offset), LagMs: r.Lag * 1000}
		switch r.State {
		case "online":
			l.Out = "up"
		case "wait_bgsave", "send_bulk":
			l.Out = "sync"
		}
		out = append(out, l)
	}
	return out
}

func none(s string) string {
	if s == "none" {
		return ""
	}
	return s
}

// Lag is the largest replication lag over the node's links (bytes, ms);
// -1 when no link knows it.
func (s Snapshot) Lag() (bytes, ms int64) {
	bytes, ms = -1, -1
	for _, l := range s.Links() {
		bytes = max(bytes, l.LagBytes)
		ms = max(ms, l.LagMs)
	}
	return bytes, ms
}

// PeerAddrs lists the addresses of the nodes this one replicates with.
func (s Snapshot) PeerAddrs() []string {
	var out []string
	for _, l := range s.Links() {
		if l.Peer != "" {
			out = append(out, l.Peer)
		}
	}
	return out
}

// Conflict is one entry of FLUIDB CONFLICTS: a key both sides wrote, and
// which write won.
type Conflict struct {
	Key          string `json:"key"`
	DB           int    `json:"db"`
	WinnerStamp  uint64 `json:"winner_stamp"`
	WinnerOrigin string `json:"winner_origin"`
	LoserStamp   uint64 `json:"loser_stamp"`
	LoserOrigin  string `json:"loser_origin"`
	Side         string `json:"side"` // local or remote: whose write won, seen from this node
	AtMs         int64  `json:"at_ms"`
}

// StampTime is the wall-clock part of a hybrid logical clock stamp (48 bits
// of unix milliseconds, then a 16-bit counter).
func StampTime(stamp uint64) time.Time { return time.UnixMilli(int64(stamp >> 16)) }

// StampCounter is the logical counter of a stamp.
func StampCounter(stamp uint64) uint16 { return uint16(stamp) }

// ParseConflicts decodes FLUIDB CONFLICTS.
func ParseConflicts(r Reply) ([]Conflict, error) {
	if r.Type != '*' {
		return nil, fmt.Errorf("FLUIDB CONFLICTS: want an array, got %s", describe(r))
	}
	out := make([]Conflict, 0, len(r.Elems))
	for _, e := range r.Elems {
		if len(e.Elems) < 8 {
			return nil, fmt.Errorf("FLUIDB CONFLICTS: entry has %d elements, want 8", len(e.Elems))
		}
		f := e.Elems
		out = append(out, Conflict{
			Key: f[0].Str, DB: int(f[1].Int),
			WinnerStamp: uint64(f[2].Int), WinnerOrigin: f[3].Str,
			LoserStamp: uint64(f[4].Int), LoserOrigin: f[5].Str,
			Side: f[6].Str, AtMs: f[7].Int,
		})
	}
	return out, nil
}

// infoSections are what a poll reads; fluidb's own section is not part of
// the default INFO.
var infoSections = []string{"INFO", "server", "memory", "stats", "replication", "keyspace", "fluidb"}

// ReadInfo reads the INFO sections a snapshot needs. Servers older than
// Redis 7 take one section name only; they get INFO all.
func ReadInfo(ctx context.Context, c *Client) (Info, error) {
	text, err := c.String(ctx, infoSections...)
	var se ServerError
	if errors.As(err, &se) && KindOf(err) != ErrAuth {
		text, err = c.String(ctx, "INFO", "all")
	}
	if err != nil {
		return Info{}, err
	}
	return ParseInfo(text), nil
}

// Fetch reads one snapshot of the node behind c: INFO, ROLE and, on an
// active fluidb node, its recent conflicts (up to conflicts of them).
func Fetch(ctx context.Context, c *Client, conflicts int) (Snapshot, error) {
	s := Snapshot{Addr: c.Addr().String()}
	info, err := ReadInfo(ctx, c)
	if err != nil {
		return s, err
	}
	s.commandsSent = 1
	s.Fluidb = info.IsFluidb()
	s.Version = info.Get("fluidb_version")
	if s.Version == "" {
		s.Version = "redis " + info.Get("redis_version")
	}
	s.Replication = info.Replication()
	s.Active = info.Fluidb()
	s.NodeUUID = s.Active.NodeUUID
	s.RunID = info.Get("run_id")
	s.Keyspace = info.Keyspace()
	s.Keys = TotalKeys(s.Keyspace)
	s.UsedMemory = info.Int("used_memory")
	s.Commands = info.Int("total_commands_processed")
	s.Uptime = info.Int("uptime_in_seconds")
	s.OpsPerSec = info.Float("instantaneous_ops_per_sec")

	r, err := c.Do(ctx, "ROLE")
	s.commandsSent++
	if err != nil {
		return s, err
	}
	if s.Role, err = ParseRole(r); err != nil {
		return s, &Error{Kind: ErrOther, Node: s.Addr, Err: err}
	}

	if s.Fluidb && s.Active.ActiveReplica && conflicts > 0 {
		r, err := c.Do(ctx, "FLUIDB", "CONFLICTS", strconv.Itoa(conflicts))
		s.commandsSent++
		var se ServerError
		switch {
		case errors.As(err, &se):
			// A fluidb without the command yet: no conflict list.
		case err != nil:
			return s, err
		default:
			if s.Conflicts, err = ParseConflicts(r); err != nil {
				return s, &Error{Kind: ErrOther, Node: s.Addr, Err: err}
			}
		}
	}
	s.Reachable = true
	return s, nil
}
