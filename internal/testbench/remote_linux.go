package testbench

import "syscall"

// ownGroupDyingWithUs puts a bench process (socat, sshd) in a process group
// of its own, killed with the test process if that dies first.
func ownGroupDyingWithUs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
