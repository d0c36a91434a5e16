//go:build !linux

package testbench

import "syscall"

// ownGroupDyingWithUs: the remote bench needs Linux network namespaces; on
// other systems it is never set up (RemoteBenchUsable says so), and this
// only keeps the package compiling there.
func ownGroupDyingWithUs() *syscall.SysProcAttr { return nil }
