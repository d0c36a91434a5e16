package lifecycle_test

// Bounded memory and no stray work: size limits on what is read from a
// container, safe copies out of untrusted images, stdin copies and exec
// attempts that end with their call.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleeper runs a busybox container that sleeps, removed when the test ends.
func sleeper(t *testing.T, c *lifecycle.Client, ctx context.Context) *lifecycle.Container {
	t.Helper()
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	})
	return ctr
}

func sh(t *testing.T, ctx context.Context, ctr *lifecycle.Container, script string) string {
	t.Helper()
	res, err := ctr.Exec(ctx, []string{"sh", "-c", script})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s: %s%s", script, res.Stdout, res.Stderr)
	return string(res.Stdout)
}

func TestReadFileSizeLimit(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	sh(t, ctx, ctr, "head -c 2000000 /dev/zero > /tmp/two; head -c 33554433 /dev/zero > /tmp/big")

	_, err := ctr.ReadFile(ctx, "/tmp/two", lifecycle.WithMaxSize(1<<20))
	require.ErrorIs(t, err, lifecycle.ErrTooLarge)
	assert.Contains(t, err.Error(), "/tmp/two")
	assert.Contains(t, err.Error(), "2000000 bytes")
	assert.Contains(t, err.Error(), "limit of 1048576 bytes")

	b, err := ctr.ReadFile(ctx, "/tmp/two", lifecycle.WithMaxSize(2000000))
	require.NoError(t, err, "a file exactly at the limit is read")
	assert.Len(t, b, 2000000)

	_, err = ctr.ReadFile(ctx, "/tmp/big")
	require.ErrorIs(t, err, lifecycle.ErrTooLarge, "the default limit is DefaultMaxSize")
	assert.Contains(t, err.Error(), "limit of "+strconv.Itoa(lifecycle.DefaultMaxSize)+" bytes")

	_, err = ctr.ReadFile(ctx, "/tmp/two", lifecycle.WithMaxSize(0))
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
}

func TestExecCaptureLimit(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	res, err := ctr.Exec(ctx, []string{"sh", "-c", "head -c 3000000 /dev/zero; head -c 10 /dev/zero >&2"}, lifecycle.WithMaxSize(1<<20))
	require.NoError(t, err)
	assert.Len(t, res.Stdout, 1<<20, "stdout kept up to the limit")
	assert.Len(t, res.Stderr, 10)
	assert.True(t, res.Truncated)

	res, err = ctr.Exec(ctx, []string{"head", "-c", "3000000", "/dev/zero"})
	require.NoError(t, err)
	assert.Len(t, res.Stdout, 3000000, "under the default limit, all of it")
	assert.False(t, res.Truncated)
}

func TestCopyFromUntrustedImage(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	sh(t, ctx, ctr, `mkdir -p /x/sub /bad && echo hi > /x/sub/suid && chmod 6755 /x/sub/suid &&
		mknod /x/null c 1 3 && mkfifo /x/fifo && ln -s sub/suid /x/rel &&
		echo data > /bad/f && ln -s /etc/passwd /bad/abs && ln -s ../../../../etc /bad/up`)

	base := t.TempDir()
	dst := filepath.Join(base, "out")
	require.NoError(t, ctr.CopyFrom(ctx, "/x", dst))
	fi, err := os.Stat(filepath.Join(dst, "x", "sub", "suid"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), fi.Mode(), "setuid and setgid dropped")
	for _, n := range []string{"null", "fifo"} {
		_, err := os.Lstat(filepath.Join(dst, "x", n))
		assert.ErrorIs(t, err, fs.ErrNotExist, "%s skipped", n)
	}
	got, err := os.ReadFile(filepath.Join(dst, "x", "rel"))
	require.NoError(t, err)
	assert.Equal(t, "hi\n", string(got), "a link inside the copy is kept")

	err = ctr.CopyFrom(ctx, "/bad", filepath.Join(base, "bad"))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), "points outside the destination")
	left, err := os.ReadDir(base)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"out", "bad"}, names, "nothing written beside the destinations")

	// Asked to, it keeps them (this test runs as root where devices can be made).
	if os.Geteuid() != 0 {
		return
	}
	keep := filepath.Join(base, "keep")
	require.NoError(t, ctr.CopyFrom(ctx, "/x", keep, lifecycle.WithSpecialFiles()))
	fi, err = os.Stat(filepath.Join(keep, "x", "sub", "suid"))
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeSetuid, "setuid kept when asked")
	fi, err = os.Lstat(filepath.Join(keep, "x", "fifo"))
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&fs.ModeNamedPipe, "fifo kept when asked")
}

// processes lists the container's processes' command lines, read from
// /proc inside it.
func processes(t *testing.T, ctx context.Context, ctr *lifecycle.Container) string {
	t.Helper()
	return sh(t, ctx, ctr, `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done`)
}

func TestExecSucceedsKillsHungAttempt(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	for _, cmd := range [][]string{
		{"sleep", "1000"},
		{"sh", "-c", "sleep 1001; echo never"}, // a child of the exec'd process too
	} {
		w := waitfor.Waiter{Timeout: 1500 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}
		err := w.Wait(ctx, ctr.ExecSucceeds(cmd...))
		require.Error(t, err)
		require.True(t, errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "attempt timeout"), "%v", err)
	}
	ps := processes(t, ctx, ctr)
	assert.Contains(t, ps, "sleep 600", "the container's own process runs on")
	assert.NotContains(t, ps, "sleep 1000", "no attempt left running")
	assert.NotContains(t, ps, "sleep 1001", "no child of an attempt left running")
	assert.NotContains(t, ps, "sh -c sleep 1001")
}

