package dockhandtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/internal/testengine"
	"github.com/dockhand/dockhand/lifecycle"
)

// Unavailable skips the test with the reason, or fails it when the
// environment says CI=true, where an engine-backed test must never skip
// silently.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testengine.Unavailable(t, format, args...)
}

// Client returns a lifecycle client on the engine the environment names
// (DOCKER_HOST, the docker context), or skips (fails under CI=true) when
// none answers. When the test ends it fails the test if the client left
// any container, network, volume or built image on the engine, and
// removes them (see NoLeaks).
func Client(t testing.TB, opts ...lifecycle.ClientOption) *lifecycle.Client {
	t.Helper()
	return testengine.Client(t, opts...)
}

// NoLeaks fails t if c still owns resources (lifecycle.Client.Owned: what
// it created, and its session's persistent resources), removes them, and
// closes c.
func NoLeaks(t testing.TB, c *lifecycle.Client) {
	t.Helper()
	testengine.NoLeaks(t, c)
}

// engine is the process's client for shared services: made on first
// use, kept until Main releases the services.
var engine struct {
	once sync.Once
	c    *lifecycle.Client
	err  error
}

func processClient() (*lifecycle.Client, error) {
	engine.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		engine.c, engine.err = lifecycle.New(ctx)
	})
	return engine.c, engine.err
}

// client returns the process's client, or skips (fails under CI) t.
func client(t testing.TB) *lifecycle.Client {
	t.Helper()
	c, err := processClient()
	if err != nil {
		Unavailable(t, "no Docker engine: %v", err)
	}
	return c
}
