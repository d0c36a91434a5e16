package lifecycle

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"

	"github.com/dockhand/dockhand/waitfor"
)

// Healthy is ready when the container's healthcheck reports it healthy.
// As a Watcher it follows the engine's event stream (health_status events)
// instead of polling, so it returns within milliseconds of the engine
// recording the change; it returns at once if the container already is
// healthy. A restarting container is waited for. It fails at once
// (waitfor.Permanent) if the container has no healthcheck, or exits, is
// OOM-killed or is removed while waiting; with WithFailUnhealthy also when
// the healthcheck reports unhealthy (as docker compose's service_healthy
// does), with an *ExitError whose Status is "unhealthy". Without it, an
// unhealthy container is waited for: a later check may pass.
func (ct *Container) Healthy(opts ...HealthyOption) waitfor.Condition {
	if err := ct.valid("healthy"); err != nil {
		return invalidCond{err}
	}
	s, err := applyOpts("Healthy", opts, HealthyOption.applyHealthy)
	if err != nil {
		return invalidCond{err}
	}
	return healthyCond{ct, *s}
}

type healthyCond struct {
	ct *Container
	s  condSettings
}

func (h healthyCond) String() string { return h.ct.condName("healthy") }

func (h healthyCond) Check(ctx context.Context) error { return h.ct.checkOnce(ctx, h.decide) }

func (h healthyCond) Watch(ctx context.Context) error {
	return h.ct.watchEvents(ctx, []string{"health_status", "die", "oom", "destroy"}, h.decide,
		func(m events.Message) bool { return string(m.Action) == "health_status: healthy" })
}

func (h healthyCond) decide(ctx context.Context, ins container.InspectResponse) (bool, error) {
	if stoppedStatus(ins.State) {
		return true, h.ct.stopped(ctx, ins)
	}
	if !hasHealthcheck(ins) {
		return true, waitfor.Permanent(fmt.Errorf("container %s has no healthcheck (give the image a HEALTHCHECK, or set Config.Healthcheck with WithContainerConfig)", h.ct))
	}
	if hs := ins.State.Health; !ins.State.Running && (hs == nil || hs.Status != container.Healthy) {
		return false, fmt.Errorf("container %s is %s", h.ct, ins.State.Status)
	}
	return healthVerdict(ctx, h.ct, ins, h.s.failUnhealthy)
}

// healthDetail says what the health status is and what the last check said.
func healthDetail(hs *container.Health) string {
	msg := fmt.Sprintf("health status %s", hs.Status)
	if hs.FailingStreak > 0 {
		msg += fmt.Sprintf(", %d failed checks in a row", hs.FailingStreak)
	}
	if n := len(hs.Log); n > 0 {
		last := hs.Log[n-1]
		out := redactText(strings.TrimSpace(last.Output))
		if len(out) > 200 {
			out = out[:200] + "..."
		}
		msg += fmt.Sprintf(", last check exited %d", last.ExitCode)
		if out != "" {
			msg += ": " + out
		}
	}
	return msg
}

// hasHealthcheck reports whether the container (or its image, whose config
// the engine merges into Config) has a healthcheck.
func hasHealthcheck(ins container.InspectResponse) bool {
	if ins.State != nil && ins.State.Health != nil {
		return true
	}
	hc := ins.Config
	if hc == nil || hc.Healthcheck == nil || len(hc.Healthcheck.Test) == 0 {
		return false
	}
	return hc.Healthcheck.Test[0] != "NONE"
}

// Exited is ready when the container has exited with the given code; any
