//go:build !linux

package server

import "net"

// rawConnIO is the connection itself outside Linux (see rawio_linux.go).
type rawConnIO struct {
	conn net.Conn
}

func newRawConnIO(conn net.Conn) *rawConnIO { return &rawConnIO{conn: conn} }

// Read reads from the connection; whether it had to wait is not known
// here (false).
func (r *rawConnIO) Read(p []byte) (n int, waited bool, err error) {
	n, err = r.conn.Read(p)
	return n, false, err
}

// WriteAll writes all of bufs in order; bufs itself is not changed.
func (r *rawConnIO) WriteAll(bufs [][]byte) error { return writeBuffers(r.conn, bufs) }
