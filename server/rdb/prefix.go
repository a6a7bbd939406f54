package rdb

import "io"

// LoadPrefix is Load for an RDB stream that other data follows (an
// append-only file with an RDB preamble and a command tail): it also
// returns the input offset just past the RDB's checksum. The reader reads
// ahead, so in is left at an unspecified position.
func LoadPrefix(in io.Reader, size int64, opts *Options, fn func(*Record) error) (*Info, int64, error) {
	if opts == nil {
		opts = &Options{Limits: DefaultLimits()}
	}
	d := &decoder{r: newReader(in, size), lim: opts.Limits, opts: opts, origins: map[uint64]uint32{}}
	info, err := d.load(fn)
	return info, d.r.offset(), err
}
