package ops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Reply is one RESP2 reply.
type Reply struct {
	Type  byte // '+' status, '-' error, ':' integer, '$' bulk, '*' array
	Str   string
	Int   int64
	Elems []Reply
	Null  bool // a null bulk string or null array
}

// ServerError is an error reply ("-ERR ...") as a Go error. The connection
// is still usable after one.
type ServerError string

func (e ServerError) Error() string { return string(e) }

// Bounds on what a reply may make us allocate: a misbehaving server must not
// make the client allocate gigabytes.
const (
	maxBulkLen  = 64 << 20
	maxArrayLen = 1 << 20
	maxDepth    = 8
)

// Client is a connection to one node. It sends one command at a time and is
// not safe for concurrent use.
type Client struct {
	addr    Addr
	conn    net.Conn
	r       *bufio.Reader
	w       []byte
	timeout time.Duration
}

// DefaultTimeout bounds dialing and each command when no timeout is given.
const DefaultTimeout = 3 * time.Second

// Dial connects to a node and authenticates with its password, if any. Every
// later command is bounded by timeout (DefaultTimeout when 0) and by ctx.
func Dial(ctx context.Context, a Addr, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", a.String())
	if err != nil {
		return nil, &Error{Kind: ErrUnreachable, Node: a.String(), Err: err}
	}
	c := &Client{addr: a, conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	if a.Password != "" {
		_, err := c.Do(ctx, "AUTH", a.Password)
		var se ServerError
		switch {
		case errors.As(err, &se) && strings.Contains(string(se), "without any password configured"):
			// Like redis-cli: a password the server does not need is harmless.
		case err != nil:
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// Addr is the address the client dialed.
func (c *Client) Addr() Addr { return c.addr }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends one command and reads its reply. An error reply comes back as a
// ServerError; any other error means the connection is broken and the
// caller should close it. Errors are *Error values naming the node, so that
// an authentication failure or an unreachable node maps to its exit code.
func (c *Client) Do(ctx context.Context, args ...string) (Reply, error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.conn.SetDeadline(deadline)
	// A cancelled context interrupts a read in progress.
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c.w = appendCommand(c.w[:0], args)
	if _, err := c.conn.Write(c.w); err != nil {
		return Reply{}, c.wrap(ctxErr(ctx, err))
	}
	r, err := readReply(c.r, 0)
	if err != nil {
		return Reply{}, c.wrap(ctxErr(ctx, err))
	}
	if r.Type == '-' {
		return r, c.wrap(ServerError(r.Str))
	}
	return r, nil
}

// String runs a command whose reply is a status or bulk string.
func (c *Client) String(ctx context.Context, args ...string) (string, error) {
	r, err := c.Do(ctx, args...)
	if err != nil {
		return "", err
	}
	return r.Str, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// wrap names the node in err and classifies it.
func (c *Client) wrap(err error) error {
	e := &Error{Kind: ErrOther, Node: c.addr.String(), Err: err}
	var se ServerError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		if isAuthError(string(se)) {
			e.Kind = ErrAuth
			e.Hint = "give the password with --password, FLUIDB_PASSWORD or a redis://:password@host:port address"
		}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Kind = ErrTimeout
	case errors.Is(err, context.Canceled):
	default:
		e.Kind = ErrUnreachable
	}
	return e
}

func isAuthError(s string) bool {
	return strings.HasPrefix(s, "NOAUTH") || strings.HasPrefix(s, "WRONGPASS") ||
		strings.HasPrefix(s, "ERR invalid password") || strings.HasPrefix(s, "NOPERM")
}

func appendCommand(b []byte, args []string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// ReadReply reads one RESP2 reply from r.
func ReadReply(r *bufio.Reader) (Reply, error) { return readReply(r, 0) }

func readReply(r *bufio.Reader, depth int) (Reply, error) {
	line, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, errors.New("protocol error: empty line")
	}
	t, rest := line[0], line[1:]
	switch t {
	case '+', '-':
		return Reply{Type: t, Str: rest}, nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return Reply{}, fmt.Errorf("protocol error: bad integer %q", rest)
		}
		return Reply{Type: t, Int: n}, nil
	case '$':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxBulkLen {
			return Reply{}, fmt.Errorf("protocol error: bad bulk length %q", rest)
		}
		if n == -1 {
			return Reply{Type: t, Null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, errors.New("protocol error: bulk string not terminated by CRLF")
		}
		return Reply{Type: t, Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxArrayLen {
			return Reply{}, fmt.Errorf("protocol error: bad array length %q", rest)
		}
		if n == -1 {
			return Reply{Type: t, Null: true}, nil
		}
		if depth >= maxDepth {
			return Reply{}, errors.New("protocol error: arrays nested too deep")
		}
		elems := make([]Reply, n)
		for i := range elems {
			if elems[i], err = readReply(r, depth+1); err != nil {
				return Reply{}, err
			}
		}
		return Reply{Type: t, Elems: elems}, nil
	}
	return Reply{}, fmt.Errorf("protocol error: unexpected reply type %q", t)
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", errors.New("protocol error: reply line too long")
	}
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errors.New("protocol error: line not terminated by CRLF")
	}
	return string(line[:len(line)-2]), nil
}
