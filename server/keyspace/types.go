package keyspace

// Hash is a hash value: field -> value. Big records that the hash once
// outgrew the compact-encoding limits (Redis never converts back), so
// OBJECT ENCODING answers as Redis would.
type Hash struct {
	Dict[[]byte]
	Big bool
}

// NewHash returns an empty hash.
func NewHash() *Hash { return &Hash{Dict: *NewDict[[]byte]()} }

// Set is a set value. Encoding tracks what Redis would use (intset,
// listpack, hashtable), sticky once it grows out of the compact forms.
type Set struct {
	Dict[struct{}]
	Encoding string
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{Dict: *NewDict[struct{}](), Encoding: "listpack"} }

// Stream is reserved for the stream type (a later issue).
type Stream struct{}
