package dockhandtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
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
	marker := testbench.RandomName("boom")
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
	ctx := testbench.CtxFor(t, 15*time.Minute)
	_, err := dockhandtest.StartErr(ctx, c, spec)
	require.Error(t, err)
	var exit *lifecycle.ExitError
	require.ErrorAs(t, err, &exit, "%v", err)
	assert.Equal(t, 3, exit.ExitCode)
	assert.Contains(t, err.Error(), marker, "the log lines are in the error")

	cts, lerr := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", lifecycle.LabelShared+"="+key))})
	require.NoError(t, lerr)
	assert.Empty(t, cts, "the container is removed")
	assert.Empty(t, testbench.HoldsLeft(t, c, key), "the hold is released")
}

// A container that has the service's name and only inherited Dockhand's
// labels (LabelShared included) from its image is not a service of ours:
// Start refuses it and never removes it.
func TestServiceNameTakenByInheritedLabels(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	spec := dockhandtest.Spec{Name: "inherit", Image: img, Cmd: []string{"sleep", "300"}, Env: []string{"RUN=" + testbench.RandomName("inh")}}
	key := dockhandtest.KeyOf(t, c, spec)
	// An image carrying every label of a shared container of key.
	src, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "300"), lifecycle.WithLabels(map[string]string{lifecycle.LabelShared: key}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Remove(context.Background(), lifecycle.WithForce()) })
	ref := "dockhandtest-inherit/" + testbench.RandomName("i") + ":1"
	// The engine's commit (not lifecycle's, which blanks Dockhand's
	// labels) copies the container's labels to the image.
	_, err = c.API().ContainerCommit(ctx, src.ID(), container.CommitOptions{Reference: ref})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), ref) })
	// A container of it, named key, made without Dockhand.
	made, err := c.API().ContainerCreate(ctx, &container.Config{Image: ref, Cmd: []string{"sleep", "300"}}, nil, nil, nil, key)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.API().ContainerRemove(context.Background(), made.ID, container.RemoveOptions{Force: true})
	})
	require.NoError(t, c.API().ContainerStart(ctx, made.ID, container.StartOptions{}))
	ins, err := c.API().ContainerInspect(ctx, made.ID)
	require.NoError(t, err)
	require.Equal(t, key, ins.Config.Labels[lifecycle.LabelShared], "inherited from the image")

	_, err = dockhandtest.StartErr(ctx, c, spec)
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	assert.Contains(t, err.Error(), key)
	_, err = c.API().ContainerInspect(ctx, made.ID)
	assert.NoError(t, err, "not ours: never removed")
}

// A running service whose holds are gone (docker volume prune) but whose
// maker still lives is not a leftover: the next holder uses it, never
// removes it.
func TestServiceOfLiveOwnerKeptWithoutHolds(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	ctx := testbench.CtxFor(t, 5*time.Minute)
	spec := dockhandtest.Spec{Name: "liveowner", Image: img, Cmd: []string{"sleep", "300"}, Env: []string{"RUN=" + testbench.RandomName("own")}}
	key := dockhandtest.KeyOf(t, c, spec)
	// Made by this (live) process, as find makes it, with no hold left.
	ct, err := c.Run(ctx, img, lifecycle.WithName(key), lifecycle.WithCmd(spec.Cmd...), lifecycle.WithEnv(spec.Env...),
		lifecycle.WithLabels(map[string]string{lifecycle.LabelShared: key}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ct.Remove(context.Background(), lifecycle.WithForce()) })

	srv, err := dockhandtest.StartErr(ctx, c, spec)
	require.NoError(t, err)
	t.Cleanup(func() { releaseOurs(t) })
	assert.Equal(t, ct.ID(), srv.Container().ID(), "its live owner's server is used, not replaced")
}
