package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/fluidb/fluidb/server/config"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
)

// The append-only file, with Redis 7.0's on-disk layout (multi-part AOF),
// so a Redis 7.0 loads fluidb's AOF directory and the other way round:
//
//	<dir>/<appenddirname>/
//	    <appendfilename>.<seq>.base.rdb   snapshot (or .base.aof: commands)
//	    <appendfilename>.<seq>.incr.aof   the writes since, as RESP commands
//	    <appendfilename>.manifest         "file <name> seq <n> type b|h|i"
//
// Writing: a sink on the effect stream (propagate.go) encodes every group as
// RESP (SELECT when the database changes) into a buffer under s.mu. With
// appendfsync always the sink writes and fsyncs before returning, so before
// the connection loop sends the reply. Otherwise the buffer is written by
// the connection loop just before it sends its replies (aofBeforeReply, one
// write for everything appended meanwhile, like Redis's beforeSleep), by the
// cron, or when it grows large; a goroutine fsyncs once a second (everysec).
// A write never happens from more than one goroutine at a time (wmu), and
// always in the order the buffer was filled.
//
// Rewriting (BGREWRITEAOF, the automatic rewrite, turning appendonly on):
// new writes are switched to a fresh incr file first, then a point-in-time
// snapshot is written by persistence's copy-on-write walk (persist.go)
// into a temp file, which becomes the new base; the manifest is replaced
// atomically and the older files are deleted. The walk occupies the same
// slot as BGSAVE (s.persist.bg), as Redis runs one child at a time.
//
// Loading replays the base (through the RDB loader, or as commands) and the
// incr files through the gate, as a client flagged like the master link.

const (
	aofOff         = 0
	aofOn          = 1
	aofWaitRewrite = 2 // turned on at run time, waiting for the first rewrite
)

const (
	aofManifestMaxLine = 1024
	aofItemsPerCmd     = 64      // Redis's AOF_REWRITE_ITEMS_PER_CMD
	aofBufFlushBytes   = 4 << 20 // write the buffer at once past this
	aofLineMax         = 1024    // Redis's AOF_ANNOTATION_LINE_MAX_LEN
	aofErrLogRate      = 30      // seconds between repeated write-error logs
	aofRewriteLimitN   = 3       // failures before automatic rewrites back off
)

// aofState is the AOF's state. Fields without a note are guarded by s.mu.
type aofState struct {
	state      int
	dir        string // where the files are while the AOF is on
	man        *aofManifest
	sink       *aofSink
	selectedDB int // the database the incr file is in; -1 = unknown
	curTS      int64

	// The buffer, filled under s.mu and bufMu, drained under wmu and bufMu.
	bufMu   sync.Mutex
	buf     []byte
	pending atomic.Bool // buf is not empty

	// wmu serializes writes and fsyncs and guards file, spare, incrSize.
	wmu        sync.Mutex
	file       *aofFile
	spare      []byte
	incrSize   int64
	lastErrLog int64

	currentSize  atomic.Int64 // aof_current_size
	unsynced     atomic.Bool  // written since the last fsync
	writeErr     atomic.Pointer[string]
	fsyncErr     atomic.Pointer[string]
	fsyncRunning atomic.Bool
	childActive  atomic.Bool // a background walk runs (no-appendfsync-on-rewrite)
	everysec     atomic.Bool
	noFsync      atomic.Bool // no-appendfsync-on-rewrite

	baseSize int64 // aof_rewrite_base_size
	syncStop chan struct{}
	syncDone chan struct{}

	rw              *aofRewrite
	scheduled       bool
	retryStart      bool // turning the AOF back on after a sync failed
	lastRetry       int64
	rewriteRan      bool
	lastRewriteSecs int64
	lastRewriteErr  bool
	rewrites        int64
	failures        int64
	lastCOW         int64
	limitDelayMin   int64
	limitNext       int64
}

// aofFile is an open incr file. syncMu lets the fsync goroutine work on
// it outside wmu while a rewrite replaces and closes it.
type aofFile struct {
	f      *os.File
	name   string
	syncMu sync.Mutex
	closed bool
}

func (f *aofFile) syncAndClose() {
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	if !f.closed {
		_ = f.f.Sync()
		_ = f.f.Close()
		f.closed = true
	}
}

// aofRewrite is one running rewrite.
type aofRewrite struct {
	bg       *bgSave
	start    time.Time
	preamble bool
	rdbTemp  string // the snapshot as written by the walk
	result   string // the finished base, before it is moved into the dir
	incr     *aofFile
}

// ---------------------------------------------------------------------------
// The manifest

type aofFileEntry struct {
	name string
	seq  int64
	typ  byte // 'b' base, 'h' history, 'i' incr
}

type aofManifest struct {
	base             *aofFileEntry
	hist             []aofFileEntry
	incr             []aofFileEntry
	baseSeq, incrSeq int64
}

func (m *aofManifest) clone() *aofManifest {
	n := &aofManifest{baseSeq: m.baseSeq, incrSeq: m.incrSeq}
	if m.base != nil {
		b := *m.base
		n.base = &b
	}
	n.hist = append([]aofFileEntry(nil), m.hist...)
	n.incr = append([]aofFileEntry(nil), m.incr...)
	return n
}

func (m *aofManifest) empty() bool { return m.base == nil && len(m.incr) == 0 }

// String is the manifest file: base, history, incr, one line each.
func (m *aofManifest) String() string {
	var b strings.Builder
	line := func(e *aofFileEntry) {
		name := e.name
		if needsRepr(name) {
			name = config.Quote(name)
		}
		fmt.Fprintf(&b, "file %s seq %d type %c\n", name, e.seq, e.typ)
	}
	if m.base != nil {
		line(m.base)
	}
	for i := range m.hist {
		line(&m.hist[i])
	}
	for i := range m.incr {
		line(&m.incr[i])
	}
	return b.String()
}

// newBase names the next base file and turns the current one into history.
func (m *aofManifest) newBase(fname string, rdbFormat bool) string {
	if m.base != nil {
		old := *m.base
		old.typ = 'h'
		m.hist = append([]aofFileEntry{old}, m.hist...)
	}
	m.baseSeq++
	format := ".aof"
	if rdbFormat {
		format = ".rdb"
	}
	m.base = &aofFileEntry{name: fmt.Sprintf("%s.%d.base%s", fname, m.baseSeq, format), seq: m.baseSeq, typ: 'b'}
	return m.base.name
}

func (m *aofManifest) newIncr(fname string) string {
	m.incrSeq++
	e := aofFileEntry{name: fmt.Sprintf("%s.%d.incr.aof", fname, m.incrSeq), seq: m.incrSeq, typ: 'i'}
	m.incr = append(m.incr, e)
	return e.name
}

func (m *aofManifest) lastIncr(fname string) string {
	if len(m.incr) == 0 {
		return m.newIncr(fname)
	}
	return m.incr[len(m.incr)-1].name
}

// markIncrHistory turns the incr files a rewrite covered into history:
// all of them, or all but the last when it is the one being written.
func (m *aofManifest) markIncrHistory(keepLast bool) {
	n := len(m.incr)
	if keepLast && n > 0 {
		n--
	}
	for i := n - 1; i >= 0; i-- {
		e := m.incr[i]
		e.typ = 'h'
		m.hist = append([]aofFileEntry{e}, m.hist...)
	}
	m.incr = append([]aofFileEntry(nil), m.incr[n:]...)
}

