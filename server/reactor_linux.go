//go:build linux

package server

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/fluidb/fluidb/server/resp"
)

// The reactor serves client connections from one goroutine driven by
// epoll, the way Redis's event loop does: requests are handled in the order
// the kernel reports them ready, so two clients that send blocking commands
// one after the other are queued in that order, and a pipelined batch is
// read, run and answered with one read and one write. (Goroutine-per-
// connection, the fallback on other systems, lets the Go scheduler reorder
// requests that arrive together.)
//
// Only the reactor goroutine reads client sockets, closes them and arms
// epoll. Other goroutines that produce output for a client (pub/sub, an
// unblocked BLPOP, CLIENT KILL) append under the client's mutex and
// schedule the client; the reactor is woken through an eventfd.

// reactorSpins is how many empty zero-timeout polls the reactor makes
// before it blocks in epoll_wait.
const reactorSpins = 64

type reactor struct {
	s        *Server
	epfd     int
	efd      int
	conns    map[int]*Client // by fd; reactor goroutine only
	deferred []*Client       // served this round, replies not yet written
	rounds   atomic.Uint64   // rounds of events served (letClientsIn waits for one)

	mu      sync.Mutex
	pending []*Client
	stop    bool

	epollFile *os.File // epfd, registered with Go's netpoller
	epollConn syscall.RawConn
}

// wait blocks until epfd has events, parked in Go's netpoller when it can.
func (r *reactor) wait(events []syscall.EpollEvent) (int, error) {
	if r.epollConn == nil {
		return syscall.EpollWait(r.epfd, events, -1)
	}
	var n int
	var perr error
	err := r.epollConn.Read(func(fd uintptr) bool {
		n, perr = rawEpollPoll(int(fd), events)
		return n != 0 || (perr != nil && perr != syscall.EAGAIN)
	})
	if err != nil {
		return -1, err
	}
	return n, perr
}

func newReactor(s *Server) (*reactor, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, uintptr(syscall.O_CLOEXEC|syscall.O_NONBLOCK), 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, errno
	}
	r := &reactor{s: s, epfd: epfd, efd: int(efd), conns: map[int]*Client{}}
	// The reactor sleeps in Go's netpoller, not in a blocking epoll_wait:
	// a goroutine blocked in a system call keeps its P until the runtime's
	// monitor takes it back (up to ~10 ms on an idle process), and with one
	// P that delayed every other goroutine: replication links, replica
	// writers, timers. The epoll descriptor is readable when it has
	// events, so the netpoller can wait on it.
	if err := syscall.SetNonblock(epfd, true); err == nil {
		if f := os.NewFile(uintptr(epfd), "epoll"); f != nil {
			if rc, err := f.SyscallConn(); err == nil {
				r.epollFile, r.epollConn = f, rc
			}
		}
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(r.efd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, r.efd, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(r.efd)
		return nil, err
	}
	return r, nil
}

// fdReader reads a non-blocking socket for the RESP reader.
type fdReader struct {
	c  *Client
	fd int
}

func (f fdReader) Read(p []byte) (int, error) {
	for {
		n, err := rawRead(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, resp.ErrWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		f.c.s.netInput.Add(int64(n))
		return n, nil
	}
}

func rawFD(nc net.Conn) (int, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

// register hands a new connection to the reactor. It returns false when
// the connection cannot be driven by epoll (not a socket).
func (r *reactor) register(c *Client) bool {
	fd, ok := rawFD(c.conn)
	if !ok {
		return false
	}
	c.sockFD = fd
	c.inLoop = true
	c.rd = resp.NewReader(fdReader{c: c, fd: fd}, readBufSize)
	r.s.mu.Lock()
	c.applyReaderLimits()
	r.s.mu.Unlock()
	r.schedule(c, func() {
		r.conns[fd] = c
		c.events = syscall.EPOLLIN | syscall.EPOLLRDHUP
		ev := syscall.EpollEvent{Events: c.events, Fd: int32(fd)}
		if err := syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			r.closeClient(c)
		}
	})
	return true
}

// schedule asks the reactor goroutine to look at c: flush its output,
// resume it if it was unblocked, close it if it was killed. fn, if given,
// runs first on the reactor goroutine.
func (r *reactor) schedule(c *Client, fn func()) {
	r.mu.Lock()
	if fn != nil {
		c.loopTasks = append(c.loopTasks, fn)
	}
	if !c.scheduled {
		c.scheduled = true
		r.pending = append(r.pending, c)
	}
	r.mu.Unlock()
	var one = [8]byte{1}
	_, _ = syscall.Write(r.efd, one[:])
}

func (r *reactor) shutdown() {
	r.mu.Lock()
	r.stop = true
	r.mu.Unlock()
	var one = [8]byte{1}
	_, _ = syscall.Write(r.efd, one[:])
}

func (r *reactor) run() {
	defer r.s.wg.Done()
	events := make([]syscall.EpollEvent, 256)
	timeout, spins := 0, 0
	for {
		var n int
		var err error
		if timeout == 0 {
			n, err = rawEpollPoll(r.epfd, events)
		} else {
			n, err = r.wait(events)
		}
		if err != nil && err != syscall.EINTR {
			r.s.log.Printf("epoll_wait: %v", err)
			time.Sleep(time.Millisecond)
			continue
		}
		if n <= 0 {
			// Nothing ready: poll a few more times, then block. A busy
			// server's next request is usually microseconds away, and
			// going to sleep in epoll_wait costs the Go runtime a thread
			// handoff and a wakeup.
			if timeout == 0 {
				if spins++; spins >= reactorSpins {
					timeout = -1
				}
			} else if r.runPending() {
				return
			}
			continue
		}
		timeout, spins = 0, 0
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if fd == r.efd {
				var buf [8]byte
				_, _ = syscall.Read(r.efd, buf[:])
				continue
			}
			c := r.conns[fd]
			if c == nil {
				continue
			}
			r.handleEvent(c, events[i].Events)
		}
		r.flushDeferred()
		r.rounds.Add(1)
		r.wakeLink()
		if r.runPending() {
			return
		}
		// Let goroutines woken by this round run now (replica writers,
		// timers): with one thread for Go code the reactor would otherwise
		// keep it until the runtime preempts it.
		runtime.Gosched()
	}
}

