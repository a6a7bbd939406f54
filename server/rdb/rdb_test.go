package rdb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fluidb/fluidb/server/keyspace"
)

func TestCRC64Vector(t *testing.T) {
	// The check value from Redis's crc64.c self test.
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 = %016x", got)
	}
	// Slicing must agree with the byte-at-a-time loop at every split.
	data := []byte(strings.Repeat("fluidb snapshot ", 37))
	want := CRC64(0, data)
	for i := 0; i <= len(data); i++ {
		if got := CRC64(CRC64(0, data[:i]), data[i:]); got != want {
			t.Fatalf("split at %d: %016x, want %016x", i, got, want)
		}
	}
}

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	st := new(lzfState)
	inputs := [][]byte{
		[]byte(strings.Repeat("a", 1000)),
		[]byte(strings.Repeat("abcdefgh", 5000)),
		[]byte("the quick brown fox jumps over the lazy dog, the quick brown fox"),
	}
	for i := 0; i < 200; i++ {
		n := rng.IntN(3000) + 5
		b := make([]byte, n)
		alpha := rng.IntN(14) + 2
		for j := range b {
			b[j] = byte(rng.IntN(alpha))
		}
		inputs = append(inputs, b)
	}
	compressed := 0
	for i, in := range inputs {
		out, ok := st.compress([]byte("prefix"), in, len(in)-4)
		if !ok {
			continue
		}
		compressed++
		if string(out[:6]) != "prefix" {
			t.Fatalf("%d: prefix clobbered", i)
		}
		got, err := lzfDecompress(out[6:], len(in))
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d: round trip failed: %v", i, err)
		}
	}
	if compressed < 100 {
		t.Fatalf("only %d of %d inputs compressed", compressed, len(inputs))
	}
	for i := 0; i < 2000; i++ {
		junk := make([]byte, rng.IntN(40))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		_, _ = lzfDecompress(junk, rng.IntN(200)) // must not panic
	}
}

// sample builds a keyspace of every type, with TTLs, binary data, empty and
// huge values, in three databases.
type sampleKey struct {
	db   int
	key  string
	e    keyspace.Entry
	meta KeyMeta
}

func sampleData(origins *keyspace.Origins) []sampleKey {
	o1, o2 := uuid.New(), uuid.New()
	rng := rand.New(rand.NewPCG(3, 4))
	huge := make([]byte, 1<<20+12345)
	for i := range huge {
		huge[i] = byte(rng.Uint32())
	}
	var out []sampleKey
	addKey := func(db int, k string, e keyspace.Entry, expire int64, stamp uint64, origin uuid.UUID) {
		e.Expire = expire
		e.Stamp = stamp
		out = append(out, sampleKey{db: db, key: k, e: e, meta: KeyMeta{Expire: expire, Stamp: stamp, Origin: origin, Idle: -1, Freq: -1}})
	}
	str := func(s string) keyspace.Entry { return keyspace.Entry{Str: []byte(s)} }
	addKey(0, "s", str("hello"), 0, 1<<20|5, o1)
	addKey(0, "int", str("12345"), 1700000000123, 2<<20, o2)
	addKey(0, "bigint", str("-9223372036854775808"), 0, 0, uuid.Nil)
	addKey(0, "empty", str(""), 0, 7, uuid.Nil)
	addKey(0, "\x00\xffbinary\r\n", str("\x00\x01\x02\xff"), 0, 9, o1)
	addKey(0, "compressible", str(strings.Repeat("z", 5000)), 0, 10, o1)
	addKey(0, "huge", keyspace.Entry{Str: huge}, 0, 11, o2)
	l := keyspace.NewList()
	for i := 0; i < 3000; i++ {
		l.PushBack([]byte("e" + strconv.Itoa(i)))
	}
	l.PushBack([]byte{})
	l.PushBack(huge[:70000])
	addKey(1, "list", keyspace.Entry{Obj: l}, 1800000000000, 12, o1)
	s := keyspace.NewSet()
	for _, m := range []string{"1", "2", "-3"} {
		s.Add([]byte(m), 512)
	}
	addKey(1, "intset", keyspace.Entry{Obj: s}, 0, 13, o2)
	s2 := keyspace.NewSet()
	for i := 0; i < 600; i++ {
		s2.Add([]byte("m"+strconv.Itoa(i)), 512)
	}
	s2.Add([]byte{}, 512)
	addKey(1, "set", keyspace.Entry{Obj: s2}, 0, 14, o1)
	h := keyspace.NewHash()
	h.Put([]byte("a"), []byte("1"))
	h.Put([]byte(""), []byte("empty field"))
	h.Put([]byte("bin\x00"), []byte("\xff"))
	addKey(15, "hash", keyspace.Entry{Obj: h}, 0, 15, o2)
	h2 := keyspace.NewHash()
	for i := 0; i < 500; i++ {
		h2.Put([]byte("f"+strconv.Itoa(i)), []byte(strings.Repeat("v", i%100)))
	}
	h2.Convert()
	addKey(15, "bighash", keyspace.Entry{Obj: h2}, 0, 16, o1)
	z := keyspace.NewZSet()
	for i, sc := range []float64{1, -2.5, math.Inf(1), math.Inf(-1), 0, 1e-300, math.MaxFloat64} {
		z.Insert("m"+strconv.Itoa(i), sc)
	}
	addKey(15, "zset", keyspace.Entry{Obj: z}, 0, 17, o2)
	z2 := keyspace.NewZSet()
	for i := 0; i < 400; i++ {
		z2.Insert(strconv.Itoa(i), float64(i)/3)
	}
	z2.Big = true
	addKey(15, "bigzset", keyspace.Entry{Obj: z2}, 1900000000000, 18, o1)
	for i := range out {
		out[i].e.Origin = origins.Intern(uuid.UUID(out[i].meta.Origin))
		if out[i].meta.Origin == uuid.Nil {
			out[i].e.Origin = 0
		}
	}
	return out
}

