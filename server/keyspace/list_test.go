package keyspace

import (
	"math/rand"
	"strconv"
	"testing"
)

// model checks a List against a plain slice through random operations,
// across growth, wrap-around and shrinking.
func TestListAgainstModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	l := NewList()
	var m []string
	check := func(op string) {
		t.Helper()
		if l.Len() != len(m) {
			t.Fatalf("%s: len %d, want %d", op, l.Len(), len(m))
		}
		for i, v := range m {
			if string(l.Index(i)) != v {
				t.Fatalf("%s: [%d]=%q want %q", op, i, l.Index(i), v)
			}
		}
	}
	for step := 0; step < 20000; step++ {
		v := strconv.Itoa(r.Intn(20))
		switch op := r.Intn(10); {
		case op < 2:
			l.PushFront([]byte(v))
			m = append([]string{v}, m...)
		case op < 4:
			l.PushBack([]byte(v))
			m = append(m, v)
		case op == 4 && len(m) > 0:
			got, _ := l.PopFront()
			if string(got) != m[0] {
				t.Fatalf("PopFront %q want %q", got, m[0])
			}
			m = m[1:]
		case op == 5 && len(m) > 0:
			got, _ := l.PopBack()
			if string(got) != m[len(m)-1] {
				t.Fatalf("PopBack %q want %q", got, m[len(m)-1])
			}
			m = m[:len(m)-1]
		case op == 6:
			i := r.Intn(len(m) + 1)
			l.Insert(i, []byte(v))
			m = append(m[:i], append([]string{v}, m[i:]...)...)
		case op == 7 && len(m) > 0:
			i := r.Intn(len(m))
			if got := l.Remove(i); string(got) != m[i] {
				t.Fatalf("Remove(%d) %q want %q", i, got, m[i])
			}
			m = append(m[:i], m[i+1:]...)
		case op == 8:
			count := r.Intn(5) - 2
			want := removeModel(m, v, count)
			n := l.RemoveEqual([]byte(v), count)
			if n != len(m)-len(want) {
				t.Fatalf("RemoveEqual(%s,%d) = %d want %d", v, count, n, len(m)-len(want))
			}
			m = want
		case op == 9 && len(m) > 0 && r.Intn(20) == 0:
			a := r.Intn(len(m))
			b := a + r.Intn(len(m)-a)
			l.Trim(a, b)
			m = append([]string(nil), m[a:b+1]...)
		}
		check("step " + strconv.Itoa(step))
	}
}

func removeModel(m []string, v string, count int) []string {
	out := append([]string(nil), m...)
	removed := 0
	if count >= 0 {
		for i := 0; i < len(out); {
			if out[i] == v && (count == 0 || removed < count) {
				out = append(out[:i], out[i+1:]...)
				removed++
				continue
			}
			i++
		}
		return out
	}
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] == v && removed < -count {
			out = append(out[:i], out[i+1:]...)
			removed++
		}
	}
	return out
}

func TestListShrinksAndReplace(t *testing.T) {
	l := NewList()
	for i := 0; i < 10000; i++ {
		l.PushBack([]byte("x"))
	}
	for i := 0; i < 9990; i++ {
		l.PopFront()
	}
	if cap := len(l.buf); cap > 64 {
		t.Fatalf("capacity %d after draining to %d", cap, l.Len())
	}
	l.Replace([][]byte{[]byte("a"), []byte("b"), []byte("c")})
	l.PushFront([]byte("z"))
	if got := l.All(); len(got) != 4 || string(got[0]) != "z" || string(got[3]) != "c" {
		t.Fatalf("All = %q", got)
	}
	if l.Encoding() != "quicklist" {
		t.Fatalf("encoding %q", l.Encoding())
	}
	var rev []string
	l.Range(true, func(i int, v []byte) bool { rev = append(rev, string(v)); return i > 1 })
	if len(rev) != 3 || rev[0] != "c" {
		t.Fatalf("reverse Range = %q", rev)
	}
}
