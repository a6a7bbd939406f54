package resp

import (
	"io"
	"strconv"
)

// The Append functions encode one RESP element onto b and return the
// extended slice, like strconv.AppendInt: no fmt, no allocation beyond
// growing b. They are protocol-version agnostic; Writer picks the right one
// for the client's version.

// AppendSimpleString appends "+s\r\n". CR and LF in s become spaces, since
// they would end the line early and desynchronise the client.
func AppendSimpleString(b []byte, s string) []byte {
	b = append(b, '+')
	return appendLine(b, s)
}

// AppendError appends "-msg\r\n". msg is the full text including its code
// ("ERR ...", "WRONGTYPE ..."); nothing is prepended. CR and LF become
// spaces, as Redis's addReplyErrorFormat does.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	return appendLine(b, msg)
}

func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			b = append(b, s[:i]...)
			for ; i < len(s); i++ {
				c := s[i]
				if c == '\r' || c == '\n' {
					c = ' '
				}
				b = append(b, c)
			}
			return append(b, '\r', '\n')
		}
	}
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendInt appends ":n\r\n".
func AppendInt(b []byte, n int64) []byte {
	return AppendHeader(b, ':', n)
}

// AppendHeader appends kind, n and CRLF: the shape shared by integers and
// by the length prefix of bulk strings ('$') and aggregates ('*', '%', '~',
// '>'). AppendHeader(b, '*', -1) is the RESP2 null array.
func AppendHeader(b []byte, kind byte, n int64) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulk appends p as a bulk string. A nil p is still the empty string;
// nulls are explicit (Writer.Null).
func AppendBulk(b []byte, p []byte) []byte {
	b = AppendHeader(b, '$', int64(len(p)))
	b = append(b, p...)
	return append(b, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(b []byte, s string) []byte {
	b = AppendHeader(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendDouble appends a double reply the way Redis 7.0's addReplyDouble
// does: ",<text>\r\n" in RESP3 and a bulk string of the same text in RESP2,
// the text being AppendScore's.
func AppendDouble(b []byte, proto int, f float64) []byte {
	if proto >= 3 {
		b = append(b, ',')
		b = AppendScore(b, f)
		return append(b, '\r', '\n')
	}
	var tmp [32]byte
	t := AppendScore(tmp[:0], f)
	b = AppendHeader(b, '$', int64(len(t)))
	b = append(b, t...)
	return append(b, '\r', '\n')
}

// Writer accumulates replies for one client. The zero value speaks RESP2.
// The server sends Buf when it decides to flush (WriteTo, or its own write
// of Buf followed by truncation); the Writer never writes by itself, so a
// pipelined batch can go out in one syscall.
type Writer struct {
	// Buf holds encoded replies not yet sent.
	Buf []byte
	// Proto is the protocol version negotiated with HELLO: 2 or 3.
	Proto int
}

// NewWriter returns a Writer for protocol version proto.
func NewWriter(proto int) *Writer { return &Writer{Proto: proto} }

func (w *Writer) resp3() bool { return w.Proto >= 3 }

// Len returns the number of bytes not yet sent.
func (w *Writer) Len() int { return len(w.Buf) }

// Reset discards unsent replies, keeping the buffer.
func (w *Writer) Reset() { w.Buf = w.Buf[:0] }

// WriteTo writes the pending replies to dst and, on success, empties Buf.
func (w *Writer) WriteTo(dst io.Writer) (int64, error) {
	n, err := dst.Write(w.Buf)
	if err == nil {
		w.Buf = w.Buf[:0]
	}
	return int64(n), err
}

// Raw appends p unchanged (already encoded replies, e.g. shared constants).
func (w *Writer) Raw(p []byte) { w.Buf = append(w.Buf, p...) }

// SimpleString appends a status reply: "+s".
func (w *Writer) SimpleString(s string) { w.Buf = AppendSimpleString(w.Buf, s) }

// Error appends an error reply with msg exactly as given ("ERR ...").
func (w *Writer) Error(msg string) { w.Buf = AppendError(w.Buf, msg) }

// Int appends an integer reply.
func (w *Writer) Int(n int64) { w.Buf = AppendInt(w.Buf, n) }

// Bulk appends a bulk string.
func (w *Writer) Bulk(p []byte) { w.Buf = AppendBulk(w.Buf, p) }

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) { w.Buf = AppendBulkString(w.Buf, s) }

// Null appends the null reply for a missing value: "$-1" in RESP2 (null
// bulk string), "_" in RESP3.
func (w *Writer) Null() {
	if w.resp3() {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "$-1\r\n"...)
	}
}

// NullArray appends the null reply where an aggregate was expected (e.g.
// EXEC aborted by WATCH, BLPOP timeout): "*-1" in RESP2, "_" in RESP3.
func (w *Writer) NullArray() {
	if w.resp3() {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "*-1\r\n"...)
	}
}

// Array announces n elements.
func (w *Writer) Array(n int) { w.Buf = AppendHeader(w.Buf, '*', int64(n)) }

// Map announces n key/value pairs, which follow as 2n elements. RESP2 has
// no maps, so it gets a flat array of 2n elements, as Redis sends.
func (w *Writer) Map(n int) {
	if w.resp3() {
		w.Buf = AppendHeader(w.Buf, '%', int64(n))
	} else {
		w.Buf = AppendHeader(w.Buf, '*', 2*int64(n))
	}
}

// Set announces n members: '~' in RESP3, an array in RESP2.
func (w *Writer) Set(n int) {
	if w.resp3() {
		w.Buf = AppendHeader(w.Buf, '~', int64(n))
	} else {
		w.Buf = AppendHeader(w.Buf, '*', int64(n))
	}
}

// Push announces an out-of-band message of n elements (pub/sub, client
// tracking): '>' in RESP3, an array in RESP2.
func (w *Writer) Push(n int) {
	if w.resp3() {
		w.Buf = AppendHeader(w.Buf, '>', int64(n))
	} else {
		w.Buf = AppendHeader(w.Buf, '*', int64(n))
	}
}

// Double appends a double (ZSCORE, ZINCRBY, WITHSCORES): see AppendDouble.
func (w *Writer) Double(f float64) { w.Buf = AppendDouble(w.Buf, w.Proto, f) }

// Bool appends a boolean: "#t"/"#f" in RESP3, ":1"/":0" in RESP2, as
// Redis's addReplyBool.
func (w *Writer) Bool(v bool) {
	switch {
	case w.resp3() && v:
		w.Buf = append(w.Buf, "#t\r\n"...)
	case w.resp3():
		w.Buf = append(w.Buf, "#f\r\n"...)
	case v:
		w.Buf = append(w.Buf, ":1\r\n"...)
	default:
		w.Buf = append(w.Buf, ":0\r\n"...)
	}
}

// Verbatim appends a verbatim string (INFO, CLIENT LIST, LOLWUT): in RESP3
// "=<len>\r\n<format>:<text>\r\n", where format should be three bytes such
// as "txt" or "mkd"; in RESP2 a plain bulk string of text.
func (w *Writer) Verbatim(format, text string) {
	if !w.resp3() {
		w.Buf = AppendBulkString(w.Buf, text)
		return
	}
	w.Buf = AppendHeader(w.Buf, '=', int64(len(format)+1+len(text)))
	w.Buf = append(w.Buf, format...)
	w.Buf = append(w.Buf, ':')
	w.Buf = append(w.Buf, text...)
	w.Buf = append(w.Buf, '\r', '\n')
}
