package lifecycle_test

// Ownership against the real engine: what Sweep and Cleanup must keep.
// Each test stands for a way the labels alone once made Dockhand remove
// what was not provably its own: labels inherited from a built image, a
// persistent stack on an image of a dead session, one dead process of a
// shared session, another pid namespace or host.

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sweepProves skips a test that needs Sweep to prove a process gone:
// only Linux gives a process identity to prove it with (elsewhere Sweep
// keeps everything, by design).
func sweepProves(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("Sweep proves an owner gone only on Linux")
	}
}

// apiBuild builds dockerfile through the SDK, as `docker build` would (no
// Dockhand labels but those given), tags it and removes it when the test
// ends. It returns the image id.
func apiBuild(t *testing.T, ctx context.Context, c *lifecycle.Client, tag, dockerfile string, labels map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}))
	_, err := tw.Write([]byte(dockerfile))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	resp, err := c.API().ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Labels: labels,
		Remove: true, ForceRemove: true, Version: build.BuilderV1})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.API().ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	require.NoError(t, jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil))
	require.NoError(t, resp.Body.Close())
	ii, err := c.API().ImageInspect(ctx, tag)
	require.NoError(t, err)
	return ii.ID
}

// plainContainer starts a container from img through the SDK with no
// labels of its own, as `docker run -d --name name img sleep 600` would,
// and removes it when the test ends.
func plainContainer(t *testing.T, ctx context.Context, c *lifecycle.Client, name, img string) string {
	t.Helper()
	yes := true
	ct, err := c.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"sleep", "600"}},
		&container.HostConfig{Init: &yes}, nil, nil, name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.API().ContainerRemove(context.Background(), ct.ID, container.RemoveOptions{Force: true})
	})
	require.NoError(t, c.API().ContainerStart(ctx, ct.ID, container.StartOptions{}))
	return ct.ID
}

func running(t *testing.T, ctx context.Context, c *lifecycle.Client, id string) bool {
	t.Helper()
	ins, err := c.API().ContainerInspect(ctx, id)
	return err == nil && ins.State != nil && ins.State.Running
}

func imageExists(ctx context.Context, c *lifecycle.Client, ref string) bool {
	_, err := c.API().ImageInspect(ctx, ref)
	return err == nil
}

