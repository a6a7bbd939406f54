package keyspace

import "github.com/google/uuid"

// Origins interns node UUIDs as small integers, so every entry carries a
// 4-byte origin instead of a 16-byte UUID. Index 0 is "unknown" (data loaded
// from a plain Redis file, for instance).
type Origins struct {
	ids   []uuid.UUID
	index map[uuid.UUID]uint32
}

// NewOrigins returns a table holding only the unknown origin.
func NewOrigins() *Origins {
	return &Origins{ids: []uuid.UUID{uuid.Nil}, index: map[uuid.UUID]uint32{uuid.Nil: 0}}
}

// Intern returns id's index, adding it if new.
func (o *Origins) Intern(id uuid.UUID) uint32 {
	if i, ok := o.index[id]; ok {
		return i
	}
	i := uint32(len(o.ids))
	o.ids = append(o.ids, id)
	o.index[id] = i
	return i
}

// ID returns the UUID at index i (uuid.Nil when unknown).
func (o *Origins) ID(i uint32) uuid.UUID {
	if int(i) < len(o.ids) {
		return o.ids[i]
	}
	return uuid.Nil
}

// Len is the number of interned origins, unknown included.
func (o *Origins) Len() int { return len(o.ids) }