// parseAOFManifest reads a manifest with Redis's rules (aofLoadManifestFromFile).
func parseAOFManifest(data []byte) (*aofManifest, error) {
	m := &aofManifest{}
	var maxSeq int64
	lineNum := 0
	fail := func(line, msg string) error {
		if line != "" {
			return fmt.Errorf("%s (line %d: '%s')", msg, lineNum, line)
		}
		return errors.New(msg)
	}
	for len(data) > 0 {
		lineNum++
		var raw []byte
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 || nl > aofManifestMaxLine {
			if len(data) > 0 && data[0] == '#' && nl >= 0 {
				data = data[nl+1:]
				continue
			}
			return nil, fail("", "The AOF manifest file contains too long line")
		}
		raw, data = data[:nl+1], data[nl+1:]
		if raw[0] == '#' {
			continue
		}
		line := strings.Trim(string(raw), " \t\r\n")
		if line == "" {
			return nil, fail(line, "Invalid AOF manifest file format")
		}
		argv, ok := splitManifestArgs(line)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return nil, fail(line, "Invalid AOF manifest file format")
		}
		var e aofFileEntry
		for i := 0; i < len(argv); i += 2 {
			switch strings.ToLower(argv[i]) {
			case "file":
				e.name = argv[i+1]
				if e.name != filepath.Base(e.name) || strings.ContainsRune(e.name, '/') {
					return nil, fail(line, "File can't be a path, just a filename")
				}
			case "seq":
				e.seq = atoll(argv[i+1])
			case "type":
				if argv[i+1] != "" {
					e.typ = argv[i+1][0]
				}
			}
		}
		if e.name == "" || e.seq == 0 || e.typ == 0 {
			return nil, fail(line, "Invalid AOF manifest file format")
		}
		switch e.typ {
		case 'b':
			if m.base != nil {
				return nil, fail(line, "Found duplicate base file information")
			}
			b := e
			m.base = &b
			m.baseSeq = e.seq
		case 'h':
			m.hist = append(m.hist, e)
		case 'i':
			if e.seq <= maxSeq {
				return nil, fail(line, "Found a non-monotonic sequence number")
			}
			m.incr = append(m.incr, e)
			m.incrSeq, maxSeq = e.seq, e.seq
		default:
			return nil, fail(line, "Unknown AOF file type")
		}
	}
	if lineNum == 0 {
		return nil, errors.New("Found an empty AOF manifest")
	}
	return m, nil
}

// atoll is C's atoll: leading digits, 0 when there are none.
func atoll(s string) int64 {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n
}

// needsRepr and repr are Redis's sdsneedsrepr and sdscatrepr, which the
// manifest uses for file names with spaces or special characters.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c < 0x20 || c > 0x7e || c == ' ' {
			return true
		}
	}
	return false
}

// splitManifestArgs is Redis's sdssplitargs: words separated by spaces, with
// "double quotes" (C escapes, \xHH) and 'single quotes'.
func splitManifestArgs(line string) ([]string, bool) {
	var out []string
	i := 0
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	hexVal := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, true
		}
		var cur []byte
		switch line[i] {
		case '"':
			i++
			for {
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' {
					if h, ok := hexVal(line[i+2]); ok {
						if l, ok := hexVal(line[i+3]); ok {
							cur = append(cur, h<<4|l)
							i += 4
							continue
						}
					}
				}
				if c == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = line[i]
					}
					cur = append(cur, c)
					i++
					continue
				}
				if c == '"' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return nil, false
					}
					break
				}
				cur = append(cur, c)
				i++
			}
		case '\'':
			i++
			for {
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					cur = append(cur, '\'')
					i += 2
					continue
				}
				if c == '\'' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return nil, false
					}
					break
				}
				cur = append(cur, c)
				i++
			}
		default:
			for i < len(line) && !isSpace(line[i]) {
				cur = append(cur, line[i])
				i++
			}
		}
		out = append(out, string(cur))
	}
}

// aofDirPath is the AOF directory the configuration names.
func (s *Server) aofDirPath() string { return filepath.Join(s.cfg.Dir, s.cfg.AppendDirname) }

func (s *Server) aofManifestName() string { return s.cfg.AppendFilename + ".manifest" }

func (s *Server) aofTempIncrName() string { return "temp-" + s.cfg.AppendFilename + ".incr" }

// aofReadManifest reads the manifest in dir; a missing dir or manifest is
// an empty manifest (a fresh start, or an old-style single file).
func (s *Server) aofReadManifest(dir string) (*aofManifest, error) {
	path := filepath.Join(dir, s.aofManifestName())
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return &aofManifest{}, nil
		}
		return nil, fmt.Errorf("can't open the AOF manifest file %s for reading: %w", path, err)
	}
	m, err := parseAOFManifest(data)
	if err != nil {
		return nil, fmt.Errorf("bad AOF manifest %s: %w", path, err)
	}
	return m, nil
}

// aofManifestLocked is the manifest in memory, read from disk the first
// time (BGREWRITEAOF or CONFIG SET appendonly yes on a server that started
// with appendonly no).
func (s *Server) aofManifestLocked() (*aofManifest, error) {
	if s.aof.man == nil {
		m, err := s.aofReadManifest(s.aofDirPath())
		if err != nil {
			return nil, err
		}
		s.aof.man = m
	}
	return s.aof.man, nil
}

// aofPersistManifest writes m atomically: temp file, fsync, rename, fsync
// of the directory.
func (s *Server) aofPersistManifest(dir string, m *aofManifest) error {
	name := s.aofManifestName()
	tmp := filepath.Join(dir, "temp-"+name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("can't open the AOF manifest file %s: %w", tmp, err)
	}
	_, err = f.WriteString(m.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		s.log.Printf("Error writing the AOF manifest file %s: %v", name, err)
		return err
	}
	return nil
}

// aofDelHistory deletes the history files and drops them from the manifest.
func (s *Server) aofDelHistory(dir string) {
	m := s.aof.man
	if m == nil || len(m.hist) == 0 {
		return
	}
	for _, h := range m.hist {
		s.log.Printf("Removing the history file %s in the background", h.name)
		os.Remove(filepath.Join(dir, h.name))
	}
	m.hist = nil
	_ = s.aofPersistManifest(dir, m)
}

// ---------------------------------------------------------------------------
// Writing

type aofSink struct{ s *Server }

// feedEffects appends a group of effects to the AOF buffer (s.mu held).
func (k *aofSink) feedEffects(group []effect) {
	if k.s.act.on {
		return // an active node logs its records instead (feedRecords)
	}
	k.feed(group, nil)
}

// feedRecords logs active replication records: replayed at load, they
// restore every key's stamp and every tombstone exactly.
func (k *aofSink) feedRecords(b []byte) { k.feed(nil, b) }

func (k *aofSink) feed(group []effect, raw []byte) {
	s := k.s
	a := &s.aof
	if a.state == aofOff || (a.state == aofWaitRewrite && a.rw == nil) {
		// Turned on but the first rewrite has not started: the snapshot
		// it takes will hold these writes.
		return
	}
	a.bufMu.Lock()
	b := a.buf
	if s.cfg.AOFTimestampEnabled {
		if sec := s.now / 1000; sec > a.curTS {
			a.curTS = sec
			b = append(b, "#TS:"...)
			b = strconv.AppendInt(b, sec, 10)
			b = append(b, '\r', '\n')
		}
	}
	for i := range group {
		e := &group[i]
		if e.db != a.selectedDB {
			b = appendSelect(b, e.db)
			a.selectedDB = e.db
		}
		b = appendRESP(b, e.argv)
	}
	b = append(b, raw...)
	a.buf = b
	n := len(b)
	a.bufMu.Unlock()
	a.pending.Store(true)
	if s.cfg.AppendFsync == "always" {
		// The reply is sent after the command returns: the data is on
		// disk before the client hears of it.
		_ = s.aofFlush(!(s.cfg.NoAppendfsyncOnRewrite && s.persist.bg != nil))
	} else if n >= aofBufFlushBytes {
		_ = s.aofFlush(false)
	}
}

