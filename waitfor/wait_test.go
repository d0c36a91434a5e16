package waitfor_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/waitfor"
)

func TestTCPReadySoonAfterListenerOpens(t *testing.T) {
	addr := freeAddr(t)
	var after afterEvent
	opened := after.watch(openLater(t, "tcp", addr, 80*time.Millisecond))
	w := waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: after.OnAttempt}
	require.NoError(t, w.Wait(context.Background(), waitfor.TCP(addr)))
	<-opened
	// Noticed by the next attempt after it opened (and the backoff is
	// capped at 20ms: BenchmarkNotice measures how soon that is).
	assert.LessOrEqual(t, after.failed.Load(), int64(1), "failed attempts after the port opened")
}

func TestTCPIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	serve(t, l, func(int, net.Conn) {})
	addr := l.Addr().String()
	require.True(t, strings.HasPrefix(addr, "[::1]:"))
	require.NoError(t, waitfor.Wait(context.Background(), waitfor.TCP(addr)))
	c, err := waitfor.ParseTarget("tcp://" + addr)
	require.NoError(t, err)
	require.NoError(t, c.Check(context.Background()))
}

func TestUnixSocketAppears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	c := waitfor.Unix(path)
	assert.Equal(t, "unix://"+path, c.String())
	require.Error(t, c.Check(context.Background()))
	var after afterEvent
	opened := after.watch(openLater(t, "unix", path, 50*time.Millisecond))
	require.NoError(t, (&waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: after.OnAttempt}).Wait(context.Background(), c))
	<-opened
	assert.LessOrEqual(t, after.failed.Load(), int64(1), "failed attempts after the socket appeared")
}

func TestFileAppearsFillsAndDisappears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ready")
	ctx := context.Background()
	w := waitfor.Waiter{Timeout: 5 * time.Second}

	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = os.WriteFile(path, nil, 0o644)
		time.Sleep(30 * time.Millisecond)
		_ = os.WriteFile(path, []byte("ok"), 0o644)
	}()
	require.NoError(t, w.Wait(ctx, waitfor.File(path)))
	require.NoError(t, w.Wait(ctx, waitfor.NonEmptyFile(path)))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.EqualValues(t, 2, fi.Size(), "NonEmptyFile must not be ready on the empty file")

	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = os.Remove(path)
	}()
	require.NoError(t, w.Wait(ctx, waitfor.Not(waitfor.File(path))))
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestNotPortFreed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	cond := waitfor.Not(waitfor.TCP(addr))
	assert.Equal(t, "not(tcp://"+addr+")", cond.String())
	err = cond.Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still ready")

	var after afterEvent
	closed := make(chan time.Time, 1)
	freed := after.watch(closed)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = l.Close()
		closed <- time.Now()
	}()
	require.NoError(t, (&waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: after.OnAttempt}).Wait(context.Background(), cond))
	<-freed
	assert.LessOrEqual(t, after.failed.Load(), int64(1), "failed attempts after the port was freed")
}

func TestAllAndAny(t *testing.T) {
	up := listen(t, func(int, net.Conn) {})
	down := freeAddr(t)
	ctx := context.Background()

	require.NoError(t, waitfor.Any(waitfor.TCP(down), waitfor.TCP(up)).Check(ctx))
	require.NoError(t, waitfor.All(waitfor.TCP(up), waitfor.TCP(up)).Check(ctx))
	err := waitfor.All(waitfor.TCP(up), waitfor.TCP(down)).Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tcp://"+down)
	assert.NotContains(t, err.Error(), "tcp://"+up+":")
	require.Error(t, waitfor.Any(waitfor.TCP(down)).Check(ctx))
	assert.Equal(t, "all(tcp://"+up+", not(tcp://"+down+"))", waitfor.All(waitfor.TCP(up), waitfor.Not(waitfor.TCP(down))).String())

	// All becomes ready once its last member does.
	late := freeAddr(t)
	var after afterEvent
	opened := after.watch(openLater(t, "tcp", late, 60*time.Millisecond))
	w := waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: after.OnAttempt}
	require.NoError(t, w.Wait(ctx, waitfor.All(waitfor.TCP(up), waitfor.TCP(late))))
	<-opened
	assert.LessOrEqual(t, after.failed.Load(), int64(1), "failed attempts after the last member opened")

	// Permanent: All when one member is, Any only when all are.
	perm := waitfor.Func("broken", func(context.Context) error { return waitfor.Permanent(errors.New("gone")) })
	assert.True(t, waitfor.IsPermanent(waitfor.All(waitfor.TCP(up), perm).Check(ctx)))
	assert.False(t, waitfor.IsPermanent(waitfor.Any(waitfor.TCP(down), perm).Check(ctx)))
	assert.True(t, waitfor.IsPermanent(waitfor.Any(perm, perm).Check(ctx)))
}

