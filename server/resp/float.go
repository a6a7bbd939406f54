package resp

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
)

// Redis 7.0 prints floating point numbers in two different ways, and
// clients see the difference, so both are reproduced here.

// AppendScore appends f as Redis 7.0's addReplyDouble prints it (ZSCORE,
// ZINCRBY, ZRANGE WITHSCORES, ...): printf "%.17g", with infinities spelled
// "inf" and "-inf". So 0.1 prints as "0.10000000000000001", 1 as "1",
// 1e20 as "1e+20". Go's 'g' format with precision 17 produces the same
// digits and the same exponent form as glibc's %.17g.
//
// (Redis 7.2 switched to shortest round-trip output; this is the 7.0 form.)
// NaN prints as glibc does, "nan" or "-nan"; Redis never stores NaN scores.
// -0 prints as "-0"; Redis's ZADD never stores -0, which callers mimic by
// normalising the score, not here.
func AppendScore(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// FormatScore is AppendScore returning a string.
func FormatScore(f float64) string {
	var tmp [32]byte
	return string(AppendScore(tmp[:0], f))
}

// AppendFloat appends the text Redis 7.0 stores and replies for
// INCRBYFLOAT and HINCRBYFLOAT results: ld2string(LD_STR_HUMAN), i.e.
// printf "%.17Lf" of a long double, trailing zeros (and a trailing '.')
// removed, "-0" turned into "0", and "inf"/"-inf" for infinities (which the
// commands reject before formatting anyway).
//
// Redis computes in x87 80-bit long double, which f cannot carry. AppendFloat
// therefore formats the long double nearest to the shortest decimal that
// identifies f, which is what Redis prints when it reads that decimal: 10.6
// gives "10.6", 3000 "3000", 1.5e-5 "0.000015", 1e-20 "0", and 5000.1 gives
// Redis's "5000.10000000000000009" (17 decimals exceed the precision of a
// long double that large). Results can still differ from Redis when float64
// arithmetic rounds differently from long double arithmetic: 0.1+0.2 is
// 0.30000000000000004 in float64 but "0.3" in Redis. Callers that need
// Redis's exact results should do the arithmetic with big.Float at 64 bits
// of precision and format with AppendLongDouble.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return AppendScore(b, f)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	s := b[start:]
	abs := math.Abs(f)
	dot := bytes.IndexByte(s, '.')
	// Fast path. An integer below 2^64 is exact in a long double. A value
	// below 64 is within 2^-59 of the decimal, less than half a unit in the
	// 17th place, so %.17Lf rounds back to the decimal itself as long as the
	// decimal has at most 17 places.
	if (dot < 0 && abs < 1<<64) || (dot >= 0 && abs < 64 && len(s)-dot-1 <= 17) {
		if len(s) == 2 && s[0] == '-' && s[1] == '0' {
			b = append(b[:start], '0')
		}
		return b
	}
	x, _, err := big.ParseFloat(string(s), 10, 64, big.ToNearestEven)
	if err != nil { // cannot happen: strconv produced the text
		return b
	}
	return AppendLongDouble(b[:start], x)
}

// FormatFloat is AppendFloat returning a string.
func FormatFloat(f float64) string {
	var tmp [32]byte
	return string(AppendFloat(tmp[:0], f))
}

// AppendLongDouble appends x exactly as Redis 7.0's ld2string with
// LD_STR_HUMAN would print it ("%.17Lf", trailing zeros trimmed, "-0" as
// "0", infinities as "inf"/"-inf"). To match Redis on x86-64, x should hold
// a long double value: parse operands with
// big.ParseFloat(s, 10, 64, big.ToNearestEven) and do the arithmetic at
// precision 64, which rounds like the x87 unit does; then 0.1+0.2 gives
// "0.3" and 123456789.123+0.001 gives "123456789.12399999999615829", as
// Redis replies.
func AppendLongDouble(b []byte, x *big.Float) []byte {
	if x.IsInf() {
		if x.Signbit() {
			return append(b, "-inf"...)
		}
		return append(b, "inf"...)
	}
	start := len(b)
	b = x.Append(b, 'f', 17)
	if bytes.IndexByte(b[start:], '.') >= 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if len(b)-start == 2 && b[start] == '-' && b[start+1] == '0' {
		b = append(b[:start], '0')
	}
	return b
}
