package activetest

import (
	"strconv"
	"testing"

	"github.com/fluidb/fluidb/internal/netcut"
)

// forwarder is the partition tool (internal/netcut) in front of one node:
// a node replicates from its peer through the forwarder in front of that
// peer, so a test partitions the pair by cutting forwarders.
type forwarder struct{ *netcut.Forwarder }

func newForwarder(t testing.TB, target string) *forwarder {
	t.Helper()
	f, err := netcut.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return &forwarder{f}
}

func (f *forwarder) portString() string { return strconv.Itoa(f.Port()) }
