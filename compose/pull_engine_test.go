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

// pushToRegistry puts the busybox stand-in into reg under repo, removes
// the local tag, and returns the reference; the tag is removed again when
// the test ends, should a pull have brought it back.
func pushToRegistry(t *testing.T, c *lifecycle.Client, reg *testbench.Registry, repo string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := reg.Host + "/" + repo
	require.NoError(t, c.Tag(ctx, testbench.BusyboxImage(t, c), ref))
	require.NoError(t, c.Push(ctx, ref))
	require.NoError(t, c.RemoveImage(ctx, ref))
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), ref) })
	return ref
}

// present reports whether ref is on the engine.
func present(t *testing.T, c *lifecycle.Client, ref string) bool {
	t.Helper()
	_, err := c.InspectImage(context.Background(), ref)
	if err != nil {
		require.ErrorIs(t, err, lifecycle.ErrNotFound)
	}
	return err == nil
}

func TestPull(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg := testbench.StartRegistry(t, "", "")
	imgA := pushToRegistry(t, c, reg, "dockhand/pull-a:1")
	imgB := pushToRegistry(t, c, reg, "dockhand/pull-b:1")
	imgBuilt := pushToRegistry(t, c, reg, "dockhand/pull-built:1")
	absent := reg.Host + "/dockhand/pull-absent:1" // never pushed
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  a:
    image: `+imgA+`
  a2:
    image: `+imgA+`
  b:
    image: `+imgB+`
    depends_on: [a]
  buildonly:
    build: .
  buildable:
    image: `+imgBuilt+`
    build: .
  never:
    image: `+absent+`
    pull_policy: never
  gone:
    image: `+absent+`
    profiles: [bad]
`), 0o644))
	load := func(profiles ...string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(projectName(c, "pull")), WithProfiles(profiles...))
		require.NoError(t, err)
		return New(c, p)
	}
	s := load()

	// Narrowed: only b, not its dependency a, unless WithIncludeDeps.
	require.NoError(t, s.Pull(ctx, WithServices("b")))
	assert.True(t, present(t, c, imgB))
	assert.False(t, present(t, c, imgA), "a is b's dependency: pulled only WithIncludeDeps")
	require.NoError(t, c.RemoveImage(ctx, imgB))
	require.NoError(t, s.Pull(ctx, WithServices("b"), WithIncludeDeps()))
	assert.True(t, present(t, c, imgA))
	assert.True(t, present(t, c, imgB))
	require.NoError(t, c.RemoveImage(ctx, imgA))
	require.NoError(t, c.RemoveImage(ctx, imgB))

	// The whole stack: every image once, the CLI's skips.
	var prog testbench.Buffer
	require.NoError(t, s.Pull(ctx, WithProgress(&prog)), "progress:\n%s", prog.String())
	out := prog.String()
	t.Logf("progress:\n%s", out)
	for _, ref := range []string{imgA, imgB, imgBuilt} {
		assert.True(t, present(t, c, ref), ref)
		assert.Equal(t, 1, strings.Count(out, " Image "+ref+"  Pulled"), "%s pulled once", ref)
	}
	assert.Contains(t, out, " Service a2  Skipped - Image is already being pulled by a")
	assert.Contains(t, out, " Service buildonly  Skipped - No image to be pulled")
	assert.Contains(t, out, " Service never  Skipped")
	assert.False(t, present(t, c, absent))

	// WithIgnoreBuildable skips buildable; WithPull(PullMissing) skips what
	// is present under a tag other than latest. (It overrides never's
	// pull_policy too, as pull --policy does: never is not named here.)
	require.NoError(t, c.RemoveImage(ctx, imgBuilt))
	prog = testbench.Buffer{}
	require.NoError(t, s.Pull(ctx, WithServices("a", "buildable"), WithIgnoreBuildable(), WithPull(lifecycle.PullMissing), WithProgress(&prog)))
	assert.False(t, present(t, c, imgBuilt), "WithIgnoreBuildable")
	assert.Contains(t, prog.String(), " Service buildable  Skipped - Image can be built")
	assert.Contains(t, prog.String(), " Service a  Skipped - Image is already present locally")
	assert.NotContains(t, prog.String(), "Pulled")

	// An image that cannot be pulled fails Pull, naming the service and
	// the image; the others are pulled all the same.
	require.NoError(t, c.RemoveImage(ctx, imgA))
	bad := load("bad")
	err := bad.Pull(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `service "gone"`)
	assert.Contains(t, err.Error(), absent)
	assert.NotContains(t, err.Error(), `service "a"`)
	assert.True(t, present(t, c, imgA), "the other pulls ran to their end")
	// WithIgnorePullFailures lets the rest through.
	require.NoError(t, c.RemoveImage(ctx, imgA))
	require.NoError(t, bad.Pull(ctx, WithIgnorePullFailures()))
	assert.True(t, present(t, c, imgA))

	// Bad input, before any pull.
	require.Error(t, s.Pull(ctx, WithServices("nope")))
	require.ErrorIs(t, s.Pull(ctx, WithPull(lifecycle.PullNever)), lifecycle.ErrInvalid)
	require.ErrorIs(t, s.Pull(ctx, nil), lifecycle.ErrInvalid)
}

// TestPullNamesDisabledService checks that Pull pulls a service its
// profile disables when WithServices names it, as docker compose pull svc
// does (it enables the named service and what its profiles enable, then
// narrows): only that service, or with WithIncludeDeps its dependencies
// too, of the same profile. Without names the disabled services are left
// out; a name that is no service is an ErrInvalid error.
func TestPullNamesDisabledService(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg := testbench.StartRegistry(t, "", "")
	imgTool := pushToRegistry(t, c, reg, "dockhand/pull-tool:1")
	imgHelper := pushToRegistry(t, c, reg, "dockhand/pull-helper:1")
	imgOther := pushToRegistry(t, c, reg, "dockhand/pull-other:1")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: `+testbench.BusyboxImage(t, c)+`
    pull_policy: never
  tool:
    image: `+imgTool+`
    depends_on: [helper]
    profiles: [tools]
  helper:
    image: `+imgHelper+`
    profiles: [tools]
  other:
    image: `+imgOther+`
    profiles: [tools]
`), 0o644))
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(projectName(c, "pullprofile")))
	require.NoError(t, err)
	require.Contains(t, p.DisabledServices, "tool")
	s := New(c, p)

	require.NoError(t, s.Pull(ctx))
	for _, ref := range []string{imgTool, imgHelper, imgOther} {
		assert.False(t, present(t, c, ref), "%s: disabled services are not pulled unless named", ref)
	}

	require.NoError(t, s.Pull(ctx, WithServices("tool")), "pull of a service its profile disables")
	assert.True(t, present(t, c, imgTool))
	assert.False(t, present(t, c, imgHelper), "tool's dependency: only WithIncludeDeps")
	assert.False(t, present(t, c, imgOther), "of the same profile, but not named")
	require.NoError(t, c.RemoveImage(ctx, imgTool))

	require.NoError(t, s.Pull(ctx, WithServices("tool"), WithIncludeDeps()))
	assert.True(t, present(t, c, imgTool))
	assert.True(t, present(t, c, imgHelper))
	assert.False(t, present(t, c, imgOther))
	assert.NotContains(t, s.Project().Services, "tool", "the stack's project is left as it is")

	err = s.Pull(ctx, WithServices("nope"))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `no such service: "nope" (services: helper, other, tool, web)`)
}
