package keyspace

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

func TestHashOrderAndConvert(t *testing.T) {
	h := NewHash()
	for _, f := range []string{"c", "a", "b"} {
		if !h.Put([]byte(f), []byte("v"+f)) {
			t.Fatalf("Put(%s) not new", f)
		}
	}
	if h.Put([]byte("a"), []byte("new")) {
		t.Fatal("update reported as new")
	}
	h.Del([]byte("c"))
	h.Put([]byte("d"), []byte("vd"))
	var got []string
	h.Each(func(f string, v []byte) bool { got = append(got, f+"="+string(v)); return true })
	if want := []string{"a=new", "b=vb", "d=vd"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if h.Encoding() != "listpack" {
		t.Fatal(h.Encoding())
	}
	h.Fit(2, 64)
	if h.Encoding() != "hashtable" || h.Len() != 3 {
		t.Fatalf("after Fit: %s %d", h.Encoding(), h.Len())
	}
	h.Del([]byte("a"))
	h.Del([]byte("b"))
	if h.Encoding() != "hashtable" {
		t.Fatal("conversion must be sticky")
	}
	c := h.Clone()
	if c.Encoding() != "hashtable" || string(*c.Get("d")) != "vd" {
		t.Fatal("clone")
	}
	h2 := NewHash()
	h2.Put([]byte("f"), make([]byte, 65))
	h2.Fit(128, 64)
	if !h2.Big {
		t.Fatal("long value must convert")
	}
}

func TestSetEncodings(t *testing.T) {
	s := NewSet()
	for _, m := range []string{"10", "-3", "7", "10"} {
		s.Add([]byte(m), 512)
	}
	if s.Encoding() != "intset" || s.Len() != 3 {
		t.Fatalf("%s %d", s.Encoding(), s.Len())
	}
	if got := s.Members(); !reflect.DeepEqual(got, []string{"-3", "7", "10"}) {
		t.Fatalf("intset order %v", got)
	}
	s.Remove([]byte("7"))
	if got := s.Members(); !reflect.DeepEqual(got, []string{"-3", "10"}) {
		t.Fatalf("after remove %v", got)
	}
	// Non-canonical integers are strings to Redis.
	for _, m := range []string{"007", "+1", " 1", "-0", "9223372036854775808"} {
		s2 := NewSet()
		s2.Add([]byte(m), 512)
		if s2.Encoding() != "hashtable" {
			t.Errorf("%q kept an intset", m)
		}
	}
	s.Add([]byte("x"), 512)
	if s.Encoding() != "hashtable" {
		t.Fatal("non-integer must convert")
	}
	s.Remove([]byte("x"))
	if s.Encoding() != "hashtable" {
		t.Fatal("sticky")
	}
	big := NewSet()
	for i := 0; i < 5; i++ {
		big.Add([]byte(strconv.Itoa(i)), 4)
	}
	if big.Encoding() != "hashtable" {
		t.Fatal("over set-max-intset-entries must convert")
	}
	zero := NewSet()
	zero.Add([]byte("1"), 0)
	if zero.Encoding() != "hashtable" {
		t.Fatal("set-max-intset-entries 0")
	}
}

func TestParseStrictInt(t *testing.T) {
	good := map[string]int64{"0": 0, "-1": -1, "123": 123, "-9223372036854775808": -1 << 63, "9223372036854775807": 1<<63 - 1}
	for s, want := range good {
		if n, ok := ParseStrictInt([]byte(s)); !ok || n != want {
			t.Errorf("%q: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-", "01", "-0", "+1", "1 ", "1a", "9223372036854775808"} {
		if _, ok := ParseStrictInt([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

// chiSquare is the statistic the Redis suite uses to check random picks.
func chiSquare(counts map[string]int, n int) float64 {
	exp := float64(n) / float64(len(counts))
	var x float64
	for _, c := range counts {
		d := float64(c) - exp
		x += d * d / exp
	}
	return x
}

func TestRandomIsFair(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, ints := range []bool{true, false} {
		s := NewSet()
		for i := 0; i < 10; i++ {
			m := strconv.Itoa(i)
			if !ints {
				m = "m" + m
			}
			s.Add([]byte(m), 512)
		}
		counts := map[string]int{}
		for i := 0; i < 10000; i++ {
			counts[s.Random(r.Uint64)]++
		}
		if len(counts) != 10 || chiSquare(counts, 10000) > 40 {
			t.Errorf("%s: biased picks %v", s.Encoding(), counts)
		}
	}
	h := NewHash()
	for i := 0; i < 10; i++ {
		h.Put([]byte("f"+strconv.Itoa(i)), []byte("v"))
	}
	h.Convert()
	counts := map[string]int{}
	for i := 0; i < 10000; i++ {
		f, _ := h.Random(r.Uint64)
		counts[f]++
	}
	if len(counts) != 10 || chiSquare(counts, 10000) > 40 {
		t.Errorf("hashtable hash: biased picks %v", counts)
	}
}
