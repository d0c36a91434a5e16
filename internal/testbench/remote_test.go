//go:build linux

package testbench

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRemoteBenchLeavesNothing: after Close, the namespace, the veth pair,
// socat or sshd and every process started in the namespace are gone, even
// one that would have run for minutes (a hung child).
func TestRemoteBenchLeavesNothing(t *testing.T) {
	for _, kind := range RemoteKinds {
		t.Run(kind, func(t *testing.T) {
			if err := RemoteBenchUsable(kind); err != nil {
				Unavailable(t, "%v", err)
			}
			b, err := SetupRemote(kind, t.TempDir())
			require.NoError(t, err)
			hung := b.Command(context.Background(), "sleep", "300")
			require.NoError(t, hung.Start())
			go func() { _ = hung.Wait() }()
			var pids []int
			for _, p := range b.procs {
				pids = append(pids, p.Process.Pid)
			}
			deadline := time.Now().Add(10 * time.Second)
			var inNS []int
			for len(inNS) == 0 && time.Now().Before(deadline) { // ip netns exec has to exec sleep first
				out, err := exec.Command("ip", "netns", "pids", b.NS).Output()
				require.NoError(t, err)
				inNS = nil
				for _, f := range strings.Fields(string(out)) {
					pid, _ := strconv.Atoi(f)
					inNS = append(inNS, pid)
				}
				time.Sleep(10 * time.Millisecond)
			}
			require.NotEmpty(t, inNS, "the hung process runs in the namespace")
			pids = append(pids, inNS...)
			ns, link := b.NS, b.hostLink

			require.NoError(t, b.Close())
			for _, pid := range pids {
				// The hung one is reaped by its Wait above: give it the time to.
				err := syscall.Kill(pid, 0)
				for end := time.Now().Add(5 * time.Second); err == nil && time.Now().Before(end); err = syscall.Kill(pid, 0) {
					time.Sleep(10 * time.Millisecond)
				}
				assert.ErrorIs(t, err, syscall.ESRCH, "process %d is still there", pid)
			}
			out, _ := exec.Command("ip", "netns", "list").Output()
			assert.NotContains(t, string(out), ns)
			assert.Error(t, exec.Command("ip", "link", "show", link).Run(), "veth %s is gone", link)
			require.NoError(t, b.Close(), "a second Close is harmless")
		})
	}
}
