package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/internal/testutil"
	"github.com/fluidb/fluidb/server/keyspace"
)

// newAOFServer is a server (no listener, no cron) on dir with appendonly
// yes, after its start-up load.
func newAOFServer(t testing.TB, dir string, extra ...string) *Server {
	t.Helper()
	s := newPersistServer(t, dir, append([]string{"--appendonly", "yes"}, extra...)...)
	if err := s.LoadData(); err != nil {
		t.Fatalf("LoadData: %v", err)
	}
	t.Cleanup(func() { aofTestStop(s) })
	return s
}

// aofTestStop ends a test server's AOF work so nothing logs after the test.
func aofTestStop(s *Server) {
	s.waitAOFRewrite()
	s.waitBgsave()
	s.mu.Lock()
	s.aofShutdown()
	s.mu.Unlock()
}

// aofData is every live key with its value and TTL, without the stamps (a
// replayed write is stamped anew).
func aofData(s *Server) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UnixMilli()
	out := map[string]string{}
	for i, db := range s.dbs {
		db.Range(func(k string, e *keyspace.Entry) bool {
			if !e.ExpiredAt(now) {
				out[fmt.Sprintf("%d/%q", i, k)] = ptCanon(e)
			}
			return true
		})
	}
	return out
}

// aofInfoMap is INFO persistence as a map.
func aofInfoMap(s *Server) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w infoWriter
	s.infoPersistence(&w)
	out := map[string]string{}
	for _, line := range strings.Split(w.b.String(), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func aofDigest(t testing.TB, s *Server) string {
	t.Helper()
	return ptOK(t, s.NewTestClient(), "DEBUG", "DIGEST")
}

func aofFlushed(t testing.TB, s *Server) {
	t.Helper()
	if err := s.aofFlush(true); err != nil {
		t.Fatalf("aofFlush: %v", err)
	}
}

func aofManifestOf(t testing.TB, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func aofIncrPath(t testing.TB, dir string) string {
	t.Helper()
	m, err := parseAOFManifest([]byte(aofManifestOf(t, dir)))
	if err != nil || len(m.incr) == 0 {
		t.Fatalf("manifest: %v %+v", err, m)
	}
	return filepath.Join(dir, "appendonlydir", m.incr[len(m.incr)-1].name)
}

func TestAOFManifest(t *testing.T) {
	in := "file appendonly.aof.2.base.rdb seq 2 type b\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\n" +
		"# a comment\n" +
		"file appendonly.aof.4.incr.aof seq 4 type i\n" +
		"file appendonly.aof.5.incr.aof seq 5 type i\n"
	m, err := parseAOFManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.base.name != "appendonly.aof.2.base.rdb" || len(m.hist) != 1 || len(m.incr) != 2 || m.incrSeq != 5 || m.baseSeq != 2 {
		t.Fatalf("parsed %+v", m)
	}
	want := strings.ReplaceAll(in, "# a comment\n", "")
	if got := m.String(); got != want {
		t.Fatalf("String:\n%s\nwant\n%s", got, want)
	}
	// Names with spaces or quotes are written quoted, as sdscatrepr does.
	m2 := &aofManifest{}
	m2.newBase("my file\"x", true)
	m2.newIncr("my file\"x")
	s := m2.String()
	if !strings.Contains(s, `file "my file\"x.1.base.rdb" seq 1 type b`) {
		t.Fatalf("quoted: %s", s)
	}
	back, err := parseAOFManifest([]byte(s))
	if err != nil || back.base.name != "my file\"x.1.base.rdb" || back.incr[0].name != "my file\"x.1.incr.aof" {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	// A rewrite's bookkeeping: the incr files it covered become history.
	m.newIncr("appendonly.aof")
	m.newBase("appendonly.aof", true)
	m.markIncrHistory(true)
	if m.base.seq != 3 || len(m.incr) != 1 || m.incr[0].seq != 6 || len(m.hist) != 4 {
		t.Fatalf("after rewrite: %s", m)
	}
	for _, bad := range []struct{ in, err string }{
		{"", "empty"},
		{"file a seq 1 type b\nfile b seq 2 type b\n", "duplicate base"},
		{"file a seq 2 type i\nfile b seq 1 type i\n", "non-monotonic"},
		{"file a seq 1 type x\n", "Unknown AOF file type"},
		{"file a seq 1\n", "Invalid AOF manifest"},
		{"file a/b seq 1 type i\n", "can't be a path"},
		{"file a seq 1 type i", "too long line"},
		{"\n", "Invalid AOF manifest"},
		{"file \"a seq 1 type i\n", "Invalid AOF manifest"},
		{"file a seq 1 type i\n" + strings.Repeat("x", 2000) + "\n", "too long line"},
	} {
		if _, err := parseAOFManifest([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%q: %v, want %q", bad.in, err, bad.err)
		}
	}
}

// Every type, TTLs, several databases, binary keys, huge values: the AOF
// brings back the same data and the same DEBUG DIGEST.
func TestAOFRoundTrip(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			s := newAOFServer(t, dir, "--aof-use-rdb-preamble", preamble)
			ptPopulate(t, s)
			c := s.NewTestClient()
			ptOK(t, c, "MULTI")
			ptOK(t, c, "INCR", "tx")
			ptOK(t, c, "SELECT", "5")
			ptOK(t, c, "SET", "tx5", "v")
			ptOK(t, c, "EXEC")
			ptOK(t, c, "INCRBYFLOAT", "fl", "1.25")
			ptOK(t, c, "SPOP", "set")
			aofFlushed(t, s)
			want, digest := aofData(s), aofDigest(t, s)
			ptOK(t, c, "DEBUG", "LOADAOF")
			ptDiff(t, aofData(s), want)

			s2 := newAOFServer(t, dir, "--aof-use-rdb-preamble", preamble)
			ptDiff(t, aofData(s2), want)
			if d := aofDigest(t, s2); d != digest {
				t.Fatalf("digest %s, want %s", d, digest)
			}
			// After a rewrite the data is in the base; more writes go to a
			// new incr file; all of it comes back.
			c2 := s2.NewTestClient()
			ptOK(t, c2, "BGREWRITEAOF")
			s2.waitAOFRewrite()
			ptOK(t, c2, "SET", "after", "rewrite")
			aofFlushed(t, s2)
			man := aofManifestOf(t, dir)
			ext := map[string]string{"yes": ".rdb", "no": ".aof"}[preamble]
			if !strings.Contains(man, "appendonly.aof.2.base"+ext+" seq 2 type b") || !strings.Contains(man, "appendonly.aof.2.incr.aof seq 2 type i") || strings.Contains(man, "type h") {
				t.Fatalf("manifest after rewrite:\n%s", man)
			}
			want2 := aofData(s2)
			s3 := newAOFServer(t, dir, "--aof-use-rdb-preamble", preamble)
			ptDiff(t, aofData(s3), want2)
			entries, _ := os.ReadDir(filepath.Join(dir, "appendonlydir"))
			if len(entries) != 3 {
				t.Fatalf("files left in the AOF dir: %v", entries)
			}
		})
	}
}

// Writes made while a rewrite walks the data are all kept: the ones before
// the switch are in the snapshot, the ones after in the new incr file.
func TestAOFRewriteUnderWrites(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir)
	c := s.NewTestClient()
	for i := 0; i < 3000; i++ {
		ptOK(t, c, "SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
	}
	oldKeys := bgChunkKeys
	bgChunkKeys = 20
	gate := make(chan struct{})
	bgChunkGate = gate
	defer func() { bgChunkKeys, bgChunkGate = oldKeys, nil }()

	const rounds, perRound = 3, 2000
	incrs := 0
	for r := 0; r < rounds; r++ {
		ptOK(t, c, "BGREWRITEAOF")
		if got := c.Do("BGREWRITEAOF"); !strings.Contains(got, "already in progress") {
			t.Fatalf("second BGREWRITEAOF: %q", got)
		}
		for i := 0; i < perRound; i++ {
			k := "k" + strconv.Itoa((i*7+r*13)%3000)
			switch i % 5 {
			case 0:
				ptOK(t, c, "SET", k, "r"+strconv.Itoa(r))
			case 1:
				ptOK(t, c, "DEL", k)
			case 2:
				ptOK(t, c, "RPUSH", "log", strconv.Itoa(r*perRound+i))
			case 3:
				ptOK(t, c, "HSET", "h"+strconv.Itoa(i%50), "f"+strconv.Itoa(r), strconv.Itoa(i))
			default:
				ptOK(t, c, "INCR", "counter")
				incrs++
			}
			if i%4 == 0 {
				select {
				case gate <- struct{}{}:
				default:
				}
			}
		}
		// Let the walk finish.
		done := make(chan struct{})
		go func() { s.waitAOFRewrite(); close(done) }()
	drain:
		for {
			select {
			case gate <- struct{}{}:
			case <-done:
				break drain
			}
		}
		s.mu.Lock()
		st := s.aofInfo()
		s.mu.Unlock()
		if st[5][1] != "ok" {
			t.Fatalf("rewrite %d failed: %v", r, st)
		}
	}
	bgChunkGate = nil
	aofFlushed(t, s)
	want := aofData(s)
	if got := ptOK(t, c, "GET", "counter"); !strings.Contains(got, strconv.Itoa(incrs)) {
		t.Fatalf("counter %q, want %d", got, incrs)
	}
	s2 := newAOFServer(t, dir)
	ptDiff(t, aofData(s2), want)
	if got := ptOK(t, s2.NewTestClient(), "LLEN", "log"); got != fmt.Sprintf(":%d\r\n", rounds*perRound/5) {
		t.Fatalf("LLEN log after reload = %q", got)
	}
	info := map[string]string{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kv := range s.aofInfo() {
		info[kv[0]] = kv[1]
	}
	// The writes did land in the middle of the walks: keys changed ahead
	// of the walk were kept in the side map.
	if info["aof_rewrites"] != "3" || info["aof_last_bgrewrite_status"] != "ok" || info["aof_last_cow_size"] == "0" {
		t.Fatalf("info %v", info)
	}
}

// A torn last record is truncated away with a warning; with
// aof-load-truncated no the start is refused, naming file and offset.
func TestAOFTornTail(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir)
	c := s.NewTestClient()
	ptOK(t, c, "SET", "a", "1")
	ptOK(t, c, "RPUSH", "l", "x", "y")
	aofFlushed(t, s)
	aofTestStop(s)
	want := aofData(s)
	incr := aofIncrPath(t, dir)
	st, _ := os.Stat(incr)
	good := st.Size()

	for _, tail := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2\r\n1",                          // inside a bulk string
		"*3\r\n$3\r\nSET\r\n$1",                                          // inside a length line
		"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n1\r\n", // MULTI without EXEC
	} {
		appendFile(t, incr, tail)
		name := filepath.Base(incr)
		s2 := newPersistServer(t, dir, "--appendonly", "yes", "--aof-load-truncated", "no")
		err := s2.LoadData()
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "offset "+strconv.FormatInt(good, 10)) {
			t.Fatalf("aof-load-truncated no: %v", err)
		}
		var log strings.Builder
		s3 := newPersistServer(t, dir, "--appendonly", "yes")
		s3.log.SetOutput(&log)
		if err := s3.LoadData(); err != nil {
			t.Fatalf("load with a torn tail %q: %v", tail, err)
		}
		aofTestStop(s3)
		if !strings.Contains(log.String(), "Truncating the AOF "+name+" at offset "+strconv.FormatInt(good, 10)) {
			t.Fatalf("no truncation warning:\n%s", log.String())
		}
		ptDiff(t, aofData(s3), want)
		if st, _ := os.Stat(incr); st.Size() != good {
			t.Fatalf("file is %d bytes after truncation, want %d", st.Size(), good)
		}
	}
}

