package keyspace

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"unsafe"
)

// Dict is a chained hash table with incremental rehashing and a
// reverse-binary scan cursor, the same contract Redis's dict gives SCAN:
// an element present for the whole iteration is returned at least once,
// however the table grows or shrinks meanwhile. Go maps cannot offer that
// (no resumable cursor, no cheap random element), which is why the keyspace
// and the collection types use this instead.
//
// Values live inside the node, so Get returns a pointer that stays valid
// until the key is deleted; handlers mutate entries in place.
type Dict[V any] struct {
	seed      maphash.Seed
	tables    [2][]*dictNode[V]
	used      [2]int
	rehashIdx int // -1 when not rehashing
	iterators int // safe iterators running: rehash steps pause
}

type dictNode[V any] struct {
	next *dictNode[V]
	key  string
	// kbuf holds a short key inside the node itself (key then points
	// here): one allocation instead of two, and comparing the key reads
	// the cache line the lookup has just loaded instead of another one
	// (profiles of SET on 100k random keys: the separate key bytes were
	// a cache miss per lookup).
	kbuf [inlineKey]byte
	val  V
}

// inlineKey is the longest key kept inside its node.
const inlineKey = 16

// newNode returns a node for key, holding key inline when it is short. A
// longer key is kept as it is, or copied first when the caller's string
// only borrows its bytes (copyLong).
func newNode[V any](key string, copyLong bool) *dictNode[V] {
	nd := &dictNode[V]{}
	switch n := len(key); {
	case n > 0 && n <= inlineKey:
		copy(nd.kbuf[:], key)
		nd.key = unsafe.String(&nd.kbuf[0], n)
	case copyLong:
		nd.key = strings.Clone(key)
	default:
		nd.key = key
	}
	return nd
}

