package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/waitfor"
)

// exitLogLines is how many log lines an *ExitError carries.
const exitLogLines = 10

// ExitError is the Permanent error of a wait on a container that stopped
// for good before the condition held, or that a wait with
// WithFailUnhealthy found unhealthy (Status "unhealthy", ExitCode -1: it
// still runs). errors.As finds it in the error that waitfor.Wait returns.
type ExitError struct {
	Container string   // name, or short id
	Status    string   // "exited", "dead", "unhealthy", or "removed" when it is gone
	ExitCode  int      // -1 when unknown (a container removed before we saw it exit)
	OOMKilled bool     // killed by the kernel for exceeding its memory limit
	Logs      []string // its last log lines (stdout and stderr), oldest first, secrets hidden

	want   string // what the condition wanted, for Exited
	detail string // the health of an unhealthy container
}

func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString("container " + e.Container)
	switch {
	case e.Status == "unhealthy":
		b.WriteString(" is unhealthy")
		if e.detail != "" {
			b.WriteString(" (" + e.detail + ")")
		}
	case e.OOMKilled:
		fmt.Fprintf(&b, " was OOM-killed (out of memory; exit code %d)", e.ExitCode)
	case e.Status == "removed" && e.ExitCode < 0:
		b.WriteString(" was removed")
	case e.Status == "removed":
		fmt.Fprintf(&b, " exited with code %d and was removed", e.ExitCode)
	case e.ExitCode == 137:
		b.WriteString(" exited with code 137 (SIGKILL; the engine saw no OOM kill)")
	default:
		fmt.Fprintf(&b, " exited with code %d", e.ExitCode)
	}
	if e.want != "" {
		b.WriteString(" (" + e.want + ")")
	}
	if len(e.Logs) == 0 {
		if e.Status != "removed" {
			b.WriteString("; its log is empty")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "; last %d log lines:", len(e.Logs))
	for _, l := range e.Logs {
		b.WriteString("\n\t" + l)
	}
	return b.String()
}

// stoppedStatus reports whether a container in state st has stopped for
// good: it cannot become healthy, log or listen any more. A created
// container has not started yet and a restarting one will run again.
func stoppedStatus(st *container.State) bool {
	if st == nil || st.Running || st.Restarting {
		return false
	}
	switch st.Status {
	case "exited", "dead", "removing", "removed":
		return true
	}
	return false
}

// inspectForWait inspects the container; a container that is gone is a
// Permanent error.
func (ct *Container) inspectForWait(ctx context.Context) (container.InspectResponse, error) {
	ins, err := ct.c.api.ContainerInspect(ctx, ct.id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return ins, waitfor.Permanent(&ExitError{Container: ct.String(), Status: "removed", ExitCode: -1})
		}
		return ins, ct.c.lookupErr(err, "inspect container %s", ct)
	}
	if ins.ContainerJSONBase == nil || ins.State == nil {
		return ins, fmt.Errorf("inspect container %s: no state in the engine's answer", ct)
	}
	return ins, nil
}

// exitErr describes a stopped container, with the end of its log.
func (ct *Container) exitErr(ctx context.Context, ins container.InspectResponse) *ExitError {
	st := ins.State
	e := &ExitError{Container: ct.String(), Status: string(st.Status), ExitCode: st.ExitCode, OOMKilled: st.OOMKilled}
	tty := ins.Config != nil && ins.Config.Tty
	e.Logs = ct.lastLogLines(ctx, tty, exitLogLines)
	// A log may print the environment or a connection URL; the error, its
	// %#v and its JSON all show these lines.
	for i, l := range e.Logs {
		e.Logs[i] = redactText(l)
	}
	return e
}

// stopped returns a Permanent *ExitError if the container stopped for good.
func (ct *Container) stopped(ctx context.Context, ins container.InspectResponse) error {
	if !stoppedStatus(ins.State) {
		return nil
	}
	if st := ins.State; st.ExitCode == 137 && !st.OOMKilled {
		// Killed. The engine may learn that it was for want of memory
		// (the oom event) only after the exit: ask again a moment later.
		if ended, err := time.Parse(time.RFC3339Nano, st.FinishedAt); err == nil {
			if wait := time.Until(ended.Add(oomGrace)); wait > 0 && sleep(ctx, wait) == nil {
				if again, err := ct.c.api.ContainerInspect(ctx, ct.id); err == nil && again.ContainerJSONBase != nil && stoppedStatus(again.State) {
					ins = again
				}
			}
		}
	}
	return waitfor.Permanent(ct.exitErr(ctx, ins))
}
