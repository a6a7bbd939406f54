package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll parses everything from rd and returns the commands (copied) and
// the error that ended the stream.
func readAll(r *Reader) ([][]string, error) {
	var cmds [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return cmds, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

// feeds are the ways a test input reaches the Reader: they must all give
// the same result, whatever the read boundaries.
var feeds = []struct {
	name    string
	bufSize int
	wrap    func(io.Reader) io.Reader
}{
	{"whole", 0, func(r io.Reader) io.Reader { return r }},
	{"onebyte", 0, iotest.OneByteReader},
	{"onebyte-smallbuf", 16, iotest.OneByteReader},
	{"half-smallbuf", 16, iotest.HalfReader},
	{"dataerr", 0, iotest.DataErrReader},
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestReadCommand(t *testing.T) {
	const (
		eof  = "EOF"
		ueof = "unexpected EOF"
	)
	type cmds = [][]string
	tests := []struct {
		name   string
		in     string
		unauth bool
		want   cmds
		err    string
	}{
		{"multibulk", "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n", false, cmds{{"SET", "a", "b"}}, eof},
		{"binary bulk", "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\x00b\n\r\n", false, cmds{{"ECHO", "a\r\n\x00b\n"}}, eof},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", false, cmds{{"ECHO", ""}}, eof},
		{"pipelined mixed", "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO x\n", false,
			cmds{{"PING"}, {"PING"}, {"GET", "k"}, {"ECHO", "x"}}, eof},
		{"zero and negative multibulk skipped", "*0\r\n*-1\r\n*-5\r\nPING\r\n", false, cmds{{"PING"}}, eof},
		{"empty lines skipped", "\r\n\n  \r\n\t\v\f\r\nPING\n", false, cmds{{"PING"}}, eof},
		{"bulk CRLF not checked", "*1\r\n$4\r\npingxx*1\r\n$4\r\nPONG\r\n", false, cmds{{"ping"}, {"PONG"}}, eof},
		{"header LF not checked", "*1\rx$4\rxping\r\n", false, cmds{{"ping"}}, eof},
		{"max int multibulk then EOF", "*2147483647\r\n", false, nil, ueof},
		{"partial inline", "PING", false, nil, ueof},
		{"partial multibulk", "*2\r\n$3\r\nGET\r\n", false, nil, ueof},
		{"partial bulk", "*1\r\n$10\r\nabc", false, nil, ueof},
		{"empty input", "", false, nil, eof},

		// inline splitting
		{"inline quotes", `set a "b c"` + "\r\n", false, cmds{{"set", "a", "b c"}}, eof},
		{"inline escapes", `echo "\n\r\t\b\a\\\"\q"` + "\r\n", false, cmds{{"echo", "\n\r\t\b\a\\\"q"}}, eof},
		{"inline hex", `echo "\x41\x4g\x7e\xFf"` + "\n", false, cmds{{"echo", "Ax4g~\xff"}}, eof},
		// Without two hex digits, \x is just an escaped 'x'.
		{"inline short hex", `echo "\x4"` + "\n", false, cmds{{"echo", "x4"}}, eof},
		{"inline single quotes", `echo 'a\'b' 'c\nd' '"'` + "\n", false, cmds{{"echo", "a'b", `c\nd`, `"`}}, eof},
		{"inline empty quoted", `set k ""` + "\r\n", false, cmds{{"set", "k", ""}}, eof},
		{"inline quote mid word", `echo a"b c" x'y z'` + "\n", false, cmds{{"echo", "ab c", "xy z"}}, eof},
		{"inline quote then tab", "echo \"a\"\tb\n", false, cmds{{"echo", "a", "b"}}, eof},
		{"inline quote then vtab", "echo \"a\"\vb\n", false, cmds{{"echo", "a", "b"}}, eof},
		{"inline vtab inside word", "echo a\vb\fc\n", false, cmds{{"echo", "a\vb\fc"}}, eof},
		{"inline CR separates", "echo a\rb\r\r\n", false, cmds{{"echo", "a", "b"}}, eof},
		{"inline many spaces", "   echo    a   \r\n", false, cmds{{"echo", "a"}}, eof},
		{"inline NUL ends line", "echo a\x00b c\r\nPING\r\n", false, cmds{{"echo", "a"}, {"PING"}}, eof},
		{"inline NUL only", "\x00x\r\nPING\r\n", false, cmds{{"PING"}}, eof},
		{"inline high bytes", "echo \xe9\xff\n", false, cmds{{"echo", "\xe9\xff"}}, eof},
		{"inline dollar is just a word", "$3\r\n", false, cmds{{"$3"}}, eof},
		{"inline exactly 64k", strings.Repeat("a", 65536) + "\n", false, cmds{{strings.Repeat("a", 65536)}}, eof},

		// protocol errors, with the exact text Redis 7.0 replies
		{"mbulk too large", "*3000000000\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk INT_MAX+1", "*2147483648\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk letters", "*a\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk empty", "*\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk leading zero", "*01\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk minus zero", "*-0\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk plus", "*+1\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk space", "* 1\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk 21 digits", "*100000000000000000000\r\n", false, nil, "ERR Protocol error: invalid multibulk length"},
		{"mbulk after good command", "PING\r\n*x\r\n", false, cmds{{"PING"}}, "ERR Protocol error: invalid multibulk length"},
		{"expected dollar", "*1\r\nX\r\n", false, nil, "ERR Protocol error: expected '$', got 'X'"},
		{"expected dollar CR", "*1\r\n\r\n", false, nil, "ERR Protocol error: expected '$', got ' '"},
		{"expected dollar second arg", "*2\r\n$1\r\na\r\n:1\r\n", false, nil, "ERR Protocol error: expected '$', got ':'"},
		{"bulk negative", "*1\r\n$-1\r\n", false, nil, "ERR Protocol error: invalid bulk length"},
		{"bulk letters", "*1\r\n$abc\r\n", false, nil, "ERR Protocol error: invalid bulk length"},
		{"bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", false, nil, "ERR Protocol error: invalid bulk length"},
		{"bulk huge", "*1\r\n$99999999999999999999\r\n", false, nil, "ERR Protocol error: invalid bulk length"},
		{"bulk at proto-max-bulk-len", "*1\r\n$536870912\r\n", false, nil, ueof},
		{"unauth mbulk", "*11\r\n", true, nil, "ERR Protocol error: unauthenticated multibulk length"},
		{"unauth mbulk ok", "*10\r\n", true, nil, ueof},
		{"unauth mbulk invalid first", "*3000000000\r\n", true, nil, "ERR Protocol error: invalid multibulk length"},
		{"unauth bulk", "*1\r\n$16385\r\n", true, nil, "ERR Protocol error: unauthenticated bulk length"},
		{"unauth bulk ok", "*1\r\n$16384\r\n", true, nil, ueof},
		{"unauth bulk invalid first", "*1\r\n$-1\r\n", true, nil, "ERR Protocol error: invalid bulk length"},
		{"unauth inline unlimited args", "a b c d e f g h i j k l\r\n", true, cmds{{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}}, eof},
		{"too big inline", strings.Repeat("a", 65537), false, nil, "ERR Protocol error: too big inline request"},
		{"too big inline with late newline", strings.Repeat("a", 65537) + "\n", false, nil, "ERR Protocol error: too big inline request"},
		{"inline 64k without newline", strings.Repeat("a", 65536), false, nil, ueof},
		{"too big mbulk count", "*" + strings.Repeat("1", 65536), false, nil, "ERR Protocol error: too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + strings.Repeat("1", 65536), false, nil, "ERR Protocol error: too big bulk count string"},
		{"too big bulk count beats expected dollar", "*1\r\nx" + strings.Repeat("1", 65536), false, nil, "ERR Protocol error: too big bulk count string"},
		{"unbalanced double", `echo "abc` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"unbalanced single", `echo 'abc` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"closing double quote followed by char", `echo "ab"c` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"closing single quote followed by char", `echo 'ab'"c"` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"escaped closing quote", `echo "a\"` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"trailing backslash in quotes", `echo "a\` + "\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
		{"quote cut by NUL", "echo \"a\x00\"\r\n", false, nil, "ERR Protocol error: unbalanced quotes in request"},
	}
	for _, tt := range tests {
		for _, f := range feeds {
			t.Run(tt.name+"/"+f.name, func(t *testing.T) {
				r := NewReader(f.wrap(strings.NewReader(tt.in)), f.bufSize)
				r.Unauthenticated = tt.unauth
				got, err := readAll(r)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) || errText(err) != tt.err {
					t.Fatalf("got %q, %v; want %q, %s", got, errText(err), tt.want, tt.err)
				}
				var pe *ProtocolError
				if strings.HasPrefix(tt.err, "ERR ") != errors.As(err, &pe) {
					t.Fatalf("error %T is not what it should be", err)
				}
				// Errors are sticky.
				if _, err2 := r.ReadCommand(); errText(err2) != tt.err {
					t.Fatalf("second call: %v, want %s", err2, tt.err)
				}
			})
		}
	}
}

// chunkReader returns the input in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
	reads int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.reads++
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestArbitraryBoundaries(t *testing.T) {
	var in bytes.Buffer
	var want [][]string
	for i := 0; i < 300; i++ {
		switch i % 4 {
		case 0:
			v := strings.Repeat("v", i*37)
			fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%06d\r\n$%d\r\n%s\r\n", len(fmt.Sprintf("key:%06d", i)), i, len(v), v)
			want = append(want, []string{"SET", fmt.Sprintf("key:%06d", i), v})
		case 1:
			fmt.Fprintf(&in, "GET \"key:%06d\"\r\n", i)
			want = append(want, []string{"GET", fmt.Sprintf("key:%06d", i)})
		case 2:
			in.WriteString("*0\r\n\r\n")
			fmt.Fprintf(&in, "*1\r\n$4\r\nPING\r\n")
			want = append(want, []string{"PING"})
		case 3:
			big := strings.Repeat("B", 40000+i) // over the big-argument threshold
			fmt.Fprintf(&in, "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", len(big), big)
			want = append(want, []string{"ECHO", big})
		}
	}
	for _, sizes := range [][]int{{1}, {2, 3, 5, 7}, {4096}, {100000}, {65535, 1, 17}} {
		for _, bufSize := range []int{16, 1000, 0} {
			r := NewReader(&chunkReader{data: in.Bytes(), sizes: sizes}, bufSize)
			got, err := readAll(r)
			if err != io.EOF {
				t.Fatalf("sizes %v buf %d: err %v", sizes, bufSize, err)
			}
			if len(got) != len(want) {
				t.Fatalf("sizes %v buf %d: %d commands, want %d", sizes, bufSize, len(got), len(want))
			}
			for i := range want {
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Fatalf("sizes %v buf %d: command %d differs", sizes, bufSize, i)
				}
			}
		}
	}
}

func TestArgsDoNotAlias(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$1\r\na\r\n$1\r\nb\r\necho x y\r\n"), 0)
	for range 2 {
		args, err := r.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		second := string(args[1])
		_ = append(args[0], "XYZ"...)
		if string(args[1]) != second {
			t.Fatalf("append to args[0] overwrote args[1]: %q", args[1])
		}
	}
}

func TestHasPending(t *testing.T) {
	tests := []struct {
		in     string
		unauth bool
		want   bool
	}{
		{"", false, false},
		{"PING\r\n", false, true},
		{"PING", false, false},
		{"\r\n  \r\n", false, false},
		{"\r\n  \r\nPING\n", false, true},
		{"\x00junk\r\n", false, false},
		{"\"unbalanced\r\n", false, true},
		{"*0\r\n*-1\r\n", false, false},
		{"*0\r\n*1\r\n$4\r\nPING\r\n", false, true},
		{"*1\r\n$4\r\nPING\r", false, false},
		{"*1\r\n$4\r\nPING", false, false},
		{"*2\r\n$4\r\nPING\r\n", false, false},
		{"*x\r\n", false, true},
		{"*1\r\nx\r\n", false, true},
		{"*1\r", false, false},
		{"*11\r\n", true, true},
		{"*11\r\n", false, false},
		{"*1\r\n$16385\r\n", true, true},
		{"*1\r\n$600000000\r\n", false, true},
	}
	for _, tt := range tests {
		src := &countingReader{r: strings.NewReader(tt.in)}
		r := NewReader(src, 0)
		r.Unauthenticated = tt.unauth
		r.fill() // buffer the input without parsing it
		if got := r.HasPending(); got != tt.want {
			t.Errorf("HasPending(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if tt.want {
			before := src.reads
			r.ReadCommand()
			if src.reads != before {
				t.Errorf("%q: HasPending was true but ReadCommand read", tt.in)
			}
		}
	}
}

func TestHasPendingPipeline(t *testing.T) {
	in := strings.Repeat("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 5) + "PING\r\n\r\n"
	src := &countingReader{r: strings.NewReader(in)}
	r := NewReader(src, 0)
	n := 0
	for {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
		n++
		if !r.HasPending() {
			break
		}
	}
	if n != 6 || src.reads != 1 {
		t.Fatalf("batch of %d commands in %d reads, want 6 in 1", n, src.reads)
	}
	if r.Buffered() != 2 {
		t.Fatalf("Buffered() = %d, want 2 (the blank line)", r.Buffered())
	}
}

type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// Hostile headers must be rejected, or waited on, without allocating
// memory sized by the header.
func TestHugeDeclaredLengthsDoNotAllocate(t *testing.T) {
	src := strings.NewReader("")
	r := NewReader(src, 0)
	for _, in := range []string{"*3000000000\r\n", "*1\r\n$600000000\r\n", "*1\r\n$-5\r\n"} {
		allocs := testing.AllocsPerRun(100, func() {
			src.Reset(in)
			r.Reset(src)
			if _, err := r.ReadCommand(); err == nil {
				t.Fatal("no error")
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations", in, allocs)
		}
	}
	// Declared but never sent: memory use must not follow the declaration.
	for _, in := range []string{
		"*2147483647\r\n",
		"*1000000\r\n$1\r\na\r\n",
		"*1\r\n$536870912\r\n" + strings.Repeat("x", 1000),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewReader(strings.NewReader(in), 0)
		if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
			t.Fatalf("%q: %v", in, err)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%q: allocated %d bytes", in, d)
		}
		runtime.KeepAlive(r)
	}
}

func TestBigArgumentLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB")
	}
	const size = 100 << 20
	val := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	var in bytes.Buffer
	fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", size)
	in.Write(val)
	in.WriteString("\r\n*1\r\n$4\r\nPING\r\n")
	src := &chunkReader{data: in.Bytes(), sizes: []int{16 << 10, 1400, 64 << 10}}
	r := NewReader(src, 0)
	start := time.Now()
	args, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 3 || !bytes.Equal(args[2], val) {
		t.Fatal("value corrupted")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	// The value is read straight into its own memory, not through the
	// 64 KiB buffer, and the buffer did not grow.
	if len(r.buf) != DefaultBufSize {
		t.Fatalf("buffer grew to %d", len(r.buf))
	}
	if args, err = r.ReadCommand(); err != nil || string(args[0]) != "PING" {
		t.Fatalf("next command: %q %v", args, err)
	}
}

func TestBufferGrowsAndShrinks(t *testing.T) {
	var in bytes.Buffer
	const n = 50000 // 50000 small arguments: ~450 KB in one command
	fmt.Fprintf(&in, "*%d\r\n", n)
	for i := 0; i < n; i++ {
		in.WriteString("$2\r\nab\r\n")
	}
	for i := 0; i < 100; i++ {
		in.WriteString("*1\r\n$4\r\nPING\r\n")
	}
	r := NewReader(&chunkReader{data: in.Bytes(), sizes: []int{4000}}, 0)
	args, err := r.ReadCommand()
	if err != nil || len(args) != n || string(args[n-1]) != "ab" {
		t.Fatalf("%d args, %v", len(args), err)
	}
	if len(r.buf) <= DefaultBufSize {
		t.Fatalf("buffer did not grow")
	}
	for i := 0; i < 100; i++ {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	// The buffer is given back before the next read, not while the
	// commands already buffered are served.
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatal(err)
	}
	if len(r.buf) != DefaultBufSize {
		t.Fatalf("buffer did not shrink back: %d", len(r.buf))
	}
	if cap(r.args) > maxRetainedArgs {
		t.Fatalf("args array of %d kept", cap(r.args))
	}
}

func TestQueryBufLimit(t *testing.T) {
	in := "*1000\r\n" + strings.Repeat("$2\r\nab\r\n", 1000)
	r := NewReader(strings.NewReader(in), 16)
	r.MaxQueryBuf = 1000
	if _, err := r.ReadCommand(); err != ErrQueryBufLimit {
		t.Fatalf("err = %v", err)
	}
	// A big argument counts too.
	in = "*1\r\n$100000\r\n" + strings.Repeat("x", 100002)
	r = NewReader(strings.NewReader(in), 0)
	r.MaxQueryBuf = 50000
	if _, err := r.ReadCommand(); err != ErrQueryBufLimit {
		t.Fatalf("big arg: err = %v", err)
	}
	r = NewReader(strings.NewReader(in), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatalf("default limit: %v", err)
	}
}

func TestLimitsChangeAtRuntime(t *testing.T) {
	r := NewReader(strings.NewReader("*1\r\n$10\r\n0123456789\r\n*1\r\n$11\r\n01234567890\r\n"), 0)
	r.MaxBulkLen = 10
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadCommand(); errText(err) != "ERR Protocol error: invalid bulk length" {
		t.Fatalf("err = %v", err)
	}

	r = NewReader(strings.NewReader("*1\r\n$4\r\nAUTH\r\n*11\r\n"), 0)
	r.Unauthenticated = true
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	r.Unauthenticated = false
	if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
}

var errBoom = errors.New("boom")

func TestReadErrorsPassThrough(t *testing.T) {
	r := NewReader(iotest.TimeoutReader(strings.NewReader("PING\r\n")), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadCommand(); err != iotest.ErrTimeout {
		t.Fatalf("err = %v", err)
	}
	// Data delivered with an error is parsed before the error is returned.
	r = NewReader(io.MultiReader(strings.NewReader("PING\r\nPI"), iotest.ErrReader(errBoom)), 0)
	if args, err := r.ReadCommand(); err != nil || string(args[0]) != "PING" {
		t.Fatal(args, err)
	}
	if _, err := r.ReadCommand(); err != errBoom {
		t.Fatalf("err = %v", err)
	}
	r = NewReader(iotest.ErrReader(nil), 0) // always (0, nil)
	if _, err := r.ReadCommand(); err != io.ErrNoProgress {
		t.Fatalf("err = %v", err)
	}
}

// pipeline serves the same batch forever, like a client that keeps a
// pipeline full.
type pipeline struct {
	batch []byte
	off   int
}

func (p *pipeline) Read(b []byte) (int, error) {
	n := copy(b, p.batch[p.off:])
	p.off = (p.off + n) % len(p.batch)
	return n, nil
}

func BenchmarkReadPipelined(b *testing.B) {
	const perRead = 16
	var batch []byte
	for i := 0; i < perRead; i++ {
		batch = append(batch, "*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$3\r\nxxx\r\n"...)
	}
	// The source hands out at most one batch per read, as a server sees a
	// client keeping 16 requests in flight.
	r := NewReader(&pipeline{batch: batch}, DefaultBufSize)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range perRead {
			args, err := r.ReadCommand()
			if err != nil || len(args) != 3 {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRead), "ns/cmd")
}

func TestReadPipelinedNoAllocs(t *testing.T) {
	batch := []byte(strings.Repeat("*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$3\r\nxxx\r\n", 16) +
		strings.Repeat("SET key:000001 \"x x\"\r\n", 16))
	r := NewReader(&pipeline{batch: batch}, 0)
	for range 64 {
		r.ReadCommand() // warm up: args slice
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per command", allocs)
	}
}

// wouldBlockSource hands out its chunks one per Read, answering
// ErrWouldBlock between them, as a non-blocking socket does.
type wouldBlockSource struct {
	chunks []string
	ready  bool
}

func (w *wouldBlockSource) Read(p []byte) (int, error) {
	if !w.ready || len(w.chunks) == 0 {
		w.ready = true
		return 0, ErrWouldBlock
	}
	w.ready = false
	n := copy(p, w.chunks[0])
	if n < len(w.chunks[0]) {
		w.chunks[0] = w.chunks[0][n:]
	} else {
		w.chunks = w.chunks[1:]
	}
	return n, nil
}

func TestWouldBlockIsNotSticky(t *testing.T) {
	src := &wouldBlockSource{chunks: []string{"*2\r\n$3\r\nGE", "T\r\n$1\r\nk\r", "\n*1\r\n$4\r\nPING\r\n"}}
	r := NewReader(src, 16)
	var got []string
	for i := 0; i < 20 && len(got) < 2; i++ {
		args, err := r.ReadCommand()
		if err == ErrWouldBlock {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(bytes.Join(args, []byte(" "))))
	}
	if len(got) != 2 || got[0] != "GET k" || got[1] != "PING" {
		t.Fatalf("commands = %q", got)
	}
}

// Peek sees the complete commands after the one returned, up to its limits,
// consumes nothing, and stops at an incomplete or inline command.
func TestPeek(t *testing.T) {
	in := "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" +
		"*2\r\n$3\r\nGET\r\n$1\r\nb\r\n" +
		"*1\r\n$4\r\nPING\r\n" +
		"*4\r\n$4\r\nMSET\r\n$1\r\nc\r\n$1\r\n2\r\n$1\r\nd\r\n" +
		"GET inline\r\n" +
		"*2\r\n$3\r\nGET\r\n$1\r\ne\r\n"
	r := NewReader(strings.NewReader(in+"*2\r\n$3\r\nGET\r\n$5\r\nincom"), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	peek := func(maxCmds, nargs int) []string {
		var got []string
		r.Peek(maxCmds, nargs, func(args [][]byte) {
			var parts []string
			for _, a := range args {
				parts = append(parts, string(a))
			}
			got = append(got, strings.Join(parts, " "))
		})
		return got
	}
	if got, want := fmt.Sprint(peek(10, 2)), "[GET b PING MSET c]"; got != want {
		t.Fatalf("Peek = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(peek(1, 9)), "[GET b]"; got != want {
		t.Fatalf("Peek one = %s, want %s", got, want)
	}
	// Nothing was consumed: the commands are read as before.
	cmds, _ := readAll(r)
	if got, want := fmt.Sprint(cmds), "[[GET b] [PING] [MSET c 2 d] [GET inline] [GET e]]"; got != want {
		t.Fatalf("after Peek: %s, want %s", got, want)
	}
	// An incomplete command is not seen.
	r = NewReader(strings.NewReader("*2\r\n$3\r\nGET\r\n$1\r\nx\r\n*2\r\n$3\r\nGET\r\n$9\r\nincom"), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if got := peek(10, 2); len(got) != 0 {
		t.Fatalf("Peek of an incomplete command = %v", got)
	}
}
