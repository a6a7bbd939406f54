package keyspace

import (
	"sort"
	"strconv"
)

// Hash is a hash value: field -> value. The fields always live in the
// embedded Dict (lookups, SCAN cursors); while the hash is small enough for
// Redis to keep it as a listpack, order also records the insertion order, so
// HGETALL and friends answer in the order Redis would and random picks are
// uniform. Big records that the hash outgrew the listpack limits (Redis never
// converts back), so OBJECT ENCODING answers as Redis would.
//
// Writers go through Put and Del, which keep order in step; code that only
// reads may use the Dict methods directly.
type Hash struct {
	Dict[[]byte]
	Big   bool
	order []string // listpack order while !Big; shares the dict's key strings
}

// NewHash returns an empty (listpack) hash.
func NewHash() *Hash { return &Hash{Dict: *NewDict[[]byte]()} }

// Encoding is what OBJECT ENCODING reports for the hash.
func (h *Hash) Encoding() string {
	if h.Big {
		return "hashtable"
	}
	return "listpack"
}

// ordered says whether order is usable. It is false for hashtables, and
// also if someone wrote through the Dict directly (then the dict order is
// used, which is still correct, only not Redis's order).
func (h *Hash) ordered() bool { return !h.Big && len(h.order) == h.Len() }

// Put stores val (not copied) under field and reports whether the field is
// new. It does not convert: callers check the limits (see Fit, or the
// per-command checks in the server), because Redis checks lengths before
// writing and the entry count after.
func (h *Hash) Put(field, val []byte) bool {
	if p := h.GetBytes(field); p != nil {
		*p = val
		return false
	}
	wasOrdered := h.ordered()
	k := string(field)
	h.Dict.Set(k, val)
	if wasOrdered {
		h.order = append(h.order, k)
	}
	return true
}

// Del removes field and reports whether it was there.
func (h *Hash) Del(field []byte) bool {
	k, ok := h.KeyOf(field)
	if !ok {
		return false
	}
	wasOrdered := h.ordered()
	h.Dict.Delete(k)
	if wasOrdered {
		for i, f := range h.order {
			if f == k {
				copy(h.order[i:], h.order[i+1:])
				h.order[len(h.order)-1] = ""
				h.order = h.order[:len(h.order)-1]
				break
			}
		}
	}
	return true
}

// Convert turns the hash into a hashtable for good.
func (h *Hash) Convert() {
	h.Big = true
	h.order = nil
}

// Fit converts the hash when it breaks the listpack limits
// (hash-max-listpack-entries / -value); loaders call it after filling a hash.
func (h *Hash) Fit(maxEntries, maxValue int64) {
	if h.Big {
		return
	}
	if int64(h.Len()) > maxEntries {
		h.Convert()
		return
	}
	h.Range(func(k string, v *[]byte) bool {
		if int64(len(k)) > maxValue || int64(len(*v)) > maxValue {
			h.Convert()
			return false
		}
		return true
	})
}

// Each calls fn for every field in Redis's iteration order (insertion order
// for a listpack) until fn returns false. fn must not modify the hash.
func (h *Hash) Each(fn func(field string, val []byte) bool) {
	if h.ordered() {
		for _, k := range h.order {
			if !fn(k, *h.Get(k)) {
				return
			}
		}
		return
	}
	h.Range(func(k string, v *[]byte) bool { return fn(k, *v) })
}

// Random returns a random field and its value: uniform for a listpack,
// Redis's "fair" sampling for a hashtable. The hash must not be empty.
func (h *Hash) Random(r func() uint64) (string, []byte) {
	if h.ordered() {
		k := h.order[r()%uint64(len(h.order))]
		return k, *h.Get(k)
	}
	k, v := fairRandom(&h.Dict, r)
	return k, *v
}

// Clone returns a deep copy (COPY, RESTORE-like callers).
func (h *Hash) Clone() *Hash {
	n := NewHash()
	h.Each(func(k string, v []byte) bool {
		n.Put([]byte(k), append([]byte(nil), v...))
		return true
	})
	n.Big = h.Big
	if n.Big {
		n.order = nil
	}
	return n
}

// Set is a set value. Redis 7.0 has two set encodings: an intset while every
// member is an integer and there are at most set-max-intset-entries of them,
// a hashtable otherwise (sticky: Redis never converts back). Members always
// live in the embedded Dict; while the set is an intset, ints also holds them
// sorted by value, which is the order Redis returns them in.
//
// Writers go through Add and Remove; readers may use the Dict directly.
type Set struct {
	Dict[struct{}]
	Big  bool
	ints []intMember // sorted by v while !Big
}

type intMember struct {
	v int64
	s string // the dict's key string
}

// NewSet returns an empty set. Like the sets SINTERSTORE and friends build,
// it starts as an intset and converts on the first non-integer member.
func NewSet() *Set { return &Set{Dict: *NewDict[struct{}]()} }

// Encoding is what OBJECT ENCODING reports for the set.
func (s *Set) Encoding() string {
	if s.Big {
		return "hashtable"
	}
	return "intset"
}

func (s *Set) ordered() bool { return !s.Big && len(s.ints) == s.Len() }

// maxIntsetCap is Redis's own cap on intset size, whatever the setting.
const maxIntsetCap = 1 << 30

