//go:build linux

package lifecycle_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// blockingPipe is a pipe whose read end is in blocking mode, as a terminal
// on os.Stdin is: os.Pipe's are non-blocking and use Go's poller.
func blockingPipe(t *testing.T) (r, w *os.File) {
	var p [2]int
	require.NoError(t, syscall.Pipe2(p[:], syscall.O_CLOEXEC))
	return os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
}
