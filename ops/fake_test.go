package ops

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeNode is a scripted RESP server: enough of fluidb for the poller and
// client tests, without a server process.
type fakeNode struct {
	t        *testing.T
	addr     string
	password string

	mu        sync.Mutex
	ln        net.Listener
	conns     map[net.Conn]bool
	info      string // INFO text; {commands} is replaced by the command count
	role      string // ROLE's raw reply
	conflicts string // FLUIDB CONFLICTS' raw reply ("" : unknown command)
	commands  int
	extra     int // commands "other clients" ran, added to the count
}

func startFake(t *testing.T, info, role string) *fakeNode {
	t.Helper()
	f := &fakeNode{t: t, info: info, role: role, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(f.stop)
	return f
}

func (f *fakeNode) Addr() Addr {
	a, err := ParseAddr(f.addr, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fakeNode) serve(ln net.Listener) {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns[c] = true
			f.mu.Unlock()
			go f.handle(c)
		}
	}()
}

// stop closes the listener and every connection: the node is down.
func (f *fakeNode) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

// restart listens again on the same address.
func (f *fakeNode) restart() {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.serve(ln)
}

func (f *fakeNode) set(fn func(f *fakeNode)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeNode) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	f.mu.Lock()
	authed := f.password == ""
	f.mu.Unlock()
	for {
		req, err := ReadReply(r)
		if err != nil {
			return
		}
		args := make([]string, len(req.Elems))
		for i, e := range req.Elems {
			args[i] = e.Str
		}
		f.mu.Lock()
		f.commands++
		var out string
		switch cmd := strings.ToUpper(args[0]); {
		case cmd == "AUTH":
			if len(args) == 2 && args[1] == f.password {
				authed = true
				out = "+OK\r\n"
			} else {
				out = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
			}
		case !authed:
			out = "-NOAUTH Authentication required.\r\n"
		case cmd == "INFO":
			text := strings.ReplaceAll(f.info, "{commands}", strconv.Itoa(f.commands+f.extra))
			out = "$" + strconv.Itoa(len(text)) + "\r\n" + text + "\r\n"
		case cmd == "ROLE":
			out = f.role
		case cmd == "FLUIDB" && f.conflicts != "":
			out = f.conflicts
		default:
			out = fmt.Sprintf("-ERR unknown command '%s'\r\n", args[0])
		}
		f.mu.Unlock()
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

const masterRole = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"

// activeInfo is INFO for an active replica with one peer at peerAddr.
func activeInfo(uuid, peerUUID, peerAddr string, conflicts int) string {
	return strings.Join([]string{
		"# Server", "redis_version:7.0.15", "fluidb_version:test", "uptime_in_seconds:10",
		"# Memory", "used_memory:1048576",
		"# Stats", "total_commands_processed:{commands}", "instantaneous_ops_per_sec:0",
		"# Replication", "role:master", "connected_slaves:0", "master_repl_offset:100",
		"# Keyspace", "db0:keys=5,expires=0,avg_ttl=0",
		"# Fluidb", "node_uuid:" + uuid, "active_replica:1", "peers:1",
		"peer0:uuid=" + peerUUID + ",addr=" + peerAddr + ",link_in=up,link_out=up,lag_bytes=0,lag_ms=5,last_ack_ms=100,skew_ms=2",
		"conflicts:" + strconv.Itoa(conflicts), "",
	}, "\r\n")
}
