package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// volumeStack is a service on an image with a VOLUME that nothing maps:
// its first start writes the MARK it was created with into the volume.
const volumeStack = `services:
  db:
    image: ${POSTGRES_IMAGE}
    entrypoint: ["sh", "-c", "[ -f /var/lib/postgresql/data/mark ] || echo $$MARK > /var/lib/postgresql/data/mark; exec sleep 600"]
    environment:
      MARK: ${MARK}
`

// Recreate keeps the container's anonymous volumes, as the CLI does: the
// data an image's VOLUME holds survives a config change, the new container
// mounts the very same volume (no second one is made, the old one is not
// left behind), says whom it replaced in com.docker.compose.replace, and
// Down with WithRemoveVolumes removes the volume with the container.
func TestRecreateKeepsAnonymousVolumes(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(volumeStack), 0o644))
	name := projectName(c, "anonvol")
	load := func(mark string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name),
			WithVariables(append(stackEnv(t, c, true), "MARK="+mark)...))
		require.NoError(t, err)
		return New(c, p)
	}
	s1 := load("first")
	downAtEnd(t, s1)
	require.NoError(t, s1.Up(ctx, WithGracePeriod(time.Second)))
	before := dbContainer(ctx, t, c, name)
	vol := anonVolume(t, before)
	require.Eventually(t, func() bool { return readMark(ctx, c, name) == "first" }, time.Minute, 200*time.Millisecond)

	s2 := load("second") // environment changed: recreate
	require.NoError(t, s2.Up(ctx, WithGracePeriod(time.Second)))
	after := dbContainer(ctx, t, c, name)
	require.NotEqual(t, before.ID, after.ID, "not recreated")
	assert.Equal(t, "db-1", after.Config.Labels[LabelReplace])
	assert.Equal(t, vol, anonVolume(t, after), "the new container mounts the old one's volume")
	assert.Contains(t, after.Config.Env, "MARK=second")
	require.Eventually(t, func() bool { return readMark(ctx, c, name) != "" }, time.Minute, 200*time.Millisecond)
	assert.Equal(t, "first", readMark(ctx, c, name), "the volume's data survived the recreate")
	_, err := c.Container(ctx, before.ID)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "old container left")

	// A second recreate inherits it again.
	s3 := load("third")
	require.NoError(t, s3.Up(ctx, WithGracePeriod(time.Second)))
	third := dbContainer(ctx, t, c, name)
	require.NotEqual(t, after.ID, third.ID)
	assert.Equal(t, vol, anonVolume(t, third))

	require.NoError(t, s3.Down(ctx, WithRemoveVolumes(), WithGracePeriod(time.Second)))
	_, err = c.API().VolumeInspect(ctx, vol)
	assert.Error(t, err, "anonymous volume %s left after Down with WithRemoveVolumes", vol)
	if err == nil {
		_ = c.API().VolumeRemove(ctx, vol, true)
	}
}

// Down keeps the anonymous volumes of the containers it removes, data and
// all, as docker compose down without -v does; WithRemoveVolumes (down -v)
// removes them.
func TestDownKeepsAnonymousVolumesUnlessRemoveVolumes(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(volumeStack), 0o644))
	name := projectName(c, "downanon")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name),
		WithVariables(append(stackEnv(t, c, true), "MARK=kept")...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)

	// Without WithRemoveVolumes: the volume and its data stay.
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	vol := anonVolume(t, dbContainer(ctx, t, c, name))
	t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), vol, true) })
	require.Eventually(t, func() bool { return readMark(ctx, c, name) == "kept" }, time.Minute, 200*time.Millisecond)
	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second)))
	_, err = c.Container(ctx, name+"-db-1")
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "Down left the container")
	_, err = c.API().VolumeInspect(ctx, vol)
	require.NoError(t, err, "Down without WithRemoveVolumes removed anonymous volume %s", vol)
	var out strings.Builder
	_, err = c.Run(ctx, testbench.BusyboxImage(t, c), lifecycle.WithCmd("cat", "/v/mark"),
		lifecycle.WithVolumes(vol+":/v:ro"), lifecycle.WithAutoRemove(), lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "kept", strings.TrimSpace(out.String()), "the data in the kept volume")
	require.NoError(t, c.RemoveVolume(ctx, vol))

	// With it: the volume goes with the container.
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	vol2 := anonVolume(t, dbContainer(ctx, t, c, name))
	require.NotEqual(t, vol, vol2)
	require.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithGracePeriod(time.Second)))
	_, err = c.API().VolumeInspect(ctx, vol2)
	if !assert.Error(t, err, "Down with WithRemoveVolumes left anonymous volume %s", vol2) {
		_ = c.API().VolumeRemove(ctx, vol2, true)
	}
}

