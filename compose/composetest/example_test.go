package composetest_test

import (
	"testing"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/compose/composetest"
	"github.com/dockhand/dockhand/dockhandtest"
)

// A service of the project's compose file, shared and cleaned up like
// the built-in fixtures, ready when its healthcheck passes. Its ports are
// published on ephemeral host ports, whatever the file fixes.
func ExampleServiceSpec() {
	_ = func(t *testing.T) {
		spec, err := composetest.ServiceSpec(t.Context(), "web",
			compose.WithFiles("testdata/compose.yaml"),
			compose.WithVariables("WHO=example"))
		if err != nil {
			t.Fatal(err) // a key a fixture cannot carry, named with what to do instead
		}
		srv := dockhandtest.Start(t, spec)
		addr, err := srv.HostPort(t.Context(), "8080")
		if err != nil {
			t.Fatal(err)
		}
		_ = addr // http://addr/index.html answers "hello example"
	}
}
