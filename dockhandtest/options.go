package dockhandtest

import (
	"context"
	"fmt"

	"github.com/dockhand/dockhand/lifecycle"
)

// PostgresOption configures NewPostgres.
type PostgresOption interface{ applyPostgres(*pgSettings) error }

// RedisOption configures NewRedis.
type RedisOption interface{ applyRedis(*redisSettings) error }

// MariaDBOption configures NewMariaDB.
type MariaDBOption interface{ applyMariaDB(*mariaSettings) error }

// ServiceOption is an option of every service fixture (NewPostgres,
// NewRedis, NewMariaDB).
type ServiceOption interface {
	PostgresOption
	RedisOption
	MariaDBOption
}

// DatabaseOption is an option of every SQL database fixture
// (NewPostgres, NewMariaDB): it means the same for each.
type DatabaseOption interface {
	PostgresOption
	MariaDBOption
}

// serviceSettings are what every fixture's options set.
type serviceSettings struct {
	image     string
	keepAlive bool
}

// dbSettings are what every SQL database fixture's options set.
type dbSettings struct {
	durable    bool
	version    string
	migrate    func(ctx context.Context, dsn string) error
	hasMigrate bool
}

type pgSettings struct {
	serviceSettings
	dbSettings
	initdb bool
}

type mariaSettings struct {
	serviceSettings
	dbSettings
}

type redisSettings struct {
	serviceSettings
}

type serviceOpt func(*serviceSettings) error

func (o serviceOpt) applyPostgres(s *pgSettings) error   { return o(&s.serviceSettings) }
func (o serviceOpt) applyRedis(s *redisSettings) error   { return o(&s.serviceSettings) }
func (o serviceOpt) applyMariaDB(s *mariaSettings) error { return o(&s.serviceSettings) }

type dbOpt func(*dbSettings) error

func (o dbOpt) applyPostgres(s *pgSettings) error   { return o(&s.dbSettings) }
func (o dbOpt) applyMariaDB(s *mariaSettings) error { return o(&s.dbSettings) }

type pgOpt func(*pgSettings) error

func (o pgOpt) applyPostgres(s *pgSettings) error { return o(s) }

// WithImage runs the service from image instead of the fixture's default
// (which is the public image: "postgres:15", "redis:7", "mariadb:10.11"). The image must
// behave like the public one (environment, entrypoint, ports).
func WithImage(image string) ServiceOption {
	return serviceOpt(func(s *serviceSettings) error {
		if image == "" {
			return fmt.Errorf("%w: WithImage: empty image reference", lifecycle.ErrInvalid)
		}
		s.image = image
		return nil
	})
}

// WithKeepAlive keeps the service's container up between runs (see
// Spec.KeepAlive): the next `go test` with the same configuration finds
// the server, its templates and the databases of failed tests there.
func WithKeepAlive() ServiceOption {
	return serviceOpt(func(s *serviceSettings) error { s.keepAlive = true; return nil })
}

// WithDurability runs the database server as it runs in production.
// PostgreSQL: fsync, synchronous_commit and full_page_writes on, data on
// disk (the image's volume with WithInitdb, the container's layer
// otherwise). The default is a test server: all three off, so writes
// stay in memory (the page cache, or tmpfs with WithInitdb). MariaDB:
// the server's own InnoDB flush settings and the image's volume; the
// default is innodb_flush_log_at_trx_commit=0, no doublewrite buffer and
// the datadir on tmpfs.
func WithDurability() DatabaseOption {
	return dbOpt(func(s *dbSettings) error { s.durable = true; return nil })
}

// WithMigrations builds each test's database from a template that migrate
// made: migrate runs once per server and version, whichever process (test
// package) asks first, while the others wait (a lock in the server); a
// later run, or a package, with another version gets a new template.
// version identifies the migrations: a version number, or a hash of the
// migration files (see HashFiles). migrate gets the template database's
// DSN (a PostgreSQL URL for NewPostgres, a go-sql-driver/mysql DSN for
// NewMariaDB); it must close its connections before it returns.
//
// NewMariaDB: a file of several statements run in one Exec needs the
// DSN with multiStatements=true (mysql.Config.MultiStatements);
// golang-migrate's mysql driver wants a URL, "mysql://" + dsn (and, with
// WithInstance, a *sql.DB opened with multiStatements=true).
func WithMigrations(version string, migrate func(ctx context.Context, dsn string) error) DatabaseOption {
	return dbOpt(func(s *dbSettings) error {
		if migrate == nil {
			return fmt.Errorf("%w: WithMigrations(%q): nil migrate func", lifecycle.ErrInvalid, version)
		}
		if version == "" {
			return fmt.Errorf("%w: WithMigrations: empty version: want a version or a hash of the migrations", lifecycle.ErrInvalid)
		}
		s.version, s.migrate, s.hasMigrate = version, migrate, true
		return nil
	})
}