func writeSample(t testing.TB, keys []sampleKey, compress, checksum bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, checksum)
	w.Header()
	w.Aux("redis-ver", "7.0.15")
	w.Aux(AuxHLC, "123456789")
	enc := &Encoder{Compress: compress}
	db := -1
	for _, k := range keys {
		if k.db != db {
			db = k.db
			w.SelectDB(db)
			w.ResizeDB(1, 0)
		}
		p, err := enc.AppendKey(nil, []byte(k.key), &k.e)
		if err != nil {
			t.Fatal(err)
		}
		w.Key(&k.meta, p)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entryCanon renders a loaded or original entry for comparison.
func entryCanon(e *keyspace.Entry) string {
	var parts []string
	switch v := e.Obj.(type) {
	case nil:
		return fmt.Sprintf("string %q ttl=%d", e.Str, e.Expire)
	case *keyspace.List:
		var els []string
		v.Range(false, func(_ int, b []byte) bool { els = append(els, string(b)); return true })
		return fmt.Sprintf("list %q ttl=%d", els, e.Expire)
	case *keyspace.Set:
		v.Each(func(m string) bool { parts = append(parts, strconv.Quote(m)); return true })
	case *keyspace.Hash:
		v.Each(func(f string, x []byte) bool {
			parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(string(x)))
			return true
		})
	case *keyspace.ZSet:
		v.Range(func(m string, s float64) bool { parts = append(parts, strconv.Quote(m)+"="+fmtScore(s)); return true })
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s [%s] ttl=%d", e.Kind(), strings.Join(parts, " "), e.Expire)
}

func loadAll(t testing.TB, data []byte, opts *Options) (map[int]map[string]*Record, *Info) {
	t.Helper()
	got := map[int]map[string]*Record{}
	info, err := Load(bytes.NewReader(data), int64(len(data)), opts, func(r *Record) error {
		if got[r.DB] == nil {
			got[r.DB] = map[string]*Record{}
		}
		if _, dup := got[r.DB][string(r.Key)]; dup {
			return fmt.Errorf("duplicate key %q", r.Key)
		}
		c := *r
		got[r.DB][string(r.Key)] = &c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, info
}

func TestRoundTripEveryType(t *testing.T) {
	for _, compress := range []bool{false, true} {
		src := keyspace.NewOrigins()
		keys := sampleData(src)
		data := writeSample(t, keys, compress, true)
		dst := keyspace.NewOrigins()
		dst.Intern(uuid.New()) // a different table: indices must be remapped
		got, info := loadAll(t, data, &Options{Limits: DefaultLimits(), VerifyChecksum: true, Origins: dst})
		if info.HLC != 123456789 || info.Keys != int64(len(keys)) {
			t.Fatalf("info %+v", info)
		}
		for _, k := range keys {
			r := got[k.db][k.key]
			if r == nil {
				t.Fatalf("db %d key %q missing", k.db, k.key)
			}
			if a, b := entryCanon(&r.Entry), entryCanon(&k.e); a != b {
				t.Fatalf("key %q: got %.200s\nwant %.200s", k.key, a, b)
			}
			if r.Entry.Stamp != k.e.Stamp || dst.ID(r.Entry.Origin) != src.ID(k.e.Origin) {
				t.Fatalf("key %q: stamp %d origin %v, want %d %v", k.key, r.Entry.Stamp, dst.ID(r.Entry.Origin), k.e.Stamp, src.ID(k.e.Origin))
			}
			if k.e.Kind() != keyspace.KindString {
				if enc, want := r.Entry.Obj.(interface{ Encoding() string }).Encoding(), k.e.Obj.(interface{ Encoding() string }).Encoding(); enc != want {
					t.Errorf("key %q: encoding %s, want %s", k.key, enc, want)
				}
			}
		}
		t.Logf("compress=%v: %d bytes", compress, len(data))
	}
}

func TestDumpRoundTrip(t *testing.T) {
	enc := &Encoder{Compress: true}
	for _, k := range sampleData(keyspace.NewOrigins()) {
		p, err := enc.Dump(&k.e)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyDump(p, true); err != nil {
			t.Fatalf("%q: %v", k.key, err)
		}
		e, err := DecodeDump(p, DefaultLimits())
		if err != nil {
			t.Fatalf("%q: %v", k.key, err)
		}
		e.Expire = k.e.Expire
		if a, b := entryCanon(&e), entryCanon(&k.e); a != b {
			t.Fatalf("%q: %.100s != %.100s", k.key, a, b)
		}
		p[0] ^= 1
		if err := VerifyDump(p, true); !errors.Is(err, ErrDumpPayload) {
			t.Fatalf("flipped payload accepted")
		}
	}
	// Redis 7.0's DUMP of SET k 1 (an int-encoded string), byte for byte.
	p, _ := enc.Dump(&keyspace.Entry{Str: []byte("1")})
	if want := "\x00\xc0\x01\n\x00"; string(p[:5]) != want {
		t.Fatalf("dump = %q", p)
	}
}

func TestLoadRedisFixture(t *testing.T) {
	data, err := os.ReadFile(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	got, info := loadAll(t, data, &Options{Limits: DefaultLimits(), VerifyChecksum: true, Databases: 16,
		Origins: keyspace.NewOrigins(), Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }})
	model := buildModel(fixtureCommands())
	n := 0
	for db, keys := range model {
		for k, v := range keys {
			n++
			r := got[db][k]
			if r == nil {
				t.Errorf("db %d: key %q missing", db, k)
				continue
			}
			if a, b := entryCanon(&r.Entry), v.canon(); a != b {
				t.Errorf("db %d key %q:\n got %.300s\nwant %.300s", db, k, a, b)
			}
		}
	}
	if info.Keys != int64(n) {
		t.Errorf("loaded %d keys, model has %d", info.Keys, n)
	}
	if len(info.Functions) != 1 || !strings.Contains(string(info.Functions[0]), "fixturelib") || len(logs) == 0 {
		t.Errorf("function library not reported: %d, logs %q", len(info.Functions), logs)
	}
	if info.Aux["redis-ver"] != "7.0.15" {
		t.Errorf("aux %v", info.Aux)
	}
	enc := func(db int, k string) string {
		return got[db][k].Entry.Obj.(interface{ Encoding() string }).Encoding()
	}
	for k, want := range map[string]string{"set:intset16": "intset", "set:intset64": "intset", "set:strings": "hashtable",
		"set:bigints": "hashtable", "hash:small": "listpack", "hash:big": "hashtable", "hash:longval": "hashtable",
		"zset:small": "listpack", "zset:big": "skiplist", "zset:longmember": "skiplist"} {
		if e := enc(0, k); e != want {
			t.Errorf("%s: encoding %s, want %s", k, e, want)
		}
	}
}

func TestLoadIdleAndFreq(t *testing.T) {
	for file, check := range map[string]func(r *Record) bool{
		"testdata/redis-7.0.15-lfu.rdb": func(r *Record) bool { return r.Freq >= 0 && r.Idle < 0 },
		"testdata/redis-7.0.15-lru.rdb": func(r *Record) bool { return r.Idle >= 0 && r.Freq < 0 },
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := loadAll(t, data, nil)
		if len(got[0]) != 3 {
			t.Fatalf("%s: %d keys", file, len(got[0]))
		}
		for k, r := range got[0] {
			if !check(r) {
				t.Errorf("%s %s: idle %d freq %d", file, k, r.Idle, r.Freq)
			}
		}
	}
}

// The old encodings (zipmap, ziplist, intset, quicklist v1, string-encoded
// scores) come from the files in Redis's own test suite, when present.
const redisAssets = "/work/redis-tests/redis-7.0.15/tests/assets"

func TestLoadRedisAssets(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(redisAssets, name))
		if err != nil {
			t.Skip("Redis test assets not available")
		}
		return b
	}
	got, _ := loadAll(t, read("encodings.rdb"), nil)
	want := map[string]string{
		"compressible": `string "` + strings.Repeat("a", 137) + `" ttl=0`,
		"hash":         `hash ["a"="1" "aa"="10" "aaa"="100" "b"="2" "bb"="20" "bbb"="200" "c"="3" "cc"="30" "ccc"="300" "ddd"="400" "eee"="5000000000"] ttl=0`,
		"hash_zipped":  `hash ["a"="1" "b"="2" "c"="3"] ttl=0`,
		"list":         `list ["1" "2" "3" "a" "b" "c" "100000" "6000000000" "1" "2" "3" "a" "b" "c" "100000" "6000000000" "1" "2" "3" "a" "b" "c" "100000" "6000000000"] ttl=0`,
		"list_zipped":  `list ["1" "2" "3" "a" "b" "c" "100000" "6000000000"] ttl=0`,
		"number":       `string "10" ttl=0`,
		"set":          `set ["1" "100000" "2" "3" "6000000000" "a" "b" "c"] ttl=0`,
		"set_zipped_1": `set ["1" "2" "3" "4"] ttl=0`,
		"set_zipped_2": `set ["100000" "200000" "300000" "400000"] ttl=0`,
		"set_zipped_3": `set ["1000000000" "2000000000" "3000000000" "4000000000" "5000000000" "6000000000"] ttl=0`,
		"string":       `string "Hello World" ttl=0`,
		"zset":         `zset ["a"=1 "aa"=10 "aaa"=100 "aaaa"=1000 "b"=2 "bb"=20 "bbb"=200 "bbbb"=5000000000 "c"=3 "cc"=30 "ccc"=300 "cccc"=123456789] ttl=0`,
		"zset_zipped":  `zset ["a"=1 "b"=2 "c"=3] ttl=0`,
	}
	if len(got[0]) != len(want) {
		t.Errorf("encodings.rdb: %d keys, want %d", len(got[0]), len(want))
	}
	for k, w := range want {
		r := got[0][k]
		if r == nil {
			t.Errorf("encodings.rdb: %s missing", k)
			continue
		}
		if c := entryCanon(&r.Entry); c != w {
			t.Errorf("encodings.rdb %s:\n got %s\nwant %s", k, c, w)
		}
	}
	got, _ = loadAll(t, read("list-quicklist.rdb"), nil)
	if r := got[0]["x"]; r == nil || string(r.Entry.Str) != "7" {
		t.Errorf("list-quicklist.rdb: x = %v", r)
	}
	if l, ok := got[0]["list"].Entry.Obj.(*keyspace.List); !ok || string(l.Index(0)) != "7" {
		t.Errorf("list-quicklist.rdb: list head wrong")
	}
	got, _ = loadAll(t, read("zset-ziplist.rdb"), nil)
	if c := entryCanon(&got[0]["zset"].Entry); c != `zset ["one"=1 "two"=2] ttl=0` {
		t.Errorf("zset-ziplist.rdb: %s", c)
	}
	got, _ = loadAll(t, read("hash-zipmap.rdb"), nil)
	if c := entryCanon(&got[0]["hash"].Entry); c != `hash ["f1"="v1" "f2"="v2"] ttl=0` {
		t.Errorf("hash-zipmap.rdb: %s", c)
	}
	got, _ = loadAll(t, read("hash-ziplist.rdb"), nil)
	if c := entryCanon(&got[0]["hash"].Entry); c != `hash ["f1"="v1" "f2"="v2"] ttl=0` {
		t.Errorf("hash-ziplist.rdb: %s", c)
	}
	// Empty keys are skipped, as Redis does, not refused.
	_, info := loadAll(t, read("corrupt_empty_keys.rdb"), nil)
	if info.EmptyKeysSkipped == 0 || info.Keys != 0 {
		t.Errorf("corrupt_empty_keys.rdb: %+v", info)
	}
}

// Truncating a file anywhere, or flipping a byte with the checksum on,
// must give an error with an offset, never a panic or a silent success.
func TestCorruptFiles(t *testing.T) {
	src := keyspace.NewOrigins()
	data := writeSample(t, sampleData(src)[:6], true, true)
	if len(data) > 20000 {
		data = writeSample(t, sampleData(src)[:4], true, true)
	}
	load := func(b []byte) error {
		_, err := Load(bytes.NewReader(b), int64(len(b)), &Options{Limits: DefaultLimits(), VerifyChecksum: true, Origins: keyspace.NewOrigins()},
			func(*Record) error { return nil })
		return err
	}
	for i := 0; i < len(data); i++ {
		err := load(data[:i])
		var re *Error
		if !errors.As(err, &re) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		b := bytes.Clone(data)
		b[9+rng.IntN(len(b)-9)] ^= byte(rng.IntN(255) + 1)
		if err := load(b); err == nil {
			t.Fatalf("flip %d accepted", i)
		}
	}
}

func TestHugeLengthsDoNotAllocate(t *testing.T) {
	for name, body := range map[string][]byte{
		"string":    {opAux, len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0},
		"list":      {TypeList, 1, 'k', len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0},
		"lzf":       {TypeString, 1, 'k', 0xc3, 2, len64Bit, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"zset":      {TypeZSet2, 1, 'k', len32Bit, 0xff, 0xff, 0xff, 0xff},
		"quicklist": {TypeListQuicklist2, 1, 'k', len32Bit, 0xff, 0xff, 0xff, 0xff},
	} {
		data := append([]byte("REDIS0010"), body...)
		allocs := testing.AllocsPerRun(3, func() {
			_, err := Load(bytes.NewReader(data), int64(len(data)), nil, func(*Record) error { return nil })
			if err == nil {
				t.Fatalf("%s: accepted", name)
			}
		})
		// Unknown size: must fail at the end of input without a huge buffer.
		_, err := Load(bytes.NewReader(data), -1, nil, func(*Record) error { return nil })
		if err == nil {
			t.Fatalf("%s: accepted with unknown size", name)
		}
		t.Logf("%s: %.0f allocs, %v", name, allocs, err)
	}
}

func TestModuleAndStreamRefused(t *testing.T) {
	mod := append([]byte("REDIS0010"), TypeModule2, 1, 'k')
	mod = appendLen(mod, 0x1234567890<<10)
	_, err := Load(bytes.NewReader(mod), int64(len(mod)), nil, func(*Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "module type") {
		t.Fatalf("module: %v", err)
	}
	st := append([]byte("REDIS0010"), TypeStreamListpacks2, 1, 'k', 0)
	_, err = Load(bytes.NewReader(st), int64(len(st)), nil, func(*Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "stream") {
		t.Fatalf("stream: %v", err)
	}
}

func BenchmarkEncodeStrings(b *testing.B) {
	enc := &Encoder{Compress: true}
	e := keyspace.Entry{Str: []byte(strings.Repeat("value-", 8))}
	key := []byte("key:123456")
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf, _ = enc.AppendKey(buf[:0], key, &e)
	}
}

// The BGSAVE visited-key rule rests on Dict.ScanPassed; check it against a
// scan that runs while the table grows, shrinks and rehashes.
func TestScanPassedUnderRehash(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for round := 0; round < 8; round++ {
		db := keyspace.NewDB(0)
		live := map[string]bool{}
		for i := 0; i < 600; i++ {
			k := "k" + strconv.Itoa(i)
			db.Add([]byte(k))
			live[k] = true
		}
		seen := map[string]int{}
		var cursor uint64
		next := 0
		for {
			prev := cursor
			cursor = db.Scan(cursor, func(k string, _ *keyspace.Entry) {
				if !db.ScanPassed(prev, []byte(k)) || prev == 0 {
					seen[k]++
				}
			})
			if cursor == 0 {
				break
			}
			// A key seen is passed, a key not passed is unseen, and for
			// the keys present since the start, passed means seen.
			for k := range live {
				passed := db.ScanPassed(cursor, []byte(k))
				if passed != (seen[k] > 0) && (strings.HasPrefix(k, "k") || !passed) {
					t.Fatalf("round %d: %q passed=%v seen=%d", round, k, passed, seen[k])
				}
			}
			// Churn: grow or shrink the table between steps.
			for j := 0; j < rng.IntN(60); j++ {
				if rng.IntN(2) == 0 || len(live) < 100 {
					k := "n" + strconv.Itoa(next)
					next++
					db.Add([]byte(k))
					live[k] = true
				} else {
					for k := range live {
						db.Delete([]byte(k))
						delete(live, k)
						break
					}
				}
			}
			db.RehashSome(rng.IntN(3))
		}
		for k, n := range seen {
			if n > 1 {
				t.Fatalf("%q visited %d times", k, n)
			}
		}
	}
}

func TestParseSmallInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "00", "01", "-", "", "1", "-1", "12345678901", "-1234567890", "+1", "1a", " 1", "2147483648", "99999999999"} {
		v, ok := parseSmallInt([]byte(s))
		w, wok := keyspace.ParseStrictInt([]byte(s))
		if ok != wok || v != w {
			t.Errorf("%q: %d %v, want %d %v", s, v, ok, w, wok)
		}
	}
}
