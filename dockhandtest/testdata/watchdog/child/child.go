// Package child is the test that the packages nomain (no TestMain) and
// withmain (dockhandtest.Main) run as test processes started by
// dockhandtest's watchdog tests (watchdog_test.go). The environment says
// what to do:
//
//	DOCKHANDTEST_IMAGE         a busybox image the server runs (sleep)
//	DOCKHANDTEST_RUN           a value of the test's own: the server is the test's alone
//	DOCKHANDTEST_BLOCK         a file: write "ready" there, then block until killed
//	DOCKHANDTEST_WATCHDOG_LOG  a file the process's watchdog appends what it does to
package child

import (
	"os"
	"testing"
	"time"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Run is the test: it starts the server, prints "SERVER <pkg> <id> <key>"
// and, with DOCKHANDTEST_BLOCK, blocks.
func Run(t *testing.T, pkg string) {
	testhook.WatchdogLog = os.Getenv("DOCKHANDTEST_WATCHDOG_LOG")
	srv := dockhandtest.Start(t, dockhandtest.Spec{
		Name:  "watchdog",
		Image: os.Getenv("DOCKHANDTEST_IMAGE"),
		Cmd:   []string{"sleep", "600"},
		Env:   []string{"RUN=" + os.Getenv("DOCKHANDTEST_RUN")},
	})
	testbench.PrintServer(pkg, srv.Container().ID(), srv.Key())
	if file := os.Getenv("DOCKHANDTEST_BLOCK"); file != "" {
		if err := os.WriteFile(file, []byte("ready"), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute) // until killed
	}
}
