package lifecycle_test

// Sweep and Cleanup against the real engine. Sweep is proven with a real
// dead process: the test binary re-executes itself as a child that makes
// resources through its own session and is then killed with SIGKILL, so
// it never gets to clean up.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sweepChildEnv makes the re-executed test binary act as the child of
// TestSweep (see TestMain) instead of running tests.
const sweepChildEnv = "DOCKHAND_SWEEP_CHILD"

// sweepPersistentEnv makes that child's client WithPersistentSession.
const sweepPersistentEnv = "DOCKHAND_SWEEP_PERSISTENT"

// TestMain runs the tests, or, in a test binary re-executed by TestSweep,
// the child process that creates resources and waits to be killed.
func TestMain(m *testing.M) {
	if img := os.Getenv(sweepChildEnv); img != "" {
		runSweepChild(img)
	}
	os.Exit(m.Run())
}

// runSweepChild creates, in its own session, a network, a volume and a
// container using both, reports "ready <session>" and blocks until it is
// killed: a process that dies without cleaning up.
func runSweepChild(img string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opts []lifecycle.ClientOption
	if os.Getenv(sweepPersistentEnv) != "" {
		opts = append(opts, lifecycle.WithPersistentSession())
	}
	c, err := lifecycle.New(ctx, opts...)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	name := "dockhand-sweep-" + c.Session()
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(2) // leaves what it made, as a crash would
	}
	if _, err := c.CreateNetwork(ctx, name); err != nil {
		fail(err)
	}
	if _, err := c.CreateVolume(ctx, name); err != nil {
		fail(err)
	}
	if _, err := c.Run(ctx, img, lifecycle.WithName(name), lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(),
		lifecycle.WithNetwork(name), lifecycle.WithVolumes(name+":/data"), lifecycle.WithPull(lifecycle.PullNever)); err != nil {
		fail(err)
	}
	fmt.Printf("ready %s\n", c.Session())
	// Block until killed. Should the parent die first, give up after a
	// while and leave everything behind for a later Sweep.
	time.Sleep(5 * time.Minute)
	os.Exit(3)
}

type sweepChild struct {
	cmd     *exec.Cmd
	session string
	stderr  *bytes.Buffer
}

// startSweepChild starts the child and waits for it to be ready.
func startSweepChild(t *testing.T, img string, persistent bool) *sweepChild {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), sweepChildEnv+"="+img)
	if persistent {
		cmd.Env = append(cmd.Env, sweepPersistentEnv+"=1")
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	ch := &sweepChild{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = ch.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { ch.kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before it was ready: %s", ch.stderr)
			}
			if s, found := strings.CutPrefix(l, "ready "); found {
				ch.session = s
				go func() { // drain
					for range lines {
					}
				}()
				return ch
			}
			if strings.HasPrefix(l, "error ") {
				t.Fatalf("child: %s", l)
			}
		case <-timeout:
			t.Fatalf("child not ready after 90 s: %s", ch.stderr)
		}
	}
}

// kill kills the child with SIGKILL (no chance to clean up) and reaps it,
// so its pid is gone.
func (ch *sweepChild) kill() {
	if ch.cmd.ProcessState != nil {
		return
	}
	_ = ch.cmd.Process.Signal(syscall.SIGKILL)
	_ = ch.cmd.Wait()
}

