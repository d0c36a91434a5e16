package dockhandtest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// Tables whose names differ only by case (`Users` and `users`, distinct
// tables with lower_case_table_names=0) are both copied, each with its
// own columns and rows.
func TestMariaDBTablesDifferingByCase(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB),
		dockhandtest.WithMigrations(testbench.RandomName("case-"), func(ctx context.Context, dsn string) error {
			return execAll(ctx, dsn,
				"CREATE TABLE `Users` (id int PRIMARY KEY, login varchar(20) NOT NULL)",
				"CREATE TABLE `users` (uid int PRIMARY KEY, email varchar(50) NOT NULL, age int NOT NULL)",
				"INSERT INTO `Users` VALUES (1, 'ada')",
				"INSERT INTO `users` VALUES (7, 'bob@example.com', 42), (8, 'carol@example.com', 9)")
		}))
	conn := openMaria(t, db.DSN())
	require.Equal(t, 0, sqlCount(t, ctx, conn, "SELECT @@lower_case_table_names"), "the server tells the two tables apart")
	assert.Equal(t, 1, sqlCount(t, ctx, conn, "SELECT count(*) FROM `Users` WHERE login = 'ada'"), "`Users` copied")
	assert.Equal(t, 51, sqlCount(t, ctx, conn, "SELECT sum(age) FROM `users`"), "`users` copied")
	assert.Equal(t, 2, sqlCount(t, ctx, conn, "SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND BINARY TABLE_NAME = 'Users'"))
}

// Rows that are in the template are in the copy, even those the
// server's strict mode or a CHECK constraint would refuse today: rows a
// migration kept while adding a CHECK with check_constraint_checks=0, and
// an id 0 in an AUTO_INCREMENT column (NO_AUTO_VALUE_ON_ZERO). The CHECK
// holds for new rows.
func TestMariaDBCopyKeepsTemplateRows(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB),
		dockhandtest.WithMigrations(testbench.RandomName("rows-"), func(ctx context.Context, dsn string) error {
			return execAll(ctx, dsn,
				"CREATE TABLE prices (id int AUTO_INCREMENT PRIMARY KEY, amount int NOT NULL)",
				"INSERT INTO prices (amount) VALUES (5), (-3)",
				"SET SESSION check_constraint_checks = 0",
				"ALTER TABLE prices ADD CONSTRAINT amount_positive CHECK (amount > 0)",
				"SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')",
				"INSERT INTO prices (id, amount) VALUES (0, 1)")
		}))
	conn := openMaria(t, db.DSN())
	assert.Equal(t, 3, sqlCount(t, ctx, conn, "SELECT count(*) FROM prices"), "all the template's rows")
	assert.Equal(t, -3, sqlCount(t, ctx, conn, "SELECT amount FROM prices WHERE id = 2"), "the row the CHECK would refuse")
	assert.Equal(t, 1, sqlCount(t, ctx, conn, "SELECT amount FROM prices WHERE id = 0"), "id 0 stays 0")
	_, err := conn.ExecContext(ctx, "INSERT INTO prices (amount) VALUES (-1)")
	var myErr *mysql.MySQLError
	require.ErrorAs(t, err, &myErr, "the CHECK is enforced on new rows")
	assert.Equal(t, uint16(4025), myErr.Number, "CONSTRAINT failed")
	res, err := conn.ExecContext(ctx, "INSERT INTO prices (amount) VALUES (8)")
	require.NoError(t, err)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	assert.Equal(t, int64(3), id, "AUTO_INCREMENT continues after the template's rows")
}

// MariaDBSpec passes only flags: the image's entrypoint puts its server
// in front of them, so an image without mariadbd (mariadb:10.4, mysql:8)
// gets to the version check and its clear error rather than failing to
// start.
func TestMariaDBSpecFlagsOnly(t *testing.T) {
	for _, durable := range []bool{false, true} {
		spec := dockhandtest.MariaDBSpec(testbench.MariaDB, durable, false)
		require.NotEmpty(t, spec.Cmd)
		for _, a := range spec.Cmd {
			assert.True(t, strings.HasPrefix(a, "-"), "durable=%v: argument %q is not a flag", durable, a)
		}
	}
}