func dbContainer(ctx context.Context, t *testing.T, c *lifecycle.Client, project string) container.InspectResponse {
	t.Helper()
	h, err := c.Container(ctx, project+"-db-1")
	require.NoError(t, err)
	ins, err := h.Inspect(ctx)
	require.NoError(t, err)
	return ins
}

// anonVolume is the one volume the container mounts at the image's VOLUME.
func anonVolume(t *testing.T, ins container.InspectResponse) string {
	t.Helper()
	for _, m := range ins.Mounts {
		if m.Destination == "/var/lib/postgresql/data" {
			require.Equal(t, "volume", string(m.Type))
			return m.Name
		}
	}
	require.FailNow(t, "no volume at /var/lib/postgresql/data", "%+v", ins.Mounts)
	return ""
}

func readMark(ctx context.Context, c *lifecycle.Client, project string) string {
	h, err := c.Container(ctx, project+"-db-1")
	if err != nil {
		return ""
	}
	res, err := h.Exec(ctx, []string{"cat", "/var/lib/postgresql/data/mark"})
	if err != nil || res.ExitCode != 0 {
		return ""
	}
	return strings.TrimSpace(string(res.Stdout))
}

const scaleStack = `services:
  app:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "600"]
    deploy:
      replicas: ${N}
`

// Scaling down removes the highest numbers and scaling up does not refill
// a gap: the names below are what docker compose v2.40.3 gives for the
// same steps (4 replicas, app-2 removed by hand, then 3, 2, 3).
func TestScaleKeepsNumbersLikeCLI(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(scaleStack), 0o644))
	name := projectName(c, "scale")
	up := func(n string) []string {
		t.Helper()
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "N="+n)...))
		require.NoError(t, err)
		s := New(c, p)
		require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
		ps, err := s.Ps(ctx, WithAll())
		require.NoError(t, err)
		var names []string
		for _, ct := range ps {
			names = append(names, strings.TrimPrefix(ct.Name, name+"-"))
		}
		return names
	}
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "N=1")...))
	require.NoError(t, err)
	downAtEnd(t, New(c, p))

	assert.Equal(t, []string{"app-1", "app-2", "app-3", "app-4"}, up("4"))
	h, err := c.Container(ctx, name+"-app-2")
	require.NoError(t, err)
	require.NoError(t, h.Remove(ctx, lifecycle.WithForce()))
	assert.Equal(t, []string{"app-1", "app-3", "app-4"}, up("3"), "the gap at 2 is not refilled")
	assert.Equal(t, []string{"app-1", "app-3"}, up("2"), "the highest number goes")
	assert.Equal(t, []string{"app-1", "app-3", "app-4"}, up("3"), "a new replica takes the number after the highest")
}

// Down leaves one-off containers (Run) alone, as the CLI does, and the
// network they use with them; WithRemoveOrphans removes them too.
func TestDownLeavesOneOffContainers(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(scaleStack), 0o644))
	name := projectName(c, "oneoff")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "N=1")...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	runDone := make(chan error, 1)
	go func() {
		code, err := s.Run(ctx, "app", []string{"sleep", "600"})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit code %d", code)
		}
		runDone <- err
	}()
	oneoffs := func() []lifecycle.Summary {
		cts, err := c.Containers(ctx, lifecycle.WithFilter("label", LabelProject+"="+name), lifecycle.WithFilter("label", LabelOneoff+"=True"))
		require.NoError(t, err)
		return cts
	}
	require.Eventually(t, func() bool { cts := oneoffs(); return len(cts) == 1 && cts[0].State == "running" }, time.Minute, 100*time.Millisecond)

	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second)))
	_, err = c.Container(ctx, name+"-app-1")
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "the service's container is removed")
	left := oneoffs()
	require.Len(t, left, 1, "the running one-off container is left")
	assert.Equal(t, "running", left[0].State)
	_, err = c.Network(ctx, name+"_default")
	assert.NoError(t, err, "the network the one-off uses is kept")

	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second), WithRemoveOrphans()))
	assert.Empty(t, oneoffs(), "WithRemoveOrphans removes the one-off")
	select {
	case err := <-runDone:
		assert.Error(t, err, "Run of a removed container: not a clean exit")
	case <-ctx.Done():
		t.Fatal("Run did not return after its container was removed")
	}
	noProjectLeft(t, c, name)
}

const restartStack = `services:
  db:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "600"]
    environment:
      MARK: ${MARK}
  app:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_started
        restart: true
  other:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "600"]
    depends_on: [db]
  sidecar:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "600"]
    network_mode: service:db
`

