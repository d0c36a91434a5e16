package lifecycle

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
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
			if n, ok := killProcessTree(ins.Pid, ct.id); ok {
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

// killProcessTree sends SIGKILL to pid and its descendants, each checked
// to belong to the container (its id in /proc/<pid>/cgroup), and returns
// how many it killed. ok is false when pid is not the container's process
// on this host.
func killProcessTree(pid int, containerID string) (killed int, ok bool) {
	if !inContainer(pid, containerID) {
		return 0, false
	}
	tree := []int{pid}
	children := childrenOf()
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	// Stop them all first, so none forks a new child while its parent dies.
	for _, p := range tree {
		if inContainer(p, containerID) && syscall.Kill(p, syscall.SIGSTOP) == nil {
			killed++
		}
	}
	for _, p := range tree {
		if inContainer(p, containerID) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	return killed, true
}

// inContainer reports whether process pid on this host is in the cgroup
// of the container.
func inContainer(pid int, containerID string) bool {
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	return err == nil && containerID != "" && bytes.Contains(cg, []byte(containerID))
}

// childrenOf maps each process on this host to its children, from the
// parent pid in /proc/<pid>/stat.
func childrenOf() map[int][]int {
	out := map[int][]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parens.
		i := bytes.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			out[ppid] = append(out[ppid], pid)
		}
	}
	return out
}
