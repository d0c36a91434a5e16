package compose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

// TestPrecheckNamesTheBadValue covers the mistakes Up catches before any
// engine call: each error wraps lifecycle.ErrInvalid and names the
// service and the bad value.
func TestPrecheckNamesTheBadValue(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notjson"), []byte("{oops"), 0o644))
	base := func(edit func(p *types.Project, s *types.ServiceConfig)) *types.Project {
		p := &types.Project{Name: "pre", WorkingDir: dir}
		s := types.ServiceConfig{Name: "app"}
		s.Image = "x"
		edit(p, &s)
		p.Services = types.Services{"app": s}
		return p
	}
	cases := []struct {
		name string
		edit func(p *types.Project, s *types.ServiceConfig)
		want []string
	}{
		{"missing secret file", func(p *types.Project, s *types.ServiceConfig) {
			p.Secrets = types.Secrets{"token": {File: filepath.Join(dir, "nope.txt")}}
			s.Secrets = []types.ServiceSecretConfig{{Source: "token"}}
		}, []string{`service "app"`, `secret "token"`, "nope.txt"}},
		{"missing config file", func(p *types.Project, s *types.ServiceConfig) {
			p.Configs = types.Configs{"conf": {File: filepath.Join(dir, "gone.conf")}}
			s.Configs = []types.ServiceConfigObjConfig{{Source: "conf"}}
		}, []string{`service "app"`, `config "conf"`, "gone.conf"}},
		{"undeclared secret", func(p *types.Project, s *types.ServiceConfig) {
			s.Secrets = []types.ServiceSecretConfig{{Source: "ghost"}}
		}, []string{`service "app"`, "secrets[0]", `"ghost" is not declared`}},
		{"missing seccomp profile", func(p *types.Project, s *types.ServiceConfig) {
			s.SecurityOpt = []string{"seccomp=./missing.json"}
		}, []string{`service "app"`, "seccomp=./missing.json", "missing.json"}},
		{"seccomp profile not JSON", func(p *types.Project, s *types.ServiceConfig) {
			s.SecurityOpt = []string{"seccomp:notjson"}
		}, []string{`service "app"`, "seccomp:notjson", "not JSON"}},
		{"CDI device", func(p *types.Project, s *types.ServiceConfig) {
			s.Devices = []types.DeviceMapping{{Source: "nvidia.com/gpu=all", Target: "nvidia.com/gpu=all"}}
		}, []string{`service "app"`, "devices[0]", "nvidia.com/gpu=all", "CDI"}},
		{"security_opt without a separator", func(p *types.Project, s *types.ServiceConfig) {
			s.SecurityOpt = []string{"no-new-privileges", "apparmor"}
		}, []string{`service "app"`, `security_opt "apparmor"`, "KEY=VALUE"}},
		{"bad platform", func(p *types.Project, s *types.ServiceConfig) {
			s.Platform = "amd64"
		}, []string{`service "app"`, `platform "amd64"`, "os/arch"}},
		{"start_interval without start_period", func(p *types.Project, s *types.ServiceConfig) {
			d := types.Duration(1e9)
			s.HealthCheck = &types.HealthCheckConfig{Test: []string{"CMD", "true"}, StartInterval: &d}
		}, []string{`service "app"`, "start_interval requires healthcheck.start_period"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := precheck(base(tc.edit), convertOptions{apiVersion: "1.51"})
			require.Error(t, err)
			assert.ErrorIs(t, err, lifecycle.ErrInvalid)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	require.NoError(t, precheck(base(func(*types.Project, *types.ServiceConfig) {}), convertOptions{apiVersion: "1.41"}))
}

func TestSecurityOptsInlineSeccompProfiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.json"), []byte("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\"\n}\n"), 0o644))
	svc := types.ServiceConfig{Name: "app"}
	svc.SecurityOpt = []string{"seccomp=p.json", "seccomp:unconfined", "seccomp=builtin", "apparmor=unconfined", "label:disable", "no-new-privileges"}
	got, unconfined, err := securityOpts(svc, dir)
	require.NoError(t, err)
	assert.Equal(t, []string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO"}`, "seccomp:unconfined", "seccomp=builtin", "apparmor=unconfined", "label:disable", "no-new-privileges"}, got)
	assert.False(t, unconfined)
}

// systempaths=unconfined is no engine option: as the CLI, it is dropped
// and the container gets empty masked and read-only path lists.
func TestSecurityOptSystempathsUnconfined(t *testing.T) {
	p := loadYAML(t, `
services:
  app:
    image: x
    security_opt: ["systempaths=unconfined", "label=disable"]
  plain:
    image: x
`)
	spec, err := toCreate(p, p.Services["app"], 1, nil, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	assert.Equal(t, []string{"label=disable"}, spec.host.SecurityOpt)
	assert.NotNil(t, spec.host.MaskedPaths)
	assert.Empty(t, spec.host.MaskedPaths)
	assert.NotNil(t, spec.host.ReadonlyPaths)
	assert.Empty(t, spec.host.ReadonlyPaths)
	plain, err := toCreate(p, p.Services["plain"], 1, nil, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	assert.Nil(t, plain.host.MaskedPaths, "the engine's default masks stay without the option")
	assert.Nil(t, plain.host.ReadonlyPaths)
}

// The CLI writes links on every endpoint, the networks connected after
// create (API < 1.44) and those created with the container (>= 1.44).
func TestLinksOnEveryEndpoint(t *testing.T) {
	p := loadYAML(t, `
services:
  db:
    image: x
  app:
    image: x
    links: ["db:database"]
    networks: [front, back]
networks:
  front: {}
  back: {}
`)
	o := convertOptions{serviceContainerNames: func(string) ([]string, error) { return []string{p.Name + "-db-1"}, nil }}
	for _, api := range []string{"1.41", "1.44"} {
		o.apiVersion = api
		spec, err := toCreate(p, p.Services["app"], 1, nil, o)
		require.NoError(t, err)
		var n int
		for name, ep := range spec.net.EndpointsConfig {
			assert.Contains(t, ep.Links, p.Name+"-db-1:database", "API %s, network %s", api, name)
			n++
		}
		for _, en := range spec.extra {
			assert.Contains(t, en.ep.Links, p.Name+"-db-1:database", "API %s, network %s", api, en.name)
			n++
		}
		assert.Equal(t, 2, n, "API %s: both networks", api)
	}
}

func TestLinksAsTheCLIWritesThem(t *testing.T) {
	p := &types.Project{Name: "proj"}
	svc := types.ServiceConfig{Name: "web", Links: []string{"db:database", "cache"}, ExternalLinks: []string{"legacy:old", "other"}}
	got, err := links(p, svc, 2, convertOptions{serviceContainerNames: func(s string) ([]string, error) {
		return map[string][]string{"db": {"proj-db-1"}, "cache": {"proj-cache-1", "proj-cache-2"}}[s], nil
	}})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"proj-db-1:database", "proj-db-1:db-2", "proj-db-1:proj-db-2",
		"proj-cache-1:cache", "proj-cache-1:cache-2", "proj-cache-1:proj-cache-2",
		"proj-cache-2:cache", "proj-cache-2:cache-2", "proj-cache-2:proj-cache-2",
		"legacy:old", "other:other",
	}, got)
}

func TestToCreateResourceAndHostKeys(t *testing.T) {
	p := loadYAML(t, `
services:
  app:
    image: x
    cpu_rt_period: 1000
    cpu_rt_runtime: 500
    cpu_count: 2
    cpu_percent: 50
    mem_swappiness: 10
    cgroup: host
    blkio_config:
      weight: 300
      weight_device:
        - path: /dev/sda
          weight: 400
      device_write_iops:
        - path: /dev/sda
          rate: 30
    network_mode: disabled
    mac_address: 02:42:ac:11:00:02
`)
	app := p.Services["app"]
	// log_driver, log_opt and volume_driver (keys the schema no longer
	// admits, but compose-go still has) are honoured when set in code.
	app.LogDriver, app.LogOpt = "json-file", map[string]string{"max-size": "1m"}
	app.VolumeDriver = "local"
	spec, err := toCreate(p, app, 1, nil, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	r := spec.host.Resources
	assert.Equal(t, int64(1000), r.CPURealtimePeriod)
	assert.Equal(t, int64(500), r.CPURealtimeRuntime)
	assert.Equal(t, int64(2), r.CPUCount)
	assert.Equal(t, int64(50), r.CPUPercent)
	require.NotNil(t, r.MemorySwappiness)
	assert.Equal(t, int64(10), *r.MemorySwappiness)
	assert.Equal(t, uint16(300), r.BlkioWeight)
	require.Len(t, r.BlkioWeightDevice, 1)
	assert.Equal(t, uint16(400), r.BlkioWeightDevice[0].Weight)
	require.Len(t, r.BlkioDeviceWriteIOps, 1)
	assert.Equal(t, uint64(30), r.BlkioDeviceWriteIOps[0].Rate)
	assert.Equal(t, container.CgroupnsMode("host"), spec.host.CgroupnsMode)
	assert.Equal(t, "local", spec.host.VolumeDriver)
	assert.Equal(t, container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}}, spec.host.LogConfig)
	assert.True(t, spec.cfg.NetworkDisabled)
	assert.Equal(t, container.NetworkMode("none"), spec.host.NetworkMode)
	//lint:ignore SA1019 the pre-1.44 field is the one this API version takes
	assert.Equal(t, "02:42:ac:11:00:02", spec.cfg.MacAddress)
}

