// Package child is the test that the packages a, b, c and d run as test
// processes started by dockhandtest's own tests (share_test.go). The
// environment says what to do:
//
//	DOCKHANDTEST_FIXTURE     "mariadb": NewMariaDB (the default is NewPostgres)
//	DOCKHANDTEST_IMAGE       the PostgreSQL (or MariaDB) image
//	DOCKHANDTEST_VERSION     the migrations' version; they create table v_<version>
//	DOCKHANDTEST_MIGRATIONS  a file each migration run appends a line to
//	DOCKHANDTEST_BARRIER     a directory: write our name there and wait for 4 names
//	DOCKHANDTEST_BLOCK       a file: write "ready" there, then block until killed
//	DOCKHANDTEST_FAIL        "1": write a row, then fail
//	DOCKHANDTEST_KEEPALIVE   a tag: WithKeepAlive, on a server of that tag alone (testhook)
//	DOCKHANDTEST_NO_WATCHDOG "1": no watchdog, so a killed process leaves its server behind (testhook)
package child

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Run is the test.
func Run(t *testing.T, pkg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	version := os.Getenv("DOCKHANDTEST_VERSION")
	// WithDurability: a configuration no other test package uses, so
	// that these processes alone decide the server's fate. The options
	// mean the same for both fixtures (DatabaseOption).
	opts := []dockhandtest.DatabaseOption{dockhandtest.WithImage(os.Getenv("DOCKHANDTEST_IMAGE")), dockhandtest.WithDurability()}
	testhook.NoWatchdog = os.Getenv("DOCKHANDTEST_NO_WATCHDOG") == "1"
	if tag := os.Getenv("DOCKHANDTEST_KEEPALIVE"); tag != "" {
		testhook.KeepAliveTag = tag
		opts = append(opts, dockhandtest.WithKeepAlive())
	}
	logRun := func() error {
		f, err := os.OpenFile(os.Getenv("DOCKHANDTEST_MIGRATIONS"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = fmt.Fprintf(f, "%s %s\n", pkg, version)
		return err
	}
	var (
		srv      *dockhandtest.Server
		database string
	)
	if os.Getenv("DOCKHANDTEST_FIXTURE") == "mariadb" {
		table := "`v_" + strings.ReplaceAll(version, "`", "``") + "`"
		db := dockhandtest.NewMariaDB(t, mariaOpts(append(opts,
			dockhandtest.WithMigrations(version, func(ctx context.Context, dsn string) error {
				if err := logRun(); err != nil {
					return err
				}
				return sqlExec(ctx, dsn, "CREATE TABLE "+table+" (note text)")
			})))...)
		srv, database = db.Server(), db.Database()
		testbench.PrintServer(pkg, srv.Container().ID(), srv.Key())
		if err := sqlExec(ctx, db.DSN(), "INSERT INTO "+table+" VALUES (?)", pkg); err != nil {
			t.Fatal(err)
		}
	} else {
		db := dockhandtest.NewPostgres(t, pgOpts(append(opts,
			dockhandtest.WithMigrations(version, func(ctx context.Context, dsn string) error {
				if err := logRun(); err != nil {
					return err
				}
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				_, err = conn.Exec(ctx, "CREATE TABLE "+pgx.Identifier{"v_" + version}.Sanitize()+" (note text)")
				return err
			})))...)
		srv, database = db.Server(), db.Database()
		testbench.PrintServer(pkg, srv.Container().ID(), srv.Key())
		conn, err := pgx.Connect(ctx, db.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{"v_" + version}.Sanitize()+" VALUES ($1)", pkg); err != nil {
			t.Fatal(err)
		}
	}
	if dir := os.Getenv("DOCKHANDTEST_BARRIER"); dir != "" {
		testbench.Barrier(ctx, t, dir, pkg, 4)
	}
	if file := os.Getenv("DOCKHANDTEST_BLOCK"); file != "" {
		if err := os.WriteFile(file, []byte("ready"), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute) // until killed
	}
	if os.Getenv("DOCKHANDTEST_FAIL") == "1" {
		t.Errorf("failing on purpose, database %s", database)
	}
}

func pgOpts(opts []dockhandtest.DatabaseOption) []dockhandtest.PostgresOption {
	out := make([]dockhandtest.PostgresOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

func mariaOpts(opts []dockhandtest.DatabaseOption) []dockhandtest.MariaDBOption {
	out := make([]dockhandtest.MariaDBOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// sqlExec runs one statement on a MariaDB DSN.
func sqlExec(ctx context.Context, dsn, stmt string, args ...any) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt, args...)
	return err
}