// labelled lists, straight from the engine, what carries session's label.
func labelled(t *testing.T, ctx context.Context, c *lifecycle.Client, session string) lifecycle.Resources {
	t.Helper()
	var r lifecycle.Resources
	f := filters.NewArgs(filters.Arg("label", lifecycle.LabelSession+"="+session))
	cts, err := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, ct := range cts {
		r.Containers = append(r.Containers, strings.TrimPrefix(ct.Names[0], "/"))
	}
	nets, err := c.API().NetworkList(ctx, network.ListOptions{Filters: f})
	require.NoError(t, err)
	for _, n := range nets {
		r.Networks = append(r.Networks, n.Name)
	}
	vols, err := c.API().VolumeList(ctx, volume.ListOptions{Filters: f})
	require.NoError(t, err)
	for _, v := range vols.Volumes {
		r.Volumes = append(r.Volumes, v.Name)
	}
	imgs, err := c.API().ImageList(ctx, image.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, im := range imgs {
		r.Images = append(r.Images, im.ID)
	}
	return r
}

// childResources is what a ready child owns.
func childResources(session string) lifecycle.Resources {
	name := "dockhand-sweep-" + session
	return lifecycle.Resources{Containers: []string{name}, Networks: []string{name}, Volumes: []string{name}}
}

func TestSweep(t *testing.T) {
	c := testbench.Client(t) // the parent's own, live session
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)

	// A resource of a live session in this process.
	own, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit())
	require.NoError(t, err)
	defer own.Remove(context.Background(), lifecycle.WithForce())

	// Resources with no Dockhand labels at all, made through the SDK.
	plain := "dockhand-unlabelled-" + c.Session()
	yes := true
	created, err := c.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"sleep", "600"}},
		&container.HostConfig{Init: &yes}, nil, nil, plain)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.API().ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	require.NoError(t, c.API().ContainerStart(ctx, created.ID, container.StartOptions{}))
	_, err = c.API().VolumeCreate(ctx, volume.CreateOptions{Name: plain})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), plain, true) })
	plainNet, err := c.API().NetworkCreate(ctx, plain, network.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().NetworkRemove(context.Background(), plainNet.ID) })

	// Two children: one will be killed, one stays alive.
	dead := startSweepChild(t, img, false)
	alive := startSweepChild(t, img, false)
	// A session meant to outlive its process (a dev stack left running by
	// a command that exited): never swept, though its process is gone.
	kept := startSweepChild(t, img, true)
	t.Cleanup(func() { // should the test stop early: Sweep would not
		if o, err := lifecycle.New(context.Background(), lifecycle.WithSession(kept.session)); err == nil {
			_ = o.Cleanup(context.Background())
			_ = o.Close()
		}
	})
	require.Equal(t, childResources(kept.session), labelled(t, ctx, c, kept.session))
	kept.kill()
	require.Equal(t, childResources(dead.session), labelled(t, ctx, c, dead.session))
	require.Equal(t, childResources(alive.session), labelled(t, ctx, c, alive.session))
	dead.kill()

	sweeper := testbench.Client(t) // a new client, as a fresh process would have
	swept, err := sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.Contains(t, swept, dead.session)
	assert.NotContains(t, swept, alive.session, "a live process's session is not swept")
	assert.NotContains(t, swept, c.Session())
	assert.NotContains(t, swept, kept.session, "a persistent session is not swept")
	assert.Equal(t, childResources(kept.session), labelled(t, ctx, c, kept.session), "the persistent session's resources are untouched")

	assert.True(t, labelled(t, ctx, c, dead.session).Empty(), "nothing of the dead session remains: %s", labelled(t, ctx, c, dead.session))
	assert.Equal(t, childResources(alive.session), labelled(t, ctx, c, alive.session), "the live child's resources are untouched")
	st, err := own.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running, "the parent's own container is untouched")
	ins, err := c.API().ContainerInspect(ctx, created.ID)
	require.NoError(t, err, "the unlabelled container is untouched")
	assert.True(t, ins.State.Running)
	_, err = c.API().VolumeInspect(ctx, plain)
	assert.NoError(t, err, "the unlabelled volume is untouched")
	_, err = c.API().NetworkInspect(ctx, plainNet.ID, network.InspectOptions{})
	assert.NoError(t, err, "the unlabelled network is untouched")

	// Once the other child dies too, its session goes on the next sweep.
	alive.kill()
	swept, err = sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.Contains(t, swept, alive.session)
	assert.True(t, labelled(t, ctx, c, alive.session).Empty())
	st, err = own.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
	assert.NotContains(t, swept, kept.session)

	// The persistent session is removed by a Cleanup that names it.
	owner, err := lifecycle.New(ctx, lifecycle.WithSession(kept.session))
	require.NoError(t, err)
	require.NoError(t, owner.Cleanup(ctx))
	require.NoError(t, owner.Close())
	assert.True(t, labelled(t, ctx, c, kept.session).Empty(), "Cleanup with the session id removes it")

	require.NoError(t, own.Remove(ctx, lifecycle.WithForce()))
}

