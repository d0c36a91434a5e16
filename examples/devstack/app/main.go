// Command app is the example app of the development stack: a small notes
// service with an HTTP JSON API, its data in PostgreSQL and a Redis cache
// in front of the reads.
//
//	GET    /notes        list the notes (cached)
//	POST   /notes        add a note: {"title": "...", "body": "..."}
//	GET    /notes/{id}   one note (cached)
//	DELETE /notes/{id}   remove a note
//	GET    /healthz      200 when PostgreSQL and Redis both answer, else 503
//
// Answers that may come from the cache carry an X-Cache header, "hit" or "miss".
//
// Configuration comes from the environment:
//
//	DATABASE_URL  postgres://app:app@localhost:5432/app?sslmode=disable
//	REDIS_URL     redis://localhost:6379/0
//	ADDR          :8080
//
// The table is created at start if missing. SIGTERM or SIGINT (Ctrl-C) stop
// it gracefully: it stops accepting connections and finishes the requests
// in progress before it exits.
//
// Run it on the host against the dockerized services:
//
//	go run ./examples/devstack services     # prints the two URLs to export
//	go run ./examples/devstack/app
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/dockhand/dockhand/internal/redact"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	if err := run(log); err != nil {
		log.Error("app stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	dbURL := env("DATABASE_URL", "postgres://app:app@localhost:5432/app?sslmode=disable")
	redisURL := env("REDIS_URL", "redis://localhost:6379/0")
	addr := env("ADDR", ":8080")

	db, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	ropts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	// A cache that is down should cost a request little: fail fast.
	ropts.DialTimeout, ropts.MaxRetries = time.Second, 1
	cache := redis.NewClient(ropts)
	defer cache.Close()

	s := &server{db: db, cache: cache, log: log, ttl: 30 * time.Second}
	// The schema is created at start. The database may still be starting
	// when we are (outside of the stack nothing waited for it), so retry.
	if err := retry(ctx, 30*time.Second, func() error { return s.migrate(ctx) }); err != nil {
		return err
	}

	srv := &http.Server{Addr: addr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("notes app listening", "addr", addr, "database", redact.URL(dbURL), "redis", redact.URL(redisURL))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in progress")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// retry calls f until it succeeds, ctx ends, or limit passes.
func retry(ctx context.Context, limit time.Duration, f func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
