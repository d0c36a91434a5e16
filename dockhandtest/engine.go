package dockhandtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// Unavailable skips the test with the reason, or fails it when the
// environment says CI=true, where an engine-backed test must never skip
// silently.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// Client returns a lifecycle client on the engine the environment names
// (DOCKER_HOST, the docker context), or skips (fails under CI=true) when
// none answers. When the test ends it fails the test if the client left
// any container, network, volume or built image on the engine, and
// removes them (see NoLeaks).
func Client(t testing.TB, opts ...lifecycle.ClientOption) *lifecycle.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := lifecycle.New(ctx, opts...)
	if err != nil {
		Unavailable(t, "no Docker engine: %v", err)
	}
	t.Cleanup(func() { NoLeaks(t, c) })
	return c
}

// NoLeaks fails t if c still owns resources (lifecycle.Client.Owned: what
// it created, and its session's persistent resources), removes them, and
// closes c.
func NoLeaks(t testing.TB, c *lifecycle.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer c.Close()
	res, err := c.Owned(ctx)
	if err != nil {
		t.Errorf("leak check: %v", err)
		return
	}
	if !res.Empty() {
		t.Errorf("test left resources on the engine: %s", res)
		if err := c.Cleanup(ctx); err != nil {
			t.Errorf("cleanup after leak: %v", err)
		}
	}
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
