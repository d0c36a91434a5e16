package dockhandtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker/docker/api/types/container"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
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
	ctx := testbench.CtxFor(t, 5*time.Minute)
	var runs atomic.Int32
	var image string
	// A tag of this test's own: the initialised image is its alone (the
	// untagged one is shared with other runs and users), so it may be
	// removed at the end.
	testhook.InitialisedTag = testbench.RandomName("init")
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
			dockhandtest.WithMigrations(testbench.RandomName("init"), migrateNotes(&runs)))
		image = db.Server().Container().Image()
		require.True(t, strings.HasPrefix(image, "dockhandtest-initialised/postgres:"), image)
		require.NotEqual(t, shared, image, "the test's own image, not the shared one")
		conn := connect(t, ctx, db.DSN())
		assert.Equal(t, 1, count(t, ctx, conn, "SELECT count(*) FROM notes"), "migrated")
		var fsync, dataDir string
		require.NoError(t, conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
		assert.Equal(t, "off", fsync)
		require.NoError(t, conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir))
		assert.Equal(t, "/dockhandtest/run/pgdata", dataDir, "the committed cluster, extracted")
		ins, err := db.Server().Container().Inspect(ctx)
		require.NoError(t, err)
		assert.Contains(t, ins.HostConfig.Tmpfs, "/dockhandtest/run", "data on tmpfs")
		assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql/data", "the image's volume on tmpfs")
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
	ctx := testbench.CtxFor(t, 5*time.Minute)
	tag := testbench.RandomName("initdb")
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
	ctx := testbench.CtxFor(t, 5*time.Minute)
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	ref := "dockhandtest-initialised/postgres:" + testbench.RandomName("race") // this test's own
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

// Two processes that find no initialised image at the same time: one
// makes it (the engine is the lock: the maker container's name), the
// other waits for it and uses that image; initdb runs once.
func TestInitialisedImageConcurrentMakers(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	ref := "dockhandtest-initialised/postgres:" + testbench.RandomName("race2") // this test's own
	var mu sync.Mutex
	var made []string
	dockhandtest.OnCommit(t, func(_, id string) {
		mu.Lock()
		defer mu.Unlock()
		made = append(made, id)
	})
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), ref) })
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = dockhandtest.MakeInitialised(ctx, c, spec, ref) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, made, 1, "one maker committed")
	img, err := c.InspectImage(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, made[0], img.ID)
}

// A maker killed while it made the image leaves its container behind
// (here: one with a dead process's owner label and the maker's name):
// the next maker removes it and makes the image, rather than wait for
// it forever.
func TestInitialisedImageDeadMaker(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	testbench.RequireImage(t, c, testbench.Busybox)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	tag := testbench.RandomName("dead")
	ref := "dockhandtest-initialised/postgres:" + tag
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), ref) })
	// The maker's container, owned by a process that is gone: this
	// process's owner label with another start time (its pid reused).
	probe, err := c.Run(ctx, testbench.Busybox, lifecycle.WithCmd("true"))
	require.NoError(t, err)
	ins, err := probe.Inspect(ctx)
	require.NoError(t, err)
	require.NoError(t, probe.Remove(ctx, lifecycle.WithForce()))
	m := regexp.MustCompile(`start=(\d+)`).FindStringSubmatch(ins.Config.Labels[lifecycle.LabelOwner])
	require.Len(t, m, 2, "owner label %q", ins.Config.Labels[lifecycle.LabelOwner])
	start, _ := strconv.ParseUint(m[1], 10, 64)
	dead := strings.Replace(ins.Config.Labels[lifecycle.LabelOwner], m[0], "start="+strconv.FormatUint(start+1, 10), 1)
	created, err := c.API().ContainerCreate(ctx, &container.Config{Image: testbench.Busybox, Cmd: []string{"sleep", "600"},
		Labels: map[string]string{lifecycle.LabelOwner: dead}}, nil, nil, nil, "dockhandtest-initialising-"+tag)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.API().ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	require.NoError(t, c.API().ContainerStart(ctx, created.ID, container.StartOptions{}))
	gone, err := c.OwnerGone(ctx, created.ID)
	require.NoError(t, err)
	require.True(t, gone, "the stand-in maker's owner counts as gone")

	require.NoError(t, dockhandtest.MakeInitialised(ctx, c, spec, ref))
	_, err = c.InspectImage(ctx, ref)
	require.NoError(t, err)
	_, err = c.API().ContainerInspect(ctx, created.ID)
	assert.True(t, cerrdefs.IsNotFound(err), "the dead maker's container is removed: %v", err)
}

