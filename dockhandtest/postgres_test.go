package dockhandtest_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
)

// migrateNotes is the schema of these tests; runs counts its runs.
func migrateNotes(runs *atomic.Int32) func(ctx context.Context, dsn string) error {
	return func(ctx context.Context, dsn string) error {
		runs.Add(1)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
			INSERT INTO notes (body) VALUES ('seed')`)
		return err
	}
}

func connect(t *testing.T, ctx context.Context, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, ctx context.Context, conn *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRow(ctx, q, args...).Scan(&n))
	return n
}

// Each test gets its own database cloned from the migrated template: the
// seed row is there, and one test's writes are invisible to the other.
// Migrations ran once for both; the database of a passed test is gone.
func TestPostgresDatabasePerTest(t *testing.T) {
	ctx := testbench.CtxFor(t, 5*time.Minute)
	var runs atomic.Int32
	version := fmt.Sprintf("notes-v1-%d", time.Now().UnixNano()) // a template of its own
	opts := []dockhandtest.PostgresOption{dockhandtest.WithImage(testbench.Postgres), dockhandtest.WithMigrations(version, migrateNotes(&runs))}
	var dbs [2]*dockhandtest.Postgres
	for i := range dbs {
		t.Run(fmt.Sprint("test", i), func(t *testing.T) {
			db := dockhandtest.NewPostgres(t, opts...)
			dbs[i] = db
			conn := connect(t, ctx, db.DSN())
			assert.Equal(t, 1, count(t, ctx, conn, "SELECT count(*) FROM notes WHERE body = 'seed'"), "migrated")
			_, err := conn.Exec(ctx, "INSERT INTO notes (body) VALUES ($1)", t.Name())
			require.NoError(t, err)
			assert.Equal(t, 2, count(t, ctx, conn, "SELECT count(*) FROM notes"), "only this test's row added")
			u, err := url.Parse(db.DSN())
			require.NoError(t, err)
			assert.Equal(t, "/"+db.Database(), u.Path)
		})
	}
	require.NotNil(t, dbs[0])
	require.NotNil(t, dbs[1])
	assert.NotEqual(t, dbs[0].Database(), dbs[1].Database())
	assert.Equal(t, dbs[0].Server().Key(), dbs[1].Server().Key(), "one server")
	assert.Equal(t, int32(1), runs.Load(), "migrations ran once")

	admin := connect(t, ctx, strings.Replace(dbs[0].DSN(), "/"+dbs[0].Database()+"?", "/postgres?", 1))
	for _, db := range dbs {
		assert.Equal(t, 0, count(t, ctx, admin, "SELECT count(*) FROM pg_database WHERE datname = $1", db.Database()),
			"the database of a passed test is dropped")
	}
	// Durability off by default.
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		require.NoError(t, admin.QueryRow(ctx, "SHOW "+setting).Scan(&v))
		assert.Equal(t, "off", v, setting)
	}
	var dataFS string
	st, err := dbs[0].Server().Container().Inspect(ctx)
	require.NoError(t, err)
	dataFS = st.HostConfig.Tmpfs["/var/lib/postgresql/data"]
	assert.Equal(t, "rw", dataFS, "data on tmpfs")
}