func appendFile(t testing.TB, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// Damage anywhere but the tail stops the start with the file and offset.
func TestAOFCorruptionRefused(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir)
	c := s.NewTestClient()
	for i := 0; i < 20; i++ {
		ptOK(t, c, "SET", "k"+strconv.Itoa(i), "v")
	}
	aofFlushed(t, s)
	aofTestStop(s)
	incr := aofIncrPath(t, dir)
	orig, _ := os.ReadFile(incr)
	name := filepath.Base(incr)
	mid := strings.Index(string(orig), "k10") // "$3\r\nk10": its length line
	lenAt := strings.LastIndex(string(orig[:mid]), "$")
	cmdAt := strings.LastIndex(string(orig[:lenAt]), "*")
	for _, tc := range []struct {
		what   string
		data   string
		offset int
		msg    string
	}{
		{"bad length line", string(orig[:lenAt]) + "?" + string(orig[lenAt+1:]), lenAt, "Bad file format"},
		{"bad header", string(orig[:cmdAt]) + "+" + string(orig[cmdAt+1:]), cmdAt, "Bad file format"},
		{"unknown command", string(orig[:cmdAt]) + "*1\r\n$7\r\nFOOBARX\r\n" + string(orig[cmdAt:]), cmdAt, "Unknown command 'FOOBARX'"},
		{"wrong arity", string(orig[:cmdAt]) + "*1\r\n$3\r\nSET\r\n" + string(orig[cmdAt:]), cmdAt, "wrong number of arguments"},
		{"missing CRLF", string(orig[:mid+3]) + "XY" + string(orig[mid+5:]), mid + 3, "Bad file format"},
	} {
		if err := os.WriteFile(incr, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		s2 := newPersistServer(t, dir, "--appendonly", "yes")
		err := s2.LoadData()
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), name) ||
			!strings.Contains(err.Error(), "offset "+strconv.Itoa(tc.offset)) {
			t.Fatalf("%s: %v (want %q in %s at offset %d)", tc.what, err, tc.msg, name, tc.offset)
		}
		if n := len(aofData(s2)); n != 0 {
			t.Fatalf("%s: %d keys left loaded after a refused load", tc.what, n)
		}
		if b, _ := os.ReadFile(incr); string(b) != tc.data {
			t.Fatalf("%s: the damaged file was modified", tc.what)
		}
	}
	// A torn tail in a file that is not the last one is damage too.
	if err := os.WriteFile(incr, append(orig, "*2\r\n$3\r\nGET"...), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := parseAOFManifest([]byte(aofManifestOf(t, dir)))
	m.newIncr("appendonly.aof")
	os.WriteFile(filepath.Join(dir, "appendonlydir", m.incr[1].name), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"), []byte(m.String()), 0o644)
	s3 := newPersistServer(t, dir, "--appendonly", "yes")
	if err := s3.LoadData(); err == nil || !strings.Contains(err.Error(), "not the last file") || !strings.Contains(err.Error(), name) {
		t.Fatalf("torn middle file: %v", err)
	}
	// A file the manifest lists but the directory lacks.
	os.Remove(filepath.Join(dir, "appendonlydir", m.incr[1].name))
	s4 := newPersistServer(t, dir, "--appendonly", "yes")
	if err := s4.LoadData(); err == nil || !strings.Contains(err.Error(), m.incr[1].name) {
		t.Fatalf("missing file: %v", err)
	}
}

// A failed write (disk full) turns aof_last_write_status to err and writes
// into MISCONF errors until a write succeeds again; nothing is lost.
func TestAOFWriteErrorBlocksWrites(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir)
	c := s.NewTestClient()
	ptOK(t, c, "SET", "before", "1")
	aofFlushed(t, s)
	var fail atomic.Bool
	old := aofWriteHook
	aofWriteHook = func(f *os.File, b []byte) (int, error) {
		if fail.Load() {
			n, _ := f.Write(b[:len(b)/2]) // a short write, then the disk is full
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		return f.Write(b)
	}
	defer func() { aofWriteHook = old }()
	fail.Store(true)
	ptOK(t, c, "SET", "during", "1")
	if err := s.aofFlush(false); err == nil {
		t.Fatal("the write did not fail")
	}
	if got := c.Do("SET", "refused", "1"); got != "-MISCONF Errors writing to the AOF file: No space left on device\r\n" {
		t.Fatalf("write while failing: %q", got)
	}
	if got := c.Do("GET", "before"); got != "$1\r\n1\r\n" {
		t.Fatalf("read while failing: %q", got)
	}
	s.mu.Lock()
	info := s.aofInfo()
	s.mu.Unlock()
	if info[8] != [2]string{"aof_last_write_status", "err"} {
		t.Fatalf("info: %v", info)
	}
	fail.Store(false)
	s.mu.Lock()
	s.cron() // retries the write
	s.mu.Unlock()
	ptOK(t, c, "SET", "after", "1")
	s.mu.Lock()
	info = s.aofInfo()
	s.mu.Unlock()
	if info[8][1] != "ok" {
		t.Fatalf("status after recovery: %v", info)
	}
	aofFlushed(t, s)
	want := aofData(s)
	s2 := newAOFServer(t, dir)
	ptDiff(t, aofData(s2), want)
	if _, ok := want[`0/"during"`]; !ok {
		t.Fatal("the write made before the failure was lost")
	}
}

// CONFIG SET appendonly yes starts with a rewrite, like Redis; the writes
// made meanwhile are kept; CONFIG SET appendonly no stops writing.
func TestAOFSwitchedOnAtRunTime(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	t.Cleanup(func() { aofTestStop(s) })
	if err := s.LoadData(); err != nil {
		t.Fatal(err)
	}
	ptPopulate(t, s)
	c := s.NewTestClient()
	oldKeys := bgChunkKeys
	bgChunkKeys = 5
	gate := make(chan struct{})
	bgChunkGate = gate
	defer func() { bgChunkKeys, bgChunkGate = oldKeys, nil }()
	ptOK(t, c, "CONFIG", "SET", "appendonly", "yes")
	s.mu.Lock()
	st := s.aof.state
	s.mu.Unlock()
	if st != aofWaitRewrite {
		t.Fatalf("state %d after CONFIG SET appendonly yes", st)
	}
	for i := 0; i < 50; i++ {
		ptOK(t, c, "SET", "during"+strconv.Itoa(i), "x")
		ptOK(t, c, "DEL", "str")
		select {
		case gate <- struct{}{}:
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(gate)
	s.waitAOFRewrite()
	bgChunkGate = nil
	ptOK(t, c, "SET", "after", "1")
	aofFlushed(t, s)
	man := aofManifestOf(t, dir)
	if man != "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest:\n%s", man)
	}
	want := aofData(s)
	ptOK(t, c, "CONFIG", "SET", "appendonly", "no")
	ptOK(t, c, "SET", "not-logged", "1")
	s2 := newAOFServer(t, dir)
	ptDiff(t, aofData(s2), want)
}

// The cron rewrites the AOF once it grew by auto-aof-rewrite-percentage
// past auto-aof-rewrite-min-size.
func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir, "--auto-aof-rewrite-min-size", "10kb", "--auto-aof-rewrite-percentage", "100")
	c := s.NewTestClient()
	for i := 0; i < 100; i++ {
		ptOK(t, c, "SET", "k", strings.Repeat("x", 50))
	}
	aofFlushed(t, s)
	s.mu.Lock()
	s.cron()
	started := s.aof.rw != nil
	s.mu.Unlock()
	if started {
		t.Fatal("rewrite below auto-aof-rewrite-min-size")
	}
	for i := 0; i < 200; i++ {
		ptOK(t, c, "SET", "k", strings.Repeat("x", 50))
	}
	aofFlushed(t, s)
	s.mu.Lock()
	s.cron()
	started = s.aof.rw != nil
	s.mu.Unlock()
	if !started {
		t.Fatalf("no automatic rewrite at %d bytes", s.aof.currentSize.Load())
	}
	s.waitAOFRewrite()
	s.mu.Lock()
	info := s.aofInfoEnabled()
	s.mu.Unlock()
	if cur, _ := strconv.Atoi(info[0][1]); cur > 2000 || info[0][1] != info[1][1] {
		t.Fatalf("sizes after the rewrite: %v", info)
	}
}

