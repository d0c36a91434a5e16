package examples_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
)

// TestPortsRemote runs the ports example with its client in a network
// namespace whose 127.0.0.1 is not the engine's, over tcp:// and ssh://:
// the URL it prints and fetches is one that works from there.
func TestPortsRemote(t *testing.T) {
	for _, kind := range testbench.RemoteKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEx(t)
			e.remote = testbench.NewRemoteBench(t, kind)
			out := e.run(nil, "ports", "-image", testbench.BusyboxImage(t, e.c), "-keep")
			defer e.removeContainers()
			m := regexp.MustCompile(`published on ([0-9.]+):\d+`).FindStringSubmatch(out)
			require.NotNil(t, m, out)
			want := map[string]string{"tcp": e.remote.HostIP, "ssh": "127.0.0.1"}[kind]
			assert.Equal(t, want, m[1], out)
			assert.Contains(t, out, "answer: hello from container", out)
			// A kept server's address over ssh:// is a forward of this process: said so.
			assert.Equal(t, kind == "ssh", strings.Contains(out, "forward to them only while this program runs"), out)
		})
	}
}
