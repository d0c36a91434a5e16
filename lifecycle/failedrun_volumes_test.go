package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// volumeGone asserts that the volume does not exist (and removes it if it
// does, so a failure leaks nothing).
func volumeGone(ctx context.Context, t *testing.T, c *lifecycle.Client, name, why string) {
	t.Helper()
	_, err := c.API().VolumeInspect(ctx, name)
	if !assert.True(t, cerrdefs.IsNotFound(err), "%s: volume %s left (inspect: %v)", why, name, err) {
		_ = c.API().VolumeRemove(context.Background(), name, true)
	}
}

// A Run the engine rejects at create (the name is taken) removes the named
// volume it created for it, and keeps the one that was there before.
func TestFailedCreateRemovesTheVolumesItMade(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img := testbench.BusyboxImage(t, c)
	taken := "dh-volfail-" + c.Session()[:8]
	first, err := c.Run(ctx, img, lifecycle.WithName(taken), lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit())
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Remove(context.Background(), lifecycle.WithForce()) })
	kept := taken + "-kept"
	_, err = c.CreateVolume(ctx, kept)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveVolume(context.Background(), kept) })
	fresh := taken + "-fresh"

	for _, verb := range []string{"Run", "Create"} {
		opts := []lifecycle.RunOption{lifecycle.WithName(taken), lifecycle.WithCmd("true"),
			lifecycle.WithVolumes(fresh+":/fresh", kept+":/kept")}
		if verb == "Run" {
			_, err = c.Run(ctx, img, opts...)
		} else {
			_, err = c.Create(ctx, img, opts...)
		}
		require.Error(t, err, "%s with a name in use", verb)
		assert.True(t, errors.Is(err, lifecycle.ErrConflict), "%s: %v", verb, err)
		volumeGone(ctx, t, c, fresh, verb+" rejected at create")
		_, err = c.API().VolumeInspect(ctx, kept)
		assert.NoError(t, err, "%s removed a volume it did not create", verb)
	}
}

// A Run whose start fails (a fault injected by the proxy) removes its
// container and the named volume it created for it.
func TestFailedStartRemovesTheVolumesItMade(t *testing.T) {
	p, c := faultClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img := testbench.BusyboxImage(t, c)
	fresh := "dh-volfail-start-" + c.Session()[:8]
	p.Inject(testbench.Rule{Method: "POST", Path: "/containers/*/start", Action: testbench.Fail500, Message: "start broken"})
	_, err := c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithVolumes(fresh+":/fresh"))
	p.Clear()
	require.Error(t, err)
	require.Positive(t, p.Injected(), "no fault was injected: the test proves nothing")
	var re *lifecycle.RunError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Removed, "the container of the failed Run was not removed")
	assert.Contains(t, err.Error(), "start broken")
	volumeGone(ctx, t, c, fresh, "Run failed at start")
}
