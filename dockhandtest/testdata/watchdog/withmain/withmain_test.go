// Package withmain uses a shared server with dockhandtest.Main: Main
// releases the server, and the watchdog finds nothing to do.
package withmain

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/testdata/watchdog/child"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }

func TestServer(t *testing.T) { child.Run(t, "m") }
