package rdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/fluidb/fluidb/server/keyspace"
)

// Encoder turns values into their RDB encoding. It holds the LZF state, so
// reuse one per goroutine; it is not safe for concurrent use.
type Encoder struct {
	// Compress applies LZF to strings longer than 20 bytes, as Redis does
	// with rdbcompression yes.
	Compress bool
	lzf      *lzfState
}

// appendLen appends an RDB length.
func appendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|len14Bit<<6, byte(n))
	case n <= math.MaxUint32:
		dst = append(dst, len32Bit)
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, len64Bit)
	return binary.BigEndian.AppendUint64(dst, n)
}

// AppendString appends s as an RDB string: small canonical integers as
// integers, long strings LZF-compressed when that saves at least 4 bytes
// (Redis's rules), the rest raw.
func (enc *Encoder) AppendString(dst, s []byte) []byte {
	if len(s) <= 11 && len(s) > 0 {
		if v, ok := parseSmallInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(dst, lenEnc<<6|encInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				dst = append(dst, lenEnc<<6|encInt16)
				return binary.LittleEndian.AppendUint16(dst, uint16(v))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				dst = append(dst, lenEnc<<6|encInt32)
				return binary.LittleEndian.AppendUint32(dst, uint32(v))
			}
		}
	}
	if enc.Compress && len(s) > 20 {
		if enc.lzf == nil {
			enc.lzf = new(lzfState)
		}
		// Compress after a header sized for the worst case, then move the
		// result if the real header is shorter.
		start := len(dst)
		hdr := 1 + lenSize(uint64(len(s))) + lenSize(uint64(len(s)))
		dst = append(dst, zeroHdr[:hdr]...)
		out, ok := enc.lzf.compress(dst, s, len(s)-4)
		if ok {
			clen := len(out) - start - hdr
			h := append(make([]byte, 0, 20), lenEnc<<6|encLZF)
			h = appendLen(h, uint64(clen))
			h = appendLen(h, uint64(len(s)))
			copy(out[start+len(h):], out[start+hdr:])
			copy(out[start:], h)
			return out[:start+len(h)+clen]
		}
		dst = dst[:start]
	}
	dst = appendLen(dst, uint64(len(s)))
	return append(dst, s...)
}

var zeroHdr [19]byte

// parseSmallInt accepts what Redis's integer string encoding does: the
// canonical decimal form of an integer (no '+', no leading zeros, no
// "-0"), here at most 11 bytes, which cannot overflow.
func parseSmallInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 11 {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '-' {
		if len(s) == 1 {
			return 0, false
		}
		i, neg = 1, true
	}
	if s[i] == '0' {
		return 0, len(s) == 1
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func lenSize(n uint64) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

func (enc *Encoder) appendStr(dst []byte, s string) []byte {
	// The conversion does not escape, so it does not copy.
	return enc.AppendString(dst, []byte(s))
}

// ErrUnsupported is returned for values the format cannot carry yet.
var ErrUnsupported = fmt.Errorf("rdb: value type not supported")

// AppendObject appends the type byte and the encoded value of e: the body
// of a DUMP payload, and of a key record after the key name.
func (enc *Encoder) AppendObject(dst []byte, e *keyspace.Entry) ([]byte, error) {
	return enc.appendObject(dst, nil, false, e)
}

// AppendKey appends a key record without its metadata: type, key, value.
func (enc *Encoder) AppendKey(dst []byte, key []byte, e *keyspace.Entry) ([]byte, error) {
	return enc.appendObject(dst, key, true, e)
}

func (enc *Encoder) appendObject(dst, key []byte, withKey bool, e *keyspace.Entry) ([]byte, error) {
	typ := func(t byte) {
		dst = append(dst, t)
		if withKey {
			dst = enc.AppendString(dst, key)
		}
	}
	switch v := e.Obj.(type) {
	case nil:
		typ(TypeString)
		dst = enc.AppendString(dst, e.Str)
	case *keyspace.List:
		typ(TypeList)
		dst = appendLen(dst, uint64(v.Len()))
		v.Range(false, func(_ int, el []byte) bool {
			dst = enc.AppendString(dst, el)
			return true
		})
	case *keyspace.Set:
		typ(TypeSet)
		dst = appendLen(dst, uint64(v.Len()))
		v.Each(func(m string) bool {
			dst = enc.appendStr(dst, m)
			return true
		})
	case *keyspace.Hash:
		typ(TypeHash)
		dst = appendLen(dst, uint64(v.Len()))
		v.Each(func(f string, val []byte) bool {
			dst = enc.appendStr(dst, f)
			dst = enc.AppendString(dst, val)
			return true
		})
	case *keyspace.ZSet:
		typ(TypeZSet2)
		dst = appendLen(dst, uint64(v.Len()))
		v.Range(func(m string, score float64) bool {
			dst = enc.appendStr(dst, m)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(score))
			return true
		})
	default:
		return dst, fmt.Errorf("%w: %s", ErrUnsupported, e.Kind())
	}
	return dst, nil
}

// Dump returns the DUMP payload of e: the object, the RDB version (2 bytes,
// little endian) and the CRC64 of everything before it.
func (enc *Encoder) Dump(e *keyspace.Entry) ([]byte, error) {
	b, err := enc.AppendObject(nil, e)
	if err != nil {
		return nil, err
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b)), nil
}

