package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fluidb/fluidb/server/keyspace"
)

// Limits are the *-max-listpack-* settings that decide, as in Redis's
// loader, whether a loaded collection starts small (listpack/intset) or big
// (hashtable/skiplist), so OBJECT ENCODING answers what Redis would.
type Limits struct {
	HashMaxListpackEntries int64
	HashMaxListpackValue   int64
	SetMaxIntsetEntries    int64
	ZSetMaxListpackEntries int64
	ZSetMaxListpackValue   int64
}

// DefaultLimits are Redis 7.0's defaults.
func DefaultLimits() Limits {
	return Limits{128, 64, 512, 128, 64}
}

// Options control Load.
type Options struct {
	Limits Limits
	// VerifyChecksum checks the trailing CRC64 (rdbchecksum); a stored zero
	// means the writer did not compute one and is accepted.
	VerifyChecksum bool
	// Origins receives the origin UUIDs of the keys' stamps; with nil,
	// stamps are not restored.
	Origins *keyspace.Origins
	// Databases bounds SELECTDB; 0 means no bound.
	Databases int
	// Logf, if set, receives notes about skipped content.
	Logf func(format string, args ...any)
}

// Record is one loaded key. Entry holds the value, Expire, Stamp and
// Origin; the caller sets Access/Freq from Idle and Freq.
type Record struct {
	DB    int
	Key   []byte
	Entry keyspace.Entry
	Idle  int64 // LRU idle seconds, -1 if the file has none
	Freq  int   // LFU counter, -1 if the file has none
}

// Info describes a loaded file.
type Info struct {
	Version          int
	Aux              map[string]string // file-level AUX fields
	Keys             int64             // records handed to the callback
	EmptyKeysSkipped int64
	Functions        [][]byte // function libraries' code (FUNCTION2), not loaded
	HLC              uint64   // fluidb-hlc, 0 if absent
	MaxStamp         uint64   // largest key stamp seen
	ReplID           string
	ReplOffset       int64
	ReplOffsetSet    bool
	Checksum         uint64 // as stored; 0 = not computed
	// Active replication's delete tombstones and flush stamps
	// (fluidb-tomb, fluidb-flush), as written: see Tomb.
	Tombs   []Tomb
	Flushes []Tomb
}

// Tomb is a fluidb-tomb or fluidb-flush AUX field: the key (empty for a
// flush) of database DB was deleted by the write stamped Stamp at Origin
// (a UUID in text form).
type Tomb struct {
	DB     int
	Key    []byte
	Stamp  uint64
	Origin string
}

// ParseTomb reads the value of a fluidb-tomb (withKey) or fluidb-flush
// field.
func ParseTomb(v []byte, withKey bool) (Tomb, bool) {
	var t Tomb
	fields := 3
	if withKey {
		fields = 4
	}
	parts := strings.SplitN(string(v), " ", fields)
	if len(parts) != fields {
		return t, false
	}
	db, err1 := strconv.Atoi(parts[0])
	st, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || db < 0 || len(parts[2]) != 36 {
		return t, false
	}
	t.DB, t.Stamp, t.Origin = db, st, parts[2]
	if withKey {
		t.Key = []byte(parts[3])
	}
	return t, true
}

// FormatTomb is ParseTomb's inverse (key nil for a flush).
func FormatTomb(db int, stamp uint64, origin string, key []byte) string {
	s := strconv.Itoa(db) + " " + strconv.FormatUint(stamp, 10) + " " + origin
	if key != nil {
		s += " " + string(key)
	}
	return s
}

type decoder struct {
	r       *reader
	lim     Limits
	opts    *Options
	origins map[uint64]uint32 // file-local origin index -> interned index
}

