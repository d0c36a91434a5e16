package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func load(t *testing.T, opts ...LoadOption) (*Stack, error) {
	t.Helper()
	p, err := Load(context.Background(), append([]LoadOption{WithoutOSEnv()}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Stack{p: p}, nil
}

func TestLoadStack(t *testing.T) {
	s, err := load(t, WithWorkingDir("testdata/stack"), WithVariables("BUSYBOX_IMAGE=bb:1"))
	require.NoError(t, err)
	p := s.p
	// name: from the file; default discovery found compose.yaml + compose.override.yaml.
	assert.Equal(t, "dockhand-example", p.Name)
	require.Len(t, p.ComposeFiles, 2)
	assert.Equal(t, "compose.yaml", filepath.Base(p.ComposeFiles[0]))
	assert.Equal(t, "compose.override.yaml", filepath.Base(p.ComposeFiles[1]))
	app := p.Services["app"]
	// .env, env_file, the override, ${VAR:-default} and explicit variables.
	assert.Equal(t, "from-dotenv", *app.Environment["GREETING"])
	assert.Equal(t, "1", *app.Environment["APP_FROM_ENV_FILE"])
	assert.Equal(t, "override", *app.Environment["MODE"])
	assert.Equal(t, "bb:1", *app.Build.Args["BASE_IMAGE"])
	assert.Equal(t, "postgres:17-alpine", p.Services["db"].Image)
	assert.Equal(t, "yes", app.Labels["dev.dockhand.override"])
	// The profile keeps debug out unless enabled.
	assert.NotContains(t, p.Services, "debug")
	assert.Contains(t, p.DisabledServices, "debug")
	// CLI labels prepared for the containers.
	assert.Equal(t, "dockhand-example", app.CustomLabels[LabelProject])
	assert.Equal(t, "False", app.CustomLabels[LabelOneoff])
	assert.Contains(t, app.CustomLabels[LabelConfigFiles], "compose.override.yaml")
	// Relative bind mounts resolve against the project directory.
	abs, _ := filepath.Abs("testdata/stack/app/config")
	assert.Equal(t, abs, app.Volumes[1].Source)

	s, err = load(t, WithWorkingDir("testdata/stack"), WithProfiles("debug"), WithVariables("GREETING=explicit"))
	require.NoError(t, err)
	assert.Contains(t, s.p.Services, "debug")
	assert.Equal(t, "explicit", *s.p.Services["app"].Environment["GREETING"], "explicit variables win over .env")
	s, err = load(t, WithWorkingDir("testdata/stack"), WithVariables("COMPOSE_PROFILES=debug"))
	require.NoError(t, err)
	assert.Contains(t, s.p.Services, "debug", "COMPOSE_PROFILES as the CLI")
}

func TestLoadFilesMergedInOrder(t *testing.T) {
	s, err := load(t, WithFiles("testdata/stack/compose.yaml"))
	require.NoError(t, err)
	assert.Nil(t, s.p.Services["app"].Environment["MODE"], "explicit files: no override discovery")
	s, err = load(t, WithFiles("testdata/stack/compose.yaml", "testdata/stack/compose.override.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "override", *s.p.Services["app"].Environment["MODE"])
}

func TestLoadProjectNamePrecedence(t *testing.T) {
	// option > COMPOSE_PROJECT_NAME > name: > directory
	s, err := load(t, WithWorkingDir("testdata/stack"), WithProjectName("opt"), WithVariables("COMPOSE_PROJECT_NAME=env"))
	require.NoError(t, err)
	assert.Equal(t, "opt", s.p.Name)
	s, err = load(t, WithWorkingDir("testdata/stack"), WithVariables("COMPOSE_PROJECT_NAME=env"))
	require.NoError(t, err)
	assert.Equal(t, "env", s.p.Name)
	s, err = load(t, WithWorkingDir("testdata/stack"))
	require.NoError(t, err)
	assert.Equal(t, "dockhand-example", s.p.Name)
	// Directory name, normalised (lowercase, only [a-z0-9_-]); default
	// discovery of docker-compose.yml + docker-compose.override.yml.
	s, err = load(t, WithWorkingDir("testdata/load/Discover_Me"))
	require.NoError(t, err)
	assert.Equal(t, "discover_me", s.p.Name)
	assert.Equal(t, "true", *s.p.Services["one"].Environment["OVERRIDDEN"])
	_, err = load(t, WithWorkingDir("testdata/stack"), WithProjectName("Not Valid"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Not Valid")
}

func TestLoadExtends(t *testing.T) {
	s, err := load(t, WithWorkingDir("testdata/load/extends"), WithVariablesMap(map[string]string{"BASE_IMAGE": "x:1"}))
	require.NoError(t, err)
	web := s.p.Services["web"]
	assert.Equal(t, "x:1", web.Image)
	assert.Equal(t, "1", *web.Environment["FROM_BASE"])
	assert.Equal(t, "always", web.Restart)
	assert.Equal(t, []string{"echo", "web"}, []string(web.Command))
}

func TestLoadErrors(t *testing.T) {
	_, err := load(t, WithFiles("testdata/fail/invalid.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid.yaml")
	assert.Contains(t, err.Error(), "ports")

	_, err = load(t, WithFiles("testdata/fail/unknown.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nosuch")

	dir := t.TempDir()
	_, err = load(t, WithWorkingDir(dir))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compose.yaml")

	_, err = load(t, WithFiles(filepath.Join(dir, "missing.yaml")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.yaml")
}

func TestGraphErrorsBeforeEngine(t *testing.T) {
	// compose-go may reject the cycle itself; a hand-made project is
	// checked by Up before any engine call (the Stack has no client here).
	s, err := load(t, WithFiles("testdata/fail/cycle.yaml"))
	if err == nil {
		err = s.Up(context.Background())
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cycle")

	s, err = load(t, WithFiles("testdata/stack/compose.yaml"))
	require.NoError(t, err)
	a := s.p.Services["web"]
	a.DependsOn["ghost"] = a.DependsOn["app"]
	s.p.Services["web"] = a
	err = s.Up(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"ghost"`)
	assert.Contains(t, err.Error(), `"web"`)

	// A manual cycle, past compose-go.
	s, err = load(t, WithFiles("testdata/stack/compose.yaml"))
	require.NoError(t, err)
	db := s.p.Services["db"]
	db.DependsOn = types.DependsOnConfig{"web": types.ServiceDependency{Condition: "service_started", Required: true}}
	s.p.Services["db"] = db
	err = s.Up(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dependency cycle")
	assert.True(t, strings.Contains(err.Error(), "db -> ") || strings.Contains(err.Error(), "-> db"), err.Error())

	err = s.Up(context.Background(), WithServices("nope"))
	require.ErrorContains(t, err, `no such service: "nope"`)
}

func TestOptionMisuse(t *testing.T) {
	s := &Stack{}
	// An option of another verb does not compile (TestOptionTypes); one
	// converted by assertion is still refused, wrapping ErrInvalid.
	var wait any = WithWait()
	err := s.Down(context.Background(), wait.(DownOption))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), "Down")
	assert.Contains(t, err.Error(), "WithWait")
	_, err = s.Ps(context.Background(), nil)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	require.ErrorContains(t, err, "option #1 is nil")
	_, err = s.Ps(context.Background(), WithServices(""))
	require.ErrorIs(t, err, lifecycle.ErrInvalid, "a bad option value")
	_, err = Load(context.Background(), WithVariables("NOEQUALS"))
	require.ErrorContains(t, err, "NOEQUALS")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	// A value without a name is not echoed: it may be a secret.
	_, err = Load(context.Background(), WithVariables("A=1", "=hunter2"))
	require.ErrorContains(t, err, "variable 2")
	assert.NotContains(t, err.Error(), "hunter2")
	_, err = applyOpts("Run", []RunOption{WithEnv("=hunter2")}, RunOption.applyRun)
	require.ErrorContains(t, err, "WithEnv")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestServiceHashIgnoresFieldsAndDoesNotMutate(t *testing.T) {
	s, err := load(t, WithWorkingDir("testdata/stack"))
	require.NoError(t, err)
	web := s.p.Services["web"]
	h1, err := ServiceHash(web)
	require.NoError(t, err)
	require.NotNil(t, web.Deploy.Replicas, "ServiceHash must not clear the project's deploy.replicas")
	three := 3
	web2 := web
	d := *web.Deploy
	d.Replicas = &three
	web2.Deploy = &d
	web2.DependsOn = nil
	web2.Profiles = []string{"x"}
	h2, err := ServiceHash(web2)
	require.NoError(t, err)
	assert.Equal(t, h1, h2, "replicas, depends_on and profiles do not change the hash")
	web2.Command = []string{"sleep", "1"}
	h3, _ := ServiceHash(web2)
	assert.NotEqual(t, h1, h3)
}

func TestMain(m *testing.M) {
	// Tests set COMPOSE_* themselves; a developer's shell must not leak in.
	for _, k := range []string{"COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}
