package dockhandtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Parallel tests each get an empty logical database of their own on one
// server, flushed and handed back after them. (How many run at once is
// -parallel's business: a database is handed out again once free.)
func TestRedisDatabasePerTest(t *testing.T) {
	ctx := testbench.CtxFor(t, 3*time.Minute)
	const n = 4
	got := make([]*dockhandtest.Redis, n)
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				r := dockhandtest.NewRedis(t, dockhandtest.WithImage(testbench.Redis))
				got[i] = r
				c := redis.NewClient(r.Options())
				defer c.Close()
				size, err := c.DBSize(ctx).Result()
				require.NoError(t, err)
				assert.Zero(t, size, "starts empty")
				require.NoError(t, c.Set(ctx, "who", t.Name(), 0).Err())
				time.Sleep(50 * time.Millisecond) // overlap with the others
				v, err := c.Get(ctx, "who").Result()
				require.NoError(t, err)
				assert.Equal(t, t.Name(), v, "no other test writes here")
			})
		}
	})
	for _, r := range got {
		require.NotNil(t, r)
		assert.NotZero(t, r.DB(), "database 0 holds the claims")
		assert.Equal(t, got[0].Server().Key(), r.Server().Key(), "one server")
		c := redis.NewClient(r.Options())
		size, err := c.DBSize(ctx).Result()
		c.Close()
		require.NoError(t, err)
		assert.Zero(t, size, "database %d flushed after its test", r.DB())
		claims := redis.NewClient(&redis.Options{Addr: r.Addr()})
		held, err := claims.Exists(ctx, fmt.Sprintf("dockhandtest:claim:%d", r.DB())).Result()
		claims.Close()
		require.NoError(t, err)
		assert.Zero(t, held, "database %d handed back", r.DB())
		opt, err := redis.ParseURL(r.URL())
		require.NoError(t, err)
		assert.Equal(t, r.DB(), opt.DB)
	}
}
