package ops

import (
	"fmt"
	"strconv"
)

// Role is a parsed ROLE reply.
type Role struct {
	Role string `json:"role"` // master, slave, active-replica or sentinel
	// Master: its replication offset and its replicas.
	Offset   int64         `json:"offset,omitempty"`
	Replicas []RoleReplica `json:"replicas,omitempty"`
	// Replica or active replica: one entry per master link.
	Masters []RoleMaster `json:"masters,omitempty"`
}

// RoleReplica is one replica in a master's ROLE reply.
type RoleReplica struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Offset int64  `json:"offset"`
}

// RoleMaster is one master link in a replica's ROLE reply.
type RoleMaster struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	State  string `json:"state"` // connect, connecting, sync, connected (handshake while it starts)
	Offset int64  `json:"offset"`
}

// ParseRole decodes ROLE's three forms:
//
//	[master, offset, [[host, port, offset], ...]]
//	[slave | active-replica, host, port, state, offset]
//	[[active-replica, host, port, state, offset], ...]  (several masters, KeyDB's form)
func ParseRole(r Reply) (Role, error) {
	if r.Type != '*' || len(r.Elems) == 0 {
		return Role{}, fmt.Errorf("ROLE: want a non-empty array, got %s", describe(r))
	}
	if r.Elems[0].Type == '*' {
		var out Role
		for _, e := range r.Elems {
			one, err := ParseRole(e)
			if err != nil {
				return Role{}, err
			}
			if len(one.Masters) == 0 {
				return Role{}, fmt.Errorf("ROLE: nested entry of role %q has no master", one.Role)
			}
			out.Role = one.Role
			out.Masters = append(out.Masters, one.Masters...)
		}
		return out, nil
	}
	out := Role{Role: r.Elems[0].Str}
	switch out.Role {
	case "master":
		if len(r.Elems) < 3 {
			return Role{}, fmt.Errorf("ROLE: master reply has %d elements, want 3", len(r.Elems))
		}
		out.Offset = r.Elems[1].Int
		for _, e := range r.Elems[2].Elems {
			if len(e.Elems) < 3 {
				return Role{}, fmt.Errorf("ROLE: replica entry has %d elements, want 3", len(e.Elems))
			}
			port, _ := strconv.Atoi(e.Elems[1].Str)
			off, _ := strconv.ParseInt(e.Elems[2].Str, 10, 64)
			out.Replicas = append(out.Replicas, RoleReplica{Host: e.Elems[0].Str, Port: port, Offset: off})
		}
	case "slave", "active-replica":
		if len(r.Elems) < 5 {
			return Role{}, fmt.Errorf("ROLE: %s reply has %d elements, want 5", out.Role, len(r.Elems))
		}
		out.Masters = []RoleMaster{{
			Host:   r.Elems[1].Str,
			Port:   int(r.Elems[2].Int),
			State:  r.Elems[3].Str,
			Offset: r.Elems[4].Int,
		}}
	case "sentinel":
	default:
		return Role{}, fmt.Errorf("ROLE: unknown role %q", out.Role)
	}
	return out, nil
}

func describe(r Reply) string {
	switch r.Type {
	case '*':
		return "an array of " + strconv.Itoa(len(r.Elems))
	case ':':
		return "an integer"
	case '-':
		return "error " + strconv.Quote(r.Str)
	}
	return strconv.Quote(r.Str)
}
