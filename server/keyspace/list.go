package keyspace

// List is a list value: a ring buffer of elements whose capacity is a
// power of two, so both ends and any index are reached in O(1) with a mask.
// Inserts and removals in the middle shift the shorter side, which keeps
// LINSERT/LREM near the ends cheap, as Redis's quicklist does.
type List struct {
	buf  [][]byte
	head int
	n    int
}

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// Encoding is what OBJECT ENCODING reports. Redis 7.0 keeps every list in a
// quicklist, however small (the listpack encoding for lists came in 7.2), and
// its test suite asserts "quicklist" for three-element lists.
func (l *List) Encoding() string { return "quicklist" }

func (l *List) mask() int { return len(l.buf) - 1 }

// pos maps a logical index to a slot of buf.
func (l *List) pos(i int) int { return (l.head + i) & l.mask() }

func (l *List) resize(size int) {
	nb := make([][]byte, size)
	if l.n > 0 {
		// Copy in at most two runs: head..end of buf, then the wrapped part.
		first := copy(nb, l.buf[l.head:min(l.head+l.n, len(l.buf))])
		copy(nb[first:], l.buf[:l.n-first])
	}
	l.buf = nb
	l.head = 0
}

func (l *List) grow() {
	size := len(l.buf) * 2
	if size < 4 {
		size = 4
	}
	l.resize(size)
}

// shrink gives memory back once the list is down to a quarter of its
// capacity; the hysteresis keeps push/pop cycles from resizing each time.
func (l *List) shrink() {
	size := len(l.buf)
	for size > 64 && l.n*4 < size {
		size /= 2
	}
	if size != len(l.buf) {
		l.resize(size)
	}
}

// PushFront adds v at the head.
func (l *List) PushFront(v []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.head = (l.head - 1) & l.mask()
	l.buf[l.head] = v
	l.n++
}

// PushBack adds v at the tail.
func (l *List) PushBack(v []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.buf[l.pos(l.n)] = v
	l.n++
}

// PopFront removes and returns the head element.
func (l *List) PopFront() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & l.mask()
	l.n--
	l.shrink()
	return v, true
}

// PopBack removes and returns the tail element.
func (l *List) PopBack() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	i := l.pos(l.n - 1)
	v := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.shrink()
	return v, true
}

// Index returns element i (0-based from the head); i must be in range.
func (l *List) Index(i int) []byte { return l.buf[l.pos(i)] }

// SetIndex replaces element i; i must be in range.
func (l *List) SetIndex(i int, v []byte) { l.buf[l.pos(i)] = v }

// Insert puts v before element i (i == Len appends), moving whichever side
// of i is shorter.
func (l *List) Insert(i int, v []byte) {
	if i <= 0 {
		l.PushFront(v)
		return
	}
	if i >= l.n {
		l.PushBack(v)
		return
	}
	if l.n == len(l.buf) {
		l.grow()
	}
	if i < l.n-i {
		// Shift the first i elements one slot towards the front.
		l.head = (l.head - 1) & l.mask()
		for j := 0; j < i; j++ {
			l.buf[l.pos(j)] = l.buf[l.pos(j+1)]
		}
	} else {
		for j := l.n; j > i; j-- {
			l.buf[l.pos(j)] = l.buf[l.pos(j-1)]
		}
	}
	l.buf[l.pos(i)] = v
	l.n++
}

// Remove deletes element i (in range) and returns it, moving whichever side
// of i is shorter.
func (l *List) Remove(i int) []byte {
	v := l.buf[l.pos(i)]
	if i < l.n-1-i {
		for j := i; j > 0; j-- {
			l.buf[l.pos(j)] = l.buf[l.pos(j-1)]
		}
		l.buf[l.head] = nil
		l.head = (l.head + 1) & l.mask()
	} else {
		for j := i; j < l.n-1; j++ {
			l.buf[l.pos(j)] = l.buf[l.pos(j+1)]
		}
		l.buf[l.pos(l.n-1)] = nil
	}
	l.n--
	l.shrink()
	return v
}

// RemoveEqual deletes elements equal to v, as LREM: count > 0 removes at
// most count from the head, count < 0 at most -count from the tail, 0 all.
// It returns how many it removed. One pass, compacting in place.
func (l *List) RemoveEqual(v []byte, count int) int {
	removed := 0
	if count >= 0 {
		w := 0
		for r := 0; r < l.n; r++ {
			e := l.buf[l.pos(r)]
			if (count == 0 || removed < count) && string(e) == string(v) {
				removed++
				continue
			}
			if w != r {
				l.buf[l.pos(w)] = e
			}
			w++
		}
		for j := w; j < l.n; j++ {
			l.buf[l.pos(j)] = nil
		}
	} else {
		limit := -count
		w := l.n - 1
		for r := l.n - 1; r >= 0; r-- {
			e := l.buf[l.pos(r)]
			if removed < limit && string(e) == string(v) {
				removed++
				continue
			}
			if w != r {
				l.buf[l.pos(w)] = e
			}
			w--
		}
		for j := 0; j <= w; j++ {
			l.buf[l.pos(j)] = nil
		}
		l.head = l.pos(removed)
	}
	l.n -= removed
	if l.n == 0 {
		l.head = 0
	}
	l.shrink()
	return removed
}

// Trim keeps elements [start, stop] (in range, start <= stop) and drops the
// rest from both ends.
func (l *List) Trim(start, stop int) {
	for j := 0; j < start; j++ {
		l.buf[l.pos(j)] = nil
	}
	for j := stop + 1; j < l.n; j++ {
		l.buf[l.pos(j)] = nil
	}
	l.head = l.pos(start)
	l.n = stop - start + 1
	l.shrink()
}

// Clear removes every element.
func (l *List) Clear() { l.buf, l.head, l.n = nil, 0, 0 }

// Slice returns a copy of the element references in [start, stop], both
// in range and start <= stop.
func (l *List) Slice(start, stop int) [][]byte {
	out := make([][]byte, 0, stop-start+1)
	for i := start; i <= stop; i++ {
		out = append(out, l.Index(i))
	}
	return out
}

// Range calls fn for each element from the head (or from the tail when
// reverse) with its index, until fn returns false.
func (l *List) Range(reverse bool, fn func(i int, v []byte) bool) {
	if reverse {
		for i := l.n - 1; i >= 0; i-- {
			if !fn(i, l.buf[l.pos(i)]) {
				return
			}
		}
		return
	}
	for i := 0; i < l.n; i++ {
		if !fn(i, l.buf[l.pos(i)]) {
			return
		}
	}
}

// Replace sets the whole content (used by loaders and SORT STORE); the list
// takes ownership of the element slices.
func (l *List) Replace(elems [][]byte) {
	l.Clear()
	if len(elems) == 0 {
		return
	}
	size := 4
	for size < len(elems) {
		size *= 2
	}
	l.buf = make([][]byte, size)
	copy(l.buf, elems)
	l.n = len(elems)
}

// All returns every element in order (a new slice of shared elements).
func (l *List) All() [][]byte {
	if l.n == 0 {
		return nil
	}
	return l.Slice(0, l.n-1)
}