// borrow views b as a string without copying, for lookups that do not
// keep it.
func borrow(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

const dictMinSize = 4

// NewDict returns an empty dict. The seed is shared so that a process can
// compare hashes across dicts cheaply; it is random per process.
func NewDict[V any]() *Dict[V] {
	return &Dict[V]{seed: processSeed, rehashIdx: -1}
}

var processSeed = maphash.MakeSeed()

// Len is the number of elements.
func (d *Dict[V]) Len() int { return d.used[0] + d.used[1] }

func (d *Dict[V]) hashString(k string) uint64 { return maphash.String(d.seed, k) }
func (d *Dict[V]) hashBytes(k []byte) uint64  { return maphash.Bytes(d.seed, k) }

func (d *Dict[V]) rehashing() bool { return d.rehashIdx >= 0 }

// rehashStep moves up to n buckets from the old table to the new one. Each
// mutating call does a little of it, so no single command pays for a whole
// table copy.
func (d *Dict[V]) rehashStep(n int) {
	if !d.rehashing() || d.iterators > 0 {
		return
	}
	empty := n * 10
	t0 := d.tables[0]
	for n > 0 && d.used[0] > 0 {
		for t0[d.rehashIdx] == nil {
			d.rehashIdx++
			empty--
			if empty == 0 {
				return
			}
		}
		nd := t0[d.rehashIdx]
		mask := uint64(len(d.tables[1]) - 1)
		for nd != nil {
			next := nd.next
			idx := d.hashString(nd.key) & mask
			nd.next = d.tables[1][idx]
			d.tables[1][idx] = nd
			d.used[0]--
			d.used[1]++
			nd = next
		}
		t0[d.rehashIdx] = nil
		d.rehashIdx++
		n--
	}
	if d.used[0] == 0 {
		d.tables[0] = d.tables[1]
		d.used[0] = d.used[1]
		d.tables[1] = nil
		d.used[1] = 0
		d.rehashIdx = -1
	}
}

// RehashSome moves up to n buckets and reports whether a rehash is still
// in progress.
func (d *Dict[V]) RehashSome(n int) bool {
	d.rehashStep(n)
	return d.rehashing()
}

// Rehashing reports whether the dict is moving to a new table.
func (d *Dict[V]) Rehashing() bool { return d.rehashing() }

func nextPow2(n int) int {
	if n < dictMinSize {
		return dictMinSize
	}
	return 1 << bits.Len(uint(n-1))
}

func (d *Dict[V]) resize(size int) {
	size = nextPow2(size)
	if d.rehashing() {
		return
	}
	if len(d.tables[0]) == size {
		return
	}
	nt := make([]*dictNode[V], size)
	if d.tables[0] == nil {
		d.tables[0] = nt
		return
	}
	d.tables[1] = nt
	d.rehashIdx = 0
}

func (d *Dict[V]) expandIfNeeded() {
	if d.rehashing() {
		return
	}
	if len(d.tables[0]) == 0 {
		d.resize(dictMinSize)
		return
	}
	if d.used[0] >= len(d.tables[0]) {
		d.resize(d.used[0] * 2)
	}
}

// shrinkIfNeeded keeps sparse tables from holding memory after mass deletes
// (Redis does the same from its cron; doing it inline is simpler and the
// rehash is incremental anyway).
func (d *Dict[V]) shrinkIfNeeded() {
	if d.rehashing() || d.iterators > 0 {
		return
	}
	size := len(d.tables[0])
	if size > dictMinSize && d.used[0]*10 < size {
		d.resize(d.used[0])
	}
}

func (d *Dict[V]) find(h uint64, match func(string) bool) *dictNode[V] {
	if d.Len() == 0 {
		return nil
	}
	for t := 0; t < 2; t++ {
		tab := d.tables[t]
		if len(tab) == 0 {
			break
		}
		idx := h & uint64(len(tab)-1)
		if t == 0 && d.rehashing() && int(idx) < d.rehashIdx {
			continue
		}
		for nd := tab[idx]; nd != nil; nd = nd.next {
			if match(nd.key) {
				return nd
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// Get returns a pointer to the value of key, or nil.
func (d *Dict[V]) Get(key string) *V {
	if d.Len() == 0 {
		return nil
	}
	return d.getHashed(d.hashString(key), key)
}

// GetBytes is Get for a key held as bytes, without converting it to a string.
func (d *Dict[V]) GetBytes(key []byte) *V {
	if d.Len() == 0 {
		return nil
	}
	return d.getHashed(d.hashBytes(key), borrow(key))
}

// getHashed looks key up with its hash already computed.
func (d *Dict[V]) getHashed(h uint64, key string) *V {
	for t := 0; t < 2; t++ {
		tab := d.tables[t]
		if len(tab) == 0 {
			break
		}
		idx := h & uint64(len(tab)-1)
		if !(t == 0 && d.rehashing() && int(idx) < d.rehashIdx) {
			for nd := tab[idx]; nd != nil; nd = nd.next {
				if nd.key == key {
					return &nd.val
				}
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return nil
}

// KeyOf returns the dict's own copy of key (so callers can keep a string
// without allocating a new one), or "" and false.
func (d *Dict[V]) KeyOf(key []byte) (string, bool) {
	nd := d.find(d.hashBytes(key), func(s string) bool { return s == string(key) })
	if nd == nil {
		return "", false
	}
	return nd.key, true
}

// Set stores v under key, replacing any value. It returns a pointer to the
// stored value and whether the key was new.
func (d *Dict[V]) Set(key string, v V) (*V, bool) {
	p, isNew := d.Upsert(key)
	*p = v
	return p, isNew
}

// Upsert returns a pointer to key's value, inserting a zero value first when
// the key is absent. Callers fill the value in place, saving a copy.
func (d *Dict[V]) Upsert(key string) (*V, bool) {
	return d.upsert(d.hashString(key), key, false)
}

// UpsertBytes is Upsert for a key held as bytes: a short key is copied
// into its node, a long one into a string of its own, only when it is new.
func (d *Dict[V]) UpsertBytes(key []byte) (*V, bool) {
	return d.upsert(d.hashBytes(key), borrow(key), true)
}

// upsert is Upsert with the hash computed once for the lookup and the
// insertion.
func (d *Dict[V]) upsert(h uint64, key string, copyLong bool) (*V, bool) {
	d.rehashStep(1)
	if p := d.getHashed(h, key); p != nil {
		return p, false
	}
	return d.insert(h, newNode[V](key, copyLong)), true
}

// insert links a new node into the table that takes new keys.
func (d *Dict[V]) insert(h uint64, nd *dictNode[V]) *V {
	d.expandIfNeeded()
	t := 0
	if d.rehashing() {
		t = 1
	}
	tab := d.tables[t]
	idx := h & uint64(len(tab)-1)
	nd.next = tab[idx]
	tab[idx] = nd
	d.used[t]++
	return &nd.val
}

// Delete removes key and returns its value.
func (d *Dict[V]) Delete(key string) (V, bool) {
	var zero V
	if d.Len() == 0 {
		return zero, false
	}
	d.rehashStep(1)
	h := d.hashString(key)
	for t := 0; t < 2; t++ {
		tab := d.tables[t]
		if len(tab) == 0 {
			break
		}
		idx := h & uint64(len(tab)-1)
		if !(t == 0 && d.rehashing() && int(idx) < d.rehashIdx) {
			var prev *dictNode[V]
			for nd := tab[idx]; nd != nil; nd = nd.next {
				if nd.key == key {
					if prev == nil {
						tab[idx] = nd.next
					} else {
						prev.next = nd.next
					}
					d.used[t]--
					v := nd.val
					nd.next = nil
					d.shrinkIfNeeded()
					return v, true
				}
				prev = nd
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return zero, false
}

// Clear empties the dict.
func (d *Dict[V]) Clear() {
	d.tables = [2][]*dictNode[V]{}
	d.used = [2]int{}
	d.rehashIdx = -1
}

// Range calls fn for every element until fn returns false. fn must not
// add or delete elements; use Scan for that.
func (d *Dict[V]) Range(fn func(key string, v *V) bool) {
	d.iterators++
	defer func() { d.iterators-- }()
	for t := 0; t < 2; t++ {
		for _, nd := range d.tables[t] {
			for ; nd != nil; nd = nd.next {
				if !fn(nd.key, &nd.val) {
					return
				}
			}
		}
	}
}

// Keys returns every key (in table order).
func (d *Dict[V]) Keys() []string {
	out := make([]string, 0, d.Len())
	d.Range(func(k string, _ *V) bool { out = append(out, k); return true })
	return out
}

// rev reverses the bits of v.
func rev(v uint64) uint64 { return bits.Reverse64(v) }

// Scan visits the bucket(s) named by cursor and returns the next cursor, 0
// when the iteration is complete. The cursor increments its reversed bits,
// so buckets already visited are not visited again when the table grows,
// and at most re-visited when it shrinks (Redis's dictScan contract).
// fn may delete the element it is given but must not add elements.
func (d *Dict[V]) Scan(cursor uint64, fn func(key string, v *V)) uint64 {
	if d.Len() == 0 {
		return 0
	}
	d.iterators++
	defer func() { d.iterators-- }()
	visit := func(tab []*dictNode[V], idx uint64) {
		for nd := tab[idx]; nd != nil; {
			next := nd.next
			fn(nd.key, &nd.val)
			nd = next
		}
	}
	if !d.rehashing() {
		t := d.tables[0]
		m := uint64(len(t) - 1)
		visit(t, cursor&m)
		cursor |= ^m
		cursor = rev(cursor)
		cursor++
		cursor = rev(cursor)
		return cursor
	}
	small, large := d.tables[0], d.tables[1]
	if len(small) > len(large) {
		small, large = large, small
	}
	m0, m1 := uint64(len(small)-1), uint64(len(large)-1)
	visit(small, cursor&m0)
	for {
		visit(large, cursor&m1)
		cursor |= ^m1
		cursor = rev(cursor)
		cursor++
		cursor = rev(cursor)
		if cursor&(m0^m1) == 0 {
			break
		}
	}
	return cursor
}

// RandomKey returns a random element, choosing a random non-empty bucket
// then a random node in its chain (Redis's dictGetRandomKey). r must return
// uniformly distributed 64-bit values.
func (d *Dict[V]) RandomKey(r func() uint64) (string, *V, bool) {
	if d.Len() == 0 {
		return "", nil, false
	}
	d.rehashStep(1)
	var nd *dictNode[V]
	for nd == nil {
		if d.rehashing() {
			s0 := uint64(len(d.tables[0]))
			total := s0 + uint64(len(d.tables[1]))
			i := uint64(d.rehashIdx) + r()%(total-uint64(d.rehashIdx))
			if i >= s0 {
				nd = d.tables[1][i-s0]
			} else {
				nd = d.tables[0][i]
			}
		} else {
			t := d.tables[0]
			nd = t[r()&uint64(len(t)-1)]
		}
	}
	n := 0
	for p := nd; p != nil; p = p.next {
		n++
	}
	k := int(r() % uint64(n))
	for ; k > 0; k-- {
		nd = nd.next
	}
	return nd.key, &nd.val, true
}

// Warm loads the table slots and the first nodes of keys, all slots first
// and then all nodes, so that the processor overlaps the cache misses that
// the lookups of a pipelined batch would otherwise take one after another.
// It changes nothing; the lookups that follow find their lines in the
// cache. It returns a value only so that the loads cannot be optimized away.
//
//go:noinline
func (d *Dict[V]) Warm(keys [][]byte) int {
	if d.Len() == 0 || len(keys) == 0 {
		return 0
	}
	var nodes [WarmMax]*dictNode[V]
	t0, t1 := d.tables[0], d.tables[1]
	mask0, mask1 := uint64(len(t0)-1), uint64(len(t1)-1)
	moved := 0 // buckets of t0 below this index have moved to t1
	if d.rehashing() {
		moved = d.rehashIdx
	}
	n := min(len(keys), WarmMax)
	for i := 0; i < n; i++ {
		h := d.hashBytes(keys[i])
		if idx := h & mask0; int(idx) >= moved {
			nodes[i] = t0[idx]
		} else {
			nodes[i] = t1[h&mask1]
		}
	}
	acc := 0
	for i := 0; i < n; i++ {
		if nd := nodes[i]; nd != nil {
			// The key (first line) and the node's last byte (the value's
			// line, when the node spans two).
			acc += len(nd.key) + int(*(*byte)(unsafe.Add(unsafe.Pointer(nd), unsafe.Sizeof(*nd)-1)))
		}
	}
	return acc
}

// WarmMax is the most keys one Warm call takes.
const WarmMax = 32
