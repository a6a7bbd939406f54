package rdb

import "errors"

// LZF, the compression Redis applies to RDB strings (lzf_c.c, lzf_d.c):
// a stream of literal runs (ctrl < 32: ctrl+1 bytes follow) and back
// references (3 bits of length, 13 bits of distance, an extra length byte
// when the length field is 7). The compressor is written for this format,
// not translated; its output is what Redis's lzf_decompress accepts.

const (
	lzfHashLog = 14
	lzfMaxLit  = 32
	lzfMaxOff  = 1 << 13
	lzfMaxRef  = 1<<8 + 1<<3 // longest back reference: 264 bytes
)

// lzfState is the compressor's hash table of recent positions. Entries are
// stored relative to a base that moves past every compressed input, so the
// table never needs clearing between strings (that memset would dominate
// when compressing a million short values).
type lzfState struct {
	tab  [1 << lzfHashLog]uint32
	base uint32
}

func lzfHash(a, b, c byte) uint32 {
	return (uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 2654435761 >> (32 - lzfHashLog)
}

// compress appends the LZF form of in to dst when it takes at most maxOut
// bytes, and reports whether it did (dst is returned unchanged otherwise).
func (st *lzfState) compress(dst, in []byte, maxOut int) ([]byte, bool) {
	n := len(in)
	if n < 4 || maxOut <= 0 {
		return dst, false
	}
	if uint64(st.base)+uint64(n)+2 >= 1<<32 {
		st.tab = [1 << lzfHashLog]uint32{}
		st.base = 0
	}
	base := st.base
	st.base += uint32(n) + 1
	start := len(dst)
	limit := start + maxOut
	out := dst
	run := len(out) // position of the current literal run's control byte
	out = append(out, 0)
	lit := 0
	ip := 0
	for ip < n {
		if ip+2 < n {
			slot := lzfHash(in[ip], in[ip+1], in[ip+2])
			v := st.tab[slot]
			st.tab[slot] = base + uint32(ip) + 1
			if v > base {
				ref := int(v - base - 1)
				off := ip - ref - 1
				if off < lzfMaxOff && in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
					maxLen := n - ip
					if maxLen > lzfMaxRef {
						maxLen = lzfMaxRef
					}
					l := 3
					for l < maxLen && in[ref+l] == in[ip+l] {
						l++
					}
					if lit > 0 {
						out[run] = byte(lit - 1)
					} else {
						out = out[:len(out)-1]
					}
					lf := l - 2
					if lf < 7 {
						out = append(out, byte(off>>8)|byte(lf<<5))
					} else {
						out = append(out, byte(off>>8)|7<<5, byte(lf-7))
					}
					out = append(out, byte(off))
					for k := ip + 1; k < ip+l && k+2 < n; k++ {
						st.tab[lzfHash(in[k], in[k+1], in[k+2])] = base + uint32(k) + 1
					}
					ip += l
					run = len(out)
					out = append(out, 0)
					lit = 0
					if len(out) > limit {
						return dst[:start], false
					}
					continue
				}
			}
		}
		out = append(out, in[ip])
		ip++
		lit++
		if lit == lzfMaxLit {
			out[run] = lzfMaxLit - 1
			run = len(out)
			out = append(out, 0)
			lit = 0
		}
		if len(out) > limit+1 {
			return dst[:start], false
		}
	}
	if lit > 0 {
		out[run] = byte(lit - 1)
	} else {
		out = out[:len(out)-1]
	}
	if len(out)-start > maxOut {
		return dst[:start], false
	}
	return out, true
}

var errLZF = errors.New("invalid LZF compressed string")

// lzfDecompress expands in, which must decode to exactly outLen bytes.
func lzfDecompress(in []byte, outLen int) ([]byte, error) {
	out := make([]byte, outLen)
	op, ip := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			ctrl++
			if op+ctrl > outLen || ip+ctrl > len(in) {
				return nil, errLZF
			}
			copy(out[op:], in[ip:ip+ctrl])
			op += ctrl
			ip += ctrl
			continue
		}
		l := ctrl >> 5
		ref := op - (ctrl&0x1f)<<8 - 1
		if ip >= len(in) {
			return nil, errLZF
		}
		if l == 7 {
			l += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, errLZF
			}
		}
		ref -= int(in[ip])
		ip++
		l += 2
		if op+l > outLen || ref < 0 {
			return nil, errLZF
		}
		if ref+l <= op {
			copy(out[op:op+l], out[ref:ref+l])
		} else {
			for k := 0; k < l; k++ {
				out[op+k] = out[ref+k]
			}
		}
		op += l
	}
	if op != outLen {
		return nil, errLZF
	}
	return out, nil
}
