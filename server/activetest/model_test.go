package activetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The model checks the rule on random traffic. One client per side writes
// sequentially, so each side's writes to a key are stamped in the order
// they were acknowledged; the surviving state of a key is therefore the
// state right after the LAST write of the side whose origin FLUIDB STAMP
// names, and no acknowledged write of either side may carry a larger
// (stamp, origin) than the survivor. Half of the writes run inside
// MULTI between two FLUIDB STAMP reads, which gives their exact stamp; the
// others are plain commands whose stamp is not known.

type kref struct {
	db   int
	key  string
	kind byte // 's' integer string, 'b' binary string, 'h' hash, 'l' list, 'x' set
}

func (k kref) String() string { return fmt.Sprintf("db%d/%s", k.db, k.key) }

func soakKeys() []kref {
	var ks []kref
	add := func(db int, kind byte, n int) {
		for i := 0; i < n; i++ {
			ks = append(ks, kref{db, fmt.Sprintf("%c%d", kind, i), kind})
		}
	}
	add(0, 's', 6)
	add(0, 'b', 3)
	add(0, 'h', 3)
	add(0, 'l', 3)
	add(0, 'x', 3)
	add(3, 's', 2)
	add(3, 'h', 1)
	return ks
}

// expectFn says why a state does not match ("" when it does).
type expectFn func(keyState) string

// rec is one acknowledged command that wrote (definite) or may have
// written (a no-op reply: the server may or may not stamp it) a key.
type rec struct {
	desc     string
	known    bool // stamp known exactly
	stamp    stamp
	definite bool
	expect   expectFn
}

type model struct {
	mu   sync.Mutex
	keys []kref
	recs map[kref]*[2][]rec
	seq  [2]atomic.Int64 // values are unique over the whole test
	// counters for the log
	writes, noops, stampedNoops, errReplies int
}

func newModel(keys []kref) *model {
	m := &model{keys: keys, recs: map[kref]*[2][]rec{}}
	for _, k := range keys {
		m.recs[k] = &[2][]rec{}
	}
	return m
}

func (m *model) add(k kref, side int, r rec) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := &m.recs[k][side]
	if r.definite {
		// Earlier writes of this side are older than this one: only
		// this one and later maybes can survive.
		*l = (*l)[:0]
		m.writes++
	} else {
		m.noops++
	}
	*l = append(*l, r)
}

// writer drives one side.
type writer struct {
	side    int
	n       *node
	m       *model
	rng     *rand.Rand
	multi   float64 // share of writes run inside MULTI with FLUIDB STAMP
	id      string
	seq     int
	members map[kref][]string
}

func newWriter(side int, n *node, m *model, seed uint64, multi float64) *writer {
	return &writer{side: side, n: n, m: m, rng: rand.New(rand.NewPCG(seed, uint64(side))), multi: multi,
		id: n.uuid(), members: map[kref][]string{}}
}

// run writes until stop is closed; it returns the first failure.
func (w *writer) run(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := w.one(); err != nil {
			return err
		}
	}
}

func window(t0, t1, ms int64) expectFn {
	lo, hi := t0+ms-1, t1+ms+1
	return func(s keyState) string {
		if !s.exists || s.expire < lo || s.expire > hi {
			return fmt.Sprintf("want present, PEXPIRETIME in [%d, %d]", lo, hi)
		}
		return ""
	}
}

