package server

// Differential test: every script in testdata/compat runs against an
// in-process fluidb and a real redis-server, and the replies are compared
// exactly (RESP type and content). Script format, one item per line:
//
//	COMMAND arg "quoted arg"   a command, split like redis-cli does
//	# ...                      a comment
//	@proto N                   send HELLO N on connection 1 of both servers now
//	@sleep MS                  pause (expiry tests)
//	@read                      read one more reply on the connection (pub/sub, @send)
//	@none                      check that no reply is pending on the connection
//	@drain                     read every reply that arrives until 100ms of quiet
//	                           (keyspace notifications)
//
// and modifiers that apply to the next command (or @read/@none):
//
//	@sorted [N]      the reply is an unordered collection: compare it sorted,
//	                 in chunks of N elements (2 for flat field/value lists)
//	@scan            iterate the SCAN-family command to cursor 0 and compare
//	                 the set of returned elements (pairs for HSCAN/ZSCAN)
//	@ignore          send to both, compare nothing (TIME, INFO ...)
//	@type-only       compare only the reply type (random or time-dependent)
//	@conn N          use connection N (1, 2 or 3) instead of 1
//	@send            send without reading the reply (blocking commands)
//	@replies N       the command answers N replies (SUBSCRIBE a b)
//	@known REASON    a deliberate difference: logged, not a failure
//
// COMPAT_REPORT=path writes the mismatches grouped by the fluidb source
// file of the handler, for the engineers fixing them; COMPAT_VERBOSE=1 logs
// every redis-server reply (to review a new script).

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluidb/fluidb/internal/testutil"
)

// respNode is one parsed reply: its RESP type byte and either a scalar
// payload or children (maps keep key, value, key, value ...).
type respNode struct {
	T    byte
	S    string
	Null bool // $-1 / *-1
	Kids []*respNode
	Attr *respNode // a RESP3 attribute that preceded the reply
}

func (n *respNode) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *respNode) write(b *strings.Builder) {
	if n.Attr != nil {
		n.Attr.write(b)
		b.WriteByte(' ')
	}
	switch n.T {
	case 0:
		b.WriteString(n.S) // a synthetic "<timeout>" / "<io error>"
		return
	case '$', '=':
		b.WriteByte(n.T)
		if n.Null {
			b.WriteString("nil")
		} else {
			b.WriteString(strconv.Quote(n.S))
		}
		return
	case '*', '%', '~', '>', '|':
		b.WriteByte(n.T)
		if n.Null {
			b.WriteString("nil")
			return
		}
		if n.T == '%' || n.T == '|' {
			b.WriteString(strconv.Itoa(len(n.Kids) / 2)) // pairs, as on the wire
		} else {
			b.WriteString(strconv.Itoa(len(n.Kids)))
		}
		b.WriteByte('[')
		for i, k := range n.Kids {
			if i > 0 {
				if (n.T == '%' || n.T == '|') && i%2 == 1 {
					b.WriteString(" => ")
				} else {
					b.WriteString(", ")
				}
			}
			k.write(b)
		}
		b.WriteByte(']')
		return
	case '_':
		b.WriteByte('_')
		return
	}
	b.WriteByte(n.T)
	b.WriteString(n.S)
}

// typeSig is what @type-only compares: the type, nullness, and for
// aggregates the types of the children are not compared (random picks).
func (n *respNode) typeSig() string {
	if n.Null {
		return string(n.T) + "nil"
	}
	if n.T == 0 {
		return n.S
	}
	return string(n.T)
}

