// Package rdb reads and writes Redis's RDB snapshot format (version 10, the
// one Redis 7.0 writes) and the DUMP/RESTORE payload built from the same
// value encoding. It is independent of the server: it works on
// keyspace.Entry values and leaves locking, files and configuration to the
// caller.
//
// Writing uses the plain encodings every Redis since 2.x loads (string, list,
// set, hash, zset with binary scores), with integer and LZF string encodings.
// Reading accepts every encoding Redis 7.0 writes (ziplist, listpack,
// quicklist, intset, zipmap, ...) and the 7.2 listpack set. fluidb's own
// metadata rides in AUX fields, which Redis skips by contract; see
// docs/persistence.md for the layout.
//
// Every length read from a file is checked against what the input can still
// hold before anything is allocated, and every malformed input returns an
// *Error carrying the byte offset; the reader never panics (FuzzLoad).
package rdb

// Version is the RDB format version this package writes (Redis 7.0).
const Version = 10

// maxReadVersion is the newest format read: 11 (Redis 7.2) only adds the
// listpack set and a stream layout, which are handled or refused by type.
const maxReadVersion = 11

// Object types.
const (
	TypeString           = 0
	TypeList             = 1
	TypeSet              = 2
	TypeZSet             = 3
	TypeHash             = 4
	TypeZSet2            = 5
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19
	TypeSetListpack      = 20
	TypeStreamListpacks3 = 21
)

// Opcodes.
const (
	opFunction2    = 245
	opFunction     = 246 // 7.0 release candidates
	opModuleAux    = 247
	opIdle         = 248
	opFreq         = 249
	opAux          = 250
	opResizeDB     = 251
	opExpireTimeMs = 252
	opExpireTime   = 253
	opSelectDB     = 254
	opEOF          = 255
)

// Length and string encodings.
const (
	len6Bit  = 0
	len14Bit = 1
	len32Bit = 0x80
	len64Bit = 0x81
	lenEnc   = 3

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// fluidb's AUX field names. Redis ignores AUX fields it does not know.
const (
	AuxNode       = "fluidb-node"    // this node's UUID, text form
	AuxHLC        = "fluidb-hlc"     // clock high-water mark, decimal
	AuxVersion    = "fluidb-ver"     // fluidb version that wrote the file
	AuxOrigin     = "fluidb-origin"  // defines a file-local origin index
	AuxStamp      = "fluidb-stamp"   // stamp and origin of the next key
	AuxLineage    = "fluidb-lineage" // earlier processes whose data the file holds, comma-separated UUIDs
	AuxTomb       = "fluidb-tomb"    // a delete tombstone: "<db> <stamp> <origin-uuid> <key>"
	AuxFlush      = "fluidb-flush"   // a database's flush stamp: "<db> <stamp> <origin-uuid>"
	AuxReplID     = "repl-id"
	AuxReplOffset = "repl-offset"
)
