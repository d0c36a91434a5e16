package lifecycle_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// A committed image holds the container's files, and no ownership: a
// container made from it is its own client's, and Cleanup keeps the image.
func TestCommit(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ref := "dockhand-commit-test:" + c.Session()
	ct, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo seeded > /seed && sleep 600"), lifecycle.WithInit())
	require.NoError(t, err)
	defer ct.Remove(context.Background(), lifecycle.WithForce())
	require.NoError(t, waitForFile(ctx, ct, "/seed"))

	id, err := ct.Commit(ctx, ref)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), id, lifecycle.WithForce()) })
	im, err := c.InspectImage(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, id, im.ID)
	for _, k := range []string{lifecycle.LabelManaged, lifecycle.LabelSession, lifecycle.LabelClient, lifecycle.LabelOwner} {
		assert.Empty(t, im.Labels[k], "no ownership label %s on the image", k)
	}

	var out strings.Builder
	from, err := c.Run(ctx, ref, lifecycle.WithCmd("cat", "/seed"), lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "seeded\n", out.String(), "the file is in the image")
	require.NoError(t, from.Remove(ctx, lifecycle.WithForce()))

	require.NoError(t, ct.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, c.Cleanup(ctx))
	_, err = c.InspectImage(ctx, ref)
	assert.NoError(t, err, "Cleanup keeps a committed image: it carries no ownership")
}

func TestCommitBadRef(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ct, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit())
	require.NoError(t, err)
	defer ct.Remove(context.Background(), lifecycle.WithForce())
	_, err = ct.Commit(ctx, "Bad Ref")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"Bad Ref"`)
}

func waitForFile(ctx context.Context, ct *lifecycle.Container, name string) error {
	for {
		if _, err := ct.ReadFile(ctx, name); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
