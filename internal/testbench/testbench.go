// Package testbench is the engine-backed test bench: clients that fail a
// test which leaves resources behind, the offline stand-in images, an
// in-process registry on 127.0.0.1, and a fault-injecting proxy between a
// client and the engine (FaultProxy).
package testbench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/internal/testengine"
	"github.com/dockhand/dockhand/lifecycle"
)

// Stand-in images built offline by scripts/test-images. They are honest
// stand-ins, never named as the public images they imitate.
const (
	Busybox  = "dockhand.test/busybox:1"
	Postgres = "dockhand.test/postgres:15"
	Redis    = "dockhand.test/redis:7"
	MariaDB  = "dockhand.test/mariadb:10.11"
	Golang   = "dockhand.test/golang:1.26"
)

// Unavailable skips the test, or fails it under CI (CI=true), where an
// engine-backed test must never skip silently (dockhandtest.Unavailable).
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testengine.Unavailable(t, format, args...)
}

// Client returns a client on the engine the environment names; when the
// test ends it fails the test if the client left anything on the engine
// and removes it (dockhandtest.Client, the public form of this check).
func Client(t testing.TB, opts ...lifecycle.ClientOption) *lifecycle.Client {
	t.Helper()
	return testengine.Client(t, opts...)
}

// NoLeaks fails t if c still owns resources, removes them and closes c
// (dockhandtest.NoLeaks).
func NoLeaks(t testing.TB, c *lifecycle.Client) {
	t.Helper()
	testengine.NoLeaks(t, c)
}

// Root returns the repository root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

var busyboxOnce sync.Once
var busyboxErr error

// BusyboxImage makes sure the busybox stand-in exists (building it with
// scripts/test-images if needed) and returns its name.
func BusyboxImage(t testing.TB, c *lifecycle.Client) string {
	t.Helper()
	busyboxOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.InspectImage(ctx, Busybox); err == nil {
			return
		}
		cmd := exec.Command(filepath.Join(Root(t), "scripts", "test-images"), "--only", "busybox")
		out, err := cmd.CombinedOutput()
		if err != nil {
			busyboxErr = &buildError{out: string(out), err: err}
		}
	})
	if busyboxErr != nil {
		Unavailable(t, "cannot build %s: %v", Busybox, busyboxErr)
	}
	return Busybox
}

// RequireImage returns name if the stand-in image exists, and otherwise
// skips (fails under CI) with the command that builds it.
func RequireImage(t testing.TB, c *lifecycle.Client, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.InspectImage(ctx, name); err != nil {
		Unavailable(t, "image %s missing: run scripts/test-images (%v)", name, err)
	}
	return name
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return e.err.Error() + ": " + strings.TrimSpace(lastLines(e.out, 15))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