// sortedBy returns a copy whose children are sorted in chunks of k.
func (n *respNode) sortedBy(k int) *respNode {
	if n.Null || len(n.Kids) == 0 {
		return n
	}
	switch n.T {
	case '*', '~', '>', '%':
	default:
		return n
	}
	if n.T == '%' {
		k = 2
	}
	if k < 1 || len(n.Kids)%k != 0 {
		k = 1
	}
	type chunk struct {
		key  string
		kids []*respNode
	}
	var cs []chunk
	for i := 0; i < len(n.Kids); i += k {
		var sb strings.Builder
		for _, kid := range n.Kids[i : i+k] {
			kid.write(&sb)
			sb.WriteByte(0)
		}
		cs = append(cs, chunk{sb.String(), n.Kids[i : i+k]})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].key < cs[j].key })
	out := &respNode{T: n.T, Attr: n.Attr}
	for _, c := range cs {
		out.Kids = append(out.Kids, c.kids...)
	}
	return out
}

// readReply reads exactly one complete reply (attributes included).
func readReply(br *bufio.Reader) (*respNode, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	t, body := line[0], line[1:len(line)-2]
	switch t {
	case '+', '-', ':', ',', '(', '#':
		return &respNode{T: t, S: body}, nil
	case '_':
		return &respNode{T: t}, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			return &respNode{T: t, Null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		if t == '!' { // RESP3 blob error: compare like a simple error
			t = '-'
		}
		return &respNode{T: t, S: string(buf[:n])}, nil
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			return &respNode{T: t, Null: true}, nil
		}
		count := n
		if t == '%' || t == '|' {
			count = 2 * n
		}
		node := &respNode{T: t, Kids: make([]*respNode, 0, count)}
		for i := 0; i < count; i++ {
			kid, err := readReply(br)
			if err != nil {
				return nil, err
			}
			node.Kids = append(node.Kids, kid)
		}
		if t == '|' {
			next, err := readReply(br)
			if err != nil {
				return nil, err
			}
			next.Attr = node
			return next, nil
		}
		return node, nil
	}
	return nil, fmt.Errorf("unknown reply type in %q", line)
}

// rconn is a raw RESP connection.
type rconn struct {
	addr string
	nc   net.Conn
	br   *bufio.Reader
}

func (r *rconn) dial() error {
	nc, err := net.DialTimeout("tcp", r.addr, 5*time.Second)
	if err != nil {
		return err
	}
	r.nc, r.br = nc, bufio.NewReader(nc)
	return nil
}

func (r *rconn) close() {
	if r.nc != nil {
		r.nc.Close()
		r.nc = nil
	}
}

func (r *rconn) send(args []string) error {
	if r.nc == nil {
		if err := r.dial(); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := r.nc.Write(b.Bytes())
	if err != nil {
		r.close()
	}
	return err
}

// read returns the next reply, or a synthetic node describing why there
// is none; the connection is dropped (and redialled on next use) after an
// I/O error so one lost reply does not shift every later comparison.
func (r *rconn) read(timeout time.Duration) *respNode {
	if r.nc == nil {
		return &respNode{S: "<not connected>"}
	}
	_ = r.nc.SetReadDeadline(time.Now().Add(timeout))
	n, err := readReply(r.br)
	if err != nil {
		r.close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return &respNode{S: "<no reply>"}
		}
		if err == io.EOF {
			return &respNode{S: "<connection closed>"}
		}
		return &respNode{S: "<io error: " + err.Error() + ">"}
	}
	return n
}

// splitArgs splits a line like redis-cli's sdssplitargs.
func splitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		var cur []byte
		inq, insq := false, false
		for done := false; !done; {
			if inq {
				if i >= len(line) {
					return nil, fmt.Errorf("unbalanced quotes")
				}
				switch {
				case line[i] == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					v, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
					cur = append(cur, byte(v))
					i += 3
				case line[i] == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case line[i] == '"':
					if i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
						return nil, fmt.Errorf("closing quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, line[i])
				}
			} else if insq {
				if i >= len(line) {
					return nil, fmt.Errorf("unbalanced quotes")
				}
				switch {
				case line[i] == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case line[i] == '\'':
					if i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
						return nil, fmt.Errorf("closing quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, line[i])
				}
			} else {
				if i >= len(line) {
					break
				}
				switch line[i] {
				case ' ', '\t':
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, line[i])
				}
			}
			if i < len(line) {
				i++
			}
		}
		out = append(out, string(cur))
	}
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// compatStep is one command (or @read/@none) with its modifiers.
type compatStep struct {
	line     int
	text     string
	args     []string
	kind     string // "cmd", "read", "none", "proto", "sleep"
	n        int    // @proto / @sleep argument
	sorted   int    // chunk size, 0 = ordered
	scan     bool
	ignore   bool
	typeOnly bool
	conn     int
	send     bool
	replies  int
	known    string
}

