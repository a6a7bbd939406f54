package netcut

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// TestForwarder checks what the demo and the tests rely on: traffic passes,
// Cut drops live connections and holds or refuses new ones, Heal lets the
// held ones through.
func TestForwarder(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	f, err := New(echo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", f.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	roundTrip := func(c net.Conn, r *bufio.Reader, msg string, wait time.Duration) (string, error) {
		_ = c.SetDeadline(time.Now().Add(wait))
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}

	c1, r1 := dial()
	if got, err := roundTrip(c1, r1, "one", 2*time.Second); err != nil || got != "one\n" {
		t.Fatalf("through the forwarder: %q, %v", got, err)
	}
	f.Cut()
	if got, err := roundTrip(c1, r1, "two", 2*time.Second); err == nil {
		t.Fatalf("a connection survived Cut: read %q", got)
	}
	c2, r2 := dial()
	if got, err := roundTrip(c2, r2, "held", 200*time.Millisecond); err == nil {
		t.Fatalf("a new connection passed while cut: read %q", got)
	}
	f.Heal()
	_ = c2.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := r2.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("held connection after Heal: %q, %v", got, err)
	}
	f.CutRefusing()
	c3, r3 := dial()
	if got, err := roundTrip(c3, r3, "refused", 2*time.Second); err == nil {
		t.Fatalf("a new connection passed while cut (refusing): read %q", got)
	}
	f.Heal()
	c4, r4 := dial()
	if got, err := roundTrip(c4, r4, "four", 2*time.Second); err != nil || got != "four\n" {
		t.Fatalf("after Heal: %q, %v", got, err)
	}
}