// Issue 8, cases 1 and 2: an image built by a session whose process has
// exited must not make the containers of that image Dockhand's: not one
// the user started with docker run, not a persistent dev stack; and Sweep
// removes the image itself only once nothing uses it, and never an image
// someone built on top of it.
func TestSweepKeepsWhatUsesABuiltImage(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 4*time.Minute)
	img := testbench.BusyboxImage(t, c)

	tag := "dockhand.test/sweepcheck:" + c.Session()
	builder := startSweepChild(t, childOpts{img: img, build: tag})
	t.Cleanup(func() {
		_, _ = c.API().ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	builder.kill()
	built, err := c.InspectImage(ctx, tag)
	require.NoError(t, err)
	for _, k := range []string{lifecycle.LabelManaged, lifecycle.LabelSession, lifecycle.LabelClient, lifecycle.LabelOwner,
		lifecycle.LabelPID, lifecycle.LabelPersistent} {
		assert.NotContains(t, built.Labels, k, "a built image carries no label its containers would inherit as ownership")
	}
	assert.Equal(t, builder.session, built.Labels[lifecycle.LabelBuildSession])
	assert.Contains(t, built.Labels[lifecycle.LabelBuildOwner], "pid=")

	// Case 1: docker run -d --name users-own-app sweepcheck/app:1
	users := plainContainer(t, ctx, c, "users-own-app-"+c.Session(), tag)
	// Case 2: a persistent dev stack (container, network, named volume)
	// on that image, its process gone too.
	stack := startSweepChild(t, childOpts{img: tag, persistent: true})
	teardown := func() {
		o, err := lifecycle.New(context.Background(), lifecycle.WithSession(stack.session), lifecycle.WithPersistentSession())
		if err == nil {
			_ = o.Cleanup(context.Background())
			_ = o.Close()
		}
	}
	t.Cleanup(teardown)
	stack.kill()
	// An image someone builds FROM it inherits its build labels.
	derivedTag := "dockhand.test/sweepcheck-derived:" + c.Session()
	derived := apiBuild(t, ctx, c, derivedTag, "FROM "+tag+"\nLABEL derived=yes\n", nil)
	dl, err := c.InspectImage(ctx, derivedTag)
	require.NoError(t, err)
	require.Equal(t, built.Labels[lifecycle.LabelBuildOwner], dl.Labels[lifecycle.LabelBuildOwner], "the derived image inherited the build labels")

	sweeper := testbench.Client(t)
	swept, err := sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.True(t, running(t, ctx, c, users), "the user's own container is untouched")
	assert.Equal(t, stack.resources(), exists(t, ctx, c, stack.name), "the persistent stack is untouched")
	assert.True(t, running(t, ctx, c, stack.name))
	assert.True(t, imageExists(ctx, c, tag), "an image in use stays")
	assert.True(t, imageExists(ctx, c, derivedTag), "an image built on top of a dead session's build is not that build")
	assert.NotContains(t, swept.Images, built.ID)
	assert.NotContains(t, swept.Images, derived)
	assert.NotContains(t, swept.Containers, "users-own-app-"+c.Session())
	assert.NotContains(t, swept.Containers, stack.name)

	// Once nothing uses it, the dead builder's image goes with the next
	// Sweep. (The derived image, someone else's, is removed by them.)
	require.NoError(t, c.API().ContainerRemove(ctx, users, container.RemoveOptions{Force: true}))
	teardown()
	assert.True(t, exists(t, ctx, c, stack.name).Empty(), "Cleanup with the persistent session's id tears it down")
	_, err = c.API().ImageRemove(ctx, derivedTag, image.RemoveOptions{PruneChildren: true})
	require.NoError(t, err)
	_, err = sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.False(t, imageExists(ctx, c, built.ID), "the dead session's own, unused build is swept")
	assert.False(t, imageExists(ctx, c, tag))
}

// Issue 8, case 3: two processes share WithSession("it"); one is killed.
// Sweep removes the dead one's resources only, and a Cleanup in the same
// session removes only what its own client made.
func TestSweepPerOwnerInASharedSession(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	session := "it-" + c.Session()

	dead := startSweepChild(t, childOpts{img: img, session: session})
	alive := startSweepChild(t, childOpts{img: img, session: session})
	for _, ch := range []*sweepChild{dead, alive} {
		t.Cleanup(func() { removeByName(c, ch.name) })
	}
	mate := testbench.Client(t, lifecycle.WithSession(session)) // this process, same session
	mine := "dockhand-shared-" + c.Session()
	_, err := mate.CreateVolume(ctx, mine)
	require.NoError(t, err)
	require.Equal(t, dead.resources(), exists(t, ctx, c, dead.name))
	dead.kill()

	_, err = testbench.Client(t).Sweep(ctx)
	require.NoError(t, err)
	assert.True(t, exists(t, ctx, c, dead.name).Empty(), "the killed process's resources are swept: %s", exists(t, ctx, c, dead.name))
	assert.Equal(t, alive.resources(), exists(t, ctx, c, alive.name), "the live process of the same session keeps its resources")
	assert.True(t, running(t, ctx, c, alive.name))
	_, err = c.API().VolumeInspect(ctx, mine)
	assert.NoError(t, err, "this process's volume in that session stays")

	owned, err := mate.Owned(ctx)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.Resources{Volumes: []string{mine}}, owned, "a client owns what it made, not its session mates'")
	require.NoError(t, mate.Cleanup(ctx))
	_, err = c.API().VolumeInspect(ctx, mine)
	assert.Error(t, err, "Cleanup removed its own volume")
	assert.Equal(t, alive.resources(), exists(t, ctx, c, alive.name), "Cleanup leaves the other process's resources of the session")

	alive.kill()
	_, err = testbench.Client(t).Sweep(ctx)
	require.NoError(t, err)
	assert.True(t, exists(t, ctx, c, alive.name).Empty(), "once killed, its resources go too")
}