// When db is recreated, a dependent with depends_on.restart: true is
// restarted (same container, started again), one without it is left
// running, and a network_mode: service:db dependent follows the new db
// container (it is recreated into the new container's network namespace).
func TestRecreateRestartsDependents(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(restartStack), 0o644))
	name := projectName(c, "deprestart")
	load := func(mark string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "MARK="+mark)...))
		require.NoError(t, err)
		return New(c, p)
	}
	inspect := func(svc string) container.InspectResponse {
		t.Helper()
		h, err := c.Container(ctx, name+"-"+svc+"-1")
		require.NoError(t, err)
		ins, err := h.Inspect(ctx)
		require.NoError(t, err)
		return ins
	}
	s := load("1")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	db0, app0, other0, side0 := inspect("db"), inspect("app"), inspect("other"), inspect("sidecar")
	assert.Equal(t, "container:"+db0.ID, string(side0.HostConfig.NetworkMode))

	require.NoError(t, load("2").Up(ctx, WithGracePeriod(time.Second)))
	db1, app1, other1, side1 := inspect("db"), inspect("app"), inspect("other"), inspect("sidecar")
	require.NotEqual(t, db0.ID, db1.ID, "db not recreated")

	assert.Equal(t, app0.ID, app1.ID, "app is restarted, not recreated")
	assert.True(t, app1.State.Running)
	assert.NotEqual(t, app0.State.StartedAt, app1.State.StartedAt, "app (depends_on.restart) was not restarted")

	assert.Equal(t, other0.ID, other1.ID)
	assert.Equal(t, other0.State.StartedAt, other1.State.StartedAt, "other (no restart) was restarted")

	assert.True(t, side1.State.Running)
	assert.Equal(t, "container:"+db1.ID, string(side1.HostConfig.NetworkMode), "sidecar does not follow the new db")
}

const resourceStack = `services:
  app:
    image: ${BUSYBOX_IMAGE}
    entrypoint: ["sh", "-c", "[ -f /data/mark ] || echo $$TIER > /data/mark; exec sleep 600"]
    environment:
      TIER: ${TIER}
    networks: [back]
    volumes: [data:/data]
networks:
  back:
    labels:
      tier: ${NTIER}
volumes:
  data:
    labels:
      tier: ${VTIER}
`

// A project network whose configuration changed is recreated and the
// project's kept containers are reconnected to it (as the CLI does).
func TestNetworkConfigChangeRecreatesIt(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(resourceStack), 0o644))
	name := projectName(c, "netchange")
	load := func(ntier string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "TIER=a", "VTIER=a", "NTIER="+ntier)...))
		require.NoError(t, err)
		return New(c, p)
	}
	s := load("a")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	net0, err := c.Network(ctx, name+"_back")
	require.NoError(t, err)
	h, err := c.Container(ctx, name+"-app-1")
	require.NoError(t, err)

	require.NoError(t, load("b").Up(ctx, WithGracePeriod(time.Second)))
	net1, err := c.Network(ctx, name+"_back")
	require.NoError(t, err)
	assert.NotEqual(t, net0.ID, net1.ID, "network not recreated")
	assert.Equal(t, "b", net1.Labels["tier"])
	assert.NotEqual(t, net0.Labels[LabelConfigHash], net1.Labels[LabelConfigHash])
	ins, err := h.Inspect(ctx)
	require.NoError(t, err, "the container was kept")
	assert.True(t, ins.State.Running)
	ep := ins.NetworkSettings.Networks[name+"_back"]
	require.NotNil(t, ep, "not reconnected: %v", ins.NetworkSettings.Networks)
	assert.Equal(t, net1.ID, ep.NetworkID)
	assert.Contains(t, ep.Aliases, "app")
	_, err = c.Network(ctx, net0.ID)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound, "old network left")

	// Unchanged: nothing recreated.
	require.NoError(t, load("b").Up(ctx, WithGracePeriod(time.Second)))
	net2, err := c.Network(ctx, name+"_back")
	require.NoError(t, err)
	assert.Equal(t, net1.ID, net2.ID)
}

// A network with the project's name but another project's label is an
// error, and is left as it is.
func TestNetworkOfAnotherProjectIsNotAdopted(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(resourceStack), 0o644))
	name := projectName(c, "netother")
	other, err := c.CreateNetwork(ctx, name+"_back", lifecycle.WithLabels(map[string]string{LabelProject: "someone-else", LabelNetwork: "back"}))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.RemoveNetwork(context.Background(), other.ID)) })
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "TIER=a", "VTIER=a", "NTIER=a")...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	err = s.Up(ctx, WithGracePeriod(time.Second))
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	assert.Contains(t, err.Error(), `project "someone-else"`)
	assert.Contains(t, err.Error(), name+"_back")
	still, err := c.Network(ctx, name+"_back")
	require.NoError(t, err)
	assert.Equal(t, other.ID, still.ID)
	assert.Equal(t, "someone-else", still.Labels[LabelProject])
	cts, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", LabelProject+"="+name))
	require.NoError(t, err)
	assert.Empty(t, cts, "containers created despite the error")
}

