// Package clock is fluidb's hybrid logical clock: every write is stamped
// with a 64-bit value, 48 bits of wall-clock milliseconds and 16 bits of
// logical counter, such that a node's stamps only grow and every stamp it has
// seen from a peer is smaller than its next one. It imports nothing else of
// fluidb.
package clock

import "time"

// Stamp is an HLC value: physical ms << 16 | logical counter.
type Stamp = uint64

const logicalBits = 16
const logicalMask = 1<<logicalBits - 1

// Make builds a stamp from its parts.
func Make(ms int64, logical uint16) Stamp { return Stamp(ms)<<logicalBits | Stamp(logical) }

// Millis is the physical part of s.
func Millis(s Stamp) int64 { return int64(s >> logicalBits) }

// Logical is the counter part of s.
func Logical(s Stamp) uint16 { return uint16(s & logicalMask) }

// Clock is one node's HLC. It is not safe for concurrent use: the server
// calls it under its own lock, on the write path, where a mutex would cost.
type Clock struct {
	last Stamp
	// Now returns wall-clock ms; tests replace it.
	Now func() int64
	// MaxSkewMs bounds how far ahead of our wall clock a remote stamp may
	// be; 0 disables the check.
	MaxSkewMs int64
	// Clamped counts remote stamps that were too far ahead.
	Clamped uint64
}

// New returns a clock reading the system time.
func New() *Clock {
	return &Clock{Now: func() int64 { return time.Now().UnixMilli() }}
}

// Next returns a stamp for a local write: larger than every stamp issued or
// observed so far.
func (c *Clock) Next() Stamp {
	pt := Make(c.Now(), 0)
	if pt > c.last {
		c.last = pt
	} else {
		c.last++
	}
	return c.last
}

// Last is the high-water mark: the largest stamp issued or observed.
func (c *Clock) Last() Stamp { return c.last }

// Observe advances the clock past a remote stamp. A stamp further ahead of
// our wall clock than MaxSkewMs is not absorbed (it would drag every later
// local stamp into the future); Observe reports it so the caller can count
// or refuse it.
func (c *Clock) Observe(s Stamp) (tooFar bool) {
	if c.MaxSkewMs > 0 && Millis(s) > c.Now()+c.MaxSkewMs {
		c.Clamped++
		return true
	}
	if s > c.last {
		c.last = s
	}
	return false
}

// Restore raises the high-water mark to a persisted value after a restart,
// so the node never issues a smaller stamp than before it stopped.
func (c *Clock) Restore(s Stamp) {
	if s > c.last {
		c.last = s
	}
}