// Load reads an RDB stream and calls fn for every key in order. size is the
// input length if known (a file's size), or -1; with a known size a
// corrupt length is refused before anything is allocated for it.
func Load(in io.Reader, size int64, opts *Options, fn func(*Record) error) (*Info, error) {
	if opts == nil {
		opts = &Options{Limits: DefaultLimits()}
	}
	d := &decoder{r: newReader(in, size), lim: opts.Limits, opts: opts, origins: map[uint64]uint32{}}
	return d.load(fn)
}

func (d *decoder) logf(format string, args ...any) {
	if d.opts.Logf != nil {
		d.opts.Logf(format, args...)
	}
}

func (d *decoder) load(fn func(*Record) error) (*Info, error) {
	r := d.r
	hdr, err := r.next(9)
	if err != nil {
		return nil, err
	}
	if string(hdr[:5]) != "REDIS" {
		return nil, &Error{Offset: 0, Msg: "not an RDB file (wrong signature)"}
	}
	ver := 0
	for _, c := range hdr[5:] {
		if c < '0' || c > '9' {
			return nil, &Error{Offset: 5, Msg: fmt.Sprintf("invalid RDB version %q", hdr[5:])}
		}
		ver = ver*10 + int(c-'0')
	}
	if ver < 1 || ver > maxReadVersion {
		return nil, &Error{Offset: 5, Msg: fmt.Sprintf("can't handle RDB format version %d", ver)}
	}
	info := &Info{Version: ver, Aux: map[string]string{}}
	db := 0
	rec := Record{Idle: -1, Freq: -1}
	var stamp uint64
	var origin uint32
	hasStamp := false
	for {
		opAt := r.offset()
		op, err := r.readByte()
		if err != nil {
			return nil, err
		}
		switch op {
		case opExpireTime:
			p, err := r.next(4)
			if err != nil {
				return nil, err
			}
			rec.Entry.Expire = int64(int32(binary.LittleEndian.Uint32(p))) * 1000
			continue
		case opExpireTimeMs:
			v, err := r.readUint64LE()
			if err != nil {
				return nil, err
			}
			rec.Entry.Expire = int64(v)
			continue
		case opFreq:
			b, err := r.readByte()
			if err != nil {
				return nil, err
			}
			rec.Freq = int(b)
			continue
		case opIdle:
			v, err := r.readLen()
			if err != nil {
				return nil, err
			}
			if v > math.MaxInt64 {
				v = math.MaxInt64
			}
			rec.Idle = int64(v)
			continue
		case opEOF:
			if ver >= 5 {
				computed := r.sum()
				stored, err := r.readUint64LE()
				if err != nil {
					return nil, err
				}
				info.Checksum = stored
				if d.opts.VerifyChecksum && stored != 0 && stored != computed {
					return nil, &Error{Offset: r.offset() - 8, Msg: fmt.Sprintf("RDB CRC error: file has %016x, content sums to %016x", stored, computed)}
				}
			}
			return info, nil
		case opSelectDB:
			v, err := r.readLen()
			if err != nil {
				return nil, err
			}
			if (d.opts.Databases > 0 && v >= uint64(d.opts.Databases)) || v > math.MaxInt32 {
				return nil, &Error{Offset: opAt, Msg: fmt.Sprintf("the file selects database %d, this server has %d (raise 'databases')", v, d.opts.Databases)}
			}
			db = int(v)
			continue
		case opResizeDB:
			if _, err := r.readLen(); err != nil {
				return nil, err
			}
			if _, err := r.readLen(); err != nil {
				return nil, err
			}
			continue
		case opAux:
			k, err := r.readString()
			if err != nil {
				return nil, err
			}
			v, err := r.readString()
			if err != nil {
				return nil, err
			}
			switch string(k) {
			case AuxStamp:
				s, idx, ok := parseStamp(v)
				if !ok {
					return nil, &Error{Offset: opAt, Msg: "malformed fluidb-stamp field"}
				}
				o, known := d.origins[idx]
				if idx != 0 && !known {
					return nil, &Error{Offset: opAt, Msg: fmt.Sprintf("fluidb-stamp names undefined origin %d", idx)}
				}
				stamp, origin, hasStamp = s, o, true
			case AuxOrigin:
				idx, n := binary.Uvarint(v)
				if n <= 0 || idx == 0 || len(v)-n != 16 {
					return nil, &Error{Offset: opAt, Msg: "malformed fluidb-origin field"}
				}
				if d.opts.Origins != nil {
					id := d.opts.Origins.ID(0) // a uuid.UUID, without importing uuid
					copy(id[:], v[n:])
					d.origins[idx] = d.opts.Origins.Intern(id)
				} else {
					d.origins[idx] = 0
				}
			case AuxTomb, AuxFlush:
				t, ok := ParseTomb(v, string(k) == AuxTomb)
				if !ok {
					return nil, &Error{Offset: opAt, Msg: "malformed " + string(k) + " field"}
				}
				if string(k) == AuxTomb {
					info.Tombs = append(info.Tombs, t)
				} else {
					info.Flushes = append(info.Flushes, t)
				}
			default:
				d.aux(info, string(k), string(v))
			}
			continue
		case opModuleAux:
			if err := d.skipModuleAux(); err != nil {
				return nil, err
			}
			continue
		case opFunction2:
			code, err := r.readString()
			if err != nil {
				return nil, err
			}
			info.Functions = append(info.Functions, code)
			d.logf("RDB holds a function library (%d bytes): functions are not supported yet, skipped", len(code))
			continue
		case opFunction:
			code, err := d.readOldFunction()
			if err != nil {
				return nil, err
			}
			info.Functions = append(info.Functions, code)
			d.logf("RDB holds a function library (7.0-rc format): functions are not supported yet, skipped")
			continue
		}
		key, err := r.readString()
		if err != nil {
			return nil, err
		}
		ent, empty, err := d.readObject(op, key, opAt)
		if err != nil {
			return nil, err
		}
		if empty {
			info.EmptyKeysSkipped++
			if info.EmptyKeysSkipped <= 10 {
				d.logf("RDB: skipping empty key %q", key)
			}
		} else {
			rec.DB = db
			rec.Key = key
			ent.Expire = rec.Entry.Expire
			if hasStamp {
				ent.Stamp, ent.Origin = stamp, origin
				if stamp > info.MaxStamp {
					info.MaxStamp = stamp
				}
			}
			rec.Entry = ent
			info.Keys++
			if err := fn(&rec); err != nil {
				return nil, err
			}
		}
		rec = Record{Idle: -1, Freq: -1}
		hasStamp, stamp, origin = false, 0, 0
	}
}