func parseCompatScript(path string) ([]*compatStep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var steps []*compatStep
	cur := &compatStep{}
	for i, raw := range strings.Split(string(data), "\n") {
		ln := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] != '@' {
			args, err := splitArgs(line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, ln, err)
			}
			cur.line, cur.text, cur.args, cur.kind = ln, line, args, "cmd"
			steps = append(steps, cur)
			cur = &compatStep{}
			continue
		}
		word, rest, _ := strings.Cut(line[1:], " ")
		rest = strings.TrimSpace(rest)
		num := func(def int) (int, error) {
			if rest == "" {
				return def, nil
			}
			v, err := strconv.Atoi(rest)
			if err != nil {
				return 0, fmt.Errorf("%s:%d: @%s wants a number", path, ln, word)
			}
			return v, nil
		}
		switch word {
		case "proto", "sleep":
			v, err := num(-1)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%s:%d: @%s wants a number", path, ln, word)
			}
			steps = append(steps, &compatStep{line: ln, text: line, kind: word, n: v})
		case "read", "none", "drain":
			cur.line, cur.text, cur.kind = ln, line, word
			steps = append(steps, cur)
			cur = &compatStep{}
		case "sorted":
			if cur.sorted, err = num(1); err != nil {
				return nil, err
			}
		case "scan":
			cur.scan = true
		case "ignore":
			cur.ignore = true
		case "type-only":
			cur.typeOnly = true
		case "conn":
			if cur.conn, err = num(1); err != nil {
				return nil, err
			}
			if cur.conn < 1 || cur.conn > 3 {
				return nil, fmt.Errorf("%s:%d: @conn is 1, 2 or 3", path, ln)
			}
		case "send":
			cur.send = true
		case "replies":
			if cur.replies, err = num(1); err != nil {
				return nil, err
			}
		case "known":
			if rest == "" {
				return nil, fmt.Errorf("%s:%d: @known needs a reason", path, ln)
			}
			cur.known = rest
		default:
			return nil, fmt.Errorf("%s:%d: unknown directive @%s", path, ln, word)
		}
	}
	return steps, nil
}

// compatSide is one server's connections.
type compatSide struct {
	conns [4]*rconn // 1..3; 0 unused
}

func newCompatSide(addr string) *compatSide {
	s := &compatSide{}
	for i := range s.conns {
		s.conns[i] = &rconn{addr: addr}
	}
	return s
}

func (s *compatSide) close() {
	for _, c := range s.conns {
		c.close()
	}
}

const compatTimeout = 5 * time.Second

// run executes a step and returns the replies to compare.
func (s *compatSide) run(st *compatStep) []*respNode {
	conn := s.conns[max(st.conn, 1)]
	switch st.kind {
	case "read":
		return []*respNode{conn.read(compatTimeout)}
	case "drain":
		var out []*respNode
		for len(out) < 1000 && conn.nc != nil {
			if conn.br.Buffered() == 0 {
				_ = conn.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := conn.br.Peek(1); err != nil {
					break
				}
			}
			out = append(out, conn.read(compatTimeout))
		}
		if len(out) == 0 {
			out = append(out, &respNode{S: "<nothing>"})
		}
		return out
	case "none":
		if conn.nc == nil {
			return []*respNode{{S: "<nothing>"}}
		}
		if conn.br.Buffered() == 0 {
			_ = conn.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			if _, err := conn.br.Peek(1); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					return []*respNode{{S: "<nothing>"}}
				}
				conn.close()
				return []*respNode{{S: "<io error: " + err.Error() + ">"}}
			}
		}
		return []*respNode{conn.read(compatTimeout)}
	}
	if st.scan {
		return []*respNode{s.scanAll(conn, st.args)}
	}
	if err := conn.send(st.args); err != nil {
		return []*respNode{{S: "<send error: " + err.Error() + ">"}}
	}
	if st.send {
		return nil
	}
	n := max(st.replies, 1)
	var out []*respNode
	for i := 0; i < n; i++ {
		out = append(out, conn.read(compatTimeout))
	}
	// Replies a server sent beyond those expected (already buffered) would
	// shift every later comparison: take them as part of this command.
	for i := 0; i < 8 && conn.nc != nil && conn.br.Buffered() > 0; i++ {
		out = append(out, conn.read(compatTimeout))
	}
	return out
}

