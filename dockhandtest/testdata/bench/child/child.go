// Package child is the body of the four packages of 16 parallel tests
// that dockhandtest's benchmark runs at once (bench_test.go): each of
// testdata/bench/{a,b,c,d} calls Parallel.
package child

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dockhand/dockhand/dockhandtest"
)

// Parallel runs 16 parallel subtests, each with a fresh migrated database
// it writes one row to.
func Parallel(t *testing.T) {
	for i := range 16 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := dockhandtest.NewPostgres(t, dockhandtest.WithImage(os.Getenv("DOCKHANDTEST_IMAGE")),
				dockhandtest.WithMigrations("bench-v1", func(ctx context.Context, dsn string) error {
					conn, err := pgx.Connect(ctx, dsn)
					if err != nil {
						return err
					}
					defer conn.Close(ctx)
					_, err = conn.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
					return err
				}))
			conn, err := pgx.Connect(context.Background(), db.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "INSERT INTO notes (body) VALUES ($1)", t.Name()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
