package dockhandtest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// recorder is a testing.TB that records how a fixture ended the test
// (Fatal, Skip) instead of ending the real one.
type recorder struct {
	testing.TB
	fatal, skip string
	cleanups    []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// run calls f with the recorder on a goroutine of its own (Fatal and Skip
// end it), then runs the cleanups f registered.
func (r *recorder) run(f func(tb testing.TB)) { r.runAs(r, f) }

// runAs is run with tb, a test built on r (errTB, failedTB), as the test.
func (r *recorder) runAs(tb testing.TB, f func(tb testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// Bad input fails the test with an error naming the value and what was
// wanted, before any container is made.
func TestBadInput(t *testing.T) {
	c := dockhandtest.Client(t)
	before := sharedContainers(t, c)
	for _, tc := range []struct {
		name string
		f    func(tb testing.TB)
		want string
	}{
		{"empty image", func(tb testing.TB) { dockhandtest.NewPostgres(tb, dockhandtest.WithImage("")) }, "WithImage: empty image reference"},
		{"nil migrate", func(tb testing.TB) { dockhandtest.NewPostgres(tb, dockhandtest.WithMigrations("v1", nil)) }, `WithMigrations("v1"): nil migrate func`},
		{"empty version", func(tb testing.TB) {
			dockhandtest.NewPostgres(tb, dockhandtest.WithMigrations("", func(context.Context, string) error { return nil }))
		}, "WithMigrations: empty version"},
		{"mariadb: empty image", func(tb testing.TB) { dockhandtest.NewMariaDB(tb, dockhandtest.WithImage("")) }, "NewMariaDB: invalid argument: WithImage: empty image reference"},
		{"mariadb: nil migrate", func(tb testing.TB) { dockhandtest.NewMariaDB(tb, dockhandtest.WithMigrations("v1", nil)) }, `NewMariaDB: invalid argument: WithMigrations("v1"): nil migrate func`},
		{"mariadb: empty version", func(tb testing.TB) {
			dockhandtest.NewMariaDB(tb, dockhandtest.WithMigrations("", func(context.Context, string) error { return nil }))
		}, "NewMariaDB: invalid argument: WithMigrations: empty version"},
		{"spec without image", func(tb testing.TB) { dockhandtest.Start(tb, dockhandtest.Spec{Name: "web"}) }, `spec "web": empty Image`},
		{"bad spec name", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "My Web", Image: testbench.Busybox})
		}, `spec name "My Web"`},
		{"bad env", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "web", Image: testbench.Busybox, Env: []string{"A=1", "NOEQUALS"}})
		}, "env entry 1 has no KEY="},
		{"spec with an empty entrypoint program", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "web", Image: testbench.Busybox, Entrypoint: []string{"", "-c"}})
		}, `spec "web": Entrypoint with an empty program name`},
		{"healthcheck without a program", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "web", Image: testbench.Busybox, Healthcheck: &container.HealthConfig{Test: []string{"CMD"}}})
		}, `spec "web": Healthcheck.Test: ["CMD"] has no program`},
		{"healthcheck of an unknown kind", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "web", Image: testbench.Busybox, Healthcheck: &container.HealthConfig{Test: []string{"curl", "-f", "localhost"}}})
		}, `spec "web": Healthcheck.Test: ["curl" "-f" "localhost"]: want CMD, CMD-SHELL or NONE first`},
		{"healthcheck interval under 1ms", func(tb testing.TB) {
			dockhandtest.Start(tb, dockhandtest.Spec{Name: "web", Image: testbench.Busybox, Healthcheck: &container.HealthConfig{Interval: time.Microsecond}})
		}, `spec "web": Healthcheck.Interval: 1µs: want 0 (the image's) or at least 1ms`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			r.run(tc.f)
			require.NotEmpty(t, r.fatal, "the test must fail")
			assert.Contains(t, r.fatal, tc.want)
			assert.Contains(t, r.fatal, "invalid argument", "wraps lifecycle.ErrInvalid")
		})
	}
	assert.Equal(t, before, sharedContainers(t, c), "no container made for the bad specs")
}

func sharedContainers(t *testing.T, c *lifecycle.Client) []string {
	t.Helper()
	list, err := c.API().ContainerList(t.Context(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelShared))})
	require.NoError(t, err)
	var names []string
	for _, ct := range list {
		if n := strings.Join(ct.Names, ","); strings.Contains(n, "dockhandtest-web-") {
			names = append(names, n)
		}
	}
	return names
}

// No engine: skipped with the reason, or failed under CI=true.
func TestNoEngine(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			r.run(func(tb testing.TB) { dockhandtest.Client(tb, lifecycle.WithDockerHost("tcp://127.0.0.1:1")) })
			if ci == "true" {
				assert.Empty(t, r.skip)
				assert.Contains(t, r.fatal, "CI=true and no Docker engine")
			} else {
				assert.Empty(t, r.fatal)
				assert.Contains(t, r.skip, "no Docker engine")
			}
		})
	}
}
