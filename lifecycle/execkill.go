package lifecycle

import (
	"context"
	"time"
)

// killExec kills an exec whose caller's context ended before it did, with
// every process it started. API 1.41 has no call to stop an exec, but its
// inspect gives the process's pid on the engine's host: when that host is
// this one and the pid is in the container's cgroup, the process tree is
// sent SIGKILL from here. Otherwise (a remote engine, a Docker Desktop VM,
// another PID namespace) the command is left to end by itself, and a
// warning says so.
// execStartGrace is how long killExec watches an exec that has not
// started for a start that was already on its way.
const execStartGrace = 2 * time.Second

func (ct *Container) killExec(ctx context.Context, execID, what string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Not running and no pid: ended, or not started yet (the start request
	// was cut short but may still reach the engine). Watch a little longer.
	notStarted := time.Now().Add(execStartGrace)
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		ins, err := ct.c.api.ContainerExecInspect(ctx, execID)
		if err != nil {
			ct.c.logger.Warn("exec outlived its context; cannot inspect it to kill it", "container", ct.String(), "command", what, "error", err)
			return
		}
		if !ins.Running && (ins.Pid > 0 || time.Now().After(notStarted)) {
			return
		}
		if ins.Pid > 0 {
			if n, ok := killProcessTree(ins.Pid, ct.id); ok {
				ct.c.logger.Debug("exec outlived its context: killed", "container", ct.String(), "command", what, "processes", n)
				return
			}
			ct.c.logger.Warn("exec outlived its context and is left running: its process is not visible on this host (remote engine?)",
				"container", ct.String(), "command", what)
			return
		}
		// No pid yet: it is being started, or may be.
		if sleep(ctx, delay) != nil {
			return
		}
	}
}
