package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// A foreground Run returns the exit status as exec.Cmd.Run does: nil for
// 0, an *ExitError with the code and the last log lines otherwise, with
// the handle of the container, which is kept (unless WithAutoRemove).
func TestForegroundRunReturnsExitError(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)

	var out bytes.Buffer
	ok, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo fine"), lifecycle.WithStdout(&out))
	require.NoError(t, err, "exit 0 is no error")
	assert.Equal(t, "fine\n", out.String())
	require.NoError(t, ok.Remove(ctx))

	out.Reset()
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo last words; exit 3"), lifecycle.WithStdout(&out))
	require.NotNil(t, ctr, "the handle comes with the exit error")
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.Equal(t, "exited", ee.Status)
	assert.False(t, ee.OOMKilled)
	assert.Equal(t, []string{"last words"}, ee.Logs)
	assert.Equal(t, ctr.String(), ee.Container)
	assert.Equal(t, "last words\n", out.String())
	st, err := ctr.State(ctx)
	require.NoError(t, err, "the container is kept, as docker run keeps it")
	assert.Equal(t, "exited", st.Status)
	assert.Equal(t, 3, st.ExitCode)
	require.NoError(t, ctr.Remove(ctx))

	// WithAutoRemove: the engine removes it; the code still comes back.
	out.Reset()
	gone, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "exit 4"), lifecycle.WithAutoRemove(), lifecycle.WithStderr(&out))
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 4, ee.ExitCode)
	require.NotNil(t, gone)
	_, err = c.Container(ctx, gone.ID())
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "auto-removed")
}

// A Run that created the container and then failed removes it again and
// says so with a *RunError.
func TestFailedRunLeavesNothingBehind(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)

	// Created, but the start fails: the command is not in the image.
	name := "dockhand-nostart-" + c.Session()
	ctr, err := c.Run(ctx, img, lifecycle.WithName(name), lifecycle.WithCmd("/no/such/program"))
	assert.Nil(t, ctr)
	var re *lifecycle.RunError
	require.ErrorAs(t, err, &re)
	assert.False(t, re.Started)
	assert.True(t, re.Removed)
	assert.NotEmpty(t, re.ContainerID)
	assert.Equal(t, img, re.Image)
	assert.Contains(t, err.Error(), "start container")
	_, err = c.Container(ctx, name)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "the container that could not start is removed")

	// Started in the foreground, then the output stream fails.
	name = "dockhand-badstream-" + c.Session()
	ctr, err = c.Run(ctx, img, lifecycle.WithName(name), lifecycle.WithCmd("sh", "-c", "echo x; sleep 60"),
		lifecycle.WithStdout(failingWriter{}))
	assert.Nil(t, ctr)
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Started)
	assert.True(t, re.Removed)
	assert.ErrorIs(t, err, errWriterBroke, "the cause is kept")
	_, err = c.Container(ctx, name)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "the started container is removed")

	// A network that does not exist fails the create: nothing was made.
	ctr, err = c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithNetwork("dockhand-no-such-net-"+c.Session()))
	assert.Nil(t, ctr)
	require.Error(t, err)
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	assert.Empty(t, list, "no container of this session is left")
}

var errWriterBroke = errors.New("writer broke")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWriterBroke }

// Kill sends SIGKILL, or the signal WithSignal names; WithSignal serves
// Stop too.
func TestKillWithSignal(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	trap := `trap 'echo got HUP; exit 7' HUP; echo ready; while true; do sleep 0.1; done`
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", trap))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	require.NoError(t, waitfor.Wait(ctx, ctr.LogLine(regexp.MustCompile(`^ready$`), 1)))
	require.NoError(t, ctr.Kill(ctx, lifecycle.WithSignal("SIGHUP")))
	code, err := ctr.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, code, "the trap ran: the signal was SIGHUP")
	lines, err := ctr.LastLogLines(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"got HUP"}, lines)

	// Without WithSignal: SIGKILL, which no trap can catch.
	require.NoError(t, ctr.Start(ctx))
	require.NoError(t, ctr.Kill(ctx))
	code, err = ctr.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 137, code)

	// Stop with WithSignal sends that signal first (once the trap is set:
	// PID 1 ignores a signal it has no handler for).
	require.NoError(t, ctr.Start(ctx))
	require.NoError(t, waitfor.Wait(ctx, ctr.LogLine(regexp.MustCompile(`^ready$`), 3)))
	require.NoError(t, ctr.Stop(ctx, lifecycle.WithSignal("HUP"), lifecycle.WithGracePeriod(30*time.Second)))
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, st.ExitCode, "stopped by the trap, not killed after the grace period")
	require.NoError(t, ctr.Remove(ctx))

	err = ctr.Kill(ctx)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "a removed container cannot be killed")
}

