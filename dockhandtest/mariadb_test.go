package dockhandtest_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// migrateShop is the MariaDB schema of these tests: two tables joined by
// a foreign key (from baskets, which sorts before the customers it
// refers to), a generated column, seed rows, a table whose last rows
// were deleted; runs counts its runs.
func migrateShop(runs *atomic.Int32) func(ctx context.Context, dsn string) error {
	return func(ctx context.Context, dsn string) error {
		runs.Add(1)
		return execAll(ctx, dsn,
			`CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL UNIQUE)`,
			`CREATE TABLE baskets (id int AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL,
				total decimal(10,2) NOT NULL, cents int AS (total * 100) VIRTUAL,
				CONSTRAINT baskets_customer FOREIGN KEY (customer_id) REFERENCES customers (id))`,
			`INSERT INTO customers (name) VALUES ('ada'), ('bob')`,
			`INSERT INTO baskets (customer_id, total) VALUES (1, 9.50), (2, 3.25)`,
			// Rows deleted: the counter (4) is ahead of max(id) (1).
			`CREATE TABLE tickets (id int AUTO_INCREMENT PRIMARY KEY, note varchar(20))`,
			`INSERT INTO tickets (note) VALUES ('a'), ('b'), ('c')`,
			`DELETE FROM tickets WHERE id > 1`)
	}
}

// execAll runs the statements on dsn in one session, one by one:
// session settings (SET SESSION …) apply to the statements after them.
func execAll(ctx context.Context, dsn string, stmts ...string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// openMaria opens dsn; the driver's log of connections the server
// closed (while it starts) stays out of the test output.
func openMaria(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.Logger = &mysql.NopLogger{}
	conn, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

// mariaAdmin connects as root to the server of db, with no database.
func mariaAdmin(t testing.TB, db *dockhandtest.MariaDB) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(db.DSN())
	require.NoError(t, err)
	cfg.DBName = ""
	return openMaria(t, cfg.FormatDSN())
}

func sqlCount(t testing.TB, ctx context.Context, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, q, args...).Scan(&n), q)
	return n
}

func schemaExists(t testing.TB, ctx context.Context, admin *sql.DB, name string) bool {
	t.Helper()
	return sqlCount(t, ctx, admin, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name) == 1
}

// templateName is the fixture's template database of version.
func templateName(version string) string {
	sum := sha256.Sum256([]byte(version))
	return "dockhandtest_tpl_" + hex.EncodeToString(sum[:8])
}

func requireMariaDB(t testing.TB) {
	t.Helper()
	testbench.RequireImage(t, dockhandtest.Client(t), testbench.MariaDB)
}

