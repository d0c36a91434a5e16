package lifecycle

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"

	"github.com/dockhand/dockhand/waitfor"
)

// The conditions of docker compose's depends_on and up --wait, for any
// user of this package: Started (service_started), Healthy with
// WithFailUnhealthy (service_healthy), Exited(0)
// (service_completed_successfully) and Ready (up --wait). Like every
// condition here they follow the engine's event stream as Watchers and
// fail at once with a Permanent *ExitError when the container can never
// get there.

// Started is ready once the container has been started: its state is no
// longer "created" (it may be running, restarting, or have exited since).
// It fails at once (a Permanent *ExitError) if the container is removed
// first.
func (ct *Container) Started() waitfor.Condition {
	if err := ct.valid("started"); err != nil {
		return invalidCond{err}
	}
	return startedCond{ct}
}

type startedCond struct{ ct *Container }

func (s startedCond) String() string { return s.ct.condName("started") }

func (s startedCond) Check(ctx context.Context) error { return s.ct.checkOnce(ctx, s.decide) }

func (s startedCond) Watch(ctx context.Context) error {
	return s.ct.watchEvents(ctx, []string{"start", "die", "destroy"}, s.decide,
		func(m events.Message) bool { return m.Action == events.ActionStart })
}

func (s startedCond) decide(_ context.Context, ins container.InspectResponse) (bool, error) {
	if st := ins.State; st.Status == "created" || st.Status == "" {
		return false, fmt.Errorf("container %s is created, not started yet", s.ct)
	}
	return true, nil
}

// Ready is ready when the container runs and, if it has a healthcheck,
// reports healthy: what docker compose up --wait waits for. A container
// that restarts is waited for. It fails at once (a Permanent *ExitError
// with the last log lines) when the container stops for good, unless
// WithExitZero lets an exit with code 0 count as ready (a one-shot job),
// and, with WithFailUnhealthy, when its healthcheck reports unhealthy.
func (ct *Container) Ready(opts ...ReadyOption) waitfor.Condition {
	if err := ct.valid("ready"); err != nil {
		return invalidCond{err}
	}
	s, err := applyOpts("Ready", opts, ReadyOption.applyReady)
	if err != nil {
		return invalidCond{err}
	}
	return readyCond{ct, *s}
}

type readyCond struct {
	ct *Container
	s  condSettings
}

func (r readyCond) String() string {
	if r.s.exitZero {
		return r.ct.condName("ready (running, healthy if it has a healthcheck, or exited with code 0)")
	}
	return r.ct.condName("ready (running, healthy if it has a healthcheck)")
}

func (r readyCond) Check(ctx context.Context) error { return r.ct.checkOnce(ctx, r.decide) }

func (r readyCond) Watch(ctx context.Context) error {
	return r.ct.watchEvents(ctx, []string{"start", "restart", "health_status", "die", "oom", "destroy"}, r.decide, nil)
}

func (r readyCond) decide(ctx context.Context, ins container.InspectResponse) (bool, error) {
	st := ins.State
	if stoppedStatus(st) {
		if r.s.exitZero && st.ExitCode == 0 && !st.OOMKilled && st.Status != "removed" {
			return true, nil
		}
		return true, r.ct.stopped(ctx, ins)
	}
	if !st.Running || st.Restarting {
		return false, fmt.Errorf("container %s is %s", r.ct, st.Status)
	}
	if !hasHealthcheck(ins) {
		return true, nil
	}
	return healthVerdict(ctx, r.ct, ins, r.s.failUnhealthy)
}

// healthVerdict judges the health of a running container with a
// healthcheck: done when healthy, a Permanent *ExitError when unhealthy
// and failUnhealthy, else not yet, saying why.
func healthVerdict(ctx context.Context, ct *Container, ins container.InspectResponse, failUnhealthy bool) (bool, error) {
	hs := ins.State.Health
	switch {
	case hs == nil:
		return false, fmt.Errorf("container %s has no health status yet", ct)
	case hs.Status == container.Healthy:
		return true, nil
	case hs.Status == container.Unhealthy && failUnhealthy:
		return true, waitfor.Permanent(ct.unhealthyErr(ctx, ins))
	}
	return false, fmt.Errorf("container %s: %s", ct, healthDetail(hs))
}

// unhealthyErr is the *ExitError of a container whose healthcheck failed:
// it still runs, but a wait that fails on unhealthy is over.
func (ct *Container) unhealthyErr(ctx context.Context, ins container.InspectResponse) *ExitError {
	e := ct.exitErr(ctx, ins)
	e.Status, e.ExitCode, e.OOMKilled = "unhealthy", -1, false
	e.detail = healthDetail(ins.State.Health)
	return e
}
