// Package keyspace holds fluidb's data: databases of keys, each key's value,
// its absolute expiry and its replication stamp (hybrid logical clock value
// plus origin node), and the data structures behind each Redis type.
//
// It knows nothing of sockets, RESP or commands, so it can be tested and
// benchmarked alone. It must not import any other fluidb package.
package keyspace