// Each test gets its own database copied from the migrated template:
// tables, foreign key, generated column, rows and AUTO_INCREMENT
// counters are there, and two parallel tests' writes are invisible to
// each other. Migrations ran once for both; the database of a passed
// test is gone; durability is off.
func TestMariaDBDatabasePerTest(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	var runs atomic.Int32
	version := testbench.RandomName("shop-")
	opts := []dockhandtest.MariaDBOption{dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations(version, migrateShop(&runs))}
	var (
		mu        sync.Mutex
		dbs       []*dockhandtest.MariaDB
		wrote     sync.WaitGroup
		bothWrote = make(chan struct{})
	)
	wrote.Add(2)
	go func() { wrote.Wait(); close(bothWrote) }()
	t.Run("group", func(t *testing.T) {
		for _, who := range []string{"carol", "dave"} {
			t.Run(who, func(t *testing.T) {
				t.Parallel()
				db := dockhandtest.NewMariaDB(t, opts...)
				mu.Lock()
				dbs = append(dbs, db)
				mu.Unlock()
				assert.Regexp(t, `^root@tcp\(127\.0\.0\.1:\d+\)/`+regexp.QuoteMeta(db.Database())+`$`, db.DSN())
				conn := openMaria(t, db.DSN())
				assert.Equal(t, 2, sqlCount(t, ctx, conn, "SELECT count(*) FROM customers"), "migrated rows")
				assert.Equal(t, 325, sqlCount(t, ctx, conn, "SELECT o.cents FROM baskets o JOIN customers c ON c.id = o.customer_id WHERE c.name = 'bob'"),
					"rows joined by the foreign key, generated column computed")
				_, err := conn.ExecContext(ctx, "INSERT INTO baskets (customer_id, total) VALUES (99, 1)")
				var myErr *mysql.MySQLError
				require.True(t, errors.As(err, &myErr), "the foreign key is enforced: %v", err)
				assert.Equal(t, uint16(1452), myErr.Number, "foreign key violation")
				assert.Equal(t, 1, sqlCount(t, ctx, conn, `SELECT count(*) FROM information_schema.KEY_COLUMN_USAGE
					WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'baskets_customer' AND REFERENCED_TABLE_SCHEMA = DATABASE()`),
					"the copy's foreign key refers to the copy's customers, not the template's")
				res, err := conn.ExecContext(ctx, "INSERT INTO tickets (note) VALUES (?)", who)
				require.NoError(t, err)
				tid, err := res.LastInsertId()
				require.NoError(t, err)
				assert.Equal(t, int64(4), tid, "AUTO_INCREMENT counter of the template (ahead of its rows) carried over")

				res, err = conn.ExecContext(ctx, "INSERT INTO customers (name) VALUES (?)", who)
				require.NoError(t, err)
				id, err := res.LastInsertId()
				require.NoError(t, err)
				assert.Equal(t, int64(3), id, "AUTO_INCREMENT continues after the template's rows")
				wrote.Done()
				select { // both tests wrote: neither sees the other's row
				case <-bothWrote:
				case <-time.After(2 * time.Minute):
					t.Fatal("the other parallel test did not write")
				}
				assert.Equal(t, 3, sqlCount(t, ctx, conn, "SELECT count(*) FROM customers"), "only this test's row added")
				assert.Equal(t, 1, sqlCount(t, ctx, conn, "SELECT count(*) FROM customers WHERE name = ?", who))
				_, err = conn.ExecContext(ctx, "INSERT INTO baskets (customer_id, total) VALUES (?, 1)", id)
				assert.NoError(t, err, "a basket for the customer only this copy has: the foreign key checks the copy's customers")
			})
		}
	})
	require.Len(t, dbs, 2)
	assert.NotEqual(t, dbs[0].Database(), dbs[1].Database())
	assert.Equal(t, dbs[0].Server().Key(), dbs[1].Server().Key(), "one server")
	assert.Equal(t, int32(1), runs.Load(), "migrations ran once")

	admin := mariaAdmin(t, dbs[0])
	for _, db := range dbs {
		assert.False(t, schemaExists(t, ctx, admin, db.Database()), "the database of a passed test is dropped")
	}
	assert.True(t, schemaExists(t, ctx, admin, templateName(version)), "the template stays for later tests")
	// Durability off by default.
	assert.Equal(t, 0, sqlCount(t, ctx, admin, "SELECT @@innodb_flush_log_at_trx_commit"))
	assert.Equal(t, 0, sqlCount(t, ctx, admin, "SELECT @@innodb_doublewrite"))
	assert.Equal(t, 500, sqlCount(t, ctx, admin, "SELECT @@max_connections"), "the spec's flags reached the server")
	assert.Equal(t, 0, sqlCount(t, ctx, admin, "SELECT @@log_bin"), "--skip-log-bin")
	st, err := dbs[0].Server().Container().Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, "rw", st.HostConfig.Tmpfs["/var/lib/mysql"], "data on tmpfs")
}

// failedTB is a recorder whose test has failed, recording its log.
type failedTB struct {
	*recorder
	mu   sync.Mutex
	logs []string
}