func TestErrorListsEveryPendingCondition(t *testing.T) {
	up := listen(t, func(int, net.Conn) {})
	down1, down2 := freeAddr(t), freeAddr(t)
	w := waitfor.Waiter{Timeout: 150 * time.Millisecond}
	start := time.Now()
	err := w.Wait(context.Background(), waitfor.TCP(down1), waitfor.TCP(up), waitfor.TCP(down2))
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "ended by its Timeout")

	var werr *waitfor.Error
	require.ErrorAs(t, err, &werr)
	require.Len(t, werr.Pending, 2)
	for i, addr := range []string{down1, down2} {
		p := werr.Pending[i]
		assert.Equal(t, "tcp://"+addr, p.Condition)
		assert.Greater(t, p.Attempts, 3)
		require.Error(t, p.LastErr)
		assert.Contains(t, p.LastErr.Error(), "connection refused")
		assert.Contains(t, err.Error(), "tcp://"+addr+" (")
	}
	assert.Contains(t, err.Error(), "context deadline exceeded")
	assert.Contains(t, err.Error(), "attempts, last error: ")
	assert.NotContains(t, err.Error(), "tcp://"+up)
}

func TestPollingIsNotABusyLoop(t *testing.T) {
	down := freeAddr(t)
	var n atomic.Int64
	w := waitfor.Waiter{Timeout: 500 * time.Millisecond, OnAttempt: func(waitfor.Attempt) { n.Add(1) }}
	require.Error(t, w.Wait(context.Background(), waitfor.TCP(down)))
	// 1+2+4+8+16 ms of growth, then about one attempt every 19ms.
	assert.Greater(t, n.Load(), int64(10))
	assert.LessOrEqual(t, n.Load(), int64(35))
}

func TestPermanentStopsAtOnce(t *testing.T) {
	sentinel := errors.New("container exited with code 3")
	var calls atomic.Int64
	exited := waitfor.Func("container app", func(context.Context) error {
		if calls.Add(1) < 3 {
			return errors.New("starting")
		}
		return waitfor.Permanent(sentinel)
	})
	down := freeAddr(t)
	w := waitfor.Waiter{Timeout: 10 * time.Second}
	err := w.Wait(context.Background(), exited, waitfor.TCP(down))
	require.Error(t, err)
	assert.Equal(t, int64(3), calls.Load(), "no check after the permanent error")
	assert.True(t, waitfor.IsPermanent(err))
	assert.ErrorIs(t, err, sentinel)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	var werr *waitfor.Error
	require.ErrorAs(t, err, &werr)
	require.Len(t, werr.Pending, 2)
	assert.Equal(t, "container app", werr.Pending[0].Condition)
	assert.Equal(t, 3, werr.Pending[0].Attempts)
	assert.ErrorIs(t, werr.Pending[0].LastErr, sentinel)

	assert.Nil(t, waitfor.Permanent(nil))
	assert.False(t, waitfor.IsPermanent(sentinel))
}