// CreateNetwork's driver options and WithInternal reach the engine; IP
// gives the container's address on it; DisconnectNetwork takes it away.
func TestNetworkDriverIPAndDisconnect(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	name := "dockhand-net-" + c.Session()
	n, err := c.CreateNetwork(ctx, name, lifecycle.WithDriver("bridge"), lifecycle.WithInternal(),
		lifecycle.WithDriverOpts(map[string]string{"com.docker.network.driver.mtu": "1400"}),
		lifecycle.WithLabels(map[string]string{"team": "i9"}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveNetwork(context.Background(), name) })
	assert.Equal(t, "bridge", n.Driver)
	ins, err := c.API().NetworkInspect(ctx, name, network.InspectOptions{})
	require.NoError(t, err)
	assert.True(t, ins.Internal, "WithInternal")
	assert.Equal(t, "bridge", ins.Driver)
	assert.Equal(t, "1400", ins.Options["com.docker.network.driver.mtu"], "WithDriverOpts")
	assert.Equal(t, "i9", ins.Labels["team"])
	require.NotEmpty(t, ins.IPAM.Config)
	_, subnet, err := net.ParseCIDR(ins.IPAM.Config[0].Subnet)
	require.NoError(t, err)

	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(), lifecycle.WithNetwork(name))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	ip, err := ctr.IP(ctx, name)
	require.NoError(t, err)
	assert.True(t, subnet.Contains(net.ParseIP(ip)), "%s in %s", ip, subnet)
	first, err := ctr.IP(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, ip, first, "its only network")
	res, err := ctr.Exec(ctx, []string{"cat", "/sys/class/net/eth0/mtu"})
	require.NoError(t, err)
	assert.Equal(t, "1400", strings.TrimSpace(string(res.Stdout)), "the driver option took effect")

	require.NoError(t, c.DisconnectNetwork(ctx, name, ctr))
	_, err = ctr.IP(ctx, name)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "no address after the disconnect")
	err = c.DisconnectNetwork(ctx, name, ctr)
	assert.Error(t, err, "not connected any more")
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, c.RemoveNetwork(ctx, name))
}

// Network, Networks and CreateNetwork report the IPAM options the engine
// keeps for a network (those WithNetworkConfig set), and none for a
// network made without them.
func TestNetworkIPAMOptions(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	with, without := "dockhand-ipamopt-"+c.Session(), "dockhand-noipamopt-"+c.Session()
	opts := map[string]string{"dev.example.pool": "p1"}
	made, err := c.CreateNetwork(ctx, with, lifecycle.WithNetworkConfig(func(req *network.CreateOptions) {
		req.IPAM = &network.IPAM{Options: opts}
	}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveNetwork(context.Background(), with) })
	assert.Equal(t, opts, made.IPAMOptions, "CreateNetwork")
	plain, err := c.CreateNetwork(ctx, without)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveNetwork(context.Background(), without) })
	assert.Nil(t, plain.IPAMOptions)

	n, err := c.Network(ctx, with)
	require.NoError(t, err)
	assert.Equal(t, opts, n.IPAMOptions, "Network")
	n, err = c.Network(ctx, without)
	require.NoError(t, err)
	assert.Nil(t, n.IPAMOptions)
	list, err := c.Networks(ctx, lifecycle.WithFilter("name", with))
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, opts, list[0].IPAMOptions, "Networks")
	list, err = c.Networks(ctx, lifecycle.WithFilter("name", without))
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Nil(t, list[0].IPAMOptions)
}

// A volume's driver options reach the engine.
func TestVolumeDriverOpts(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	name := "dockhand-vol-" + c.Session()
	v, err := c.CreateVolume(ctx, name, lifecycle.WithDriver("local"),
		lifecycle.WithDriverOpts(map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveVolume(context.Background(), name, lifecycle.WithForce()) })
	assert.Equal(t, "local", v.Driver)
	ins, err := c.API().VolumeInspect(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, ins.Options)
	require.NoError(t, c.RemoveVolume(ctx, name))
}

// WithTimestamps prefixes each log line with its RFC 3339 time.
func TestLogsWithTimestamps(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	before := time.Now().Add(-time.Minute) // the engine's clock is this host's
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo one; echo two >&2"), lifecycle.WithStdout(&bytes.Buffer{}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	var out bytes.Buffer
	require.NoError(t, ctr.Logs(ctx, &out, lifecycle.WithTimestamps()))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2, out.String())
	var texts []string
	for _, l := range lines {
		ts, text, ok := strings.Cut(l, " ")
		require.True(t, ok, l)
		at, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err, "line %q starts with a timestamp", l)
		assert.True(t, at.After(before), "%s after %s", at, before)
		texts = append(texts, text)
	}
	assert.ElementsMatch(t, []string{"one", "two"}, texts)

	out.Reset()
	require.NoError(t, ctr.Logs(ctx, &out))
	assert.NotContains(t, out.String(), fmt.Sprint(time.Now().Year())+"-", "no timestamps unless asked")
}
