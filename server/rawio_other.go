//go:build !linux

package server

import "net"

// rawConnIO is the connection itself outside Linux (see rawio_linux.go).
type rawConnIO struct {
	conn net.Conn
}

func newRawConnIO(conn net.Conn) *rawConnIO { return &rawConnIO{conn: conn} }

func (r *rawConnIO) Read(p []byte) (int, error) { return r.conn.Read(p) }

// WriteAll writes all of bufs in order; bufs itself is not changed.
func (r *rawConnIO) WriteAll(bufs [][]byte) error { return writeBuffers(r.conn, bufs) }