// Exec itself kills its command when ctx ends, as exec.CommandContext does.
func TestExecKilledWithContext(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := ctr.Exec(short, []string{"sleep", "1002"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, processes(t, ctx, ctr), "sleep 1002")
}

// stdinGoroutines returns the stacks of goroutines still copying stdin.
func stdinGoroutines() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	var out []string
	for g := range strings.SplitSeq(b.String(), "\n\n") {
		if strings.Contains(g, "lifecycle.pollCopy") || strings.Contains(g, "lifecycle.(*stdinCopy).run") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// TestStdinCopyEndsWithTheCall gives Exec and Run a pipe as stdin; once
// they returned, what is written to the pipe must still be there for the
// caller to read: no goroutine of ours is left reading it.
func TestStdinCopyEndsWithTheCall(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	ctr := sleeper(t, c, ctx)
	img := testbench.BusyboxImage(t, c)
	pipes := map[string]func(*testing.T) (*os.File, *os.File){
		"os.Pipe": func(t *testing.T) (*os.File, *os.File) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			return r, w
		},
		"blocking pipe": blockingPipe,
	}
	calls := map[string]func(stdin io.Reader, out io.Writer) error{
		"Exec": func(stdin io.Reader, out io.Writer) error {
			_, err := ctr.Exec(ctx, []string{"head", "-n", "1"}, lifecycle.WithStdin(stdin), lifecycle.WithStdout(out))
			return err
		},
		"Run": func(stdin io.Reader, out io.Writer) error {
			one, err := c.Run(ctx, img, lifecycle.WithCmd("head", "-n", "1"), lifecycle.WithStdin(stdin), lifecycle.WithStdout(out))
			if one != nil {
				defer func() { assert.NoError(t, one.Remove(context.Background(), lifecycle.WithForce())) }()
			}
			return err
		},
	}
	for pname, mk := range pipes {
		for cname, call := range calls {
			t.Run(cname+" "+pname, func(t *testing.T) {
				r, w := mk(t)
				defer r.Close()
				defer w.Close()
				_, err := w.Write([]byte("first\n"))
				require.NoError(t, err)
				var out bytes.Buffer
				require.NoError(t, call(r, &out))
				assert.Equal(t, "first\n", out.String())
				assert.Empty(t, stdinGoroutines(), "no stdin copy left once the call returned")

				// The caller's next input is the caller's.
				_, err = w.Write([]byte("after\n"))
				require.NoError(t, err)
				require.NoError(t, w.Close())
				got, err := io.ReadAll(r)
				require.NoError(t, err)
				assert.Equal(t, "after\n", string(got), "the caller's input after the call is not swallowed")
			})
		}
	}
}

func TestLastLogLines(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	// b goes to stderr long before a and c: the engine copies the two
	// streams apart, so only an early one is surely logged before them.
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo b >&2; yes x | tr -d '\\n' | head -c 5000000; echo; echo a; printf 'c\\r\\n'"))
	require.NoError(t, err)
	defer func() { assert.NoError(t, ctr.Remove(context.Background(), lifecycle.WithForce())) }()
	require.NoError(t, waitfor.Wait(ctx, ctr.Exited(0)))

	lines, err := ctr.LastLogLines(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, lines, "the last lines, oldest first, the \\r of a \\r\\n end dropped")
	// The engine counts each 16 KiB piece of a long line as a message.
	lines, err = ctr.LastLogLines(ctx, 400)
	require.NoError(t, err)
	giant := strings.Repeat("x", 300) + "..."
	assert.Equal(t, []string{"b", giant, "a", "c"}, lines, "stderr too; a 5 MB line quoted on its first 300 bytes")
	lines, err = ctr.LastLogLines(ctx, 0)
	assert.NoError(t, err)
	assert.Empty(t, lines)
	_, err = ctr.LastLogLines(ctx, -1)
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
}

// lateWriter counts the writes of the call it serves, cancels that call
// on its first write and is slow on the others. Its counter is a plain int on purpose: read
// after the call returns, the race detector reports any write that the
// return does not happen after.
type lateWriter struct {
	cancel context.CancelFunc
	writes int
}

func (w *lateWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes == 1 {
		w.cancel()
	} else {
		time.Sleep(50 * time.Millisecond) // a slow consumer: the copy is mid-write when the call ends
	}
	return len(p), nil
}

// Exec cut short by its context while the command is still writing: no
// write reaches the caller's writer after Exec returned (the output copy
// is over by then, as os/exec's is after Wait).
func TestExecWritesNothingAfterItReturns(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := sleeper(t, c, ctx)
	for range 3 {
		short, cancel := context.WithCancel(ctx)
		w := &lateWriter{cancel: cancel}
		_, err := ctr.Exec(short, []string{"sh", "-c", "while :; do echo spam spam spam; done"}, lifecycle.WithStdout(w))
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		// Under -race (scripts/test), a copy still running would race
		// with this read; without -race, a later write would change it.
		n := w.writes
		require.Positive(t, n, "the command wrote before the cancel")
		time.Sleep(300 * time.Millisecond) // room for a late write to show
		assert.Equal(t, n, w.writes, "writes after Exec returned")
	}
}
