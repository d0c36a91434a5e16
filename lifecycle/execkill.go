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
func (ct *Container) killExec(ctx context.Context, execID, what string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		ins, err := ct.c.api.ContainerExecInspect(ctx, execID)
		if err != nil {
			ct.c.logger.Warn("exec outlived its context; cannot inspect it to kill it", "container", ct.String(), "command", what, "error", err)
			return
		}
		if !ins.Running {
			return
		}
		if ins.Pid > 0 {
			if n, ok := killProcessTree(ins.Pid, ct.ID); ok {
				ct.c.logger.Debug("exec outlived its context: killed", "container", ct.String(), "command", what, "processes", n)
				return
			}
			ct.c.logger.Warn("exec outlived its context and is left running: its process is not visible on this host (remote engine?)",
				"container", ct.String(), "command", what)
			return
		}
		// Running, but no pid yet: it is being started.
		if sleep(ctx, delay) != nil {
			return
		}
	}
}