// scanAll iterates a SCAN-family command to the end and returns the set
// of elements (field/value or member/score pairs for HSCAN/ZSCAN) sorted.
func (s *compatSide) scanAll(conn *rconn, args []string) *respNode {
	args = append([]string(nil), args...)
	name := strings.ToLower(args[0])
	ci, pair := 2, name == "hscan" || name == "zscan"
	if name == "scan" {
		ci = 1
	}
	if len(args) <= ci {
		if err := conn.send(args); err != nil {
			return &respNode{S: "<send error>"}
		}
		return conn.read(compatTimeout)
	}
	seen := map[string]bool{}
	res := &respNode{T: '*'}
	for iter := 0; ; iter++ {
		if iter > 100000 {
			return &respNode{S: "<scan did not finish>"}
		}
		if err := conn.send(args); err != nil {
			return &respNode{S: "<send error>"}
		}
		r := conn.read(compatTimeout)
		if r.T != '*' || len(r.Kids) != 2 || r.Kids[0].T != '$' || r.Kids[1].T != '*' {
			if iter == 0 {
				return r // an error reply, compared as such
			}
			return &respNode{S: "<bad scan reply: " + r.String() + ">"}
		}
		step := 1
		if pair {
			step = 2
		}
		kids := r.Kids[1].Kids
		for i := 0; i+step <= len(kids); i += step {
			var el *respNode
			if pair {
				el = &respNode{T: '*', Kids: kids[i : i+2]}
			} else {
				el = kids[i]
			}
			if k := el.String(); !seen[k] {
				seen[k] = true
				res.Kids = append(res.Kids, el)
			}
		}
		if r.Kids[0].S == "0" {
			break
		}
		args[ci] = r.Kids[0].S
	}
	return res.sortedBy(1)
}

// compatMismatch is one difference, for the log and the report.
type compatMismatch struct {
	file, text, known string
	line              int
	fluidb, redis     string
	source            string // fluidb file of the handler
}

var compatMismatches []compatMismatch

func TestCompat(t *testing.T) {
	testutil.Need(t, "redis-server")
	files, err := filepath.Glob(filepath.Join("testdata", "compat", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata/compat: %v", err)
	}
	compatMismatches = nil
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) { runCompatScript(t, f) })
	}
	if p := os.Getenv("COMPAT_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(compatReport(files)), 0o644); err != nil {
			t.Errorf("writing %s: %v", p, err)
		}
	}
}

