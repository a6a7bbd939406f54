package server

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fluidb/fluidb/server/config"
)

// startServer runs an in-process server on a free loopback port and stops
// it when the test ends. extra are redis.conf directives as command-line
// words ("--requirepass", "x").
func startServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	cfg, err := config.Load("", append([]string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir()}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = 0
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.log.SetOutput(testWriter{t})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// newClient returns a go-redis client for s speaking protocol proto (2 or 3).
func newClient(t testing.TB, s *Server, proto int) *redis.Client {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: proto, DisableIdentity: false})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestGoRedisBasics(t *testing.T) {
	s := startServer(t)
	for _, proto := range []int{2, 3} {
		rc := newClient(t, s, proto)
		ctx := context.Background()
		if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d SET: %v", proto, err)
		}
		if v, err := rc.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("RESP%d GET = %q, %v", proto, v, err)
		}
		if _, err := rc.Get(ctx, "missing").Result(); err != redis.Nil {
			t.Fatalf("RESP%d GET missing: %v, want redis.Nil", proto, err)
		}
		if n, err := rc.Incr(ctx, "n").Result(); err != nil || n != int64(proto-1) {
			t.Fatalf("RESP%d INCR = %d, %v", proto, n, err)
		}
	}
}

// testConfig is the default configuration for tests that build a Server
// directly: no save points and a private data directory, so FLUSHALL and
// SHUTDOWN never write a dump.rdb into the source tree.
func testConfig(tb testing.TB) *config.Config {
	cfg := config.Default()
	cfg.Save = nil
	cfg.Dir = tb.TempDir()
	return cfg
}
