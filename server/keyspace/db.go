package keyspace

import "time"

// DB is one numbered database: the keys and an index of the keys that carry
// a TTL, which active expiry walks.
type DB struct {
	ID int
	// OnNew, when set, is called for every key Add creates (the "new"
	// keyspace event).
	OnNew func(key []byte)
	// DelStamp and DelOrigin are the stamp and origin of the key Delete
	// removed last (active replication records them as the previous
	// state of a deleted key).
	DelStamp  uint64
	DelOrigin uint32
	keys      *Dict[Entry]
	expires   *Dict[struct{}]
}

// NewDB returns an empty database.
func NewDB(id int) *DB {
	return &DB{ID: id, keys: NewDict[Entry](), expires: NewDict[struct{}]()}
}

// Len is the number of keys, expired-but-not-yet-removed ones included.
func (db *DB) Len() int { return db.keys.Len() }

// ExpiresLen is the number of keys with a TTL.
func (db *DB) ExpiresLen() int { return db.expires.Len() }

// Get returns the entry of key without any expiry check, or nil.
func (db *DB) Get(key []byte) *Entry { return db.keys.GetBytes(key) }

// GetString is Get for a string key.
func (db *DB) GetString(key string) *Entry { return db.keys.Get(key) }

// Add inserts key with an empty entry, or returns the existing one. The
// caller fills the entry in.
func (db *DB) Add(key []byte) (*Entry, bool) {
	e, isNew := db.keys.UpsertBytes(key)
	if !isNew {
		return e, false
	}
	e.Freq = LFUInitVal
	if db.OnNew != nil {
		db.OnNew(key)
	}
	return e, isNew
}

// LFUInitVal is a new key's LFU counter (Redis's LFU_INIT_VAL), so that new
// keys are not the first evicted under an LFU policy.
const LFUInitVal = 5

// Delete removes key and returns its former entry.
func (db *DB) Delete(key []byte) (Entry, bool) {
	k, ok := db.keys.KeyOf(key)
	if !ok {
		return Entry{}, false
	}
	e, _ := db.keys.Delete(k)
	db.DelStamp, db.DelOrigin = e.Stamp, e.Origin
	if e.Expire != 0 {
		db.expires.Delete(k)
	}
	return e, true
}

// SetExpire sets the absolute expiry (ms, 0 = persist) of an existing key,
// keeping the expires index in step.
func (db *DB) SetExpire(key []byte, e *Entry, at int64) {
	if (e.Expire == 0) != (at == 0) {
		k, ok := db.keys.KeyOf(key)
		if !ok {
			return
		}
		if at == 0 {
			db.expires.Delete(k)
		} else {
			db.expires.Set(k, struct{}{})
		}
	}
	e.Expire = at
}

// Clear removes every key.
func (db *DB) Clear() {
	db.keys.Clear()
	db.expires.Clear()
}

// Scan walks the keys from cursor (see Dict.Scan).
func (db *DB) Scan(cursor uint64, fn func(key string, e *Entry)) uint64 {
	return db.keys.Scan(cursor, fn)
}

// Range calls fn for every key until it returns false. fn must not add or
// remove keys.
func (db *DB) Range(fn func(key string, e *Entry) bool) { db.keys.Range(fn) }

// RandomKey returns a random key.
func (db *DB) RandomKey(r func() uint64) (string, *Entry, bool) { return db.keys.RandomKey(r) }

// ScanExpires walks the keys that have a TTL, from cursor; active expiry
// uses it. fn may delete the key it is given (through DB.Delete).
func (db *DB) ScanExpires(cursor uint64, fn func(key string, e *Entry)) uint64 {
	return db.expires.Scan(cursor, func(k string, _ *struct{}) {
		if e := db.keys.Get(k); e != nil {
			fn(k, e)
		}
	})
}

// RandomVolatileKey returns a random key among those with a TTL.
func (db *DB) RandomVolatileKey(r func() uint64) (string, *Entry, bool) {
	for i := 0; i < 16; i++ {
		k, _, ok := db.expires.RandomKey(r)
		if !ok {
			return "", nil, false
		}
		if e := db.keys.Get(k); e != nil {
			return k, e, true
		}
	}
	return "", nil, false
}

// RehashSome moves up to n buckets of each table.
func (db *DB) RehashSome(n int) {
	db.keys.RehashSome(n)
	db.expires.RehashSome(n)
}

// Rehash moves the buckets of a growing or shrinking table, the keys'
// first and then the expiry times', 100 at a time until both are done or
// budget has passed; it reports whether there was any to move. Lookups do
// not move buckets, and a write moves one, so without this a table that
// grew and then only saw updates stayed half-moved for minutes, every
// lookup probing two tables (the server cron calls it, activerehashing).
func (db *DB) Rehash(budget time.Duration) bool {
	if !db.keys.Rehashing() && !db.expires.Rehashing() {
		return false
	}
	start := time.Now()
	for db.keys.RehashSome(100) && time.Since(start) < budget {
	}
	for db.expires.RehashSome(100) && time.Since(start) < budget {
	}
	return true
}

// Swap exchanges the contents of two databases (SWAPDB).
func (db *DB) Swap(o *DB) {
	db.keys, o.keys = o.keys, db.keys
	db.expires, o.expires = o.expires, db.expires
}

// Warm prepares the lookups of keys (see Dict.Warm).
func (db *DB) Warm(keys [][]byte) int { return db.keys.Warm(keys) }
