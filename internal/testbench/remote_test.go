//go:build linux

package testbench

import (
	"context"
	"fmt"
	"os"
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

// TestBenchLinkNames: veth names are unique per process and bench and fit
// the 15 characters of an interface name, even for the largest pid.
func TestBenchLinkNames(t *testing.T) {
	seen := map[string]bool{}
	for _, pid := range []int{1, 7, 250, 257, 4194304} {
		for _, seq := range []int{1, 2, 250, 9999} {
			h, p := benchLinkNames(pid, seq)
			assert.LessOrEqual(t, len(h), 15, h)
			assert.LessOrEqual(t, len(p), 15, p)
			assert.False(t, seen[h], "%s given twice", h)
			seen[h] = true
		}
	}
}

// TestFreeBenchSubnet: a subnet in which some interface has an address
// (another live bench's) is never chosen.
func TestFreeBenchSubnet(t *testing.T) {
	out := "2: eth0    inet 10.231.5.7/16 brd 10.0.255.255 scope global eth0\n" +
		"9: dhv1x1    inet 10.231.7.1/24 scope global dhv1x1\n" +
		"11: dhv2x1    inet 10.231.8.1/24 scope global dhv2x1\n"
	n, ok := freeBenchSubnet(out, 7)
	require.True(t, ok)
	assert.Equal(t, 9, n)
	n, _ = freeBenchSubnet(out, 249)
	assert.Equal(t, 249, n)
	n, _ = freeBenchSubnet(out, 5)
	assert.Equal(t, 6, n)
	var all strings.Builder
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&all, "3: x    inet 10.231.%d.1/24\n", i)
	}
	_, ok = freeBenchSubnet(all.String(), 0)
	assert.False(t, ok)
}

// TestRemoteBenchSparesOthersNetworks: a bench set up while a link of
// another owner has an address in the subnet it would pick takes another
// subnet and leaves that link alone, and the stale-bench sweep of a dead
// process's namespace deletes only the veth in that namespace.
func TestRemoteBenchSparesOthersNetworks(t *testing.T) {
	if err := RemoteBenchUsable("tcp"); err != nil {
		Unavailable(t, "%v", err)
	}
	other := fmt.Sprintf("dhtest%d", os.Getpid()%100000)
	require.NoError(t, run("ip", "link", "add", other, "type", "veth", "peer", "name", other+"p"))
	t.Cleanup(func() { _ = run("ip", "link", "del", other) })
	taken := os.Getpid() * 7 % 250
	require.NoError(t, run("ip", "addr", "add", fmt.Sprintf("10.231.%d.1/24", taken), "dev", other))

	b, err := SetupRemote("tcp", t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, fmt.Sprintf("10.231.%d.1", taken), b.HostIP)
	require.NoError(t, b.Close())
	assert.NoError(t, exec.Command("ip", "link", "show", other).Run(), "the other link is kept")

	// A dead process's namespace dhnet-PID-999 while a live link dhv999
	// (someone else's) exists: the sweep removes the namespace and the veth
	// pair in it, not dhv999 (the old sweep deleted dhv<N> by the name).
	live := "dhv999"
	require.NoError(t, run("ip", "link", "add", live, "type", "veth", "peer", "name", live+"p"))
	t.Cleanup(func() { _ = run("ip", "link", "del", live) })
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	ns := fmt.Sprintf("dhnet-%d-999", dead.Process.Pid)
	host, peer := benchLinkNames(dead.Process.Pid, 999)
	require.NoError(t, run("ip", "netns", "add", ns))
	t.Cleanup(func() { _ = run("ip", "netns", "del", ns); _ = run("ip", "link", "del", host) })
	require.NoError(t, run("ip", "link", "add", host, "type", "veth", "peer", "name", peer))
	require.NoError(t, run("ip", "link", "set", peer, "netns", ns))
	sweepStaleBenches(t.Logf)
	out, _ := exec.Command("ip", "netns", "list").Output()
	assert.NotContains(t, string(out), ns)
	assert.Error(t, exec.Command("ip", "link", "show", host).Run(), "the dead bench's veth pair is gone")
	assert.NoError(t, exec.Command("ip", "link", "show", live).Run(), "the live link is kept")
	assert.NoError(t, exec.Command("ip", "link", "show", other).Run(), "the other link is kept")
}

// TestRemoteBenchServesOnlyItsClient: the engine socket socat exposes on
// the bench's host address answers the client's namespace only; from
// another source address (here this machine's own side of the veth) the
// connection is refused by socat's range before reaching the engine.
func TestRemoteBenchServesOnlyItsClient(t *testing.T) {
	if err := RemoteBenchUsable("tcp"); err != nil {
		Unavailable(t, "%v", err)
	}
	b, err := SetupRemote("tcp", t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	ping := "http://" + b.HostIP + ":2375/_ping"
	out, err := b.Command(ctx, "curl", "-sS", "--max-time", "20", ping).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "OK", strings.TrimSpace(string(out)), "the client gets the engine")

	out, err = exec.CommandContext(ctx, "curl", "-sS", "--max-time", "20", "--interface", b.HostIP, ping).CombinedOutput()
	assert.Error(t, err, "another address is refused")
	assert.NotContains(t, string(out), "OK")
	out, err = exec.CommandContext(ctx, "curl", "-sS", "--max-time", "20", "--interface", b.HostIP, "-k", "https://"+b.HostIP+":2376/_ping").CombinedOutput()
	assert.Error(t, err, "another address is refused over TLS too")
	assert.NotContains(t, string(out), "OK")
}
