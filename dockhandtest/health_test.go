package dockhandtest_test

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Spec.Healthcheck is the container's healthcheck, and Start waits until
// it reports healthy: a check that passes makes the server ready, one
// that never passes fails Start after ReadyTimeout with the engine's
// account of the last check, leaving nothing behind.
func TestServiceHealthcheck(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	run := "RUN=" + testbench.RandomName("health")
	ctx := testbench.CtxFor(t, 2*time.Minute)

	hc := &container.HealthConfig{Test: []string{"CMD-SHELL", "test -f /tmp/ok"}, Interval: 100 * time.Millisecond}
	srv := dockhandtest.Start(t, dockhandtest.Spec{Name: "health", Image: img, Env: []string{run},
		Cmd: []string{"sh", "-c", "touch /tmp/ok; exec sleep 300"}, Healthcheck: hc})
	ins, err := srv.Container().Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, hc, ins.Config.Healthcheck)
	require.NotNil(t, ins.State.Health)
	assert.Equal(t, container.Healthy, ins.State.Health.Status, "ready means healthy")

	spec := dockhandtest.Spec{Name: "health", Image: img, Env: []string{run}, Cmd: []string{"sleep", "300"},
		Healthcheck:  &container.HealthConfig{Test: []string{"CMD", "false"}, Interval: 100 * time.Millisecond},
		ReadyTimeout: 2 * time.Second}
	key := dockhandtest.KeyOf(t, c, spec)
	_, err = dockhandtest.StartErr(ctx, c, spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "health status unhealthy")
	assert.Contains(t, err.Error(), "last check exited 1")
	testbench.NothingLeft(t, c, key)
}
