package dockhandtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// DefaultMariaDBImage is the image NewMariaDB runs unless WithImage.
const DefaultMariaDBImage = "mariadb:10.11"

// MariaDB is a test's own database on a shared MariaDB server.
type MariaDB struct {
	srv  *Server
	name string
	dsn  string
}

// DSN returns the database's connection string in go-sql-driver/mysql
// form ("root@tcp(127.0.0.1:49153)/t_x_1a2b"), for sql.Open("mysql", dsn)
// or mysql.ParseDSN.
func (m *MariaDB) DSN() string { return m.dsn }

// Database returns the database's name.
func (m *MariaDB) Database() string { return m.name }

// Server returns the shared server.
func (m *MariaDB) Server() *Server { return m.srv }

// NewMariaDB returns a fresh database for t, a copy of the template that
// WithMigrations made (an empty database without it), on a MariaDB server
// shared with every test and test process that asks for the same
// configuration. The database is dropped when t passes and kept when it
// fails, with its DSN in the test log. No engine: t is skipped (failed
// under CI=true).
//
// MariaDB has no CREATE DATABASE … TEMPLATE: the copy is made table by
// table (SHOW CREATE TABLE of each template table run in the new
// database with foreign_key_checks=0, then INSERT … SELECT of its rows,
// with neither CHECK constraints nor a strict sql_mode), in one round
// trip. Tables are all it copies: migrations that leave a view, trigger,
// stored routine, event, sequence or system-versioned table in the
// template fail with an error naming them.
//
// Tests must not write to the template (its name starts with
// dockhandtest_tpl_): every test on the server is copied from it, and
// this process reads how to copy it once.
func NewMariaDB(t testing.TB, opts ...MariaDBOption) *MariaDB {
	t.Helper()
	s := mariaSettings{serviceSettings: serviceSettings{image: DefaultMariaDBImage}}
	for _, o := range opts {
		if err := o.applyMariaDB(&s); err != nil {
			t.Fatalf("dockhandtest: NewMariaDB: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := Start(t, MariaDBSpec(s.image, s.durable, s.keepAlive))
	m, err := mariaServerOf(ctx, srv)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	tpl, err := m.template(ctx, s.dbSettings)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	name := dbName(t.Name())
	if err := m.clone(ctx, tpl, name); err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	db := &MariaDB{srv: srv, name: name, dsn: m.dsn(name)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dockhandtest: kept the database of the failed test: %s", db.dsn)
			return
		}
		if m.released.Load() {
			return // released before the test ended (Release in a TestMain or benchmark)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.drop(ctx, name); err != nil {
			t.Errorf("dockhandtest: %v", err)
		}
	})
	return db
}

// MariaDBSpec is the Spec NewMariaDB runs: image with an empty root
// password, 500 connections, no binary log, port 3306, ready when it
// answers a query over TCP (through the published port). Unless durable,
// the datadir is on tmpfs, InnoDB writes its log once a second rather
// than at each commit (innodb_flush_log_at_trx_commit=0) and without the
// doublewrite buffer. The command is flags only: the image's entrypoint
// puts its server in front of them (as the official mariadb and mysql
// images do), so an image without mariadbd starts and gets the version
// check's error.
func MariaDBSpec(image string, durable, keepAlive bool) Spec {
	cmd := []string{"--max-connections=500", "--skip-log-bin"}
	spec := Spec{
		Name:      "mariadb",
		Image:     image,
		Env:       []string{"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1"},
		Ports:     []string{"3306"},
		KeepAlive: keepAlive,
		Ready: func(s *Server) waitfor.Condition {
			// A query over the published port proves the whole path: a
			// userland proxy that accepts with nothing behind it fails it,
			// as does the entrypoint's temporary server (no networking).
			return waitfor.Func("mariadb answers a query", func(ctx context.Context) error {
				addr, err := s.HostPort(ctx, "3306")
				if err != nil {
					return err
				}
				cfg := mariaConfig(addr, "")
				cfg.Timeout = 2 * time.Second
				cfg.Logger = &mysql.NopLogger{} // refused connections are expected here
				conn, err := mysql.NewConnector(cfg)
				if err != nil {
					return err
				}
				db := sql.OpenDB(conn)
				defer db.Close()
				var one int
				return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
			})
		},
	}
	if !durable {
		cmd = append(cmd, "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0")
		spec.Tmpfs = map[string]string{"/var/lib/mysql": "rw"}
	}
	spec.Cmd = cmd
	return spec
}

// mariaConfig is the driver configuration of user root on addr, database
// db ("" for none).
func mariaConfig(addr, db string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.DBName = db
	return cfg
}

// readyMark is the comment of a template database that its migrations
// completed: a template without it was left half made.
const readyMark = "dockhandtest template: ready"

// mariaServer is this process's admin connection to a shared server.
type mariaServer struct {
	addr  string
	admin *sql.DB
	mu    sync.Mutex
	tpls  map[string]*mariaPlan // templates known to be made, and how to copy them
	// released is set when Release let the server go: a database left
	// on it goes with it (or stays with a KeepAlive server).
	released atomic.Bool
}

var mariaServers struct {
	mu    sync.Mutex
	byKey map[string]*mariaServer
}

// releaseMariaDB forgets this process's admin connections (Release).
func releaseMariaDB() {
	mariaServers.mu.Lock()
	defer mariaServers.mu.Unlock()
	for _, m := range mariaServers.byKey {
		m.released.Store(true)
		_ = m.admin.Close()
	}
	mariaServers.byKey = nil
}

func mariaServerOf(ctx context.Context, srv *Server) (*mariaServer, error) {
	mariaServers.mu.Lock()
	defer mariaServers.mu.Unlock()
	if m := mariaServers.byKey[srv.key]; m != nil {
		return m, nil
	}
	m, err := dialMaria(ctx, srv)
	if err != nil {
		return nil, err
	}
	if mariaServers.byKey == nil {
		mariaServers.byKey = map[string]*mariaServer{}
	}
	mariaServers.byKey[srv.key] = m
	return m, nil
}

// dialMaria opens an admin pool on srv and checks its version.
func dialMaria(ctx context.Context, srv *Server) (*mariaServer, error) {
	addr, err := srv.HostPort(ctx, "3306")
	if err != nil {
		return nil, err
	}
	cfg := mariaConfig(addr, "mysql")
	cfg.MultiStatements = true // a copy is one round trip
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	m := &mariaServer{addr: addr, admin: sql.OpenDB(conn), tpls: map[string]*mariaPlan{}}
	m.admin.SetMaxOpenConns(8)
	m.admin.SetMaxIdleConns(8)
	var v string
	if err := m.admin.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		_ = m.admin.Close()
		return nil, fmt.Errorf("connect to %s: %w", srv.key, err)
	}
	if err := checkMariaDBVersion(v); err != nil {
		_ = m.admin.Close()
		return nil, fmt.Errorf("%s (image %s): %w", srv.key, srv.spec.Image, err)
	}
	return m, nil
}

