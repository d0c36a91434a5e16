package compose

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// goal is what a wait waits for.
type goal int

const (
	goalStarted   goal = iota // the container has been started (service_started)
	goalHealthy               // health status healthy (service_healthy)
	goalCompleted             // exited with code 0 (service_completed_successfully)
	goalReady                 // running, or healthy if it has a healthcheck (up --wait)
)

func (g goal) String() string {
	return [...]string{"started", "healthy", "completed successfully", "running"}[g]
}

// errState is a definite failure: the container cannot reach the goal.
type errState struct{ msg string }

func (e *errState) Error() string { return e.msg }

// waitFor waits until container id reaches g, driven by the engine's
// event stream: it subscribes first (replaying events from a second
// before, so none is lost between subscribing and looking), then looks at
// the state, and looks again on each event of the container. No polling.
// It returns the last inspection: on success, the one at the goal.
func waitFor(ctx context.Context, api client.APIClient, id, name string, g goal, allowExit0 bool) (container.InspectResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	msgs, errs := api.Events(ctx, events.ListOptions{
		Since:   since,
		Filters: filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("container", id)),
	})
	for {
		ins, err := api.ContainerInspect(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return ins, fmt.Errorf("container %s: waiting to be %s: %w", name, g, ctx.Err())
			}
			return ins, &errState{fmt.Sprintf("container %s: %v", name, err)}
		}
		done, err := reached(ins, name, g, allowExit0)
		if done || err != nil {
			return ins, err
		}
		select {
		case <-msgs:
		case err := <-errs:
			if ctx.Err() != nil {
				return ins, fmt.Errorf("container %s: waiting to be %s: %w", name, g, ctx.Err())
			}
			return ins, fmt.Errorf("container %s: event stream: %w", name, err)
		case <-ctx.Done():
			return ins, fmt.Errorf("container %s: waiting to be %s: %w", name, g, ctx.Err())
		}
	}
}

// reached tells whether the inspected container is at the goal, or can
// never get there (an error).
func reached(ins container.InspectResponse, name string, g goal, allowExit0 bool) (bool, error) {
	st := ins.State
	if st == nil {
		return false, nil
	}
	exited := st.Status == "exited" || st.Status == "dead"
	hasHealth := ins.Config != nil && ins.Config.Healthcheck != nil && len(ins.Config.Healthcheck.Test) > 0 && ins.Config.Healthcheck.Test[0] != "NONE"
	switch g {
	case goalStarted:
		return st.Status != "created", nil
	case goalCompleted:
		if !exited {
			return false, nil
		}
		if st.ExitCode != 0 {
			return false, &errState{fmt.Sprintf("container %s exited with code %d", name, st.ExitCode)}
		}
		return true, nil
	case goalHealthy, goalReady:
		if g == goalHealthy && !hasHealth {
			return false, &errState{fmt.Sprintf("container %s has no healthcheck configured", name)}
		}
		if exited {
			if g == goalReady && allowExit0 && st.ExitCode == 0 {
				return true, nil
			}
			if st.Restarting {
				return false, nil
			}
			return false, &errState{fmt.Sprintf("container %s exited with code %d", name, st.ExitCode)}
		}
		if !hasHealth {
			return st.Running, nil
		}
		if st.Health == nil {
			return false, nil
		}
		switch st.Health.Status {
		case container.Healthy:
			return true, nil
		case container.Unhealthy:
			return false, &errState{fmt.Sprintf("container %s is unhealthy", name)}
		}
		return false, nil
	}
	return false, nil
}
