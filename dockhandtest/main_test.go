package dockhandtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dockhand/dockhand/dockhandtest"
)

// TestMain does what dockhandtest.Main does, and removes the child test
// binaries that share_test.go and watchdog_test.go build.
func TestMain(m *testing.M) {
	code := m.Run()
	removeChildBinary()
	removeNoMainBinary()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := dockhandtest.Release(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	cancel()
	os.Exit(code)
}