func both(fs ...expectFn) expectFn {
	return func(s keyState) string {
		for _, f := range fs {
			if msg := f(s); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func wantAbsentFn(s keyState) string {
	if s.exists {
		return "want absent"
	}
	return ""
}

func wantNoTTL(s keyState) string {
	if s.exists && s.expire != -1 {
		return "want no TTL"
	}
	return ""
}

func wantStr(v string) expectFn {
	return func(s keyState) string {
		if !s.exists || s.typ != "string" || s.str != v {
			return fmt.Sprintf("want string %q", v)
		}
		return ""
	}
}

// op is one command and what its reply says about the key afterwards:
// write false for a reply that says nothing changed.
type op struct {
	args    []any
	outcome func(reply any, t0, t1 int64) (write bool, expect expectFn)
}

func (w *writer) value() string {
	w.seq = int(w.m.seq[w.side].Add(1))
	return strconv.Itoa((w.side+1)*100_000_000 + w.seq)
}

func (w *writer) binValue() string {
	b := make([]byte, w.rng.IntN(300))
	for i := range b {
		b[i] = byte(w.rng.IntN(256))
	}
	return string(b) + w.value()
}

const soakTTL = 1000_000 // ms: nothing expires during a test

func (w *writer) pick(k kref) op {
	r := w.rng.IntN(100)
	common := func() op {
		switch {
		case r < 85:
			return op{[]any{"DEL", k.key}, func(rep any, _, _ int64) (bool, expectFn) {
				return rep == int64(1), wantAbsentFn
			}}
		case r < 95:
			return op{[]any{"PEXPIRE", k.key, soakTTL}, func(rep any, t0, t1 int64) (bool, expectFn) {
				if rep == int64(1) {
					return true, window(t0, t1, soakTTL)
				}
				return false, wantAbsentFn
			}}
		default:
			return op{[]any{"PERSIST", k.key}, func(rep any, _, _ int64) (bool, expectFn) {
				if rep == int64(1) {
					return true, func(s keyState) string {
						if !s.exists {
							return "want present"
						}
						return wantNoTTL(s)
					}
				}
				return false, wantNoTTL
			}}
		}
	}
	switch k.kind {
	case 's':
		v := w.value()
		switch {
		case r < 30:
			return op{[]any{"SET", k.key, v}, func(any, int64, int64) (bool, expectFn) {
				return true, both(wantStr(v), wantNoTTL)
			}}
		case r < 40:
			return op{[]any{"SET", k.key, v, "PX", soakTTL}, func(_ any, t0, t1 int64) (bool, expectFn) {
				return true, both(wantStr(v), window(t0, t1, soakTTL))
			}}
		case r < 50:
			return op{[]any{"SET", k.key, v, "KEEPTTL"}, func(any, int64, int64) (bool, expectFn) {
				return true, wantStr(v)
			}}
		case r < 70:
			return op{[]any{"INCR", k.key}, func(rep any, _, _ int64) (bool, expectFn) {
				return true, wantStr(fmt.Sprint(rep))
			}}
		}
	case 'b':
		if r < 60 {
			v := w.binValue()
			return op{[]any{"SET", k.key, v}, func(any, int64, int64) (bool, expectFn) {
				return true, both(wantStr(v), wantNoTTL)
			}}
		}
	case 'h':
		f := fmt.Sprintf("f%d", w.rng.IntN(4))
		switch {
		case r < 55:
			v := w.value()
			return op{[]any{"HSET", k.key, f, v}, func(any, int64, int64) (bool, expectFn) {
				return true, func(s keyState) string {
					if !s.exists || s.typ != "hash" || s.hash[f] != v {
						return fmt.Sprintf("want a hash with %s=%s", f, v)
					}
					return ""
				}
			}}
		case r < 70:
			return op{[]any{"HDEL", k.key, f}, func(rep any, _, _ int64) (bool, expectFn) {
				return rep == int64(1), func(s keyState) string {
					if _, ok := s.hash[f]; ok {
						return "want no field " + f
					}
					return ""
				}
			}}
		}
	case 'l':
		e := w.value()
		switch {
		case r < 45:
			return op{[]any{"LPUSH", k.key, e}, func(rep any, _, _ int64) (bool, expectFn) {
				n, _ := rep.(int64)
				return true, func(s keyState) string {
					if !s.exists || s.typ != "list" || int64(len(s.list)) != n || s.list[0] != e {
						return fmt.Sprintf("want a list of %d starting with %s", n, e)
					}
					return ""
				}
			}}
		case r < 70:
			return op{[]any{"RPUSH", k.key, e}, func(rep any, _, _ int64) (bool, expectFn) {
				n, _ := rep.(int64)
				return true, func(s keyState) string {
					if !s.exists || s.typ != "list" || int64(len(s.list)) != n || s.list[n-1] != e {
						return fmt.Sprintf("want a list of %d ending with %s", n, e)
					}
					return ""
				}
			}}
		}
	case 'x':
		switch {
		case r < 50:
			m := w.value()
			return op{[]any{"SADD", k.key, m}, func(rep any, _, _ int64) (bool, expectFn) {
				if rep == int64(1) {
					w.members[k] = append(w.members[k], m)
				}
				return rep == int64(1), func(s keyState) string {
					if !s.exists || s.typ != "set" || !s.set[m] {
						return "want a set with " + m
					}
					return ""
				}
			}}
		case r < 70 && len(w.members[k]) > 0:
			ms := w.members[k]
			m := ms[w.rng.IntN(len(ms))]
			return op{[]any{"SREM", k.key, m}, func(rep any, _, _ int64) (bool, expectFn) {
				return rep == int64(1), func(s keyState) string {
					if s.set[m] {
						return "want no member " + m
					}
					return ""
				}
			}}
		}
	}
	return common()
}

// isReplyError tells a server's error reply from a failure to talk to it.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.Nil)
}

// expectedError: the only error replies random traffic may get are those
// of a command meeting a key of another type or a non-integer (nothing is
// written then). LOADING, MASTERDOWN, READONLY and the like are failures:
// an active node serves writes whatever its links do.
func expectedError(err error) bool {
	if !isReplyError(err) {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "WRONGTYPE ") || msg == "ERR value is not an integer or out of range"
}

func (w *writer) one() error {
	k := w.m.keys[w.rng.IntN(len(w.m.keys))]
	o := w.pick(k)
	c := w.n.db(k.db)
	desc := fmt.Sprintf("%c#%d %q", "AB"[w.side], w.seq, o.args)
	if w.rng.Float64() >= w.multi {
		t0 := time.Now().UnixMilli()
		rep, err := c.Do(ctx, o.args...).Result()
		t1 := time.Now().UnixMilli()
		if errors.Is(err, redis.Nil) {
			rep, err = nil, nil
		}
		if err != nil {
			if expectedError(err) {
				w.m.mu.Lock()
				w.m.errReplies++
				w.m.mu.Unlock()
				return nil // WRONGTYPE and friends: nothing written
			}
			return fmt.Errorf("%s on %s: %v", desc, w.n.name, err)
		}
		write, expect := o.outcome(rep, t0, t1)
		w.m.add(k, w.side, rec{desc: desc, definite: write, expect: expect})
		return nil
	}
	t0 := time.Now().UnixMilli()
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "FLUIDB", "STAMP", k.key)
		p.Do(ctx, o.args...)
		p.Do(ctx, "FLUIDB", "STAMP", k.key)
		return nil
	})
	t1 := time.Now().UnixMilli()
	if err != nil && !expectedError(err) && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("MULTI %s on %s: %v", desc, w.n.name, err)
	}
	if len(cmds) != 3 {
		return fmt.Errorf("MULTI %s on %s: %d replies", desc, w.n.name, len(cmds))
	}
	var st [2]stamp
	for i, j := range []int{0, 2} {
		v, err := cmds[j].(*redis.Cmd).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("FLUIDB STAMP in MULTI %s on %s: %v", desc, w.n.name, err)
		}
		if st[i], err = parseStamp(v); err != nil {
			return fmt.Errorf("MULTI %s on %s: %v", desc, w.n.name, err)
		}
	}
	stamped := st[1] != st[0]
	if stamped && (st[1].origin != w.id || !st[0].less(st[1])) {
		return fmt.Errorf("MULTI %s on %s: the key's stamp went from %v to %v; want a larger stamp from %s",
			desc, w.n.name, st[0], st[1], w.id)
	}
	rep, err := cmds[1].(*redis.Cmd).Result()
	if errors.Is(err, redis.Nil) {
		rep, err = nil, nil
	}
	if err != nil {
		if stamped {
			return fmt.Errorf("MULTI %s on %s: an error reply (%v) stamped the key %v", desc, w.n.name, err, st[1])
		}
		if !expectedError(err) {
			return fmt.Errorf("MULTI %s on %s: %v", desc, w.n.name, err)
		}
		w.m.mu.Lock()
		w.m.errReplies++
		w.m.mu.Unlock()
		return nil
	}
	write, expect := o.outcome(rep, t0, t1)
	switch {
	case write && !stamped:
		return fmt.Errorf("MULTI %s on %s: reply %v (a write) but the key's stamp stayed %v", desc, w.n.name, rep, st[0])
	case !write && stamped:
		w.m.mu.Lock()
		w.m.stampedNoops++
		w.m.mu.Unlock()
	}
	if stamped {
		w.m.add(k, w.side, rec{desc: desc, known: true, stamp: st[1], definite: true, expect: expect})
	}
	return nil
}

