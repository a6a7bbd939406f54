package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Parsers for the packed encodings Redis stores as one RDB string: ziplist,
// listpack, intset and zipmap. Each walks the blob once, checks every
// offset against its end, and hands the elements to a callback (integers
// already formatted as decimal text, as Redis returns them).

type elemFunc func(elem []byte) error

func corrupt(what string, at int, format string, args ...any) error {
	return fmt.Errorf("%s corrupt at byte %d: %s", what, at, fmt.Sprintf(format, args...))
}

// listpackEach calls fn for every element of a listpack and returns the
// element count.
func listpackEach(b []byte, fn elemFunc) (int, error) {
	const what = "listpack"
	if len(b) < 7 {
		return 0, corrupt(what, 0, "%d bytes is too short", len(b))
	}
	if total := binary.LittleEndian.Uint32(b); uint64(total) != uint64(len(b)) {
		return 0, corrupt(what, 0, "header says %d bytes, blob has %d", total, len(b))
	}
	num := int(binary.LittleEndian.Uint16(b[4:]))
	if b[len(b)-1] != 0xff {
		return 0, corrupt(what, len(b)-1, "missing terminator")
	}
	last := len(b) - 1 // the terminator
	var ibuf [24]byte
	count := 0
	p := 6
	for {
		if p > last {
			return 0, corrupt(what, p, "entry runs past the end")
		}
		c := b[p]
		if c == 0xff {
			if p != last {
				return 0, corrupt(what, p, "terminator before the end")
			}
			break
		}
		hdr, dlen := 1, 0
		var v int64
		isInt := true
		need := func(n int) bool { return p+n <= last }
		switch {
		case c&0x80 == 0:
			v = int64(c)
		case c&0xc0 == 0x80:
			dlen, isInt = int(c&0x3f), false
		case c&0xe0 == 0xc0:
			if !need(2) {
				return 0, corrupt(what, p, "truncated integer")
			}
			hdr = 2
			v = signExtend(uint64(c&0x1f)<<8|uint64(b[p+1]), 13)
		case c&0xf0 == 0xe0:
			if !need(2) {
				return 0, corrupt(what, p, "truncated length")
			}
			hdr, dlen, isInt = 2, int(c&0x0f)<<8|int(b[p+1]), false
		case c == 0xf0:
			if !need(5) {
				return 0, corrupt(what, p, "truncated length")
			}
			l := binary.LittleEndian.Uint32(b[p+1:])
			if uint64(l) > uint64(len(b)) {
				return 0, corrupt(what, p, "string length %d runs past the end", l)
			}
			hdr, dlen, isInt = 5, int(l), false
		case c >= 0xf1 && c <= 0xf4:
			w := [...]int{2, 3, 4, 8}[c-0xf1]
			if !need(1 + w) {
				return 0, corrupt(what, p, "truncated integer")
			}
			hdr = 1 + w
			var u uint64
			for i := w; i >= 1; i-- {
				u = u<<8 | uint64(b[p+i])
			}
			v = signExtend(u, uint(8*w))
		default:
			return 0, corrupt(what, p, "invalid entry encoding 0x%02x", c)
		}
		entry := hdr + dlen
		bl := backlenSize(entry)
		if p+entry+bl > last {
			return 0, corrupt(what, p, "entry runs past the end")
		}
		if got := decodeBacklen(b[p+entry : p+entry+bl]); got != uint64(entry) {
			return 0, corrupt(what, p+entry, "back length %d, entry has %d", got, entry)
		}
		var el []byte
		if isInt {
			el = strconv.AppendInt(ibuf[:0], v, 10)
		} else {
			el = b[p+hdr : p+entry]
		}
		if err := fn(el); err != nil {
			return 0, err
		}
		count++
		p += entry + bl
	}
	if num != 0xffff && num != count {
		return 0, corrupt(what, 4, "header counts %d entries, found %d", num, count)
	}
	return count, nil
}