// checkMariaDBVersion rejects servers other than MariaDB 10.5 or newer:
// the fixture marks templates with a database comment (10.5).
func checkMariaDBVersion(v string) error {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil || !strings.Contains(v, "MariaDB") {
		return fmt.Errorf("%w: server version %q: want MariaDB 10.5 or newer", lifecycle.ErrInvalid, v)
	}
	if major < 10 || major == 10 && minor < 5 {
		return fmt.Errorf("%w: MariaDB %d.%d (version %q): want 10.5 or newer (database comments)", lifecycle.ErrInvalid, major, minor, v)
	}
	return nil
}

func (m *mariaServer) dsn(db string) string { return mariaConfig(m.addr, db).FormatDSN() }

// mariaPlan is how to copy a template: its character set and collation,
// and the statements that make and fill its tables in the current
// database.
type mariaPlan struct {
	charset, collation string
	create             []string    // SHOW CREATE TABLE of each table
	fill               []mariaFill // the tables with rows
}

// mariaFill is a table to copy the rows of: its quoted name and its
// stored columns' quoted names, comma-separated.
type mariaFill struct{ table, cols string }

// template returns the name of the template for s's migrations, making
// it under a server-side lock (GET_LOCK) if no process has yet.
func (m *mariaServer) template(ctx context.Context, s dbSettings) (string, error) {
	sum := sha256.Sum256([]byte(s.version))
	tpl := "dockhandtest_tpl_" + hex.EncodeToString(sum[:8])
	m.mu.Lock() // one maker per process; other processes wait on the server's lock
	defer m.mu.Unlock()
	if m.tpls[tpl] != nil {
		return tpl, nil
	}
	conn, err := m.admin.Conn(ctx) // GET_LOCK belongs to this session
	if err != nil {
		return "", fmt.Errorf("template %s: connect to %s: %w", tpl, m.addr, err)
	}
	defer conn.Close()
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 5)", tpl).Scan(&got); err != nil {
			return "", fmt.Errorf("lock template %s%s: %w", tpl, m.lockHolder(ctx, tpl), err)
		}
		if !got.Valid {
			return "", fmt.Errorf("lock template %s: GET_LOCK returned NULL (an error in the server)", tpl)
		}
		if got.Int64 == 1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("lock template %s%s: %w", tpl, m.lockHolder(ctx, tpl), err)
		}
	}
	defer unlockTemplate(ctx, conn, tpl) // before conn.Close
	var comment string
	err = conn.QueryRowContext(ctx, "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", tpl).Scan(&comment)
	switch {
	case err == nil && comment == readyMark:
		plan, err := m.plan(ctx, conn, tpl)
		if err != nil {
			return "", err
		}
		m.tpls[tpl] = plan
		return tpl, nil
	case err == nil: // half made by a process that died: start again
		if _, err := conn.ExecContext(ctx, "DROP DATABASE "+myIdent(tpl)); err != nil {
			return "", fmt.Errorf("drop unfinished template %s: %w", tpl, err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("look up template %s: %w", tpl, err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+myIdent(tpl)); err != nil {
		return "", fmt.Errorf("create template %s: %w", tpl, err)
	}
	drop := func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+myIdent(tpl))
	}
	if s.hasMigrate {
		if err := s.migrate(ctx, m.dsn(tpl)); err != nil {
			drop()
			return "", fmt.Errorf("migrations %q on template %s: %w", s.version, tpl, err)
		}
	}
	if err := unsupportedObjects(ctx, conn, tpl, s.version); err != nil {
		drop()
		return "", err
	}
	plan, err := m.plan(ctx, conn, tpl)
	if err != nil {
		drop()
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+myIdent(tpl)+" COMMENT "+myString(readyMark)); err != nil {
		drop()
		return "", fmt.Errorf("mark template %s: %w", tpl, err)
	}
	m.tpls[tpl] = plan
	return tpl, nil
}

