package dockhandtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dockhand/dockhand/waitfor"
)

// DefaultRedisImage is the image NewRedis runs unless WithImage.
const DefaultRedisImage = "redis:7"

// redisDatabases is how many logical databases the test server has;
// database 0 holds the claims, the others are handed to tests.
const redisDatabases = 1024

// claimTTL bounds how long a claim of a process killed before it
// released it blocks a logical database; a live test refreshes its
// claim every claimTTL/3, however long it runs. A variable for the
// tests.
var claimTTL = 30 * time.Minute

// refreshClaim extends a claim only while it is still the holder's.
var refreshClaim = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)

// Redis is a test's own logical database on a shared Redis server.
type Redis struct {
	srv  *Server
	addr string
	db   int
}

// Addr returns the server's host address ("127.0.0.1:49153").
func (r *Redis) Addr() string { return r.addr }

// DB returns the test's logical database number (SELECT n).
func (r *Redis) DB() int { return r.db }

// URL returns "redis://127.0.0.1:49153/n", for redis.ParseURL.
func (r *Redis) URL() string {
	return (&url.URL{Scheme: "redis", Host: r.addr, Path: "/" + strconv.Itoa(r.db)}).String()
}

// Options returns go-redis options for the test's database.
func (r *Redis) Options() *redis.Options { return &redis.Options{Addr: r.addr, DB: r.db} }

// Server returns the shared server.
func (r *Redis) Server() *Server { return r.srv }

// NewRedis returns a logical database of its own for t, empty, on a Redis
// server shared with every test and test process that asks for the same
// configuration; it is flushed and handed back when t ends. No engine: t
// is skipped (failed under CI=true).
func NewRedis(t testing.TB, opts ...RedisOption) *Redis {
	t.Helper()
	s := redisSettings{serviceSettings{image: DefaultRedisImage}}
	for _, o := range opts {
		if err := o.applyRedis(&s); err != nil {
			t.Fatalf("dockhandtest: NewRedis: %v", err)
		}
	}
	srv := Start(t, RedisSpec(s.image, s.keepAlive))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr, err := srv.HostPort(ctx, "6379")
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	claims := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	defer claims.Close()
	holder := fmt.Sprintf("pid %d %s", os.Getpid(), t.Name())
	db := 0
	for n := 1; n < redisDatabases && db == 0; n++ {
		ok, err := claims.SetNX(ctx, claimKey(n), holder, claimTTL).Result()
		if err != nil {
			t.Fatalf("dockhandtest: claim a redis database on %s: %v", addr, err)
		}
		if ok {
			db = n
		}
	}
	if db == 0 {
		t.Fatalf("dockhandtest: all %d redis databases of %s are in use", redisDatabases-1, srv.key)
	}
	r := &Redis{srv: srv, addr: addr, db: db}
	if err := r.flush(ctx); err != nil { // whatever a killed process left
		t.Fatalf("dockhandtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.flush(ctx); err != nil {
			t.Errorf("dockhandtest: %v", err)
			return
		}
		c := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
		defer c.Close()
		if err := c.Del(ctx, claimKey(db)).Err(); err != nil {
			t.Errorf("dockhandtest: release redis database %d: %v", db, err)
		}
	})
	// Keep the claim while the test runs (stopped before the release
	// above: cleanups run last registered first).
	ttl := claimTTL
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
		defer c.Close()
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
				_ = refreshClaim.Run(ctx, c, []string{claimKey(db)}, holder, ttl.Milliseconds()).Err()
				cancel()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return r
}

func claimKey(n int) string { return "dockhandtest:claim:" + strconv.Itoa(n) }

func (r *Redis) flush(ctx context.Context) error {
	c := redis.NewClient(r.Options())
	defer c.Close()
	if err := c.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis database %d: %w", r.db, err)
	}
	return nil
}

// RedisSpec is the Spec NewRedis runs: image with 1024 logical databases,
// no persistence, port 6379, ready when it answers PING.
func RedisSpec(image string, keepAlive bool) Spec {
	return Spec{
		Name:      "redis",
		Image:     image,
		Cmd:       []string{"redis-server", "--save", "", "--appendonly", "no", "--databases", strconv.Itoa(redisDatabases)},
		Ports:     []string{"6379"},
		KeepAlive: keepAlive,
		Ready: func(s *Server) waitfor.Condition {
			// PONG over the published port proves the whole path.
			return waitfor.Func("redis answers PING", func(ctx context.Context) error {
				addr, err := s.HostPort(ctx, "6379")
				if err != nil {
					return err
				}
				return waitfor.Redis(addr, "").Check(ctx)
			})
		},
	}
}
