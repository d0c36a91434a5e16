// Package testengine holds the engine checks of tests: skip (or fail under
// CI=true) without an engine, and fail a test whose client leaves
// resources behind. dockhandtest exports them (Unavailable, Client,
// NoLeaks) and internal/testbench uses them from here: testbench, which
// the tests of every package import, stays below dockhandtest, so that
// the tests of any package dockhandtest comes to import can still use it.
package testengine

import (
	"context"
	"os"
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

// Client returns a lifecycle client on the engine the environment names,
// or skips (fails under CI=true) when none answers. When the test ends it
// fails the test if the client left any container, network, volume or
// built image on the engine, and removes them (see NoLeaks).
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
