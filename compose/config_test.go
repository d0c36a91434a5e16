package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// configCase is one `docker compose config` run: a stack of testdata, by
// directory (default file discovery) or by file (-f), with the options
// that narrow it.
type configCase struct {
	name     string
	dir      string   // absolute; the CLI's working directory
	file     string   // absolute; "" to discover the default files in dir
	profiles []string // --profile
	services []string // config SERVICE...
	unnamed  bool     // no -p: the name comes from name: or the directory
}

// configCases finds every stack under testdata: each directory holding a
// default compose file (with its override and the files it extends) is
// one stack; every other YAML file is a stack of its own.
func configCases(t *testing.T) []configCase {
	t.Helper()
	root, err := filepath.Abs("testdata")
	require.NoError(t, err)
	defaults := append(slices.Clone(cli.DefaultFileNames), cli.DefaultOverrideFileNames...)
	hasDefault := func(dir string) bool {
		for _, n := range cli.DefaultFileNames {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				return true
			}
		}
		return false
	}
	var cases []configCase
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.IsDir() && hasDefault(path):
			cases = append(cases, configCase{name: rel, dir: path})
		case d.IsDir():
		case !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml"):
		case hasDefault(filepath.Dir(path)) || slices.Contains(defaults, d.Name()):
			// Part of its directory's stack.
		default:
			cases = append(cases, configCase{name: rel, dir: filepath.Dir(path), file: path})
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	// The verbs' narrowing: a profile, services with their dependencies,
	// and a service its profile disables, which naming enables.
	at := func(name string) configCase {
		for _, c := range cases {
			if c.name == name {
				return c
			}
		}
		t.Fatalf("no stack %s under testdata", name)
		return configCase{}
	}
	withProfile := at("stack")
	withProfile.name, withProfile.profiles = "stack --profile debug", []string{"debug"}
	narrowed := at("stack")
	narrowed.name, narrowed.services = "stack app", []string{"app"}
	enabled := at("config")
	enabled.name, enabled.services = "config tools", []string{"tools"}
	// The project name from the file's name: and from the directory.
	fromFile := at("stack")
	fromFile.name, fromFile.unnamed = "stack unnamed", true
	fromDir := at("load/Discover_Me")
	fromDir.name, fromDir.unnamed = "load/Discover_Me unnamed", true
	return append(cases, withProfile, narrowed, enabled, fromFile, fromDir)
}

