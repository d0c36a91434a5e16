package lifecycle_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

func TestPauseUnpause(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	// A busy loop writing a counter, so there are processes to freeze.
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", `i=0; echo ready; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done`))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	require.NoError(t, waitfor.Wait(ctx, ctr.LogLine(regexp.MustCompile(`^ready$`), 1)))

	require.NoError(t, ctr.Pause(ctx))
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "paused", st.Status)
	_, err = ctr.Exec(ctx, []string{"true"})
	require.Error(t, err, "the engine refuses exec in a paused container")
	require.Error(t, ctr.Pause(ctx), "pausing twice is an error")

	require.NoError(t, ctr.Unpause(ctx))
	st, err = ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	res, err := ctr.Exec(ctx, []string{"cat", "/tmp/n"})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Stdout)

	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	require.ErrorIs(t, ctr.Pause(ctx), lifecycle.ErrNotFound)
	require.ErrorIs(t, ctr.Unpause(ctx), lifecycle.ErrNotFound)
}