// check compares both nodes with the model once the writes have stopped
// and the nodes have converged; it returns what is wrong.
func (m *model) check(p *pair) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var bad []string
	known := map[string]bool{}
	for _, k := range m.keys {
		known[fmt.Sprintf("db%d/%q", k.db, k.key)] = true
		var sts [2]stamp
		var kss [2]keyState
		for i, n := range p.nodes() {
			s, err := n.stampOf(k.db, k.key)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%v: FLUIDB STAMP on %s: %v", k, n.name, err))
				continue
			}
			ks, err := readKey(n.db(k.db), k.key)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%v: read on %s: %v", k, n.name, err))
				continue
			}
			sts[i], kss[i] = s, ks
		}
		if kss[0].String() != kss[1].String() {
			bad = append(bad, fmt.Sprintf("%v: A holds %s, B holds %s", k, kss[0], kss[1]))
		}
		ks := kss[0]
		recs := m.recs[k]
		history := func() string {
			return fmt.Sprintf("\n    last writes of A: %s\n    last writes of B: %s", descRecs(recs[0]), descRecs(recs[1]))
		}
		if sts[0].seen && sts[1].seen && sts[0] != sts[1] {
			bad = append(bad, fmt.Sprintf("%v: stamp %v on A, %v on B (key %s)%s", k, sts[0], sts[1], ks, history()))
		}
		s := sts[0]
		if !s.seen {
			s = sts[1]
		}
		if !s.seen {
			// Never written, or a collected tombstone.
			if ks.exists {
				bad = append(bad, fmt.Sprintf("%v: %s without a stamp", k, ks))
				continue
			}
			if len(recs[0])+len(recs[1]) > 0 && !anyAccepts(recs[0], ks) && !anyAccepts(recs[1], ks) {
				bad = append(bad, fmt.Sprintf("%v: absent, but no side's last write deleted it%s", k, history()))
			}
			continue
		}
		if (s.state == "live") != ks.exists {
			bad = append(bad, fmt.Sprintf("%v: stamp %v but the key is %s", k, s, ks))
		}
		side := -1
		switch {
		case p.a.ownsUUID(s.origin):
			side = 0
		case p.b.ownsUUID(s.origin):
			side = 1
		default:
			bad = append(bad, fmt.Sprintf("%v: stamp %v from no known node (A %v, B %v)", k, s, p.a.uuids, p.b.uuids))
			continue
		}
		for sd := 0; sd < 2; sd++ {
			for _, r := range recs[sd] {
				if r.known && s.less(r.stamp) {
					bad = append(bad, fmt.Sprintf("%v: acknowledged write %s with stamp %v lost to %v, now %s%s",
						k, r.desc, r.stamp, s, ks, history()))
				}
			}
		}
		mine := recs[side]
		if len(mine) == 0 {
			bad = append(bad, fmt.Sprintf("%v: stamp %v from %c, which has no such write%s", k, s, "AB"[side], history()))
			continue
		}
		found := false
		for _, r := range mine {
			if r.known && r.stamp == s {
				found = true
				if msg := r.expect(ks); msg != "" {
					bad = append(bad, fmt.Sprintf("%v: survivor %s (stamp %v): %s, got %s%s", k, r.desc, s, msg, ks, history()))
				}
			}
		}
		if !found {
			ok := false
			for _, r := range mine {
				if !r.known && r.expect(ks) == "" {
					ok = true
				}
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%v: %s with stamp %v from %c matches none of %c's last writes%s",
					k, ks, s, "AB"[side], "AB"[side], history()))
			}
		}
	}
	// Nothing but the model's keys may exist.
	if d, err := dumpNode(p.a.addr(), p.a.pass, false); err != nil {
		bad = append(bad, fmt.Sprintf("dump A: %v", err))
	} else {
		var extra []string
		for k := range d {
			if !known[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			bad = append(bad, fmt.Sprintf("keys nobody wrote: %q", extra))
		}
	}
	return bad
}

func anyAccepts(rs []rec, ks keyState) bool {
	for _, r := range rs {
		if r.expect(ks) == "" {
			return true
		}
	}
	return false
}

func descRecs(rs []rec) string {
	if len(rs) == 0 {
		return "(none)"
	}
	var out string
	for _, r := range rs {
		st := "stamp unknown"
		if r.known {
			st = r.stamp.String()
		}
		kind := "write"
		if !r.definite {
			kind = "no-op"
		}
		out += fmt.Sprintf("%s [%s, %s]; ", r.desc, kind, st)
	}
	return out
}