func parseStamp(v []byte) (stamp, origin uint64, ok bool) {
	if len(v) < 9 {
		return 0, 0, false
	}
	stamp = binary.LittleEndian.Uint64(v)
	origin, n := binary.Uvarint(v[8:])
	return stamp, origin, n > 0 && 8+n == len(v)
}

func (d *decoder) aux(info *Info, k, v string) {
	info.Aux[k] = v
	switch k {
	case AuxHLC:
		info.HLC, _ = strconv.ParseUint(v, 10, 64)
	case AuxReplID:
		info.ReplID = v
	case AuxReplOffset:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			info.ReplOffset, info.ReplOffsetSet = n, true
		}
	}
}

// readOldFunction reads a 7.0-rc FUNCTION record: name, engine, optional
// description, code.
func (d *decoder) readOldFunction() ([]byte, error) {
	r := d.r
	for i := 0; i < 2; i++ {
		if err := r.skipString(); err != nil {
			return nil, err
		}
	}
	hasDesc, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if hasDesc != 0 {
		if err := r.skipString(); err != nil {
			return nil, err
		}
	}
	return r.readString()
}

// Module serialization opcodes (RDB_MODULE_OPCODE_*), self-describing, so
// module AUX data can be skipped without the module.
const (
	modEOF = iota
	modSInt
	modUInt
	modFloat
	modDouble
	modString
)

