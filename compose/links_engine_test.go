package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
)

// TestLinkedServiceRecreate changes a service another one links to and
// runs Up again. On the default bridge links are legacy links: the engine
// lists the linked container under its link alias too, sorted first
// ("/P-app-1/database" before "/P-db-1"), and compose must use the
// canonical name to rename it aside, in Ps and in the links it writes.
func TestLinkedServiceRecreate(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	yaml := `services:
  db:
    image: %s
    init: true
    command: ["sleep", "86400"]
    network_mode: bridge
    environment:
      GEN: ${GEN}
  app:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    network_mode: bridge
    links: ["db:database"]
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), fmt.Appendf(nil, yaml, bb), 0o644))
	name := projectName(c, "links")
	load := func(gen string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithoutOSEnv(), WithVariables("GEN="+gen))
		require.NoError(t, err)
		return New(c, p)
	}
	s := load("1")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx))

	names := func() map[string]string {
		ps, err := s.Ps(ctx, WithAll())
		require.NoError(t, err)
		out := map[string]string{}
		for _, sc := range ps {
			out[sc.Service] = sc.Name
		}
		return out
	}
	want := map[string]string{"db": name + "-db-1", "app": name + "-app-1"}
	require.Equal(t, want, names(), "Ps names with a link")

	// db changes: it is recreated under its own name, and the link
	// follows once app is recreated too (links are fixed at create).
	var prog testbench.Buffer
	require.NoError(t, load("2").Up(ctx, WithProgress(&prog)))
	testbench.InOrder(t, prog.String(), name+"-db-1  Recreate", name+"-db-1  Recreated", name+"-app-1  Recreate", name+"-app-1  Recreated")
	assert.NotContains(t, prog.String(), "-app-1/db")
	assert.Equal(t, want, names(), "Ps names after the linked service was recreated")
	ins, err := c.API().ContainerInspect(ctx, name+"-db-1")
	require.NoError(t, err)
	assert.Contains(t, ins.Config.Env, "GEN=2")
	// app was recreated with it (links: implies depends_on.restart), and
	// its link names the new db, which it can reach by the alias.
	app, err := c.API().ContainerInspect(ctx, name+"-app-1")
	require.NoError(t, err)
	assert.True(t, app.State.Running)
	assert.Contains(t, app.HostConfig.Links, "/"+name+"-db-1:/"+name+"-app-1/database")
}
