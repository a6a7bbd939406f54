package keyspace

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkDictGetRandom(b *testing.B) {
	for _, n := range []int{1000, 100000, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			d := NewDict[Entry]()
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = []byte(fmt.Sprintf("key:%012d", i))
				d.Set(string(keys[i]), Entry{Str: []byte("xxx")})
			}
			x := uint32(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				if d.GetBytes(keys[x%uint32(n)]) == nil {
					b.Fatal("missing")
				}
			}
		})
	}
}

// Keys on both sides of the inline limit (and the empty key) are stored,
// found, iterated and deleted alike, through both insert paths.
func TestDictInlineKeys(t *testing.T) {
	d := NewDict[int]()
	var keys []string
	for _, n := range []int{0, 1, inlineKey - 1, inlineKey, inlineKey + 1, 100} {
		keys = append(keys, string(make([]byte, n)), fmt.Sprintf("%0*d", n+1, n))
	}
	for i, k := range keys {
		var p *int
		if i%2 == 0 {
			p, _ = d.Upsert(k)
		} else {
			buf := []byte(k)
			p, _ = d.UpsertBytes(buf)
			buf[0] ^= 0xff // the dict must not keep the caller's bytes
		}
		*p = i
	}
	if d.Len() != len(keys) {
		t.Fatalf("len %d, want %d", d.Len(), len(keys))
	}
	seen := 0
	d.Range(func(k string, v *int) bool {
		if keys[*v] != k {
			t.Errorf("range: key %q holds %d", k, *v)
		}
		seen++
		return true
	})
	if seen != len(keys) {
		t.Fatalf("range saw %d keys", seen)
	}
	for i, k := range keys {
		if p := d.GetBytes([]byte(k)); p == nil || *p != i {
			t.Fatalf("GetBytes(%q) = %v", k, p)
		}
		if _, ok := d.Delete(k); !ok {
			t.Fatalf("Delete(%q) missed", k)
		}
		if d.Get(k) != nil {
			t.Fatalf("%q still there", k)
		}
	}
}

// Warm changes nothing, whatever it is given: present and absent keys,
// more keys than it takes, an empty dict, a dict being rehashed.
func TestDictWarm(t *testing.T) {
	d := NewDict[int]()
	if d.Warm([][]byte{[]byte("a")}) != 0 {
		t.Fatal("warm on an empty dict")
	}
	var keys [][]byte
	midRehash := 0
	for i := 0; i < 3*WarmMax; i++ {
		k := []byte(fmt.Sprint("k", i))
		keys = append(keys, k)
		if i%2 == 0 {
			p, _ := d.UpsertBytes(k)
			*p = i
		}
		if d.Rehashing() {
			midRehash++
		}
		d.Warm(keys) // grows through rehashes meanwhile
	}
	if midRehash == 0 {
		t.Fatal("no Warm while the table was being rehashed")
	}
	for i, k := range keys {
		p := d.GetBytes(k)
		if (p != nil) != (i%2 == 0) || (p != nil && *p != i) {
			t.Fatalf("key %s: %v after Warm", k, p)
		}
	}
	if d.Len() != 3*WarmMax/2 {
		t.Fatalf("len %d", d.Len())
	}
}

// Mid-rehash, Warm finds keys in the table their bucket is in: moved
// buckets in the new table, the others in the old one (each group warms
// at least one node; looking in the wrong table, or not at all, finds none).
func TestDictWarmMidRehash(t *testing.T) {
	d := NewDict[int]()
	var keys [][]byte
	for i := 0; len(keys) < 1000 || !d.Rehashing(); i++ {
		k := []byte(fmt.Sprint("key:", i))
		keys = append(keys, k)
		d.UpsertBytes(k)
	}
	for d.rehashIdx < len(d.tables[0])/2 {
		d.RehashSome(1)
	}
	if !d.Rehashing() {
		t.Fatal("the rehash finished early")
	}
	mask0 := uint64(len(d.tables[0]) - 1)
	var moved, unmoved [][]byte
	for _, k := range keys {
		if int(d.hashBytes(k)&mask0) < d.rehashIdx {
			moved = append(moved, k)
		} else {
			unmoved = append(unmoved, k)
		}
	}
	for name, ks := range map[string][][]byte{"moved": moved, "not moved": unmoved} {
		if len(ks) == 0 {
			t.Fatalf("no %s keys", name)
		}
		if d.Warm(ks[:min(len(ks), WarmMax)]) == 0 {
			t.Fatalf("Warm found none of the %s keys", name)
		}
	}
}

// DB.Rehash finishes a rehash that writes left half done (a table that
// grew and then only saw updates), and says when there was nothing to do.
func TestDBRehashFinishes(t *testing.T) {
	db := NewDB(0)
	n := 0
	for ; n < 1000 || !db.keys.Rehashing(); n++ {
		e, _ := db.Add([]byte(fmt.Sprint("key:", n)))
		e.Str = []byte("v")
	}
	for i := 0; i < n; i++ { // updates move no buckets
		if db.Get([]byte(fmt.Sprint("key:", i))) == nil {
			t.Fatalf("key:%d missing mid-rehash", i)
		}
	}
	if !db.keys.Rehashing() {
		t.Fatal("lookups finished the rehash")
	}
	if !db.Rehash(time.Minute) {
		t.Fatal("Rehash found nothing to do mid-rehash")
	}
	if db.keys.Rehashing() || db.Rehash(time.Minute) {
		t.Fatal("rehash not finished")
	}
	for i := 0; i < n; i++ {
		if db.Get([]byte(fmt.Sprint("key:", i))) == nil {
			t.Fatalf("key:%d missing after the rehash", i)
		}
	}
	if db.Len() != n {
		t.Fatalf("len %d, want %d", db.Len(), n)
	}
}
