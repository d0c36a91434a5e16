//go:build !linux

package lifecycle

import "errors"

// xattrListSize: extended attributes are only read on Linux.
func xattrListSize(string) (int, error) {
	return 0, errors.ErrUnsupported
}