// configEnv is the whole environment of both sides: nothing of the test
// process (COMPOSE_FILE, COMPOSE_PROFILES, COMPOSE_PROJECT_NAME, ...) takes
// part, but what the docker CLI needs to find its compose plugin.
func configEnv(dir string) []string {
	env := []string{
		"PWD=" + dir,
		"BUSYBOX_IMAGE=" + testbench.Busybox,
		"REDIS_IMAGE=dockhand.test/redis:7",
		"FROM_HOST=from the host",
	}
	for _, k := range []string{"PATH", "HOME", "DOCKER_CONFIG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// configByCLI runs `config` of the release on the case: stdout, or the
// error with stderr.
func configByCLI(ctx context.Context, rel composeRelease, c configCase, project, format string) ([]byte, error) {
	args := slices.Clone(rel.argv[1:])
	if !c.unnamed {
		args = append(args, "-p", project)
	}
	if c.file != "" {
		args = append(args, "-f", c.file)
	}
	for _, p := range c.profiles {
		args = append(args, "--profile", p)
	}
	args = append(args, "config", "--format", format)
	args = append(args, c.services...)
	cmd := exec.CommandContext(ctx, rel.argv[0], args...)
	cmd.Dir = c.dir
	cmd.Env = configEnv(c.dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// configByStack is Stack.Config on the project Load makes of the case.
func configByStack(ctx context.Context, c configCase, project, format string) ([]byte, error) {
	opts := []LoadOption{WithoutOSEnv(), WithVariables(configEnv(c.dir)...), WithWorkingDir(c.dir), WithProfiles(c.profiles...)}
	if !c.unnamed {
		opts = append(opts, WithProjectName(project))
	}
	if c.file != "" {
		opts = append(opts, WithFiles(c.file))
	}
	p, err := Load(ctx, opts...)
	if err != nil {
		return nil, err
	}
	var copts []ConfigOption
	if format != "yaml" {
		copts = append(copts, WithFormat(format))
	}
	if len(c.services) > 0 {
		copts = append(copts, WithServices(c.services...))
	}
	return New(nil, p).Config(copts...)
}

// legacyConfig rewrites compose v2.40.3's config document where it
// differs from v5.6.0's on purpose, so what is left to compare is the
// model. v2.40.3 (compose-go v2.9.1, gopkg.in/yaml.v3) differs from v5.6.0
// (compose-go v2.16, go.yaml.in/yaml/v4 rc.6), whose bytes Config prints:
//   - the order of a service's keys, which is the order of compose-go's
//     struct fields: v2.9.1 has them nearly alphabetical, v2.16 regrouped
//     them (the container settings in an embedded ContainerSpec, then
//     expose, healthcheck, ports, ..., deploy, restart, container_name,
//     build, depends_on); undone by comparing the parsed documents;
//   - the quoting of strings YAML 1.1 reads as booleans: "yes" in v2.40.3,
//     'yes' in v5; undone by parsing;
//   - a short-syntax bind mount (./dir:/dir) gets bind.create_host_path:
//     true in v2.40.3, nothing in v5 (bind: {}); the same difference makes
//     their config hashes of such a service differ (see package doc). The
//     key is removed from v2.40.3's document where v5's has none;
//   - a network's ipam.options, which v2.40.3 drops; removed from v5's
//     document where v2.40.3's has none.
func legacyConfig(t *testing.T, legacy, v5 []byte) (any, any) {
	t.Helper()
	var l, f map[string]any
	require.NoError(t, yaml.Unmarshal(legacy, &l), "%s", legacy)
	require.NoError(t, yaml.Unmarshal(v5, &f), "%s", v5)
	ls, _ := l["services"].(map[string]any)
	fs, _ := f["services"].(map[string]any)
	for name, svc := range ls {
		lv, _ := svc.(map[string]any)["volumes"].([]any)
		fsvc, _ := fs[name].(map[string]any)
		fv, _ := fsvc["volumes"].([]any)
		for i := range min(len(lv), len(fv)) {
			lb, _ := lv[i].(map[string]any)["bind"].(map[string]any)
			fb, _ := fv[i].(map[string]any)["bind"].(map[string]any)
			if _, ok := fb["create_host_path"]; lb != nil && fb != nil && !ok && lb["create_host_path"] == true {
				delete(lb, "create_host_path")
			}
		}
	}
	// v2.40.3's compose-go (v2.9.1) has no ipam.options: it accepts the
	// key and drops it (from its config output as from its network hash,
	// see legacyNetworkHash).
	ln, _ := l["networks"].(map[string]any)
	fn, _ := f["networks"].(map[string]any)
	for name, n := range fn {
		fi, _ := n.(map[string]any)["ipam"].(map[string]any)
		lnet, _ := ln[name].(map[string]any)
		li, _ := lnet["ipam"].(map[string]any)
		if _, ok := li["options"]; fi != nil && li != nil && !ok {
			delete(fi, "options")
		}
	}
	return l, f
}

// TestConfigEqualsComposeCLI runs docker compose config (v5.6.0 and
// v2.40.3) on every stack under testdata, in YAML and JSON, with the same
// project name, directory and variables as Load, and asserts that
// Stack.Config prints the same bytes. A stack the CLI rejects is skipped
// with the CLI's reason, after checking that Load rejects it too. A
// release that is not installed is skipped with the reason, and fails the
// test under CI=true.
func TestConfigEqualsComposeCLI(t *testing.T) {
	cases := configCases(t)
	var v5, legacy composeRelease
	for _, rel := range composeReleases() {
		if rel.version == ComposeVersion {
			v5 = rel
		} else {
			legacy = rel
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	project := "dhcfg"
	for _, c := range cases {
		for _, format := range []string{"yaml", "json"} {
			key := c.name + " " + format
			t.Run(key, func(t *testing.T) {
				ours, ourErr := configByStack(ctx, c, project, format)
				for _, rel := range []composeRelease{v5, legacy} {
					t.Run("v"+rel.version, func(t *testing.T) {
						if rel.missing != "" {
							testbench.Unavailable(t, "compose CLI v%s: %s", rel.version, rel.missing)
						}
						theirs, err := configByCLI(ctx, rel, c, project, format)
						if err != nil {
							require.Error(t, ourErr, "compose v%s rejects %s (%v), Load and Config accept it", rel.version, c.name, err)
							t.Skipf("compose v%s rejects the stack: %v; so does Dockhand: %v", rel.version, err, ourErr)
						}
						require.NoError(t, ourErr, "compose v%s accepts %s", rel.version, c.name)
						if rel.version == ComposeVersion {
							assert.Equal(t, string(theirs), string(ours))
							return
						}
						if string(theirs) == string(ours) {
							return
						}
						want, got := legacyConfig(t, theirs, ours)
						assert.Equal(t, want, got, "compose v%s differs beyond the known differences (see legacyConfig)", rel.version)
						t.Logf("compose v%s: the same model; the bytes differ only as legacyConfig documents", rel.version)
					})
				}
			})
		}
	}
}

// TestConfigProject checks what Stack.Config does to the project without
// a CLI: what it drops, escapes and narrows, that the stack's project is
// left as it was, and that its YAML loads back to the same document.
func TestConfigProject(t *testing.T) {
	ctx := context.Background()
	dir, err := filepath.Abs("testdata/config")
	require.NoError(t, err)
	p, err := Load(ctx, WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("cfg"), WithVariables("FROM_HOST=x"))
	require.NoError(t, err)
	s := New(nil, p)
	out, err := s.Config()
	require.NoError(t, err)
	doc := string(out)
	assert.Contains(t, doc, `echo "price $$5 for $${USER}"; exec sleep 86400`, "a literal $ is escaped again")
	assert.Contains(t, doc, "FROM_FILE: \"1\"", "env_file merged into environment")
	assert.Contains(t, doc, "REF: dev-ref", "env_file interpolated")
	assert.NotContains(t, doc, "env_file")
	for _, unused := range []string{"orphan", "cfg_cache", "unused", "spare", "tools"} {
		assert.NotContains(t, doc, unused, "not used by an enabled service")
	}
	assert.Len(t, p.Volumes, 3, "the stack's project keeps its resources")
	assert.Len(t, p.Networks, 3)

	// Loading the document back gives the same document: the escaping
	// makes it a compose file again.
	back := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(back, "compose.yaml"), out, 0o644))
	p2, err := Load(ctx, WithoutOSEnv(), WithWorkingDir(back), WithProjectName("cfg"))
	require.NoError(t, err)
	again, err := New(nil, p2).Config()
	require.NoError(t, err)
	assert.Equal(t, doc, string(again))

	// Narrowed: the service, its dependencies and their resources; a
	// service its profile disables is enabled by naming it.
	out, err = s.Config(WithServices("worker", "tools"))
	require.NoError(t, err)
	doc = string(out)
	assert.Contains(t, doc, "\n  api:\n", "worker depends on api")
	assert.Contains(t, doc, "\n  tools:\n")
	assert.Contains(t, doc, "cfg_cache")
	assert.Contains(t, doc, "cfg_unused")
	_, disabled := p.DisabledServices["tools"]
	assert.True(t, disabled, "the stack's project still has tools disabled")

	js, err := s.Config(WithFormat("json"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(js, []byte("{\n  \"configs\": {")), "%.40s", js)
}

func TestConfigInvalid(t *testing.T) {
	dir, err := filepath.Abs("testdata/config")
	require.NoError(t, err)
	p, err := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("cfg"))
	require.NoError(t, err)
	s := New(nil, p)

	_, err = s.Config(WithFormat("xml"))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose: WithFormat("xml"): want "yaml" or "json"`)
	_, err = s.Config(WithFormat("YAML"))
	assert.ErrorIs(t, err, lifecycle.ErrInvalid, "formats are lowercase, as the CLI's")

	_, err = s.Config(WithServices("nosuch"))
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.EqualError(t, err, `compose cfg: config: no such service: "nosuch" (services: api, tools, worker)`)

	_, err = s.Config(nil)
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)

	_, err = (&Stack{}).Config()
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)

	// Two services with one container_name fail, as the CLI's config does.
	dup := &types.Project{Name: "dup", Services: types.Services{
		"a": {Name: "a", ContainerName: "same", ContainerSpec: types.ContainerSpec{Image: "x"}},
		"b": {Name: "b", ContainerName: "same", ContainerSpec: types.ContainerSpec{Image: "x"}},
	}}
	_, err = New(nil, dup).Config()
	require.Error(t, err)
	assert.Regexp(t, regexp.MustCompile(`^compose dup: config: services\.[ab]: container name "same" is already in use`), err.Error())
}

// TestConfigErrorHidesEnvFileSecrets checks that an env_file Config reads
// (that of a service WithServices enables) cannot show a secret in
// Config's error: the message of a ${VAR:?message} there is interpolated
// with the service's environment and the file's own variables, which Load
// never saw as the project's; the error still names the file and the
// missing variable. Load, which reads the env_files of the enabled
// services, hides them alike. Pure: no engine.
func TestConfigErrorHidesEnvFileSecrets(t *testing.T) {
	const token, password = "Kq7vZx9wLm3p", "Rt5bNy8cHj2d"
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  app:
    image: busybox
  tools:
    image: busybox
    profiles: [tools]
    environment:
      API_TOKEN: `+token+`
    env_file: [tools.env]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tools.env"), []byte(
		"DB_PASSWORD="+password+"\nDSN=${DB_URL:?set DB_URL, e.g. postgres://app:${DB_PASSWORD}@db with token ${API_TOKEN}}\n"), 0o644))
	p, err := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("cfgsecret"))
	require.NoError(t, err, "tools is disabled: Load leaves its env_file unread")

	_, err = New(nil, p).Config(WithServices("tools"))
	require.Error(t, err)
	_, loadErr := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("cfgsecret"), WithProfiles("tools"))
	require.Error(t, loadErr)
	for _, err := range []error{err, loadErr} {
		for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, shown, token)
			assert.NotContains(t, shown, password)
		}
		assert.Contains(t, err.Error(), filepath.Join(dir, "tools.env"))
		assert.Contains(t, err.Error(), "required variable DB_URL is missing a value: xxxxx")
	}
}
