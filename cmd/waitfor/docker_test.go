package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// Engine-backed tests: the static binary is the entrypoint (PID 1) of an
// image built from the busybox stand-in (sh, sleep, cat, httpd).

// bench is a client and an image whose entrypoint is /waitfor.
type bench struct {
	t     *testing.T
	c     *lifecycle.Client
	image string
}

func newBench(t *testing.T) *bench {
	t.Helper()
	c := testbench.Client(t)
	base := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "waitfor"), data, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(
		"FROM "+base+"\nCOPY waitfor /waitfor\nENTRYPOINT [\"/waitfor\"]\n"), 0o644))
	tag := "dockhand.test/waitfor-pid1:" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, c.RemoveImage(ctx, tag))
	})
	return &bench{t: t, c: c, image: tag}
}

// run starts a container with waitfor's arguments; it is removed when the
// test ends.
func (b *bench) run(t *testing.T, args ...string) *lifecycle.Container {
	t.Helper()
	return b.runWith(t, lifecycle.WithCmd(args...))
}

// runWith starts a container of the image with opts; it is removed when the
// test ends.
func (b *bench) runWith(t *testing.T, opts ...lifecycle.RunOption) *lifecycle.Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ct, err := b.c.Run(ctx, b.image, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, ct.Remove(ctx, lifecycle.WithForce()))
	})
	return ct
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func containerLogs(t *testing.T, ct *lifecycle.Container) string {
	t.Helper()
	var out testbench.Buffer
	require.NoError(t, ct.Logs(ctxFor(t, time.Minute), &out))
	return out.String()
}

// sh runs a shell command in the container and returns its standard output.
func sh(t *testing.T, ct *lifecycle.Container, script string) string {
	t.Helper()
	var res *lifecycle.ExecResult
	for try := 1; ; try++ {
		var err error
		res, err = ct.Exec(ctxFor(t, time.Minute), []string{"sh", "-c", script})
		require.NoError(t, err)
		// 126 with no output: the runtime could not start the exec, as
		// happens while PID 1 itself is exec'ing the command. Try again.
		if res.ExitCode != 126 || len(res.Stdout)+len(res.Stderr) > 0 || try == 5 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, 0, res.ExitCode, "%s: %s", script, res.Stderr)
	return string(res.Stdout)
}

// proc is one line of /proc/PID/stat.
type proc struct {
	pid   int
	comm  string
	state string // R, S, D, Z, ...
	ppid  int
}

