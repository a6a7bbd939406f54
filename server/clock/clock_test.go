package clock

import "testing"

func TestNextIsMonotonicWhenWallClockStalls(t *testing.T) {
	now := int64(1000)
	c := &Clock{Now: func() int64 { return now }}
	a := c.Next()
	b := c.Next()
	if b <= a {
		t.Fatalf("second stamp %x not after first %x", b, a)
	}
	now = 900 // wall clock steps back
	if s := c.Next(); s <= b {
		t.Fatalf("stamp after clock step back %x not after %x", s, b)
	}
	now = 2000
	if s := c.Next(); Millis(s) != 2000 || Logical(s) != 0 {
		t.Fatalf("stamp %d.%d, want 2000.0", Millis(s), Logical(s))
	}
}

func TestObserveAdvancesAndClamps(t *testing.T) {
	now := int64(1000)
	c := &Clock{Now: func() int64 { return now }, MaxSkewMs: 500}
	remote := Make(1400, 7)
	if c.Observe(remote) {
		t.Fatal("stamp within skew reported as too far")
	}
	if s := c.Next(); s <= remote {
		t.Fatalf("local stamp %x not after observed %x", s, remote)
	}
	if !c.Observe(Make(5000, 0)) || c.Clamped != 1 {
		t.Fatal("far-future stamp not refused and counted")
	}
	if Millis(c.Last()) >= 5000 {
		t.Fatal("far-future stamp dragged the clock")
	}
	c.Restore(Make(3000, 0))
	if s := c.Next(); Millis(s) != 3000 {
		t.Fatalf("restored clock issued %d ms, want 3000", Millis(s))
	}
}