// lockHolder names the session that holds the lock of template tpl, as
// " (held by connection ID: user@host, command, for N s)", or returns ""
// when it cannot tell.
func (m *mariaServer) lockHolder(ctx context.Context, tpl string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var id sql.NullInt64
	if err := m.admin.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", tpl).Scan(&id); err != nil || !id.Valid {
		return ""
	}
	var user, host, command string
	var secs int64
	if err := m.admin.QueryRowContext(ctx, "SELECT USER, HOST, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = ?", id.Int64).
		Scan(&user, &host, &command, &secs); err != nil {
		return fmt.Sprintf(" (held by connection %d)", id.Int64)
	}
	return fmt.Sprintf(" (held by connection %d: %s@%s, %s for %d s)", id.Int64, user, host, command, secs)
}

// unlockTemplate releases the lock of template tpl that conn's session
// holds. When RELEASE_LOCK does not say it did (1), the session is ended
// rather than handed back to the pool still holding the lock, which
// would keep every other process waiting for the template.
func unlockTemplate(ctx context.Context, conn *sql.Conn, tpl string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var released sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT RELEASE_LOCK(?)", tpl).Scan(&released); err != nil || !released.Valid || released.Int64 != 1 {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// unsupportedObjects fails when the template holds what the copy would
// not carry over: views, triggers, routines, events, sequences and
// system-versioned tables, each named.
func unsupportedObjects(ctx context.Context, conn *sql.Conn, tpl, version string) error {
	rows, err := conn.QueryContext(ctx, `
		SELECT 'view', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
		UNION ALL SELECT LOWER(TABLE_TYPE), TABLE_NAME FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = ? AND TABLE_TYPE NOT IN ('BASE TABLE', 'VIEW')
		UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
		UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
		UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?
		ORDER BY 1, 2`, tpl, tpl, tpl, tpl, tpl)
	if err != nil {
		return fmt.Errorf("list the objects of template %s: %w", tpl, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var kind, name string
		if err := rows.Scan(&kind, &name); err != nil {
			return err
		}
		found = append(found, kind+" "+myIdent(name))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list the objects of template %s: %w", tpl, err)
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: migrations %q made %s: NewMariaDB copies ordinary tables only (columns, indexes, foreign keys, rows), not views, triggers, stored procedures or functions, events, sequences or system-versioned tables",
			lifecycle.ErrInvalid, version, strings.Join(found, ", "))
	}
	return nil
}

// plan reads how to copy template tpl: the tables' CREATE statements (in
// the order SHOW CREATE TABLE gives, foreign keys need no order with
// foreign_key_checks=0) and, for each table with rows, the INSERT …
// SELECT of its stored (not generated) columns.
func (m *mariaServer) plan(ctx context.Context, conn *sql.Conn, tpl string) (*mariaPlan, error) {
	p := &mariaPlan{}
	if err := conn.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", tpl).
		Scan(&p.charset, &p.collation); err != nil {
		return nil, fmt.Errorf("template %s: character set: %w", tpl, err)
	}
	// Each table's columns in order; generated ones are computed again
	// in the copy, so they are not copied. information_schema compares
	// names without regard to case: the join and the sort compare them
	// as bytes, so that `Users` and `users` (two tables where
	// lower_case_table_names=0) stay apart.
	rows, err := conn.QueryContext(ctx, `
		SELECT c.TABLE_NAME, c.COLUMN_NAME, c.IS_GENERATED = 'NEVER'
		FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
			ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND BINARY t.TABLE_NAME = BINARY c.TABLE_NAME
		WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE'
		ORDER BY BINARY c.TABLE_NAME, c.ORDINAL_POSITION`, tpl)
	if err != nil {
		return nil, fmt.Errorf("template %s: list tables: %w", tpl, err)
	}
	type table struct {
		name string
		cols []string // quoted
	}
	var tables []table
	for rows.Next() {
		var name, col string
		var stored bool
		if err := rows.Scan(&name, &col, &stored); err != nil {
			rows.Close()
			return nil, fmt.Errorf("template %s: list tables: %w", tpl, err)
		}
		if len(tables) == 0 || tables[len(tables)-1].name != name {
			tables = append(tables, table{name: name})
		}
		if stored {
			tb := &tables[len(tables)-1]
			tb.cols = append(tb.cols, myIdent(col))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("template %s: list tables: %w", tpl, err)
	}
	for _, tb := range tables {
		var name, create string
		if err := conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+myIdent(tpl)+"."+myIdent(tb.name)).Scan(&name, &create); err != nil {
			return nil, fmt.Errorf("template %s: SHOW CREATE TABLE %s: %w", tpl, myIdent(tb.name), err)
		}
		p.create = append(p.create, create)
		var rowsIn int
		if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+myIdent(tpl)+"."+myIdent(tb.name)+")").Scan(&rowsIn); err != nil {
			return nil, fmt.Errorf("template %s: rows of %s: %w", tpl, myIdent(tb.name), err)
		}
		if rowsIn == 1 && len(tb.cols) > 0 {
			p.fill = append(p.fill, mariaFill{myIdent(tb.name), strings.Join(tb.cols, ", ")})
		}
	}
	return p, nil
}

