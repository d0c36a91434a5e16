package compose

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// stackEnv points the stack's image variables at the offline stand-ins.
func stackEnv(t *testing.T, c *lifecycle.Client, needDB bool) []string {
	env := []string{"BUSYBOX_IMAGE=" + testbench.BusyboxImage(t, c)}
	if needDB {
		env = append(env,
			"POSTGRES_IMAGE="+testbench.RequireImage(t, c, testbench.Postgres),
			"REDIS_IMAGE="+testbench.RequireImage(t, c, testbench.Redis))
	}
	return env
}

// projectName is unique per test and session, so packages can run in parallel.
func projectName(c *lifecycle.Client, what string) string {
	return fmt.Sprintf("dh-%s-%s", what, c.Session()[:8])
}

// noProjectLeft fails if anything labelled with the project is left.
func noProjectLeft(t *testing.T, c *lifecycle.Client, project string) {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", LabelProject+"="+project))
	cts, err := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	nets, err := c.API().NetworkList(ctx, network.ListOptions{Filters: f})
	require.NoError(t, err)
	vols, err := c.API().VolumeList(ctx, volume.ListOptions{Filters: f})
	require.NoError(t, err)
	assert.Empty(t, cts, "containers of project %s left", project)
	assert.Empty(t, nets, "networks of project %s left", project)
	assert.Empty(t, vols.Volumes, "volumes of project %s left", project)
}

// downAtEnd takes the stack down when the test ends, whatever happened.
func downAtEnd(t *testing.T, s *Stack) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		assert.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithRemoveOrphans(), WithRemoveImages(), WithGracePeriod(2*time.Second)))
		noProjectLeft(t, s.c, s.p.Name)
	})
}

