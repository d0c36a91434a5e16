//go:build !linux

package lifecycle

import "errors"

// currentOwner: only Linux gives a process identity this package can
// prove anything with, so elsewhere resources carry no owner and Sweep
// keeps everything.
func currentOwner() (owner, error) {
	return owner{}, errors.New("process identity is only read on Linux")
}

// probeOwner cannot tell anything outside Linux.
func probeOwner(owner) liveness { return ownerUnknown }