// runPending serves scheduled clients; it reports true when the reactor
// must exit (shutdown with every connection closed).
func (r *reactor) runPending() bool {
	for {
		r.mu.Lock()
		list := r.pending
		r.pending = nil
		stop := r.stop
		for _, c := range list {
			c.scheduled = false
		}
		r.mu.Unlock()
		if len(list) == 0 {
			if stop {
				for _, c := range r.conns {
					r.closeClient(c)
				}
				if r.epollFile != nil {
					r.epollFile.Close()
				} else {
					syscall.Close(r.epfd)
				}
				syscall.Close(r.efd)
				return true
			}
			return false
		}
		for _, c := range list {
			r.mu.Lock()
			tasks := c.loopTasks
			c.loopTasks = nil
			r.mu.Unlock()
			for _, t := range tasks {
				t()
			}
			if c.sockFD < 0 || r.conns[c.sockFD] != c {
				continue
			}
			r.resume(c)
		}
	}
}

// resume continues a scheduled client: output, then any input it had
// buffered while it was blocked.
func (r *reactor) resume(c *Client) {
	s := r.s
	s.mu.Lock()
	closing := c.flags&flagCloseASAP != 0
	blocked := c.flags&flagBlocked != 0
	s.mu.Unlock()
	if closing {
		r.closeClient(c)
		return
	}
	if !r.flushClient(c) {
		return
	}
	if !blocked {
		if c.events&syscall.EPOLLIN == 0 {
			r.setEvents(c, c.events|syscall.EPOLLIN)
		}
		if c.rd.HasPending() {
			r.handleInput(c)
		}
	}
}

func (r *reactor) handleEvent(c *Client, ev uint32) {
	if ev&syscall.EPOLLOUT != 0 {
		if !r.flushClient(c) {
			return
		}
	}
	if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		return
	}
	if c.events&syscall.EPOLLIN == 0 {
		// Blocked: input stays in the kernel; only a hang-up matters.
		if ev&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			r.closeClient(c)
		}
		return
	}
	r.handleInput(c)
}

// handleInput runs every complete command the client has sent, under one
// acquisition of the server lock, then writes the replies.
func (r *reactor) handleInput(c *Client) {
	s := r.s
	s.mu.Lock()
	s.tick()
	c.lastActive = s.lastTick
	var readErr error
	ahead := 0 // complete commands known to follow (warmBatch saw them)
	for {
		args, err := c.rd.ReadCommand()
		if err == resp.ErrWouldBlock {
			break
		}
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.addError(pe.Error())
				s.log.Printf("Protocol error (%s) from client: id=%d addr=%s", pe.Error(), c.id, c.addr)
			}
			readErr = err
			break
		}
		if ahead == 0 {
			ahead = c.warmBatch(args, 1)
		} else {
			ahead--
		}
		c.process(args)
		if c.flags&(flagCloseAfterReply|flagCloseASAP|flagBlocked) != 0 || (ahead == 0 && !c.rd.HasPending()) {
			break
		}
	}
	if c.authenticated == c.rd.Unauthenticated {
		c.rd.Unauthenticated = !c.authenticated
	}
	closing := readErr != nil || c.flags&(flagCloseAfterReply|flagCloseASAP) != 0
	blocked := c.flags&flagBlocked != 0
	s.mu.Unlock()
	if !closing && !blocked {
		// Replies go out once every ready client has been served (run),
		// as Redis writes them before it sleeps: a round of pipelined
		// clients costs one pass of writes at its end, and a client that
		// has just been answered does not race the others back into the
		// same round (measured: a lone client waited ~25% less under a
		// pipelined load, and the load went faster).
		r.deferred = append(r.deferred, c)
		return
	}
	if !r.flushClient(c) {
		return
	}
	if closing {
		r.closeClient(c)
		return
	}
	if blocked {
		// Like Redis, a blocked client's further input waits; epoll
		// still reports a hang-up.
		r.setEvents(c, syscall.EPOLLRDHUP)
	}
}

