package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/server/config"
	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
)

// newPersistServer builds a server (not listening, no cron) whose dir is
// dir.
func newPersistServer(t testing.TB, dir string, extra ...string) *Server {
	t.Helper()
	cfg, err := config.Load("", append([]string{"--save", "", "--appendonly", "no"}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = dir
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.log.SetOutput(testWriter{t})
	return s
}

// ptState renders every live key of every database, with its TTL, stamp and
// origin, in a form that ignores encodings and iteration order.
func ptState(s *Server) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UnixMilli()
	out := map[string]string{}
	for i, db := range s.dbs {
		db.Range(func(k string, e *keyspace.Entry) bool {
			if !e.ExpiredAt(now) {
				out[fmt.Sprintf("%d/%q", i, k)] = fmt.Sprintf("%s stamp=%d origin=%s", ptCanon(e), e.Stamp, s.origins.ID(e.Origin))
			}
			return true
		})
	}
	return out
}

func ptCanon(e *keyspace.Entry) string {
	var parts []string
	switch v := e.Obj.(type) {
	case nil:
		return fmt.Sprintf("string %q ttl=%d", e.Str, e.Expire)
	case *keyspace.List:
		var els []string
		v.Range(false, func(_ int, b []byte) bool { els = append(els, string(b)); return true })
		return fmt.Sprintf("list %q ttl=%d", els, e.Expire)
	case *keyspace.Set:
		v.Each(func(m string) bool { parts = append(parts, strconv.Quote(m)); return true })
	case *keyspace.Hash:
		v.Each(func(f string, x []byte) bool {
			parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(string(x)))
			return true
		})
	case *keyspace.ZSet:
		v.Range(func(m string, sc float64) bool {
			parts = append(parts, strconv.Quote(m)+"="+strconv.FormatFloat(sc, 'g', -1, 64))
			return true
		})
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s %s [%s] ttl=%d", e.Kind(), ptEncoding(e), strings.Join(parts, " "), e.Expire)
}

func ptEncoding(e *keyspace.Entry) string {
	if enc, ok := e.Obj.(interface{ Encoding() string }); ok {
		return enc.Encoding()
	}
	return ""
}

func ptDiff(t testing.TB, got, want map[string]string) {
	t.Helper()
	n := 0
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %s (want %.120s)", k, w)
			n++
		} else if g != w {
			t.Errorf("%s:\n got %.200s\nwant %.200s", k, g, w)
			n++
		}
		if n > 10 {
			t.Fatal("too many differences")
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %.120s", k, g)
			if n++; n > 10 {
				t.Fatal("too many differences")
			}
		}
	}
}

func ptOK(t testing.TB, c *Client, args ...string) string {
	t.Helper()
	r := c.Do(args...)
	if strings.HasPrefix(r, "-") {
		t.Fatalf("%v: %s", args, r)
	}
	return r
}

