// Package activetest holds the process-level tests of active replication
// (docs/active-replication.md, issue 5): real fluidb processes on loopback
// ports, paired through TCP forwarders the tests cut and heal, checked
// through the protocol only (DEBUG DIGEST, FLUIDB STAMP, INFO, ROLE), never
// through the server's internals.
//
// The package has no code outside its tests. Its tests import no fluidb
// package except internal/testutil, which builds the binary and picks
// free ports.
package activetest
