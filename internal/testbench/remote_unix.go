//go:build unix

package testbench

import "syscall"

// killGroup kills the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// killPid kills the process pid.
func killPid(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// pidAlive reports whether a process pid exists.
func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
