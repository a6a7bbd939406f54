package server

import (
	"strings"
	"testing"
)

type captureSink struct{ groups [][]string }

func (k *captureSink) feedEffects(group []effect) {
	var g []string
	for _, e := range group {
		parts := make([]string, len(e.argv))
		for i, a := range e.argv {
			parts[i] = string(a)
		}
		g = append(g, itoaDB(e.db)+":"+strings.Join(parts, " "))
	}
	k.groups = append(k.groups, g)
}

func itoaDB(n int) string { return string(rune('0' + n)) }

func TestPropagationGroups(t *testing.T) {
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	s.mu.Lock()
	s.addSink(sink)
	s.mu.Unlock()
	c := s.NewTestClient()
	c.Do("SET", "a", "1")
	c.Do("GET", "a")            // reads propagate nothing
	c.Do("SET", "a", "2", "NX") // no change, nothing
	c.Do("MULTI")
	c.Do("INCR", "a")
	c.Do("GET", "a")
	c.Do("INCR", "a")
	c.Do("EXEC")
	c.Do("SELECT", "3")
	c.Do("DEL", "nothing")
	c.Do("SET", "b", "x")
	want := [][]string{
		{"0:SET a 1"},
		{"0:MULTI", "0:INCR a", "0:INCR a", "0:EXEC"},
		{"3:SET b x"},
	}
	if len(sink.groups) != len(want) {
		t.Fatalf("groups = %q, want %q", sink.groups, want)
	}
	for i := range want {
		if strings.Join(sink.groups[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("group %d = %q, want %q", i, sink.groups[i], want[i])
		}
	}
}
