package compose

import (
	"context"
	"errors"
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

// Compose drives containers through lifecycle, so its failures carry
// lifecycle's *ExitError, naming the service: a one-shot dependency that
// exits 1 (exit code and last log lines), and an unhealthy one (Status
// "unhealthy", the container's log).
func TestUpErrorsCarryExitError(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		file, service, status string
		code                  int
		log                   string
	}{
		{"testdata/fail/exit1.yaml", "broken", "exited", 1, "migration failed: table exists"},
		{"testdata/fail/unhealthy.yaml", "sick", "unhealthy", -1, "starting sick service"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			name := projectName(c, "ee"+tc.service)
			p, err := Load(ctx, WithFiles(tc.file), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
			require.NoError(t, err)
			s := New(c, p)
			downAtEnd(t, s)
			err = s.Up(ctx)
			require.Error(t, err)
			var ee *lifecycle.ExitError
			require.ErrorAs(t, err, &ee, "%v", err)
			assert.Equal(t, tc.status, ee.Status)
			assert.Equal(t, tc.code, ee.ExitCode)
			assert.Contains(t, ee.Container, name+"-"+tc.service+"-1")
			assert.Contains(t, strings.Join(ee.Logs, "\n"), tc.log)
			assert.Contains(t, err.Error(), `service "`+tc.service+`"`)
			assert.Equal(t, 1, strings.Count(err.Error(), tc.log), "the log quoted once: %s", err)
		})
	}
}

// A missing external network fails Up with lifecycle's class.
func TestUpErrorsWrapLifecycleClasses(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  app:
    image: ${BUSYBOX_IMAGE}
    command: ["true"]
    networks: [outside]
networks:
  outside:
    external: true
    name: dh-no-such-external-network
`), 0o644))
	name := projectName(c, "class")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	err = s.Up(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	assert.Contains(t, err.Error(), "dh-no-such-external-network")
}

// lifecycle fills in the host address of a port without one: 127.0.0.1
// by default, all interfaces with WithAllInterfaces; a host_ip the service
// names is kept.
func TestUpPortsBindLoopbackUnlessAllInterfaces(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: ${BUSYBOX_IMAGE}
    init: true
    command: ["sleep", "600"]
    ports: ["80", "127.0.0.2::81"]
`), 0o644))
	for _, tc := range []struct {
		name string
		opts []UpOption
	}{
		{"default", nil},
		{"all", []UpOption{WithAllInterfaces()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := projectName(c, "ports"+tc.name)
			p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
			require.NoError(t, err)
			s := New(c, p)
			downAtEnd(t, s)
			require.NoError(t, s.Up(ctx, tc.opts...))
			ps, err := s.Ps(ctx)
			require.NoError(t, err)
			require.Len(t, ps, 1)
			var p80 []string
			var p81 string
			for _, port := range ps[0].Ports {
				switch {
				case strings.HasSuffix(port, "->80/tcp"):
					p80 = append(p80, port)
				case strings.HasSuffix(port, "->81/tcp"):
					p81 = port
				}
			}
			require.NotEmpty(t, p80, "%q", ps[0].Ports)
			if tc.name == "default" {
				for _, port := range p80 {
					assert.True(t, strings.HasPrefix(port, "127.0.0.1:"), "loopback only: %q", ps[0].Ports)
				}
			} else {
				assert.True(t, slices.ContainsFunc(p80, func(p string) bool { return strings.HasPrefix(p, "0.0.0.0:") }), "%q", ps[0].Ports)
			}
			assert.True(t, strings.HasPrefix(p81, "127.0.0.2:"), "the service's host_ip is kept: %q", ps[0].Ports)
		})
	}
}

// compose stops through lifecycle's Stop, so a grace period is rounded up
// to whole seconds as lifecycle does: 400ms gives a container that needs
// half a second after SIGTERM the time to exit 0 (rounded to the nearest
// second it was an immediate kill, 137).
func TestStopGracePeriodRoundsUp(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  slow:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "trap 'sleep 0.5; echo bye; exit 0' TERM; echo up; while true; do sleep 0.1; done"]
`), 0o644))
	name := projectName(c, "grace")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithWait()))
	require.NoError(t, s.Stop(ctx, WithGracePeriod(400*time.Millisecond)))
	ps, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "exited", ps[0].State)
	assert.Equal(t, 0, ps[0].ExitCode, "the trap ran to its end: the grace period was a whole second")
}

// Run goes through lifecycle's foreground run: its exit code comes back,
// and a run that cannot start says which service.
func TestRunExitCodeThroughLifecycle(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  job:
    image: ${BUSYBOX_IMAGE}
    command: ["true"]
`), 0o644))
	name := projectName(c, "runlc")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	var out, errOut strings.Builder
	code, err := s.Run(ctx, "job", []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, WithStdout(&out), WithStderr(&errOut))
	require.NoError(t, err)
	assert.Equal(t, 7, code)
	assert.Equal(t, "out\n", out.String())
	assert.Equal(t, "err\n", errOut.String())
	code, err = s.Run(ctx, "job", []string{"/no/such/program"})
	require.Error(t, err)
	assert.Equal(t, -1, code)
	assert.Contains(t, err.Error(), "run job")
	var re *lifecycle.RunError
	assert.True(t, errors.As(err, &re), "lifecycle's RunError: %v", err)
	cts, err := s.containers(ctx, true, true)
	require.NoError(t, err)
	assert.Empty(t, cts, "one-off containers are removed")
}
