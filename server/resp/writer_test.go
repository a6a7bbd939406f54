package resp

import (
	"bytes"
	"math"
	"testing"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		write  func(w *Writer)
		r2, r3 string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
		{"simple newline", func(w *Writer) { w.SimpleString("a\r\nb") }, "+a  b\r\n", "+a  b\r\n"},
		{"error", func(w *Writer) { w.Error("WRONGTYPE Operation against a key holding the wrong kind of value") },
			"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
			"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"error newline", func(w *Writer) { w.Error("ERR x\ny") }, "-ERR x y\r\n", "-ERR x y\r\n"},
		{"int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"int min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"bulk empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bulk string", func(w *Writer) { w.BulkString("hello") }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.Array(3) }, "*3\r\n", "*3\r\n"},
		{"empty array", func(w *Writer) { w.Array(0) }, "*0\r\n", "*0\r\n"},
		{"map", func(w *Writer) { w.Map(2) }, "*4\r\n", "%2\r\n"},
		{"set", func(w *Writer) { w.Set(5) }, "*5\r\n", "~5\r\n"},
		{"push", func(w *Writer) { w.Push(3) }, "*3\r\n", ">3\r\n"},
		{"bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double 0.1", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double int", func(w *Writer) { w.Double(3000) }, "$4\r\n3000\r\n", ",3000\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "a\r\nb") }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
		{"raw", func(w *Writer) { w.Raw([]byte("+PONG\r\n")) }, "+PONG\r\n", "+PONG\r\n"},
		{"map of bulk", func(w *Writer) {
			w.Map(1)
			w.BulkString("k")
			w.Int(1)
		}, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
	}
	for _, tt := range tests {
		for _, v := range []struct {
			proto int
			want  string
		}{{0, tt.r2}, {2, tt.r2}, {3, tt.r3}} {
			w := NewWriter(v.proto)
			tt.write(w)
			if string(w.Buf) != v.want {
				t.Errorf("%s RESP%d: got %q, want %q", tt.name, v.proto, w.Buf, v.want)
			}
		}
	}
}

func TestWriterWriteTo(t *testing.T) {
	var w Writer
	w.SimpleString("PONG")
	w.Int(1)
	var out bytes.Buffer
	n, err := w.WriteTo(&out)
	if err != nil || n != 11 || out.String() != "+PONG\r\n:1\r\n" || w.Len() != 0 {
		t.Fatalf("%d %v %q %d", n, err, out.String(), w.Len())
	}
}

func TestAppendHelpersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 1024)
	w := &Writer{Buf: buf, Proto: 2}
	allocs := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.Array(4)
		w.BulkString("key")
		w.Int(123456789)
		w.Double(0.1)
		w.Error("ERR no")
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}