func TestAOFBgrewriteaofRules(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	t.Cleanup(func() { aofTestStop(s) })
	c := s.NewTestClient()
	ptOK(t, c, "SET", "k", "v")
	// With appendonly no, BGREWRITEAOF still writes a base (Redis does).
	ptOK(t, c, "BGREWRITEAOF")
	s.waitAOFRewrite()
	if man := aofManifestOf(t, dir); man != "file appendonly.aof.1.base.rdb seq 1 type b\n" {
		t.Fatalf("manifest: %q", man)
	}
	// While a BGSAVE runs it is scheduled, and the cron starts it after.
	gate := make(chan struct{})
	bgChunkGate = gate
	defer func() { bgChunkGate = nil }()
	ptOK(t, c, "BGSAVE")
	if got := c.Do("BGREWRITEAOF"); got != "+Background append only file rewriting scheduled\r\n" {
		t.Fatalf("during BGSAVE: %q", got)
	}
	close(gate)
	s.waitBgsave()
	bgChunkGate = nil
	s.mu.Lock()
	s.cron()
	s.mu.Unlock()
	// While the rewrite runs: BGSAVE is refused as with an AOF child,
	// SAVE runs, and INFO does not show an RDB save in progress.
	if got := c.Do("BGSAVE"); !strings.HasPrefix(got, "-ERR Another child process is active (AOF?)") {
		t.Fatalf("BGSAVE during the rewrite: %q", got)
	}
	ptOK(t, c, "SAVE")
	if info := aofInfoMap(s); info["rdb_bgsave_in_progress"] != "0" || info["aof_rewrite_in_progress"] != "1" {
		t.Fatalf("INFO during the rewrite: bgsave %s aof %s", info["rdb_bgsave_in_progress"], info["aof_rewrite_in_progress"])
	}
	s.waitAOFRewrite()
	if man := aofManifestOf(t, dir); man != "file appendonly.aof.2.base.rdb seq 2 type b\n" {
		t.Fatalf("manifest: %q", man)
	}
	s.mu.Lock()
	info := append(s.aofInfo(), s.aofInfoEnabled()...)
	s.mu.Unlock()
	var names []string
	for _, kv := range info {
		names = append(names, kv[0])
	}
	want := "aof_enabled aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size"
	if strings.Join(names, " ") != want {
		t.Fatalf("INFO fields: %v", names)
	}
	if info[0][1] != "0" || info[6][1] != "2" {
		t.Fatalf("INFO: %v", info)
	}
	s2 := newAOFServer(t, t.TempDir())
	s2.mu.Lock()
	names = nil
	for _, kv := range s2.aofInfoEnabled() {
		names = append(names, kv[0])
	}
	s2.mu.Unlock()
	if strings.Join(names, " ") != "aof_current_size aof_base_size aof_pending_rewrite aof_buffer_length aof_pending_bio_fsync aof_delayed_fsync" {
		t.Fatalf("enabled-only fields: %v", names)
	}
}