func TestHasServiceRefs(t *testing.T) {
	for _, tc := range []struct {
		svc  types.ServiceConfig
		want bool
	}{
		{types.ServiceConfig{}, false},
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{NetworkMode: "host", Ipc: "shareable"}}, false},
		// resolved too: the hash has the bare name, as the CLI's
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{VolumesFrom: []string{"container:x:ro"}}}, true},
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{NetworkMode: "service:db"}}, true},
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{Ipc: "service:db"}}, true},
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{Pid: "service:db"}}, true},
		{types.ServiceConfig{ContainerSpec: types.ContainerSpec{VolumesFrom: []string{"db:ro"}}}, true},
		{types.ServiceConfig{Links: []string{"db"}}, true},
	} {
		assert.Equal(t, tc.want, hasServiceRefs(tc.svc), "%+v", tc.svc.ContainerSpec)
	}
}

// volumes_from is hashed in the CLI's form (bare ID or name, see refs.go);
// the engine still gets each entry's mode.
func TestVolumesFromKeepsTheModeForTheEngine(t *testing.T) {
	p := loadYAML(t, `
services:
  db:
    image: x
  app:
    image: x
    volumes_from: ["db:ro", "container:legacy:rw", "db"]
`)
	resolved := p.Services["app"]
	resolved.VolumesFrom = []string{"0123abcd", "legacy", "0123abcd"} // as resolveServiceRefs leaves them
	spec, err := toCreate(p, resolved, 1, nil, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	assert.Equal(t, []string{"0123abcd:ro", "legacy:rw", "0123abcd"}, spec.host.VolumesFrom)
	// Unresolved (a one-off run): the names, without the container: prefix.
	spec, err = toCreate(p, p.Services["app"], 1, nil, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	assert.Equal(t, []string{"db:ro", "legacy:rw", "db"}, spec.host.VolumesFrom)
}

// As the CLI, a service reference resolves to the first container by
// name as a string, not by number.
func TestFirstByNameSortsAsStrings(t *testing.T) {
	cts := []lifecycle.Summary{{ID: "two", Name: "p-db-2"}, {ID: "ten", Name: "p-db-10"}, {ID: "three", Name: "p-db-3"}}
	assert.Equal(t, "ten", firstByName(cts).ID)
}