// A project volume whose configuration changed makes Up fail, saying what
// changed and which option recreates it, and keeps its data; with
// WithRecreateVolumes it is recreated (empty) with the new configuration.
func TestVolumeConfigChange(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(resourceStack), 0o644))
	name := projectName(c, "volchange")
	load := func(tier, vtier string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(append(stackEnv(t, c, false), "TIER="+tier, "VTIER="+vtier, "NTIER=a")...))
		require.NoError(t, err)
		return New(c, p)
	}
	mark := func() string {
		h, err := c.Container(ctx, name+"-app-1")
		if err != nil {
			return ""
		}
		res, err := h.Exec(ctx, []string{"cat", "/data/mark"})
		if err != nil || res.ExitCode != 0 {
			return ""
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	s := load("first", "a")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	require.Eventually(t, func() bool { return mark() == "first" }, time.Minute, 100*time.Millisecond)

	err := load("second", "b").Up(ctx, WithGracePeriod(time.Second))
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	assert.Contains(t, err.Error(), name+"_data")
	assert.Contains(t, err.Error(), `label tier="a", configured "b"`)
	assert.Contains(t, err.Error(), "WithRecreateVolumes")
	v, err := c.Volume(ctx, name+"_data")
	require.NoError(t, err)
	assert.Equal(t, "a", v.Labels["tier"], "volume changed despite the error")
	assert.Equal(t, "first", mark(), "data lost despite the error")

	require.NoError(t, load("second", "b").Up(ctx, WithGracePeriod(time.Second), WithRecreateVolumes()))
	v, err = c.Volume(ctx, name+"_data")
	require.NoError(t, err)
	assert.Equal(t, "b", v.Labels["tier"])
	require.Eventually(t, func() bool { return mark() != "" }, time.Minute, 100*time.Millisecond)
	assert.Equal(t, "second", mark(), "the recreated volume is a new, empty one")
}

// Recreate hands anonymous volumes over across tools, compared with the
// CLI: a container the CLI created is recreated by Up with the same
// volume and com.docker.compose.replace as the CLI writes it, and the CLI
// recreating Up's container keeps that volume too.
func TestRecreateAnonymousVolumesInterop(t *testing.T) {
	c := testbench.Client(t)
	for _, rel := range composeReleases() {
		t.Run("v"+rel.version, func(t *testing.T) {
			if rel.missing != "" {
				testbench.Unavailable(t, "compose CLI v%s: %s", rel.version, rel.missing)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(volumeStack), 0o644))
			name := projectName(c, "anonx"+strings.SplitN(rel.version, ".", 2)[0])
			env := func(mark string) []string { return append(stackEnv(t, c, true), "MARK="+mark) }
			var vol string
			t.Cleanup(func() {
				_ = New(c, mustLoad(t, dir, name, env("x"))).Down(context.Background(), WithRemoveVolumes(), WithGracePeriod(time.Second))
				if vol != "" {
					_ = c.API().VolumeRemove(context.Background(), vol, true) // the CLI's recreate leaves it, as it always does
				}
				noProjectLeft(t, c, name)
			})
			rel.run(t, dir, name, env("first"), "up", "-d")
			cli := dbContainer(ctx, t, c, name)
			vol = anonVolume(t, cli)
			require.Eventually(t, func() bool { return readMark(ctx, c, name) == "first" }, time.Minute, 200*time.Millisecond)

			require.NoError(t, New(c, mustLoad(t, dir, name, env("second"))).Up(ctx, WithGracePeriod(time.Second)))
			ours := dbContainer(ctx, t, c, name)
			require.NotEqual(t, cli.ID, ours.ID)
			assert.Equal(t, vol, anonVolume(t, ours))
			assert.Equal(t, "db-1", ours.Config.Labels[LabelReplace])
			require.Eventually(t, func() bool { return readMark(ctx, c, name) != "" }, time.Minute, 200*time.Millisecond)
			assert.Equal(t, "first", readMark(ctx, c, name))

			rel.run(t, dir, name, env("third"), "up", "-d")
			again := dbContainer(ctx, t, c, name)
			require.NotEqual(t, ours.ID, again.ID)
			assert.Equal(t, vol, anonVolume(t, again), "the CLI keeps the volume of Up's container")
			assert.Equal(t, again.Config.Labels[LabelReplace], ours.Config.Labels[LabelReplace], "replace label as the CLI writes it")
			require.Eventually(t, func() bool { return readMark(ctx, c, name) != "" }, time.Minute, 200*time.Millisecond)
			assert.Equal(t, "first", readMark(ctx, c, name))
		})
	}
}

func mustLoad(t *testing.T, dir, name string, env []string) *types.Project {
	t.Helper()
	p, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName(name), WithVariables(env...))
	require.NoError(t, err)
	return p
}
