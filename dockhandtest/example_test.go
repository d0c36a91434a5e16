package dockhandtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/waitfor"
)

// The examples show tests: they are compiled, and run as the tests of
// this package do (postgres_test.go, redis_test.go, share_test.go).

// A test of a package whose TestMain calls dockhandtest.Main gets a
// database of its own, migrated once per server and version.
func ExampleNewPostgres() {
	_ = func(t *testing.T) {
		t.Parallel()
		db := dockhandtest.NewPostgres(t, dockhandtest.WithMigrations("v1", func(ctx context.Context, dsn string) error {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, body text)")
			return err
		}))
		conn, err := pgx.Connect(t.Context(), db.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		// ... the test's own rows, seen by no other test.
	}
}

// A test gets an empty logical database of its own, flushed after it.
func ExampleNewRedis() {
	_ = func(t *testing.T) {
		r := dockhandtest.NewRedis(t)
		c := redis.NewClient(r.Options())
		defer c.Close()
		if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Any image, shared and cleaned up like the built-in fixtures: here a
// busybox HTTP server.
func ExampleStart() {
	_ = func(t *testing.T) {
		srv := dockhandtest.Start(t, dockhandtest.Spec{
			Name:  "web",
			Image: "busybox:1.37",
			Cmd:   []string{"httpd", "-f", "-p", "8080"},
			Ports: []string{"8080"},
			Ready: func(s *dockhandtest.Server) waitfor.Condition { return s.Container().PortReady("8080") },
		})
		addr, err := srv.HostPort(t.Context(), "8080")
		if err != nil {
			t.Fatal(err)
		}
		_ = addr // http://addr/
	}
}

// TestMain releases the shared services as soon as the tests end; the
// last process that holds one removes its container. Without it, the
// process's watchdog does so when the process ends.
func ExampleMain() {
	_ = func(m *testing.M) { dockhandtest.Main(m) }
}
