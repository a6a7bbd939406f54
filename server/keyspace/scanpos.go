package keyspace

import "math/bits"

// ScanPassed reports whether a full Scan of the dict, which last returned
// cursor (non-zero: the scan is not over), has already passed key's
// position. Scan visits hashes in reverse-binary order and its cursor only
// grows in that order, across resizes and during rehashing: after a call
// returns cursor c, every hash h with reverse(h) < reverse(c) has been
// visited, and none above. So a hash's position is exact whatever the
// table did in between, which is what a background snapshot needs to know
// whether a key about to change was already written (BGSAVE, persist.go).
func (d *Dict[V]) ScanPassed(cursor uint64, key []byte) bool {
	return bits.Reverse64(d.hashBytes(key)) < bits.Reverse64(cursor)
}

// ScanPassed is Dict.ScanPassed for the keyspace of db.
func (db *DB) ScanPassed(cursor uint64, key []byte) bool { return db.keys.ScanPassed(cursor, key) }

// ScanPassedString is ScanPassed for a key held as a string.
func (d *Dict[V]) ScanPassedString(cursor uint64, key string) bool {
	return bits.Reverse64(d.hashString(key)) < bits.Reverse64(cursor)
}

// ScanPassedString is Dict.ScanPassedString for the keyspace of db.
func (db *DB) ScanPassedString(cursor uint64, key string) bool {
	return db.keys.ScanPassedString(cursor, key)
}
