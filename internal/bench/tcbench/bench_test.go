// Package tcbench compares dockhandtest with testcontainers-go's postgres
// module (a container per package, Snapshot once, Restore before each
// test), side by side and interleaved, on the same stand-in image. It is
// a module of its own so the main module does not depend on
// testcontainers-go:
//
//	cd internal/bench/tcbench && go test -run '^$' -bench Versus -benchtime 1x
//
// Ryuk (testcontainers' reaper) is disabled: its image cannot be pulled
// without a registry; every container is removed by the benchmark.
package tcbench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/dockhand/dockhand/dockhandtest"
)

const image = "dockhand.test/postgres:15"

func migrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
	return err
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func BenchmarkVersusTestcontainers(b *testing.B) {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// This machine has a /.dockerenv, so testcontainers-go takes itself
	// for a process in a container and dials the default gateway
	// (192.0.2.1 here): tell it where the published ports are.
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("DOCKHANDTEST_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var tcFirst, tcRestore, dhFirst, dhFurther, tc64 []time.Duration
	// dockhandtest's initialised image is made once and kept between
	// runs: make it before the timed rounds, as a user's earlier run has.
	dockhandtest.NewPostgres(b, dockhandtest.WithImage(image))
	if err := dockhandtest.Release(ctx); err != nil {
		b.Fatal(err)
	}
	for r := range rounds {
		// testcontainers-go, 64 tests in 4 packages: a container per
		// package (4 at once), its 16 tests one after another (a Restore
		// each: tests sharing one database cannot run in parallel).
		start64 := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				ctr, err := tcpostgres.Run(ctx, image, tcpostgres.WithDatabase("app"), tcpostgres.WithUsername("app"),
					tcpostgres.WithPassword("app"), tcpostgres.WithSQLDriver("pgx"),
					testcontainers.WithWaitStrategy(wait.ForLog("database system is ready to accept connections").WithOccurrence(2).WithStartupTimeout(3*time.Minute)))
				if ctr != nil {
					defer func() { _ = testcontainers.TerminateContainer(ctr) }()
				}
				if err != nil {
					errs <- err
					return
				}
				dsn, err := ctr.ConnectionString(ctx, "sslmode=disable")
				if err == nil {
					err = migrate(ctx, dsn)
				}
				if err == nil {
					err = ctr.Snapshot(ctx)
				}
				for i := 0; i < 16 && err == nil; i++ {
					err = ctr.Restore(ctx)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		tc64 = append(tc64, time.Since(start64))

		// testcontainers-go: a container per package, migrated and
		// snapshotted; Restore before each further test.
		start := time.Now()
		// The module's log wait: "ready to accept connections" twice
		// (initdb's temporary server, then the real one). Its
		// BasicWaitStrategies adds a port check whose dial times out here.
		ctr, err := tcpostgres.Run(ctx, image, tcpostgres.WithDatabase("app"), tcpostgres.WithUsername("app"),
			tcpostgres.WithPassword("app"), tcpostgres.WithSQLDriver("pgx"),
			testcontainers.WithWaitStrategy(wait.ForLog("database system is ready to accept connections").WithOccurrence(2).WithStartupTimeout(3*time.Minute)))
		if ctr != nil {
			b.Cleanup(func() { _ = testcontainers.TerminateContainer(ctr) })
		}
		if err != nil {
			b.Fatal(err)
		}
		dsn, err := ctr.ConnectionString(ctx, "sslmode=disable")
		if err == nil {
			err = migrate(ctx, dsn)
		}
		if err == nil {
			err = ctr.Snapshot(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		tcFirst = append(tcFirst, time.Since(start))
		for range 20 {
			start := time.Now()
			if err := ctr.Restore(ctx); err != nil {
				b.Fatal(err)
			}
			tcRestore = append(tcRestore, time.Since(start))
		}
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			b.Fatal(err)
		}

		// dockhandtest: cold first test, then further tests' databases.
		if err := dockhandtest.Release(ctx); err != nil {
			b.Fatal(err)
		}
		opts := []dockhandtest.PostgresOption{dockhandtest.WithImage(image),
			dockhandtest.WithMigrations("tcbench-"+strconv.Itoa(r)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), migrate)}
		start = time.Now()
		dockhandtest.NewPostgres(b, opts...)
		dhFirst = append(dhFirst, time.Since(start))
		for range 20 {
			start := time.Now()
			dockhandtest.NewPostgres(b, opts...)
			dhFurther = append(dhFurther, time.Since(start))
		}
	}
	b.Cleanup(func() { _ = dockhandtest.Release(context.Background()) })
	fmt.Printf("\ndockhandtest vs testcontainers-go v0.45 postgres module, %d interleaved rounds, %s\n", rounds, image)
	fmt.Printf("%-58s %10s %10s %6s\n", "", "p50", "p99", "n")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-58s %10s %10s %6d\n", name, ms(pct(d, 0.5)), ms(pct(d, 0.99)), len(d))
	}
	row("testcontainers: first test (run, ready, migrate, Snapshot)", tcFirst)
	row("dockhandtest: first test, cold (start, template, database)", dhFirst)
	row("testcontainers: further test (Restore, database/sql)", tcRestore)
	row("dockhandtest: further test's database", dhFurther)
	row("testcontainers: 64 tests, 4 packages (container each, Restore): wall", tc64)
	fmt.Printf("ratio further test, testcontainers / dockhandtest (p50): %.1fx\n", float64(pct(tcRestore, 0.5))/float64(pct(dhFurther, 0.5)))
}