// A template lock held by another session too long: the error names the
// session holding it; once it lets go, the template is made.
func TestMariaDBTemplateLockHolderNamed(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB))
	admin := mariaAdmin(t, db)
	version := testbench.RandomName("lock-")
	holder, err := admin.Conn(ctx)
	require.NoError(t, err)
	defer holder.Close()
	var got, id int
	require.NoError(t, holder.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0), CONNECTION_ID()", templateName(version)).Scan(&got, &id))
	require.Equal(t, 1, got)
	migrate := func(ctx context.Context, dsn string) error {
		return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY)")
	}

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = dockhandtest.MariaDBTemplate(short, db.Server(), version, migrate)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Contains(t, err.Error(), templateName(version))
	assert.Contains(t, err.Error(), fmt.Sprintf("held by connection %d", id))

	require.NoError(t, holder.QueryRowContext(ctx, "SELECT RELEASE_LOCK(?)", templateName(version)).Scan(&got))
	name, err := dockhandtest.MariaDBTemplate(ctx, db.Server(), version, migrate)
	require.NoError(t, err)
	assert.Equal(t, templateName(version), name)
	assert.Equal(t, 1, sqlCount(t, ctx, admin, "SELECT IS_USED_LOCK(?) IS NULL", templateName(version)), "the lock is released")
}

// errTB is a recorder that records Errorf rather than failing the test.
type errTB struct {
	*recorder
	errs []string
}

func (e *errTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// run is recorder.run with e itself as the test.
func (e *errTB) run(fn func(tb testing.TB)) { e.runAs(e, fn) }

// The drop of a passed test's database ends the sessions using it (an
// open transaction in it does not block the drop); a lock on one of its
// tables held by a session whose database is another makes it fail
// within seconds (not the server's default of a day), naming the
// database.
func TestMariaDBDropEndsSessions(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	migrate := dockhandtest.WithMigrations(testbench.RandomName("drop-"), func(ctx context.Context, dsn string) error {
		return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY)", "INSERT INTO notes VALUES (1)")
	})
	// In a transaction in the test's database.
	var name string
	r := &errTB{recorder: &recorder{TB: t}}
	r.run(func(tb testing.TB) {
		db := dockhandtest.NewMariaDB(tb, dockhandtest.WithImage(testbench.MariaDB), migrate)
		name = db.Database()
		conn, err := openMaria(t, db.DSN()).Conn(ctx)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "START TRANSACTION")
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "UPDATE notes SET id = 2")
		require.NoError(t, err)
	})
	require.Empty(t, r.fatal)
	assert.Empty(t, r.errs, "an open transaction in the database does not stop the drop")
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB))
	admin := mariaAdmin(t, db)
	assert.False(t, schemaExists(t, ctx, admin, name), "dropped")

	// A lock on its table held from another database.
	r = &errTB{recorder: &recorder{TB: t}}
	var holder *sql.Conn
	start := time.Now()
	r.run(func(tb testing.TB) {
		db := dockhandtest.NewMariaDB(tb, dockhandtest.WithImage(testbench.MariaDB), migrate)
		name = db.Database()
		var err error
		holder, err = admin.Conn(ctx)
		require.NoError(t, err)
		_, err = holder.ExecContext(ctx, "START TRANSACTION")
		require.NoError(t, err)
		require.Equal(t, 1, sqlCountConn(t, ctx, holder, "SELECT count(*) FROM `"+name+"`.notes"))
	})
	assert.Less(t, time.Since(start), 40*time.Second, "the drop gave up within seconds")
	require.Empty(t, r.fatal)
	require.Len(t, r.errs, 1, "the drop fails")
	assert.Contains(t, r.errs[0], "drop database "+name)
	assert.Contains(t, r.errs[0], "Lock wait timeout")
	_, err := holder.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, holder.Close())
	_, err = admin.ExecContext(ctx, "DROP DATABASE `"+name+"`")
	require.NoError(t, err)
}

func sqlCountConn(t testing.TB, ctx context.Context, conn *sql.Conn, q string) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRowContext(ctx, q).Scan(&n), q)
	return n
}

// A copy whose database already exists (1007) fails with ErrConflict and
// leaves that database alone: it is not the copy's to drop.
func TestMariaDBCopyOntoExistingDatabase(t *testing.T) {
	requireMariaDB(t)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB))
	admin := mariaAdmin(t, db)
	name := "t_existing_" + testbench.RandomName("")
	_, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"`")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	_, err = admin.ExecContext(ctx, "CREATE TABLE `"+name+"`.mine (id int PRIMARY KEY)")
	require.NoError(t, err)

	err = dockhandtest.MariaDBCopy(ctx, db.Server(), testbench.RandomName("exists-"), func(ctx context.Context, dsn string) error {
		return execAll(ctx, dsn, "CREATE TABLE notes (id int PRIMARY KEY)")
	}, name)
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	assert.Contains(t, err.Error(), name)
	assert.Contains(t, err.Error(), "1007")
	assert.True(t, schemaExists(t, ctx, admin, name), "the database that was there is not dropped")
	assert.Equal(t, 1, sqlCount(t, ctx, admin, "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'mine'", name))
}
