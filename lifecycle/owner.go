package lifecycle

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// owner identifies the process that owns a resource, well enough to prove
// that it is gone: a pid alone is not enough (pids are reused, and every
// pid namespace and every host has its own), so the identity also holds
// the process's start time and the identity of the machine boot and of
// the pid and time namespaces the pid and start time are counted in.
//
// Its label form (LabelOwner, LabelBuildOwner) is
//
//	pid=4711,start=123456,boot=<boot id>,pidns=4026531836,timens=4026531834
//
// start is field 22 of /proc/<pid>/stat (clock ticks after boot), boot is
// /proc/sys/kernel/random/boot_id, pidns and timens are the inodes of
// /proc/self/ns/pid and /proc/self/ns/time (0 on kernels without time
// namespaces).
type owner struct {
	pid   int
	start uint64
	host  hostID
}

// hostID tells apart the places a pid can be counted in: two machines,
// two boots of one machine, two pid (or time) namespaces of one boot.
type hostID struct {
	boot   string
	pidns  uint64
	timens uint64
}

func (o owner) String() string {
	return fmt.Sprintf("pid=%d,start=%d,boot=%s,pidns=%d,timens=%d", o.pid, o.start, o.host.boot, o.host.pidns, o.host.timens)
}

// errNoOwner reports a missing or malformed owner label.
var errNoOwner = errors.New("no owner identity")

// parseOwner parses an owner label. It accepts only the exact form
// String writes: any other text is not a proof of anything.
func parseOwner(s string) (owner, error) {
	if s == "" {
		return owner{}, fmt.Errorf("%w: empty label", errNoOwner)
	}
	var o owner
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] || v == "" {
			return owner{}, fmt.Errorf("%w: malformed label %q", errNoOwner, s)
		}
		seen[k] = true
		var err error
		switch k {
		case "pid":
			o.pid, err = strconv.Atoi(v)
			if err == nil && o.pid <= 0 {
				err = errors.New("not positive")
			}
		case "start":
			o.start, err = strconv.ParseUint(v, 10, 64)
		case "boot":
			if !validBootID(v) {
				err = errors.New("not a boot id")
			}
			o.host.boot = v
		case "pidns":
			o.host.pidns, err = strconv.ParseUint(v, 10, 64)
			if err == nil && o.host.pidns == 0 {
				err = errors.New("zero")
			}
		case "timens":
			o.host.timens, err = strconv.ParseUint(v, 10, 64)
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return owner{}, fmt.Errorf("%w: malformed label %q (%s: %v)", errNoOwner, s, k, err)
		}
	}
	if len(seen) != 5 {
		return owner{}, fmt.Errorf("%w: incomplete label %q", errNoOwner, s)
	}
	return o, nil
}

// validBootID accepts what /proc/sys/kernel/random/boot_id holds: a UUID
// in lower-case hex (any length up to 64, to stay lenient on its layout).
func validBootID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') && r != '-' {
			return false
		}
	}
	return true
}

// liveness is what a probe of an owner process found.
type liveness int

const (
	ownerUnknown liveness = iota // cannot tell: keep
	ownerAlive                   // the very process (same pid and start time) runs
	ownerGone                    // no such process, or the pid now names another one
)

// self is the identity of this process; ok is false where it cannot be
// read (non-Linux, no /proc, /proc of another pid namespace). It is read
// once, on first use.
var self = sync.OnceValues(currentOwner)

// selfOwnerLabel is the owner label of this process, or "" where it has
// no identity we could prove anything with later.
func selfOwnerLabel() string {
	o, err := self()
	if err != nil {
		return ""
	}
	return o.String()
}

// ownerVerdict decides whether the owner recorded in label is proven
// gone. me is this process's identity (meErr when it has none); probe
// looks at a process of this host and namespace. It returns true only
// for a proven-gone owner, with the reason in either case.
func ownerVerdict(label string, me owner, meErr error, probe func(owner) liveness) (bool, string) {
	o, err := parseOwner(label)
	if err != nil {
		return false, err.Error()
	}
	switch {
	case meErr != nil:
		return false, "this process cannot identify itself: " + meErr.Error()
	case o.host.boot != me.host.boot:
		return false, "owner on another host or an earlier boot"
	case o.host.pidns != me.host.pidns:
		return false, "owner in another pid namespace"
	case o.host.timens != me.host.timens:
		return false, "owner in another time namespace"
	case o.pid == me.pid && o.start == me.start:
		return false, "owner is this process"
	}
	switch probe(o) {
	case ownerGone:
		return true, "owner process gone"
	case ownerAlive:
		return false, "owner process alive"
	default:
		return false, "cannot tell whether the owner process runs"
	}
}

// parseStat reads the state (field 3) and start time (field 22) from the
// text of /proc/<pid>/stat. The command name (field 2) is in parentheses
// and may itself hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseStat(b []byte) (state byte, start uint64, err error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat: no command name")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, errors.New("malformed stat: too few fields")
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed stat: start time: %w", err)
	}
	return f[0][0], start, nil
}
