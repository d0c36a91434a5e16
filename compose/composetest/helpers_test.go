package composetest_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/lifecycle"
)

// TestMain releases the shared services the tests started.
func TestMain(m *testing.M) { dockhandtest.Main(m) }

// startErr is dockhandtest.Start(t, spec) as a test sees it, bounded by
// ctx, returning the error Start fails t with instead of failing t:
// Start runs in a goroutine of its own, on a TB whose Fatal records the
// error and ends that goroutine.
func startErr(t *testing.T, ctx context.Context, spec dockhandtest.Spec) (*dockhandtest.Server, error) {
	tb := &fatalTB{TB: t, ctx: ctx}
	var srv *dockhandtest.Server
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv = dockhandtest.Start(tb, spec)
	}()
	<-done
	if tb.err != nil {
		return nil, tb.err
	}
	return srv, nil
}

// fatalTB is t with its own context, and a Fatal, FailNow or Skip that
// records why and ends the calling goroutine (startErr's), not the test.
type fatalTB struct {
	testing.TB
	ctx context.Context

	mu  sync.Mutex
	err error
}

func (f *fatalTB) Context() context.Context { return f.ctx }
func (f *fatalTB) Helper()                  {}

func (f *fatalTB) stop(format string, args ...any) {
	err := fmt.Errorf(format, args...)
	for _, a := range args {
		if e, ok := a.(error); ok { // Start fails with "dockhandtest: %v", err: keep err
			err = e
			break
		}
	}
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) { f.stop(format, args...) }
func (f *fatalTB) Fatal(args ...any)                 { f.stop("%s", fmt.Sprint(args...)) }
func (f *fatalTB) FailNow()                          { f.stop("FailNow") }
func (f *fatalTB) Skipf(format string, args ...any)  { f.stop("skipped: "+format, args...) }
func (f *fatalTB) Skip(args ...any)                  { f.stop("skipped: %s", fmt.Sprint(args...)) }
func (f *fatalTB) SkipNow()                          { f.stop("SkipNow") }

// keyPattern is the key (and container name) of a shared server.
var keyPattern = regexp.MustCompile(`dockhandtest-[a-z0-9][a-z0-9_.-]*-[0-9a-f]{12}`)

// keyIn returns the server key that err names: a Start that failed says
// which container it was.
func keyIn(t *testing.T, err error) string {
	t.Helper()
	k := keyPattern.FindString(err.Error())
	require.NotEmpty(t, k, "the error names the server's container: %v", err)
	return k
}

// containerWithEnv waits for the shared container named
// dockhandtest-<name>-... whose environment holds env, and returns it.
func containerWithEnv(t *testing.T, ctx context.Context, c *lifecycle.Client, name, env string) *lifecycle.Container {
	t.Helper()
	for {
		list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("name", "dockhandtest-"+name+"-"),
			lifecycle.WithFilter("label", lifecycle.LabelShared))
		require.NoError(t, err)
		for _, s := range list {
			ct, err := c.Container(ctx, s.ID)
			if errors.Is(err, lifecycle.ErrNotFound) {
				continue
			}
			require.NoError(t, err)
			ins, err := ct.Inspect(ctx)
			if err == nil && ins.Config != nil && slices.Contains(ins.Config.Env, env) {
				return ct
			}
		}
		require.NoError(t, ctx.Err(), "no container dockhandtest-%s-... with %s", name, env)
		time.Sleep(50 * time.Millisecond)
	}
}