func runCompatScript(t *testing.T, path string) {
	steps, err := parseCompatScript(path)
	if err != nil {
		t.Fatal(err)
	}
	// Same persistence settings on both so CONFIG GET compares.
	fsrv := startServer(t, "--save", "", "--appendonly", "no")
	rp := testutil.StartRedis(t)
	fl, rd := newCompatSide(fsrv.Addr().String()), newCompatSide(rp.Addr())
	defer fl.close()
	defer rd.close()
	for _, side := range []*compatSide{fl, rd} {
		r := side.run(&compatStep{kind: "cmd", args: []string{"FLUSHALL"}})
		if len(r) != 1 || r[0].T != '+' {
			t.Fatalf("FLUSHALL: %v", r)
		}
	}
	file := filepath.Base(path)
	// The @send command whose reply a later @read collects, per connection,
	// so a mismatch there is charged to that command's handler.
	pending := map[int]*compatStep{}
	for _, st := range steps {
		switch st.kind {
		case "proto":
			for _, side := range []*compatSide{fl, rd} {
				r := side.run(&compatStep{kind: "cmd", args: []string{"HELLO", strconv.Itoa(st.n)}})
				if len(r) != 1 || (r[0].T != '*' && r[0].T != '%') {
					t.Errorf("%s:%d: HELLO %d failed: %v", file, st.line, st.n, r)
				}
			}
			continue
		case "sleep":
			time.Sleep(time.Duration(st.n) * time.Millisecond)
			continue
		}
		// Both sides run concurrently so blocking commands and their
		// timeouts overlap in time.
		var fr, rr []*respNode
		done := make(chan struct{})
		go func() { fr = fl.run(st); close(done) }()
		rr = rd.run(st)
		<-done
		src := st
		switch {
		case st.send:
			pending[max(st.conn, 1)] = st
		case st.kind == "read" && pending[max(st.conn, 1)] != nil:
			src = pending[max(st.conn, 1)]
			delete(pending, max(st.conn, 1))
		}
		if st.ignore || st.send {
			continue
		}
		// A redis-server that does not answer means the script is wrong
		// (a missing @send or @replies), not that fluidb is.
		for _, r := range rr {
			if r.T == 0 && st.kind != "none" && st.kind != "drain" {
				t.Errorf("%s:%d: %s: redis-server: %s (script error?)", file, st.line, st.text, r.S)
			}
		}
		fstr, rstr := renderReplies(fr, st), renderReplies(rr, st)
		if os.Getenv("COMPAT_VERBOSE") != "" {
			t.Logf("%s:%d: %s -> %s", file, st.line, st.text, rstr)
		}
		if fstr == rstr {
			if st.known != "" {
				t.Logf("%s:%d: %s: @known difference no longer differs (%s)", file, st.line, st.text, st.known)
			}
			continue
		}
		m := compatMismatch{file: file, line: st.line, text: st.text, known: st.known,
			fluidb: fstr, redis: rstr, source: compatSource(fsrv, src)}
		compatMismatches = append(compatMismatches, m)
		msg := fmt.Sprintf("%s:%d: %s\n  fluidb: %s\n  redis:  %s", file, st.line, st.text, fstr, rstr)
		if st.known != "" {
			t.Logf("known difference (%s): %s", st.known, msg)
		} else {
			t.Errorf("mismatch [%s]: %s", m.source, msg)
		}
	}
}

// renderReplies is the comparable form of a step's replies.
func renderReplies(rs []*respNode, st *compatStep) string {
	var parts []string
	for _, r := range rs {
		switch {
		case st.typeOnly:
			parts = append(parts, r.typeSig())
		case st.sorted > 0:
			parts = append(parts, r.sortedBy(st.sorted).String())
		default:
			parts = append(parts, r.String())
		}
	}
	return strings.Join(parts, " ; ")
}

// compatSource names the fluidb file whose handler answered the command.
func compatSource(s *Server, st *compatStep) string {
	if st.kind != "cmd" || len(st.args) == 0 {
		return "cmd_pubsub.go" // @read / @none / @drain: pushed messages
	}
	cmd := s.cmds[strings.ToLower(st.args[0])]
	if cmd == nil {
		return "command.go (unknown command)"
	}
	if len(cmd.Sub) > 0 && len(st.args) > 1 {
		if sub := cmd.Sub[strings.ToLower(st.args[1])]; sub != nil {
			cmd = sub
		}
	}
	if cmd.Proc == nil {
		return "command.go"
	}
	fn := runtime.FuncForPC(reflect.ValueOf(cmd.Proc).Pointer())
	if fn == nil {
		return "?"
	}
	f, _ := fn.FileLine(fn.Entry())
	return filepath.Base(f)
}

