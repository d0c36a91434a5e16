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
// binary that share_test.go builds.
func TestMain(m *testing.M) {
	code := m.Run()
	removeChildBinary()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := dockhandtest.Release(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	cancel()
	os.Exit(code)
}
