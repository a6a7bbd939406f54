package ops

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in, password string
		want         Addr
	}{
		{"127.0.0.1:7001", "", Addr{Host: "127.0.0.1", Port: 7001}},
		{"db1.example.com", "pw", Addr{Host: "db1.example.com", Port: 6379, Password: "pw"}},
		{"[::1]:7002", "", Addr{Host: "::1", Port: 7002}},
		{"::1", "", Addr{Host: "::1", Port: 6379}},
		{":7003", "", Addr{Host: "127.0.0.1", Port: 7003}},
		{"redis://10.0.0.2:6380", "flag", Addr{Host: "10.0.0.2", Port: 6380, Password: "flag"}},
		{"redis://:s3cret@10.0.0.2:6380", "flag", Addr{Host: "10.0.0.2", Port: 6380, Password: "s3cret"}},
		{"redis://default:s3cret@h", "", Addr{Host: "h", Port: 6379, Password: "s3cret"}},
		{"redis://[::1]:7000/0", "", Addr{Host: "::1", Port: 7000}},
	}
	for _, tt := range tests {
		got, err := ParseAddr(tt.in, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"host:port", "h:0", "h:70000", "rediss://h:1", "http://h:1", "redis://h:x"} {
		if a, err := ParseAddr(bad, ""); err == nil {
			t.Errorf("ParseAddr(%q) = %+v, want an error", bad, a)
		}
	}
	if got := (Addr{Host: "::1", Port: 1}).String(); got != "[::1]:1" {
		t.Errorf("IPv6 String = %q", got)
	}
}

func TestPassword(t *testing.T) {
	env := map[string]string{"FLUIDB_PASSWORD": "f", "REDISCLI_AUTH": "r"}
	get := func(k string) string { return env[k] }
	if p := Password("flag", get); p != "flag" {
		t.Errorf("flag: %q", p)
	}
	if p := Password("", get); p != "f" {
		t.Errorf("FLUIDB_PASSWORD: %q", p)
	}
	delete(env, "FLUIDB_PASSWORD")
	if p := Password("", get); p != "r" {
		t.Errorf("REDISCLI_AUTH: %q", p)
	}
}

func TestSameEndpoint(t *testing.T) {
	if !sameEndpoint("localhost", 1, "127.0.0.1", 1) || !sameEndpoint("::1", 1, "127.0.0.1", 1) || !sameEndpoint("H", 1, "h", 1) {
		t.Error("loopback names and case should match")
	}
	if sameEndpoint("10.0.0.1", 1, "10.0.0.2", 1) || sameEndpoint("h", 1, "h", 2) {
		t.Error("different endpoints matched")
	}
}

func TestClientErrorsMapToExitCodes(t *testing.T) {
	ctx := context.Background()
	f := startFake(t, "# Server\r\nfluidb_version:x\r\n", masterRole)
	f.set(func(f *fakeNode) { f.password = "right" })

	if _, err := Dial(ctx, Addr{Host: "127.0.0.1", Port: f.Addr().Port, Password: "wrong"}, time.Second); KindOf(err) != ErrAuth || ExitCode(err) != 4 {
		t.Errorf("wrong password: %v (kind %v, exit %d)", err, KindOf(err), ExitCode(err))
	}
	c, err := Dial(ctx, f.Addr(), time.Second) // no password
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(ctx, "INFO")
	var se ServerError
	if KindOf(err) != ErrAuth || !errors.As(err, &se) {
		t.Errorf("no password: %v", err)
	}
	c.Close()
	c, err = Dial(ctx, Addr{Host: "127.0.0.1", Port: f.Addr().Port, Password: "right"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.String(ctx, "INFO"); err != nil || s != "# Server\r\nfluidb_version:x\r\n" {
		t.Errorf("INFO = %q, %v", s, err)
	}
	c.Close()

	f.stop()
	if _, err := Dial(ctx, f.Addr(), time.Second); KindOf(err) != ErrUnreachable || ExitCode(err) != 3 {
		t.Errorf("stopped node: %v (exit %d)", err, ExitCode(err))
	}

	// A node that never answers: the command times out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	a, _ := ParseAddr(ln.Addr().String(), "")
	c, err = Dial(ctx, a, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do(ctx, "PING"); KindOf(err) != ErrTimeout || ExitCode(err) != 7 {
		t.Errorf("silent node: %v (kind %v)", err, KindOf(err))
	}
	// A cancelled context interrupts the read at once.
	cctx, cancel := context.WithCancel(ctx)
	c2, err := Dial(ctx, a, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c2.Do(cctx, "PING"); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(start))
	}
	if ExitCode(nil) != 0 || ExitCode(errors.New("x")) != 1 {
		t.Error("ExitCode of nil / plain error")
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1K", 1536: "1.5K", 5 << 20: "5M", 300 << 30: "300G"} {
		if got := FormatBytes(in); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{0: "0", 12.5: "12.5", 999: "999", 1200: "1.2k", 15000: "15k", 2.5e6: "2.5M"} {
		if got := FormatCount(in); got != want {
			t.Errorf("FormatCount(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0ms", 850: "850ms", 12500: "12.5s", 190000: "3m10s", 7500000: "2h5m", -3: "-3ms"} {
		if got := FormatMs(in); got != want {
			t.Errorf("FormatMs(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestLinks(t *testing.T) {
	s := Snapshot{Replication: infoFile(t, "active-replica-two-masters.info").Replication(),
		Active: infoFile(t, "active-replica-two-masters.info").Fluidb()}
	links := s.Links()
	if len(links) != 2 || links[0].Down() || !links[1].Down() || links[1].In != "sync" || links[1].SyncTotal != 1048576 || links[1].SkewMs != -120 {
		t.Errorf("active links = %+v", links)
	}
	if b, ms := s.Lag(); b != 9100 || ms != 7000 {
		t.Errorf("Lag = %d, %d", b, ms)
	}
	// Plain Redis: masters and replicas.
	r := Snapshot{Replication: infoFile(t, "redis-replica-sync.info").Replication()}
	if l := r.Links(); len(l) != 1 || l[0].In != "sync" || l[0].SyncBytes != 12347392 || l[0].Peer != "127.0.0.1:7102" {
		t.Errorf("syncing replica links = %+v", l)
	}
	m := Snapshot{Replication: Replication{ReplOffset: 500, Replicas: []ReplicaLink{{IP: "10.0.0.9", Port: 6379, State: "online", Offset: 400, Lag: 2}}}}
	if l := m.Links(); len(l) != 1 || l[0].Out != "up" || l[0].LagBytes != 100 || l[0].LagMs != 2000 {
		t.Errorf("master links = %+v", l)
	}
	if got := m.PeerAddrs(); len(got) != 1 || got[0] != "10.0.0.9:6379" {
		t.Errorf("PeerAddrs = %v", got)
	}
}
