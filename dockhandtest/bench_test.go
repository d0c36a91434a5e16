package dockhandtest_test

// The testing layer against a fresh container per test, side by side and
// interleaved in one run (scripts/bench testing):
//
//	go test ./dockhandtest/ -run '^$' -bench SideBySide -benchtime 1x
//
// Rounds (DOCKHANDTEST_BENCH_ROUNDS, default 5) each measure, in turn:
// a fresh container per test (run, ready, migrated); a first test on a
// cold start (no container: start from the initialised image, template,
// database), and the same WithInitdb (initdb at start); further tests'
// databases (20 per round); a first test of a new process finding a
// keep-alive server; and 64 parallel tests in 4 packages (4 processes at
// once, 16 parallel tests each) on a cold and on a warm server, and the
// same 64 tests with a fresh container each (64 servers at once).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/jackc/pgx/v5"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

func benchMigrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
	return err
}

// freshContainer is the habit we compare with: a server per test, ready
// and migrated, with the same settings (durability off, tmpfs).
func freshContainer(b *testing.B, c *lifecycle.Client) time.Duration {
	d, err := tryFreshContainer(c)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// tryFreshContainer is freshContainer returning its error: safe on any
// goroutine.
func tryFreshContainer(c *lifecycle.Client) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec := dockhandtest.PostgresSpec(testbench.Postgres, false, false)
	start := time.Now()
	ct, err := c.Run(ctx, spec.Image, lifecycle.WithCmd(spec.Cmd...), lifecycle.WithEnv(spec.Env...), lifecycle.WithPorts(spec.Ports...),
		lifecycle.WithPull(lifecycle.PullNever),
		lifecycle.WithContainerConfig(func(_ *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig) {
			hc.Tmpfs = spec.Tmpfs
		}))
	if err != nil {
		return 0, err
	}
	defer ct.Remove(context.WithoutCancel(ctx), lifecycle.WithForce(), lifecycle.WithRemoveVolumes())
	addr, err := ct.HostPort(ctx, "5432")
	if err != nil {
		return 0, err
	}
	dsn := "postgres://postgres@" + addr + "/postgres?sslmode=disable&connect_timeout=2"
	w := waitfor.Waiter{Timeout: 2 * time.Minute, MaxInterval: 50 * time.Millisecond}
	if err := w.Wait(ctx, ct.PortReady("5432"), waitfor.Func("query", func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})); err != nil {
		return 0, err
	}
	if err := benchMigrate(ctx, dsn); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func BenchmarkSideBySide(b *testing.B) {
	c := dockhandtest.Client(b)
	testbench.RequireImage(b, c, testbench.Postgres)
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("DOCKHANDTEST_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	bins := benchBinaries(b)
	// Registered first, so it runs last: after the tests' own cleanups
	// dropped their databases on the keep-alive server.
	// The keep-alive server is this benchmark's own (a tag of its own),
	// and only the one it saw is removed.
	testhook.KeepAliveTag = fmt.Sprintf("bench%d", time.Now().UnixNano())
	// The initialised image is the one every run shares (the test
	// binaries of the 64-test rows use it too): made in round 0 and kept,
	// as it is for users.
	var keepID, keepKey string
	b.Cleanup(func() {
		removeKeepAlive(b, c, keepKey, keepID)
		testhook.KeepAliveTag = ""
	})
	var fresh64Failed []int
	var fresh, fresh64, cold, coldInitdb, further, keep, par64cold, par64warm []time.Duration
	for r := range rounds {
		fresh = append(fresh, freshContainer(b, c))

		// 64 parallel tests with a fresh container each: 64 servers at once.
		// A container that is not ready within two minutes counts as
		// failed (the wall time is then bounded by that limit).
		start := time.Now()
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 64 {
			wg.Go(func() {
				if _, err := tryFreshContainer(c); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		fresh64 = append(fresh64, time.Since(start))
		fresh64Failed = append(fresh64Failed, int(failed.Load()))

		// First test, cold: no container for this configuration, from
		// the initialised image (the default: made before the first
		// round, not timed, as it is kept between runs).
		version := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), r)
		opts := []dockhandtest.PostgresOption{dockhandtest.WithImage(testbench.Postgres), dockhandtest.WithMigrations(version, benchMigrate)}
		if r == 0 {
			dockhandtest.NewPostgres(b, opts...)
		}
		if err := dockhandtest.Release(ctx); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		dockhandtest.NewPostgres(b, opts...)
		cold = append(cold, time.Since(start))

		// First test, cold, WithInitdb: the image's own first start.
		if err := dockhandtest.Release(ctx); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		dockhandtest.NewPostgres(b, append(opts, dockhandtest.WithInitdb())...)
		coldInitdb = append(coldInitdb, time.Since(start))
		if err := dockhandtest.Release(ctx); err != nil {
			b.Fatal(err)
		}
		dockhandtest.NewPostgres(b, opts...) // the default server again, for the rows below

		// Further tests' databases.
		for range 20 {
			start := time.Now()
			dockhandtest.NewPostgres(b, opts...)
			further = append(further, time.Since(start))
		}

		// 64 parallel tests in 4 processes, on the warm server (this
		// process holds it), then cold (nobody does).
		par64warm = append(par64warm, run4(b, bins))
		if err := dockhandtest.Release(ctx); err != nil {
			b.Fatal(err)
		}
		par64cold = append(par64cold, run4(b, bins))

		// Keep-alive: the first test of a process finding the server up.
		kopts := []dockhandtest.PostgresOption{dockhandtest.WithImage(testbench.Postgres), dockhandtest.WithKeepAlive(), dockhandtest.WithMigrations("bench-keep", benchMigrate)}
		if r == 0 {
			kdb := dockhandtest.NewPostgres(b, kopts...) // made once, kept
			keepID, keepKey = kdb.Server().Container().ID(), kdb.Server().Key()
		}
		if err := dockhandtest.Release(ctx); err != nil { // as a new process: nothing known
			b.Fatal(err)
		}
		start = time.Now()
		dockhandtest.NewPostgres(b, kopts...)
		keep = append(keep, time.Since(start))
	}
	fmt.Printf("\ntesting layer vs a fresh container per test, %d interleaved rounds, stand-in %s\n", rounds, testbench.Postgres)
	fmt.Printf("%-52s %10s %10s %10s\n", "", "p50", "p99", "n")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-52s %10s %10s %10d\n", name, ms(pct(d, 0.5)), ms(pct(d, 0.99)), len(d))
	}
	row("fresh container per test: ready + migrated", fresh)
	row("dockhandtest first test, cold (start+template+db)", cold)
	row("dockhandtest first test, cold, WithInitdb", coldInitdb)
	row("dockhandtest first test, keep-alive server", keep)
	row("dockhandtest further test's database", further)
	row("64 parallel tests, 4 packages, cold: wall", par64cold)
	row("64 parallel tests, 4 packages, warm: wall", par64warm)
	row("64 parallel tests, a fresh container each: wall", fresh64)
	fmt.Printf("%-52s %v\n", "  of which not ready within 2 minutes, per round", fresh64Failed)
	fmt.Printf("ratio fresh container / further test database (p50): %.0fx\n", float64(pct(fresh, 0.5))/float64(pct(further, 0.5)))
}

// benchBinaries builds the test binaries of testdata/bench/{a,b,c,d}.
func benchBinaries(b *testing.B) []string {
	dir := b.TempDir()
	pkgs := []string{"./testdata/bench/a", "./testdata/bench/b", "./testdata/bench/c", "./testdata/bench/d"}
	out, err := exec.Command("go", append([]string{"test", "-c", "-o", dir + "/"}, pkgs...)...).CombinedOutput()
	if err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	bins, _ := filepath.Glob(filepath.Join(dir, "*.test"))
	if len(bins) != 4 {
		b.Fatalf("want 4 test binaries, got %v", bins)
	}
	return bins
}

// run4 runs the four binaries at once, as go test -p 4 does, and returns
// the wall time.
func run4(b *testing.B, bins []string) time.Duration {
	start := time.Now()
	errs := make(chan error, len(bins))
	for _, bin := range bins {
		go func() {
			cmd := exec.Command(bin, "-test.count=1", "-test.parallel=16")
			cmd.Env = append(os.Environ(), "DOCKHANDTEST_IMAGE="+testbench.Postgres)
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%s: %v: %s", filepath.Base(bin), err, out)
			}
			errs <- err
		}()
	}
	for range bins {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// A further test's MariaDB database: the copy of a migrated template
// (two tables joined by a foreign key, a generated column, four rows)
// on a warm server, as a test after the first one gets it. The server
// and template are made before the timed loop.
//
//	go test ./dockhandtest -run '^$' -bench MariaDBFurtherTest -benchtime 20x
func BenchmarkMariaDBFurtherTest(b *testing.B) {
	c := dockhandtest.Client(b)
	testbench.RequireImage(b, c, testbench.MariaDB)
	var runs atomic.Int32
	opts := []dockhandtest.MariaDBOption{dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations("bench-shop-v1", migrateShop(&runs))}
	dockhandtest.NewMariaDB(b, opts...) // server and template: not timed
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		dockhandtest.NewMariaDB(b, opts...)
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(pct(d, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(d, 0.99).Microseconds())/1000, "p99-ms")
}
