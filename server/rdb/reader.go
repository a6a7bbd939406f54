package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Error is a malformed, truncated or unsupported input, with the offset of
// the byte where reading failed.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("rdb: %s (at byte offset %d)", e.Msg, e.Offset) }

// reader is a buffered reader that knows its offset, can bound lengths by
// what the input still holds, and checksums exactly the bytes consumed
// (read-ahead is not summed until it is used).
type reader struct {
	r      io.Reader
	buf    []byte
	pos    int   // next unread byte
	end    int   // end of the buffered data
	base   int64 // input offset of buf[0]
	crc    uint64
	crcPos int // buf[:crcPos] is already in crc
	size   int64
	rerr   error
}

const readBufSize = 64 << 10

func newReader(r io.Reader, size int64) *reader {
	return &reader{r: r, buf: make([]byte, readBufSize), size: size}
}

// newBytesReader reads from memory without copying it into a buffer.
func newBytesReader(b []byte) *reader {
	return &reader{buf: b, end: len(b), size: int64(len(b)), rerr: io.ErrUnexpectedEOF}
}

func (r *reader) offset() int64 { return r.base + int64(r.pos) }

// remaining is how many bytes the input still holds, or -1 when unknown.
func (r *reader) remaining() int64 {
	if r.size < 0 {
		return -1
	}
	return r.size - r.offset()
}

func (r *reader) errorf(format string, args ...any) error {
	return &Error{Offset: r.offset(), Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) eofError() error {
	if r.rerr != nil && r.rerr != io.ErrUnexpectedEOF {
		return &Error{Offset: r.offset(), Msg: "read error: " + r.rerr.Error()}
	}
	return &Error{Offset: r.offset(), Msg: "unexpected end of file"}
}

// fill makes at least n (<= buffer size) bytes available.
func (r *reader) fill(n int) error {
	for r.end-r.pos < n {
		if r.rerr != nil || r.r == nil {
			return r.eofError()
		}
		if r.pos > 0 {
			r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
			copy(r.buf, r.buf[r.pos:r.end])
			r.base += int64(r.pos)
			r.end -= r.pos
			r.pos, r.crcPos = 0, 0
		}
		m, err := r.r.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.rerr = err
		}
	}
	return nil
}

// sum is the checksum of every byte consumed so far.
func (r *reader) sum() uint64 {
	r.crc = CRC64(r.crc, r.buf[r.crcPos:r.pos])
	r.crcPos = r.pos
	return r.crc
}

func (r *reader) readByte() (byte, error) {
	if r.pos >= r.end {
		if err := r.fill(1); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.pos]
	r.pos++
	return b, nil
}

// next returns the next n (small) bytes; valid until the next read.
func (r *reader) next(n int) ([]byte, error) {
	if r.end-r.pos < n {
		if err := r.fill(n); err != nil {
			return nil, err
		}
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// checkLen refuses a length the rest of the input cannot hold, before
// anything is allocated for it; minEach is the smallest encoding of one
// element.
func (r *reader) checkLen(n uint64, minEach uint64, what string) error {
	if rem := r.remaining(); rem >= 0 && (n > uint64(rem) || n*minEach > uint64(rem)) {
		return r.errorf("%s length %d exceeds the %d bytes left", what, n, rem)
	}
	if n > 1<<62 {
		return r.errorf("%s length %d is out of range", what, n)
	}
	return nil
}

// capHint bounds a preallocation for n elements.
func capHint(n uint64) int {
	if n > 1<<12 {
		return 1 << 12
	}
	return int(n)
}

// readBytes reads n bytes into a new slice. With an input of unknown size
// the slice grows as data arrives, so a corrupt length cannot make it
// allocate more than about twice the real input.
func (r *reader) readBytes(n uint64) ([]byte, error) {
	if err := r.checkLen(n, 1, "string"); err != nil {
		return nil, err
	}
	if avail := r.end - r.pos; uint64(avail) >= n {
		out := make([]byte, n)
		copy(out, r.buf[r.pos:])
		r.pos += int(n)
		return out, nil
	}
	c := n
	if r.size < 0 && c > 1<<20 {
		c = 1 << 20
	}
	out := make([]byte, 0, c)
	for uint64(len(out)) < n {
		if r.pos == r.end {
			if err := r.fill(1); err != nil {
				return nil, err
			}
		}
		k := r.end - r.pos
		if want := n - uint64(len(out)); uint64(k) > want {
			k = int(want)
		}
		out = append(out, r.buf[r.pos:r.pos+k]...)
		r.pos += k
	}
	return out, nil
}

// readLen reads an RDB length; encoded is set for the special string
// encodings (then n is the encoding type).
func (r *reader) readLenEnc() (n uint64, encoded bool, err error) {
	b, err := r.readByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case len6Bit:
		return uint64(b & 0x3f), false, nil
	case len14Bit:
		c, err := r.readByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(c), false, nil
	case lenEnc:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32Bit:
		p, err := r.next(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case len64Bit:
		p, err := r.next(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	r.pos--
	return 0, false, r.errorf("unknown length encoding 0x%02x", b)
}

func (r *reader) readLen() (uint64, error) {
	n, enc, err := r.readLenEnc()
	if err == nil && enc {
		return 0, r.errorf("unexpected string encoding where a length was expected")
	}
	return n, err
}

// lzfMaxRatio bounds how much LZF data can expand: the best case is a
// 3-byte back reference producing 264 bytes.
const lzfMaxRatio = 88

// readString reads an RDB string in any of its encodings.
func (r *reader) readString() ([]byte, error) {
	start := r.offset()
	n, enc, err := r.readLenEnc()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.readBytes(n)
	}
	switch n {
	case encInt8:
		b, err := r.readByte()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(b)), 10), nil
	case encInt16:
		p, err := r.next(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(p))), 10), nil
	case encInt32:
		p, err := r.next(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(p))), 10), nil
	case encLZF:
		clen, err := r.readLen()
		if err != nil {
			return nil, err
		}
		ulen, err := r.readLen()
		if err != nil {
			return nil, err
		}
		if err := r.checkLen(clen, 1, "compressed string"); err != nil {
			return nil, err
		}
		if clen == 0 || ulen > clen*lzfMaxRatio+32 || ulen > math.MaxInt32*4 {
			return nil, &Error{Offset: start, Msg: fmt.Sprintf("invalid LZF lengths (compressed %d, plain %d)", clen, ulen)}
		}
		c, err := r.readBytes(clen)
		if err != nil {
			return nil, err
		}
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, &Error{Offset: start, Msg: err.Error()}
		}
		return out, nil
	}
	return nil, &Error{Offset: start, Msg: fmt.Sprintf("unknown string encoding %d", n)}
}

// skipString reads and drops a string.
func (r *reader) skipString() error {
	_, err := r.readString()
	return err
}

func (r *reader) readUint64LE() (uint64, error) {
	p, err := r.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

// readBinaryDouble reads a ZSET_2 score.
func (r *reader) readBinaryDouble() (float64, error) {
	v, err := r.readUint64LE()
	return math.Float64frombits(v), err
}

// readStringDouble reads an old-style (ZSET) score: a length byte, with 253,
// 254 and 255 for NaN, +inf and -inf, then that many ASCII bytes.
func (r *reader) readStringDouble() (float64, error) {
	n, err := r.readByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p, err := r.next(int(n))
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(p), 64)
	if perr != nil && !errors.Is(perr, strconv.ErrRange) {
		return 0, r.errorf("invalid double %q", p)
	}
	return f, nil
}