func TestStackUpWaitIdempotentDown(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := projectName(c, "stack")
	extraTag := name + "-app:extra"
	p, err := Load(ctx, WithWorkingDir("testdata/stack"), WithProjectName(name),
		WithVariables(append(stackEnv(t, c, true), "APP_EXTRA_TAG="+extraTag)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	// down --rmi removes the service's image, not its build.tags: the
	// test does (the leak check would find the image still tagged).
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), extraTag) })

	var prog testbench.Buffer
	start := time.Now()
	require.NoError(t, s.Up(ctx, WithWait(), WithWaitTimeout(3*time.Minute), WithProgress(&prog)), "progress:\n%s", prog.String())
	t.Logf("up --wait took %v\n%s", time.Since(start), prog.String())

	// The one-shot migration ran before app; app waited for healthy db and cache.
	out := prog.String()
	assert.Contains(t, out, "Container "+name+"-db-1  Healthy")
	assert.Contains(t, out, "Container "+name+"-cache-1  Healthy")
	assert.Contains(t, out, "Container "+name+"-migrate-1  Exited")
	testbench.InOrder(t, out, name+"-migrate-1  Exited", name+"-app-1  Started")
	testbench.InOrder(t, out, name+"-db-1  Healthy", name+"-migrate-1  Started")
	assert.Contains(t, out, "Image "+name+"-app  Built")
	// build.tags are the build's own tags: recorded on the image, so a
	// Cleanup of this session removes them too.
	built, err := c.InspectImage(ctx, name+"-app")
	require.NoError(t, err)
	extra, err := c.InspectImage(ctx, extraTag)
	require.NoError(t, err)
	assert.Equal(t, built.ID, extra.ID)
	assert.Contains(t, strings.Fields(extra.Labels[lifecycle.LabelBuildTags]), extraTag)

	ps, err := s.Ps(ctx)
	require.NoError(t, err)
	var got []string
	for _, sc := range ps {
		got = append(got, fmt.Sprintf("%s-%d:%s/%s", sc.Service, sc.Number, sc.State, sc.Health))
	}
	assert.Equal(t, []string{"app-1:running/", "cache-1:running/healthy", "db-1:running/healthy", "web-1:running/", "web-2:running/"}, got)
	all, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	require.Len(t, all, 6)
	for _, sc := range all {
		if sc.Service == "migrate" {
			assert.Equal(t, "exited", sc.State)
			assert.Equal(t, 0, sc.ExitCode)
		}
	}

	// Ports bind to loopback by default.
	addr, err := s.Port(ctx, "db", "5432")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)

	// What the service says reached the container.
	ins, err := c.API().ContainerInspect(ctx, name+"-app-1")
	require.NoError(t, err)
	assert.Equal(t, "app-host", ins.Config.Hostname)
	assert.Equal(t, "/srv", ins.Config.WorkingDir)
	assert.Contains(t, ins.Config.Env, "GREETING=from-dotenv")
	assert.Contains(t, ins.Config.Env, "MODE=override")
	assert.Contains(t, ins.HostConfig.ExtraHosts, "somehost:10.1.2.3")
	assert.Subset(t, []string{"NET_ADMIN", "CAP_NET_ADMIN"}, []string(ins.HostConfig.CapAdd))
	assert.Contains(t, ins.HostConfig.Tmpfs, "/scratch")
	require.NotNil(t, ins.HostConfig.Init)
	assert.True(t, *ins.HostConfig.Init)
	l := ins.Config.Labels
	assert.Equal(t, name, l[LabelProject])
	assert.Equal(t, "app", l[LabelService])
	assert.Equal(t, "1", l[LabelContainerNumber])
	assert.Equal(t, "False", l[LabelOneoff])
	assert.Equal(t, ComposeVersion, l[LabelVersion])
	assert.NotEmpty(t, l[LabelImage])
	assert.Contains(t, l[LabelWorkingDir], "testdata/stack")
	assert.Contains(t, l[LabelDependsOn], "migrate:service_completed_successfully:false")
	assert.Equal(t, "yes", l["dev.dockhand.override"])
	assert.Equal(t, c.Session(), l[lifecycle.LabelSession])
	h, _ := ServiceHash(p.Services["app"])
	assert.Equal(t, h, l[LabelConfigHash])
	assert.Contains(t, ins.NetworkSettings.Networks, name+"_default")
	assert.Contains(t, ins.NetworkSettings.Networks, name+"_back")

	// Service names resolve on the project networks, aliases too; the
	// built image, the bind mount and the migration's volume are there.
	for _, cmd := range [][]string{
		{"ping", "-c1", "-W2", "db"}, {"ping", "-c1", "-W2", "redis"}, {"cat", "/hello.txt"},
		{"cat", "/config/app.conf"}, {"cat", "/state/migrated"},
	} {
		res, err := s.Exec(ctx, "app", cmd)
		require.NoError(t, err)
		assert.Equal(t, 0, res.ExitCode, "%v: %s%s", cmd, res.Stdout, res.Stderr)
	}
	res, err := s.Exec(ctx, "db", []string{"pg_isready", "-U", "postgres"})
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)

	// Logs are prefixed as the CLI prefixes them.
	var logs bytes.Buffer
	require.NoError(t, s.Logs(ctx, &logs, WithServices("app", "migrate")))
	assert.Contains(t, logs.String(), "app-1      | app up greeting=from-dotenv")
	assert.Contains(t, logs.String(), "migrate-1  | migrated")

	// A one-off container: output, exit code, removed afterwards.
	var stdout bytes.Buffer
	code, err := s.Run(ctx, "migrate", []string{"sh", "-c", "cat /state/migrated; exit 3"}, WithStdout(&stdout))
	require.NoError(t, err)
	assert.Equal(t, 3, code)
	assert.Equal(t, "done\n", stdout.String())

	// A second Up of the same project touches nothing.
	before := map[string]string{}
	for _, sc := range all {
		ins, err := c.API().ContainerInspect(ctx, sc.ID)
		require.NoError(t, err)
		before[sc.Name] = sc.ID + "@" + ins.State.StartedAt
	}
	var prog2 testbench.Buffer
	require.NoError(t, s.Up(ctx, WithWait(), WithProgress(&prog2)))
	after, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	require.Len(t, after, len(before))
	for _, sc := range after {
		ins, err := c.API().ContainerInspect(ctx, sc.ID)
		require.NoError(t, err)
		assert.Equal(t, before[sc.Name], sc.ID+"@"+ins.State.StartedAt, "%s was recreated or restarted", sc.Name)
	}
	assert.NotContains(t, prog2.String(), "Created")

	// A changed service is recreated; the others are kept.
	p2, err := Load(ctx, WithWorkingDir("testdata/stack"), WithProjectName(name), WithVariables(append(stackEnv(t, c, true), "GREETING=changed")...))
	require.NoError(t, err)
	var prog3 testbench.Buffer
	require.NoError(t, New(c, p2).Up(ctx, WithWait(), WithProgress(&prog3)))
	// As the CLI: the old container steps aside (renamed), the new one
	// takes the name, then the old one is removed.
	testbench.InOrder(t, prog3.String(), name+"-app-1  Recreate", name+"-app-1  Created", name+"-app-1  Recreated")
	changed, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	require.Len(t, changed, len(before), "the old app container is gone")
	for _, sc := range changed {
		if sc.Service == "app" {
			assert.NotEqual(t, before[sc.Name][:64], sc.ID, "app should be recreated")
		} else {
			assert.Equal(t, before[sc.Name][:64], sc.ID, "%s should be kept", sc.Name)
		}
	}

	// Stop, Start, Restart.
	require.NoError(t, s.Stop(ctx, WithServices("web"), WithGracePeriod(time.Second)))
	ps, err = s.Ps(ctx, WithServices("web"))
	require.NoError(t, err)
	assert.Empty(t, ps)
	require.NoError(t, s.Start(ctx, WithServices("web")))
	ps, err = s.Ps(ctx, WithServices("web"))
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	require.NoError(t, s.Restart(ctx, WithServices("cache")))

	// Down in reverse order removes everything (named volumes with WithRemoveVolumes).
	var down testbench.Buffer
	require.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithRemoveImages(), WithProgress(&down)))
	d := down.String()
	testbench.InOrder(t, d, name+"-app-1  Removed", name+"-db-1  Stopping")
	testbench.InOrder(t, d, name+"-web-1  Removed", name+"-app-1  Stopping")
	noProjectLeft(t, c, name)
}

