package dockhandtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// DefaultPostgresImage is the image NewPostgres runs unless WithImage.
const DefaultPostgresImage = "postgres:15"

// Postgres is a test's own PostgreSQL database on a shared server.
type Postgres struct {
	srv  *Server
	name string
	dsn  string
}

// DSN returns the database's connection string
// ("postgres://postgres@127.0.0.1:49153/t_x_1a2b?sslmode=disable").
func (p *Postgres) DSN() string { return p.dsn }

// Database returns the database's name.
func (p *Postgres) Database() string { return p.name }

// Server returns the shared server.
func (p *Postgres) Server() *Server { return p.srv }

// NewPostgres returns a fresh database for t, cloned from the template
// that WithMigrations made (an empty database without it), on a
// PostgreSQL server shared with every test and test process that asks for
// the same configuration. The database is dropped when t passes and kept
// when it fails, with its DSN in the test log. No engine: t is skipped
// (failed under CI=true).
//
// The server starts from an initialised image: the first time an image
// and configuration are used, a container runs the image's initdb,
// stops, and is committed as dockhandtest-initialised/postgres:<hash>;
// every later server, in this run or a later one, starts on that
// cluster without initdb (under a second, where initdb takes about two).
// The image carries no ownership and stays for later runs: remove it
// with docker rmi when it is no longer wanted, or choose WithInitdb. It
// is made with the official postgres images' entrypoint
// (docker-entrypoint.sh); another image is rejected, naming WithInitdb.
// Unless WithDurability, every directory the image declares as a VOLUME
// is a tmpfs, so no anonymous volume is made.
func NewPostgres(t testing.TB, opts ...PostgresOption) *Postgres {
	t.Helper()
	s := pgSettings{serviceSettings: serviceSettings{image: DefaultPostgresImage}}
	for _, o := range opts {
		if err := o.applyPostgres(&s); err != nil {
			t.Fatalf("dockhandtest: NewPostgres: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	spec, err := serverSpec(ctx, client(t), PostgresSpec(s.image, s.durable, s.keepAlive), s.initdb)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	stage("image and initialised image lookup", t0)
	srv := Start(t, spec)
	t0 = time.Now()
	pg, err := pgServerOf(ctx, srv)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	stage("admin pool", t0)
	t0 = time.Now()
	tpl, err := pg.template(ctx, s)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	stage("template", t0)
	t0 = time.Now()
	name := dbName(t.Name())
	if _, err := pg.admin.Exec(ctx, createFromTemplate(pg.version, name, tpl)); err != nil {
		t.Fatalf("dockhandtest: create database %s from template %s: %v", name, tpl, err)
	}
	stage("clone", t0)
	db := &Postgres{srv: srv, name: name, dsn: pg.dsn(name)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dockhandtest: kept the database of the failed test: %s", db.dsn)
			return
		}
		if pg.released.Load() {
			return // released before the test ended (Release in a TestMain or benchmark)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := pg.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("dockhandtest: drop database %s: %v", name, err)
		}
	})
	return db
}

// PostgresSpec is the Spec NewPostgres runs: image with trust
// authentication for user postgres, port 5432, ready when it answers a
// query over TCP (through the published port). Unless durable, the data is on tmpfs and fsync,
// synchronous_commit and full_page_writes are off.
func PostgresSpec(image string, durable, keepAlive bool) Spec {
	cmd := []string{"postgres", "-c", "max_connections=500"}
	spec := Spec{
		Name:      "postgres",
		Image:     image,
		Env:       []string{"POSTGRES_HOST_AUTH_METHOD=trust"},
		Ports:     []string{"5432"},
		KeepAlive: keepAlive,
		Ready: func(s *Server) waitfor.Condition {
			// A query over the published port proves the whole path: a
			// userland proxy that accepts with nothing behind it fails it.
			return waitfor.Func("postgres answers a query", func(ctx context.Context) error {
				addr, err := s.HostPort(ctx, "5432")
				if err != nil {
					return err
				}
				conn, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable&connect_timeout=2")
				if err != nil {
					return err
				}
				defer conn.Close(context.WithoutCancel(ctx))
				var one int
				return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			})
		},
	}
	if !durable {
		cmd = append(cmd, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
		spec.Tmpfs = map[string]string{"/var/lib/postgresql/data": "rw"}
	}
	spec.Cmd = cmd
	return spec
}

// minVersion is the oldest PostgreSQL (server_version_num) the fixture
// runs on: DROP DATABASE … WITH (FORCE) needs 13.
const minVersion = 130000

// checkVersion parses server_version_num and rejects servers older than
// minVersion.
func checkVersion(num string) (int, error) {
	var v int
	if _, err := fmt.Sscanf(num, "%d", &v); err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: PostgreSQL server_version_num %q: want a number", lifecycle.ErrInvalid, num)
	}
	if v < minVersion {
		return 0, fmt.Errorf("%w: PostgreSQL %d.%d (server_version_num %d): want 13 or newer (DROP DATABASE … WITH (FORCE))", lifecycle.ErrInvalid, v/10000, v%10000, v)
	}
	return v, nil
}

// createFromTemplate is the statement that makes database name from tpl:
// STRATEGY FILE_COPY (a copy of the files, no WAL of every page, the
// fast one for a small template) exists from PostgreSQL 15 on, and is
// what older servers always do.
func createFromTemplate(version int, name, tpl string) string {
	q := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(tpl)
	if version >= 150000 {
		q += " STRATEGY FILE_COPY"
	}
	return q
}

// pgServer is this process's admin connection to a shared server.
type pgServer struct {
	addr    string
	version int // server_version_num
	admin   *pgxpool.Pool
	mu      sync.Mutex
	tpls    map[string]bool // templates known to be made
	// released is set when Release let the server go: a database left
	// on it goes with it (or stays with a KeepAlive server).
	released atomic.Bool
}

var pgServers struct {
	mu    sync.Mutex
	byKey map[string]*pgServer
}

func pgServerOf(ctx context.Context, srv *Server) (*pgServer, error) {
	pgServers.mu.Lock()
	defer pgServers.mu.Unlock()
	if pg := pgServers.byKey[srv.key]; pg != nil && pg.admin != nil {
		return pg, nil
	}
	addr, err := srv.HostPort(ctx, "5432")
	if err != nil {
		return nil, err
	}
	pg := &pgServer{addr: addr, tpls: map[string]bool{}}
	cfg, err := pgxpool.ParseConfig(pg.dsn("postgres"))
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 8
	if pg.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", srv.key, err)
	}
	var v string
	if err := pg.admin.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		pg.admin.Close()
		return nil, fmt.Errorf("%s: server version: %w", srv.key, err)
	}
	if pg.version, err = checkVersion(v); err != nil {
		pg.admin.Close()
		return nil, fmt.Errorf("%s (image %s): %w", srv.key, srv.spec.Image, err)
	}
	if pgServers.byKey == nil {
		pgServers.byKey = map[string]*pgServer{}
	}
	pgServers.byKey[srv.key] = pg
	return pg, nil
}