// With aof-timestamp-enabled the incr file carries #TS annotations, which
// the loader skips.
func TestAOFTimestamps(t *testing.T) {
	dir := t.TempDir()
	s := newAOFServer(t, dir, "--aof-timestamp-enabled", "yes")
	ptOK(t, s.NewTestClient(), "SET", "a", "1")
	aofFlushed(t, s)
	b, _ := os.ReadFile(aofIncrPath(t, dir))
	if !strings.HasPrefix(string(b), "#TS:") {
		t.Fatalf("no annotation: %q", b)
	}
	want := aofData(s)
	ptDiff(t, aofData(newAOFServer(t, dir)), want)
}

// Process tests: real fluidb and redis-server processes.

func aofRedisClient(t testing.TB, port int) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	t.Cleanup(func() { rc.Close() })
	return rc
}

// The binary restarted on the same dir has the same data and DEBUG DIGEST.
func TestAOFProcessRestart(t *testing.T) {
	p := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes")
	replPopulate(t, p.Addr())
	replWorkload(t, p.Addr(), 1)
	ctx := context.Background()
	rc := aofRedisClient(t, p.Port)
	digest := rc.Do(ctx, "DEBUG", "DIGEST").Val()
	want := replDump(t, p.Addr())
	p.Stop() // SIGKILL
	p2 := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--dir", p.Dir)
	if diff := replDiff(want, replDump(t, p2.Addr())); diff != "" {
		t.Fatalf("after restart:\n%s", diff)
	}
	if d := aofRedisClient(t, p2.Port).Do(ctx, "DEBUG", "DIGEST").Val(); d != digest {
		t.Fatalf("digest %v, want %v", d, digest)
	}
}

