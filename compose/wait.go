package compose

import (
	"context"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// The readiness of compose services is lifecycle's: its conditions follow
// the engine's event stream and fail at once, with an *ExitError (exit
// code, OOM kill, last log lines), when a container can never get there.
//
//   - service_healthy: Healthy with WithFailUnhealthy (an unhealthy
//     dependency fails at once; a restarting one is waited for);
//   - service_completed_successfully: Exited(0) (another exit code fails);
//   - up --wait: Ready with WithFailUnhealthy (and WithExitZero for a
//     service others wait on to complete).

// dependencyCondition is the lifecycle condition of a depends_on condition
// (service_healthy or service_completed_successfully) on one container.
func dependencyCondition(h *lifecycle.Container, condition string) waitfor.Condition {
	if condition == types.ServiceConditionCompletedSuccessfully {
		return h.Exited(0)
	}
	return h.Healthy(lifecycle.WithFailUnhealthy())
}

// watch waits for cond on the engine's event stream (lifecycle's
// conditions are Watchers), or by polling for one that is not.
func watch(ctx context.Context, cond waitfor.Condition) error {
	if w, ok := cond.(waitfor.Watcher); ok {
		return w.Watch(ctx)
	}
	return waitfor.Wait(ctx, cond)
}
