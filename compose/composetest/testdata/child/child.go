// Package child is the test that the packages a and b run as test
// processes started by spec_test.go: each starts the web service of
// ../compose.yaml (variables from the process environment: IMAGE, WHO,
// RUN), prints "SERVER <pkg> <container id> <key>", and waits until both
// have, in the directory COMPOSETEST_BARRIER.
package child

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/compose/composetest"
	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Run is the test.
func Run(t *testing.T, pkg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec, err := composetest.ServiceSpec(ctx, "web", compose.WithFiles("../compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := dockhandtest.Start(t, spec)
	testbench.PrintServer(pkg, srv.Container().ID(), srv.Key())
	testbench.Barrier(ctx, t, os.Getenv("COMPOSETEST_BARRIER"), pkg, 2)
}
