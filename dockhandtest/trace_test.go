package dockhandtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
)

// TestColdBreakdown starts the server cold (nothing held by this
// process) and logs where the first test's time goes, stage by stage
// (go test -run ColdBreakdown -v). It asserts what a user checks: the
// database answers, and every stage of the cold path ran.
func TestColdBreakdown(t *testing.T) {
	c := client(t)
	requireStandIn(t, c, standInPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The initialised image is this test's own (a tag of its own), so it
	// may be removed after the last Release.
	testhook.InitialisedTag = fmt.Sprintf("trace%d", time.Now().UnixNano())
	var image string
	defer func() {
		testhook.InitialisedTag = ""
		if image != "" {
			if err := c.RemoveImage(context.Background(), image); err != nil {
				t.Errorf("remove %s: %v", image, err)
			}
		}
	}()
	for _, mode := range []string{"initdb", "initialised"} {
		t.Run(mode, func(t *testing.T) {
			if err := Release(ctx); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var stages []string
			traceStage = func(s string, d time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				stages = append(stages, fmt.Sprintf("%-28s %8.1f ms", s, float64(d.Microseconds())/1000))
			}
			defer func() { traceStage = nil }()
			opts := []PostgresOption{WithImage(standInPostgres), WithMigrations(fmt.Sprintf("trace-%d", time.Now().UnixNano()), func(ctx context.Context, dsn string) error {
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				_, err = conn.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY)")
				return err
			})}
			if mode == "initdb" {
				opts = append(opts, WithInitdb())
			} else {
				db := NewPostgres(t, opts...) // the image, made once (not timed)
				image = db.Server().Container().Image()
				if err := Release(ctx); err != nil {
					t.Fatal(err)
				}
				stages = nil
			}
			start := time.Now()
			db := NewPostgres(t, opts...)
			total := time.Since(start)
			conn, err := pgx.Connect(ctx, db.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			joined := strings.Join(stages, "\n")
			for _, want := range []string{"key", "hold", "run", "ready", "template", "clone"} {
				if !strings.Contains(joined, want) {
					t.Errorf("stage %q not traced:\n%s", want, joined)
				}
			}
			t.Logf("cold first test (%s): %.1f ms\n%s", mode, float64(total.Microseconds())/1000, joined)
		})
	}
	if err := Release(ctx); err != nil {
		t.Fatal(err)
	}
}
