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
	"github.com/dockhand/dockhand/lifecycle"
)

// By default the server starts from a committed image whose cluster is
// initialised: it skips initdb and the entrypoint, runs PostgreSQL on
// the committed cluster extracted to tmpfs with durability off, migrated,
// a database per test, and leaves no anonymous volume on the image's
// data VOLUME.
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
		db := dockhandtest.NewPostgres(t, dockhandtest.WithImage(testbench.Postgres),
			dockhandtest.WithMigrations(randomVersion("init"), migrateNotes(&runs)))
		image = db.Server().Container().Image()
		require.True(t, strings.HasPrefix(image, "dockhandtest-initialised/postgres:"), image)
		require.NotEqual(t, shared, image, "the test's own image, not the shared one")
		conn := connect(t, ctx, db.DSN())
		assert.Equal(t, 1, count(t, ctx, conn, "SELECT count(*) FROM notes"), "migrated")
		var fsync, dataDir string
		require.NoError(t, conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
		assert.Equal(t, "off", fsync)
		require.NoError(t, conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir))
		assert.Equal(t, "/var/lib/postgresql/run/pgdata", dataDir, "the committed cluster, extracted")
		ins, err := db.Server().Container().Inspect(ctx)
		require.NoError(t, err)
		assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql/run", "data on tmpfs")
		for _, m := range ins.Mounts {
			assert.NotEqual(t, "volume", string(m.Type), "no anonymous volume: %+v", m)
		}
		lines, err := db.Server().Container().LastLogLines(ctx, 200)
		require.NoError(t, err)
		log := strings.Join(lines, "\n")
		assert.Contains(t, log, "database system is ready to accept connections")
		assert.NotContains(t, log, "initializing a new cluster")
		assert.NotContains(t, log, "holds a cluster", "the entrypoint did not run")
	})
	assert.Equal(t, int32(1), runs.Load())
}

// WithInitdb: the server runs the image's own first start, initdb on
// tmpfs, and no initialised image is made or used.
func TestWithInitdb(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	releaseOurs(t)
	t.Cleanup(func() { releaseOurs(t) })
	ctx := ctxFor(t, 5*time.Minute)
	tag := randomVersion("initdb")
	testhook.InitialisedTag = tag // an image made anyway would be this test's own
	t.Cleanup(func() { testhook.InitialisedTag = "" })
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	ref := dockhandtest.InitialisedRef(t, c, spec, tag)
	db := dockhandtest.NewPostgres(t, dockhandtest.WithImage(testbench.Postgres), dockhandtest.WithInitdb())
	assert.Equal(t, testbench.Postgres, db.Server().Container().Image())
	ins, err := db.Server().Container().Inspect(ctx)
	require.NoError(t, err)
	assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql/data", "data on tmpfs")
	lines, err := db.Server().Container().LastLogLines(ctx, 200)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(lines, "\n"), "initializing a new cluster")
	_, err = c.InspectImage(ctx, ref)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "no initialised image made")
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
