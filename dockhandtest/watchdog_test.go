package dockhandtest_test

// The watchdog, proven with real test processes of testdata/watchdog:
// nomain has no TestMain, withmain calls dockhandtest.Main. Each test
// runs a busybox server of a spec of its own (DOCKHANDTEST_RUN), so what
// it asserts is its alone, and reads what the watchdogs did from their
// log (testhook.WatchdogLog) instead of waiting for a while.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

var noMainBin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// noMainBinary builds the test binary of testdata/watchdog/nomain once.
func noMainBinary(t *testing.T) string {
	t.Helper()
	go1 := testbench.GoTool(t)
	noMainBin.once.Do(func() {
		noMainBin.dir, noMainBin.err = os.MkdirTemp("", "dockhandtest-nomain")
		if noMainBin.err != nil {
			return
		}
		noMainBin.path = filepath.Join(noMainBin.dir, "nomain.test")
		noMainBin.out, noMainBin.err = exec.Command(go1, "test", "-c", "-o", noMainBin.path, "./testdata/watchdog/nomain").CombinedOutput()
	})
	require.NoError(t, noMainBin.err, "%s", noMainBin.out)
	return noMainBin.path
}

func removeNoMainBinary() {
	if noMainBin.dir != "" {
		_ = os.RemoveAll(noMainBin.dir)
	}
}

// watchdogChild is the environment of a testdata/watchdog process: its
// server runs img, with a spec of run's own; its watchdog logs to log.
func watchdogChild(img, run, log string) []string {
	return append(os.Environ(), "CI=true", "DOCKHANDTEST_IMAGE="+img, "DOCKHANDTEST_RUN="+run, "DOCKHANDTEST_WATCHDOG_LOG="+log)
}

// watchdogDone waits (bounded) until the watchdog of the test process pid
// ("" for any) logged that it is done, and returns its log lines.
func watchdogDone(t *testing.T, log, pid string) []string {
	t.Helper()
	prefix := "watchdog of " + pid
	var mine []string
	ok := assert.Eventually(t, func() bool {
		b, _ := os.ReadFile(log)
		mine = nil
		done := false
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.HasPrefix(l, prefix) {
				mine = append(mine, l)
				done = done || strings.Contains(l, ": done: ")
			}
		}
		return done
	}, 2*time.Minute, 50*time.Millisecond, "the watchdog of %q did not finish", pid)
	if !ok {
		b, _ := os.ReadFile(log)
		t.Fatalf("watchdog log:\n%s", b)
	}
	return mine
}

// removeServers removes, should a test stop early, the containers and
// holds of key (a key of the test's own).
func removeServers(c *lifecycle.Client, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cts, err := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelShared+"="+key))})
	if err == nil {
		for _, ct := range cts {
			_ = c.API().ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true})
		}
	}
	vols, err := c.API().VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelHolds+"="+key))})
	if err == nil {
		for _, v := range vols.Volumes {
			_ = c.API().VolumeRemove(ctx, v.Name, false)
		}
	}
}

// A test package without TestMain ends normally: `go test` returns (it
// does not wait for the watchdog), and the watchdog removes the server.
func TestWatchdogAfterNormalEnd(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	log := filepath.Join(t.TempDir(), "watchdog.log")
	ctx := testbench.CtxFor(t, 5*time.Minute)
	cmd := exec.CommandContext(ctx, testbench.GoTool(t), "test", "-count=1", "-v", "./testdata/watchdog/nomain")
	cmd.Env = watchdogChild(img, testbench.RandomName("end"), log)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	s := testbench.ServersIn(string(out))
	require.Len(t, s, 1, "%s", out)
	t.Cleanup(func() { removeServers(c, s[0].Key) })

	lines := watchdogDone(t, log, "")
	assert.Contains(t, strings.Join(lines, "\n"), "(last: true)", "%s", lines)
	assert.False(t, containerExists(t, c, s[0].ID), "the watchdog removed the server: %s", lines)
	testbench.NothingLeft(t, c, s[0].Key)
}

