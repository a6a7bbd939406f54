package server

// The replication backlog: the last repl-backlog-size bytes of the
// replication stream, so a replica whose link dropped can ask for what it
// missed (PSYNC) instead of a whole new snapshot. Offsets are Redis's: the
// stream's first byte ever is offset 1, and master_repl_offset is the offset
// of the last byte written.

type backlog struct {
	buf     []byte // ring of len(buf) == size
	idx     int    // where the next byte goes
	histlen int64  // valid bytes in buf (<= len(buf))
	end     int64  // offset of the last byte written (master_repl_offset)
}

func newBacklog(size int64, end int64) *backlog {
	if size < 16<<10 {
		size = 16 << 10 // Redis's CONFIG_REPL_BACKLOG_MIN_SIZE
	}
	return &backlog{buf: make([]byte, size), end: end}
}

func (b *backlog) size() int64 { return int64(len(b.buf)) }

// firstOffset is the offset of the oldest byte held (end+1 when empty).
func (b *backlog) firstOffset() int64 { return b.end - b.histlen + 1 }

// write appends stream bytes and advances the offset.
func (b *backlog) write(p []byte) {
	b.end += int64(len(p))
	n := len(b.buf)
	if len(p) >= n {
		// Only the tail survives.
		copy(b.buf, p[len(p)-n:])
		b.idx = 0
		b.histlen = int64(n)
		return
	}
	c := copy(b.buf[b.idx:], p)
	if c < len(p) {
		copy(b.buf, p[c:])
	}
	b.idx = (b.idx + len(p)) % n
	b.histlen = min(b.histlen+int64(len(p)), int64(n))
}

// covers says whether a replica that has everything before offset can be
// continued from here: offset is the first byte it has not got.
func (b *backlog) covers(offset int64) bool {
	return offset >= b.firstOffset() && offset <= b.end+1
}

// from returns a copy of the bytes from offset to the end (covers(offset)
// must hold).
func (b *backlog) from(offset int64) []byte {
	n := int(b.end + 1 - offset)
	out := make([]byte, n)
	if n == 0 {
		return out
	}
	start := (b.idx - n + len(b.buf)) % len(b.buf)
	c := copy(out, b.buf[start:])
	if c < n {
		copy(out[c:], b.buf[:n-c])
	}
	return out
}

// resize keeps the newest bytes that fit in the new size (CONFIG SET
// repl-backlog-size).
func (b *backlog) resize(size int64) {
	if size < 16<<10 {
		size = 16 << 10
	}
	if size == int64(len(b.buf)) {
		return
	}
	keep := min(b.histlen, size)
	data := b.from(b.end + 1 - keep)
	nb := make([]byte, size)
	copy(nb, data)
	b.buf = nb
	b.idx = int(keep % size)
	b.histlen = keep
}
