package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/lifecycle"
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
type errState struct {
	msg   string
	cause error // the engine's error, if it was one
}

func (e *errState) Error() string { return e.msg }

func (e *errState) Unwrap() error { return e.cause }

// waitFor waits until container id reaches g. lifecycle's event loop
// drives it: it subscribes to the container's events first, then looks at
// the state, and looks again on each event; a cut event stream is
// subscribed to again from the last event seen and the state looked at
// again, and a failed inspection is tried again, so a transient engine
// fault does not fail the wait. It returns the last inspection: on
// success, the one at the goal.
func waitFor(ctx context.Context, c *lifecycle.Client, id, name string, g goal, allowExit0 bool) (container.InspectResponse, error) {
	ins, err := c.WatchContainer(ctx, id, func(ins container.InspectResponse) (bool, error) {
		return reached(ins, name, g, allowExit0)
	})
	switch {
	case err == nil:
		return ins, nil
	case ctx.Err() != nil:
		return ins, fmt.Errorf("container %s: waiting to be %s: %w", name, g, err)
	}
	var st *errState
	if errors.As(err, &st) {
		return ins, st
	}
	return ins, &errState{msg: fmt.Sprintf("container %s: waiting to be %s: %v", name, g, err), cause: err}
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
			return false, &errState{msg: fmt.Sprintf("container %s exited with code %d", name, st.ExitCode)}
		}
		return true, nil
	case goalHealthy, goalReady:
		if g == goalHealthy && !hasHealth {
			return false, &errState{msg: fmt.Sprintf("container %s has no healthcheck configured", name)}
		}
		if exited {
			if g == goalReady && allowExit0 && st.ExitCode == 0 {
				return true, nil
			}
			if st.Restarting {
				return false, nil
			}
			return false, &errState{msg: fmt.Sprintf("container %s exited with code %d", name, st.ExitCode)}
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
			return false, &errState{msg: fmt.Sprintf("container %s is unhealthy", name)}
		}
		return false, nil
	}
	return false, nil
}