func (f *failedTB) Failed() bool { return true }
func (f *failedTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// run is recorder.run with f itself as the test.
func (f *failedTB) run(fn func(tb testing.TB)) { f.runAs(f, fn) }

// The database of a failed test is kept, with its DSN in the test log.
func TestMariaDBFailedTestKeepsDatabase(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	var runs atomic.Int32
	ft := &failedTB{recorder: &recorder{TB: t}}
	var name string
	ft.run(func(tb testing.TB) {
		db := dockhandtest.NewMariaDB(tb, dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations(testbench.RandomName("fail-"), migrateShop(&runs)))
		name = db.Database()
		require.NoError(t, execAll(ctx, db.DSN(), "INSERT INTO customers (name) VALUES ('failed')"))
	})
	require.Empty(t, ft.fatal)
	log := strings.Join(ft.logs, "\n")
	m := regexp.MustCompile(`kept the database of the failed test: (root@tcp\(\S+\)/(\S+))`).FindStringSubmatch(log)
	require.Len(t, m, 3, "DSN in the log: %s", log)
	assert.Equal(t, name, m[2])
	assert.Contains(t, log, "log lines of dockhandtest-mariadb-", "the server's log tail in the failed test's log")

	kept := openMaria(t, m[1])
	assert.Equal(t, 1, sqlCount(t, ctx, kept, "SELECT count(*) FROM customers WHERE name = 'failed'"), "the failed test's row is there")
	_, err := kept.ExecContext(ctx, "DROP DATABASE "+"`"+name+"`")
	require.NoError(t, err)
}

// Migrations are identified by their version: the same version reuses
// the template, a new one makes a new template.
func TestMariaDBMigrationsVersion(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	v1, v2 := testbench.RandomName("one-"), testbench.RandomName("two-")
	runs := map[string]*atomic.Int32{v1: {}, v2: {}}
	// A table v_<version> tells which template a database came from.
	migrate := func(v string) func(context.Context, string) error {
		return func(ctx context.Context, dsn string) error {
			runs[v].Add(1)
			return execAll(ctx, dsn, "CREATE TABLE `v_"+v+"` (id int PRIMARY KEY)")
		}
	}
	var adminDSN string
	for _, v := range []string{v1, v1, v2} {
		t.Run(v, func(t *testing.T) {
			db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations(v, migrate(v)))
			cfg, err := mysql.ParseDSN(db.DSN())
			require.NoError(t, err)
			cfg.DBName = ""
			adminDSN = cfg.FormatDSN()
			conn := openMaria(t, db.DSN())
			assert.Equal(t, 0, sqlCount(t, ctx, conn, "SELECT count(*) FROM `v_"+v+"`"), "made from version %s's template", v)
			assert.Equal(t, 1, sqlCount(t, ctx, conn, "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"))
		})
	}
	assert.Equal(t, int32(1), runs[v1].Load(), "v1 once for two tests")
	assert.Equal(t, int32(1), runs[v2].Load(), "then v2 once")
	admin := openMaria(t, adminDSN)
	for _, v := range []string{v1, v2} {
		assert.True(t, schemaExists(t, ctx, admin, templateName(v)), "one template per version")
	}
}

// Sessions of their own (as test processes are) asking at once for a
// new version's template wait for the one that makes it (GET_LOCK): the
// migrations run once.
func TestMariaDBTemplateOnceAcrossProcesses(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	srv := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB)).Server()
	version := testbench.RandomName("race-")
	var runs atomic.Int32
	migrate := func(ctx context.Context, dsn string) error {
		runs.Add(1)
		time.Sleep(300 * time.Millisecond) // the others arrive while it runs
		return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY)")
	}
	names := make([]string, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() { names[i], errs[i] = dockhandtest.MariaDBTemplate(ctx, srv, version, migrate) })
	}
	wg.Wait()
	for i := range names {
		require.NoError(t, errs[i])
		assert.Equal(t, templateName(version), names[i])
	}
	assert.Equal(t, int32(1), runs.Load(), "migrations ran once for 4 sessions")
}