// An image that is not an official postgres image (no
// docker-entrypoint.sh) is rejected naming WithInitdb, before anything
// is made.
func TestInitialisedImageRejectsOtherImages(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Busybox)
	ctx := testbench.CtxFor(t, time.Minute)
	_, err := dockhandtest.ServerSpecErr(ctx, c, dockhandtest.PostgresSpec(testbench.Busybox, false, false), false)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.ErrorContains(t, err, testbench.Busybox)
	assert.ErrorContains(t, err, "use WithInitdb")

	// An image whose volume would swallow the seed.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+testbench.Postgres+
		"\nVOLUME /dockhandtest\nLABEL dockhand.test/volume="+testbench.RandomName("v")+"\n"), 0o644))
	tag := "dockhand.test/postgres-volume:" + testbench.RandomName("t")
	_, err = c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), tag) })
	_, err = dockhandtest.ServerSpecErr(ctx, c, dockhandtest.PostgresSpec(tag, false, false), false)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.ErrorContains(t, err, "declares the volume /dockhandtest")
	assert.ErrorContains(t, err, "use WithInitdb")
}

// The layout of PostgreSQL 18's official image (PGDATA
// /var/lib/postgresql/18/docker, VOLUME /var/lib/postgresql) on top of
// the stand-in's: the seed is written outside every declared volume, so
// the commit keeps it; a server keeps no data in an anonymous volume
// unless durable; a durable server's cluster is in the image's volume
// and survives a restart of its container.
func TestInitialisedImageVolumeLayout(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	releaseOurs(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+testbench.Postgres+
		"\nENV PGDATA=/var/lib/postgresql/18/docker\nVOLUME /var/lib/postgresql\nLABEL dockhand.test/layout="+testbench.RandomName("l")+"\n"), 0o644))
	tag := "dockhand.test/postgres-layout18:" + testbench.RandomName("t")
	_, err := c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	testhook.InitialisedTag = testbench.RandomName("layout") // images of this test's own
	var made []string
	t.Cleanup(func() {
		releaseOurs(t)
		testhook.InitialisedTag = ""
		for _, ref := range made {
			_ = c.RemoveImage(context.Background(), ref)
		}
		_ = c.RemoveImage(context.Background(), tag)
	})
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "tmpfs", true: "durable"}[durable], func(t *testing.T) {
			opts := []dockhandtest.PostgresOption{dockhandtest.WithImage(tag)}
			if durable {
				opts = append(opts, dockhandtest.WithDurability())
			}
			db := dockhandtest.NewPostgres(t, opts...)
			ct := db.Server().Container()
			made = append(made, ct.Image())
			require.True(t, strings.HasPrefix(ct.Image(), "dockhandtest-initialised/postgres:"), ct.Image())
			conn := connect(t, ctx, db.DSN())
			var dataDir string
			require.NoError(t, conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir))
			assert.Equal(t, map[bool]string{false: "/dockhandtest/run/pgdata", true: "/var/lib/postgresql/data/pgdata"}[durable], dataDir)
			ins, err := ct.Inspect(ctx)
			require.NoError(t, err)
			var volumes []string
			for _, m := range ins.Mounts {
				if m.Type == "volume" {
					volumes = append(volumes, m.Destination)
				}
			}
			if !durable {
				assert.Empty(t, volumes, "no anonymous volume: every declared one is on tmpfs")
				assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql")
				assert.Contains(t, ins.HostConfig.Tmpfs, "/var/lib/postgresql/data")
				return
			}
			assert.ElementsMatch(t, []string{"/var/lib/postgresql", "/var/lib/postgresql/data"}, volumes, "the image's volumes")
			_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('after restart')")
			require.NoError(t, err)
			require.NoError(t, conn.Close(ctx))
			require.NoError(t, ct.Stop(ctx))
			require.NoError(t, ct.Start(ctx))
			w := waitfor.Waiter{Timeout: time.Minute, MaxInterval: 50 * time.Millisecond}
			require.NoError(t, w.Wait(ctx, waitfor.Func("postgres answers", func(ctx context.Context) error {
				addr, err := db.Server().HostPort(ctx, "5432")
				if err != nil {
					return err
				}
				conn, err := pgx.Connect(ctx, strings.Replace(db.DSN(), addrOf(db.DSN()), addr, 1))
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				var v string
				if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
					return err
				}
				if v != "after restart" {
					return fmt.Errorf("kept row %q", v)
				}
				return nil
			})), "the durable cluster survives a restart")
			// The restart published new host ports: the server's pooled
			// connections are stale, so release it (its databases go with it).
			releaseOurs(t)
		})
	}
}

// addrOf is the host:port of a postgres:// DSN.
func addrOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Host
}