func (pg *pgServer) dsn(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: pg.addr, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// template returns the name of the template for s's migrations, making
// it under a server-side advisory lock if no process has yet.
func (pg *pgServer) template(ctx context.Context, s pgSettings) (string, error) {
	sum := sha256.Sum256([]byte(s.version))
	tpl := "dockhandtest_tpl_" + hex.EncodeToString(sum[:8])
	pg.mu.Lock() // one maker per process; other processes wait on the server's lock
	defer pg.mu.Unlock()
	if pg.tpls[tpl] {
		return tpl, nil
	}
	conn, err := pg.admin.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Release()
	lockID := int64(binary.BigEndian.Uint64(sum[8:16]))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return "", fmt.Errorf("lock template %s: %w", tpl, err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID)
	}()
	var isTemplate bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", tpl).Scan(&isTemplate)
	switch {
	case err == nil && isTemplate:
		pg.tpls[tpl] = true
		return tpl, nil
	case err == nil: // half made by a process that died: start again
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(tpl)+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop unfinished template %s: %w", tpl, err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("look up template %s: %w", tpl, err)
	}
	if _, err := conn.Exec(ctx, createFromTemplate(pg.version, tpl, "template1")); err != nil {
		return "", fmt.Errorf("create template %s: %w", tpl, err)
	}
	if s.hasMigrate {
		if err := s.migrate(ctx, pg.dsn(tpl)); err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident(tpl)+" WITH (FORCE)")
			return "", fmt.Errorf("migrations %q on template %s: %w", s.version, tpl, err)
		}
	}
	// A connection the migrations left open would block every clone.
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", tpl); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(tpl)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark template %s: %w", tpl, err)
	}
	pg.tpls[tpl] = true
	return tpl, nil
}

// dbName is a database name for a test: its name, cut and folded to
// [a-z0-9_], and a random suffix.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	rnd := make([]byte, 5)
	_, _ = rand.Read(rnd)
	return b.String() + "_" + hex.EncodeToString(rnd)
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }
