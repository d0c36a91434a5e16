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

// Environment of the re-executed test binary that acts as a child of the
// sweep tests (see TestMain) instead of running tests.
const (
	sweepChildEnv      = "DOCKHAND_SWEEP_CHILD"      // the image the child uses
	sweepPersistentEnv = "DOCKHAND_SWEEP_PERSISTENT" // its client is WithPersistentSession
	sweepSessionEnv    = "DOCKHAND_SWEEP_SESSION"    // its client is WithSession(this)
	sweepBuildEnv      = "DOCKHAND_SWEEP_BUILD"      // it only builds FROM the image, with this tag
	sweepSharedEnv     = "DOCKHAND_SWEEP_SHARED"     // it holds this key and labels its container shared by it
	sweepLegacyEnv     = "DOCKHAND_SWEEP_LEGACY"     // it holds as earlier versions did: with a network
)

// TestMain runs the tests, or, in a test binary re-executed by a sweep
// test, the child process that creates resources and waits to be killed.
func TestMain(m *testing.M) {
	if img := os.Getenv(sweepChildEnv); img != "" {
		runSweepChild(img)
	}
	os.Exit(m.Run())
}

// runSweepChild creates, through its own client, a network, a volume and
// a container using both (or, with sweepBuildEnv, builds an image),
// reports "ready <session> <name>" and blocks until it is killed: a
// process that dies without cleaning up.
func runSweepChild(img string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opts []lifecycle.ClientOption
	if os.Getenv(sweepPersistentEnv) != "" {
		opts = append(opts, lifecycle.WithPersistentSession())
	}
	if s := os.Getenv(sweepSessionEnv); s != "" {
		opts = append(opts, lifecycle.WithSession(s))
	}
	c, err := lifecycle.New(ctx, opts...)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(2) // leaves what it made, as a crash would
	}
	name := fmt.Sprintf("dockhand-sweep-%s-%d", c.Session(), os.Getpid())
	if tag := os.Getenv(sweepBuildEnv); tag != "" {
		dir, err := os.MkdirTemp("", "dockhand-sweep-build")
		if err != nil {
			fail(err)
		}
		err = os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+img+"\nLABEL stage=app\n"), 0o644)
		if err == nil {
			_, err = c.Build(ctx, dir, lifecycle.WithTags(tag))
		}
		_ = os.RemoveAll(dir)
		if err != nil {
			fail(err)
		}
		fmt.Printf("ready %s %s\n", c.Session(), tag)
	} else {
		if _, err := c.CreateNetwork(ctx, name); err != nil {
			fail(err)
		}
		if _, err := c.CreateVolume(ctx, name); err != nil {
			fail(err)
		}
		var labels map[string]string
		if key := os.Getenv(sweepSharedEnv); key != "" {
			if os.Getenv(sweepLegacyEnv) != "" {
				// An earlier version's hold: a network labelled LabelHolds.
				if _, err := c.CreateNetwork(ctx, fmt.Sprintf("dockhand-hold-%s-%d-legacy", key, os.Getpid()),
					lifecycle.WithLabels(map[string]string{lifecycle.LabelHolds: key})); err != nil {
					fail(err)
				}
			} else if _, err := c.Hold(ctx, key); err != nil {
				fail(err)
			}
			labels = map[string]string{lifecycle.LabelShared: key}
		}
		if _, err := c.Run(ctx, img, lifecycle.WithName(name), lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(),
			lifecycle.WithNetwork(name), lifecycle.WithVolumes(name+":/data"), lifecycle.WithPull(lifecycle.PullNever),
			lifecycle.WithLabels(labels)); err != nil {
			fail(err)
		}
		fmt.Printf("ready %s %s\n", c.Session(), name)
	}
	// Block until killed. Should the parent die first, give up after a
	// while and leave everything behind for a later Sweep.
	time.Sleep(5 * time.Minute)
	os.Exit(3)
}

type sweepChild struct {
	cmd     *exec.Cmd
	session string
	name    string // of its network, volume and container (or the tag it built)
	stderr  *bytes.Buffer
}

// childOpts says what a child does.
type childOpts struct {
	img        string   // image to run, or to build FROM
	persistent bool     // WithPersistentSession
	session    string   // WithSession, if not ""
	build      string   // build FROM img with this tag instead of running
	wrap       []string // command the test binary runs under (unshare ...)
	shared     string   // hold this key and label the container shared by it
	legacy     bool     // hold it with a network, as earlier versions did
}

// startSweepChild starts the child and waits for it to be ready.
func startSweepChild(t *testing.T, o childOpts) *sweepChild {
	t.Helper()
	args := append(append([]string{}, o.wrap...), os.Args[0])
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), sweepChildEnv+"="+o.img)
	if o.persistent {
		cmd.Env = append(cmd.Env, sweepPersistentEnv+"=1")
	}
	if o.session != "" {
		cmd.Env = append(cmd.Env, sweepSessionEnv+"="+o.session)
	}
	if o.build != "" {
		cmd.Env = append(cmd.Env, sweepBuildEnv+"="+o.build)
	}
	if o.shared != "" {
		cmd.Env = append(cmd.Env, sweepSharedEnv+"="+o.shared)
	}
	if o.legacy {
		cmd.Env = append(cmd.Env, sweepLegacyEnv+"=1")
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
				ch.session, ch.name, _ = strings.Cut(s, " ")
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

// resources is what a ready child running a stack owns.
func (ch *sweepChild) resources() lifecycle.Resources {
	return lifecycle.Resources{Containers: []string{ch.name}, Networks: []string{ch.name}, Volumes: []string{ch.name}}
}

// removeByName removes a child's stack through the SDK, should a test
// stop before its Sweep or Cleanup did.
func removeByName(c *lifecycle.Client, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = c.API().ContainerRemove(ctx, name, container.RemoveOptions{Force: true, RemoveVolumes: true})
	_ = c.API().NetworkRemove(ctx, name)
	_ = c.API().VolumeRemove(ctx, name, true)
}

// labelled lists, straight from the engine, what carries session's label
// (images: its build label).
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
	fi := filters.NewArgs(filters.Arg("label", lifecycle.LabelBuildSession+"="+session))
	imgs, err := c.API().ImageList(ctx, image.ListOptions{All: true, Filters: fi})
	require.NoError(t, err)
	for _, im := range imgs {
		r.Images = append(r.Images, im.ID)
	}
	return r
}

// exists reports which of a stack's container, network and volume named
// name are on the engine, as a Resources to compare.
func exists(t *testing.T, ctx context.Context, c *lifecycle.Client, name string) lifecycle.Resources {
	t.Helper()
	var r lifecycle.Resources
	if _, err := c.API().ContainerInspect(ctx, name); err == nil {
		r.Containers = []string{name}
	}
	if _, err := c.API().NetworkInspect(ctx, name, network.InspectOptions{}); err == nil {
		r.Networks = []string{name}
	}
	if _, err := c.API().VolumeInspect(ctx, name); err == nil {
		r.Volumes = []string{name}
	}
	return r
}

func TestSweep(t *testing.T) {
	sweepProves(t)
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
	dead := startSweepChild(t, childOpts{img: img})
	alive := startSweepChild(t, childOpts{img: img})
	// A session meant to outlive its process (a dev stack left running by
	// a command that exited): never swept, though its process is gone.
	kept := startSweepChild(t, childOpts{img: img, persistent: true})
	t.Cleanup(func() { // should the test stop early: Sweep would not
		if o, err := lifecycle.New(context.Background(), lifecycle.WithSession(kept.session), lifecycle.WithPersistentSession()); err == nil {
			_ = o.Cleanup(context.Background())
			_ = o.Close()
		}
	})
	for _, ch := range []*sweepChild{dead, alive} {
		t.Cleanup(func() { removeByName(c, ch.name) })
	}
	require.Equal(t, kept.resources(), labelled(t, ctx, c, kept.session))
	kept.kill()
	require.Equal(t, dead.resources(), labelled(t, ctx, c, dead.session))
	require.Equal(t, alive.resources(), labelled(t, ctx, c, alive.session))
	dead.kill()

	sweeper := testbench.Client(t) // a new client, as a fresh process would have
	swept, err := sweeper.Sweep(ctx)
	require.NoError(t, err)
	// Another engineer's test process may sweep the dead child first: what
	// counts is that its resources are gone, and nothing else is.
	assert.True(t, labelled(t, ctx, c, dead.session).Empty(), "nothing of the killed child remains: %s", labelled(t, ctx, c, dead.session))
	for _, name := range []string{alive.name, kept.name, own.Name(), plain} {
		assert.NotContains(t, swept.Containers, name)
		assert.NotContains(t, swept.Networks, name)
		assert.NotContains(t, swept.Volumes, name)
	}
	assert.Equal(t, kept.resources(), labelled(t, ctx, c, kept.session), "the persistent session's resources are untouched")
	assert.Equal(t, alive.resources(), labelled(t, ctx, c, alive.session), "the live child's resources are untouched")
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

	// Once the other child dies too, its resources go on the next sweep.
	alive.kill()
	_, err = sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.True(t, labelled(t, ctx, c, alive.session).Empty())
	st, err = own.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running)
	assert.Equal(t, kept.resources(), labelled(t, ctx, c, kept.session), "the persistent session's resources are untouched")

	// An ordinary client that shares the session id (a test next to a dev
	// stack) lists none of it and removes none of it.
	mate, err := lifecycle.New(ctx, lifecycle.WithSession(kept.session))
	require.NoError(t, err)
	owned, err := mate.Owned(ctx)
	require.NoError(t, err)
	assert.True(t, owned.Empty(), "an ordinary client owns none of a persistent stack: %s", owned)
	require.NoError(t, mate.Cleanup(ctx))
	require.NoError(t, mate.Close())
	assert.Equal(t, kept.resources(), labelled(t, ctx, c, kept.session), "an ordinary client's Cleanup keeps the persistent stack")

	// The persistent session is removed by a persistent client's Cleanup
	// that names it.
	owner, err := lifecycle.New(ctx, lifecycle.WithSession(kept.session), lifecycle.WithPersistentSession())
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