func (d *decoder) skipModuleAux() error {
	r := d.r
	at := r.offset()
	id, err := r.readLen()
	if err != nil {
		return err
	}
	whenOp, err := r.readLen()
	if err != nil {
		return err
	}
	if _, err := r.readLen(); err != nil {
		return err
	}
	if whenOp != modUInt {
		return &Error{Offset: at, Msg: "module AUX data with a bad 'when' opcode"}
	}
	if err := d.skipModuleValue(); err != nil {
		return err
	}
	d.logf("RDB: skipped AUX data of module %q (modules are not supported)", ModuleName(id))
	return nil
}

func (d *decoder) skipModuleValue() error {
	r := d.r
	for {
		at := r.offset()
		op, err := r.readLen()
		if err != nil {
			return err
		}
		switch op {
		case modEOF:
			return nil
		case modSInt, modUInt:
			_, err = r.readLen()
		case modFloat:
			_, err = r.next(4)
		case modDouble:
			_, err = r.next(8)
		case modString:
			err = r.skipString()
		default:
			return &Error{Offset: at, Msg: fmt.Sprintf("unknown module value opcode %d", op)}
		}
		if err != nil {
			return err
		}
	}
}

// ModuleName decodes the 9-character type name from a module type id.
func ModuleName(id uint64) string {
	const cset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var name [9]byte
	id >>= 10
	for j := 8; j >= 0; j-- {
		name[j] = cset[id&63]
		id >>= 6
	}
	return string(name[:])
}

