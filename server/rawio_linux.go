//go:build linux

package server

import (
	"io"
	"net"
	"syscall"
)

// The replication link's reads and a replica's stream writes go through
// the connection's RawConn with raw system calls: Go's netpoller still
// parks the goroutine when the socket is not ready, but a read or write
// that is ready does not enter the runtime's syscall state. With one P
// (io-threads 1), a write to a loopback peer that ran past the runtime
// monitor's 20 us tick handed the P to another thread and back: two
// context switches per write, and on a busy two-core machine each
// switch waits in the kernel's run queue (docs/performance.md).

// rawConnIO reads and writes a connection with raw system calls.
type rawConnIO struct {
	rc syscall.RawConn
}

// newRawConnIO returns nil when conn has no descriptor.
func newRawConnIO(conn net.Conn) *rawConnIO {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawConnIO{rc: rc}
}

// Read reads what the socket has, waiting in the netpoller (and under the
// connection's read deadline) while it has nothing.
func (r *rawConnIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = rawRead(int(fd), p)
			if rerr == syscall.EINTR {
				continue
			}
			return rerr != syscall.EAGAIN
		}
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// WriteAll writes all of p, waiting in the netpoller while the socket is
// full.
func (r *rawConnIO) WriteAll(p []byte) error {
	var werr error
	err := r.rc.Write(func(fd uintptr) bool {
		for len(p) > 0 {
			n, e := rawWrite(int(fd), p)
			switch e {
			case nil:
				p = p[n:]
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}