// clone makes database name as a copy of template tpl, in one round
// trip; a copy that fails is dropped.
func (m *mariaServer) clone(ctx context.Context, tpl, name string) error {
	m.mu.Lock()
	p := m.tpls[tpl]
	m.mu.Unlock()
	db := myIdent(name)
	var q strings.Builder
	fmt.Fprintf(&q, "CREATE DATABASE %s CHARACTER SET %s COLLATE %s;\n", db, p.charset, p.collation)
	if len(p.create) > 0 {
		// Tables refer to each other in any order; rows are copied as
		// they are in the template, between columns of the same types:
		// neither CHECK constraints (a migration may have added one over
		// rows it kept, with check_constraint_checks=0) nor a strict
		// sql_mode refuse them, and an AUTO_INCREMENT column's 0 is a
		// value.
		fmt.Fprintf(&q, "USE %s;\nSET SESSION foreign_key_checks = 0, SESSION unique_checks = 0, SESSION check_constraint_checks = 0, SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';\n", db)
		for _, c := range p.create {
			q.WriteString(c)
			q.WriteString(";\n")
		}
		for _, f := range p.fill {
			fmt.Fprintf(&q, "INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s;\n", db, f.table, f.cols, f.cols, myIdent(tpl), f.table)
		}
		// Back to the admin session's state: its database too, so that no
		// idle admin session counts as a user of the test's database.
		q.WriteString("SET SESSION foreign_key_checks = DEFAULT, SESSION unique_checks = DEFAULT, SESSION check_constraint_checks = DEFAULT, SESSION sql_mode = DEFAULT;\nUSE mysql")
	}
	conn, err := m.admin.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copy template %s to database %s: connect to %s: %w", tpl, name, m.addr, err)
	}
	_, err = conn.ExecContext(ctx, q.String())
	if err != nil {
		// The session's settings are unknown now: this connection is not
		// handed back to the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
	if err != nil {
		var myErr *mysql.MySQLError
		if errors.As(err, &myErr) && myErr.Number == mysqlErrDBExists {
			// Not made by this copy: not ours to drop.
			return fmt.Errorf("copy template %s to database %s: %w: %w", tpl, name, lifecycle.ErrConflict, err)
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = m.admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+db)
		return fmt.Errorf("copy template %s to database %s: %w", tpl, name, err)
	}
	return nil
}