// Migrations that fail, or that leave what the copy cannot carry
// (views, triggers, routines, ...), fail the test with an error naming
// the version and the objects; no template is left half made.
func TestMariaDBBadMigrations(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	admin := mariaAdmin(t, dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB)))
	for _, tc := range []struct {
		name    string
		migrate func(context.Context, string) error
		want    []string
	}{
		{"failing", func(ctx context.Context, dsn string) error {
			return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY)", "INSERT INTO nowhere VALUES (1)")
		}, []string{"INSERT INTO nowhere", "doesn't exist"}},
		{"view and trigger", func(ctx context.Context, dsn string) error {
			return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY, body text)",
				"CREATE VIEW v_notes AS SELECT body FROM notes",
				"CREATE TRIGGER trg_notes BEFORE INSERT ON notes FOR EACH ROW SET NEW.body = UPPER(NEW.body)",
				"CREATE FUNCTION f_one() RETURNS int DETERMINISTIC RETURN 1")
		}, []string{"function `f_one`", "trigger `trg_notes`", "view `v_notes`", "copies ordinary tables only", "invalid argument"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			version := testbench.RandomName("bad-")
			r := &recorder{TB: t}
			r.run(func(tb testing.TB) {
				dockhandtest.NewMariaDB(tb, dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations(version, tc.migrate))
			})
			require.NotEmpty(t, r.fatal, "the test must fail")
			assert.Contains(t, r.fatal, fmt.Sprintf("migrations %q", version))
			for _, w := range tc.want {
				assert.Contains(t, r.fatal, w)
			}
			assert.False(t, schemaExists(t, ctx, admin, templateName(version)), "no template left")
		})
	}
}

// When the last holder releases the server, nothing of it is left: no
// container, no hold; the passed test's database was dropped before.
func TestMariaDBNothingLeft(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.MariaDB)
	releaseOurs(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	var key, name, adminDSN string
	t.Run("test", func(t *testing.T) {
		// A configuration no other test asks for: this process is its
		// only holder.
		db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithDurability())
		key, name = db.Server().Key(), db.Database()
		cfg, err := mysql.ParseDSN(db.DSN())
		require.NoError(t, err)
		cfg.DBName = ""
		adminDSN = cfg.FormatDSN()
		st, err := db.Server().Container().Inspect(ctx)
		require.NoError(t, err)
		assert.Empty(t, st.HostConfig.Tmpfs, "WithDurability: the image's volume, no tmpfs")
	})
	require.NotEmpty(t, key)
	admin := openMaria(t, adminDSN)
	assert.Equal(t, 1, sqlCount(t, ctx, admin, "SELECT @@innodb_flush_log_at_trx_commit"), "WithDurability: flush at each commit")
	assert.False(t, schemaExists(t, ctx, admin, name), "the passed test's database is dropped")
	require.NoError(t, admin.Close())
	releaseOurs(t)
	testbench.NothingLeft(t, c, key)
}