func signExtend(u uint64, bits uint) int64 {
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// decodeBacklen reads a back length stored most significant group first,
// every byte but the first flagged with the high bit.
func decodeBacklen(p []byte) uint64 {
	var v uint64
	var shift uint
	for i := len(p) - 1; i >= 0; i-- {
		v |= uint64(p[i]&127) << shift
		shift += 7
	}
	return v
}

// ziplistEach calls fn for every element of a ziplist and returns the count.
func ziplistEach(b []byte, fn elemFunc) (int, error) {
	const what = "ziplist"
	if len(b) < 11 {
		return 0, corrupt(what, 0, "%d bytes is too short", len(b))
	}
	if total := binary.LittleEndian.Uint32(b); uint64(total) != uint64(len(b)) {
		return 0, corrupt(what, 0, "header says %d bytes, blob has %d", total, len(b))
	}
	if tail := binary.LittleEndian.Uint32(b[4:]); uint64(tail) > uint64(len(b)-1) {
		return 0, corrupt(what, 4, "tail offset %d out of range", tail)
	}
	num := int(binary.LittleEndian.Uint16(b[8:]))
	last := len(b) - 1
	if b[last] != 0xff {
		return 0, corrupt(what, last, "missing terminator")
	}
	var ibuf [24]byte
	count, prev := 0, 0
	p := 10
	for {
		if p > last {
			return 0, corrupt(what, p, "entry runs past the end")
		}
		if b[p] == 0xff {
			if p != last {
				return 0, corrupt(what, p, "terminator before the end")
			}
			break
		}
		start := p
		var prevLen int
		if b[p] < 254 {
			prevLen = int(b[p])
			p++
		} else if b[p] == 254 {
			if p+5 > last {
				return 0, corrupt(what, p, "truncated previous length")
			}
			prevLen = int(binary.LittleEndian.Uint32(b[p+1:]))
			p += 5
		} else {
			return 0, corrupt(what, p, "invalid previous length")
		}
		if prevLen != prev {
			return 0, corrupt(what, start, "previous length %d, previous entry has %d", prevLen, prev)
		}
		if p >= last {
			return 0, corrupt(what, p, "truncated entry")
		}
		e := b[p]
		var el []byte
		var dlen, hdr int
		isInt := true
		var v int64
		switch e >> 6 {
		case 0:
			hdr, dlen, isInt = 1, int(e&0x3f), false
		case 1:
			if p+2 > last {
				return 0, corrupt(what, p, "truncated length")
			}
			hdr, dlen, isInt = 2, int(e&0x3f)<<8|int(b[p+1]), false
		case 2:
			if p+5 > last {
				return 0, corrupt(what, p, "truncated length")
			}
			l := binary.BigEndian.Uint32(b[p+1:])
			if uint64(l) > uint64(len(b)) {
				return 0, corrupt(what, p, "string length %d runs past the end", l)
			}
			hdr, dlen, isInt = 5, int(l), false
		default:
			w := 0
			switch {
			case e == 0xc0:
				w = 2
			case e == 0xd0:
				w = 4
			case e == 0xe0:
				w = 8
			case e == 0xf0:
				w = 3
			case e == 0xfe:
				w = 1
			case e >= 0xf1 && e <= 0xfd:
				v = int64(e&0x0f) - 1
			default:
				return 0, corrupt(what, p, "invalid entry encoding 0x%02x", e)
			}
			hdr, dlen = 1, w
			if w > 0 {
				if p+1+w > last {
					return 0, corrupt(what, p, "truncated integer")
				}
				var u uint64
				for i := w; i >= 1; i-- {
					u = u<<8 | uint64(b[p+i])
				}
				v = signExtend(u, uint(8*w))
			}
		}
		if p+hdr+dlen > last {
			return 0, corrupt(what, p, "entry runs past the end")
		}
		if isInt {
			el = strconv.AppendInt(ibuf[:0], v, 10)
		} else {
			el = b[p+hdr : p+hdr+dlen]
		}
		if err := fn(el); err != nil {
			return 0, err
		}
		p += hdr + dlen
		prev = p - start
		count++
	}
	if num != 0xffff && num != count {
		return 0, corrupt(what, 8, "header counts %d entries, found %d", num, count)
	}
	return count, nil
}

// intsetEach calls fn for every integer of an intset.
func intsetEach(b []byte, fn func(v int64) error) (int, error) {
	const what = "intset"
	if len(b) < 8 {
		return 0, corrupt(what, 0, "%d bytes is too short", len(b))
	}
	w := binary.LittleEndian.Uint32(b)
	if w != 2 && w != 4 && w != 8 {
		return 0, corrupt(what, 0, "invalid encoding %d", w)
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if 8+uint64(n)*uint64(w) != uint64(len(b)) {
		return 0, corrupt(what, 4, "%d entries of %d bytes do not fill %d bytes", n, w, len(b))
	}
	if n == 0 {
		return 0, corrupt(what, 4, "empty intset")
	}
	for i := 0; i < int(n); i++ {
		p := b[8+i*int(w):]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if err := fn(v); err != nil {
			return 0, err
		}
	}
	return int(n), nil
}

// zipmapEach calls fn for every field/value pair of a zipmap (Redis 2.4
// hashes) and returns the pair count and the longest field or value.
func zipmapEach(b []byte, fn func(f, v []byte) error) (count, maxLen int, err error) {
	const what = "zipmap"
	if len(b) < 2 || b[len(b)-1] != 0xff {
		return 0, 0, corrupt(what, 0, "missing terminator")
	}
	last := len(b) - 1
	readLen := func(p int) (int, int, error) {
		if p > last {
			return 0, 0, corrupt(what, p, "entry runs past the end")
		}
		switch c := b[p]; {
		case c < 254:
			return int(c), 1, nil
		case c == 254:
			if p+5 > last {
				return 0, 0, corrupt(what, p, "truncated length")
			}
			return int(binary.LittleEndian.Uint32(b[p+1:])), 5, nil
		}
		return 0, 0, corrupt(what, p, "unexpected end marker")
	}
	p := 1
	for b[p] != 0xff {
		fl, s, err := readLen(p)
		if err != nil {
			return 0, 0, err
		}
		p += s
		if fl > last-p {
			return 0, 0, corrupt(what, p, "field runs past the end")
		}
		f := b[p : p+fl]
		p += fl
		vl, s, err := readLen(p)
		if err != nil {
			return 0, 0, err
		}
		p += s
		if p >= last {
			return 0, 0, corrupt(what, p, "truncated entry")
		}
		free := int(b[p])
		p++
		if vl > last-p || free > last-p-vl {
			return 0, 0, corrupt(what, p, "value runs past the end")
		}
		v := b[p : p+vl]
		p += vl + free
		if err := fn(f, v); err != nil {
			return 0, 0, err
		}
		count++
		maxLen = max(maxLen, fl, vl)
		if p > last {
			return 0, 0, corrupt(what, p, "entry runs past the end")
		}
	}
	if count == 0 {
		return 0, 0, corrupt(what, 0, "empty zipmap")
	}
	if b[0] != 254 && int(b[0]) != count {
		return 0, 0, corrupt(what, 0, "header counts %d pairs, found %d", b[0], count)
	}
	return count, maxLen, nil
}

var errOddPairs = errors.New("odd number of elements in a pair list")
