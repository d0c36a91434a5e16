package lifecycle

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

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
