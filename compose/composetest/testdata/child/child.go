// Package child is the test that the packages a and b run as test
// processes started by spec_test.go: each starts the web service of
// ../compose.yaml (variables from the process environment: IMAGE, WHO,
// RUN), prints "SERVER <pkg> <container id> <key>", and waits until both
// have, in the directory COMPOSETEST_BARRIER.
package child

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/compose/composetest"
	"github.com/dockhand/dockhand/dockhandtest"
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
	fmt.Printf("SERVER %s %s %s\n", pkg, srv.Container().ID(), srv.Key())
	dir := os.Getenv("COMPOSETEST_BARRIER")
	if err := os.WriteFile(filepath.Join(dir, pkg), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(names) >= 2 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("barrier: only %s", strings.Join(names, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
