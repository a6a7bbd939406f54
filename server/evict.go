package server

import (
	"runtime/metrics"

	"github.com/fluidb/fluidb/server/keyspace"
)

// maxmemory and eviction (Redis's evict.c, in spirit).
//
// Go frees memory only when the garbage collector runs, so the heap size
// read right after deleting keys still counts them. Eviction therefore
// estimates what each evicted key held and subtracts it from the measured
// heap until the next GC cycle shows the real figure; without that, one
// burst over the limit would evict far too much.

const lfuInitVal = 5

type evictState struct {
	samples     []metrics.Sample
	lastReadMs  int64
	heapBytes   int64
	gcCycles    uint64
	freedSinceG int64 // estimated bytes evicted since the last GC cycle
}

func (e *evictState) init() {
	e.samples = []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
}

// memoryForEviction is the heap in use by live and not yet collected objects,
// less what eviction freed since the last GC. It is re-read at most once a
// millisecond: reading runtime metrics on every command would show up.
func (s *Server) memoryForEviction() int64 {
	ev := &s.evict
	if ev.samples == nil {
		ev.init()
	}
	if ev.lastReadMs != s.now || ev.heapBytes == 0 {
		metrics.Read(ev.samples)
		ev.heapBytes = int64(ev.samples[0].Value.Uint64())
		if c := ev.samples[1].Value.Uint64(); c != ev.gcCycles {
			ev.gcCycles = c
			ev.freedSinceG = 0
		}
		ev.lastReadMs = s.now
	}
	used := ev.heapBytes - ev.freedSinceG
	if used < 0 {
		used = 0
	}
	return used
}

// performEvictions frees keys per maxmemory-policy until the memory in use
// is under maxmemory. It reports false when that could not be reached
// (noeviction, or nothing left to evict).
func (s *Server) performEvictions() bool {
	max := s.cfg.Maxmemory
	if max <= 0 || (s.replPlainReplica() && s.cfg.ReplicaIgnoreMaxmemory) {
		// A plain replica leaves evictions to its master, whose DELs
		// arrive in the stream (replica-ignore-maxmemory, as Redis).
		return true
	}
	policy := s.cfg.MaxmemoryPolicy
	for guard := 0; guard < 1_000_000; guard++ {
		used := s.memoryForEviction()
		if used <= max {
			return true
		}
		if policy == "noeviction" {
			return false
		}
		db, key, ok := s.evictionCandidate(policy)
		if !ok {
			return false
		}
		e := db.GetString(key)
		if e == nil {
			continue
		}
		freed := estimateSize(key, e)
		kb := []byte(key)
		db.Delete(kb)
		s.evict.freedSinceG += freed
		s.stats.evictedKeys++
		s.modified(db, kb, nil)
		s.notify(notifyEvicted, "evicted", kb, db.ID)
		s.alsoPropagate(db.ID, []byte("DEL"), kb)
	}
	return false
}

// evictionCandidate samples maxmemory-samples keys in each database and
// returns the best one to evict under policy.
func (s *Server) evictionCandidate(policy string) (*keyspace.DB, string, bool) {
	volatile := len(policy) > 8 && policy[:8] == "volatile"
	samples := s.cfg.MaxmemorySamples
	if samples <= 0 {
		samples = 5
	}
	var bestDB *keyspace.DB
	bestKey := ""
	var bestScore int64
	found := false
	for _, db := range s.dbs {
		n := db.Len()
		if volatile {
			n = db.ExpiresLen()
		}
		if n == 0 {
			continue
		}
		for i := 0; i < samples; i++ {
			var key string
			var e *keyspace.Entry
			var ok bool
			if volatile {
				key, e, ok = db.RandomVolatileKey(s.randUint64)
			} else {
				key, e, ok = db.RandomKey(s.randUint64)
			}
			if !ok {
				break
			}
			var score int64 // lower is evicted first
			switch policy {
			case "allkeys-lru", "volatile-lru":
				score = int64(e.Access)
			case "allkeys-lfu", "volatile-lfu":
				score = int64(s.lfuDecayed(e))
			case "volatile-ttl":
				score = e.Expire
			default: // random
				score = int64(s.randUint64() >> 1)
			}
			if !found || score < bestScore {
				bestDB, bestKey, bestScore, found = db, key, score, true
			}
			if policy == "allkeys-random" || policy == "volatile-random" {
				break
			}
		}
	}
	return bestDB, bestKey, found
}

// estimateSize approximates the heap bytes a key holds, for eviction's
// bookkeeping between GC cycles.
func estimateSize(key string, e *keyspace.Entry) int64 {
	const entryOverhead = 96
	n := int64(len(key)) + entryOverhead + int64(cap(e.Str))
	switch v := e.Obj.(type) {
	case *keyspace.List:
		v.Range(false, func(_ int, b []byte) bool { n += int64(len(b)) + 24; return true })
	case *keyspace.Hash:
		v.Each(func(f string, val []byte) bool { n += int64(len(f)+len(val)) + 56; return true })
	case *keyspace.Set:
		v.Each(func(m string) bool { n += int64(len(m)) + 40; return true })
	case *keyspace.ZSet:
		n += int64(v.Len()) * 96
	}
	return n
}

// touchAccess updates a key's LRU clock or LFU counter on access.
func (s *Server) touchAccess(e *keyspace.Entry) {
	if s.lfuPolicy() {
		e.Freq = s.lfuDecayed(e)
		e.Freq = s.lfuIncr(e.Freq)
	}
	e.Access = s.lruClock()
}

// lfuDecayed applies lfu-decay-time: one point off per period elapsed
// since the key was last touched.
func (s *Server) lfuDecayed(e *keyspace.Entry) uint8 {
	period := int64(s.cfg.LFUDecayTime) * 60
	if period <= 0 {
		return e.Freq
	}
	elapsed := int64(s.lruClock()) - int64(e.Access)
	if elapsed <= 0 {
		return e.Freq
	}
	dec := elapsed / period
	if dec >= int64(e.Freq) {
		return 0
	}
	return e.Freq - uint8(dec)
}

// lfuIncr is Redis's logarithmic counter: the higher the counter, the less
// likely an access increments it.
func (s *Server) lfuIncr(f uint8) uint8 {
	if f == 255 {
		return 255
	}
	r := float64(s.randUint64()>>11) / float64(1<<53)
	base := float64(f) - lfuInitVal
	if base < 0 {
		base = 0
	}
	p := 1.0 / (base*float64(s.cfg.LFULogFactor) + 1)
	if r < p {
		f++
	}
	return f
}