// redis-server's AOF directory loads in fluidb, and fluidb's in
// redis-server, and redis-check-aof accepts fluidb's.
func TestAOFInteropWithRedis(t *testing.T) {
	testutil.Need(t, "redis-server")
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			// Redis -> fluidb: a base with data and an incr file.
			r := testutil.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
			replPopulate(t, r.Addr())
			rr := aofRedisClient(t, r.Port)
			replMust(t, rr.BgRewriteAOF(context.Background()))
			aofWaitRewriteDone(t, rr)
			replWorkload(t, r.Addr(), 1)
			want := replDump(t, r.Addr())
			if len(want) < 20 {
				t.Fatalf("only %d keys", len(want))
			}
			r.Stop()
			f := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--dir", r.Dir)
			if diff := replDiff(want, replDump(t, f.Addr())); diff != "" {
				t.Fatalf("fluidb on redis-server's AOF:\n%s\n%s", diff, f.Output())
			}

			// fluidb -> Redis, the same way.
			f2 := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
			replPopulate(t, f2.Addr())
			fr := aofRedisClient(t, f2.Port)
			replMust(t, fr.BgRewriteAOF(context.Background()))
			aofWaitRewriteDone(t, fr)
			replWorkload(t, f2.Addr(), 2)
			want = replDump(t, f2.Addr())
			if len(want) < 20 {
				t.Fatalf("only %d keys", len(want))
			}
			f2.Stop()
			out, err := exec.Command("redis-check-aof", filepath.Join(f2.Dir, "appendonlydir", "appendonly.aof.manifest")).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "All AOF files and manifest are valid") {
				t.Fatalf("redis-check-aof: %v\n%s", err, out)
			}
			r2 := testutil.StartRedis(t, "--appendonly", "yes", "--dir", f2.Dir)
			if diff := replDiff(want, replDump(t, r2.Addr())); diff != "" {
				t.Fatalf("redis-server on fluidb's AOF:\n%s\n%s", diff, r2.Output())
			}
		})
	}
}

