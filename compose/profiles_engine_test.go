package compose

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// profilesProject writes a stack whose services are mostly behind
// profiles: tool (profile tools, an env_file) depends on helper (same
// profile) and, optionally, on dbg (profile debug); other is of tool's
// profile but unrelated; broken (tools) requires dbg.
func profilesProject(t *testing.T, image string) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
  tool:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
    profiles: [tools]
    env_file: tool.env
    depends_on:
      helper: {condition: service_started}
      dbg: {condition: service_started, required: false}
  helper:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
    profiles: [tools]
  other:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
    profiles: [tools]
  dbg:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
    profiles: [debug]
  broken:
    image: `+image+`
    profiles: [tools]
    depends_on: [dbg]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool.env"), []byte("FROM_ENV_FILE=tool\n"), 0o644))
	return dir
}

// TestUpRunNameDisabledServiceLikeTheCLI checks, against each docker
// compose release (v2.40.3 and v5.6.0 behave alike here), that Up with
// WithServices and Run take a service its profile disables, as up svc and
// run svc do: the service and its dependencies of the same profile start,
// not the optional dependency of another profile, not the other service
// of the profile, not the services without a profile. Up after the CLI's
// up finds the same containers and recreates none (same config hash, so
// the env_file of the service enabled by naming it is read alike), the
// CLI's up after Up likewise; Run leaves the same containers behind as
// the CLI's run --rm and the one-off sees the env_file. A required
// dependency of another profile fails both, the CLI with "no such
// service", Up and Run with ErrInvalid, before anything is created.
func TestUpRunNameDisabledServiceLikeTheCLI(t *testing.T) {
	c := testbench.Client(t)
	dir := profilesProject(t, testbench.BusyboxImage(t, c))
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		tag := strings.SplitN(rel.version, ".", 2)[0]
		load := func(t *testing.T, name string) *Stack {
			p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
			require.NoError(t, err)
			require.Contains(t, p.DisabledServices, "tool")
			s := New(c, p)
			downAtEnd(t, s)
			return s
		}
		sorted := func(ids map[string]string) []string { return slices.Sorted(maps.Keys(ids)) }

		t.Run("CLI up then Up", func(t *testing.T) {
			name := projectName(c, "profup"+tag)
			s := load(t, name)
			rel.run(t, dir, name, nil, "up", "-d", "-t", "1", "tool")
			cli := idsByName(t, s)
			assert.Equal(t, []string{name + "-helper-1", name + "-tool-1"}, sorted(cli))
			require.NoError(t, s.Up(ctx, WithServices("tool"), WithGracePeriod(time.Second)))
			assert.Equal(t, cli, idsByName(t, s), "Up starts what the CLI started and recreates none of it")
			assert.NotContains(t, s.Project().Services, "tool", "the stack's project is left as it is")
		})

		t.Run("Up then CLI up", func(t *testing.T) {
			name := projectName(c, "profup2"+tag)
			s := load(t, name)
			require.NoError(t, s.Up(ctx, WithServices("tool"), WithGracePeriod(time.Second)))
			ours := idsByName(t, s)
			assert.Equal(t, []string{name + "-helper-1", name + "-tool-1"}, sorted(ours))
			ps, err := s.Ps(ctx)
			require.NoError(t, err)
			require.Len(t, ps, 2, "both running")
			withTools, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithProfiles("tools", "debug"))
			require.NoError(t, err)
			res, err := New(c, withTools).Exec(ctx, "tool", []string{"env"})
			require.NoError(t, err)
			assert.Contains(t, string(res.Stdout), "FROM_ENV_FILE=tool\n", "the env_file of the service enabled by naming it")
			rel.run(t, dir, name, nil, "up", "-d", "-t", "1", "tool")
			assert.Equal(t, ours, idsByName(t, s), "the CLI finds nothing to change")
		})

		t.Run("Run like run --rm", func(t *testing.T) {
			cliName, name := projectName(c, "profrunc"+tag), projectName(c, "profrun"+tag)
			cliStack, s := load(t, cliName), load(t, name)
			out := rel.run(t, dir, cliName, nil, "run", "--rm", "tool", "env")
			assert.Contains(t, out, "FROM_ENV_FILE=tool")
			var stdout bytes.Buffer
			code, err := s.Run(ctx, "tool", []string{"env"}, WithStdout(&stdout))
			require.NoError(t, err)
			assert.Equal(t, 0, code)
			assert.Contains(t, stdout.String(), "FROM_ENV_FILE=tool\n")
			assert.Equal(t, []string{cliName + "-helper-1"}, sorted(idsByName(t, cliStack)))
			assert.Equal(t, []string{name + "-helper-1"}, sorted(idsByName(t, s)), "Run leaves what run --rm leaves")
		})

		t.Run("a required dependency of another profile", func(t *testing.T) {
			name := projectName(c, "profbad"+tag)
			s := load(t, name)
			out, err := rel.command(ctx, nil, "-f", filepath.Join(dir, "compose.yaml"), "-p", name, "up", "-d", "broken").CombinedOutput()
			require.Error(t, err, "%s", out)
			assert.Contains(t, string(out), "no such service: dbg")
			err = s.Up(ctx, WithServices("broken"))
			require.ErrorIs(t, err, lifecycle.ErrInvalid)
			assert.Contains(t, err.Error(), `service "broken" depends on "dbg", which is disabled`)
			_, err = s.Run(ctx, "broken", nil, WithNoDeps())
			require.ErrorIs(t, err, lifecycle.ErrInvalid)
			noProjectLeft(t, c, name)
		})
	})
}

