package lifecycle_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shared container outlives the process that created it while another
// holder lives: Sweep keeps it (and the network and volume it uses), and
// removes it once the last holder has released its hold.
func TestSweepKeepsHeldSharedContainer(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	key := "sweeptest-" + c.Session()

	// This process holds the key first, as a test process would.
	h, err := c.Hold(ctx, key)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = h.Release(context.Background()) })

	// The creator holds it too, makes the shared container and dies; so
	// does a process of an earlier version, whose hold is a network.
	creator := startSweepChild(t, childOpts{img: img, shared: key})
	t.Cleanup(func() { removeByName(c, creator.name) })
	old := startSweepChild(t, childOpts{img: img, shared: key, legacy: true})
	t.Cleanup(func() { removeByName(c, old.name) })
	t.Cleanup(func() { removeHolds(c, key) })
	live, err := c.Holders(ctx, key)
	require.NoError(t, err)
	assert.Len(t, live, 3, "this process, the creator and the earlier version's process hold the key")
	creator.kill()
	old.kill()

	live, err = c.Holders(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{h.Name()}, live, "a dead holder no longer counts")
	require.Len(t, holdsOf(t, ctx, c, key), 3, "their holds stay until someone removes them")

	swept, err := c.Sweep(ctx)
	require.NoError(t, err)
	assert.NotContains(t, swept.Containers, creator.name, "a live holder keeps the shared container")
	assert.Equal(t, creator.resources(), exists(t, ctx, c, creator.name), "its network and volume stay with it")
	assert.Equal(t, []string{h.Name()}, holdsOf(t, ctx, c, key), "Sweep removed the dead processes' holds (volume and network), not ours")

	last, err := h.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last, "no other live holder")
	assert.Empty(t, holdsOf(t, ctx, c, key), "Release removed our hold")

	swept, err = c.Sweep(ctx)
	require.NoError(t, err)
	assert.Contains(t, swept.Containers, creator.name, "no holder left: the shared container is swept")
	assert.Equal(t, lifecycle.Resources{}, exists(t, ctx, c, creator.name))
}

