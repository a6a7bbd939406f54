package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
)

// Defaults and limits. The names in parentheses are Redis's, so the numbers
// can be checked against networking.c and server.h.
const (
	// DefaultBufSize is the read buffer size NewReader uses when given <= 0.
	DefaultBufSize = 64 << 10
	// DefaultMaxBulkLen is the default of proto-max-bulk-len.
	DefaultMaxBulkLen int64 = 512 << 20
	// DefaultMaxQueryBuf is the default of client-query-buffer-limit.
	DefaultMaxQueryBuf int64 = 1 << 30

	inlineMax          = 64 << 10      // PROTO_INLINE_MAX_SIZE
	bigArgSize         = 32 << 10      // PROTO_MBULK_BIG_ARG
	maxMultibulk       = math.MaxInt32 // Redis keeps argc in an int
	unauthMaxMultibulk = 10
	unauthMaxBulk      = 16384

	// argsPrealloc caps how many argument slots a "*N" header may reserve
	// before the arguments arrive, so a lying header costs nothing.
	argsPrealloc = 1024
	// maxRetainedArgs: argument arrays grown by one huge command are dropped
	// afterwards instead of pinning memory for the life of the connection.
	maxRetainedArgs = 64 << 10
	// bigArgFirstAlloc bounds the first allocation for a big argument; it
	// then doubles as data arrives, so a client that declares 500 MB and
	// sends nothing holds only this much.
	bigArgFirstAlloc = 64 << 10
	minBufSize       = 16
	maxEmptyReads    = 100
)

// ProtocolError is a malformed request. Error returns exactly the text Redis
// replies with (without the leading '-'), so the server can send it as is
// before closing the connection, as Redis does.
type ProtocolError struct {
	msg string
}

func (e *ProtocolError) Error() string { return e.msg }

// Preallocated so that rejecting a hostile header allocates nothing.
var (
	errInvalidMultibulk = &ProtocolError{"ERR Protocol error: invalid multibulk length"}
	errUnauthMultibulk  = &ProtocolError{"ERR Protocol error: unauthenticated multibulk length"}
	errInvalidBulk      = &ProtocolError{"ERR Protocol error: invalid bulk length"}
	errUnauthBulk       = &ProtocolError{"ERR Protocol error: unauthenticated bulk length"}
	errTooBigInline     = &ProtocolError{"ERR Protocol error: too big inline request"}
	errTooBigMbulk      = &ProtocolError{"ERR Protocol error: too big mbulk count string"}
	errTooBigBulk       = &ProtocolError{"ERR Protocol error: too big bulk count string"}
	errUnbalanced       = &ProtocolError{"ERR Protocol error: unbalanced quotes in request"}
)

