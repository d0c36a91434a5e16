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

// ServiceOption is an option of every service fixture (NewPostgres,
// NewRedis).
type ServiceOption interface {
	PostgresOption
	RedisOption
}

// serviceSettings are what every fixture's options set.
type serviceSettings struct {
	image     string
	keepAlive bool
}

type pgSettings struct {
	serviceSettings
	durable    bool
	initdb     bool
	version    string
	migrate    func(ctx context.Context, dsn string) error
	hasMigrate bool
}

type redisSettings struct {
	serviceSettings
}

type serviceOpt func(*serviceSettings) error

func (o serviceOpt) applyPostgres(s *pgSettings) error { return o(&s.serviceSettings) }
func (o serviceOpt) applyRedis(s *redisSettings) error { return o(&s.serviceSettings) }

type pgOpt func(*pgSettings) error

func (o pgOpt) applyPostgres(s *pgSettings) error { return o(s) }

// WithImage runs the service from image instead of the fixture's default
// (which is the public image: "postgres:15", "redis:7"). The image must
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

// WithDurability runs PostgreSQL as it runs in production: fsync,
// synchronous_commit and full_page_writes on, data on disk (the
// image's volume with WithInitdb, the container's layer otherwise). The
// default is a test server: all three off, so writes stay in memory
// (the page cache, or tmpfs with WithInitdb).
func WithDurability() PostgresOption {
	return pgOpt(func(s *pgSettings) error { s.durable = true; return nil })
}

// WithMigrations builds each test's database from a template that migrate
// made: migrate runs once per server and version, whichever process (test
// package) asks first, while the others wait (a lock in the server); a
// later run, or a package, with another version gets a new template.
// version identifies the migrations: a version number, or a hash of the
// migration files (see HashFiles). migrate gets the template database's
// DSN; it must close its connections before it returns.
func WithMigrations(version string, migrate func(ctx context.Context, dsn string) error) PostgresOption {
	return pgOpt(func(s *pgSettings) error {
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
