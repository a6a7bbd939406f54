package keyspace

// Kind is a value's Redis type.
type Kind uint8

// The Redis types. The string names are what TYPE answers.
const (
	KindString Kind = iota
	KindList
	KindHash
	KindSet
	KindZSet
	KindStream
)

var kindNames = [...]string{"string", "list", "hash", "set", "zset", "stream"}

func (k Kind) String() string { return kindNames[k] }

// Entry is one key's state. A string value lives in Str; every other type in
// Obj (*List, *Hash, *Set, *ZSet). Expire is an absolute Unix time in ms (0:
// none). Stamp and Origin record the last write to the key, as made at its
// origin node: active replication decides conflicts with them.
type Entry struct {
	Str    []byte
	Obj    any
	Expire int64
	Stamp  uint64
	Origin uint32
	// Access is the LRU clock (seconds, truncated) of the last access, for
	// OBJECT IDLETIME; Freq is the LFU counter for OBJECT FREQ.
	Access uint32
	Freq   uint8
	// StrEnc remembers whether a string was stored as an integer, for
	// OBJECT ENCODING ("int", "embstr", "raw").
	StrEnc uint8
}

// Kind returns the type of the entry's value.
func (e *Entry) Kind() Kind {
	switch e.Obj.(type) {
	case nil:
		return KindString
	case *List:
		return KindList
	case *Hash:
		return KindHash
	case *Set:
		return KindSet
	case *ZSet:
		return KindZSet
	case *Stream:
		return KindStream
	}
	panic("keyspace: unknown object type")
}

// ExpiredAt says whether the entry is past its expiry at time now (ms).
func (e *Entry) ExpiredAt(now int64) bool { return e.Expire != 0 && e.Expire <= now }

// Stream is reserved for the stream type (a later issue).
type Stream struct{}
