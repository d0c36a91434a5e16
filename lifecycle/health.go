package lifecycle

import (
	"context"
	"errors"
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
// healthy. It fails at once (waitfor.Permanent) if the container has no
// healthcheck, or exits, is OOM-killed or is removed while waiting.
func (ct *Container) Healthy() waitfor.Condition {
	if err := ct.valid("healthy"); err != nil {
		return invalidCond{err}
	}
	return healthyCond{ct}
}

type healthyCond struct{ ct *Container }

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
	hs := ins.State.Health
	switch {
	case hs != nil && hs.Status == container.Healthy:
		return true, nil
	case !ins.State.Running:
		return false, fmt.Errorf("container %s is %s", h.ct, ins.State.Status)
	case hs == nil:
		return false, fmt.Errorf("container %s has no health status yet", h.ct)
	}
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
	return false, errors.New(msg)
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