// The stand-in image behaves like the official mariadb image for what
// tests use: the root password from a file, a database and a user of
// its own, /docker-entrypoint-initdb.d (*.sql in that database, then
// *.sh), arguments starting with - go to mariadbd, run as user mysql,
// reachable on 3306 from outside; without a password option it refuses
// to initialise. A root password with a quote, a backslash and a newline
// works, under --sql-mode=NO_BACKSLASH_ESCAPES too; an init script that
// fails stops the temporary server and leaves no password file.
func TestMariaDBStandIn(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.MariaDB)
	ctx := testbench.CtxFor(t, 3*time.Minute)

	img, err := c.API().ImageInspect(ctx, testbench.MariaDB)
	require.NoError(t, err)
	assert.Equal(t, []string{"docker-entrypoint.sh"}, []string(img.Config.Entrypoint))
	assert.Equal(t, []string{"mariadbd"}, []string(img.Config.Cmd))
	assert.Contains(t, img.Config.Volumes, "/var/lib/mysql")
	assert.Contains(t, img.Config.ExposedPorts, "3306/tcp")
	assert.Contains(t, img.Config.Labels["org.opencontainers.image.description"], "Offline stand-in for mariadb:10.11")

	// The files a user would mount, written by a wrapper before the
	// entrypoint runs; the root password has a quote, a backslash and a
	// newline in it.
	const rootPW = "s3cr'et\\x\nline2"
	setup := `printf '%s' "s3cr'et\\x"$'\n'"line2" >/tmp/rootpw
printf 'CREATE TABLE seeded (id int PRIMARY KEY); INSERT INTO seeded VALUES (1);\n' >/docker-entrypoint-initdb.d/01-seed.sql
printf 'mariadb -uroot -p"$(cat /tmp/rootpw)" "$MARIADB_DATABASE" -e "INSERT INTO seeded VALUES (2)"\n' >/docker-entrypoint-initdb.d/02-more.sh
exec docker-entrypoint.sh "$@"`
	ct, err := c.Run(ctx, testbench.MariaDB, lifecycle.WithPull(lifecycle.PullNever),
		lifecycle.WithEntrypoint("bash", "-c", setup, "--"), lifecycle.WithCmd("--innodb-flush-log-at-trx-commit=0", "--sql-mode=NO_BACKSLASH_ESCAPES"),
		lifecycle.WithEnv("MARIADB_ROOT_PASSWORD_FILE=/tmp/rootpw", "MARIADB_DATABASE=app", "MARIADB_USER=appuser", "MARIADB_PASSWORD=apppw"),
		lifecycle.WithPorts("3306"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ct.Remove(context.Background(), lifecycle.WithForce(), lifecycle.WithRemoveVolumes()) })
	addr, err := ct.HostPort(ctx, "3306")
	require.NoError(t, err)
	app := openMaria(t, "appuser:apppw@tcp("+addr+")/app")
	w := waitfor.Waiter{Timeout: 2 * time.Minute, MaxInterval: 100 * time.Millisecond}
	require.NoError(t, w.Wait(ctx, ct.Ready(), waitfor.Func("appuser reads app", func(ctx context.Context) error {
		return app.PingContext(ctx)
	})))
	assert.Equal(t, 3, sqlCount(t, ctx, app, "SELECT sum(id) FROM seeded"), "01-seed.sql ran in MARIADB_DATABASE, then 02-more.sh")
	rootCfg := mysql.NewConfig()
	rootCfg.User, rootCfg.Passwd, rootCfg.Net, rootCfg.Addr = "root", rootPW, "tcp", addr
	root := openMaria(t, rootCfg.FormatDSN())
	assert.Equal(t, 0, sqlCount(t, ctx, root, "SELECT @@innodb_flush_log_at_trx_commit"), "the argument reached mariadbd")
	assert.Equal(t, 1, sqlCount(t, ctx, root, "SELECT @@GLOBAL.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'"), "so did --sql-mode")
	noPassword := openMaria(t, "root@tcp("+addr+")/")
	var myErr *mysql.MySQLError
	require.ErrorAs(t, noPassword.PingContext(ctx), &myErr)
	assert.Equal(t, uint16(1045), myErr.Number, "access denied without the password")
	res, err := ct.Exec(ctx, []string{"stat", "-c", "%U", "/proc/1"})
	require.NoError(t, err)
	assert.Equal(t, "mysql\n", string(res.Stdout), "mariadbd runs as user mysql")

	// An init script fails: the entrypoint exits with its status, having
	// stopped the temporary server and removed the client's password file.
	failing, err := c.Run(ctx, testbench.MariaDB, lifecycle.WithPull(lifecycle.PullNever),
		lifecycle.WithEntrypoint("bash", "-c", `printf '#!/bin/sh\nexit 3\n' >/docker-entrypoint-initdb.d/01-fail.sh
chmod +x /docker-entrypoint-initdb.d/01-fail.sh
exec docker-entrypoint.sh "$@"`, "--"), lifecycle.WithCmd("mariadbd"),
		lifecycle.WithEnv("MARIADB_ROOT_PASSWORD=pw"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = failing.Remove(context.Background(), lifecycle.WithForce(), lifecycle.WithRemoveVolumes()) })
	require.NoError(t, w.Wait(ctx, failing.Exited(3)))
	lines, err := failing.LastLogLines(ctx, 30)
	require.NoError(t, err)
	log := strings.Join(lines, "\n")
	assert.Contains(t, log, "stopping the temporary server")
	assert.Contains(t, log[strings.Index(log, "stopping the temporary server")+1:], "Shutdown complete", "stopped before the entrypoint exited")
	changes, err := c.API().ContainerDiff(ctx, failing.ID())
	require.NoError(t, err)
	for _, ch := range changes {
		assert.False(t, strings.HasPrefix(ch.Path, "/tmp/"), "left behind: %s", ch.Path)
	}

	// No password option: it refuses, as the official image does.
	bad, err := c.Run(ctx, testbench.MariaDB, lifecycle.WithPull(lifecycle.PullNever))
	require.NoError(t, err)
	t.Cleanup(func() { _ = bad.Remove(context.Background(), lifecycle.WithForce(), lifecycle.WithRemoveVolumes()) })
	require.NoError(t, w.Wait(ctx, bad.Exited(1)))
	lines, err = bad.LastLogLines(ctx, 5)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(lines, "\n"), "password option is not specified")
}

