package lifecycle_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
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

	// The creator holds it too, makes the shared container and dies.
	creator := startSweepChild(t, childOpts{img: img, shared: key})
	t.Cleanup(func() { removeByName(c, creator.name) })
	live, err := c.Holders(ctx, key)
	require.NoError(t, err)
	assert.Len(t, live, 2, "this process and the creator hold the key")
	creator.kill()

	live, err = c.Holders(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{h.Name()}, live, "a dead holder no longer counts")
	require.Len(t, holderNets(t, ctx, c, key), 2, "its hold stays until someone removes it")

	swept, err := c.Sweep(ctx)
	require.NoError(t, err)
	assert.NotContains(t, swept.Containers, creator.name, "a live holder keeps the shared container")
	assert.Equal(t, creator.resources(), exists(t, ctx, c, creator.name), "its network and volume stay with it")
	for _, n := range holderNets(t, ctx, c, key) {
		assert.Equal(t, h.Name(), n, "Sweep removed the dead creator's hold, not ours")
	}

	last, err := h.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last, "no other live holder")
	assert.Empty(t, holderNets(t, ctx, c, key), "Release removed our hold")

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

// holderNets lists the holder networks of key straight from the engine.
func holderNets(t *testing.T, ctx context.Context, c *lifecycle.Client, key string) []string {
	t.Helper()
	nets, err := c.API().NetworkList(ctx, network.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, n := range nets {
		if n.Labels[lifecycle.LabelHolds] == key {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out
}

// The last holder's Release removes the holds of processes proven gone.
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
	alive := startSweepChild(t, childOpts{img: img, shared: key})
	t.Cleanup(func() { removeByName(c, alive.name) })
	dead.kill()

	last, err := h.Release(ctx)
	require.NoError(t, err)
	assert.False(t, last, "a live holder remains")
	assert.Len(t, holderNets(t, ctx, c, key), 2, "not the last: the gone hold is left for the last holder (or Sweep)")

	h2, err := c.Hold(ctx, key)
	require.NoError(t, err)
	alive.kill()
	last, err = h2.Release(ctx)
	require.NoError(t, err)
	assert.True(t, last)
	assert.Empty(t, holderNets(t, ctx, c, key), "the last holder removed the gone holds")
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