func appendSelect(b []byte, db int) []byte {
	b = append(b, "*2\r\n$6\r\nSELECT\r\n$"...)
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], int64(db), 10)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, '\r', '\n')
	b = append(b, d...)
	return append(b, '\r', '\n')
}

// aofBeforeReply writes what commands appended to the AOF buffer before
// their replies go out; the connection loop calls it without s.mu just
// before flushing replies. Writers queue on wmu, so one write carries
// everything appended meanwhile.
func (s *Server) aofBeforeReply() {
	if s.aof.pending.Load() {
		_ = s.aofFlush(false)
	}
}

// aofFlush writes the buffer and, with fsync, syncs the file. It may run
// with or without s.mu.
func (s *Server) aofFlush(fsync bool) error {
	a := &s.aof
	a.wmu.Lock()
	defer a.wmu.Unlock()
	err := s.aofWritePendingLocked()
	if err == nil && fsync && a.file != nil && a.unsynced.Swap(false) {
		f := a.file
		f.syncMu.Lock()
		err = f.f.Sync()
		f.syncMu.Unlock()
		s.aofFsyncResult(err)
	}
	return err
}

// aofWritePendingLocked writes the buffer to the incr file (wmu held). On
// failure the unwritten part goes back at the head of the buffer, a partial
// write is truncated away when possible, and the error is recorded: writes
// are refused (MISCONF) until a later write succeeds.
func (s *Server) aofWritePendingLocked() error {
	a := &s.aof
	a.bufMu.Lock()
	buf := a.buf
	if len(buf) == 0 {
		a.bufMu.Unlock()
		return nil
	}
	a.buf = a.spare[:0]
	a.spare = nil
	a.pending.Store(false)
	a.bufMu.Unlock()
	f := a.file
	if f == nil {
		a.spare = buf[:0]
		return nil
	}
	n, err := aofWriteHook(f.f, buf)
	if err != nil {
		if n > 0 {
			if terr := f.f.Truncate(a.incrSize); terr == nil {
				n = 0
			} else if s.aofCanLog() {
				s.log.Printf("Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: %v", terr)
			}
		}
		a.incrSize += int64(n)
		a.currentSize.Add(int64(n))
		rest := buf[n:]
		a.bufMu.Lock()
		nb := make([]byte, 0, len(rest)+len(a.buf))
		nb = append(append(nb, rest...), a.buf...)
		a.buf = nb
		a.pending.Store(true)
		a.bufMu.Unlock()
		msg := errnoText(err)
		a.writeErr.Store(&msg)
		if s.aofCanLog() {
			s.log.Printf("Error writing to the AOF file: %s", msg)
		}
		return err
	}
	a.incrSize += int64(n)
	a.currentSize.Add(int64(n))
	a.unsynced.Store(true)
	if a.writeErr.Load() != nil {
		s.log.Printf("AOF write error looks solved, Redis can write again.")
		a.writeErr.Store(nil)
	}
	if cap(buf) <= 1<<20 {
		a.spare = buf[:0]
	}
	return nil
}

// aofWriteHook is the write system call; tests replace it to fake a full
// disk.
var aofWriteHook = func(f *os.File, b []byte) (int, error) { return f.Write(b) }

func (s *Server) aofCanLog() bool {
	now := time.Now().Unix()
	if now-s.aof.lastErrLog > aofErrLogRate {
		s.aof.lastErrLog = now
		return true
	}
	return false
}

func (s *Server) aofFsyncResult(err error) {
	a := &s.aof
	if err != nil {
		a.unsynced.Store(true)
		msg := errnoText(err)
		if a.fsyncErr.Swap(&msg) == nil {
			s.log.Printf("Can't persist AOF for fsync error: %s", msg)
		}
		return
	}
	if a.fsyncErr.Swap(nil) != nil {
		s.log.Printf("AOF fsync error looks solved, Redis can write again.")
	}
}

// aofSyncLoop writes the buffer and, under everysec, fsyncs once a second,
// outside wmu so writers are not held up by the disk.
func (s *Server) aofSyncLoop(stop, done chan struct{}) {
	defer close(done)
	a := &s.aof
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		a.wmu.Lock()
		_ = s.aofWritePendingLocked()
		f := a.file
		a.wmu.Unlock()
		if f == nil || !a.everysec.Load() || (a.noFsync.Load() && a.childActive.Load()) || !a.unsynced.Swap(false) {
			continue
		}
		a.fsyncRunning.Store(true)
		f.syncMu.Lock()
		var err error
		if !f.closed {
			err = f.f.Sync()
		}
		f.syncMu.Unlock()
		a.fsyncRunning.Store(false)
		s.aofFsyncResult(err)
	}
}

// aofRefreshPolicy copies the settings the sync goroutine reads (s.mu held).
func (s *Server) aofRefreshPolicy() {
	s.aof.everysec.Store(s.cfg.AppendFsync == "everysec")
	s.aof.noFsync.Store(s.cfg.NoAppendfsyncOnRewrite)
	s.aof.childActive.Store(s.persist.bg != nil)
}

// aofAttach starts feeding the AOF: sink and sync goroutine (s.mu held).
func (s *Server) aofAttach() {
	a := &s.aof
	s.aofRefreshPolicy()
	if a.sink == nil {
		a.sink = &aofSink{s: s}
		s.addSink(a.sink)
	}
	if a.syncStop == nil {
		a.syncStop, a.syncDone = make(chan struct{}), make(chan struct{})
		go s.aofSyncLoop(a.syncStop, a.syncDone)
	}
}

func (s *Server) aofDetach() {
	a := &s.aof
	if a.sink != nil {
		s.removeSink(a.sink)
		a.sink = nil
	}
	if a.syncStop != nil {
		close(a.syncStop)
		<-a.syncDone
		a.syncStop, a.syncDone = nil, nil
	}
}

// aofBlocksWrites says whether writes are refused because the AOF cannot
// be written, and why (Redis's writeCommandsDeniedByDiskError).
func (s *Server) aofBlocksWrites() (string, bool) {
	if s.aof.state == aofOff {
		return "", false
	}
	if p := s.aof.writeErr.Load(); p != nil {
		return *p, true
	}
	if p := s.aof.fsyncErr.Load(); p != nil {
		return *p, true
	}
	return "", false
}

// diskErrorMessage is the MISCONF error the gate gives writes while a save
// or the AOF is failing, or "".
func (s *Server) diskErrorMessage() string {
	if s.persistenceBlocksWrites() {
		return errMisconf
	}
	if why, ok := s.aofBlocksWrites(); ok {
		return "MISCONF Errors writing to the AOF file: " + why
	}
	return ""
}

// aofShutdown writes and fsyncs what is buffered and stops the AOF's
// goroutines (s.mu held): the server is exiting.
func (s *Server) aofShutdown() {
	a := &s.aof
	if a.state == aofOff {
		return
	}
	if rw := a.rw; rw != nil && s.persist.bg == rw.bg {
		s.abortBgsave()
	}
	if err := s.aofFlush(true); err != nil {
		s.log.Printf("Error flushing the AOF at shutdown: %v", err)
	}
	if a.syncStop != nil {
		close(a.syncStop)
		<-a.syncDone
		a.syncStop, a.syncDone = nil, nil
	}
}

