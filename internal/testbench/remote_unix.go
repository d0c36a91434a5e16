//go:build unix

package testbench

import (
	"fmt"
	"os"
	"syscall"
)

// killGroup kills the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// killPid kills the process pid.
func killPid(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// pidAlive reports whether a process pid exists.
func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// benchLockFile serialises the choice of bench subnets between test
// processes (go test runs packages in parallel).
const benchLockFile = "/run/dockhand-remote-bench.lock"

// lockBenchNetworks takes the machine-wide lock on bench subnets.
func lockBenchNetworks() (unlock func(), err error) {
	f, err := os.OpenFile(benchLockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bench lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench lock %s: %w", benchLockFile, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