func aofWaitRewriteDone(t testing.TB, rc *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := rc.Info(context.Background(), "persistence").Val()
		if strings.Contains(info, "aof_rewrite_in_progress:0") && !strings.Contains(info, "aof_rewrite_scheduled:1") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rewrite did not finish:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill -9 during a write load (with a rewrite in the middle): with
// appendfsync always no acknowledged write is lost; with everysec the test
// counts the losses (a process crash loses nothing either, as the buffer
// is written before the replies; an OS crash could lose up to a second).
func TestAOFCrash(t *testing.T) {
	for _, policy := range []string{"always", "everysec"} {
		t.Run(policy, func(t *testing.T) {
			p := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--appendfsync", policy)
			const writers = 4
			var acked [writers]atomic.Int64
			var stop atomic.Bool
			var wg sync.WaitGroup
			ctx := context.Background()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					rc := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, PoolSize: 1})
					defer rc.Close()
					key := "ctr:" + strconv.Itoa(w)
					for !stop.Load() {
						n, err := rc.Incr(ctx, key).Result()
						if err != nil {
							return
						}
						if err := rc.RPush(ctx, "list:"+strconv.Itoa(w), n).Err(); err != nil {
							return
						}
						acked[w].Store(n)
					}
				}(w)
			}
			time.Sleep(700 * time.Millisecond)
			replMust(t, aofRedisClient(t, p.Port).BgRewriteAOF(ctx))
			time.Sleep(700 * time.Millisecond)
			if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			stop.Store(true)
			wg.Wait()
			p.Stop()
			p2 := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--dir", p.Dir)
			rc := aofRedisClient(t, p2.Port)
			var total, lost int64
			for w := 0; w < writers; w++ {
				got, err := rc.Get(ctx, "ctr:"+strconv.Itoa(w)).Int64()
				if err != nil && !errors.Is(err, redis.Nil) {
					t.Fatal(err)
				}
				n := acked[w].Load()
				total += n
				if got < n {
					lost += n - got
				}
				if l := rc.LLen(ctx, "list:"+strconv.Itoa(w)).Val(); l < n {
					lost += n - l
				}
			}
			t.Logf("appendfsync %s: %d acknowledged INCR+RPUSH pairs, %d acknowledged writes lost after kill -9", policy, total, lost)
			if total < 100 {
				t.Fatalf("only %d writes acknowledged: the load did not run", total)
			}
			if policy == "always" && lost != 0 {
				t.Fatalf("appendfsync always lost %d acknowledged writes", lost)
			}
			// The load ran for 1.4 s: a second's worth is 1/1.4 of it.
			if policy == "everysec" && lost > 2*total*10/14 {
				t.Fatalf("appendfsync everysec lost %d of %d writes: more than about a second", lost, total)
			}
		})
	}
}

