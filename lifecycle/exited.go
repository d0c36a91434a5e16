package lifecycle

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/waitfor"
)

// code will do when code is -1. It fails at once (waitfor.Permanent, an
// *ExitError) when the container exits with another code, or is
// OOM-killed (unless code is 137, the code of a SIGKILL). As a Watcher it
// follows the engine's die events.
func (ct *Container) Exited(code int) waitfor.Condition {
	if err := ct.valid("exited"); err != nil {
		return invalidCond{err}
	}
	return exitedCond{ct, code}
}

type exitedCond struct {
	ct   *Container
	code int
}

func (e exitedCond) String() string {
	if e.code < 0 {
		return e.ct.condName("exited")
	}
	return e.ct.condName("exited with code " + strconv.Itoa(e.code))
}

func (e exitedCond) Check(ctx context.Context) error { return e.ct.checkOnce(ctx, e.decide) }

func (e exitedCond) Watch(ctx context.Context) error {
	return e.ct.watchEvents(ctx, []string{"die", "oom", "destroy"}, e.decide, nil)
}

func (e exitedCond) decide(ctx context.Context, ins container.InspectResponse) (bool, error) {
	st := ins.State
	if !stoppedStatus(st) {
		return false, fmt.Errorf("container %s is %s", e.ct, st.Status)
	}
	if st.OOMKilled && e.code != 137 {
		return true, e.ct.stopped(ctx, ins)
	}
	if e.code < 0 || st.ExitCode == e.code {
		return true, nil
	}
	ee := e.ct.exitErr(ctx, ins)
	ee.want = "want " + strconv.Itoa(e.code)
	return true, waitfor.Permanent(ee)
}
