//go:build linux

package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// currentOwner reads this process's identity from /proc. It fails when
// /proc belongs to another pid namespace than this process (a pid
// namespace entered without mounting its own /proc): pids read there
// would not be the pids this process sees, so nothing could be proven.
func currentOwner() (owner, error) {
	pid := os.Getpid()
	link, err := os.Readlink("/proc/self")
	if err != nil {
		return owner{}, fmt.Errorf("reading /proc/self: %w", err)
	}
	if link != strconv.Itoa(pid) {
		return owner{}, fmt.Errorf("/proc is mounted for another pid namespace (/proc/self is %s, pid is %d)", link, pid)
	}
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return owner{}, fmt.Errorf("reading boot id: %w", err)
	}
	boot := strings.TrimSpace(string(b))
	if !validBootID(boot) {
		return owner{}, fmt.Errorf("malformed boot id %q", boot)
	}
	pidns, err := nsInode("/proc/self/ns/pid")
	if err != nil {
		return owner{}, err
	}
	timens, err := nsInode("/proc/self/ns/time")
	if errors.Is(err, os.ErrNotExist) {
		timens, err = 0, nil // kernel older than 5.6: no time namespaces
	}
	if err != nil {
		return owner{}, err
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return owner{}, fmt.Errorf("reading /proc/self/stat: %w", err)
	}
	_, start, err := parseStat(stat)
	if err != nil {
		return owner{}, err
	}
	return owner{pid: pid, start: start, host: hostID{boot: boot, pidns: pidns, timens: timens}}, nil
}

// nsInode reads the inode number of a namespace link ("pid:[4026531836]").
func nsInode(path string) (uint64, error) {
	link, err := os.Readlink(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	_, rest, ok := strings.Cut(link, ":[")
	n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if !ok || !strings.HasSuffix(rest, "]") || err != nil || n == 0 {
		return 0, fmt.Errorf("malformed namespace link %s -> %q", path, link)
	}
	return n, nil
}

// probeOwner looks for the owner process in this pid namespace. The
// caller has checked that the owner's boot and namespaces are ours.
// kill(pid, 0) answers "no such process" even where /proc hides other
// users' processes (hidepid); a process that exists is the owner only if
// its start time matches, and one that has exited but was not yet reaped
// (a zombie) is gone too. Any other answer is "cannot tell".
func probeOwner(o owner) liveness {
	err := syscall.Kill(o.pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return ownerGone
	}
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return ownerUnknown
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(o.pid) + "/stat")
	if err != nil {
		return ownerUnknown
	}
	state, start, err := parseStat(b)
	switch {
	case err != nil:
		return ownerUnknown
	case start != o.start:
		return ownerGone // the pid was reused by a later process
	case state == 'Z' || state == 'X':
		return ownerGone // exited, not yet reaped by its parent
	}
	return ownerAlive
}