// Add inserts member (copied) and reports whether it is new. maxIntset is
// set-max-intset-entries: an intset that grows past it, or gets a member
// that is not an integer, becomes a hashtable.
func (s *Set) Add(member []byte, maxIntset int64) bool {
	if s.GetBytes(member) != nil {
		return false
	}
	if s.Big {
		s.Dict.UpsertBytes(member)
		return true
	}
	v, isInt := ParseStrictInt(member)
	if !isInt {
		s.Convert()
		s.Dict.UpsertBytes(member)
		return true
	}
	wasOrdered := s.ordered()
	k := string(member)
	s.Dict.Set(k, struct{}{})
	if wasOrdered {
		i := sort.Search(len(s.ints), func(i int) bool { return s.ints[i].v >= v })
		s.ints = append(s.ints, intMember{})
		copy(s.ints[i+1:], s.ints[i:])
		s.ints[i] = intMember{v: v, s: k}
	}
	limit := maxIntset
	if limit > maxIntsetCap {
		limit = maxIntsetCap
	}
	if int64(s.Len()) > limit {
		s.Convert()
	}
	return true
}

// Remove deletes member and reports whether it was there.
func (s *Set) Remove(member []byte) bool {
	k, ok := s.KeyOf(member)
	if !ok {
		return false
	}
	wasOrdered := s.ordered()
	s.Dict.Delete(k)
	if wasOrdered {
		v, _ := ParseStrictInt(member)
		i := sort.Search(len(s.ints), func(i int) bool { return s.ints[i].v >= v })
		if i < len(s.ints) && s.ints[i].v == v {
			copy(s.ints[i:], s.ints[i+1:])
			s.ints = s.ints[:len(s.ints)-1]
		}
	}
	return true
}

// Has says whether member is in the set.
func (s *Set) Has(member []byte) bool { return s.GetBytes(member) != nil }

// Convert turns the set into a hashtable for good.
func (s *Set) Convert() {
	s.Big = true
	s.ints = nil
}

// Each calls fn for every member in Redis's order (ascending for an intset)
// until fn returns false. fn must not modify the set.
func (s *Set) Each(fn func(member string) bool) {
	if s.ordered() {
		for _, m := range s.ints {
			if !fn(m.s) {
				return
			}
		}
		return
	}
	s.Range(func(k string, _ *struct{}) bool { return fn(k) })
}

// Members returns every member in Redis's order.
func (s *Set) Members() []string {
	out := make([]string, 0, s.Len())
	s.Each(func(m string) bool { out = append(out, m); return true })
	return out
}

// Random returns a random member: uniform for an intset, Redis's "fair"
// sampling for a hashtable. The set must not be empty.
func (s *Set) Random(r func() uint64) string {
	if s.ordered() {
		return s.ints[r()%uint64(len(s.ints))].s
	}
	k, _ := fairRandom(&s.Dict, r)
	return k
}

// Clone returns a copy with the same encoding.
func (s *Set) Clone() *Set {
	n := NewSet()
	n.Big = s.Big
	s.Each(func(m string) bool {
		n.Dict.Set(m, struct{}{})
		return true
	})
	if !n.Big {
		n.ints = append([]intMember(nil), s.ints...)
		if len(n.ints) != n.Len() {
			n.Convert()
		}
	}
	return n
}

// ParseStrictInt parses b as Redis's string2ll does: an optional '-', no
// '+', no leading zeros, no spaces, in int64 range. Such strings are the
// canonical form of their value, which is what lets intsets hold them.
func ParseStrictInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	if b[0] == '-' {
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	for _, ch := range b[i:] {
		if ch < '0' || ch > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// fairRandom picks a random element the way Redis's dictGetFairRandomKey
// does: sample up to 20 elements from consecutive buckets, then choose one
// of them. Choosing a bucket and then a chain element (RandomKey) favours
// elements in short chains; sampling evens that out (and is exact for small
// tables, whose every element fits in the sample).
func fairRandom[V any](d *Dict[V], r func() uint64) (string, *V) {
	const want = 20
	var sample [want]*dictNode[V]
	n := sampleNodes(d, sample[:], r)
	if n == 0 {
		k, v, _ := d.RandomKey(r)
		return k, v
	}
	nd := sample[r()%uint64(n)]
	return nd.key, &nd.val
}

// sampleNodes fills out with up to len(out) elements taken from a random run
// of buckets (Redis's dictGetSomeKeys) and returns how many it stored.
func sampleNodes[V any](d *Dict[V], out []*dictNode[V], r func() uint64) int {
	count := len(out)
	if d.Len() < count {
		count = d.Len()
	}
	if count == 0 {
		return 0
	}
	for j := 0; j < count; j++ {
		if !d.rehashing() {
			break
		}
		d.rehashStep(1)
	}
	tables := 1
	if d.rehashing() {
		tables = 2
	}
	maxMask := uint64(len(d.tables[0]) - 1)
	if tables > 1 && uint64(len(d.tables[1])-1) > maxMask {
		maxMask = uint64(len(d.tables[1]) - 1)
	}
	i := r() & maxMask
	empty, stored := 0, 0
	for steps := count * 10; stored < count && steps > 0; steps-- {
		for t := 0; t < tables; t++ {
			if tables == 2 && t == 0 && i < uint64(d.rehashIdx) {
				// Buckets below rehashIdx of the old table are empty; jump
				// ahead if the new table is too small to hold index i.
				if i >= uint64(len(d.tables[1])) {
					i = uint64(d.rehashIdx)
				} else {
					continue
				}
			}
			if i >= uint64(len(d.tables[t])) {
				continue
			}
			nd := d.tables[t][i]
			if nd == nil {
				empty++
				if empty >= 5 && empty > count {
					i = r() & maxMask
					empty = 0
				}
				continue
			}
			empty = 0
			for ; nd != nil; nd = nd.next {
				out[stored] = nd
				stored++
				if stored == count {
					return stored
				}
			}
		}
		i = (i + 1) & maxMask
	}
	return stored
}
