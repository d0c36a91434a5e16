package dockhandtest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A test that outlives the claim's TTL keeps its logical database: the
// claim is refreshed while the test runs, and released when it ends.
func TestRedisClaimRefreshed(t *testing.T) {
	c := Client(t)
	requireStandIn(t, c, standInRedis)
	saved := claimTTL
	claimTTL = 900 * time.Millisecond
	t.Cleanup(func() { claimTTL = saved })
	var addr string
	var db int
	t.Run("long", func(t *testing.T) {
		r := NewRedis(t, WithImage(standInRedis))
		addr, db = r.Addr(), r.DB()
		time.Sleep(4 * claimTTL) // four TTLs: an unrefreshed claim expires
		cl := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
		defer cl.Close()
		n, err := cl.Exists(context.Background(), claimKey(db)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("claim %s expired while its test ran", claimKey(db))
		}
	})
	cl := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	defer cl.Close()
	time.Sleep(claimTTL) // the refresher stopped: nothing brings the claim back
	n, err := cl.Exists(context.Background(), claimKey(db)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("claim %s still there after its test ended", claimKey(db))
	}
}
