package keyspace

// ZSet is a sorted set value.
type ZSet struct {
	Dict Dict[float64]
}