// KeyMeta is what a file records about a key besides its value.
type KeyMeta struct {
	Expire int64    // absolute Unix ms; 0 = none
	Stamp  uint64   // HLC stamp of the last write; 0 with a zero Origin = none
	Origin [16]byte // origin node UUID; zero = unknown
	Idle   int64    // LRU idle seconds; < 0 = not recorded
	Freq   int      // LFU counter; < 0 = not recorded
}

// Writer writes an RDB file: header, AUX fields, databases, key records,
// EOF and checksum. Write errors are sticky; Finish reports the first.
type Writer struct {
	w        io.Writer
	checksum bool
	crc      uint64
	n        int64
	err      error
	buf      []byte
	enc      Encoder // for AUX strings only: never compresses
	origins  map[[16]byte]uint64
}

// NewWriter starts a file on w. With checksum false the trailer is zero,
// which loaders accept as "not computed".
func NewWriter(w io.Writer, checksum bool) *Writer {
	return &Writer{w: w, checksum: checksum, origins: map[[16]byte]uint64{}}
}

func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	if w.checksum {
		w.crc = CRC64(w.crc, p)
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	w.err = err
}

// Len is the number of bytes written so far.
func (w *Writer) Len() int64 { return w.n }

// Err is the first write error.
func (w *Writer) Err() error { return w.err }

// Header writes the magic and version.
func (w *Writer) Header() { w.write(fmt.Appendf(w.buf[:0], "REDIS%04d", Version)) }

// Aux writes an AUX field.
func (w *Writer) Aux(key, val string) {
	b := append(w.buf[:0], opAux)
	b = w.enc.appendStr(b, key)
	b = w.enc.appendStr(b, val)
	w.buf = b
	w.write(b)
}

// SelectDB starts database id.
func (w *Writer) SelectDB(id int) {
	b := appendLen(append(w.buf[:0], opSelectDB), uint64(id))
	w.buf = b
	w.write(b)
}

// ResizeDB writes the size hint of the current database.
func (w *Writer) ResizeDB(keys, expires uint64) {
	b := appendLen(append(w.buf[:0], opResizeDB), keys)
	b = appendLen(b, expires)
	w.buf = b
	w.write(b)
}

// Key writes one key record: its metadata opcodes, then payload, which
// Encoder.AppendKey produced. The stamp is written as an AUX field just
// before the key (see docs/persistence.md); origins get file-local indices,
// defined by a fluidb-origin AUX field on first use.
func (w *Writer) Key(m *KeyMeta, payload []byte) {
	b := w.buf[:0]
	if m.Stamp != 0 || m.Origin != ([16]byte{}) {
		var idx uint64
		if m.Origin != ([16]byte{}) {
			var ok bool
			if idx, ok = w.origins[m.Origin]; !ok {
				idx = uint64(len(w.origins) + 1)
				w.origins[m.Origin] = idx
				def := binary.AppendUvarint(make([]byte, 0, 26), idx)
				def = append(def, m.Origin[:]...)
				b = append(b, opAux)
				b = w.enc.appendStr(b, AuxOrigin)
				b = w.enc.AppendString(b, def)
			}
		}
		var v [8 + binary.MaxVarintLen64]byte
		binary.LittleEndian.PutUint64(v[:], m.Stamp)
		n := 8 + binary.PutUvarint(v[8:], idx)
		b = append(b, opAux)
		b = w.enc.appendStr(b, AuxStamp)
		b = w.enc.AppendString(b, v[:n])
	}
	if m.Expire != 0 {
		b = append(b, opExpireTimeMs)
		b = binary.LittleEndian.AppendUint64(b, uint64(m.Expire))
	}
	if m.Idle >= 0 {
		b = appendLen(append(b, opIdle), uint64(m.Idle))
	} else if m.Freq >= 0 {
		b = append(b, opFreq, byte(m.Freq))
	}
	w.buf = b
	w.write(b)
	w.write(payload)
}

// Finish writes EOF and the checksum.
func (w *Writer) Finish() error {
	w.write([]byte{opEOF})
	var sum [8]byte
	if w.checksum {
		binary.LittleEndian.PutUint64(sum[:], w.crc)
	}
	w.write(sum[:])
	return w.err
}