// procIdentity reads this host's boot id and this process's pid and time
// namespace inodes, as the owner label records them.
func procIdentity(t *testing.T) (boot string, pidns, timens uint64) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Skipf("no /proc identity on this system: %v", err)
	}
	ns := func(p string) uint64 {
		l, err := os.Readlink(p)
		if err != nil {
			return 0
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]"), 10, 64)
		return n
	}
	return strings.TrimSpace(string(b)), ns("/proc/self/ns/pid"), ns("/proc/self/ns/time")
}

// deadPID returns the pid of a process that ran and was reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// Issue 8, case 4: a process in another pid namespace (or on another host
// or boot) with a pid that is dead here is not proven gone. The labels
// are forged through the SDK; a forged owner that is provably dead here
// is the control that the forgery is well-formed.
func TestSweepKeepsWhatItCannotProve(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	boot, pidns, timens := procIdentity(t)
	pid := deadPID(t)
	owner := func(boot string, pidns uint64) string {
		return fmt.Sprintf("pid=%d,start=1,boot=%s,pidns=%d,timens=%d", pid, boot, pidns, timens)
	}
	hostname, _ := os.Hostname()
	labels := func(ownerLabel string) map[string]string {
		return map[string]string{lifecycle.LabelManaged: "true", lifecycle.LabelSession: "forged-" + c.Session(),
			lifecycle.LabelClient: "forged", lifecycle.LabelOwner: ownerLabel, lifecycle.LabelPID: strconv.Itoa(pid),
			lifecycle.LabelHost: hostname, lifecycle.LabelPersistent: ""}
	}
	legacy := labels("")
	delete(legacy, lifecycle.LabelOwner) // what an older Dockhand wrote
	delete(legacy, lifecycle.LabelClient)
	delete(legacy, lifecycle.LabelPersistent)
	cases := map[string]map[string]string{
		"dead-here":    labels(owner(boot, pidns)), // the control: swept
		"other-pidns":  labels(owner(boot, pidns+1)),
		"other-host":   labels(owner("00000000-0000-4000-8000-000000000000", pidns)),
		"malformed":    labels(strconv.Itoa(pid)),
		"legacy-no-id": legacy,
		"persistent-dead": func() map[string]string {
			l := labels(owner(boot, pidns))
			l[lifecycle.LabelPersistent] = "true"
			return l
		}(),
	}
	name := func(k string) string { return "dockhand-forged-" + k + "-" + c.Session() }
	for k, l := range cases {
		_, err := c.API().VolumeCreate(ctx, volume.CreateOptions{Name: name(k), Labels: l})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), name(k), true) })
		yes := true
		_, err = c.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"sleep", "600"}, Labels: l},
			&container.HostConfig{Init: &yes}, nil, nil, name(k))
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = c.API().ContainerRemove(context.Background(), name(k), container.RemoveOptions{Force: true})
		})
	}

	var log testbench.Buffer
	sweeper := testbench.Client(t, lifecycle.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	swept, err := sweeper.Sweep(ctx)
	require.NoError(t, err)
	// Each keep is explained at debug level.
	for k, why := range map[string]string{"other-pidns": "another pid namespace", "other-host": "another host",
		"malformed": "malformed label", "legacy-no-id": "empty label", "persistent-dead": "persistent"} {
		assert.Regexp(t, `sweep: keeping volume.* volume=`+name(k)+` reason="?[^"\n]*`+why, log.String(), k)
	}
	for k := range cases {
		_, verr := c.API().VolumeInspect(ctx, name(k))
		_, cerr := c.API().ContainerInspect(ctx, name(k))
		if k == "dead-here" {
			assert.Error(t, verr, "the control volume, owned by a dead process of this namespace, is swept")
			assert.Error(t, cerr, "the control container is swept")
			continue
		}
		assert.NoError(t, verr, "%s: volume kept", k)
		assert.NoError(t, cerr, "%s: container kept", k)
		assert.NotContains(t, swept.Volumes, name(k))
	}
}

