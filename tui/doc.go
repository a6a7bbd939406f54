// Package tui is `fluidb watch`: a bubbletea dashboard of a group of nodes,
// and the plain-text and JSON snapshots printed without a terminal.
//
// It never does I/O in Update: ops.Poller polls the nodes in its own
// goroutines and each round arrives as a SnapshotsMsg. It imports ops and
// must not import server/.
package tui