func TestOnAttemptAndContextCancel(t *testing.T) {
	var attempts []waitfor.Attempt
	var calls int
	cond := waitfor.Func("third time lucky", func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	w := waitfor.Waiter{OnAttempt: func(a waitfor.Attempt) { attempts = append(attempts, a) }}
	require.NoError(t, w.Wait(context.Background(), cond))
	require.Len(t, attempts, 3)
	for i, a := range attempts {
		assert.Equal(t, i+1, a.N)
		assert.Equal(t, cond.String(), a.Condition.String())
		assert.Positive(t, a.Elapsed)
	}
	assert.Error(t, attempts[1].Err)
	assert.NoError(t, attempts[2].Err)

	// A cancelled context ends the wait with context.Canceled.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	err := waitfor.Wait(ctx, waitfor.TCP(freeAddr(t)))
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoError(t, waitfor.Wait(context.Background()))
}

type watchCond struct{ ch chan error }

func (w watchCond) Check(context.Context) error { panic("Check must not be called on a Watcher") }
func (w watchCond) String() string              { return "watch" }
func (w watchCond) Watch(ctx context.Context) error {
	select {
	case err := <-w.ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestWatcherIsNotPolled(t *testing.T) {
	c := watchCond{ch: make(chan error, 1)}
	time.AfterFunc(20*time.Millisecond, func() { c.ch <- nil })
	var n int
	w := waitfor.Waiter{Timeout: time.Second, OnAttempt: func(waitfor.Attempt) { n++ }}
	require.NoError(t, w.Wait(context.Background(), c))
	assert.Equal(t, 1, n)
}

func TestAttemptTimeoutCutsHungServers(t *testing.T) {
	addr := hung(t)
	conds := []waitfor.Condition{
		waitfor.Postgres(addr, "app", "app"),
		waitfor.Redis(addr, ""),
		waitfor.MySQL(addr),
		waitfor.HTTP("http://" + addr + "/healthz"),
	}
	for _, c := range conds {
		t.Run(c.String(), func(t *testing.T) {
			w := waitfor.Waiter{Timeout: time.Second, AttemptTimeout: 60 * time.Millisecond}
			err := w.Wait(context.Background(), c)
			assert.ErrorIs(t, err, context.DeadlineExceeded, "ended by the wait's Timeout, not stuck in an attempt")
			var werr *waitfor.Error
			require.ErrorAs(t, err, &werr)
			require.Len(t, werr.Pending, 1)
			assert.GreaterOrEqual(t, werr.Pending[0].Attempts, 4, "each attempt must be cut after 60ms")
			assert.Contains(t, werr.Pending[0].LastErr.Error(), "attempt timeout")
		})
	}
}

func TestCommand(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, waitfor.Command("sh", "-c", "exit 0").Check(ctx))
	err := waitfor.Command("sh", "-c", "echo db is down >&2; exit 3").Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "db is down")
	assert.False(t, waitfor.IsPermanent(err))

	// Exit 0 with a background child that keeps stdout open: ready, not
	// "WaitDelay expired". The child reports its pid and is killed.
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	t.Cleanup(func() { killBackground(t, pidFile) })
	require.NoError(t, waitfor.Command("sh", "-c", `sleep 30 & echo $! > "$0"; exit 0`, pidFile).Check(ctx))

	err = waitfor.Command("/nonexistent/waitfor-test").Check(ctx)
	assert.True(t, waitfor.IsPermanent(err), "%v", err)
	assert.Equal(t, "cmd:sh -c true", waitfor.Command("sh", "-c", "true").String())
	assert.Equal(t, "cmd:env PGPASSWORD=xxxxx pg_isready -d postgres://app:xxxxx@db/app",
		waitfor.Command("env", "PGPASSWORD=s3cret", "pg_isready", "-d", "postgres://app:s3cret@db/app").String())

	// A hung command is killed by the attempt timeout.
	w := waitfor.Waiter{Timeout: time.Second, AttemptTimeout: 50 * time.Millisecond}
	err = w.Wait(ctx, waitfor.Command("sleep", "10"))
	var werr *waitfor.Error
	require.ErrorAs(t, err, &werr)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, werr.Pending, 1)
	assert.GreaterOrEqual(t, werr.Pending[0].Attempts, 2, "the first attempt was cut, well before the wait ended")
	assert.Contains(t, werr.Pending[0].LastErr.Error(), "attempt timeout", "%v", werr.Pending[0].LastErr)
}

func TestDNS(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, waitfor.DNS("localhost").Check(ctx))
	require.Error(t, waitfor.DNS("no-such-host.invalid").Check(ctx))
	// A name that does not resolve is "not ready yet", never fatal.
	assert.False(t, waitfor.IsPermanent(waitfor.TCP("no-such-host.invalid:80").Check(ctx)))
}

type codeErr struct{ code int }

func (e *codeErr) Error() string { return "exited with code " + strconv.Itoa(e.code) }

// Errors of the members of All and Any stay reachable with errors.As, and a
// permanent cause is printed once.
func TestGroupKeepsErrorChain(t *testing.T) {
	cause := &codeErr{3}
	failing := waitfor.Func("exits", func(context.Context) error { return waitfor.Permanent(cause) })
	pending := waitfor.Func("never", func(context.Context) error { return errors.New("not yet") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := waitfor.Wait(ctx, waitfor.All(pending, failing))
	require.Error(t, err)
	var ce *codeErr
	require.True(t, errors.As(err, &ce), "errors.As through All: %v", err)
	assert.Equal(t, 3, ce.code)
	assert.Equal(t, 1, strings.Count(err.Error(), "exited with code 3"), err.Error())
	err = waitfor.Wait(ctx, waitfor.Any(failing, failing))
	require.True(t, errors.As(err, &ce), "errors.As through Any: %v", err)
}
