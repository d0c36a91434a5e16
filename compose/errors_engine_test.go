package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// TestUpErrorsSayEachThingOnce: a service whose image cannot be pulled, and
// one whose build fails, fail Up with a message that names the service, the
// operation and the image or build context once (not "pull X: pull X:"),
// with the engine's class reachable.
func TestUpErrorsSayEachThingOnce(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img := testbench.BusyboxImage(t, c)
	reg := testbench.StartRegistry(t, "", "")
	missing := reg.Host + "/nope/missing:1"

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bad"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad", "Dockerfile"), []byte("FROM "+img+"\nRUN exit 3\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  pulled:
    image: `+missing+`
    profiles: [pull]
  built:
    build: ./bad
    profiles: [build]
`), 0o644))

	for _, tc := range []struct {
		profile, service, op, value string
		class                       error
	}{
		{"pull", "pulled", "pull " + missing, missing, lifecycle.ErrNotFound},
		{"build", "built", "build " + filepath.Join(dir, "bad"), filepath.Join(dir, "bad"), nil},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			name := projectName(c, "err"+tc.profile)
			p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithProfiles(tc.profile))
			require.NoError(t, err)
			s := New(c, p)
			downAtEnd(t, s)
			err = s.Up(ctx)
			require.Error(t, err)
			msg := err.Error()
			t.Log(msg)
			assert.Equal(t, 1, strings.Count(msg, `service "`+tc.service+`"`), msg)
			assert.Equal(t, 1, strings.Count(msg, tc.op), "the operation once: %s", msg)
			assert.Equal(t, 1, strings.Count(msg, tc.value), "the value once: %s", msg)
			assert.Contains(t, msg, `service "`+tc.service+`": `+tc.op+": ", msg)
			if tc.class != nil {
				assert.ErrorIs(t, err, tc.class)
			}
		})
	}
}

// TestDownLeavesNetworkOfOrphans: Down without WithRemoveOrphans keeps an
// orphan container, so the engine refuses to remove its network (a 403,
// classified by type, not by its "active endpoints" text): Down reports
// the network as still in use and does not fail.
func TestDownLeavesNetworkOfOrphans(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  kept:
    image: `+img+`
    init: true
    command: [sleep, '86400']
  orphan:
    image: `+img+`
    init: true
    command: [sleep, '86400']
`), 0o644))
	name := projectName(c, "orphannet")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s) // with WithRemoveOrphans: removes the orphan and the network
	require.NoError(t, s.Up(ctx))
	delete(p.Services, "orphan")

	var prog testbench.Buffer
	require.NoError(t, s.Down(ctx, WithGracePeriod(time.Second), WithProgress(&prog)))
	assert.Contains(t, prog.String(), "Network "+name+"_default  Resource is still in use", prog.String())
	cts, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", LabelProject+"="+name))
	require.NoError(t, err)
	require.Len(t, cts, 1, "the orphan container is kept")
	assert.Equal(t, "orphan", cts[0].Labels[LabelService])
}
