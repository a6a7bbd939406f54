//go:build linux

package server

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// The replication link's reads and a replica's stream writes go through
// the connection's RawConn with raw system calls: Go's netpoller still
// parks the goroutine when the socket is not ready, but a read or write
// that is ready does not enter the runtime's syscall state. With one P
// (io-threads 1), a write to a loopback peer that ran past the runtime
// monitor's 20 us tick handed the P to another thread and back: two
// context switches per write, and on a busy two-core machine each
// switch waits in the kernel's run queue (docs/architecture.md,
// docs/active-replication.md "What changed the tail").

// rawConnIO reads and writes a connection with raw system calls (through
// the connection itself when it has no descriptor).
type rawConnIO struct {
	conn net.Conn
	rc   syscall.RawConn
}

func newRawConnIO(conn net.Conn) *rawConnIO {
	r := &rawConnIO{conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r.rc = rc
		}
	}
	return r
}

// Read reads what the socket has, waiting in the netpoller (and under the
// connection's read deadline) while it has nothing; waited says it did.
func (r *rawConnIO) Read(p []byte) (n int, waited bool, err error) {
	if r.rc == nil {
		n, err = r.conn.Read(p)
		return n, false, err
	}
	if len(p) == 0 {
		return 0, false, nil
	}
	var rerr error
	err = r.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = rawRead(int(fd), p)
			if rerr == syscall.EINTR {
				continue
			}
			if rerr == syscall.EAGAIN {
				waited = true
				return false
			}
			return true
		}
	})
	if err != nil {
		return 0, waited, err
	}
	if rerr != nil {
		return 0, waited, rerr
	}
	if n == 0 {
		return 0, waited, io.EOF
	}
	return n, waited, nil
}

// WriteAll writes all of bufs in order (writev), waiting in the netpoller
// while the socket is full; bufs itself is not changed.
func (r *rawConnIO) WriteAll(bufs [][]byte) error {
	if r.rc == nil {
		return writeBuffers(r.conn, bufs)
	}
	var iov [64]syscall.Iovec
	var werr error
	off := 0 // bytes of bufs[0] already written
	err := r.rc.Write(func(fd uintptr) bool {
		for len(bufs) > 0 {
			if len(bufs[0]) == off {
				bufs, off = bufs[1:], 0
				continue
			}
			k := 0
			for i, b := range bufs {
				if i == 0 {
					b = b[off:]
				}
				if k == len(iov) {
					break
				}
				if len(b) > 0 {
					iov[k].Base = &b[0]
					iov[k].SetLen(len(b))
					k++
				}
			}
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
			switch e {
			case 0:
				for w := int(n); w > 0; {
					if left := len(bufs[0]) - off; w >= left {
						w -= left
						bufs, off = bufs[1:], 0
					} else {
						off += w
						w = 0
					}
				}
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