// A template left half made (no ready mark: its maker died during the
// migrations) is dropped and made again.
func TestMariaDBHalfMadeTemplate(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	admin := mariaAdmin(t, dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB)))
	version := testbench.RandomName("half-")
	tpl := "`" + templateName(version) + "`"
	_, err := admin.ExecContext(ctx, "CREATE DATABASE "+tpl)
	require.NoError(t, err)
	_, err = admin.ExecContext(ctx, "CREATE TABLE "+tpl+".leftover (id int)")
	require.NoError(t, err)
	var runs atomic.Int32
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithMigrations(version, migrateShop(&runs)))
	assert.Equal(t, int32(1), runs.Load(), "migrations ran again")
	conn := openMaria(t, db.DSN())
	assert.Equal(t, 0, sqlCount(t, ctx, conn, "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'leftover'"))
	assert.Equal(t, 2, sqlCount(t, ctx, conn, "SELECT count(*) FROM customers"))
}

// WithKeepAlive: the server outlives Release (as it outlives the run),
// and a process that knows nothing of it finds it up with its template
// (ready mark read from the server: the migrations do not run again).
func TestMariaDBKeepAlive(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.MariaDB)
	// A tag of this test's own: the server is its alone, so it may remove
	// it (and only it, by the id it saw).
	saved := testhook.KeepAliveTag
	testhook.KeepAliveTag = testbench.RandomName("mariatag")
	t.Cleanup(func() { testhook.KeepAliveTag = saved })
	var runs atomic.Int32
	opts := []dockhandtest.MariaDBOption{dockhandtest.WithImage(testbench.MariaDB), dockhandtest.WithKeepAlive(),
		dockhandtest.WithMigrations(testbench.RandomName("keep-"), migrateShop(&runs))}
	var ids []string
	var key string
	t.Cleanup(func() { removeKeepAlive(t, c, key, ids...) })
	for i := range 2 {
		t.Run(fmt.Sprint("run", i), func(t *testing.T) {
			db := dockhandtest.NewMariaDB(t, opts...)
			ids = append(ids, db.Server().Container().ID())
			key = db.Server().Key()
			assert.Equal(t, 2, sqlCount(t, testbench.CtxFor(t, time.Minute), openMaria(t, db.DSN()), "SELECT count(*) FROM customers"))
		})
		releaseOurs(t) // as the end of a process
		assert.True(t, containerExists(t, c, ids[i]), "kept after Release")
	}
	assert.Equal(t, ids[0], ids[1], "the second found the first's server")
	assert.Equal(t, int32(1), runs.Load(), "and its template")
	removeKeepAlive(t, c, key, ids...)
	assert.False(t, containerExists(t, c, ids[0]))
}

// Four packages run by one `go test` (four processes at once) share one
// MariaDB container; the migrations run once among them (GET_LOCK in
// the server); when they end, nothing is left.
func TestMariaDBSharedAcrossPackages(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.MariaDB)
	releaseOurs(t)
	s := runSharePackages(t, "DOCKHANDTEST_FIXTURE=mariadb", "DOCKHANDTEST_IMAGE="+testbench.MariaDB,
		"DOCKHANDTEST_VERSION="+testbench.RandomName("share-"))
	assert.Contains(t, s.Key, "dockhandtest-mariadb-")
	testbench.NothingLeft(t, c, s.Key)
}