func TestHoldRejectsBadKey(t *testing.T) {
	c := testbench.Client(t)
	_, err := c.Hold(context.Background(), "bad key/")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"bad key/"`)
}

// holdsOf lists the holds of key straight from the engine: volumes, and
// networks (as earlier versions made them).
func holdsOf(t *testing.T, ctx context.Context, c *lifecycle.Client, key string) []string {
	t.Helper()
	vols, err := c.API().VolumeList(ctx, volume.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, v := range vols.Volumes {
		if v.Labels[lifecycle.LabelHolds] == key {
			out = append(out, v.Name)
		}
	}
	nets, err := c.API().NetworkList(ctx, network.ListOptions{})
	require.NoError(t, err)
	for _, n := range nets {
		if n.Labels[lifecycle.LabelHolds] == key {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out
}

// The last holder's Release removes the holds of processes proven gone,
// its own version's (volumes) and earlier versions' (networks); a live
// process of an earlier version still counts as a holder.
func TestReleaseRemovesGoneHolds(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	key := "releasetest-" + c.Session()
	h, err := c.Hold(ctx, key)
	require.NoError(t, err)
	dead := startSweepChild(t, childOpts{img: img, shared: key})
	t.Cleanup(func() { removeByName(c, dead.name) })
	old := startSweepChild(t, childOpts{img: img, shared: key, legacy: true})
	t.Cleanup(func() { removeByName(c, old.name) })
	t.Cleanup(func() { removeHolds(c, key) })
	dead.kill()

	live, err := c.Holders(ctx, key)
	require.NoError(t, err)
	require.Len(t, live, 2, "this process and the earlier version's live process: %v", live)
	last, err := h.Release(ctx)
	require.NoError(t, err)
	assert.False(t, last, "a live holder of an earlier version remains")
	assert.Len(t, holdsOf(t, ctx, c, key), 2, "not the last: the gone hold is left for the last holder (or Sweep)")

	h2, err := c.Hold(ctx, key)
	require.NoError(t, err)
	old.kill()
	last, err = h2.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last)
	assert.Empty(t, holdsOf(t, ctx, c, key), "the last holder removed the gone holds, volume and network")
}

// removeHolds removes what holds of key a test that stopped early left.
func removeHolds(c *lifecycle.Client, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := filters.NewArgs(filters.Arg("label", lifecycle.LabelHolds+"="+key))
	if vols, err := c.API().VolumeList(ctx, volume.ListOptions{Filters: f}); err == nil {
		for _, v := range vols.Volumes {
			_ = c.API().VolumeRemove(ctx, v.Name, false)
		}
	}
	if nets, err := c.API().NetworkList(ctx, network.ListOptions{Filters: f}); err == nil {
		for _, n := range nets {
			_ = c.API().NetworkRemove(ctx, n.ID)
		}
	}
}

// A hold is a plain labelled volume that nothing mounts, owned by this
// process: no network (no address pool, no bridge), so pruning networks
// cannot take it.
func TestHoldIsAVolume(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	key := "holdvolume-" + c.Session()
	h, err := c.Hold(ctx, key)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = h.Release(context.Background()) })
	assert.Equal(t, key, h.Key())

	v, err := c.API().VolumeInspect(ctx, h.Name())
	require.NoError(t, err)
	assert.Equal(t, "local", v.Driver)
	assert.Empty(t, v.Options, "no driver options: nothing is mounted or reserved")
	assert.Equal(t, key, v.Labels[lifecycle.LabelHolds])
	assert.Contains(t, v.Labels[lifecycle.LabelOwner], "pid=", "owned by this process")
	_, err = c.API().NetworkInspect(ctx, h.Name(), network.InspectOptions{})
	assert.Error(t, err, "no network")

	// What `docker network prune --filter label=...` would do to it.
	_, err = c.API().NetworksPrune(ctx, filters.NewArgs(filters.Arg("label", lifecycle.LabelHolds+"="+key)))
	require.NoError(t, err)
	live, err := c.Holders(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{h.Name()}, live, "pruning networks leaves the hold")

	last, err := h.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last)
	assert.Empty(t, holdsOf(t, ctx, c, key))
	last, err = h.Release(ctx)
	require.NoError(t, err, "idempotent")
	assert.True(t, last)
}

// Another process (a watchdog) releases the hold of a process that ended
// by its key and name; it touches nothing but a hold of that key.
func TestReleaseHoldOfAnotherProcess(t *testing.T) {
	sweepProves(t)
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	key := "releasehold-" + c.Session()
	h, err := c.Hold(ctx, key)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = h.Release(context.Background()) })
	child := startSweepChild(t, childOpts{img: img, shared: key})
	t.Cleanup(func() { removeByName(c, child.name) })
	t.Cleanup(func() { removeHolds(c, key) })
	var theirs string
	for _, n := range holdsOf(t, ctx, c, key) {
		if n != h.Name() {
			theirs = n
		}
	}
	require.NotEmpty(t, theirs, "the child's hold")
	child.kill()

	last, err := c.ReleaseHold(ctx, key, theirs)
	require.NoError(t, err)
	assert.False(t, last, "this process still holds the key")
	assert.Equal(t, []string{h.Name()}, holdsOf(t, ctx, c, key), "the child's hold is gone, ours stays")
	last, err = c.ReleaseHold(ctx, key, theirs)
	require.NoError(t, err, "released already: nothing to do")
	assert.False(t, last)

	// Bad input, named, before any engine call.
	_, err = c.ReleaseHold(ctx, "bad key/", theirs)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"bad key/"`)
	_, err = c.ReleaseHold(ctx, key, "mydata")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"mydata"`)
	// A volume named like a hold that Dockhand did not label as one.
	plain := "dockhand-hold-" + key + "-1-plain"
	_, err = c.API().VolumeCreate(ctx, volume.CreateOptions{Name: plain})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.API().VolumeRemove(context.Background(), plain, true) })
	_, err = c.ReleaseHold(ctx, key, plain)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), plain)
	_, err = c.API().VolumeInspect(ctx, plain)
	assert.NoError(t, err, "not a hold: never removed")

	last, err = h.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last)
}

// The last holder's count and its removal race new holders: one that
// holds after the last holder counted (and may already have found the
// container by name) keeps the container, with its name; with no holder
// left, RemoveShared removes it.
func TestRemoveSharedRecountsHolders(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	key := "removeshared-" + c.Session()
	a, err := c.Hold(ctx, key)
	require.NoError(t, err)
	ct, err := c.Run(ctx, img, lifecycle.WithName(key), lifecycle.WithCmd("sleep", "300"),
		lifecycle.WithLabels(map[string]string{lifecycle.LabelShared: key}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ct.Remove(context.Background(), lifecycle.WithForce()) })

	last, err := a.Release(ctx)
	require.NoError(t, err)
	require.True(t, last, "A is the last holder")
	// B holds in the window between A's count and A's removal.
	b, err := c.Hold(ctx, key)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = b.Release(context.Background()) })

	removed, err := c.RemoveShared(ctx, key, ct.ID())
	require.NoError(t, err)
	assert.False(t, removed, "B holds it now")
	found, err := c.Container(ctx, key)
	require.NoError(t, err, "the container has its name back")
	assert.Equal(t, ct.ID(), found.ID())

	last, err = b.Release(ctx)
	require.NoError(t, err)
	require.True(t, last)
	removed, err = c.RemoveShared(ctx, key, ct.ID())
	require.NoError(t, err)
	assert.True(t, removed)
	_, err = c.API().ContainerInspect(ctx, ct.ID())
	assert.Error(t, err, "removed")

	// Bad input: named, before any engine call.
	_, err = c.RemoveShared(ctx, "bad key/", ct.ID())
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"bad key/"`)
}