// compatBuckets groups handler files the way the work is split.
var compatBuckets = []struct {
	name  string
	files []string
}{
	{"cmd_string*.go", []string{"cmd_string.go", "cmd_string_more.go"}},
	{"cmd_keys.go", []string{"cmd_keys.go"}},
	{"cmd_list.go", []string{"cmd_list.go", "blocking.go"}},
	{"cmd_hash.go", []string{"cmd_hash.go"}},
	{"cmd_set.go", []string{"cmd_set.go"}},
	{"cmd_zset.go", []string{"cmd_zset.go"}},
	{"cmd_server.go / cmd_client.go / info.go (and cmd_conn.go)", []string{"cmd_server.go", "cmd_client.go", "info.go", "cmd_conn.go", "cmd_debug.go", "slowlog.go"}},
	{"cmd_multi.go / cmd_pubsub.go / command.go / reply.go", []string{"cmd_multi.go", "cmd_pubsub.go", "command.go", "command.go (unknown command)", "reply.go"}},
}

func compatReport(files []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fluidb vs redis-server 7.0.15: differential test mismatches\n\n")
	fmt.Fprintf(&b, "Generated by `COMPAT_REPORT=... go test -race ./server/ -run TestCompat` at %s.\n", time.Now().Format(time.RFC3339))
	fmt.Fprintf(&b, "Scripts: server/testdata/compat/*.txt (%d files). Each entry: script:line, command, both replies.\n", len(files))
	fmt.Fprintf(&b, "A mismatch early in a script can cascade into later lines of the same script (state diverged).\n\n")
	var real, known []compatMismatch
	for _, m := range compatMismatches {
		if m.known != "" {
			known = append(known, m)
		} else {
			real = append(real, m)
		}
	}
	fmt.Fprintf(&b, "Total: %d mismatches (failing), %d known deliberate differences.\n\n", len(real), len(known))
	used := map[int]bool{}
	bucketOf := func(src string) int {
		for i, bk := range compatBuckets {
			for _, f := range bk.files {
				if f == src {
					return i
				}
			}
		}
		return -1
	}
	groups := map[string][]compatMismatch{}
	var order []string
	for _, m := range real {
		key := "other: " + m.source
		if i := bucketOf(m.source); i >= 0 {
			key = compatBuckets[i].name
			used[i] = true
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], m)
	}
	fmt.Fprintf(&b, "| handler file | mismatches |\n|---|---|\n")
	for _, bk := range compatBuckets {
		fmt.Fprintf(&b, "| %s | %d |\n", bk.name, len(groups[bk.name]))
	}
	for _, k := range order {
		if strings.HasPrefix(k, "other: ") {
			fmt.Fprintf(&b, "| %s | %d |\n", k, len(groups[k]))
		}
	}
	b.WriteString("\n")
	sort.SliceStable(order, func(i, j int) bool { return bucketRank(order[i]) < bucketRank(order[j]) })
	for _, k := range order {
		fmt.Fprintf(&b, "## %s (%d)\n\n", k, len(groups[k]))
		for _, m := range groups[k] {
			writeCompatEntry(&b, m)
		}
	}
	if len(known) > 0 {
		fmt.Fprintf(&b, "## Known deliberate differences (not failures)\n\n")
		for _, m := range known {
			writeCompatEntry(&b, m)
		}
	}
	return b.String()
}

func bucketRank(k string) int {
	for i, bk := range compatBuckets {
		if bk.name == k {
			return i
		}
	}
	return len(compatBuckets)
}

func writeCompatEntry(b *strings.Builder, m compatMismatch) {
	clip := func(s string) string {
		if len(s) > 400 {
			return s[:400] + "..."
		}
		return s
	}
	fmt.Fprintf(b, "- `%s:%d` [%s] `%s`\n", m.file, m.line, m.source, m.text)
	if m.known != "" {
		fmt.Fprintf(b, "  - known: %s\n", m.known)
	}
	fmt.Fprintf(b, "  - fluidb: `%s`\n  - redis:  `%s`\n", clip(m.fluidb), clip(m.redis))
}
