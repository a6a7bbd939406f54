package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// These tests talk to an in-process server over TCP with go-redis, the way
// applications do, in both protocol versions.

func bothProtocols(t *testing.T, fn func(t *testing.T, rc *redis.Client)) {
	s := startServer(t)
	for _, proto := range []int{2, 3} {
		t.Run(map[int]string{2: "RESP2", 3: "RESP3"}[proto], func(t *testing.T) {
			rc := newClient(t, s, proto)
			if err := rc.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			fn(t, rc)
		})
	}
}

func TestGoRedisTypes(t *testing.T) {
	ctx := context.Background()
	bothProtocols(t, func(t *testing.T, rc *redis.Client) {
		rc.HSet(ctx, "h", "a", "1", "b", "2")
		if m, err := rc.HGetAll(ctx, "h").Result(); err != nil || m["a"] != "1" || m["b"] != "2" || len(m) != 2 {
			t.Fatalf("HGETALL = %v, %v", m, err)
		}
		rc.SAdd(ctx, "s", "x", "y")
		if m, err := rc.SMembers(ctx, "s").Result(); err != nil || len(m) != 2 {
			t.Fatalf("SMEMBERS = %v, %v", m, err)
		}
		rc.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: 2, Member: "b"})
		if f, err := rc.ZScore(ctx, "z", "a").Result(); err != nil || f != 1.5 {
			t.Fatalf("ZSCORE = %v, %v", f, err)
		}
		if zs, err := rc.ZRangeWithScores(ctx, "z", 0, -1).Result(); err != nil || len(zs) != 2 || zs[1].Score != 2 {
			t.Fatalf("ZRANGE WITHSCORES = %v, %v", zs, err)
		}
		rc.RPush(ctx, "l", "1", "2", "3")
		if l, err := rc.LRange(ctx, "l", 0, -1).Result(); err != nil || strings.Join(l, ",") != "1,2,3" {
			t.Fatalf("LRANGE = %v, %v", l, err)
		}
		if err := rc.LPush(ctx, "h", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			t.Fatalf("LPUSH on a hash: %v, want WRONGTYPE", err)
		}
		if cfg, err := rc.ConfigGet(ctx, "maxmemory*").Result(); err != nil || cfg["maxmemory"] != "0" {
			t.Fatalf("CONFIG GET maxmemory* = %v, %v", cfg, err)
		}
		if err := rc.Set(ctx, "t", "v", 10*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
		if ttl, err := rc.TTL(ctx, "t").Result(); err != nil || ttl <= 0 || ttl > 10*time.Second {
			t.Fatalf("TTL = %v, %v", ttl, err)
		}
	})
}

func TestGoRedisTransactions(t *testing.T) {
	ctx := context.Background()
	bothProtocols(t, func(t *testing.T, rc *redis.Client) {
		cmds, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "counter")
			p.Incr(ctx, "counter")
			return nil
		})
		if err != nil || len(cmds) != 2 || cmds[1].(*redis.IntCmd).Val() != 2 {
			t.Fatalf("MULTI/EXEC: %v %v", cmds, err)
		}
		// WATCH: a change by another client makes EXEC fail.
		other := redis.NewClient(&redis.Options{Addr: rc.Options().Addr, Protocol: rc.Options().Protocol})
		defer other.Close()
		err = rc.Watch(ctx, func(tx *redis.Tx) error {
			if err := other.Set(ctx, "counter", "100", 0).Err(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "counter")
				return nil
			})
			return err
		}, "counter")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("EXEC after a watched key changed: %v, want TxFailedErr", err)
		}
	})
}

func TestGoRedisPubSubAndNotifications(t *testing.T) {
	ctx := context.Background()
	bothProtocols(t, func(t *testing.T, rc *redis.Client) {
		if err := rc.ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
			t.Fatal(err)
		}
		defer rc.ConfigSet(ctx, "notify-keyspace-events", "")
		sub := rc.Subscribe(ctx, "news")
		defer sub.Close()
		psub := rc.PSubscribe(ctx, "__keyspace@0__:*")
		defer psub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := psub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := rc.Publish(ctx, "news", "hello").Result(); err != nil || n != 1 {
			t.Fatalf("PUBLISH = %d, %v", n, err)
		}
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil || msg.Channel != "news" || msg.Payload != "hello" {
			t.Fatalf("message = %v, %v", msg, err)
		}
		rc.Set(ctx, "watched", "1", 0)
		ev, err := psub.ReceiveMessage(ctx)
		if err != nil || ev.Channel != "__keyspace@0__:watched" || ev.Payload != "set" {
			t.Fatalf("keyspace event = %v, %v", ev, err)
		}
	})
}

func TestGoRedisBlockingPop(t *testing.T) {
	ctx := context.Background()
	bothProtocols(t, func(t *testing.T, rc *redis.Client) {
		var wg sync.WaitGroup
		var got []string
		var gotErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, gotErr = rc.BLPop(ctx, 5*time.Second, "queue").Result()
		}()
		// Wait until the server reports the client as blocked.
		deadline := time.Now().Add(5 * time.Second)
		for {
			info, _ := rc.Info(ctx, "clients").Result()
			if strings.Contains(info, "blocked_clients:1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("client never blocked: %s", info)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := rc.RPush(ctx, "queue", "job1").Err(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if gotErr != nil || len(got) != 2 || got[0] != "queue" || got[1] != "job1" {
			t.Fatalf("BLPOP = %v, %v", got, gotErr)
		}
		if _, err := rc.BLPop(ctx, 50*time.Millisecond, "empty").Result(); err != redis.Nil {
			t.Fatalf("BLPOP timeout: %v, want redis.Nil", err)
		}
	})
}