// A replica with appendonly yes rewrites its AOF after the full sync and
// logs the stream: restarted alone from its AOF it has the master's data.
func TestAOFReplica(t *testing.T) {
	m := testutil.StartFluidb(t, "--save", "")
	replPopulate(t, m.Addr())
	host, port := replAddrPort(m.Addr())
	r := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--replicaof", host, strconv.Itoa(port))
	replSameData(t, m.Addr(), r.Addr())
	replWorkload(t, m.Addr(), 1)
	replSameData(t, m.Addr(), r.Addr())
	rc := aofRedisClient(t, r.Port)
	aofWaitRewriteDone(t, rc)
	want := replDump(t, m.Addr())
	r.Stop()
	out := r.Output()
	if i := strings.Index(out, "Swapping active DB"); i < 0 || !strings.Contains(out[i:], "Background AOF rewrite finished successfully") {
		t.Fatalf("no AOF rewrite after the sync:\n%s", out)
	}
	r2 := testutil.StartFluidb(t, "--save", "", "--appendonly", "yes", "--dir", r.Dir)
	if diff := replDiff(want, replDump(t, r2.Addr())); diff != "" {
		t.Fatalf("replica restarted from its AOF:\n%s\n%s", diff, r.Output())
	}
}

// An old-style single AOF (Redis < 7: dir/appendonly.aof, here with an RDB
// preamble and a command tail) is moved into the AOF directory as the base
// and loaded whole, as Redis 7.0 does on upgrade.
func TestAOFUpgradeOldStyle(t *testing.T) {
	for _, preamble := range []bool{true, false} {
		dir := t.TempDir()
		src := newPersistServer(t, dir)
		c := src.NewTestClient()
		ptOK(t, c, "SET", "in-rdb", "1")
		ptOK(t, c, "RPUSH", "list", "a", "b")
		var file []byte
		if preamble {
			ptOK(t, c, "SAVE")
			file, _ = os.ReadFile(filepath.Join(dir, "dump.rdb"))
			os.Remove(filepath.Join(dir, "dump.rdb"))
		} else {
			file = appendRESP(nil, argvOf("SET", "in-rdb", "1"))
			file = appendRESP(file, argvOf("RPUSH", "list", "a", "b"))
		}
		file = appendRESP(file, argvOf("SELECT", "2"))
		file = appendRESP(file, argvOf("SET", "in-tail", "2"))
		file = appendRESP(file, argvOf("RPUSH", "list", "c"))
		if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), file, 0o644); err != nil {
			t.Fatal(err)
		}
		s := newAOFServer(t, dir)
		got := aofData(s)
		if len(got) != 4 || got[`2/"in-tail"`] == "" || got[`0/"in-rdb"`] == "" || got[`2/"list"`] == "" || got[`0/"list"`] == "" {
			t.Fatalf("preamble %v: loaded %v", preamble, got)
		}
		if fileExists(filepath.Join(dir, "appendonly.aof")) || !fileExists(filepath.Join(dir, "appendonlydir", "appendonly.aof")) {
			t.Fatal("the old file was not moved into the AOF directory")
		}
		man := aofManifestOf(t, dir)
		if man != "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
			t.Fatalf("manifest:\n%s", man)
		}
		ptOK(t, s.NewTestClient(), "SET", "new", "3")
		aofFlushed(t, s)
		want := aofData(s)
		aofTestStop(s)
		ptDiff(t, aofData(newAOFServer(t, dir)), want)
	}
}
