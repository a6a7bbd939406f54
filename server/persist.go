package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fluidb/fluidb/server/keyspace"
	"github.com/fluidb/fluidb/server/rdb"
)

// RDB persistence: SAVE, BGSAVE, LASTSAVE, the "save <seconds> <changes>"
// schedule, load at start, save at shutdown. The file format is in
// server/rdb; the design (how BGSAVE stays point-in-time without fork) is in
// docs/persistence.md.
//
// BGSAVE in short: a goroutine walks each database with the dict's SCAN
// cursor, a small chunk at a time under s.mu, and writes the chunk to disk
// outside the lock. Until it finishes, s.beforeWrite runs before every write
// command: for each key the command names that the walk has not passed yet
// (Dict.ScanPassed, exact across resizes and rehashing), it keeps the key's
// current record, or "absent", in a side map. The walk skips keys found in
// the side map and writes the side map's records when the database is done,
// so every key is written as it was when BGSAVE started, exactly once, and
// keys created later are left out.

type persistState struct {
	bg          *bgSave
	bgScheduled bool  // BGSAVE SCHEDULE, or a BGSAVE asked while one ran inside EXEC
	bgErr       bool  // the last background save failed (rdb_last_bgsave_status:err)
	lastBgTry   int64 // unix s of the last BGSAVE start, for the retry delay
	lastBgSecs  int64
	bgRan       bool
	saves       int64
	lastCOW     int64
	lastHold    time.Duration // longest chunk under s.mu in the last BGSAVE
	loadLoaded  int64
	loadExpired int64
	dumpEnc     rdb.Encoder // DUMP and the BGSAVE hook (both under s.mu)

	// replInfo, when set by replication, gives the repl-id and
	// repl-offset written in the file; otherwise the standalone replid
	// and offset 0 are written.
	replInfo func() (id string, offset int64)
	// What the last loaded file said, for replication to resume from.
	loadedReplID     string
	loadedReplOffset int64
}

// bgRetryDelay is Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed
// background save the schedule waits this long before trying again.
const bgRetryDelay = 5

// saveOpts is what a save needs from the configuration, read under s.mu
// when it starts.
type saveOpts struct {
	dir, file string
	tempName  string
	compress  bool
	checksum  bool
	incrFsync bool
	lru, lfu  bool
	aux       [][2]string
	now       int64 // ms; keys expired at this time are left out
}

func (s *Server) saveOptions(temp string) *saveOpts {
	policy := strings.ToLower(s.cfg.MaxmemoryPolicy)
	o := &saveOpts{
		dir:       s.cfg.Dir,
		file:      s.cfg.DBFilename,
		tempName:  temp,
		compress:  s.cfg.RDBCompression,
		checksum:  s.cfg.RDBChecksum,
		incrFsync: s.cfg.RDBSaveIncrementalFsync,
		lru:       strings.Contains(policy, "lru"),
		lfu:       strings.Contains(policy, "lfu"),
		now:       time.Now().UnixMilli(),
	}
	replID, replOff := s.replID(), int64(0)
	if s.persist.replInfo != nil {
		replID, replOff = s.persist.replInfo()
	}
	o.aux = [][2]string{
		{"redis-ver", RedisVersion},
		{"redis-bits", "64"},
		{"ctime", strconv.FormatInt(time.Now().Unix(), 10)},
		{"used-mem", strconv.FormatInt(s.usedMemory(), 10)},
		{rdb.AuxReplID, replID},
		{rdb.AuxReplOffset, strconv.FormatInt(replOff, 10)},
		{"aof-base", "0"},
		{rdb.AuxVersion, Version},
		{rdb.AuxNode, s.nodeID.String()},
		{rdb.AuxHLC, strconv.FormatUint(s.clock.Last(), 10)},
	}
	// Active replication's tombstones and flush stamps (fluidb-tomb,
	// fluidb-flush; docs/persistence.md).
	o.aux = s.activeSaveAux(o.aux)
	if len(s.act.lineage) > 0 {
		o.aux = append(o.aux, [2]string{rdb.AuxLineage, strings.Join(s.act.lineage, ",")})
	}
	return o
}