func errExpectedDollar(c byte) error {
	// Redis formats this one with addReplyErrorFormat, which turns CR and LF
	// into spaces so the reply stays one line; other bytes go out raw.
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return &ProtocolError{"ERR Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
}

// ErrWouldBlock is what a non-blocking source returns when no input is
// available yet. Unlike other errors it is not sticky: ReadCommand returns
// it and the next call resumes the command in progress where it stopped,
// which lets an event loop drive the Reader.
var ErrWouldBlock = errors.New("resp: no input available yet")

// ErrQueryBufLimit means the unparsed input of one client exceeded
// MaxQueryBuf. Redis closes such a client without a reply.
var ErrQueryBufLimit = errors.New("resp: client query buffer limit reached")

// Reader parses client requests. It is not safe for concurrent use; the
// limit fields may be changed between calls by the goroutine that calls
// ReadCommand.
type Reader struct {
	// MaxBulkLen is proto-max-bulk-len: longer "$" arguments are a protocol
	// error. <= 0 means DefaultMaxBulkLen.
	MaxBulkLen int64
	// MaxQueryBuf is client-query-buffer-limit: once more unparsed input
	// than this is held, ReadCommand fails with ErrQueryBufLimit.
	// <= 0 means DefaultMaxQueryBuf.
	MaxQueryBuf int64
	// Unauthenticated applies the limits Redis uses while a password is
	// required and AUTH has not succeeded yet (at most 10 arguments of at
	// most 16384 bytes), so strangers cannot make the server buffer much.
	Unauthenticated bool

	rd io.Reader

	// buf[start:end] is unconsumed input. start is where the command being
	// parsed begins (its arguments point there), pos is the parse position.
	buf             []byte
	base            []byte // the original buffer, returned to after growth
	start, pos, end int
	err             error // sticky read error
	perr            error // sticky protocol or limit error
	emptyReads      int
	bigArg          int // PROTO_MBULK_BIG_ARG; a field so tests can lower it

	// Multibulk command in progress.
	inMulti bool
	left    int    // elements not yet complete
	bulk    int64  // length of the current element; -1 before its header
	big     []byte // current element when it is read into its own memory
	spans   []span
	args    [][]byte
	peek    [4][]byte // Peek's arguments
}

// span locates a parsed argument relative to start, because the buffer may
// move (compaction, growth) before the command is complete. off < 0 means
// the argument has its own allocation and args already holds it.
type span struct{ off, n int }

// NewReader returns a Reader that reads from rd in chunks of up to bufSize
// bytes (DefaultBufSize if bufSize <= 0).
func NewReader(rd io.Reader, bufSize int) *Reader {
	if bufSize <= 0 {
		bufSize = DefaultBufSize
	}
	bufSize = max(bufSize, minBufSize)
	b := make([]byte, bufSize)
	return &Reader{
		MaxBulkLen:  DefaultMaxBulkLen,
		MaxQueryBuf: DefaultMaxQueryBuf,
		rd:          rd,
		buf:         b,
		base:        b,
		bulk:        -1,
		bigArg:      bigArgSize,
	}
}

// Reset discards all state and makes the Reader read from rd, keeping its
// buffer and its limit fields.
func (r *Reader) Reset(rd io.Reader) {
	r.rd = rd
	r.buf = r.base
	r.start, r.pos, r.end = 0, 0, 0
	r.err, r.perr = nil, nil
	r.emptyReads = 0
	r.inMulti, r.left, r.bulk, r.big = false, 0, -1, nil
	r.resetArgs()
}

// Source returns the io.Reader the Reader reads from.
func (r *Reader) Source() io.Reader { return r.rd }

// Buffered returns the number of bytes read from the source but not yet
// parsed. They may be a partial command; use HasPending to know whether
// ReadCommand can proceed without reading.
func (r *Reader) Buffered() int { return r.end - r.pos }

// QueryBufSize returns the memory currently held for input (the read buffer
// plus an argument being read into its own allocation), for CLIENT LIST's
// qbuf figures and for memory accounting.
func (r *Reader) QueryBufSize() int { return len(r.buf) + cap(r.big) }

// HasPending reports whether the buffered input already holds a complete
// command or a protocol error, i.e. whether ReadCommand will return without
// reading from the source. The server flushes its replies when this is false,
// once per pipelined batch. Blank inline lines and "*0" headers do not count,
// since ReadCommand would skip them and block. A sticky read error (EOF) does
// not count either, so replies to the last commands are still flushed.
func (r *Reader) HasPending() bool {
	if r.perr != nil {
		return true
	}
	if r.inMulti {
		return false // only after a read error interrupted a command
	}
	p := r.buf[r.pos:r.end]
	for len(p) > 0 {
		if p[0] != '*' {
			n, next, err := findLine(p)
			if err != nil {
				return true
			}
			if next == 0 {
				return false
			}
			if !blankLine(p[:n]) {
				return true
			}
			p = p[next:]
			continue
		}
		n, adv, err := r.multibulkHeader(p)
		if err != nil {
			return true
		}
		if adv == 0 {
			return false
		}
		p = p[adv:]
		if n <= 0 {
			continue
		}
		for ; n > 0; n-- {
			ll, adv, err := r.bulkHeader(p)
			if err != nil {
				return true
			}
			if adv == 0 || int64(len(p)-adv) < ll+2 {
				return false
			}
			p = p[adv+int(ll)+2:]
		}
		return true
	}
	return false
}

// ReadCommand returns the next command's arguments.
//
// The returned slice and the arguments in it are only valid until the next
// call to ReadCommand or Reset: they usually point into the read buffer,
// which is reused. Callers that keep an argument (SET's value, a key stored
// in a dict) must copy it. Each argument has its capacity clipped to its
// length, so appending to one never overwrites another.
//
// Errors: a *ProtocolError for malformed input (the server replies it and
// closes the connection); ErrQueryBufLimit; otherwise the source's error
// unchanged, except that io.EOF in the middle of a command becomes
// io.ErrUnexpectedEOF. All errors are sticky.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.perr != nil {
		return nil, r.perr
	}
	if !r.inMulti {
		r.resetArgs()
	}
	for {
		done, err := r.parse()
		if err != nil {
			r.perr = err
			return nil, err
		}
		if done {
			return r.args, nil
		}
		if err := r.fill(); err != nil {
			if err == io.EOF && (r.inMulti || r.end > r.pos) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

func (r *Reader) resetArgs() {
	if cap(r.args) > maxRetainedArgs {
		r.args, r.spans = nil, nil
		return
	}
	clear(r.args) // drop references to big arguments
	r.args = r.args[:0]
	r.spans = r.spans[:0]
}

func (r *Reader) maxBulkLen() int64 {
	if r.MaxBulkLen <= 0 {
		return DefaultMaxBulkLen
	}
	// Keep ll+2 and int conversions from overflowing.
	return min(r.MaxBulkLen, math.MaxInt-2)
}

func (r *Reader) maxQueryBuf() int64 {
	if r.MaxQueryBuf <= 0 {
		return DefaultMaxQueryBuf
	}
	return min(r.MaxQueryBuf, math.MaxInt/4)
}

// Inline parse outcomes.
const (
	inlineMore = iota
	inlineSkip
	inlineReady
)

// parse advances over buffered input. It returns true when r.args holds a
// complete command, false when it needs more input.
func (r *Reader) parse() (bool, error) {
	for {
		if !r.inMulti {
			r.start = r.pos
			if r.pos == r.end {
				return false, nil
			}
			if r.buf[r.pos] != '*' {
				st, err := r.parseInline()
				if err != nil || st == inlineReady {
					return st == inlineReady, err
				}
				if st == inlineMore {
					return false, nil
				}
				continue
			}
			n, adv, err := r.multibulkHeader(r.buf[r.pos:r.end])
			if err != nil || adv == 0 {
				return false, err
			}
			r.pos += adv
			if n <= 0 {
				continue // Redis ignores "*0" and "*-1"
			}
			r.inMulti, r.left, r.bulk = true, n, -1
			if c := min(n, argsPrealloc); cap(r.args) < c {
				r.args = make([][]byte, 0, c)
				r.spans = make([]span, 0, c)
			}
		}
		for r.left > 0 {
			if r.big != nil {
				if int64(len(r.big)) < r.bulk || r.end-r.pos < 2 {
					return false, nil
				}
				r.pos += 2 // CRLF, unchecked like Redis
				r.spans = append(r.spans, span{off: -1})
				r.args = append(r.args, r.big)
				r.big, r.bulk = nil, -1
				r.left--
				continue
			}
			if r.bulk < 0 {
				ll, adv, err := r.bulkHeader(r.buf[r.pos:r.end])
				if err != nil || adv == 0 {
					return false, err
				}
				r.pos += adv
				r.bulk = ll
			}
			if int64(r.end-r.pos) >= r.bulk+2 {
				n := int(r.bulk)
				r.spans = append(r.spans, span{off: r.pos - r.start, n: n})
				r.args = append(r.args, nil)
				r.pos += n + 2
				r.bulk = -1
				r.left--
				continue
			}
			if r.bulk >= int64(r.bigArg) {
				r.startBig()
			}
			return false, nil
		}
		r.inMulti = false
		for i, s := range r.spans {
			if s.off >= 0 {
				a := r.start + s.off
				r.args[i] = r.buf[a : a+s.n : a+s.n]
			}
		}
		return true, nil
	}
}

// startBig moves a large, incomplete argument into its own allocation so
// the rest of it can be read straight into place: no buffer growth and no
// repeated compaction, hence linear time for a 100 MB value.
func (r *Reader) startBig() {
	want := int(r.bulk)
	have := min(r.end-r.pos, want)
	r.big = make([]byte, have, min(want, max(2*have, bigArgFirstAlloc)))
	copy(r.big, r.buf[r.pos:r.pos+have])
	// What is left in the buffer is at most the first byte of the CRLF.
	n := copy(r.buf[r.pos:], r.buf[r.pos+have:r.end])
	r.end = r.pos + n
}

// fill reads more input, into the big argument if one is incomplete and
// otherwise into the buffer.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	var n int
	var err error
	if r.big != nil && int64(len(r.big)) < r.bulk {
		if len(r.big) == cap(r.big) {
			nb := make([]byte, len(r.big), min(int(r.bulk), 2*cap(r.big)))
			copy(nb, r.big)
			r.big = nb
		}
		n, err = r.rd.Read(r.big[len(r.big):cap(r.big)])
		if n > 0 {
			r.big = r.big[:len(r.big)+n]
		}
	} else {
		if err := r.makeRoom(); err != nil {
			r.perr = err
			return err
		}
		n, err = r.rd.Read(r.buf[r.end:])
		if n > 0 {
			r.end += n
		}
	}
	if n < 0 {
		err = errors.New("resp: reader returned negative count")
	}
	if int64(r.end-r.start)+int64(len(r.big)) > r.maxQueryBuf() {
		r.perr = ErrQueryBufLimit
		return r.perr
	}
	if err == ErrWouldBlock && n == 0 {
		return err
	}
	if err != nil {
		r.err = err
		if n > 0 {
			return nil // parse what came with the error first
		}
		return err
	}
	if n == 0 {
		if r.emptyReads++; r.emptyReads >= maxEmptyReads {
			r.err = io.ErrNoProgress
			return r.err
		}
		return nil
	}
	r.emptyReads = 0
	return nil
}

// makeRoom ensures free space after end. Consumed input is dropped (the
// previous command's arguments are no longer valid), a grown buffer is given
// up once the input fits the original one again, and the buffer doubles when
// the command in progress fills it.
func (r *Reader) makeRoom() error {
	pending := r.end - r.start
	if len(r.buf) > len(r.base) && pending <= len(r.base)/2 {
		copy(r.base, r.buf[r.start:r.end])
		r.buf = r.base
	} else if r.start > 0 {
		copy(r.buf, r.buf[r.start:r.end])
	}
	r.pos -= r.start
	r.end = pending
	r.start = 0
	if r.end < len(r.buf) {
		return nil
	}
	limit := r.maxQueryBuf()
	if int64(len(r.buf)) > limit {
		return ErrQueryBufLimit
	}
	// One byte past the limit, so that crossing it is detected after a read.
	n := int(min(int64(2*len(r.buf)), limit+1))
	nb := make([]byte, n)
	copy(nb, r.buf[:r.end])
	r.buf = nb
	return nil
}

// parseInline handles a request that does not start with '*'.
func (r *Reader) parseInline() (int, error) {
	p := r.buf[r.pos:r.end]
	n, next, err := findLine(p)
	if err != nil {
		return 0, err
	}
	if next == 0 {
		return inlineMore, nil
	}
	r.pos += next
	args, err := splitArgs(r.args[:0], p[:n])
	r.args = args
	if err != nil {
		return 0, err
	}
	if len(args) == 0 {
		return inlineSkip, nil
	}
	return inlineReady, nil
}

// findLine finds the end of an inline request at the start of p: the line
// is p[:n], the next request starts at p[next:]. next == 0 means more input
// is needed. Only the first inlineMax+1 bytes are searched, so whether a
// line is too long does not depend on how the input was split into reads.
func findLine(p []byte) (n, next int, err error) {
	i := bytes.IndexByte(p[:min(len(p), inlineMax+1)], '\n')
	if i < 0 {
		if len(p) > inlineMax {
			return 0, 0, errTooBigInline
		}
		return 0, 0, nil
	}
	n = i
	if n > 0 && p[n-1] == '\r' {
		n--
	}
	return n, i + 1, nil
}

// findCR finds the '\r' ending a "*N" or "$N" header. Like Redis it needs
// one more byte after it but does not check that byte is '\n'. cr < 0 means
// more input is needed.
func findCR(p []byte, tooBig error) (cr int, err error) {
	i := bytes.IndexByte(p[:min(len(p), inlineMax+1)], '\r')
	if i < 0 {
		if len(p) > inlineMax {
			return -1, tooBig
		}
		return -1, nil
	}
	if i+1 >= len(p) {
		return -1, nil
	}
	return i, nil
}

// multibulkHeader parses "*N\r\n" at the start of p. adv == 0 with a nil
// error means more input is needed. Negative counts come back as -1.
func (r *Reader) multibulkHeader(p []byte) (n, adv int, err error) {
	ll, adv, ok := quickHeader(p)
	if !ok {
		cr, err := findCR(p, errTooBigMbulk)
		if cr < 0 {
			return 0, 0, err
		}
		ll, ok = parseInt(p[1:cr])
		adv = cr + 2
	}
	if !ok || ll > maxMultibulk {
		return 0, 0, errInvalidMultibulk
	}
	if r.Unauthenticated && ll > unauthMaxMultibulk {
		return 0, 0, errUnauthMultibulk
	}
	return int(max(ll, -1)), adv, nil
}

// bulkHeader parses "$N\r\n" at the start of p, checking N against the
// limits before anything is sized from it.
func (r *Reader) bulkHeader(p []byte) (n int64, adv int, err error) {
	ll, adv, ok := quickHeader(p)
	if !ok || p[0] != '$' {
		cr, err := findCR(p, errTooBigBulk)
		if cr < 0 {
			return 0, 0, err
		}
		if p[0] != '$' {
			return 0, 0, errExpectedDollar(p[0])
		}
		ll, ok = parseInt(p[1:cr])
		adv = cr + 2
	}
	if !ok || ll < 0 || ll > r.maxBulkLen() {
		return 0, 0, errInvalidBulk
	}
	if r.Unauthenticated && ll > unauthMaxBulk {
		return 0, 0, errUnauthBulk
	}
	return ll, adv, nil
}

// quickHeader parses the usual header, a type byte then 1 to 18 digits
// without a leading zero, CR and one more byte, without a memchr call per
// header. ok is false for anything else, including errors, which the exact
// path then handles; where both apply they agree.
func quickHeader(p []byte) (ll int64, adv int, ok bool) {
	i := 1
	for ; i < len(p) && i <= 18; i++ {
		c := p[i]
		if c < '0' || c > '9' {
			break
		}
		ll = ll*10 + int64(c-'0')
	}
	if i == 1 || i+1 >= len(p) || p[i] != '\r' || (p[1] == '0' && i > 2) {
		return 0, 0, false
	}
	return ll, i + 2, true
}

// parseInt accepts exactly what Redis's string2ll accepts: an optional '-',
// no '+', no leading zeros, no spaces, at most 20 bytes, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// Peek calls fn with the first nargs arguments (at most 4)
// of each complete multibulk command buffered after the one last returned,
// for at most maxCmds commands, without consuming anything: the server uses
// it to warm the cache lines of a pipelined batch's keys before running it.
// It stops at the first incomplete, inline or malformed command (ReadCommand
// reports those). The arguments point into the buffer and are valid only
// during fn.
func (r *Reader) Peek(maxCmds, nargs int, fn func(args [][]byte)) {
	if r.perr != nil || r.inMulti || nargs <= 0 {
		return
	}
	scratch := r.peek[:min(nargs, len(r.peek))]
	p := r.buf[r.pos:r.end]
	for ; maxCmds > 0 && len(p) > 0 && p[0] == '*'; maxCmds-- {
		n, adv, err := r.multibulkHeader(p)
		if err != nil || adv == 0 || n <= 0 {
			return
		}
		p = p[adv:]
		args := scratch[:0]
		for ; n > 0; n-- {
			ll, adv, err := r.bulkHeader(p)
			if err != nil || adv == 0 || int64(len(p)-adv) < ll+2 {
				return
			}
			if len(args) < len(scratch) {
				args = append(args, p[adv:adv+int(ll)])
			}
			p = p[adv+int(ll)+2:]
		}
		fn(args)
	}
}