// A test process killed with SIGKILL: its watchdog (its child, in a
// session of its own, with nothing of the test's output open) removes
// the server.
func TestWatchdogAfterSIGKILL(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	log := filepath.Join(t.TempDir(), "watchdog.log")
	ch := startBlockedBinary(t, noMainBinary(t), watchdogChild(img, testbench.RandomName("kill"), log))
	t.Cleanup(func() { removeServers(c, ch.server.Key) })
	pid := ch.cmd.Process.Pid
	wd := childrenOf(t, pid)
	require.Len(t, wd, 1, "one watchdog")
	for fd := range 3 {
		target, err := os.Readlink("/proc/" + strconv.Itoa(wd[0]) + "/fd/" + strconv.Itoa(fd))
		require.NoError(t, err)
		assert.Equal(t, os.DevNull, target, "the watchdog's fd %d", fd)
	}
	assert.Equal(t, wd[0], statField(t, wd[0], 6), "the watchdog leads a session of its own")
	assert.True(t, containerExists(t, c, ch.server.ID))

	ch.kill()
	lines := watchdogDone(t, log, strconv.Itoa(pid))
	assert.Contains(t, strings.Join(lines, "\n"), "(last: true)", "%s", lines)
	assert.False(t, containerExists(t, c, ch.server.ID), "the watchdog removed the server: %s", lines)
	testbench.NothingLeft(t, c, ch.server.Key)
	assert.Eventually(t, func() bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(wd[0]))
		return err != nil
	}, time.Minute, 50*time.Millisecond, "the watchdog ended")
}

// Two test processes hold the server: the watchdog of the first one to
// die releases its hold only; the server stays for the other, whose
// watchdog removes it when it dies too.
func TestWatchdogKeepsServerOfLiveHolder(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	log := filepath.Join(t.TempDir(), "watchdog.log")
	env := watchdogChild(img, testbench.RandomName("two"), log)
	first := startBlockedBinary(t, noMainBinary(t), env)
	t.Cleanup(func() { removeServers(c, first.server.Key) })
	second := startBlockedBinary(t, noMainBinary(t), env)
	require.Equal(t, first.server.ID, second.server.ID, "one server for both")
	require.Len(t, testbench.HoldsLeft(t, c, first.server.Key), 2)

	first.kill()
	lines := watchdogDone(t, log, strconv.Itoa(first.cmd.Process.Pid))
	assert.Contains(t, strings.Join(lines, "\n"), "(last: false)", "%s", lines)
	assert.Len(t, testbench.HoldsLeft(t, c, first.server.Key), 1, "the second's hold")
	ins, err := c.API().ContainerInspect(context.Background(), first.server.ID)
	require.NoError(t, err, "the server stays while the second holds it")
	assert.True(t, ins.State.Running)

	second.kill()
	lines = watchdogDone(t, log, strconv.Itoa(second.cmd.Process.Pid))
	assert.Contains(t, strings.Join(lines, "\n"), "(last: true)", "%s", lines)
	assert.False(t, containerExists(t, c, first.server.ID), "the last watchdog removed it: %s", lines)
	testbench.NothingLeft(t, c, first.server.Key)
}

// With Main, the process releases its server itself: its watchdog finds
// nothing to do.
func TestWatchdogIdleAfterMain(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	log := filepath.Join(t.TempDir(), "watchdog.log")
	ctx := testbench.CtxFor(t, 5*time.Minute)
	cmd := exec.CommandContext(ctx, testbench.GoTool(t), "test", "-count=1", "-v", "./testdata/watchdog/withmain")
	cmd.Env = watchdogChild(img, testbench.RandomName("main"), log)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	s := testbench.ServersIn(string(out))
	require.Len(t, s, 1, "%s", out)
	t.Cleanup(func() { removeServers(c, s[0].Key) })
	assert.False(t, containerExists(t, c, s[0].ID), "Main removed it")

	lines := watchdogDone(t, log, "")
	require.Len(t, lines, 1, "%s", lines)
	assert.Contains(t, lines[0], "done: 0 hold(s) released")
	testbench.NothingLeft(t, c, s[0].Key)
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && statFieldOf(string(b), 4) == pid {
			out = append(out, p)
		}
	}
	return out
}

// statField is field n (1-based, as proc(5) counts) of /proc/pid/stat.
func statField(t *testing.T, pid, n int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	return statFieldOf(string(b), n)
}

func statFieldOf(stat string, n int) int {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(stat[i+1:]) // from field 3 on
	if n-3 >= len(f) || n < 3 {
		return -1
	}
	v, err := strconv.Atoi(f[n-3])
	if err != nil {
		return -1
	}
	return v
}

// A test binary started with the watchdog's variable but not as a
// watchdog (the variable leaked into a run) fails loudly instead of
// passing without running a test.
func TestWatchdogVariableLeakedFailsLoudly(t *testing.T) {
	cmd := exec.Command(noMainBinary(t), "-test.v")
	cmd.Env = append(os.Environ(), "DOCKHANDTEST_WATCHDOG=leaked")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Contains(t, string(out), "DOCKHANDTEST_WATCHDOG is set, but this process is no watchdog")
	assert.NotContains(t, string(out), "PASS")
}
