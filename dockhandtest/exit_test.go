package dockhandtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// A service whose command exits (a bad image, command or environment)
// fails at once with its last log lines and the exit code, is not
// retried, and leaves neither container nor hold behind.
func TestServiceThatExitsFailsFast(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	marker := randomVersion("boom")
	spec := dockhandtest.Spec{
		Name:  "exits",
		Image: img,
		Cmd:   []string{"sh", "-c", "echo " + marker + "; exit 3"},
		Env:   []string{"RUN=" + marker}, // this test's own key
		Ready: func(*dockhandtest.Server) waitfor.Condition {
			return waitfor.Func("never", func(context.Context) error { return errors.New("not yet") })
		},
	}
	key := dockhandtest.KeyOf(t, c, spec)
	ctx := ctxFor(t, 15*time.Minute)
	_, err := dockhandtest.StartErr(ctx, c, spec)
	require.Error(t, err)
	var exit *lifecycle.ExitError
	require.ErrorAs(t, err, &exit, "%v", err)
	assert.Equal(t, 3, exit.ExitCode)
	assert.Contains(t, err.Error(), marker, "the log lines are in the error")

	cts, lerr := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelShared+"="+key))})
	require.NoError(t, lerr)
	assert.Empty(t, cts, "the container is removed")
	nets, lerr := c.API().NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelHolds+"="+key))})
	require.NoError(t, lerr)
	assert.Empty(t, nets, "the hold is released")
}
