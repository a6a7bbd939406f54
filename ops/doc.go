// Package ops holds fluidb's client-side operations: a small RESP2 client,
// the parsers for INFO and ROLE, node addresses and passwords, the Poller
// that feeds `fluidb watch`, peer discovery, and pairing (`fluidb pair`).
//
// It talks to nodes only over the wire protocol, so it works against any
// fluidb or Redis server, and it must not import server/ or tui/.
package ops