// ---------------------------------------------------------------------------
// Start, stop, switching files

// loadAOF loads the AOF at start, when appendonly is on (LoadData calls it
// instead of loading the RDB file, as Redis does), then opens it for
// appending, creating a base and an incr file if there are none. loaded
// says whether any AOF data existed. An error means the server must not
// start: nothing of the files stays loaded.
func (s *Server) loadAOF() (loaded bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.aof
	dir := s.aofDirPath()
	m, err := s.aofReadManifest(dir)
	if err != nil {
		s.log.Printf("%v", err)
		return false, err
	}
	if err := s.aofUpgradeIfNeeded(dir, m); err != nil {
		return false, err
	}
	a.man = m
	if !m.empty() {
		start := time.Now()
		loaded, err = s.aofLoadFiles(dir, m, true)
		if err != nil {
			for _, db := range s.dbs {
				db.Clear()
			}
			s.log.Printf("%v", err)
			return false, err
		}
		if loaded {
			s.log.Printf("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds())
		}
	}
	if s.cfg.AppendOnly && a.state == aofOff {
		if err := s.aofOpenOnStart(dir); err != nil {
			return loaded, err
		}
	}
	return loaded, nil
}

// aofUpgradeIfNeeded moves an old-style single AOF file (dir/appendfilename)
// into the AOF directory as its base, as Redis 7.0 does on upgrade.
func (s *Server) aofUpgradeIfNeeded(dir string, m *aofManifest) error {
	fname := s.cfg.AppendFilename
	old := filepath.Join(s.cfg.Dir, fname)
	if !fileExists(old) {
		return nil
	}
	_, dirErr := os.Stat(dir)
	if !(dirErr != nil || m.empty() ||
		(m.base != nil && len(m.incr) == 0 && m.base.name == fname && !fileExists(filepath.Join(dir, fname)))) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("can't open or create append-only dir %s: %w", dir, err)
	}
	*m = aofManifest{base: &aofFileEntry{name: fname, seq: 1, typ: 'b'}, baseSeq: 1}
	if err := s.aofPersistManifest(dir, m); err != nil {
		return err
	}
	if err := os.Rename(old, filepath.Join(dir, fname)); err != nil {
		return fmt.Errorf("error trying to move the old AOF file %s into dir %s: %w", fname, dir, err)
	}
	s.log.Printf("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", fname, dir)
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// aofOpenOnStart is Redis's aofOpenIfNeededOnServerStart (s.mu held).
func (s *Server) aofOpenOnStart(dir string) error {
	a := &s.aof
	fname := s.cfg.AppendFilename
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("can't open or create append-only dir %s: %w", dir, err)
	}
	m := a.man
	if m.empty() {
		base := m.newBase(fname, s.cfg.AOFUseRDBPreamble)
		if err := s.aofWriteBaseSync(dir, base); err != nil {
			return fmt.Errorf("can't create the AOF base file %s: %w", base, err)
		}
		s.log.Printf("Creating AOF base file %s on server start", base)
	}
	created := len(m.incr) == 0
	incr := m.lastIncr(fname)
	f, err := os.OpenFile(filepath.Join(dir, incr), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("can't open the append-only file %s: %w", incr, err)
	}
	if err := s.aofPersistManifest(dir, m); err != nil {
		f.Close()
		return err
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	a.wmu.Lock()
	a.file = &aofFile{f: f, name: incr}
	a.incrSize = size
	a.wmu.Unlock()
	if created {
		s.log.Printf("Creating AOF incr file %s on server start", incr)
	} else {
		s.log.Printf("Opening AOF incr file %s on server start", incr)
	}
	a.dir = dir
	a.selectedDB = -1
	a.state = aofOn
	a.baseSize = s.aofFileSize(dir, m.base)
	a.currentSize.Store(s.aofFilesSize(dir, m))
	s.aofDelHistory(dir)
	s.aofAttach()
	return nil
}

func (s *Server) aofFileSize(dir string, e *aofFileEntry) int64 {
	if e == nil {
		return 0
	}
	st, err := os.Stat(filepath.Join(dir, e.name))
	if err != nil {
		return 0
	}
	return st.Size()
}

func (s *Server) aofFilesSize(dir string, m *aofManifest) int64 {
	n := s.aofFileSize(dir, m.base)
	for i := range m.incr {
		n += s.aofFileSize(dir, &m.incr[i])
	}
	return n
}

// aofStartAppendOnly is CONFIG SET appendonly yes: the AOF starts with a
// rewrite, as in Redis (s.mu held).
func (s *Server) aofStartAppendOnly() error {
	a := &s.aof
	if _, err := s.aofManifestLocked(); err != nil {
		return err
	}
	a.dir = s.aofDirPath()
	a.state = aofWaitRewrite
	a.selectedDB = -1
	s.aofAttach()
	switch {
	case a.rw != nil:
		// A rewrite started while the AOF was off does not collect the
		// writes: start over.
		s.log.Printf("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.")
		s.abortBgsave()
		a.scheduled = true
	case s.persist.bg != nil:
		s.log.Printf("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		a.scheduled = true
	default:
		if err := s.aofStartRewrite(); err != nil {
			a.state = aofOff
			s.aofDetach()
			s.log.Printf("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
			return err
		}
	}
	if a.writeErr.Swap(nil) != nil || a.fsyncErr.Swap(nil) != nil {
		s.log.Printf("AOF reopen, just ignore the last error.")
	}
	return nil
}

// aofStopAppendOnly is CONFIG SET appendonly no (s.mu held).
func (s *Server) aofStopAppendOnly() {
	a := &s.aof
	if err := s.aofFlush(true); err != nil {
		s.log.Printf("Fail to fsync the AOF file: %v", err)
	}
	a.wmu.Lock()
	if a.file != nil {
		a.file.syncAndClose()
		a.file = nil
	}
	a.incrSize = 0
	a.wmu.Unlock()
	a.bufMu.Lock()
	a.buf = nil
	a.pending.Store(false)
	a.bufMu.Unlock()
	a.selectedDB = -1
	a.state = aofOff
	a.scheduled = false
	if rw := a.rw; rw != nil && s.persist.bg == rw.bg {
		s.log.Printf("Killing running AOF rewrite")
		s.abortBgsave()
	}
	s.aofDetach()
	a.writeErr.Store(nil)
	a.fsyncErr.Store(nil)
}

// aofRestartAfterSync restarts the AOF after a replica loaded its master's
// snapshot (s.mu held): the files describe the old dataset, so a rewrite
// of the new one starts, as Redis's restartAOFAfterSYNC does.
func (s *Server) aofRestartAfterSync() {
	if s.aof.state == aofOff {
		return
	}
	s.aofStopAppendOnly()
	if err := s.aofStartAppendOnly(); err != nil {
		s.log.Printf("Failed enabling the AOF after successful master synchronization! Trying it again in one second.")
		s.aof.retryStart = true
	}
}

// aofConfigChanged applies CONFIG SET appendonly (s.mu held).
func (s *Server) aofConfigChanged() error {
	switch {
	case s.cfg.AppendOnly && s.aof.state == aofOff:
		return s.aofStartAppendOnly()
	case !s.cfg.AppendOnly && s.aof.state != aofOff:
		s.aofStopAppendOnly()
	}
	return nil
}

// aofOpenNewIncr switches writing to a new incr file at the start of a
// rewrite (Redis's openNewIncrAofForAppend), s.mu held. While waiting for
// the first rewrite the file is a temp incr file that the rewrite renames.
func (s *Server) aofOpenNewIncr() (*aofFile, error) {
	a := &s.aof
	if a.state == aofOff {
		return nil, nil
	}
	var name string
	var m *aofManifest
	if a.state == aofWaitRewrite {
		name = s.aofTempIncrName()
	} else {
		m = a.man.clone()
		name = m.newIncr(s.cfg.AppendFilename)
	}
	f, err := os.OpenFile(filepath.Join(a.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		s.log.Printf("Can't open the append-only file %s: %v", name, err)
		return nil, err
	}
	if m != nil {
		if err := s.aofPersistManifest(a.dir, m); err != nil {
			f.Close()
			os.Remove(filepath.Join(a.dir, name))
			return nil, err
		}
	}
	s.log.Printf("Creating AOF incr file %s on background rewrite", name)
	nf := &aofFile{f: f, name: name}
	a.wmu.Lock()
	_ = s.aofWritePendingLocked()
	old := a.file
	a.file = nf
	a.incrSize = 0
	a.wmu.Unlock()
	if old != nil {
		go old.syncAndClose()
	}
	if m != nil {
		a.man = m
	}
	return nf, nil
}

// ---------------------------------------------------------------------------
// Rewriting

// aofSaveOptions are the snapshot settings for an AOF base: Redis marks it
// aof-base 1 and writes no replication fields into it.
func (s *Server) aofSaveOptions(temp string) *saveOpts {
	o := s.saveOptions(temp)
	o.incrFsync = s.cfg.AOFRewriteIncrementalFsync
	aux := o.aux[:0:0]
	for _, kv := range o.aux {
		switch kv[0] {
		case rdb.AuxReplID, rdb.AuxReplOffset:
			continue
		case "aof-base":
			kv[1] = "1"
		}
		aux = append(aux, kv)
	}
	o.aux = aux
	return o
}

// aofStartRewrite starts a background rewrite (s.mu held).
func (s *Server) aofStartRewrite() error {
	a := &s.aof
	if s.persist.bg != nil {
		return errors.New("another background operation is running")
	}
	if _, err := s.aofManifestLocked(); err != nil {
		a.lastRewriteErr = true
		return err
	}
	dir := a.dir
	if a.state == aofOff {
		dir = s.aofDirPath()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.Printf("Can't open or create append-only dir %s: %v", dir, err)
		a.lastRewriteErr = true
		return err
	}
	a.selectedDB = -1
	_ = s.aofFlush(false)
	incr, err := s.aofOpenNewIncr()
	if err != nil {
		a.lastRewriteErr = true
		return err
	}
	a.rewrites++
	pid := os.Getpid()
	o := s.aofSaveOptions(fmt.Sprintf("temp-rewriteaof-%d.aof", pid))
	rw := &aofRewrite{start: time.Now(), preamble: s.cfg.AOFUseRDBPreamble, incr: incr,
		result: filepath.Join(o.dir, fmt.Sprintf("temp-rewriteaof-bg-%d.aof", pid))}
	o.file = filepath.Base(rw.result)
	if !rw.preamble {
		o.file = fmt.Sprintf("temp-rewriteaof-bg-%d.rdb", pid)
	}
	rw.rdbTemp = filepath.Join(o.dir, o.file)
	rw.bg = s.beginWalk(rw.start, o)
	a.rw = rw
	a.scheduled = false
	a.childActive.Store(true)
	s.log.Printf("Background append only file rewriting started")
	convOpts := s.aofConvertOptions()
	go s.aofRunRewrite(rw, convOpts)
	return nil
}

// aofRunRewrite writes the snapshot off the lock, then installs it.
func (s *Server) aofRunRewrite(rw *aofRewrite, conv aofConvert) {
	bg := rw.bg
	_, err := s.walkToFile(bg)
	if err == nil && !rw.preamble {
		err = conv.file(rw.rdbTemp, rw.result)
		os.Remove(rw.rdbTemp)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endWalk(bg)
	close(bg.done)
	s.aofRewriteDone(rw, err)
}

// aofRewriteDone is Redis's backgroundRewriteDoneHandler (s.mu held).
func (s *Server) aofRewriteDone(rw *aofRewrite, err error) {
	a := &s.aof
	if a.rw == rw {
		a.rw = nil
	}
	a.childActive.Store(s.persist.bg != nil)
	a.rewriteRan = true
	a.lastRewriteSecs = int64(time.Since(rw.start).Seconds())
	a.lastCOW = rw.bg.cowPeak
	switch {
	case rw.bg.aborted || errors.Is(err, errBgAborted):
		s.log.Printf("Background AOF rewrite terminated: abandoned")
		if a.state != aofOff {
			a.scheduled = true
		}
	case err != nil:
		a.lastRewriteErr = true
		a.failures++
		s.log.Printf("Background AOF rewrite terminated with error: %v", err)
	default:
		s.log.Printf("Background AOF rewrite terminated with success")
		if err := s.aofInstallRewrite(rw); err != nil {
			a.lastRewriteErr = true
			a.failures++
			s.log.Printf("Background AOF rewrite failed: %v", err)
		} else {
			a.lastRewriteErr = false
			a.failures = 0
			s.log.Printf("Background AOF rewrite finished successfully")
		}
	}
	os.Remove(rw.result)
	os.Remove(rw.rdbTemp)
	if rw.incr != nil && rw.incr.name == s.aofTempIncrName() {
		// The writes collected in the temp incr file are covered by no
		// base: drop them; the next rewrite starts over.
		a.wmu.Lock()
		a.bufMu.Lock()
		a.buf = a.buf[:0]
		a.pending.Store(false)
		a.bufMu.Unlock()
		if a.file == rw.incr {
			a.file = nil
		}
		a.wmu.Unlock()
		rw.incr.syncAndClose()
		os.Remove(filepath.Join(a.dir, rw.incr.name))
		if a.state == aofWaitRewrite {
			a.scheduled = true
		}
	}
}

// aofInstallRewrite moves the new base into the AOF directory and commits
// the manifest (s.mu held).
func (s *Server) aofInstallRewrite(rw *aofRewrite) error {
	a := &s.aof
	fname := s.cfg.AppendFilename
	dir := a.dir
	if a.state == aofOff {
		dir = s.aofDirPath()
	}
	m, err := s.aofManifestLocked()
	if err != nil {
		return err
	}
	m = m.clone()
	base := m.newBase(fname, rw.preamble)
	basePath := filepath.Join(dir, base)
	if err := os.Rename(rw.result, basePath); err != nil {
		return fmt.Errorf("error trying to rename the temporary AOF base file %s into %s: %w", rw.result, base, err)
	}
	s.log.Printf("Successfully renamed the temporary AOF base file %s into %s", filepath.Base(rw.result), base)
	var incrPath string
	if a.state == aofWaitRewrite {
		incr := m.newIncr(fname)
		incrPath = filepath.Join(dir, incr)
		if err := os.Rename(filepath.Join(dir, s.aofTempIncrName()), incrPath); err != nil {
			os.Remove(basePath)
			return fmt.Errorf("error trying to rename the temporary AOF incr file %s into %s: %w", s.aofTempIncrName(), incr, err)
		}
		s.log.Printf("Successfully renamed the temporary AOF incr file %s into %s", s.aofTempIncrName(), incr)
		a.wmu.Lock()
		if a.file != nil {
			a.file.name = incr
		}
		a.wmu.Unlock()
	}
	m.markIncrHistory(a.state != aofOff)
	if err := s.aofPersistManifest(dir, m); err != nil {
		os.Remove(basePath)
		if incrPath != "" {
			os.Remove(incrPath)
		}
		return err
	}
	a.man = m
	if a.state != aofOff {
		a.selectedDB = -1
		a.wmu.Lock()
		cur := s.aofFileSize(dir, m.base) + a.incrSize
		a.wmu.Unlock()
		a.currentSize.Store(cur)
		a.baseSize = cur
	}
	s.aofDelHistory(dir)
	if a.state == aofWaitRewrite {
		a.state = aofOn
	}
	rw.incr = nil
	return nil
}

// aofRewriteLimited is Redis's aofRewriteLimited: after 3 failures in a
// row automatic rewrites wait 1, 2, 4 ... 60 minutes.
func (s *Server) aofRewriteLimited() bool {
	a := &s.aof
	if a.failures < aofRewriteLimitN {
		a.limitDelayMin, a.limitNext = 0, 0
		return false
	}
	now := time.Now().Unix()
	if a.limitNext != 0 {
		if now < a.limitNext {
			return true
		}
		a.limitNext = 0
		return false
	}
	if a.limitDelayMin == 0 {
		a.limitDelayMin = 1
	} else {
		a.limitDelayMin = min(a.limitDelayMin*2, 60)
	}
	a.limitNext = now + a.limitDelayMin*60
	s.log.Printf("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes", a.limitDelayMin)
	return true
}

// aofCron is the AOF's part of the cron (s.mu held): write what is
// buffered (and retry after a write error), start scheduled and automatic
// rewrites.
func (s *Server) aofCron() {
	a := &s.aof
	if a.retryStart && s.cfg.AppendOnly && a.state == aofOff && time.Now().Unix() != a.lastRetry {
		a.lastRetry = time.Now().Unix()
		if s.aofStartAppendOnly() == nil {
			a.retryStart = false
		}
	}
	if a.state == aofOff && !a.scheduled {
		return
	}
	s.aofRefreshPolicy()
	if a.pending.Load() {
		_ = s.aofFlush(false)
	}
	if s.loading || s.persist.bg != nil {
		return
	}
	if a.scheduled && !s.aofRewriteLimited() {
		if err := s.aofStartRewrite(); err != nil {
			s.log.Printf("Can't start the scheduled AOF rewrite: %v", err)
		}
		return
	}
	if a.state == aofOn && s.cfg.AutoAOFRewritePercentage > 0 {
		cur := a.currentSize.Load()
		if cur > s.cfg.AutoAOFRewriteMinSize {
			base := a.baseSize
			if base == 0 {
				base = 1
			}
			growth := cur*100/base - 100
			if growth >= int64(s.cfg.AutoAOFRewritePercentage) && !s.aofRewriteLimited() {
				s.log.Printf("Starting automatic rewriting of AOF on %d%% growth", growth)
				if err := s.aofStartRewrite(); err != nil {
					s.log.Printf("Can't start the automatic AOF rewrite: %v", err)
				}
			}
		}
	}
}

// aofOwnsBg says whether the background walk in s.persist.bg is an AOF
// rewrite's: BGSAVE then answers as Redis does with an AOF child (another
// child is active), SAVE may run, and rdb_bgsave_in_progress stays 0.
func (s *Server) aofOwnsBg() bool {
	return s.aof.rw != nil && s.persist.bg == s.aof.rw.bg
}

// waitAOFRewrite blocks until the running rewrite, if any, is over; s.mu
// must not be held. For tests and tools.
func (s *Server) waitAOFRewrite() {
	for {
		s.mu.Lock()
		rw := s.aof.rw
		s.mu.Unlock()
		if rw == nil {
			return
		}
		<-rw.bg.done
	}
}

// ---------------------------------------------------------------------------
// Base files without the RDB preamble (aof-use-rdb-preamble no)

// aofConvert turns an RDB snapshot into commands, as Redis's
// rewriteAppendOnlyFileRio writes them. It carries what it needs from the
// configuration, so it runs without s.mu.
type aofConvert struct {
	opts       rdb.Options
	timestamps bool
}

func (s *Server) aofConvertOptions() aofConvert {
	return aofConvert{
		opts: rdb.Options{
			Limits:         rdb.DefaultLimits(),
			VerifyChecksum: true,
			Databases:      len(s.dbs),
			Logf:           s.log.Printf,
		},
		timestamps: s.cfg.AOFTimestampEnabled,
	}
}

// file converts src (RDB) into dst (commands), fsynced.
func (cv aofConvert) file(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	size := int64(-1)
	if st, err := in.Stat(); err == nil {
		size = st.Size()
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	if cv.timestamps {
		fmt.Fprintf(bw, "#TS:%d\r\n", time.Now().Unix())
	}
	cur := -1
	var b []byte
	_, err = rdb.Load(in, size, &cv.opts, func(r *rdb.Record) error {
		b = b[:0]
		if r.DB != cur {
			b = appendSelect(b, r.DB)
			cur = r.DB
		}
		b = aofAppendEntry(b, r.Key, &r.Entry)
		_, err := bw.Write(b)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

// aofAppendEntry appends the commands that rebuild one key.
func aofAppendEntry(b, key []byte, e *keyspace.Entry) []byte {
	var items [][]byte
	emit := func(cmd string) {
		argv := make([][]byte, 0, 2+len(items))
		argv = append(argv, []byte(cmd), key)
		argv = append(argv, items...)
		b = appendRESP(b, argv)
		items = items[:0]
	}
	switch o := e.Obj.(type) {
	case nil:
		b = appendRESP(b, [][]byte{[]byte("SET"), key, e.Str})
	case *keyspace.List:
		o.Range(false, func(_ int, v []byte) bool {
			items = append(items, v)
			if len(items) == aofItemsPerCmd {
				emit("RPUSH")
			}
			return true
		})
		if len(items) > 0 {
			emit("RPUSH")
		}
	case *keyspace.Set:
		o.Each(func(m string) bool {
			items = append(items, []byte(m))
			if len(items) == aofItemsPerCmd {
				emit("SADD")
			}
			return true
		})
		if len(items) > 0 {
			emit("SADD")
		}
	case *keyspace.Hash:
		o.Each(func(f string, v []byte) bool {
			items = append(items, []byte(f), v)
			if len(items) == 2*aofItemsPerCmd {
				emit("HMSET")
			}
			return true
		})
		if len(items) > 0 {
			emit("HMSET")
		}
	case *keyspace.ZSet:
		for n := o.First(); n != nil; n = n.Next() {
			items = append(items, aofScore(n.Score), []byte(n.Member))
			if len(items) == 2*aofItemsPerCmd {
				emit("ZADD")
			}
		}
		if len(items) > 0 {
			emit("ZADD")
		}
	}
	if e.Expire != 0 {
		b = appendRESP(b, [][]byte{[]byte("PEXPIREAT"), key, strconv.AppendInt(nil, e.Expire, 10)})
	}
	return b
}

// aofScore formats a score as Redis's "%.17g".
func aofScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// aofWriteBaseSync writes a base file from the current data with s.mu held
// (the empty base Redis creates when it starts with no AOF).
func (s *Server) aofWriteBaseSync(dir, name string) error {
	pid := os.Getpid()
	preamble := strings.HasSuffix(name, ".rdb")
	o := s.aofSaveOptions(fmt.Sprintf("temp-rewriteaof-%d.aof", pid))
	o.dir, o.file = dir, name
	if !preamble {
		o.file = fmt.Sprintf("temp-rewriteaof-%d.rdb", pid)
	}
	_, err := writeSnapshotFile(o, func(w *rdb.Writer) error {
		if err := s.writeDatasetLocked(w, o); err != nil {
			return err
		}
		return w.Err()
	}, nil)
	if err != nil || preamble {
		return err
	}
	src := filepath.Join(dir, o.file)
	defer os.Remove(src)
	tmp := filepath.Join(dir, fmt.Sprintf("temp-rewriteaof-%d.aof", pid))
	if err := s.aofConvertOptions().file(src, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// ---------------------------------------------------------------------------
// Loading

// aofLoadError is a load failure: the message names the file and offset.
type aofLoadError struct{ msg string }

func (e *aofLoadError) Error() string { return e.msg }

// aofLoadFiles loads the base and incr files the manifest lists (s.mu
// held). A torn tail is allowed only in the last file.
func (s *Server) aofLoadFiles(dir string, m *aofManifest, yield bool) (bool, error) {
	var files []aofFileEntry
	if m.base != nil {
		files = append(files, *m.base)
	}
	files = append(files, m.incr...)
	var total int64
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dir, f.name))
		if err != nil {
			return false, &aofLoadError{fmt.Sprintf("Unable to obtain the AOF file %s length (listed in the manifest %s): %v", f.name, s.aofManifestName(), err)}
		}
		total += st.Size()
	}
	if total == 0 {
		return false, nil
	}
	s.loading = true
	defer func() { s.loading = false }()
	for i, f := range files {
		last := i == len(files)-1
		start := time.Now()
		if err := s.aofLoadOne(dir, f.name, last, yield); err != nil {
			return false, err
		}
		kind := "incr"
		if f.typ == 'b' {
			kind = "base"
		}
		s.log.Printf("DB loaded from %s file %s: %.3f seconds", kind, f.name, time.Since(start).Seconds())
	}
	s.stats.dirty = 0
	return true, nil
}

// aofLoadOne loads one file (s.mu held): an RDB base through the RDB
// loader, commands through the gate.
func (s *Server) aofLoadOne(dir, name string, last, yield bool) error {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return &aofLoadError{fmt.Sprintf("Fatal error: can't open the append log file %s for reading: %v", name, err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &aofLoadError{fmt.Sprintf("Fatal error: can't stat the append log file %s: %v", name, err)}
	}
	if st.Size() == 0 {
		return nil
	}
	var sig [5]byte
	n, _ := io.ReadFull(f, sig[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return &aofLoadError{fmt.Sprintf("Unrecoverable error reading the append only file %s: %v", name, err)}
	}
	if n == 5 && string(sig[:]) == "REDIS" {
		s.log.Printf("Reading RDB base file on AOF loading...")
		// A base Redis 7 wrote is only an RDB; an old-style file may go on
		// with commands after it, which Redis replays too.
		end := st.Size()
		whole, err := rdbIsWholeFile(f, end)
		if err == nil && !whole {
			_, end, err = rdb.LoadPrefix(f, st.Size(), &rdb.Options{Limits: rdb.DefaultLimits(), Databases: len(s.dbs)},
				func(*rdb.Record) error { return nil })
		}
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err == nil {
			err = s.loadRDBLocked(io.LimitReader(f, end), end, yield)
		}
		s.loading = true
		if err != nil {
			return &aofLoadError{fmt.Sprintf("Error reading the RDB base file %s, AOF loading aborted: %v", name, err)}
		}
		if end == st.Size() {
			return nil
		}
		s.log.Printf("Reading the remaining AOF tail of %s at offset %d...", name, end)
		if _, err := f.Seek(end, io.SeekStart); err != nil {
			return &aofLoadError{fmt.Sprintf("Unrecoverable error reading the append only file %s: %v", name, err)}
		}
		return s.aofReplay(path, name, f, end, st.Size(), last, yield)
	}
	return s.aofReplay(path, name, f, 0, st.Size(), last, yield)
}

// rdbIsWholeFile says whether f (size bytes, an RDB at its start) ends with
// that RDB: its last 9 bytes are the EOF opcode and a checksum that matches
// everything before it. When it cannot tell (no checksum), it says no and
// the caller finds the end by parsing.
func rdbIsWholeFile(f *os.File, size int64) (bool, error) {
	if size < 18 {
		return false, nil
	}
	var tail [9]byte
	if _, err := f.ReadAt(tail[:], size-9); err != nil {
		return false, err
	}
	stored := binary.LittleEndian.Uint64(tail[1:])
	if tail[0] != 0xff || stored == 0 {
		return false, nil
	}
	var crc uint64
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size-8; {
		n := int64(len(buf))
		if rest := size - 8 - off; rest < n {
			n = rest
		}
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return false, err
		}
		crc = rdb.CRC64(crc, buf[:n])
		off += n
	}
	return crc == stored, nil
}

// aofCmdReader reads the AOF's RESP commands and knows its byte offset.
type aofCmdReader struct {
	r   *bufio.Reader
	off int64
}

var errAOFShort = errors.New("short read")

type aofFormatError struct {
	off int64
	msg string
}

func (e *aofFormatError) Error() string { return e.msg }

func (r *aofCmdReader) line() ([]byte, error) {
	ln, err := r.r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, &aofFormatError{r.off, "line too long"}
	case err == io.EOF:
		return nil, errAOFShort
	case err != nil:
		return nil, err
	}
	r.off += int64(len(ln))
	return ln, nil
}

func parseAOFCount(ln []byte) (int64, bool) {
	if len(ln) < 4 || ln[len(ln)-2] != '\r' {
		return 0, false
	}
	digits := ln[1 : len(ln)-2]
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// next reads one command; annotations (#...) are skipped. It returns
// io.EOF at a clean end, errAOFShort when the file ends inside a command,
// and *aofFormatError for anything else.
func (r *aofCmdReader) next() ([][]byte, error) {
	for {
		if _, err := r.r.Peek(1); err != nil {
			return nil, err // io.EOF: a clean end
		}
		start := r.off
		ln, err := r.line()
		if err != nil {
			return nil, err
		}
		if ln[0] == '#' {
			continue
		}
		if ln[0] != '*' {
			return nil, &aofFormatError{start, fmt.Sprintf("expected '*', got %q", truncate(string(ln), 32))}
		}
		argc, ok := parseAOFCount(ln)
		if !ok || argc < 1 {
			return nil, &aofFormatError{start, fmt.Sprintf("bad command header %q", truncate(strings.TrimRight(string(ln), "\r\n"), 32))}
		}
		argv := make([][]byte, 0, min(argc, 1024))
		for j := int64(0); j < argc; j++ {
			at := r.off
			ln, err := r.line()
			if err != nil {
				return nil, err
			}
			if ln[0] != '$' {
				return nil, &aofFormatError{at, fmt.Sprintf("expected '$', got %q", truncate(string(ln), 32))}
			}
			n, ok := parseAOFCount(ln)
			if !ok {
				return nil, &aofFormatError{at, fmt.Sprintf("bad bulk length %q", truncate(strings.TrimRight(string(ln), "\r\n"), 32))}
			}
			arg := make([]byte, n+2)
			if _, err := io.ReadFull(r.r, arg); err != nil {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return nil, errAOFShort
				}
				return nil, err
			}
			r.off += n + 2
			if arg[n] != '\r' || arg[n+1] != '\n' {
				return nil, &aofFormatError{r.off - 2, "missing CRLF after a bulk string"}
			}
			argv = append(argv, arg[:n])
		}
		return argv, nil
	}
}

// aofReplay runs the commands of one file through the gate as a client
// flagged like the master link: no reply kept, nothing propagated (s.mu
// held; with yield it is released every 1024 commands so clients get
// -LOADING).
func (s *Server) aofReplay(path, name string, f *os.File, start, size int64, last, yield bool) error {
	rd := &aofCmdReader{r: bufio.NewReaderSize(f, 64<<10), off: start}
	c := s.newClient(nil)
	c.flags |= flagMaster
	c.aofLoader = true // active replication's records replay too
	c.authenticated = true
	savedSinks := s.prop.sinks
	s.prop.sinks = nil
	defer func() { s.prop.sinks = savedSinks }()
	validUpTo, validBeforeMulti := start, start
	loops := 0
	s.loading = false
	defer func() { s.loading = true }()
	truncated := func(at int64, why string) error {
		if !last {
			return &aofLoadError{fmt.Sprintf("Unexpected end of file reading the append only file %s at offset %d (%s), and it is not the last file of the manifest", name, at, why)}
		}
		if !s.cfg.AOFLoadTruncated {
			return &aofLoadError{fmt.Sprintf("Unexpected end of file reading the append only file %s at offset %d (%s). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name, at, why)}
		}
		s.log.Printf("!!! Warning: short read while loading the AOF file %s!!!", name)
		s.log.Printf("!!! Truncating the AOF %s at offset %d (%d bytes dropped: %s) !!!", name, validUpTo, size-validUpTo, why)
		if err := os.Truncate(path, validUpTo); err != nil {
			return &aofLoadError{fmt.Sprintf("Error truncating the AOF file %s at offset %d: %v", name, validUpTo, err)}
		}
		s.log.Printf("AOF %s loaded anyway because aof-load-truncated is enabled", name)
		return nil
	}
	for {
		if loops++; yield && loops%1024 == 0 {
			s.loading = true
			s.mu.Unlock()
			s.mu.Lock()
			s.loading = false
		}
		start := rd.off
		argv, err := rd.next()
		if err == io.EOF {
			break
		}
		if err == errAOFShort {
			if c.flags&flagMulti != 0 {
				validUpTo = validBeforeMulti
			}
			return truncated(start, "the last command is incomplete")
		}
		var fe *aofFormatError
		if errors.As(err, &fe) {
			return &aofLoadError{fmt.Sprintf("Bad file format reading the append only file %s at offset %d: %s. Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name, fe.off, fe.msg)}
		}
		if err != nil {
			return &aofLoadError{fmt.Sprintf("Unrecoverable error reading the append only file %s at offset %d: %v", name, rd.off, err)}
		}
		cmd := c.lookup(argv[0])
		if cmd == nil {
			return &aofLoadError{fmt.Sprintf("Unknown command '%s' reading the append only file %s at offset %d", truncate(string(argv[0]), 128), name, start)}
		}
		if cmd.Name == "multi" {
			validBeforeMulti = validUpTo
		}
		s.tick()
		c.execing = true // like Redis's AOF client: never blocks
		c.process(argv)
		if c.flags&flagBlocked != 0 {
			return &aofLoadError{fmt.Sprintf("A command blocked while replaying the append only file %s at offset %d", name, start)}
		}
		if len(c.out) > 0 {
			if bytes.HasPrefix(c.out, []byte("-ERR wrong number of arguments")) || bytes.HasPrefix(c.out, []byte("-ERR unknown subcommand")) {
				return &aofLoadError{fmt.Sprintf("Bad command %s reading the append only file %s at offset %d: %s", truncate(string(argv[0]), 64), name, start, strings.TrimRight(string(c.out[1:]), "\r\n"))}
			}
			c.out = c.out[:0]
		}
		validUpTo = rd.off
	}
	if c.flags&flagMulti != 0 {
		s.log.Printf("Revert incomplete MULTI/EXEC transaction in AOF file %s", name)
		validUpTo = validBeforeMulti
		return truncated(validUpTo, "MULTI without EXEC at the end")
	}
	return nil
}

// debugLoadAOF is DEBUG LOADAOF: write the buffer, empty the data and load
// the AOF back (s.mu held).
func (s *Server) debugLoadAOF() error {
	a := &s.aof
	if a.state == aofOn {
		if err := s.aofFlush(true); err != nil {
			return err
		}
	}
	for i, db := range s.dbs {
		db.Clear()
		if i < len(s.expireCursors) {
			s.expireCursors[i] = 0
		}
	}
	dir := s.aofDirPath()
	if a.state != aofOff {
		dir = a.dir
	}
	m, err := s.aofReadManifest(dir)
	if err != nil {
		return err
	}
	if m.empty() {
		return nil
	}
	_, err = s.aofLoadFiles(dir, m, false)
	s.log.Printf("Append Only File loaded by DEBUG LOADAOF")
	return err
}

// ---------------------------------------------------------------------------
// Commands and INFO

func registerAOFCommands(t table) {
	t.add(&Command{Name: "bgrewriteaof", Proc: bgrewriteaofCmd, Arity: 1, Flags: FlagAdmin | FlagNoScript, Group: "server"})
}

func bgrewriteaofCmd(c *Client) {
	s := c.s
	a := &s.aof
	switch {
	case a.rw != nil:
		c.addError("ERR Background append only file rewriting already in progress")
	case s.persist.bg != nil || c.execing:
		a.scheduled = true
		a.failures = 0
		c.addSimple("Background append only file rewriting scheduled")
	default:
		if err := s.aofStartRewrite(); err != nil {
			c.addError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		c.addSimple("Background append only file rewriting started")
	}
}

// aofInfo is INFO's AOF lines from aof_enabled to aof_last_cow_size, in
// Redis 7.0's order (module_fork_* follow them in Redis's output).
func (s *Server) aofInfo() [][2]string {
	a := &s.aof
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	last, cur := int64(-1), int64(-1)
	if a.rewriteRan {
		last = a.lastRewriteSecs
	}
	if a.rw != nil {
		cur = int64(time.Since(a.rw.start).Seconds())
	}
	status := func(bad bool) string {
		if bad {
			return "err"
		}
		return "ok"
	}
	writeBad := a.writeErr.Load() != nil || a.fsyncErr.Load() != nil
	return [][2]string{
		{"aof_enabled", i(boolInt(a.state != aofOff))},
		{"aof_rewrite_in_progress", i(boolInt(a.rw != nil))},
		{"aof_rewrite_scheduled", i(boolInt(a.scheduled))},
		{"aof_last_rewrite_time_sec", i(last)},
		{"aof_current_rewrite_time_sec", i(cur)},
		{"aof_last_bgrewrite_status", status(a.lastRewriteErr)},
		{"aof_rewrites", i(a.rewrites)},
		{"aof_rewrites_consecutive_failures", i(a.failures)},
		{"aof_last_write_status", status(writeBad)},
		{"aof_last_cow_size", i(a.lastCOW)},
	}
}

// aofInfoEnabled is INFO's AOF lines shown only while the AOF is on; they
// come after module_fork_last_cow_size.
func (s *Server) aofInfoEnabled() [][2]string {
	a := &s.aof
	if a.state == aofOff {
		return nil
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	a.bufMu.Lock()
	buffered := len(a.buf)
	a.bufMu.Unlock()
	return [][2]string{
		{"aof_current_size", i(a.currentSize.Load())},
		{"aof_base_size", i(a.baseSize)},
		{"aof_pending_rewrite", i(boolInt(a.scheduled))},
		{"aof_buffer_length", i(int64(buffered))},
		{"aof_pending_bio_fsync", i(boolInt(a.fsyncRunning.Load()))},
		{"aof_delayed_fsync", "0"},
	}
}