// Issue 8, case 4 with a real process: a child in its own pid namespace
// (unshare --pid --fork --mount-proc, as root) is killed; its pid means
// nothing in the sweeper's namespace, so its resources stay.
func TestSweepKeepsAnotherPIDNamespace(t *testing.T) {
	sweepProves(t)
	if os.Geteuid() != 0 {
		t.Skip("unshare --pid needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1)")
	}
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ch := startSweepChild(t, childOpts{img: img, wrap: []string{unshare, "--pid", "--fork", "--mount-proc", "--kill-child"}})
	t.Cleanup(func() { removeByName(c, ch.name) })
	require.Equal(t, ch.resources(), exists(t, ctx, c, ch.name))
	ins, err := c.API().ContainerInspect(ctx, ch.name)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ins.Config.Labels[lifecycle.LabelOwner], "pid=1,"), "the child is pid 1 of its namespace: %s", ins.Config.Labels[lifecycle.LabelOwner])
	inner := childOf(t, ch.cmd.Process.Pid) // the namespace's pid 1, as the host sees it
	ch.kill()                               // unshare dies; --kill-child takes its pid 1 with it
	// Wait (no time bound) until that process is gone, so the owner is
	// really dead when Sweep looks.
	for processRuns(inner) {
		time.Sleep(50 * time.Millisecond)
	}

	swept, err := testbench.Client(t).Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, ch.resources(), exists(t, ctx, c, ch.name), "another pid namespace's resources stay")
	assert.NotContains(t, swept.Containers, ch.name)
}

// childOf returns the pid of parent's only child process.
func childOf(t *testing.T, parent int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range ents {
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(parent) {
			pid, err := strconv.Atoi(e.Name())
			require.NoError(t, err)
			return pid
		}
	}
	t.Fatalf("no child of %d", parent)
	return 0
}