// netpollNow lets goroutines whose sockets are ready run now. With one P
// for Go code, a goroutine waiting on a socket (the reactor on its epoll
// descriptor, the replication link on its connection) is woken by the
// netpoller, which the scheduler consults only when nothing else can run,
// or from its monitor every 10 ms; runtime.Gosched does not poll. A short
// sleep leaves nothing else runnable, so the scheduler polls at once and
// runs the ready ones before the caller.
func netpollNow() { time.Sleep(time.Microsecond) }

// letClientsIn is called by the replication link once it has applied the
// stream for a while without waiting for data (streamSlice): when
// connections have events the reactor has not taken, the link steps aside
// until the reactor has served a round (a replica's clients waited up to
// 60 ms behind a busy stream). The reactor is then either parked in
// the netpoller (netpollNow wakes it) or already runnable in the global
// run queue, woken by another thread's poll: a sleeping caller's timer puts
// it back first in line (runnext), ahead of that queue, so only Gosched,
// which queues the caller behind the reactor, lets it in (a traced 17 ms
// wait, during a GC cycle).
func (r *reactor) letClientsIn() {
	var ev [1]syscall.EpollEvent
	if n, _ := rawEpollPoll(r.epfd, ev[:]); n <= 0 {
		return
	}
	start := r.rounds.Load()
	for i := 0; i < 4; i++ {
		runtime.Gosched()
		if r.rounds.Load() != start {
			return
		}
		netpollNow()
		if r.rounds.Load() != start {
			return
		}
	}
}

// connFD returns a connection's descriptor, or -1.
func connFD(c net.Conn) int {
	if fd, ok := rawFD(c); ok {
		return fd
	}
	return -1
}

// wakeLink is letClientsIn's counterpart, called by the reactor after a
// round: when the master link's goroutine waits for data that has arrived
// (ppoll with a zero timeout says so), the reactor steps aside for it (a
// busy reactor never sleeps, so replicated writes waited for the monitor).
func (r *reactor) wakeLink() {
	v := r.s.linkWait.Load()
	if v == 0 {
		return
	}
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: v - 1, events: 0x1} // POLLIN
	var zero syscall.Timespec // ppoll, not poll: arm64 has no poll(2)
	n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	if e == 0 && n > 0 && pfd.revent != 0 {
		netpollNow()
	}
}

// flushDeferred writes the replies of the clients served this round (a
// client closed meanwhile is skipped: its descriptor may be another's now).
func (r *reactor) flushDeferred() {
	for i, c := range r.deferred {
		if r.conns[c.sockFD] == c {
			r.flushClient(c)
		}
		r.deferred[i] = nil
	}
	r.deferred = r.deferred[:0]
}

// flushClient writes what the client has pending without blocking; what
// does not fit waits for EPOLLOUT. It returns false if the client was
// closed.
func (r *reactor) flushClient(c *Client) bool {
	r.s.aofBeforeReply() // the AOF is written before replies go out (aof.go)
	c.mu.Lock()
	for len(c.out) > 0 {
		n, err := rawWrite(c.sockFD, c.out)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			c.mu.Unlock()
			r.closeClient(c)
			return false
		}
		r.s.netOutput.Add(int64(n))
		if n == len(c.out) {
			if cap(c.out) > 1<<20 {
				c.out = nil
			} else {
				c.out = c.out[:0]
			}
			break
		}
		c.out = c.out[n:]
	}
	want := len(c.out) > 0
	c.mu.Unlock()
	has := c.events&syscall.EPOLLOUT != 0
	if want != has {
		if want {
			r.setEvents(c, c.events|syscall.EPOLLOUT)
		} else {
			r.setEvents(c, c.events&^syscall.EPOLLOUT)
		}
	}
	return true
}

func (r *reactor) setEvents(c *Client, events uint32) {
	if c.sockFD < 0 || events == c.events {
		return
	}
	c.events = events
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.sockFD)}
	_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_MOD, c.sockFD, &ev)
}

// closeClient forgets the client and closes its socket; only the reactor
// goroutine closes, so an fd number is never reused under our feet.
func (r *reactor) closeClient(c *Client) {
	if c.sockFD < 0 {
		return
	}
	fd := c.sockFD
	_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	delete(r.conns, fd)
	r.s.mu.Lock()
	c.sockFD = -1
	r.s.freeClient(c)
	r.s.mu.Unlock()
	c.stopWriter()
	c.conn.Close()
}

// The reactor's socket reads and writes never block (the sockets are
// non-blocking) and neither does a zero-timeout epoll_wait, so they skip
// the Go runtime's syscall bookkeeping (RawSyscall): at pipelined rates
// that bookkeeping is a visible share of each request.

func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawEpollPoll(epfd int, events []syscall.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
