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

func TestTop(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo ready; exec sleep 86400"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	require.NoError(t, waitfor.Wait(ctx, ctr.LogLine(regexp.MustCompile(`^ready$`), 1)))

	top, err := ctr.Top(ctx)
	require.NoError(t, err)
	require.Contains(t, top.Titles, "CMD")
	cmd := indexOf(top.Titles, "CMD")
	require.Len(t, top.Processes, 1)
	assert.Equal(t, "sleep 86400", top.Processes[0][cmd])

	top, err = ctr.Top(ctx, "-o", "pid,comm")
	require.NoError(t, err)
	assert.Equal(t, []string{"PID", "COMMAND"}, top.Titles)
	require.Len(t, top.Processes, 1)
	assert.Equal(t, "sleep", top.Processes[0][1])

	require.NoError(t, ctr.Kill(ctx))
	_, err = ctr.Wait(ctx)
	require.NoError(t, err)
	_, err = ctr.Top(ctx)
	require.ErrorIs(t, err, lifecycle.ErrConflict, "a stopped container has no processes to list")
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
