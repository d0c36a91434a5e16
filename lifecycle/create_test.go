package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// Create makes a container that has not started, connected to every
// network it names with its aliases (on API 1.41 the extra ones are
// connected before Create returns), labelled as ours even when a raw
// config function tried to replace the labels; Start starts it; Rename
// renames it; the listing finds it by label with its state and ports.
func TestCreateConnectRenameStartList(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	tag := fmt.Sprint(time.Now().UnixNano())
	n1, err := c.CreateNetwork(ctx, "dh-create-a-"+tag)
	require.NoError(t, err)
	n2, err := c.CreateNetwork(ctx, "dh-create-b-"+tag, lifecycle.WithNetworkConfig(func(o *network.CreateOptions) {
		o.Attachable = true
		o.Labels = map[string]string{"hook": "yes"} // ours are set again over this
	}))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.RemoveNetwork(context.Background(), n1.ID)
		_ = c.RemoveNetwork(context.Background(), n2.ID)
	})
	got, err := c.Network(ctx, n2.Name)
	require.NoError(t, err)
	assert.Equal(t, "yes", got.Labels["hook"])
	assert.Equal(t, "true", got.Labels[lifecycle.LabelManaged], "a network hook cannot drop the ownership labels")
	_, err = c.Network(ctx, "dh-no-such-network-"+tag)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)

	ct, err := c.Create(ctx, img, lifecycle.WithName("dh-create-"+tag), lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(),
		lifecycle.WithNetwork(n1.Name, "first"),
		lifecycle.WithLabels(map[string]string{"test.kind": "create"}),
		lifecycle.WithContainerConfig(func(cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) {
			cfg.Labels["test.hook"] = tag
			delete(cfg.Labels, lifecycle.LabelManaged) // ours are set again after the hook
			nc.EndpointsConfig[n2.Name] = &network.EndpointSettings{Aliases: []string{"second"}}
			hc.PortBindings = nat.PortMap{"80/tcp": {{HostPort: ""}}}
			cfg.ExposedPorts = nat.PortSet{"80/tcp": {}}
		}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ct.Remove(context.Background(), lifecycle.WithForce()) })
	st, err := ct.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "created", st.Status, "Create does not start")
	ins, err := ct.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, tag, ins.Config.Labels["test.hook"])
	assert.Equal(t, "true", ins.Config.Labels[lifecycle.LabelManaged], "a raw config cannot drop the ownership labels")
	assert.Equal(t, c.Session(), ins.Config.Labels[lifecycle.LabelSession])
	require.Contains(t, ins.NetworkSettings.Networks, n1.Name)
	require.Contains(t, ins.NetworkSettings.Networks, n2.Name, "the extra network is connected before the start")
	assert.Contains(t, ins.NetworkSettings.Networks[n1.Name].Aliases, "first")
	assert.Contains(t, ins.NetworkSettings.Networks[n2.Name].Aliases, "second")
	assert.Equal(t, "127.0.0.1", ins.HostConfig.PortBindings["80/tcp"][0].HostIP,
		"a binding without a host address from a raw HostConfig gets the client's bind address")

	require.NoError(t, ct.Rename(ctx, "dh-renamed-"+tag))
	assert.Equal(t, "dh-renamed-"+tag, ct.Name())
	err = ct.Rename(ctx, "bad name")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"bad name"`)

	require.NoError(t, waitfor.Wait(ctx, waitfor.Not(ct.Started())), "not started yet")
	require.NoError(t, ct.Start(ctx))
	require.NoError(t, waitfor.Wait(ctx, ct.Started(), ct.Ready()))

	list, err := c.Containers(ctx, lifecycle.WithFilter("label", "test.hook="+tag))
	require.NoError(t, err)
	require.Len(t, list, 1)
	sm := list[0]
	assert.Equal(t, "dh-renamed-"+tag, sm.Name)
	assert.Equal(t, "running", sm.State)
	assert.Equal(t, -1, sm.ExitCode)
	assert.Equal(t, "create", sm.Labels["test.kind"])
	require.Len(t, sm.Ports, 1)
	assert.True(t, strings.HasPrefix(sm.Ports[0], "127.0.0.1:") && strings.HasSuffix(sm.Ports[0], "->80/tcp"), sm.Ports[0])
	h := sm.Container()
	assert.Equal(t, ct.ID(), h.ID())
	require.NoError(t, h.Stop(ctx, lifecycle.WithGracePeriod(0)))
	list, err = c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", "test.hook="+tag))
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "exited", list[0].State)
	assert.Contains(t, []int{137, 143}, list[0].ExitCode, "the exit code read from the status")
	require.NoError(t, h.Remove(ctx))

	// A Summary made by hand is no handle.
	err = lifecycle.Summary{ID: ct.ID()}.Container().Start(ctx)
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
}

// Create refuses the streams of a foreground run before any engine call.
func TestCreateRejectsForegroundStreams(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	_, err := c.Create(ctx, "dockhand.test/busybox:1", lifecycle.WithStdout(&strings.Builder{}))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), "use Run")
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	assert.Empty(t, list, "a failed Create leaves nothing behind")
}

// A failed network connect of Create (the engine fails the connect of
// the second network) removes the container: nothing is left.
func TestCreateFailedConnectLeavesNothing(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	tag := fmt.Sprint(time.Now().UnixNano())
	n1, err := c.CreateNetwork(ctx, "dh-cf1-"+tag)
	require.NoError(t, err)
	n2, err := c.CreateNetwork(ctx, "dh-cf2-"+tag)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.RemoveNetwork(context.Background(), n1.ID)
		_ = c.RemoveNetwork(context.Background(), n2.ID)
	})
	p.Inject(testbench.Rule{Method: "POST", Path: "/networks/*/connect", Action: testbench.Fail500})
	_, err = c.Create(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithNetwork(n1.Name), lifecycle.WithNetwork(n2.Name))
	p.Clear()
	var re *lifecycle.RunError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Removed)
	assert.False(t, re.Started)
	assert.Contains(t, err.Error(), "connect network "+n2.Name)
	assert.True(t, strings.HasPrefix(err.Error(), "create "+img+": container "), err.Error())
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	assert.Empty(t, list)
}

// WithAllInterfaces leaves a binding without host address empty: the
// engine binds all interfaces, as the docker CLI does.
func TestAllInterfacesLeavesHostIPEmpty(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ct, err := c.Create(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPorts("80"), lifecycle.WithAllInterfaces())
	require.NoError(t, err)
	defer func() { require.NoError(t, ct.Remove(ctx)) }()
	ins, err := ct.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, "", ins.HostConfig.PortBindings["80/tcp"][0].HostIP)
}

// The compose readiness semantics as conditions: Healthy with
// WithFailUnhealthy fails at once on unhealthy with an *ExitError; Ready
// waits for running (no healthcheck) and, with WithExitZero, takes an exit
// with code 0; Exited(0) is service_completed_successfully.
func TestComposeConditions(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	sick, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo sick here; exec sleep 600"), lifecycle.WithInit(),
		lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
			cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "false"}, Interval: 200 * time.Millisecond, Retries: 1}
		}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sick.Remove(context.Background(), lifecycle.WithForce()) })
	err = waitfor.Wait(ctx, sick.Healthy(lifecycle.WithFailUnhealthy()))
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "unhealthy", ee.Status)
	assert.Equal(t, -1, ee.ExitCode)
	assert.Equal(t, []string{"sick here"}, ee.Logs)
	assert.Contains(t, err.Error(), "is unhealthy")
	err = waitfor.Wait(ctx, sick.Ready(lifecycle.WithFailUnhealthy()))
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "unhealthy", ee.Status)
	// Without the option an unhealthy container is waited for.
	short, cancel := context.WithTimeout(ctx, time.Second)
	err = waitfor.Wait(short, sick.Healthy())
	cancel()
	assert.False(t, errors.As(err, &ee), "no ExitError: it waited")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	oneShot, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo done"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = oneShot.Remove(context.Background(), lifecycle.WithForce()) })
	require.NoError(t, waitfor.Wait(ctx, oneShot.Exited(0), oneShot.Ready(lifecycle.WithExitZero()), oneShot.Started()))
	err = waitfor.Wait(ctx, oneShot.Ready())
	require.ErrorAs(t, err, &ee, "without WithExitZero an exit is a failure")
	assert.Equal(t, 0, ee.ExitCode)

	failing, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo migration failed; exit 3"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = failing.Remove(context.Background(), lifecycle.WithForce()) })
	err = waitfor.Wait(ctx, failing.Exited(0))
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.True(t, slices.Contains(ee.Logs, "migration failed"), "%q", ee.Logs)
	err = waitfor.Wait(ctx, failing.Ready(lifecycle.WithExitZero()))
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)

	// A restarting container is waited for until it runs.
	flappy, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "test -e /tmp/again || { touch /tmp/again; exit 1; }; exec sleep 600"),
		lifecycle.WithInit(), lifecycle.WithRestart("on-failure"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = flappy.Remove(context.Background(), lifecycle.WithForce()) })
	require.NoError(t, waitfor.Wait(ctx, flappy.Ready()))
	st, err := flappy.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
	require.NoError(t, flappy.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, sick.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, oneShot.Remove(ctx))
	require.NoError(t, failing.Remove(ctx))
}

// WithPlatform reaches the engine's create: the local image's own
// platform runs, another one is refused (as docker run --platform).
func TestCreateWithPlatform(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ii, err := c.API().ImageInspect(ctx, img)
	require.NoError(t, err)
	own := ii.Os + "/" + ii.Architecture
	ct, err := c.Create(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPlatform(own), lifecycle.WithPull(lifecycle.PullNever))
	require.NoError(t, err, own)
	require.NoError(t, ct.Remove(ctx))
	other := "linux/s390x"
	if own == other {
		other = "linux/amd64"
	}
	_, err = c.Create(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPlatform(other), lifecycle.WithPull(lifecycle.PullNever))
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	assert.Empty(t, list)
}