// ptPopulate fills s with every type, TTLs, several databases, binary keys
// and values, empty and huge values.
func ptPopulate(t testing.TB, s *Server) {
	c := s.NewTestClient()
	rng := rand.New(rand.NewPCG(1, 1))
	huge := make([]byte, 1<<20+777)
	for i := range huge {
		huge[i] = byte(rng.Uint32())
	}
	ptOK(t, c, "SET", "str", "hello")
	ptOK(t, c, "SET", "int", "-12345")
	ptOK(t, c, "SET", "empty", "")
	ptOK(t, c, "SET", "bin\x00\xff\r\nkey", "\x00\x01\xfe\xff")
	ptOK(t, c, "SET", "huge", string(huge))
	ptOK(t, c, "SET", "compressible", strings.Repeat("fluidb ", 10000))
	ptOK(t, c, "SET", "ttl", "v", "PX", "86400000")
	ptOK(t, c, "RPUSH", "list", "a", "1", "", "\x00", strings.Repeat("L", 300))
	ptOK(t, c, "SADD", "intset", "1", "2", "-3", "9000000000")
	ptOK(t, c, "SADD", "set", "a", "b", "")
	ptOK(t, c, "HSET", "hash", "f", "v", "", "empty", "n", "1")
	ptOK(t, c, "ZADD", "zset", "1.5", "a", "-inf", "b", "+inf", "c", "0", "")
	for i := 0; i < 300; i++ {
		ptOK(t, c, "RPUSH", "biglist", "e"+strconv.Itoa(i))
		ptOK(t, c, "SADD", "bigset", strconv.Itoa(i*1000))
		ptOK(t, c, "HSET", "bighash", "f"+strconv.Itoa(i), strconv.Itoa(i))
		ptOK(t, c, "ZADD", "bigzset", strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	ptOK(t, c, "PEXPIRE", "bighash", "86400000")
	ptOK(t, c, "SELECT", "3")
	ptOK(t, c, "SET", "db3", "three")
	ptOK(t, c, "HSET", "db3hash", "k", "v")
	ptOK(t, c, "EXPIRE", "db3hash", "1000")
	ptOK(t, c, "SELECT", "15")
	ptOK(t, c, "LPUSH", "db15", "x")
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	ptPopulate(t, s)
	c := s.NewTestClient()
	if r := c.Do("SAVE"); r != "+OK\r\n" {
		t.Fatalf("SAVE: %q", r)
	}
	want := ptState(s)
	s2 := newPersistServer(t, dir)
	if err := s2.LoadData(); err != nil {
		t.Fatal(err)
	}
	ptDiff(t, ptState(s2), want)
	if s2.clock.Last() < s.clock.Last() {
		t.Errorf("clock not restored: %d < %d", s2.clock.Last(), s.clock.Last())
	}
	c2 := s2.NewTestClient()
	if r := c2.Do("SET", "after", "load"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	s2.mu.Lock()
	e := s2.dbs[0].GetString("after")
	s2.mu.Unlock()
	if e.Stamp <= s.clock.Last() {
		t.Errorf("a write after loading got stamp %d, not above the saved high-water mark %d", e.Stamp, s.clock.Last())
	}
	// Loading into a third server, with the checksum disabled, still works.
	s3 := newPersistServer(t, dir, "--rdbchecksum", "no")
	if err := s3.LoadData(); err != nil {
		t.Fatal(err)
	}
	ptDiff(t, ptState(s3), want)
}

// Stamps made by other nodes keep their origin UUID through a save and a
// load into a server whose origin table is different.
func TestStampsRestoredExactly(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	c := s.NewTestClient()
	for i := 0; i < 50; i++ {
		ptOK(t, c, "SET", "k"+strconv.Itoa(i), "v")
	}
	s.mu.Lock()
	peers := []uint32{0, s.origins.Intern(s.nodeID), s.origins.Intern([16]byte{1, 2, 3}), s.origins.Intern([16]byte{9})}
	i := 0
	s.dbs[0].Range(func(k string, e *keyspace.Entry) bool {
		e.Origin = peers[i%len(peers)]
		e.Stamp = uint64(1000 + i)
		if e.Origin == 0 && i%8 == 0 {
			e.Stamp = 0
		}
		i++
		return true
	})
	s.mu.Unlock()
	ptOK(t, c, "SAVE")
	want := ptState(s)
	s2 := newPersistServer(t, dir)
	s2.origins.Intern([16]byte{7, 7, 7}) // shifts every index
	if err := s2.LoadData(); err != nil {
		t.Fatal(err)
	}
	ptDiff(t, ptState(s2), want)
}

// The point-in-time test: writes of every kind run while a BGSAVE walks
// the keyspace in tiny chunks; the file must hold exactly the state at the
// moment BGSAVE started.
func TestBgsavePointInTime(t *testing.T) {
	defer func(k, b int) { bgChunkKeys, bgChunkBytes, bgChunkGate = k, b, nil }(bgChunkKeys, bgChunkBytes)
	bgChunkKeys, bgChunkBytes, bgChunkGate = 7, 1<<20, make(chan struct{})
	for round := 0; round < 4; round++ {
		dir := t.TempDir()
		s := newPersistServer(t, dir)
		c := s.NewTestClient()
		rng := rand.New(rand.NewPCG(uint64(round), 42))
		for db := 0; db < 6; db++ {
			ptOK(t, c, "SELECT", strconv.Itoa(db))
			for i := 0; i < 200; i++ { // keys no other database has
				ptOK(t, c, "SET", "o"+strconv.Itoa(db)+"_"+strconv.Itoa(i), "only")
			}
			for i := 0; i < 1500; i++ {
				k := "k" + strconv.Itoa(i)
				switch i % 5 {
				case 0:
					ptOK(t, c, "SET", k, strconv.Itoa(i))
				case 1:
					ptOK(t, c, "RPUSH", k, "a", "b")
				case 2:
					ptOK(t, c, "HSET", k, "f", "v")
				case 3:
					ptOK(t, c, "SADD", k, "1", "x")
				case 4:
					ptOK(t, c, "ZADD", k, "1", "m")
				}
			}
		}
		ptOK(t, c, "SELECT", "0")
		want := ptState(s)
		if r := c.Do("BGSAVE"); r != "+Background saving started\r\n" {
			t.Fatalf("BGSAVE: %q", r)
		}
		if r := c.Do("BGSAVE"); !strings.HasPrefix(r, "-ERR Background save already in progress") {
			t.Fatalf("second BGSAVE: %q", r)
		}
		ops := 0
		for {
			s.mu.Lock()
			running := s.persist.bg != nil
			s.mu.Unlock()
			if !running {
				break
			}
			// A few writes, then let the walk take one chunk.
			for n := rng.IntN(4); n >= 0; n-- {
				ops++
				bgRandomWrite(c, rng)
			}
			select {
			case bgChunkGate <- struct{}{}:
			case <-time.After(time.Millisecond):
			}
		}
		s.waitBgsave()
		info := ptInfo(s)
		if info["rdb_last_bgsave_status"] != "ok" || info["rdb_bgsave_in_progress"] != "0" {
			t.Fatalf("after BGSAVE: %v", info)
		}
		s2 := newPersistServer(t, dir)
		if err := s2.LoadData(); err != nil {
			t.Fatal(err)
		}
		ptDiff(t, ptState(s2), want)
		t.Logf("round %d: %d writes during the save, side map peak %s bytes", round, ops, info["rdb_last_cow_size"])
		if _, err := os.Stat(filepath.Join(dir, s.bgTempName())); !os.IsNotExist(err) {
			t.Errorf("temp file left behind: %v", err)
		}
	}
}

// bgRandomWrite runs one random write of the kinds BGSAVE must handle:
// changes, deletes, creations, renames, moves and copies across
// databases, table growth and shrinking (rehashing), SWAPDB, FLUSHDB.
func bgRandomWrite(c *Client, rng *rand.Rand) {
	db := rng.IntN(6)
	k := "k" + strconv.Itoa(rng.IntN(2500)) // some new keys too
	k2 := "k" + strconv.Itoa(rng.IntN(2500))
	c.Do("SELECT", strconv.Itoa(db))
	switch rng.IntN(17) {
	case 0:
		c.Do("SET", k, "changed")
	case 1:
		c.Do("DEL", k, k2)
	case 2:
		c.Do("RPUSH", k, "new")
	case 3:
		c.Do("HSET", k, "g", "w")
	case 4:
		c.Do("SADD", k, "y")
	case 5:
		c.Do("ZADD", k, "2", "n")
	case 6:
		c.Do("RENAME", k, k2)
	case 7:
		dst := strconv.Itoa(rng.IntN(6))
		c.Do("SELECT", dst)
		c.Do("DEL", k)
		c.Do("SELECT", strconv.Itoa(db))
		c.Do("MOVE", k, dst)
	case 8:
		c.Do("COPY", k, k2, "DB", strconv.Itoa(rng.IntN(6)), "REPLACE")
	case 9:
		c.Do("EXPIRE", k, "1000")
	case 10:
		c.Do("APPEND", k, "more")
	case 11:
		for j := 0; j < 50; j++ { // grow the table: rehashing during the walk
			c.Do("SET", "new"+strconv.Itoa(rng.IntN(100000)), "x")
		}
	case 12:
		if rng.IntN(30) == 0 { // shrink the table: the walk sees buckets again
			for j := 0; j < 2500; j++ {
				if j%10 != 0 {
					c.Do("DEL", "k"+strconv.Itoa(j))
				}
			}
		}
	case 13:
		if rng.IntN(60) == 0 {
			c.Do("SWAPDB", strconv.Itoa(rng.IntN(6)), strconv.Itoa(rng.IntN(6)))
		}
	case 14:
		if rng.IntN(100) == 0 {
			c.Do("FLUSHDB")
		}
	case 15:
		c.Do("INCR", k)
	case 16:
		c.Do("MOVE", "o"+strconv.Itoa(db)+"_"+strconv.Itoa(rng.IntN(200)), strconv.Itoa(rng.IntN(6)))
	}
}

func ptInfo(s *Server) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w infoWriter
	s.persistenceInfo(&w)
	out := map[string]string{}
	for _, line := range strings.Split(w.b.String(), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// The table shrinks under the walk: buckets already written come back
// merged with unwritten ones, and must not be written twice.
func TestBgsaveShrinkDuringWalk(t *testing.T) {
	defer func(k int) { bgChunkKeys, bgChunkGate = k, nil }(bgChunkKeys)
	bgChunkKeys, bgChunkGate = 10, make(chan struct{})
	for round := 0; round < 12; round++ {
		dir := t.TempDir()
		s := newPersistServer(t, dir)
		c := s.NewTestClient()
		// 4000 keys in a 4096-bucket table; keeping every 11th drops below
		// a tenth, which shrinks the table to 512 buckets mid-walk.
		for i := 0; i < 4000; i++ {
			ptOK(t, c, "SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
		}
		want := ptState(s)
		ptOK(t, c, "BGSAVE")
		for i := 0; i < 20+round*25; i++ {
			bgChunkGate <- struct{}{}
		}
		for i := 0; i < 4000; i++ {
			if i%11 != 0 {
				ptOK(t, c, "DEL", "k"+strconv.Itoa(i))
			}
		}
		done := make(chan struct{})
		go func(gate chan struct{}) {
			for {
				select {
				case gate <- struct{}{}:
				case <-done:
					return
				}
			}
		}(bgChunkGate)
		s.waitBgsave()
		close(done)
		s2 := newPersistServer(t, dir)
		if err := s2.LoadData(); err != nil {
			t.Fatal(err)
		}
		ptDiff(t, ptState(s2), want)
	}
}

// SHUTDOWN during a BGSAVE: the background save is abandoned and the file
// on disk is the synchronous save's, with the writes made meanwhile.
func TestShutdownDuringBgsave(t *testing.T) {
	defer func(k int) { bgChunkKeys, bgChunkGate = k, nil }(bgChunkKeys)
	bgChunkKeys, bgChunkGate = 10, make(chan struct{})
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	c := s.NewTestClient()
	for i := 0; i < 1000; i++ {
		ptOK(t, c, "SET", "k"+strconv.Itoa(i), "old")
	}
	ptOK(t, c, "BGSAVE")
	for i := 0; i < 20; i++ {
		bgChunkGate <- struct{}{}
	}
	ptOK(t, c, "SET", "k1", "new")
	ptOK(t, c, "SET", "added", "x")
	s.mu.Lock()
	err := s.saveForShutdown()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	want := ptState(s)
	done := make(chan struct{})
	go func(gate chan struct{}) {
		for {
			select {
			case gate <- struct{}{}:
			case <-done:
				return
			}
		}
	}(bgChunkGate)
	s.waitBgsave()
	close(done)
	s2 := newPersistServer(t, dir)
	if err := s2.LoadData(); err != nil {
		t.Fatal(err)
	}
	ptDiff(t, ptState(s2), want)
}

func TestBgsaveFlushallAborts(t *testing.T) {
	defer func(k int) { bgChunkKeys = k }(bgChunkKeys)
	bgChunkKeys = 1
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	c := s.NewTestClient()
	for i := 0; i < 3000; i++ {
		ptOK(t, c, "SET", "k"+strconv.Itoa(i), "v")
	}
	ptOK(t, c, "BGSAVE")
	ptOK(t, c, "FLUSHALL")
	s.mu.Lock()
	aborted := s.persist.bg == nil || s.persist.bg.aborted
	s.mu.Unlock()
	if !aborted {
		t.Fatal("BGSAVE still running after FLUSHALL")
	}
	s.waitBgsave()
	if info := ptInfo(s); info["rdb_last_bgsave_status"] != "ok" {
		t.Fatalf("status after an abandoned save: %v", info["rdb_last_bgsave_status"])
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); !os.IsNotExist(err) {
		t.Fatalf("abandoned save produced a file: %v", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

// A failed save is reported in INFO and the log and, with save points and
// stop-writes-on-bgsave-error, refuses writes with MISCONF until a save
// succeeds. The dir vanishing stands in for a read-only or full disk
// (tests may run as root, which ignores permissions).
func TestBgsaveFailureBlocksWrites(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := newPersistServer(t, dir, "--save", "3600 1")
	c := s.NewTestClient()
	ptOK(t, c, "SET", "k", "v")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if r := c.Do("SAVE"); r != "-ERR\r\n" {
		t.Fatalf("SAVE into a missing dir: %q", r)
	}
	if r := c.Do("SET", "k", "v2"); r != "+OK\r\n" {
		t.Fatalf("a failed SAVE must not block writes: %q", r)
	}
	ptOK(t, c, "BGSAVE")
	s.waitBgsave()
	if info := ptInfo(s); info["rdb_last_bgsave_status"] != "err" {
		t.Fatalf("status: %v", info)
	}
	if r := c.Do("SET", "k", "v3"); !strings.HasPrefix(r, "-MISCONF") {
		t.Fatalf("write after a failed BGSAVE: %q", r)
	}
	if r := c.Do("GET", "k"); r != "$2\r\nv2\r\n" {
		t.Fatalf("reads still work: %q", r)
	}
	s.mu.Lock()
	s.cfg.StopWritesOnBgsaveError = false
	s.mu.Unlock()
	if r := c.Do("SET", "k", "v3"); r != "+OK\r\n" {
		t.Fatalf("with stop-writes-on-bgsave-error no: %q", r)
	}
	s.mu.Lock()
	s.cfg.StopWritesOnBgsaveError = true
	s.mu.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ptOK(t, c, "BGSAVE")
	s.waitBgsave()
	if r := c.Do("SET", "k", "v4"); r != "+OK\r\n" {
		t.Fatalf("after a good BGSAVE: %q", r)
	}
}

func TestSaveSchedule(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir, "--save", "100 3")
	c := s.NewTestClient()
	ptOK(t, c, "SET", "a", "1")
	ptOK(t, c, "SET", "b", "1")
	s.mu.Lock()
	s.intro.lastSave = time.Now().Unix() - 1000
	s.persistCron()
	started := s.persist.bg != nil
	s.mu.Unlock()
	if started {
		t.Fatal("saved after 2 changes, the rule says 3")
	}
	ptOK(t, c, "SET", "c", "1")
	s.mu.Lock()
	s.persistCron()
	started = s.persist.bg != nil
	s.mu.Unlock()
	if !started {
		t.Fatal("no save after 3 changes in 1000 s")
	}
	s.waitBgsave()
	if info := ptInfo(s); info["rdb_changes_since_last_save"] != "0" || info["rdb_saves"] != "1" {
		t.Fatalf("after the scheduled save: %v", info)
	}
	if r := c.Do("LASTSAVE"); r == ":"+strconv.FormatInt(time.Now().Unix()-1000, 10)+"\r\n" {
		t.Fatalf("LASTSAVE not updated: %q", r)
	}
	// BGSAVE SCHEDULE while a save runs: it starts once that one is done.
	ptOK(t, c, "BGSAVE")
	if r := c.Do("BGSAVE", "SCHEDULE"); r != "-ERR Background save already in progress\r\n" {
		t.Fatalf("BGSAVE SCHEDULE during a save: %q", r)
	}
	s.waitBgsave()
	if r := c.Do("BGSAVE", "NOW"); r != "-ERR syntax error\r\n" {
		t.Fatalf("BGSAVE NOW: %q", r)
	}
}

func TestShutdownSaveAndCorruptLoad(t *testing.T) {
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	c := s.NewTestClient()
	ptOK(t, c, "SET", "k", "v")
	ptOK(t, c, "RPUSH", "l", "1", "2")
	s.mu.Lock()
	err := s.saveForShutdown()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dump.rdb")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{5, 20, len(data) / 2, len(data) - 1} {
		os.WriteFile(path, data[:cut], 0o644)
		s2 := newPersistServer(t, dir)
		err := s2.LoadData()
		if err == nil || !strings.Contains(err.Error(), "offset") {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
		if st := ptState(s2); len(st) != 0 {
			t.Fatalf("half-loaded file left %d keys", len(st))
		}
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-12] ^= 0x40 // inside the last value: only the checksum can tell
	os.WriteFile(path, bad, 0o644)
	if err := newPersistServer(t, dir).LoadData(); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("corrupted byte: %v", err)
	}
	if err := newPersistServer(t, dir, "--rdbchecksum", "no").LoadData(); err != nil {
		t.Fatalf("rdbchecksum no: %v", err)
	}
}

func TestDumpRestore(t *testing.T) {
	s := newPersistServer(t, t.TempDir())
	c := s.NewTestClient()
	ptPopulate(t, s)
	want := ptState(s)
	keys := map[string]string{}
	s.mu.Lock()
	s.dbs[0].Range(func(k string, _ *keyspace.Entry) bool { keys[k] = ""; return true })
	s.mu.Unlock()
	for k := range keys {
		r := c.Do("DUMP", k)
		if !strings.HasPrefix(r, "$") {
			t.Fatalf("DUMP %q: %.50q", k, r)
		}
		keys[k] = r[strings.Index(r, "\r\n")+2 : len(r)-2]
	}
	for k, p := range keys {
		pttl := c.Do("PTTL", k)
		ttl := "0"
		if n, _ := strconv.Atoi(strings.Trim(pttl, ":\r\n")); n > 0 {
			ttl = strconv.Itoa(n)
		}
		if r := c.Do("RESTORE", k, "0", p); r != "-BUSYKEY Target key name already exists.\r\n" {
			t.Fatalf("RESTORE over %q: %q", k, r)
		}
		ptOK(t, c, "DEL", k)
		if r := c.Do("RESTORE", k, ttl, p); r != "+OK\r\n" {
			t.Fatalf("RESTORE %q: %q", k, r)
		}
	}
	got := ptState(s)
	split := func(x string) (val string, hasTTL bool) {
		i := strings.LastIndex(x, " ttl=")
		return x[:i], !strings.HasPrefix(x[i:], " ttl=0 ")
	}
	for k := range want {
		// RESTORE gives a fresh stamp and a TTL counted from now.
		gv, gt := split(got[k])
		wv, wt := split(want[k])
		if gv != wv || gt != wt {
			t.Errorf("%s: %.100s != %.100s", k, got[k], want[k])
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"DUMP", "nosuchkey"}, "$-1\r\n"},
		{[]string{"RESTORE", "x", "0", "garbage"}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"RESTORE", "x", "-1", keys["str"]}, "-ERR Invalid TTL value, must be >= 0\r\n"},
		{[]string{"RESTORE", "x", "0", keys["str"], "BOGUS"}, "-ERR syntax error\r\n"},
		{[]string{"RESTORE", "x", "0", keys["str"], "IDLETIME", "-1"}, "-ERR Invalid IDLETIME value, must be >= 0\r\n"},
		{[]string{"RESTORE", "x", "0", keys["str"], "FREQ", "256"}, "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
		{[]string{"RESTORE", "x", "0", keys["str"], "IDLETIME", "1", "FREQ", "1"}, "-ERR syntax error\r\n"},
		{[]string{"RESTORE", "str", "0", keys["int"], "REPLACE"}, "+OK\r\n"},
		{[]string{"GET", "str"}, "$6\r\n-12345\r\n"},
		{[]string{"RESTORE", "abs", "1", keys["int"], "ABSTTL"}, "+OK\r\n"}, // already expired: not created
		{[]string{"EXISTS", "abs"}, ":0\r\n"},
		{[]string{"RESTORE", "abs", "4102444800000", keys["int"], "ABSTTL"}, "+OK\r\n"},
		{[]string{"PEXPIRETIME", "abs"}, ":4102444800000\r\n"},
		{[]string{"RESTORE", "idle", "0", keys["int"], "IDLETIME", "1000"}, "+OK\r\n"},
		{[]string{"OBJECT", "IDLETIME", "idle"}, ":1000\r\n"},
		// Redis 7.0's own DUMPs, in encodings fluidb does not write: a
		// listpack hash {a: 1}, a quicklist [x 2], an intset {1 5}, a
		// listpack zset {m: 1.5}.
		{[]string{"RESTORE", "rh", "0", "\x10\x0c\x0c\x00\x00\x00\x02\x00\x81\x61\x02\x01\x01\xff\x0a\x00\x84\xa6\x93\xe8\xaa\x17\xe4\xdb"}, "+OK\r\n"},
		{[]string{"HGET", "rh", "a"}, "$1\r\n1\r\n"},
		{[]string{"RESTORE", "rl", "0", "\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81\x78\x02\x02\x01\xff\x0a\x00\x33\x40\x32\x7e\x91\xea\xec\x01"}, "+OK\r\n"},
		{[]string{"LRANGE", "rl", "0", "-1"}, "*2\r\n$1\r\nx\r\n$1\r\n2\r\n"},
		{[]string{"RESTORE", "rs", "0", "\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x05\x00\x0a\x00\xc0\xe5\xee\xfd\xeb\x98\x6d\xf5"}, "+OK\r\n"},
		{[]string{"SMEMBERS", "rs"}, "*2\r\n$1\r\n1\r\n$1\r\n5\r\n"},
		{[]string{"RESTORE", "rz", "0", "\x11\x0f\x0f\x00\x00\x00\x02\x00\x81\x6d\x02\x83\x31\x2e\x35\x04\xff\x0a\x00\x49\xd9\x87\x60\x78\x25\x4e\x8a"}, "+OK\r\n"},
		{[]string{"ZSCORE", "rz", "m"}, "$3\r\n1.5\r\n"},
		{[]string{"OBJECT", "ENCODING", "rz"}, "$8\r\nlistpack\r\n"},
	} {
		if r := c.Do(tc.args...); r != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, r, tc.want)
		}
	}
	// A payload from a newer format version than we read is refused.
	p := []byte(keys["str"])
	p[len(p)-10] = 99
	if r := c.Do("RESTORE", "v", "0", string(p)); r != "-"+errBadPayload+"\r\n" {
		t.Errorf("future version: %q", r)
	}
}

// fluidb's file against the real Redis tools: redis-check-rdb accepts it
// and redis-server started on it holds the same data.
func TestInteropRedisLoadsFluidbFile(t *testing.T) {
	if _, err := exec.LookPath("redis-check-rdb"); err != nil {
		t.Skip("redis tools not installed")
	}
	dir := t.TempDir()
	s := newPersistServer(t, dir)
	ptPopulate(t, s)
	for _, compress := range []string{"yes", "no"} {
		s.mu.Lock()
		s.cfg.RDBCompression = compress == "yes"
		s.mu.Unlock()
		c := s.NewTestClient()
		ptOK(t, c, "SAVE")
		out, err := exec.Command("redis-check-rdb", filepath.Join(dir, "dump.rdb")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "RDB looks OK") || !strings.Contains(string(out), "Checksum OK") {
			t.Fatalf("redis-check-rdb: %v\n%s", err, ptLastLines(string(out), 10))
		}
	}
	addr, stop := ptStartRedis(t, dir, 7164)
	defer stop()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	ptCompareRedis(t, s, rc)
}

// fluidb started on redis-server's file (every encoding Redis 7.0 writes)
// holds the same data as redis-server itself.
func TestInteropFluidbLoadsRedisFile(t *testing.T) {
	data, err := os.ReadFile("rdb/testdata/redis-7.0.15-encodings.rdb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	addr, stop := ptStartRedis(t, dir, 7165)
	defer stop()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	s := newPersistServer(t, dir)
	if err := s.LoadData(); err != nil {
		t.Fatal(err)
	}
	n := ptCompareRedis(t, s, rc)
	if n < 30 {
		t.Fatalf("only %d keys compared", n)
	}
	// And back: fluidb's save of that data loads in redis-server.
	c := s.NewTestClient()
	ptOK(t, c, "SAVE")
	dir2 := t.TempDir()
	os.Rename(filepath.Join(dir, "dump.rdb"), filepath.Join(dir2, "dump.rdb"))
	addr2, stop2 := ptStartRedis(t, dir2, 7166)
	defer stop2()
	rc2 := redis.NewClient(&redis.Options{Addr: addr2})
	defer rc2.Close()
	ptCompareRedis(t, s, rc2)
}

func ptLastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func ptStartRedis(t testing.TB, dir string, port int) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "redis.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rc.Close()
	for i := 0; ; i++ {
		if err := rc.Ping(context.Background()).Err(); err == nil {
			break
		} else if i > 100 {
			cmd.Process.Kill()
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("redis-server did not come up: %v\n%s", err, ptLastLines(string(b), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, func() { cmd.Process.Kill(); cmd.Wait() }
}

// ptCompareRedis checks that redis-server (through rc) holds exactly the
// keys and values of s, database by database; it returns the key count.
func ptCompareRedis(t testing.TB, s *Server, rc *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for i := range s.dbs {
		want := map[string]string{}
		s.mu.Lock()
		now := time.Now().UnixMilli()
		s.dbs[i].Range(func(k string, e *keyspace.Entry) bool {
			if !e.ExpiredAt(now) {
				want[k] = ptValueCanon(e)
			}
			return true
		})
		ttls := map[string]bool{}
		s.dbs[i].Range(func(k string, e *keyspace.Entry) bool { ttls[k] = e.Expire != 0; return true })
		s.mu.Unlock()
		pipe := rc.Pipeline()
		pipe.Select(ctx, i)
		dbsize := pipe.DBSize(ctx)
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if int(dbsize.Val()) != len(want) {
			t.Errorf("db %d: redis has %d keys, fluidb %d", i, dbsize.Val(), len(want))
		}
		for k, w := range want {
			n++
			conn := rc.Conn()
			conn.Select(ctx, i)
			got := ptRedisCanon(ctx, t, conn, k)
			ttl, _ := conn.PTTL(ctx, k).Result()
			conn.Close()
			if got != w {
				t.Errorf("db %d key %q:\nredis  %.200s\nfluidb %.200s", i, k, got, w)
			}
			if (ttl > 0) != ttls[k] {
				t.Errorf("db %d key %q: redis pttl %v, fluidb has ttl %v", i, k, ttl, ttls[k])
			}
		}
	}
	return n
}

func ptValueCanon(e *keyspace.Entry) string {
	c := ptCanon(e)
	// drop the encoding word and the TTL, which are compared separately
	f := strings.SplitN(c, " ", 3)
	if e.Kind() != keyspace.KindString && e.Kind() != keyspace.KindList {
		c = f[0] + " " + f[2]
	}
	return c[:strings.LastIndex(c, " ttl=")]
}

func ptRedisCanon(ctx context.Context, t testing.TB, rc *redis.Conn, k string) string {
	typ, err := rc.Type(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	switch typ {
	case "string":
		v, _ := rc.Get(ctx, k).Result()
		return fmt.Sprintf("string %q", v)
	case "list":
		v, _ := rc.LRange(ctx, k, 0, -1).Result()
		return fmt.Sprintf("list %q", v)
	case "set":
		v, _ := rc.SMembers(ctx, k).Result()
		for _, m := range v {
			parts = append(parts, strconv.Quote(m))
		}
	case "hash":
		v, _ := rc.HGetAll(ctx, k).Result()
		for f, x := range v {
			parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(x))
		}
	case "zset":
		v, _ := rc.ZRangeWithScores(ctx, k, 0, -1).Result()
		for _, z := range v {
			parts = append(parts, strconv.Quote(z.Member.(string))+"="+strconv.FormatFloat(z.Score, 'g', -1, 64))
		}
	default:
		return "type " + typ
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s [%s]", typ, strings.Join(parts, " "))
}

// BenchmarkPersistFigures measures, with 1M keys: SAVE and load time (and
// redis-server's on the same data, loaded with redis-cli --pipe), and the
// longest pause a client sees during a BGSAVE plus the memory it takes. It
// prints figures and asserts nothing; it runs once whatever b.N is:
//
//	GOMAXPROCS=1 go test ./server -run '^$' -bench PersistFigures -benchtime 1x -v
func BenchmarkPersistFigures(b *testing.B) { persistFigures(b) }

func persistFigures(t testing.TB) {
	const n = 1000000
	dir := t.TempDir()
	// The data: 1M keys, mostly short strings, some of each collection.
	var proto strings.Builder
	cmd := func(args ...string) {
		fmt.Fprintf(&proto, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&proto, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		switch i % 10 {
		case 7:
			cmd("RPUSH", k, "a", "b", "c")
		case 8:
			cmd("HSET", k, "f1", "v1", "f2", strconv.Itoa(i))
		case 9:
			cmd("ZADD", k, "1", "x", "2", strconv.Itoa(i))
		default:
			cmd("SET", k, "value-"+strconv.Itoa(i*7919))
		}
	}
	data := proto.String()

	s := startServer(t, "--dir", dir, "--save", "")
	s.log.SetOutput(ptQuiet{})
	ptPipeIn(t, s.Addr().String(), data)
	rc := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer rc.Close()
	ctx := context.Background()
	t0 := time.Now()
	if err := rc.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	saveDur := time.Since(t0)
	st, _ := os.Stat(filepath.Join(dir, "dump.rdb"))
	s2 := newPersistServer(t, dir)
	s2.log.SetOutput(ptQuiet{})
	t0 = time.Now()
	if err := s2.LoadData(); err != nil {
		t.Fatal(err)
	}
	loadDur := time.Since(t0)
	t.Logf("fluidb: %d keys, SAVE %v (%d bytes), load %v", n, saveDur.Round(time.Millisecond), st.Size(), loadDur.Round(time.Millisecond))

	// Longest pause during a BGSAVE: a client pings and another writes in
	// a loop, first for a while without a save (the machine's own noise),
	// then during the save.
	heap := func() uint64 {
		m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(m) // unlike ReadMemStats, does not stop the world
		return m[0].Value.Uint64()
	}
	var maxLat, maxAt, total, pings atomic.Int64
	stopPing := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			pc := redis.NewClient(&redis.Options{Addr: s.Addr().String(), PoolSize: 1})
			defer pc.Close()
			for i := 0; ; i++ {
				select {
				case <-stopPing:
					return
				default:
				}
				t1 := time.Now()
				if w == 0 {
					pc.Ping(ctx)
				} else {
					pc.Set(ctx, "key:"+strconv.Itoa((i*7919)%n), "changed", 0)
				}
				d := time.Since(t1).Nanoseconds()
				total.Add(d)
				pings.Add(1)
				for {
					m := maxLat.Load()
					if d <= m || maxLat.CompareAndSwap(m, d) {
						if d > m {
							maxAt.Store(t1.UnixNano())
						}
						break
					}
				}
			}
		}(w)
	}
	measure := func() (time.Duration, time.Duration, int64) {
		m, tot, p := maxLat.Swap(0), total.Swap(0), pings.Swap(0)
		return time.Duration(m), time.Duration(tot / max(1, p)), p
	}
	runtime.GC()
	time.Sleep(300 * time.Millisecond)
	measure()
	time.Sleep(2 * time.Second)
	bMax, bMean, bN := measure()
	t.Logf("baseline, no save, 2 s: longest client pause %v, mean %v over %d requests", bMax.Round(time.Microsecond), bMean, bN)
	runtime.GC()
	before := heap()
	peakHeap := before
	time.Sleep(100 * time.Millisecond)
	measure()
	t0 = time.Now()
	if err := rc.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for {
		peakHeap = max(peakHeap, heap())
		s.mu.Lock()
		running := s.persist.bg != nil
		s.mu.Unlock()
		if !running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	bgDur := time.Since(t0)
	at := time.Duration(maxAt.Load() - t0.UnixNano())
	gMax, gMean, gN := measure()
	close(stopPing)
	wg.Wait()
	info := ptInfo(s)
	s.mu.Lock()
	hold := s.persist.lastHold
	s.mu.Unlock()
	t.Logf("fluidb BGSAVE: %v with a writer and a pinger running; longest client pause %v (at +%v), mean %v over %d requests; longest chunk under the lock %v; live heap peak +%d MB over %d MB before; side map peak %s bytes",
		bgDur.Round(time.Millisecond), gMax.Round(time.Microsecond), at.Round(time.Millisecond), gMean, gN, hold.Round(time.Microsecond),
		(int64(peakHeap)-int64(before))>>20, before>>20, info["rdb_last_cow_size"])

	// redis-server on the same data.
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed")
	}
	rdir := t.TempDir()
	addr, stop := ptStartRedis(t, rdir, 7167)
	pc := exec.Command("redis-cli", "-p", "7167", "--pipe")
	pc.Stdin = strings.NewReader(data)
	if out, err := pc.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --pipe: %v %s", err, out)
	}
	rr := redis.NewClient(&redis.Options{Addr: addr})
	t0 = time.Now()
	if err := rr.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rSave := time.Since(t0)
	rr.Close()
	stop()
	rst, _ := os.Stat(filepath.Join(rdir, "dump.rdb"))
	t0 = time.Now()
	addr, stop = ptStartRedis(t, rdir, 7167)
	rr = redis.NewClient(&redis.Options{Addr: addr})
	for rr.Get(ctx, "key:0").Err() != nil { // LOADING until done
		time.Sleep(5 * time.Millisecond)
	}
	rLoad := time.Since(t0)
	rr.Close()
	stop()
	t.Logf("redis-server 7.0.15: SAVE %v (%d bytes), restart and load %v", rSave.Round(time.Millisecond), rst.Size(), rLoad.Round(time.Millisecond))
}

type ptQuiet struct{}

func (ptQuiet) Write(p []byte) (int, error) { return len(p), nil }

func ptPipeIn(t testing.TB, addr, data string) {
	t.Helper()
	pc := exec.Command("redis-cli", "-u", "redis://"+addr, "--pipe")
	pc.Stdin = strings.NewReader(data)
	if out, err := pc.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --pipe into fluidb: %v %s", err, out)
	}
}

var _ = rdb.Version

func TestReloadLocked(t *testing.T) {
	s := newPersistServer(t, t.TempDir())
	ptPopulate(t, s)
	want := ptState(s)
	s.mu.Lock()
	err := s.reloadLocked()
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	ptDiff(t, ptState(s), want)
}
