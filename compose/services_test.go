package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

// servicesStack is a stack without a client (any engine call would
// panic) on web, and tool and helper behind the tools profile, tool
// requiring dbg of the debug profile.
func servicesStack(t *testing.T) *Stack {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: busybox
  tool:
    image: busybox
    profiles: [tools]
    depends_on: [helper, dbg]
  helper:
    image: busybox
    profiles: [tools]
  dbg:
    image: busybox
    profiles: [debug]
`), 0o644))
	p, err := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("svcs"))
	require.NoError(t, err)
	return New(nil, p)
}

// TestVerbsRejectUnknownServiceAsInvalid checks that the verbs taking
// service names reject a name that is no service with an error wrapping
// lifecycle.ErrInvalid that names the verb and the service and lists the
// project's services, those profiles disable included (every verb takes
// one of those, as the CLI does), before any engine call. Start, Restart
// and Build, which enable a named disabled service, reject one requiring
// a service still disabled (of another profile), naming it, before any
// engine call too. Pure: the stack has no client.
func TestVerbsRejectUnknownServiceAsInvalid(t *testing.T) {
	s := servicesStack(t)
	ctx := context.Background()
	verbs := map[string]func(name string) error{
		"ps":      func(n string) error { _, err := s.Ps(ctx, WithServices(n)); return err },
		"logs":    func(n string) error { return s.Logs(ctx, nil, WithServices(n)) },
		"stop":    func(n string) error { return s.Stop(ctx, WithServices(n)) },
		"start":   func(n string) error { return s.Start(ctx, WithServices(n)) },
		"restart": func(n string) error { return s.Restart(ctx, WithServices(n)) },
		"kill":    func(n string) error { return s.Kill(ctx, WithServices(n)) },
		"pause":   func(n string) error { return s.Pause(ctx, WithServices(n)) },
		"top":     func(n string) error { _, err := s.Top(ctx, WithServices(n)); return err },
		"wait":    func(n string) error { _, err := s.Wait(ctx, WithServices(n)); return err },
		"build":   func(n string) error { return s.Build(ctx, WithServices(n)) },
		"exec":    func(n string) error { _, err := s.Exec(ctx, n, []string{"true"}); return err },
		"port":    func(n string) error { _, err := s.Port(ctx, n, "80"); return err },
		"pull":    func(n string) error { return s.Pull(ctx, WithServices(n), WithIncludeDeps()) },
	}
	enabling := map[string]bool{"start": true, "restart": true, "build": true, "pull": true}
	for verb, call := range verbs {
		t.Run(verb, func(t *testing.T) {
			err := call("nope")
			require.ErrorIs(t, err, lifecycle.ErrInvalid)
			assert.EqualError(t, err, `compose svcs: `+verb+`: no such service: "nope" (services: dbg, helper, tool, web)`)

			if !enabling[verb] {
				return // tool is taken: the verb would call the engine
			}
			err = call("tool")
			require.ErrorIs(t, err, lifecycle.ErrInvalid)
			assert.EqualError(t, err, `compose svcs: `+verb+`: service "tool" depends on "dbg", which is disabled: none of its profiles (debug) is enabled: name "dbg" too, or enable one of its profiles with WithProfiles`)
		})
	}
}

// TestUpRunDisabledServiceBadInput checks the errors of Up and Run naming
// a service its profile disables, all before any engine call (the stack
// has no client): a required dependency still disabled (of another
// profile) is ErrInvalid naming it, with or without WithNoDeps, as the CLI
// fails on it; WithScale of a disabled service that is not named, and a
// name that is no service, are ErrInvalid too.
func TestUpRunDisabledServiceBadInput(t *testing.T) {
	s := servicesStack(t)
	ctx := context.Background()
	const dep = `compose svcs: %s: service "tool" depends on "dbg", which is disabled: none of its profiles (debug) is enabled: name "dbg" too, or enable one of its profiles with WithProfiles`
	for _, err := range []error{s.Up(ctx, WithServices("tool")), s.Up(ctx, WithServices("tool"), WithNoDeps())} {
		require.ErrorIs(t, err, lifecycle.ErrInvalid)
		assert.EqualError(t, err, fmt.Sprintf(dep, "up"))
	}
	for _, opts := range [][]RunOption{nil, {WithNoDeps()}} {
		_, err := s.Run(ctx, "tool", nil, opts...)
		require.ErrorIs(t, err, lifecycle.ErrInvalid)
		assert.EqualError(t, err, fmt.Sprintf(dep, "run"))
	}

	err := s.Up(ctx, WithScale("helper", 2))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: WithScale("helper", 2): the service is disabled: none of its profiles is enabled: name it with WithServices, or enable one of its profiles with WithProfiles (enabled services: web)`)
	err = s.Up(ctx, WithScale("nope", 2))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: WithScale("nope", 2): no such service (services: web)`)

	err = s.Up(ctx, WithServices("nope"))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: up: no such service: "nope" (services: dbg, helper, tool, web)`)
	_, err = s.Run(ctx, "nope", nil)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: run: no such service: "nope" (services: dbg, helper, tool, web)`)
	_, err = s.Run(ctx, "", nil)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)

	assert.Contains(t, s.Project().DisabledServices, "tool", "the stack's project is left as it is")
}

// TestEnableServices checks the exported face of the enabling Up and Run
// do: a named disabled service comes back enabled with its profile's
// other services, the project given is left as it is, the errors are
// Up's and Run's, under the verb "enable", and a service enabled now has
// its keys checked as Load checks those it enabled.
func TestEnableServices(t *testing.T) {
	p := servicesStack(t).Project()

	same, err := EnableServices(p, "web")
	require.NoError(t, err)
	assert.Same(t, p, same, "nothing to enable: p itself")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: busybox
  tool:
    image: busybox
    profiles: [tools]
    env_file: tool.env
  helper:
    image: busybox
    profiles: [tools]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool.env"), []byte("FROM_ENV_FILE=tool\n"), 0o644))
	q, err := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("svcs"))
	require.NoError(t, err)
	on, err := EnableServices(q, "tool")
	require.NoError(t, err)
	require.Contains(t, on.Services, "tool")
	assert.Contains(t, on.Services, "helper", "the profile's other services too, as the CLI")
	assert.NotContains(t, on.DisabledServices, "tool")
	require.NotNil(t, on.Services["tool"].Environment["FROM_ENV_FILE"], "env_file resolved as Load resolves it")
	assert.Equal(t, "tool", *on.Services["tool"].Environment["FROM_ENV_FILE"])
	assert.Contains(t, q.DisabledServices, "tool", "the project given is left as it is")
	assert.NotContains(t, q.Services, "tool")

	_, err = EnableServices(p, "tool")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: enable: service "tool" depends on "dbg", which is disabled: none of its profiles (debug) is enabled: name "dbg" too, or enable one of its profiles with WithProfiles`)
	_, err = EnableServices(p, "nope")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose svcs: enable: no such service: "nope" (services: dbg, helper, tool, web)`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: busybox
  tool:
    image: busybox
    profiles: [tools]
    pre_stop:
      - command: ["true"]
`), 0o644))
	q, err = Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("svcs"))
	require.NoError(t, err, "a disabled service's keys are not checked by Load")
	_, err = EnableServices(q, "tool")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.ErrorContains(t, err, `compose: service "tool": pre_stop is not supported`, "checked once enabled, as Load checks")

	_, err = EnableServices(nil, "web")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
}
