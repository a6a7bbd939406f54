// Package resp is the server side of the Redis wire protocol (RESP2 and
// RESP3, Redis 7.0 semantics).
//
// It holds three things:
//
//   - Reader, which parses client requests (multibulk and inline) from a
//     connection. It parses pipelined requests straight out of one large
//     read buffer so that a batch of small commands costs one read syscall
//     and no allocations, and it answers malformed input with the same
//     error text Redis sends so that clients and test suites written
//     against Redis see no difference.
//   - The Append* functions and Writer, which encode replies. Writer knows
//     the protocol version negotiated with HELLO, so command handlers can
//     emit maps, sets, doubles and nulls without caring whether the client
//     speaks RESP2 or RESP3.
//   - Number formatters that reproduce the exact text Redis 7.0 prints for
//     doubles (scores) and for INCRBYFLOAT results, because clients compare
//     those strings byte for byte.
//
// The package sits at the bottom of the dependency graph: it must not import
// other fluidb packages (only the standard library), so that the server, the
// replication and AOF code and the tools can all use it without cycles.
package resp