func TestUpFailingDependencyBlocksDependant(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "exit1")
	p, err := Load(ctx, WithFiles("testdata/fail/exit1.yaml"), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	err = s.Up(ctx, WithWait())
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `service "broken"`)
	assert.Contains(t, msg, "exited with code 1")
	assert.Contains(t, msg, "migration failed: table exists", "the last log lines are quoted")
	assert.Contains(t, msg, `service "dependant" not started: dependency "broken" failed`)
	ps, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	var services []string
	for _, sc := range ps {
		services = append(services, sc.Service)
		if sc.Service == "dependant" {
			assert.Equal(t, "created", sc.State, "a blocked service is created (as by the CLI) but never started")
		}
	}
	assert.Contains(t, services, "independent", "independent services are not held back")
	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second)))
	noProjectLeft(t, c, name)
}

func TestUpUnhealthy(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "sick")
	p, err := Load(ctx, WithFiles("testdata/fail/unhealthy.yaml"), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	err = s.Up(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `service "sick"`)
	assert.Contains(t, err.Error(), "is unhealthy")
	assert.Contains(t, err.Error(), "starting sick service")
	assert.Contains(t, err.Error(), `"needs-sick" not started`)
	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second)))
	noProjectLeft(t, c, name)
}

func TestWaitTimeoutIsAFailure(t *testing.T) {
	c := testbench.Client(t)
	ctx := context.Background()
	name := projectName(c, "slow")
	p, err := Load(ctx, WithFiles("testdata/fail/unhealthy.yaml"), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	// Make the check slow rather than failing: never healthy within 2s.
	sick := p.Services["sick"]
	sick.HealthCheck.Test = []string{"CMD", "sleep", "30"}
	p.Services["sick"] = sick
	s := New(c, p)
	downAtEnd(t, s)
	start := time.Now()
	err = s.Up(ctx, WithServices("sick"), WithWaitTimeout(2*time.Second))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "wait timeout 2s reached")
	assert.Less(t, time.Since(start), 20*time.Second)
}

func TestParallelIndependentServices(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "wide")
	bb := testbench.BusyboxImage(t, c)
	var y strings.Builder
	y.WriteString("services:\n")
	for i := range 8 {
		fmt.Fprintf(&y, "  s%d:\n    image: %s\n    init: true\n    command: [sleep, '86400']\n", i, bb)
	}
	dir := t.TempDir()
	require.NoError(t, writeFile(dir+"/compose.yaml", y.String()))
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithWait()))
	ps, err := s.Ps(ctx)
	require.NoError(t, err)
	assert.Len(t, ps, 8)
	// Orphans: drop a service from the project; Up keeps it unless asked.
	delete(p.Services, "s7")
	require.NoError(t, s.Up(ctx, WithRemoveOrphans()))
	ps, err = s.Ps(ctx)
	require.NoError(t, err)
	assert.Len(t, ps, 7)
}

func TestDownWithoutVolumesKeepsNamedVolumes(t *testing.T) {
	c := testbench.Client(t)
	ctx := context.Background()
	name := projectName(c, "vol")
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, writeFile(dir+"/compose.yaml", fmt.Sprintf(`services:
  w:
    image: %s
    command: [sh, -c, "echo kept > /data/f"]
    volumes: [data:/data]
volumes:
  data:
`, bb)))
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx))
	require.NoError(t, s.Down(ctx))
	v, err := c.API().VolumeInspect(ctx, name+"_data")
	require.NoError(t, err, "named volume removed without WithRemoveVolumes")
	assert.Equal(t, "data", v.Labels[LabelVolume])
	assert.Equal(t, name, v.Labels[LabelProject])
	require.NoError(t, s.Down(ctx, WithRemoveVolumes()))
	_, err = c.API().VolumeInspect(ctx, name+"_data")
	require.Error(t, err)
}