func TestCleanupRemovesOnlyItsSession(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	a, b := testbench.Client(t), testbench.Client(t)
	img := testbench.BusyboxImage(t, a)

	// setup gives cl a network, a volume, a running container on both, a
	// stopped container and a built image, and returns what it made.
	setup := func(cl *lifecycle.Client) lifecycle.Resources {
		name := "dockhand-cleanup-" + cl.Session()
		_, err := cl.CreateNetwork(ctx, name)
		require.NoError(t, err)
		_, err = cl.CreateVolume(ctx, name)
		require.NoError(t, err)
		_, err = cl.Run(ctx, img, lifecycle.WithName(name), lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(),
			lifecycle.WithNetwork(name), lifecycle.WithVolumes(name+":/data"))
		require.NoError(t, err)
		var out bytes.Buffer
		_, err = cl.Run(ctx, img, lifecycle.WithName(name+"-done"), lifecycle.WithCmd("true"), lifecycle.WithStdout(&out))
		require.NoError(t, err)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+img+"\n"), 0o644))
		id, err := cl.Build(ctx, dir, lifecycle.WithTags("dockhand.test/cleanup:"+cl.Session()))
		require.NoError(t, err)
		return lifecycle.Resources{Containers: []string{name + "-done", name}, Networks: []string{name}, Volumes: []string{name}, Images: []string{id}}
	}
	sortRes := func(r lifecycle.Resources) lifecycle.Resources {
		for _, l := range [][]string{r.Containers, r.Networks, r.Volumes, r.Images} {
			slices.Sort(l)
		}
		return r
	}
	// same compares what a session owns with what it made. The classic
	// builder also labels the intermediate image of each build step, so the
	// session may own images besides the one Build returned.
	same := func(made, owned lifecycle.Resources, msg string) {
		t.Helper()
		owned = sortRes(owned)
		assert.Subset(t, owned.Images, made.Images, msg)
		made.Images, owned.Images = nil, nil
		assert.Equal(t, made, owned, msg)
	}
	madeA, madeB := sortRes(setup(a)), sortRes(setup(b))
	ownedA, err := a.Owned(ctx)
	require.NoError(t, err)
	same(madeA, ownedA, "a owns what it made")
	same(madeB, labelled(t, ctx, a, b.Session()), "b's resources carry b's session")

	require.NoError(t, a.Cleanup(ctx))

	ownedA, err = a.Owned(ctx)
	require.NoError(t, err)
	assert.True(t, ownedA.Empty(), "a's session owns nothing: %s", ownedA)
	assert.True(t, labelled(t, ctx, b, a.Session()).Empty())
	ownedB, err := b.Owned(ctx)
	require.NoError(t, err)
	same(madeB, ownedB, "b's resources are untouched")
	require.NotEmpty(t, ownedB.Images)
	ctrB, err := b.Container(ctx, "dockhand-cleanup-"+b.Session())
	require.NoError(t, err)
	st, err := ctrB.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running, "b's container still runs")
	_, err = b.InspectImage(ctx, "dockhand.test/cleanup:"+b.Session())
	assert.NoError(t, err)
	_, err = b.InspectImage(ctx, img)
	assert.NoError(t, err, "the base image, not the session's, is kept")

	require.NoError(t, b.Cleanup(ctx))
	ownedB, err = b.Owned(ctx)
	require.NoError(t, err)
	assert.True(t, ownedB.Empty(), "%s", ownedB)
}