// MariaDB error numbers the fixture tells apart.
const (
	mysqlErrDBExists       = 1007 // ER_DB_CREATE_EXISTS
	mysqlErrNoSuchThread   = 1094 // ER_NO_SUCH_THREAD: KILL of a session gone meanwhile
	dropLockWaitTimeoutSec = 10
)

// drop drops database name, ending the sessions that still use it first
// (as PostgreSQL's DROP DATABASE … WITH (FORCE) does): an open
// transaction would block the drop. It runs on a session of its own
// that waits at most dropLockWaitTimeoutSec for a table's lock (held by
// a session whose current database is another), rather than the
// server's default of a day.
func (m *mariaServer) drop(ctx context.Context, name string) error {
	conn, err := m.admin.Conn(ctx)
	if err != nil {
		return fmt.Errorf("drop database %s: connect to %s: %w", name, m.addr, err)
	}
	defer conn.Close()
	defer func() {
		// Back to the pool with the server's lock_wait_timeout, or not at all.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, rerr := conn.ExecContext(rctx, "SET SESSION lock_wait_timeout = DEFAULT"); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", dropLockWaitTimeoutSec)); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	ids, err := sessionsUsing(ctx, conn, name)
	if err != nil {
		return fmt.Errorf("drop database %s: list its sessions: %w", name, err)
	}
	for _, id := range ids {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
			var myErr *mysql.MySQLError
			if errors.As(err, &myErr) && myErr.Number == mysqlErrNoSuchThread {
				continue // gone meanwhile: fine
			}
			return fmt.Errorf("drop database %s: end its session %d: %w", name, id, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(name)); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// sessionsUsing lists the other sessions whose current database is name.
func sessionsUsing(ctx context.Context, conn *sql.Conn, name string) ([]int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE BINARY DB = BINARY ? AND ID <> CONNECTION_ID()", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// myIdent quotes an identifier for MariaDB.
func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// myString quotes a string literal for MariaDB (in the default sql_mode,
// where a backslash escapes).
func myString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`).Replace(s) + "'"
}
