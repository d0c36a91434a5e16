// Package nomain uses a shared server without a TestMain: nothing calls
// dockhandtest.Main or Release; the watchdog releases the server.
package nomain

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest/testdata/watchdog/child"
)

func TestServer(t *testing.T) { child.Run(t, "n") }
