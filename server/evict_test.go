package server

import (
	"strconv"
	"strings"
	"testing"
)

func TestMaxmemoryNoevictionRefusesWrites(t *testing.T) {
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewTestClient()
	c.Do("SET", "k", "v")
	c.Do("CONFIG", "SET", "maxmemory", "1")
	if got := c.Do("SET", "k2", "v"); !strings.HasPrefix(got, "-OOM") {
		t.Fatalf("SET over maxmemory with noeviction = %q, want -OOM", got)
	}
	if got := c.Do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("reads must still work: GET = %q", got)
	}
	if got := c.Do("DEL", "k"); got != ":1\r\n" {
		t.Fatalf("DEL is not denyoom: %q", got)
	}
	c.Do("MULTI")
	if got := c.Do("GET", "k"); !strings.HasPrefix(got, "-OOM") {
		t.Fatalf("queueing in MULTI under OOM = %q, want -OOM", got)
	}
	if got := c.Do("DISCARD"); got != "+OK\r\n" {
		t.Fatalf("DISCARD under OOM = %q", got)
	}
}

func TestMaxmemoryEvictsUnderLRU(t *testing.T) {
	s, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewTestClient()
	c.Do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	val := strings.Repeat("x", 1000)
	for i := 0; i < 2000; i++ {
		c.Do("SET", "k"+strconv.Itoa(i), val)
	}
	s.mu.Lock()
	used := s.memoryForEviction()
	s.mu.Unlock()
	limit := used - 1<<20 // about a thousand values less
	c.Do("CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	if got := c.Do("SET", "trigger", "x"); got != "+OK\r\n" {
		t.Fatalf("SET with evictable keys = %q", got)
	}
	s.mu.Lock()
	evicted := s.stats.evictedKeys
	n := s.dbs[0].Len()
	s.mu.Unlock()
	if evicted == 0 || n >= 2001 {
		t.Fatalf("evicted %d keys, %d left; want some evicted", evicted, n)
	}
	if evicted > 1900 {
		t.Fatalf("evicted %d of 2000 keys for a 1 MiB overshoot: over-eviction", evicted)
	}
}