// readObject reads the value of type typ. empty reports a collection with
// no elements, which Redis's loader skips rather than refuses.
func (d *decoder) readObject(typ byte, key []byte, at int64) (e keyspace.Entry, empty bool, err error) {
	r := d.r
	wrap := func(err error) error {
		var re *Error
		if errors.As(err, &re) {
			return err
		}
		return &Error{Offset: at, Msg: fmt.Sprintf("key %q: %v", truncKey(key), err)}
	}
	switch typ {
	case TypeString:
		s, err := r.readString()
		if err != nil {
			return e, false, err
		}
		e.Str = s
		return e, false, nil
	case TypeList:
		n, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		if err := r.checkLen(n, 1, "list"); err != nil {
			return e, false, err
		}
		l := keyspace.NewList()
		for i := uint64(0); i < n; i++ {
			s, err := r.readString()
			if err != nil {
				return e, false, err
			}
			l.PushBack(s)
		}
		e.Obj = l
		return e, n == 0, nil
	case TypeSet:
		n, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		if err := r.checkLen(n, 1, "set"); err != nil {
			return e, false, err
		}
		s := keyspace.NewSet()
		if int64(n) > min(d.lim.SetMaxIntsetEntries, 1<<30) {
			s.Convert()
		}
		for i := uint64(0); i < n; i++ {
			m, err := r.readString()
			if err != nil {
				return e, false, err
			}
			if !s.Add(m, d.lim.SetMaxIntsetEntries) {
				return e, false, wrap(errors.New("duplicate set member"))
			}
		}
		e.Obj = s
		return e, n == 0, nil
	case TypeZSet, TypeZSet2:
		n, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		if err := r.checkLen(n, 2, "sorted set"); err != nil {
			return e, false, err
		}
		z := keyspace.NewZSet()
		maxLen, total := 0, 0
		for i := uint64(0); i < n; i++ {
			m, err := r.readString()
			if err != nil {
				return e, false, err
			}
			var score float64
			if typ == TypeZSet2 {
				score, err = r.readBinaryDouble()
			} else {
				score, err = r.readStringDouble()
			}
			if err != nil {
				return e, false, err
			}
			if err := zadd(z, m, score); err != nil {
				return e, false, wrap(err)
			}
			maxLen = max(maxLen, len(m))
			total += len(m)
		}
		z.Big = !(int64(n) <= d.lim.ZSetMaxListpackEntries && int64(maxLen) <= d.lim.ZSetMaxListpackValue && total < 1<<30)
		e.Obj = z
		return e, n == 0, nil
	case TypeHash:
		n, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		if err := r.checkLen(n, 2, "hash"); err != nil {
			return e, false, err
		}
		h := keyspace.NewHash()
		if int64(n) > d.lim.HashMaxListpackEntries {
			h.Convert()
		}
		for i := uint64(0); i < n; i++ {
			f, err := r.readString()
			if err != nil {
				return e, false, err
			}
			v, err := r.readString()
			if err != nil {
				return e, false, err
			}
			if !h.Put(f, v) {
				return e, false, wrap(errors.New("duplicate hash field"))
			}
		}
		h.Fit(d.lim.HashMaxListpackEntries, d.lim.HashMaxListpackValue)
		e.Obj = h
		return e, n == 0, nil
	case TypeListQuicklist, TypeListQuicklist2:
		n, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		if err := r.checkLen(n, 2, "quicklist"); err != nil {
			return e, false, err
		}
		l := keyspace.NewList()
		push := func(el []byte) error { l.PushBack(clone(el)); return nil }
		for i := uint64(0); i < n; i++ {
			container := uint64(2)
			if typ == TypeListQuicklist2 {
				if container, err = r.readLen(); err != nil {
					return e, false, err
				}
				if container != 1 && container != 2 {
					return e, false, wrap(fmt.Errorf("quicklist node container %d", container))
				}
			}
			blob, err := r.readString()
			if err != nil {
				return e, false, err
			}
			if len(blob) == 0 {
				return e, false, wrap(errors.New("empty quicklist node"))
			}
			switch {
			case container == 1:
				l.PushBack(blob)
			case typ == TypeListQuicklist2:
				_, err = listpackEach(blob, push)
			default:
				_, err = ziplistEach(blob, push)
			}
			if err != nil {
				return e, false, wrap(err)
			}
		}
		e.Obj = l
		return e, l.Len() == 0, nil
	case TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist, TypeHashZiplist,
		TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		blob, err := r.readString()
		if err != nil {
			return e, false, err
		}
		obj, n, err := d.packed(typ, blob)
		if err != nil {
			return e, false, wrap(err)
		}
		e.Obj = obj
		return e, n == 0, nil
	case TypeModule, TypeModule2:
		id, err := r.readLen()
		if err != nil {
			return e, false, err
		}
		return e, false, &Error{Offset: at, Msg: fmt.Sprintf("key %q holds a value of module type %q: modules are not supported", truncKey(key), ModuleName(id))}
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3:
		return e, false, &Error{Offset: at, Msg: fmt.Sprintf("key %q is a stream: streams are not supported yet", truncKey(key))}
	}
	return e, false, &Error{Offset: at, Msg: fmt.Sprintf("unknown object type %d", typ)}
}

func truncKey(k []byte) []byte {
	if len(k) > 64 {
		return k[:64]
	}
	return k
}

func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

func zadd(z *keyspace.ZSet, m []byte, score float64) error {
	if score != score {
		return errors.New("sorted set with a NaN score")
	}
	if _, ok := z.Score(m); ok {
		return errors.New("duplicate sorted set member")
	}
	z.Insert(string(m), score)
	return nil
}

