package dockhandtest_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
)

// WithInitialisedImage: the server starts from a committed image whose
// cluster is initialised, so it skips initdb, and still has its data on
// tmpfs, migrated, a database per test.
func TestInitialisedImage(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	releaseOurs(t)
	ctx := ctxFor(t, 5*time.Minute)
	var runs atomic.Int32
	var image string
	// A tag of this test's own: the initialised image is its alone (the
	// untagged one is shared with other runs and users), so it may be
	// removed at the end.
	testhook.InitialisedTag = randomVersion("init")
	t.Cleanup(func() {
		releaseOurs(t)
		testhook.InitialisedTag = ""
		if image != "" {
			require.NoError(t, c.RemoveImage(context.Background(), image))
		}
	})
	shared := dockhandtest.InitialisedRef(t, c, dockhandtest.PostgresSpec(testbench.Postgres, false, false), "")
	t.Run("first", func(t *testing.T) {
		db := dockhandtest.NewPostgres(t, dockhandtest.WithImage(testbench.Postgres), dockhandtest.WithInitialisedImage(),
			dockhandtest.WithMigrations(randomVersion("init"), migrateNotes(&runs)))
		image = db.Server().Container().Image()
		require.True(t, strings.HasPrefix(image, "dockhandtest-initialised/postgres:"), image)
		require.NotEqual(t, shared, image, "the test's own image, not the shared one")
		conn := connect(t, ctx, db.DSN())
		assert.Equal(t, 1, count(t, ctx, conn, "SELECT count(*) FROM notes"), "migrated")
		var fsync string
		require.NoError(t, conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
		assert.Equal(t, "off", fsync)
		ins, err := db.Server().Container().Inspect(ctx)
		require.NoError(t, err)
		assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql/data", "data on tmpfs")
		lines, err := db.Server().Container().LastLogLines(ctx, 200)
		require.NoError(t, err)
		log := strings.Join(lines, "\n")
		assert.Contains(t, log, "holds a cluster", "the stand-in's entrypoint skipped initdb")
		assert.NotContains(t, log, "initializing a new cluster")
	})
	assert.Equal(t, int32(1), runs.Load())
}

// Two processes that both found no initialised image make it at once:
// the later one must not displace the image the earlier committed (it
// would stay untagged forever).
func TestInitialisedImageNotDisplaced(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	ctx := ctxFor(t, 5*time.Minute)
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	ref := "dockhandtest-initialised/postgres:" + randomVersion("race") // this test's own
	var ids []string
	t.Cleanup(func() {
		_ = c.RemoveImage(context.Background(), ref)
		for _, id := range ids {
			_ = c.RemoveImage(context.Background(), id)
		}
	})
	for range 2 {
		require.NoError(t, dockhandtest.MakeInitialised(ctx, c, spec, ref))
		img, err := c.InspectImage(ctx, ref)
		require.NoError(t, err)
		ids = append(ids, img.ID)
	}
	assert.Equal(t, ids[0], ids[1], "the second maker used the first one's image")
}