// processRuns reports whether pid names a process that has not exited.
func processRuns(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// Images made by older Dockhand versions carry the container ownership
// labels; a container that inherits them is nobody's: Sweep and Cleanup
// both keep it, even when the inherited owner is provably dead and the
// session is the Cleanup's own. A container Dockhand makes from such an
// image sets its own labels and is Cleanup's.
func TestLabelsInheritedFromAnOldImageAreNotOwnership(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	boot, pidns, timens := procIdentity(t)
	session := "old-" + c.Session()
	dead := fmt.Sprintf("pid=%d,start=1,boot=%s,pidns=%d,timens=%d", deadPID(t), boot, pidns, timens)
	oldTag := "dockhand.test/old-build:" + c.Session()
	apiBuild(t, ctx, c, oldTag, "FROM "+img+"\n", map[string]string{lifecycle.LabelManaged: "true",
		lifecycle.LabelSession: session, lifecycle.LabelOwner: dead, lifecycle.LabelPID: "1", lifecycle.LabelHost: "h"})
	persistentTag := "dockhand.test/old-persistent:" + c.Session()
	apiBuild(t, ctx, c, persistentTag, "FROM "+img+"\n", map[string]string{lifecycle.LabelManaged: "true",
		lifecycle.LabelSession: session, lifecycle.LabelPersistent: "true"})
	fromOld := plainContainer(t, ctx, c, "dockhand-from-old-"+c.Session(), oldTag)
	fromPersistent := plainContainer(t, ctx, c, "dockhand-from-old-persistent-"+c.Session(), persistentTag)

	_, err := testbench.Client(t).Sweep(ctx)
	require.NoError(t, err)
	assert.True(t, running(t, ctx, c, fromOld), "inherited labels with a dead owner are not ownership")
	assert.True(t, running(t, ctx, c, fromPersistent))

	same := testbench.Client(t, lifecycle.WithSession(session))
	ours, err := same.Run(ctx, oldTag, lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit())
	require.NoError(t, err)
	owned, err := same.Owned(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{ours.Name()}, owned.Containers, "of the session's labelled containers, only the one it made is its own")
	require.NoError(t, same.Cleanup(ctx))
	assert.True(t, running(t, ctx, c, fromOld), "Cleanup of the session keeps the inheriting container")
	assert.True(t, running(t, ctx, c, fromPersistent), "and the one inheriting a persistent session's labels")
	_, err = c.API().ContainerInspect(ctx, ours.ID())
	assert.Error(t, err, "Cleanup removed the container it made")
}

// PruneImages removes the dangling images of its session's builds (a tag
// rebuilt leaves the old image dangling), not another session's.
func TestPruneImagesRemovesOnlyItsSessionsDanglingBuilds(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	a, b := testbench.Client(t), testbench.Client(t)
	img := testbench.BusyboxImage(t, a)
	// build builds FROM img with a layer of its own under tag, twice: the
	// first image is left dangling.
	build := func(cl *lifecycle.Client, tag string) (old, cur string) {
		for i := range 2 {
			dir := t.TempDir()
			df := fmt.Sprintf("FROM %s\nRUN echo %s-%d > /f\n", img, cl.Session(), i)
			require.NoError(t, os.WriteFile(dir+"/Dockerfile", []byte(df), 0o644))
			id, err := cl.Build(ctx, dir, lifecycle.WithTags(tag))
			require.NoError(t, err)
			old, cur = cur, id
		}
		return old, cur
	}
	oldA, curA := build(a, "dockhand.test/prune-a:"+a.Session())
	oldB, curB := build(b, "dockhand.test/prune-b:"+b.Session())
	require.NotEqual(t, oldA, curA)
	// Someone else's `docker build` FROM a's image, twice under one tag: the
	// first is left dangling, and it inherited all of a's build labels.
	derivedTag := "dockhand.test/prune-derived:" + a.Session()
	derivedOld := apiBuild(t, ctx, a, derivedTag, "FROM dockhand.test/prune-a:"+a.Session()+"\nRUN echo 1 > /g\n", nil)
	t.Cleanup(func() {
		_, _ = a.API().ImageRemove(context.Background(), derivedOld, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	apiBuild(t, ctx, a, derivedTag, "FROM dockhand.test/prune-a:"+a.Session()+"\nRUN echo 2 > /g\n", nil)
	ii, err := a.API().ImageInspect(ctx, derivedOld)
	require.NoError(t, err)
	require.Empty(t, ii.RepoTags, "the first derived build is dangling")
	require.Equal(t, a.Session(), ii.Config.Labels[lifecycle.LabelBuildSession], "and carries a's inherited build labels")

	reclaimed, err := a.PruneImages(ctx)
	require.NoError(t, err)
	assert.Positive(t, reclaimed, "the dangling image's layer is reclaimed")
	assert.False(t, imageExists(ctx, a, oldA), "a's dangling build is pruned")
	assert.True(t, imageExists(ctx, a, curA), "a's tagged build stays")
	assert.True(t, imageExists(ctx, a, oldB), "b's dangling build is not a's to prune")
	assert.True(t, imageExists(ctx, a, derivedOld), "a dangling image built FROM a's is not a's to prune")
	assert.True(t, imageExists(ctx, a, curB))

	// Cleanup removes each client's tagged build; b's dangling one is
	// its Cleanup's too. (The derived images go first: an image with
	// children is the engine's to keep.)
	for _, ref := range []string{derivedTag, derivedOld} {
		_, err := a.API().ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
		require.NoError(t, err)
	}
	require.NoError(t, a.Cleanup(ctx))
	require.NoError(t, b.Cleanup(ctx))
	for _, id := range []string{curA, oldB, curB} {
		assert.False(t, imageExists(ctx, a, id), "%s removed by Cleanup", id)
	}
}

// A tag someone else gives a built image is theirs: Cleanup removes the
// tags the build made and leaves the image with the other one.
func TestCleanupKeepsATagSomeoneElseAdded(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	c := testbench.Client(t)
	img := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/Dockerfile", []byte("FROM "+img+"\nLABEL tagged=twice\n"), 0o644))
	tag := "dockhand.test/ours:" + c.Session()
	id, err := c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	theirs := "dockhand.test/theirs:" + c.Session()
	require.NoError(t, c.API().ImageTag(ctx, tag, theirs))
	t.Cleanup(func() {
		_, _ = c.API().ImageRemove(context.Background(), theirs, image.RemoveOptions{Force: true, PruneChildren: true})
	})

	require.NoError(t, c.Cleanup(ctx))
	assert.False(t, imageExists(ctx, c, tag), "the build's own tag is removed")
	ii, err := c.API().ImageInspect(ctx, theirs)
	require.NoError(t, err, "the image stays under the other tag")
	assert.Equal(t, id, ii.ID)
	owned, err := c.Owned(ctx)
	require.NoError(t, err)
	assert.True(t, owned.Empty(), "an image left with only someone else's tag is not owned: %s", owned)
}

// A network and a volume whose creator is provably gone, but which a
// container that stays still uses (here a stopped container Dockhand did
// not make: a stack that adopted them), are kept: removing the network
// would break the container's next start, the volume would lose its data.
func TestSweepKeepsWhatAStayingContainerUses(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	boot, pidns, timens := procIdentity(t)
	hostname, _ := os.Hostname()
	pid := deadPID(t)
	dead := map[string]string{lifecycle.LabelManaged: "true", lifecycle.LabelSession: "forged-" + c.Session(),
		lifecycle.LabelClient: "forged", lifecycle.LabelPersistent: "", lifecycle.LabelPID: strconv.Itoa(pid),
		lifecycle.LabelHost:  hostname,
		lifecycle.LabelOwner: fmt.Sprintf("pid=%d,start=1,boot=%s,pidns=%d,timens=%d", pid, boot, pidns, timens)}
	name := func(what string) string { return "dockhand-adopted-" + what + "-" + c.Session() }

	// Used by a stopped container that stays.
	net, err := c.API().NetworkCreate(ctx, name("net"), network.CreateOptions{Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().NetworkRemove(context.Background(), net.ID) })
	_, err = c.API().VolumeCreate(ctx, volume.CreateOptions{Name: name("vol"), Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), name("vol"), true) })
	user, err := c.API().ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"true"}},
		&container.HostConfig{NetworkMode: container.NetworkMode(name("net")),
			Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name("vol"), Target: "/data"}}},
		nil, nil, name("user"))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.API().ContainerRemove(context.Background(), user.ID, container.RemoveOptions{Force: true})
	})
	// The control: the same dead owner, used by nothing.
	spareNet, err := c.API().NetworkCreate(ctx, name("spare-net"), network.CreateOptions{Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().NetworkRemove(context.Background(), spareNet.ID) })
	_, err = c.API().VolumeCreate(ctx, volume.CreateOptions{Name: name("spare-vol"), Labels: dead})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), name("spare-vol"), true) })

	var log testbench.Buffer
	sweeper := testbench.Client(t, lifecycle.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	swept, err := sweeper.Sweep(ctx)
	require.NoError(t, err)
	assert.NotContains(t, swept.Networks, name("net"))
	assert.NotContains(t, swept.Volumes, name("vol"))
	_, err = c.API().NetworkInspect(ctx, net.ID, network.InspectOptions{})
	assert.NoError(t, err, "the network a stopped container that stays is connected to is kept")
	_, err = c.API().VolumeInspect(ctx, name("vol"))
	assert.NoError(t, err, "the volume a container that stays mounts is kept")
	assert.Contains(t, log.String(), "a container that stays is connected to it")
	assert.Contains(t, log.String(), "a container that stays mounts it")
	require.NoError(t, c.API().ContainerStart(ctx, user.ID, container.StartOptions{}), "the kept container still starts")

	_, err = c.API().NetworkInspect(ctx, spareNet.ID, network.InspectOptions{})
	assert.Error(t, err, "the control network, used by nothing, is swept")
	_, err = c.API().VolumeInspect(ctx, name("spare-vol"))
	assert.Error(t, err, "the control volume, used by nothing, is swept")
}