// packed decodes the value types stored as one packed blob.
func (d *decoder) packed(typ byte, blob []byte) (any, int, error) {
	switch typ {
	case TypeListZiplist:
		l := keyspace.NewList()
		n, err := ziplistEach(blob, func(el []byte) error { l.PushBack(clone(el)); return nil })
		return l, n, err
	case TypeSetIntset:
		s := keyspace.NewSet()
		var buf [24]byte
		n, err := intsetEach(blob, func(v int64) error {
			if !s.Add(strconv.AppendInt(buf[:0], v, 10), d.lim.SetMaxIntsetEntries) {
				return errors.New("duplicate intset member")
			}
			return nil
		})
		return s, n, err
	case TypeSetListpack:
		s := keyspace.NewSet()
		n, err := listpackEach(blob, func(el []byte) error {
			if !s.Add(el, d.lim.SetMaxIntsetEntries) {
				return errors.New("duplicate set member")
			}
			return nil
		})
		return s, n, err
	case TypeHashZipmap:
		h := keyspace.NewHash()
		n, maxLen, err := zipmapEach(blob, func(f, v []byte) error {
			if !h.Put(f, clone(v)) {
				return errors.New("duplicate hash field")
			}
			return nil
		})
		if int64(n) > d.lim.HashMaxListpackEntries || int64(maxLen) > d.lim.HashMaxListpackValue {
			h.Convert()
		}
		return h, n, err
	case TypeHashZiplist, TypeHashListpack:
		h := keyspace.NewHash()
		var field []byte
		odd := false
		each := listpackEach
		if typ == TypeHashZiplist {
			each = ziplistEach
		}
		n, err := each(blob, func(el []byte) error {
			if !odd {
				field = clone(el)
			} else if !h.Put(field, clone(el)) {
				return errors.New("duplicate hash field")
			}
			odd = !odd
			return nil
		})
		if err == nil && odd {
			err = errOddPairs
		}
		if int64(h.Len()) > d.lim.HashMaxListpackEntries {
			h.Convert()
		}
		return h, n, err
	case TypeZSetZiplist, TypeZSetListpack:
		z := keyspace.NewZSet()
		var member []byte
		odd := false
		each := listpackEach
		if typ == TypeZSetZiplist {
			each = ziplistEach
		}
		n, err := each(blob, func(el []byte) error {
			if !odd {
				member = clone(el)
			} else {
				score, err := strconv.ParseFloat(string(el), 64)
				if err != nil && !errors.Is(err, strconv.ErrRange) {
					return fmt.Errorf("invalid score %q", el)
				}
				if err := zadd(z, member, score); err != nil {
					return err
				}
			}
			odd = !odd
			return nil
		})
		if err == nil && odd {
			err = errOddPairs
		}
		z.Big = int64(z.Len()) > d.lim.ZSetMaxListpackEntries
		return z, n, err
	}
	return nil, 0, fmt.Errorf("unknown packed type %d", typ)
}

// ErrDumpPayload is RESTORE's "version or checksum" failure.
var ErrDumpPayload = errors.New("DUMP payload version or checksum are wrong")

// VerifyDump checks a DUMP payload's footer: an RDB version this package
// reads and, with checkCRC, the CRC64 of the rest.
func VerifyDump(p []byte, checkCRC bool) error {
	if len(p) < 10 {
		return ErrDumpPayload
	}
	f := p[len(p)-10:]
	if ver := binary.LittleEndian.Uint16(f); ver > maxReadVersion {
		return ErrDumpPayload
	}
	if checkCRC && binary.LittleEndian.Uint64(f[2:]) != CRC64(0, p[:len(p)-8]) {
		return ErrDumpPayload
	}
	return nil
}

// DecodeDump decodes a DUMP payload that VerifyDump accepted. An empty
// collection is an error here, as in RESTORE.
func DecodeDump(p []byte, lim Limits) (keyspace.Entry, error) {
	if len(p) < 10 {
		return keyspace.Entry{}, ErrDumpPayload
	}
	d := &decoder{r: newBytesReader(p[:len(p)-10]), lim: lim, opts: &Options{Limits: lim}}
	typ, err := d.r.readByte()
	if err != nil {
		return keyspace.Entry{}, err
	}
	e, empty, err := d.readObject(typ, nil, 0)
	if err != nil {
		return e, err
	}
	if empty {
		return e, &Error{Offset: 0, Msg: "empty collection"}
	}
	return e, nil
}