// keyMeta is the metadata written before a key.
func (s *Server) keyMeta(e *keyspace.Entry, o *saveOpts) rdb.KeyMeta {
	m := rdb.KeyMeta{Expire: e.Expire, Stamp: e.Stamp, Idle: -1, Freq: -1}
	if e.Origin != 0 {
		m.Origin = s.origins.ID(e.Origin)
	}
	switch {
	case o.lru:
		if idle := int64(s.lruClock()) - int64(e.Access); idle > 0 {
			m.Idle = idle
		} else {
			m.Idle = 0
		}
	case o.lfu:
		m.Freq = int(e.Freq)
	}
	return m
}

func writeHeader(w *rdb.Writer, o *saveOpts) {
	w.Header()
	for _, kv := range o.aux {
		w.Aux(kv[0], kv[1])
	}
}

// syncWriter fsyncs the file every 4 MB when rdb-save-incremental-fsync is
// on, so the final fsync does not stall on a large dirty page cache.
type syncWriter struct {
	f       *os.File
	incr    bool
	pending int64
}

func (w *syncWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err == nil && w.incr {
		w.pending += int64(n)
		if w.pending >= 4<<20 {
			w.pending = 0
			err = w.f.Sync()
		}
	}
	return n, err
}

// writeSnapshotFile writes a snapshot through fill into a temporary file in
// the configured dir, then fsyncs it, renames it over dbfilename and fsyncs
// the dir, so a crash leaves either the old file or the new one.
//
// rename, if set, replaces os.Rename: BGSAVE renames under s.mu, after
// checking it was not abandoned, so an abandoned save can never replace
// the file a later SAVE wrote.
func writeSnapshotFile(o *saveOpts, fill func(w *rdb.Writer) error, rename func(from, to string) error) (int64, error) {
	if rename == nil {
		rename = os.Rename
	}
	tmp := filepath.Join(o.dir, o.tempName)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("failed opening the temp RDB file %s (in server root dir %s) for saving: %w", o.tempName, o.dir, err)
	}
	bw := bufio.NewWriterSize(&syncWriter{f: f, incr: o.incrFsync}, 1<<20)
	w := rdb.NewWriter(bw, o.checksum)
	err = fill(w)
	if err == nil {
		err = w.Finish()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = rename(tmp, filepath.Join(o.dir, o.file)); err != nil && err != errBgAborted {
			err = fmt.Errorf("failed moving the temp RDB file %s to the final destination %s: %w", o.tempName, o.file, err)
		}
	}
	if err == nil {
		err = syncDir(o.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return w.Len(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

func (s *Server) syncTempName() string { return fmt.Sprintf("temp-%d.rdb", os.Getpid()) }

// The background save has no child process of its own, so its temp file
// carries a suffix: a BGSAVE being abandoned (FLUSHALL, SHUTDOWN) never
// clashes with the SAVE that follows it.
func (s *Server) bgTempName() string { return fmt.Sprintf("temp-%d-bg.rdb", os.Getpid()) }

// saveLocked is SAVE: a synchronous snapshot with s.mu held, as Redis's
// rdbSave blocks the server.
func (s *Server) saveLocked() error {
	if bg := s.persist.bg; bg != nil && !bg.aborted && !s.aofOwnsBg() {
		return errors.New("Background save already in progress")
	}
	o := s.saveOptions(s.syncTempName())
	start := time.Now()
	n, err := writeSnapshotFile(o, func(w *rdb.Writer) error {
		return s.writeDatasetLocked(w, o)
	}, nil)
	if err != nil {
		s.log.Printf("Write error saving DB on disk: %v", err)
		return err
	}
	s.stats.dirty = 0
	s.intro.lastSave = time.Now().Unix()
	s.persist.bgErr = false
	s.persist.saves++
	s.log.Printf("DB saved on disk (%d bytes in %.3f seconds)", n, time.Since(start).Seconds())
	return nil
}

// saveForShutdown saves before the process exits (SHUTDOWN, or a signal
// when save points are configured). Call it with s.mu held. A running
// BGSAVE is abandoned first, as Redis kills its child.
func (s *Server) saveForShutdown() error {
	if bg := s.persist.bg; bg != nil && !bg.aborted {
		s.log.Printf("There is a background save in progress. Abandoning it to save synchronously.")
		s.abortBgsave()
	}
	s.log.Printf("Saving the final RDB snapshot before exiting.")
	if err := s.saveLocked(); err != nil {
		s.log.Printf("Error trying to save the DB, can't exit.")
		return err
	}
	return nil
}

// persistenceBlocksWritesRDB is the rule behind persistenceBlocksWrites:
// Redis refuses writes (MISCONF) while the last background save failed,
// if stop-writes-on-bgsave-error is on and save points are configured.
func (s *Server) persistenceBlocksWritesRDB() bool {
	return s.persist.bgErr && s.cfg.StopWritesOnBgsaveError && len(s.cfg.Save) > 0
}

// persistCron runs the save schedule; called from cron with s.mu held.
func (s *Server) persistCron() {
	if s.persist.bg != nil || s.loading {
		return
	}
	now := time.Now().Unix()
	retryOK := !s.persist.bgErr || now-s.persist.lastBgTry > bgRetryDelay
	if !retryOK {
		return
	}
	for _, sp := range s.cfg.Save {
		if s.stats.dirty >= sp.Changes && now-s.lastSaveTime() > sp.Seconds {
			s.log.Printf("%d changes in %d seconds. Saving...", sp.Changes, sp.Seconds)
			s.startBgsave()
			return
		}
	}
	if s.persist.bgScheduled {
		s.persist.bgScheduled = false
		s.startBgsave()
	}
}

// bgSave is one running BGSAVE.
type bgSave struct {
	start        time.Time
	opts         *saveOpts
	dbs          []bgDB
	aborted      bool
	err          error // a value the format cannot hold, found by the hook
	cow          int64 // bytes held for keys changed during the save
	cowPeak      int64
	dirtyAtStart int64
	keysDone     int64
	keysTotal    int64
	maxHold      time.Duration // longest chunk under s.mu
	enc          rdb.Encoder   // the saver's; the hook uses persist.dumpEnc
	done         chan struct{}
}

type bgDB struct {
	db            *keyspace.DB
	keys, expires int // at the start: the RESIZEDB hint; 0 keys = nothing to write
	cursor        uint64
	finished      bool
	side          map[string]*sideRec
}

// sideRec is a key's state at the start of the save, kept because a write
// was about to change it before the walk got there.
type sideRec struct {
	absent  bool
	meta    rdb.KeyMeta
	payload []byte
}

// sideOverhead approximates the memory of one side-map entry beyond its
// payload (map slot, key string, record), for rdb_last_cow_size.
const sideOverhead = 96

// beginWalk takes the snapshot point of a background walk (BGSAVE, an AOF
// rewrite's base, a full sync's payload): from now on writes keep the
// start-of-walk state of keys the walk has not reached. s.mu is held and
// the background slot is free.
func (s *Server) beginWalk(start time.Time, o *saveOpts) *bgSave {
	bg := &bgSave{start: start, opts: o, dirtyAtStart: s.stats.dirty, done: make(chan struct{})}
	bg.enc.Compress = o.compress
	s.persist.dumpEnc.Compress = o.compress
	bg.dbs = make([]bgDB, len(s.dbs))
	for i, db := range s.dbs {
		bg.dbs[i] = bgDB{db: db, keys: db.Len(), expires: db.ExpiresLen(), side: map[string]*sideRec{}}
		bg.dbs[i].finished = db.Len() == 0
		bg.keysTotal += int64(db.Len())
	}
	s.persist.bg = bg
	s.beforeWrite = s.bgBeforeWrite
	return bg
}

// endWalk frees the background slot bg held, if it still does (s.mu
// held). An aborted walk's hook was already removed by whoever aborted it.
func (s *Server) endWalk(bg *bgSave) {
	if s.persist.bg == bg {
		s.persist.bg = nil
		if !bg.aborted {
			s.beforeWrite = nil
		}
	}
}

// walkToFile writes bg's snapshot to its temp file and renames it into
// place unless the walk was abandoned meanwhile (runs off the lock).
func (s *Server) walkToFile(bg *bgSave) (int64, error) {
	return writeSnapshotFile(bg.opts, func(w *rdb.Writer) error {
		return s.walkSnapshot(bg, w)
	}, func(from, to string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if bg.aborted {
			return errBgAborted
		}
		return os.Rename(from, to)
	})
}

// startBgsave starts a background save; s.mu is held.
func (s *Server) startBgsave() {
	bg := s.beginWalk(time.Now(), s.saveOptions(s.bgTempName()))
	s.persist.lastBgTry = time.Now().Unix()
	s.log.Printf("Background saving started")
	go s.runBgsave(bg)
}

// abortBgsave abandons the running BGSAVE (FLUSHALL, SHUTDOWN): its
// goroutine notices at its next chunk and removes its temp file. Like a
// child killed on purpose in Redis, this is not a save error.
func (s *Server) abortBgsave() {
	bg := s.persist.bg
	if bg == nil || bg.aborted {
		return
	}
	bg.aborted = true
	s.beforeWrite = nil
	for i := range bg.dbs {
		bg.dbs[i].side = nil
	}
}

var errBgAborted = errors.New("background save abandoned")

// Chunk bounds: how much the walk does per acquisition of s.mu. A chunk
// ends at the first bucket boundary past any bound, so the pause a client
// sees is about this plus one bucket's values. Variables so tests can make
// chunks tiny and interleave writes with the walk.
var (
	bgChunkKeys  = 2000
	bgChunkBytes = 1 << 20
	bgChunkTime  = time.Millisecond
	bgChunkGate  chan struct{} // tests: each chunk waits for a token
)

type chunkRec struct {
	meta     rdb.KeyMeta
	off, end int
}

// walkSnapshot writes the point-in-time image of every database to w:
// the key walk in chunks under s.mu, the writing off it, then the side map
// of keys changed meanwhile. BGSAVE, the AOF rewrite's base and the full
// sync payload all write their file through it.
func (s *Server) walkSnapshot(bg *bgSave, w *rdb.Writer) error {
	defer backgroundCPU()()
	var buf []byte
	var recs []chunkRec
	writeHeader(w, bg.opts)
	for i := range bg.dbs {
		d := &bg.dbs[i]
		if d.keys == 0 {
			continue
		}
		w.SelectDB(i)
		w.ResizeDB(uint64(d.keys), uint64(d.expires))
		for {
			if bgChunkGate != nil {
				<-bgChunkGate
			}
			s.mu.Lock()
			held := time.Now()
			if bg.aborted {
				s.mu.Unlock()
				return errBgAborted
			}
			if bg.err != nil {
				err := bg.err
				s.mu.Unlock()
				return err
			}
			buf, recs = buf[:0], recs[:0]
			var err error
			if !d.finished {
				buf, recs, err = s.bgScanChunk(bg, d, buf, recs)
			}
			var side map[string]*sideRec
			if d.finished && err == nil {
				side = d.side
			}
			bg.maxHold = max(bg.maxHold, time.Since(held))
			s.mu.Unlock()
			if err != nil {
				return err
			}
			for j := range recs {
				w.Key(&recs[j].meta, buf[recs[j].off:recs[j].end])
			}
			if side != nil {
				for _, r := range side {
					if !r.absent {
						w.Key(&r.meta, r.payload)
					}
				}
				break
			}
			if w.Err() != nil {
				return w.Err()
			}
		}
	}
	return w.Err()
}

// writeDatasetLocked writes every database to w in one go, with s.mu held
// (SAVE, and the AOF rewrite base taken under the lock).
func (s *Server) writeDatasetLocked(w *rdb.Writer, o *saveOpts) error {
	enc := &rdb.Encoder{Compress: o.compress}
	var payload []byte
	writeHeader(w, o)
	for i, db := range s.dbs {
		if db.Len() == 0 {
			continue
		}
		w.SelectDB(i)
		w.ResizeDB(uint64(db.Len()), uint64(db.ExpiresLen()))
		var err error
		db.Range(func(k string, e *keyspace.Entry) bool {
			if e.ExpiredAt(o.now) {
				return true
			}
			if payload, err = enc.AppendKey(payload[:0], []byte(k), e); err != nil {
				return false
			}
			m := s.keyMeta(e, o)
			w.Key(&m, payload)
			return w.Err() == nil
		})
		if err != nil {
			return err
		}
		if w.Err() != nil {
			return w.Err()
		}
	}
	return nil
}

func (s *Server) runBgsave(bg *bgSave) {
	defer close(bg.done)
	n, err := s.walkToFile(bg)
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := int64(time.Since(bg.start).Seconds())
	s.endWalk(bg)
	s.persist.lastCOW = bg.cowPeak
	s.persist.lastHold = bg.maxHold
	switch {
	case bg.aborted:
		s.log.Printf("Background saving terminated: abandoned")
	case err != nil:
		s.persist.bgErr = true
		s.persist.bgRan, s.persist.lastBgSecs = true, secs
		s.log.Printf("Background saving error: %v", err)
	default:
		s.persist.bgErr = false
		s.persist.bgRan, s.persist.lastBgSecs = true, secs
		s.persist.saves++
		s.stats.dirty -= bg.dirtyAtStart
		if s.stats.dirty < 0 {
			s.stats.dirty = 0
		}
		s.intro.lastSave = time.Now().Unix()
		s.log.Printf("Background saving terminated with success (%d bytes; %d bytes kept for changed keys; longest hold of the lock %v)",
			n, bg.cowPeak, bg.maxHold.Round(time.Microsecond))
	}
}

// bgScanChunk walks d for one chunk with s.mu held, appending key records
// to buf.
func (s *Server) bgScanChunk(bg *bgSave, d *bgDB, buf []byte, recs []chunkRec) ([]byte, []chunkRec, error) {
	start := time.Now()
	now := start.UnixMilli()
	var err error
	keys := 0
	for !d.finished && err == nil {
		prev := d.cursor
		d.cursor = d.db.Scan(d.cursor, func(k string, e *keyspace.Entry) {
			if err != nil || d.db.ScanPassedString(prev, k) {
				return // a bucket seen again after the table shrank
			}
			if _, ok := d.side[k]; ok || e.ExpiredAt(now) {
				return
			}
			off := len(buf)
			buf, err = bg.enc.AppendKey(buf, []byte(k), e)
			recs = append(recs, chunkRec{meta: s.keyMeta(e, bg.opts), off: off, end: len(buf)})
			keys++
		})
		if d.cursor == 0 {
			d.finished = true
		}
		if keys >= bgChunkKeys || len(buf) >= bgChunkBytes || (keys&63 == 0 && time.Since(start) > bgChunkTime) {
			break
		}
	}
	bg.keysDone += int64(keys)
	return buf, recs, err
}

// record keeps key's current state in db i's side map if the walk has not
// passed it yet.
func (bg *bgSave) record(s *Server, i int, key []byte) {
	if i < 0 || i >= len(bg.dbs) {
		return
	}
	d := &bg.dbs[i]
	if d.finished || d.db.ScanPassed(d.cursor, key) {
		return
	}
	if _, ok := d.side[string(key)]; ok {
		return
	}
	r := &sideRec{}
	if e := d.db.Get(key); e == nil || e.ExpiredAt(s.now) {
		r.absent = true
	} else {
		p, err := s.persist.dumpEnc.AppendKey(nil, key, e)
		if err != nil && bg.err == nil {
			bg.err = err
		}
		r.payload, r.meta = p, s.keyMeta(e, bg.opts)
	}
	d.side[string(key)] = r
	bg.cow += int64(len(r.payload)+len(key)) + sideOverhead
	bg.cowPeak = max(bg.cowPeak, bg.cow)
}

// materialize finishes the walk of db i under the lock, moving every key
// not yet written into the side map: FLUSHDB and SWAPDB are about to take
// the whole database away from under the walk.
func (bg *bgSave) materialize(s *Server, i int) {
	if i < 0 || i >= len(bg.dbs) {
		return
	}
	d := &bg.dbs[i]
	now := time.Now().UnixMilli()
	for !d.finished {
		prev := d.cursor
		d.cursor = d.db.Scan(d.cursor, func(k string, e *keyspace.Entry) {
			if d.db.ScanPassedString(prev, k) {
				return
			}
			if _, ok := d.side[k]; ok || e.ExpiredAt(now) {
				return
			}
			bg.record(s, i, []byte(k))
		})
		if d.cursor == 0 {
			d.finished = true
		}
	}
}

// bgBeforeWrite is s.beforeWrite while a BGSAVE runs: it runs before every
// write command, with the command's arguments in c.argv.
func (s *Server) bgBeforeWrite(c *Client, cmd *Command) {
	bg := s.persist.bg
	if bg == nil || bg.aborted {
		return
	}
	dbArg := func(b []byte) int {
		n, ok := parseInt(b)
		if !ok || n < 0 || n >= int64(len(s.dbs)) {
			return -1
		}
		return int(n)
	}
	switch cmd.Name {
	case "flushall":
		s.log.Printf("FLUSHALL during a background save: abandoning it")
		s.abortBgsave()
		return
	case "flushdb":
		bg.materialize(s, c.dbIndex)
		return
	case "swapdb":
		if len(c.argv) == 3 {
			bg.materialize(s, dbArg(c.argv[1]))
			bg.materialize(s, dbArg(c.argv[2]))
		}
		return
	case "move":
		if len(c.argv) == 3 {
			bg.record(s, dbArg(c.argv[2]), c.argv[1])
		}
	case "copy":
		for j := 3; j+1 < len(c.argv); j++ {
			if strings.EqualFold(string(c.argv[j]), "db") {
				bg.record(s, dbArg(c.argv[j+1]), c.argv[2])
			}
		}
	}
	for _, i := range cmd.keyIndexes(c.argv) {
		bg.record(s, c.dbIndex, c.argv[i])
	}
}

// LoadData loads dir/dbfilename at start, if it exists. A file that cannot
// be read completely is an error and nothing of it stays loaded: the
// caller should refuse to start, as Redis does. It may run before or after
// Start; after, clients get -LOADING until it is done.
func (s *Server) LoadData() error {
	if s.cfg.AppendOnly {
		// With the AOF on, the AOF is what gets loaded, as Redis does (aof.go).
		_, err := s.loadAOF()
		return err
	}
	path := s.rdbPath()
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("can't open the RDB file %s: %w", path, err)
	}
	defer f.Close()
	var size int64 = -1
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	if err := s.loadRDBLocked(f, size, true); err != nil {
		s.log.Printf("Error loading the RDB file %s: %v", path, err)
		return fmt.Errorf("loading %s: %w", path, err)
	}
	s.log.Printf("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	return nil
}

// rdbPath is dir/dbfilename.
func (s *Server) rdbPath() string { return filepath.Join(s.cfg.Dir, s.cfg.DBFilename) }

// reloadLocked is DEBUG RELOAD: save, empty every database, load the file
// back, all with s.mu held. (DEBUG RELOAD NOSAVE / NOFLUSH skip a step: use
// saveLocked and loadFileLocked directly.)
func (s *Server) reloadLocked() error {
	if err := s.saveLocked(); err != nil {
		return err
	}
	for i, db := range s.dbs {
		db.Clear()
		if i < len(s.expireCursors) {
			s.expireCursors[i] = 0
		}
	}
	return s.loadFileLocked(s.rdbPath())
}

// flushAllSave is what Redis's FLUSHALL does after emptying the data when
// save points are configured: abandon a running BGSAVE and write the (now
// empty) snapshot at once, so a restart does not bring the data back.
// Call it with s.mu held, after the databases were emptied.
func (s *Server) flushAllSave() {
	s.abortBgsave()
	if len(s.cfg.Save) > 0 {
		_ = s.saveLocked()
	}
}

// loadFileLocked loads an RDB file into the (empty) databases with s.mu
// held and without releasing it (DEBUG RELOAD).
func (s *Server) loadFileLocked(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64 = -1
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return s.loadRDBLocked(f, size, false)
}

// loadRDBLocked reads an RDB stream into the databases. With yield it
// releases s.mu every few thousand keys so clients get -LOADING replies
// instead of waiting. On error every database is emptied: a file is never
// left half loaded.
func (s *Server) loadRDBLocked(in io.Reader, size int64, yield bool) error {
	s.loading = true
	defer func() { s.loading = false }()
	now := time.Now().UnixMilli()
	lfu := strings.Contains(strings.ToLower(s.cfg.MaxmemoryPolicy), "lfu")
	lru := s.lruClock()
	opts := &rdb.Options{
		Limits: rdb.Limits{
			HashMaxListpackEntries: s.cfg.HashMaxListpackEntries,
			HashMaxListpackValue:   s.cfg.HashMaxListpackValue,
			SetMaxIntsetEntries:    s.cfg.SetMaxIntsetEntries,
			ZSetMaxListpackEntries: s.cfg.ZsetMaxListpackEntries,
			ZSetMaxListpackValue:   s.cfg.ZsetMaxListpackValue,
		},
		VerifyChecksum: s.cfg.RDBChecksum,
		Origins:        s.origins,
		Databases:      len(s.dbs),
		Logf:           s.log.Printf,
	}
	var loaded, expired int64
	info, err := rdb.Load(in, size, opts, func(r *rdb.Record) error {
		if yield && (loaded+expired)%4096 == 4095 {
			s.mu.Unlock()
			s.mu.Lock()
		}
		if r.Entry.Expire != 0 && r.Entry.Expire < now {
			s.activeExpired(r.DB, r.Key, r.Entry)
			expired++
			return nil
		}
		db := s.dbs[r.DB]
		e, isNew := db.Add(r.Key)
		if !isNew {
			return fmt.Errorf("duplicated key %q in DB %d", r.Key, r.DB)
		}
		at := r.Entry.Expire
		*e = r.Entry
		e.Expire = 0
		if at != 0 {
			db.SetExpire(r.Key, e, at)
		}
		e.Access = lru
		if lfu {
			if r.Freq >= 0 {
				e.Freq = uint8(r.Freq)
			}
		} else if r.Idle >= 0 {
			if idle := int64(lru) - r.Idle; idle > 0 {
				e.Access = uint32(idle)
			} else {
				e.Access = 0
			}
		}
		loaded++
		return nil
	})
	s.persist.loadLoaded, s.persist.loadExpired = loaded, expired
	if err != nil {
		for i := range s.dbs {
			s.dbs[i].Clear()
		}
		return err
	}
	s.clock.Restore(max(info.HLC, info.MaxStamp))
	s.activeLoadAux(info)
	s.act.lineage = lineageOf(info)
	s.persist.loadedReplID, s.persist.loadedReplOffset = info.ReplID, info.ReplOffset
	s.stats.dirty = 0
	s.log.Printf("Done loading RDB (format %d, %s), keys loaded: %d, keys expired: %d.",
		info.Version, info.Aux["redis-ver"], loaded, expired)
	return nil
}

// persistenceInfo writes the RDB lines of INFO's Persistence section, from
// "loading" to "rdb_last_load_keys_loaded", in Redis's order. The AOF lines
// (aof_enabled, aof_rewrite_in_progress, aof_last_write_status, ...) belong
// to the AOF; this state has nothing to add to them.
func (s *Server) persistenceInfo(w *infoWriter) {
	p := &s.persist
	bg := p.bg
	inProgress := bg != nil && !bg.aborted && !s.aofOwnsBg()
	var cow, processed, total, cur int64 = 0, 0, 0, -1
	perc := "0.00"
	if inProgress {
		cow, processed, total = bg.cow, bg.keysDone, bg.keysTotal
		cur = int64(time.Since(bg.start).Seconds())
		if total > 0 {
			perc = strconv.FormatFloat(float64(processed)*100/float64(total), 'f', 2, 64)
		}
	}
	w.int("loading", boolInt(s.loading))
	w.int("async_loading", 0)
	w.int("current_cow_peak", cow)
	w.int("current_cow_size", cow)
	w.int("current_cow_size_age", 0)
	w.str("current_fork_perc", perc)
	w.int("current_save_keys_processed", processed)
	w.int("current_save_keys_total", total)
	w.int("rdb_changes_since_last_save", s.stats.dirty)
	w.int("rdb_bgsave_in_progress", boolInt(inProgress))
	w.int("rdb_last_save_time", s.lastSaveTime())
	status := "ok"
	if p.bgErr {
		status = "err"
	}
	w.str("rdb_last_bgsave_status", status)
	last := int64(-1)
	if p.bgRan {
		last = p.lastBgSecs
	}
	w.int("rdb_last_bgsave_time_sec", last)
	w.int("rdb_current_bgsave_time_sec", cur)
	w.int("rdb_saves", p.saves)
	w.int("rdb_last_cow_size", p.lastCOW)
	w.int("rdb_last_load_keys_expired", p.loadExpired)
	w.int("rdb_last_load_keys_loaded", p.loadLoaded)
}

func registerPersistCommands(t table) {
	t.add(
		&Command{Name: "save", Proc: saveCmd, Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Group: "server"},
		&Command{Name: "bgsave", Proc: bgsaveCmd, Arity: -1, Flags: FlagAdmin | FlagNoScript, Group: "server"},
		&Command{Name: "lastsave", Proc: func(c *Client) { c.addInt(c.s.lastSaveTime()) }, Arity: 1,
			Flags: FlagLoading | FlagStale | FlagFast, Group: "server"},
		&Command{Name: "dump", Proc: dumpCmd, Arity: 2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic"},
		&Command{Name: "restore", Proc: restoreCmd, Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic"},
	)
}

func saveCmd(c *Client) {
	s := c.s
	if bg := s.persist.bg; bg != nil && !bg.aborted && !s.aofOwnsBg() {
		c.addError("ERR Background save already in progress")
		return
	}
	if err := s.saveLocked(); err != nil {
		c.addError("ERR")
		return
	}
	c.addOK()
}

func bgsaveCmd(c *Client) {
	s := c.s
	schedule := false
	if len(c.argv) > 1 {
		if len(c.argv) == 2 && strings.EqualFold(string(c.argv[1]), "schedule") {
			schedule = true
		} else {
			c.addError(errSyntax)
			return
		}
	}
	switch {
	case s.persist.bg != nil && !s.persist.bg.aborted && !s.aofOwnsBg():
		c.addError("ERR Background save already in progress")
	case s.persist.bg != nil || c.execing:
		// An abandoned save still winding down, or inside EXEC (Redis
		// never forks in the middle of a transaction): run it later.
		if schedule || c.execing {
			s.persist.bgScheduled = true
			c.addSimple("Background saving scheduled")
		} else {
			c.addError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
		}
	default:
		s.startBgsave()
		c.addSimple("Background saving started")
	}
}

// waitBgsave blocks until the running BGSAVE, if any, is over; s.mu must
// not be held. For tests and tools.
func (s *Server) waitBgsave() {
	s.mu.Lock()
	bg := s.persist.bg
	s.mu.Unlock()
	if bg != nil {
		<-bg.done
	}
}

// Background jobs (BGSAVE, an AOF rewrite, a full sync's snapshot) get a
// CPU of their own while they run, as Redis's forked child does: with
// io-threads 1 the Go runtime runs on one thread, and a walk serializing
// a million keys took turns with every client (pauses of 160 ms during a
// BGSAVE). The thread is given back when the last job ends.
var bgCPU struct {
	sync.Mutex
	jobs int
	prev int // GOMAXPROCS before the first job raised it (0: not raised)
}

func backgroundCPU() (release func()) {
	bgCPU.Lock()
	defer bgCPU.Unlock()
	if bgCPU.jobs == 0 {
		if cur := runtime.GOMAXPROCS(0); cur < runtime.NumCPU() {
			bgCPU.prev = cur
			runtime.GOMAXPROCS(cur + 1)
		}
	}
	bgCPU.jobs++
	return func() {
		bgCPU.Lock()
		defer bgCPU.Unlock()
		bgCPU.jobs--
		if bgCPU.jobs == 0 && bgCPU.prev > 0 {
			runtime.GOMAXPROCS(bgCPU.prev)
			bgCPU.prev = 0
		}
	}
}
