//go:build linux

package lifecycle

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCurrentOwner(t *testing.T) {
	me, err := currentOwner()
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), me.pid)
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(boot)), me.host.boot)
	link, err := os.Readlink("/proc/self/ns/pid")
	require.NoError(t, err)
	assert.Equal(t, "pid:["+strconv.FormatUint(me.host.pidns, 10)+"]", link)
	again, err := parseOwner(me.String())
	require.NoError(t, err)
	assert.Equal(t, me, again)
	assert.Equal(t, ownerAlive, probeOwner(me), "this very process runs")
}

// TestProbeOwner probes real processes: a running child, the same pid
// with another start time (a reused pid), an exited but unreaped child
// (zombie), and a reaped one.
func TestProbeOwner(t *testing.T) {
	me, err := currentOwner()
	require.NoError(t, err)
	identity := func(pid int) owner {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		require.NoError(t, err)
		_, start, err := parseStat(b)
		require.NoError(t, err)
		return owner{pid: pid, start: start, host: me.host}
	}
	cmd := exec.Command("sleep", "600")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	child := identity(cmd.Process.Pid)
	assert.Equal(t, ownerAlive, probeOwner(child))
	reused := child
	reused.start++
	assert.Equal(t, ownerGone, probeOwner(reused), "same pid, other start time: another process")

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	// Not reaped yet: a zombie until Wait. Poll its state (no time bound:
	// the kill is delivered asynchronously).
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(child.pid) + "/stat")
		require.NoError(t, err)
		if st, _, _ := parseStat(b); st == 'Z' {
			break
		}
	}
	assert.Equal(t, ownerGone, probeOwner(child), "an exited, unreaped process is gone")
	_ = cmd.Wait()
	assert.Equal(t, ownerGone, probeOwner(child), "a reaped process is gone")
}