// procs lists the container's processes from /proc/*/stat (as ps -o stat).
func procs(t *testing.T, ct *lifecycle.Container) []proc {
	t.Helper()
	var list []proc
	for _, line := range strings.Split(sh(t, ct, "cat /proc/[0-9]*/stat 2>/dev/null; true"), "\n") {
		open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || close < open {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
		require.NoError(t, err, line)
		f := strings.Fields(line[close+1:])
		require.GreaterOrEqual(t, len(f), 2, line)
		ppid, err := strconv.Atoi(f[1])
		require.NoError(t, err, line)
		list = append(list, proc{pid: pid, comm: line[open+1 : close], state: f[0], ppid: ppid})
	}
	require.NotEmpty(t, list)
	return list
}

func zombies(ps []proc) []proc {
	var z []proc
	for _, p := range ps {
		if p.state == "Z" {
			z = append(z, p)
		}
	}
	return z
}

func pid1Comm(t *testing.T, ps []proc) string {
	t.Helper()
	for _, p := range ps {
		if p.pid == 1 {
			return p.comm
		}
	}
	t.Fatal("no PID 1 in the container")
	return ""
}

// poll calls f every 50ms until it returns true, for at most a minute (a
// deadline for a hang, not a speed requirement). f's string says what it
// saw, for the failure message.
func poll(t *testing.T, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, saw := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; last saw: %s", what, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPID1(t *testing.T) {
	b := newBench(t)

	t.Run("no targets: execs the command at once", func(t *testing.T) {
		ct := b.run(t, "--", "sh", "-c", "echo pid=$$; exit 7")
		code, err := ct.Wait(ctxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 7, code, "the command's exit code is the container's")
		logs := containerLogs(t, ct)
		assert.Contains(t, logs, "pid=1\n", "the command runs as PID 1: waitfor exec'd it in place")
		assert.Contains(t, logs, "msg=exec command=/bin/sh")
		assert.NotContains(t, logs, "msg=waiting")
	})

	t.Run("reaps orphans of a forking -cmd check, before and after the exec", func(t *testing.T) {
		// Each attempt leaves an orphan (the subshell's sleep, re-parented
		// to PID 1) that exits while the check still runs, and fails until
		// /tmp/ready exists. The command, sleep, never reaps anything: a
		// zombie left at the exec would stay.
		check := `sh -c '(sleep 0.01 & echo $! >> /tmp/orphans); sleep 0.2; test -e /tmp/ready'`
		ct := b.run(t, "-timeout", "0", "-cmd", check, "--", "sleep", "3600")
		countOrphans := func() int {
			return len(strings.Fields(sh(t, ct, "cat /tmp/orphans 2>/dev/null; true")))
		}
		poll(t, "5 check attempts", func() (bool, string) {
			n := countOrphans()
			return n >= 5, strconv.Itoa(n) + " orphans"
		})

		// While waiting: still waiting (every failed attempt was read as
		// failed, although its orphan exited 0), and no zombies.
		var last []proc
		poll(t, "no zombies while waiting", func() (bool, string) {
			last = procs(t, ct)
			require.Equal(t, "waitfor", pid1Comm(t, last), "waitfor must still be waiting")
			z := zombies(last)
			return len(z) == 0, fmt.Sprintf("%d zombies: %v", len(z), z)
		})
		t.Logf("while waiting: %d processes, %d orphans made so far", len(last), countOrphans())

		sh(t, ct, "touch /tmp/ready")
		poll(t, "the exec of sleep", func() (bool, string) {
			last = procs(t, ct)
			return pid1Comm(t, last) == "sleep", fmt.Sprint(last)
		})
		orphans := countOrphans()
		assert.GreaterOrEqual(t, orphans, 5)
		assert.Empty(t, zombies(last), "zombies after the exec: the command inherited them")
		t.Logf("after the exec: %d processes (%v), %d orphans made in all", len(last), last, orphans)
		logs := containerLogs(t, ct)
		assert.Contains(t, logs, "msg=exec command=/bin/sleep")
	})

	t.Run("a check leaving a background child holding its output is ready", func(t *testing.T) {
		ct := b.run(t, "-strict", "-timeout", "60s", "-cmd", "sh -c 'sleep 3600 & exit 0'", "--", "echo", "started")
		code, err := ct.Wait(ctxFor(t, 2*time.Minute))
		require.NoError(t, err)
		logs := containerLogs(t, ct)
		assert.Equal(t, 0, code, logs)
		assert.Contains(t, logs, "started\n")
		assert.Regexp(t, `msg=ready target="cmd:sh -c sleep 3600 & exit 0" attempts=1 `, logs)
	})

	for _, tc := range stopSignalCodes {
		t.Run(tc.name+" while waiting exits 128+n", func(t *testing.T) {
			ct := b.run(t, "-v", "-timeout", "0", "-cmd", "sh -c 'sleep 0.01 & exit 1'", "tcp://127.0.0.1:1",
				"--", "echo", "must not run")
			poll(t, "a failed check", func() (bool, string) {
				logs := containerLogs(t, ct)
				return strings.Contains(logs, `msg="not ready"`), logs
			})
			require.NoError(t, ct.Kill(ctxFor(t, time.Minute), lifecycle.WithSignal(tc.name)))
			code, err := ct.Wait(ctxFor(t, 2*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, tc.code, code, "128+%d", int(tc.sig))
			logs := containerLogs(t, ct)
			assert.Contains(t, logs, `msg="interrupted while waiting" signal=`)
			assert.NotContains(t, logs, "must not run")
		})
	}
}

func TestDockerEntrypoint(t *testing.T) {
	b := newBench(t)
	network := "waitfor-test-" + randomSuffix()
	_, err := b.c.CreateNetwork(ctxFor(t, time.Minute), network)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.c.RemoveNetwork(ctxFor(t, time.Minute), network)) })

	t.Run("waits for db then execs", func(t *testing.T) {
		app := b.runWith(t, lifecycle.WithNetwork(network),
			lifecycle.WithCmd("-v", "-timeout", "0", "tcp://db:5432", "--", "echo", "started"))
		poll(t, "the app to check db", func() (bool, string) {
			logs := containerLogs(t, app)
			return strings.Contains(logs, `msg="not ready" target=tcp://db:5432`), logs
		})
		st, err := app.State(ctxFor(t, time.Minute))
		require.NoError(t, err)
		require.True(t, st.Running, "the app must still be waiting: db does not exist yet")
		assert.NotContains(t, containerLogs(t, app), "started")

		b.runWith(t, lifecycle.WithNetwork(network, "db"), lifecycle.WithEntrypoint("httpd"),
			lifecycle.WithCmd("-f", "-p", "5432", "-h", "/"))
		code, err := app.Wait(ctxFor(t, 2*time.Minute))
		require.NoError(t, err)
		logs := containerLogs(t, app)
		assert.Equal(t, 0, code, logs)
		assert.Contains(t, logs, "started\n")
		assert.Contains(t, logs, "msg=ready target=tcp://db:5432")
		assert.Contains(t, logs, "msg=exec command=/bin/echo")
	})

	t.Run("docker stop while waiting ends it with SIGTERM", func(t *testing.T) {
		app := b.run(t, "-timeout", "0", "tcp://127.0.0.1:1", "--", "echo", "started")
		poll(t, "the wait", func() (bool, string) {
			logs := containerLogs(t, app)
			return strings.Contains(logs, "msg=waiting"), logs
		})
		// Ignored, SIGTERM would leave docker stop to SIGKILL it after the
		// grace period: exit 137 instead of 143.
		require.NoError(t, app.Stop(ctxFor(t, time.Minute), lifecycle.WithGracePeriod(30*time.Second)))
		st, err := app.State(ctxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 143, st.ExitCode, "SIGTERM must end the wait (PID 1 gets no default handler)")
		assert.NotContains(t, containerLogs(t, app), "started")
	})
}