// TestVerbsOnNamedDisabledServiceLikeTheCLI checks, against each docker
// compose release, that the verbs taking service names act on a service
// its profile disables once Up(WithServices) started it, as ps, logs,
// exec, stop, start and restart svc do: Ps, Logs, Exec, Stop, Start and
// Restart("tools") work on tools' container, and the CLI's ps and stop
// see and do the same on it, without any profile enabled.
func TestVerbsOnNamedDisabledServiceLikeTheCLI(t *testing.T) {
	c := testbench.Client(t)
	dir := t.TempDir()
	image := testbench.BusyboxImage(t, c)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: `+image+`
    command: ["sleep", "86400"]
    init: true
  tools:
    image: `+image+`
    command: ["sh", "-c", "echo hello-tools; exec sleep 86400"]
    init: true
    profiles: [tools]
`), 0o644))
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		name := projectName(c, "profverbs"+strings.SplitN(rel.version, ".", 2)[0])
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
		require.NoError(t, err)
		require.Contains(t, p.DisabledServices, "tools")
		s := New(c, p)
		downAtEnd(t, s)
		tools := WithServices("tools")
		state := func(t *testing.T) string {
			t.Helper()
			ps, err := s.Ps(ctx, tools, WithAll())
			require.NoError(t, err)
			require.Len(t, ps, 1)
			assert.Equal(t, name+"-tools-1", ps[0].Name)
			return ps[0].State
		}
		cliState := func(t *testing.T) string {
			t.Helper()
			return strings.TrimSpace(rel.run(t, dir, name, nil, "ps", "-a", "--format", "{{.Service}} {{.State}}", "tools"))
		}

		require.NoError(t, s.Up(ctx, tools, WithGracePeriod(time.Second)))
		ps, err := s.Ps(ctx)
		require.NoError(t, err)
		require.Len(t, ps, 1, "only tools runs: %v", ps)
		assert.Equal(t, "running", state(t))
		assert.Equal(t, "tools running", cliState(t))

		res, err := s.Exec(ctx, "tools", []string{"echo", "hi"})
		require.NoError(t, err)
		assert.Equal(t, "hi\n", string(res.Stdout))
		assert.EventuallyWithT(t, func(t *assert.CollectT) {
			var buf bytes.Buffer
			assert.NoError(t, s.Logs(ctx, &buf, tools))
			assert.Equal(t, "tools-1  | hello-tools\n", buf.String())
		}, 10*time.Second, 100*time.Millisecond)

		require.NoError(t, s.Stop(ctx, tools, WithGracePeriod(time.Second)))
		assert.Equal(t, "exited", state(t))
		assert.Equal(t, "tools exited", cliState(t))

		require.NoError(t, s.Start(ctx, tools))
		assert.Equal(t, "running", state(t))
		rel.run(t, dir, name, nil, "stop", "-t", "1", "tools")
		assert.Equal(t, "exited", state(t), "the CLI stops the container Up made")

		require.NoError(t, s.Restart(ctx, tools, WithGracePeriod(time.Second)))
		assert.Equal(t, "running", state(t))
		assert.Equal(t, "tools running", cliState(t))
	})
}
