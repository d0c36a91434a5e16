//go:build !linux

package lifecycle_test

import (
	"os"
	"testing"
)

// blockingPipe: the blocking-pipe copy (pollCopy) is Linux only; elsewhere
// stdin is copied as any reader, which the os.Pipe case covers.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Skip("the blocking-pipe stdin copy is Linux only")
	return nil, nil
}
