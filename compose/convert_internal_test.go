package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadYAML loads a compose file written to a temporary project directory.
func loadYAML(t *testing.T, yaml string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644))
	p, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName("conv"), WithoutOSEnv())
	require.NoError(t, err)
	return p
}

// compose leaves a port without host_ip without one: lifecycle, the one
// place of the rule, gives it the client's bind address when it creates
// the container (or leaves it for all interfaces with WithAllInterfaces;
// see lifecycle's TestCreateConnectRenameStartList and compose's
// TestUpPortsBindLoopbackUnlessAllInterfaces).
func TestPortsKeepTheServicesHostIPOnly(t *testing.T) {
	var svc types.ServiceConfig
	svc.Ports = []types.ServicePortConfig{
		{Target: 80},
		{Target: 80, Published: "8080"},
		{Target: 53, Protocol: "udp"},
		{Target: 443, HostIP: "0.0.0.0", Published: "8443"},
		{Target: 22, HostIP: "::1"},
	}
	svc.Expose = []string{"9000", "9001/udp", "80"}
	exposed := nat.PortSet{"80/tcp": {}, "53/udp": {}, "443/tcp": {}, "22/tcp": {}, "9000/tcp": {}, "9001/udp": {}}
	e, b, err := ports(svc)
	require.NoError(t, err)
	assert.Equal(t, exposed, e)
	assert.Equal(t, nat.PortMap{
		"80/tcp":  {{}, {HostPort: "8080"}},
		"53/udp":  {{}},
		"443/tcp": {{HostIP: "0.0.0.0", HostPort: "8443"}},
		"22/tcp":  {{HostIP: "::1"}},
	}, b)
}

func TestPortsWithoutAnyAreNilAndBadExposeFails(t *testing.T) {
	e, b, err := ports(types.ServiceConfig{})
	require.NoError(t, err)
	assert.Nil(t, e)
	assert.Nil(t, b)
	var svc types.ServiceConfig
	svc.Expose = []string{"web"}
	_, _, err = ports(svc)
	assert.ErrorContains(t, err, `invalid expose "web"`)
}

func TestEnvListSortsAndDropsUnsetVariables(t *testing.T) {
	s := func(v string) *string { return &v }
	cases := []struct {
		name string
		in   types.MappingWithEquals
		want []string
	}{
		{"nil", nil, []string{}},
		{"sorted", types.MappingWithEquals{"B": s("2"), "A": s("1"), "C": s("x=y")}, []string{"A=1", "B=2", "C=x=y"}},
		{"empty value kept", types.MappingWithEquals{"EMPTY": s("")}, []string{"EMPTY="}},
		{"unset dropped", types.MappingWithEquals{"UNSET": nil, "SET": s("1")}, []string{"SET=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, envList(tc.in))
		})
	}
}

func TestHealthConfigCopiesDurationsAndGatesStartInterval(t *testing.T) {
	d := func(x time.Duration) *types.Duration { v := types.Duration(x); return &v }
	retries := uint64(5)
	full := &types.HealthCheckConfig{
		Test:          types.HealthCheckTest{"CMD", "true"},
		Interval:      d(time.Second),
		Timeout:       d(2 * time.Second),
		StartPeriod:   d(3 * time.Second),
		StartInterval: d(100 * time.Millisecond),
		Retries:       &retries,
	}
	want := &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Timeout: 2 * time.Second,
		StartPeriod: 3 * time.Second, Retries: 5}
	withStart := *want
	withStart.StartInterval = 100 * time.Millisecond
	cases := []struct {
		name, api string
		in        *types.HealthCheckConfig
		want      *container.HealthConfig
	}{
		{"API 1.41 drops start_interval", "1.41", full, want},
		{"unknown API drops start_interval", "", full, want},
		{"API 1.44 keeps start_interval", "1.44", full, &withStart},
		{"API 1.47 keeps start_interval", "1.47", full, &withStart},
		{"disable", "1.44", &types.HealthCheckConfig{Disable: true, Test: types.HealthCheckTest{"CMD", "true"}},
			&container.HealthConfig{Test: []string{"NONE"}}},
		{"only a test: the engine's defaults", "1.41", &types.HealthCheckConfig{Test: types.HealthCheckTest{"CMD-SHELL", "exit 0"}},
			&container.HealthConfig{Test: []string{"CMD-SHELL", "exit 0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, healthConfig(tc.in, tc.api))
		})
	}
}

func TestRestartPolicyFromRestartKey(t *testing.T) {
	cases := map[string]container.RestartPolicy{
		"":               {Name: container.RestartPolicyDisabled},
		"no":             {Name: container.RestartPolicyDisabled},
		"always":         {Name: container.RestartPolicyAlways},
		"unless-stopped": {Name: container.RestartPolicyUnlessStopped},
		"on-failure":     {Name: container.RestartPolicyOnFailure},
		"on-failure:3":   {Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3},
	}
	for in, want := range cases {
		assert.Equal(t, want, restartPolicy(types.ServiceConfig{Restart: in}), "restart: %q", in)
	}
}

// The CLI (v2.40.3, checked with docker compose create on this engine)
// lets deploy.restart_policy win over restart:, mapping any to always and
// none to no.
func TestRestartPolicyFromDeployWinsAsWithTheCLI(t *testing.T) {
	three := uint64(3)
	cases := []struct {
		restart string
		policy  types.RestartPolicy
		want    container.RestartPolicy
	}{
		{"", types.RestartPolicy{Condition: "on-failure", MaxAttempts: &three}, container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}},
		{"", types.RestartPolicy{Condition: "any"}, container.RestartPolicy{Name: container.RestartPolicyAlways}},
		{"always", types.RestartPolicy{Condition: "none"}, container.RestartPolicy{Name: container.RestartPolicyDisabled}},
		{"no", types.RestartPolicy{Condition: "unless-stopped"}, container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}},
		{"always", types.RestartPolicy{}, container.RestartPolicy{Name: container.RestartPolicyDisabled}},
	}
	for _, tc := range cases {
		svc := types.ServiceConfig{Restart: tc.restart, Deploy: &types.DeployConfig{RestartPolicy: &tc.policy}}
		assert.Equal(t, tc.want, restartPolicy(svc), "restart: %q, deploy.restart_policy: %+v", tc.restart, tc.policy)
	}
	// deploy: without restart_policy leaves restart: alone.
	assert.Equal(t, container.RestartPolicy{Name: container.RestartPolicyAlways},
		restartPolicy(types.ServiceConfig{Restart: "always", Deploy: &types.DeployConfig{}}))
}

func TestResourcesTakesDeployLimitsOverServiceKeys(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	yes := true
	cases := []struct {
		name string
		svc  func(s *types.ServiceConfig)
		want container.Resources
	}{
		{"none", func(s *types.ServiceConfig) {}, container.Resources{}},
		{"service keys", func(s *types.ServiceConfig) {
			s.MemLimit, s.MemReservation, s.MemSwapLimit = 64<<20, 32<<20, 128<<20
			s.CPUS, s.CPUShares, s.CPUQuota, s.CPUPeriod, s.CPUSet = 1.5, 512, 50000, 100000, "0"
			s.CgroupParent, s.PidsLimit, s.OomKillDisable = "/parent", 100, true
		}, container.Resources{
			Memory: 64 << 20, MemoryReservation: 32 << 20, MemorySwap: 128 << 20, NanoCPUs: 1_500_000_000, CPUShares: 512,
			CPUQuota: 50000, CPUPeriod: 100000, CpusetCpus: "0", CgroupParent: "/parent", PidsLimit: i64(100), OomKillDisable: &yes,
		}},
		{"deploy limits win", func(s *types.ServiceConfig) {
			s.MemLimit, s.CPUS, s.PidsLimit = 64<<20, 2, 100
			s.Deploy = &types.DeployConfig{Resources: types.Resources{Limits: &types.Resource{MemoryBytes: 128 << 20, NanoCPUs: 0.5, Pids: 50}}}
		}, container.Resources{Memory: 128 << 20, NanoCPUs: 500_000_000, PidsLimit: i64(50)}},
		// As the CLI does (checked with docker compose create on this engine).
		{"deploy memory reservation", func(s *types.ServiceConfig) {
			s.Deploy = &types.DeployConfig{Resources: types.Resources{Reservations: &types.Resource{MemoryBytes: 8 << 20}}}
		}, container.Resources{MemoryReservation: 8 << 20}},
		{"empty deploy limits keep service keys", func(s *types.ServiceConfig) {
			s.MemLimit = 64 << 20
			s.Deploy = &types.DeployConfig{Resources: types.Resources{Limits: &types.Resource{}}}
		}, container.Resources{Memory: 64 << 20}},
		{"ulimits sorted, single sets both", func(s *types.ServiceConfig) {
			s.Ulimits = map[string]*types.UlimitsConfig{"nproc": {Single: 512}, "nofile": {Soft: 1024, Hard: 2048}, "core": nil}
		}, container.Resources{Ulimits: []*units.Ulimit{
			{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512},
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var svc types.ServiceConfig
			tc.svc(&svc)
			assert.Equal(t, tc.want, resources(svc))
		})
	}
}

func TestToCreateMapsAServiceToTheEnginesRequest(t *testing.T) {
	p := loadYAML(t, `
services:
  app:
    image: example/app:1
    command: ["serve", "--port", "80"]
    entrypoint: ["/entry"]
    environment: {B: "2", A: "1"}
    working_dir: /srv
    user: "1000"
    hostname: apphost
    stop_signal: SIGINT
    stop_grace_period: 3s
    init: true
    restart: on-failure:2
    read_only: true
    cap_add: [NET_ADMIN]
    extra_hosts: ["somehost:10.1.2.3"]
    tmpfs: ["/run:size=1m", /scratch]
    ports: ["80", "127.0.0.2:8080:8080"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
    volumes:
      - data:/data:ro
      - /tmp:/host-tmp:ro
      - type: bind
        source: /tmp
        target: /strict
        bind: {create_host_path: false, propagation: rslave}
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1024}
    networks:
      default:
        priority: 10
      back:
        aliases: [api]
  built:
    build: .
    entrypoint: []
volumes:
  data:
    name: shared-data
networks:
  back:
`)
	labels := map[string]string{"k": "v"}
	spec, err := toCreate(p, p.Services["app"], 1, labels, convertOptions{apiVersion: "1.41"})
	require.NoError(t, err)
	cfg, host := spec.cfg, spec.host

	assert.Equal(t, "example/app:1", cfg.Image)
	assert.Equal(t, []string{"serve", "--port", "80"}, []string(cfg.Cmd))
	assert.Equal(t, []string{"/entry"}, []string(cfg.Entrypoint))
	assert.Equal(t, []string{"A=1", "B=2"}, cfg.Env)
	assert.Equal(t, "/srv", cfg.WorkingDir)
	assert.Equal(t, "1000", cfg.User)
	assert.Equal(t, "apphost", cfg.Hostname)
	assert.Equal(t, "SIGINT", cfg.StopSignal)
	require.NotNil(t, cfg.StopTimeout)
	assert.Equal(t, 3, *cfg.StopTimeout)
	assert.Equal(t, labels, cfg.Labels)
	assert.Equal(t, &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second}, cfg.Healthcheck)
	assert.Equal(t, nat.PortSet{"80/tcp": {}, "8080/tcp": {}}, cfg.ExposedPorts)

	assert.Equal(t, nat.PortMap{
		"80/tcp":   {{}},
		"8080/tcp": {{HostIP: "127.0.0.2", HostPort: "8080"}},
	}, host.PortBindings, "a port without host_ip is left to lifecycle's rule")
	assert.Equal(t, container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2}, host.RestartPolicy)
	require.NotNil(t, host.Init)
	assert.True(t, *host.Init)
	assert.True(t, host.ReadonlyRootfs)
	assert.Equal(t, []string{"NET_ADMIN"}, []string(host.CapAdd))
	assert.Equal(t, []string{"somehost:10.1.2.3"}, host.ExtraHosts)
	assert.Equal(t, map[string]string{"/run": "size=1m", "/scratch": ""}, host.Tmpfs)
	assert.Equal(t, []string{"/tmp:/host-tmp:ro"}, host.Binds, "a bind that may create its host path goes as a bind, as the CLI sends it")
	assert.Equal(t, []mount.Mount{
		{Type: mount.TypeVolume, Source: "shared-data", Target: "/data", ReadOnly: true},
		{Type: mount.TypeBind, Source: "/tmp", Target: "/strict", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRSlave}},
		{Type: mount.TypeTmpfs, Target: "/cache", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1024}},
	}, host.Mounts)

	// The highest priority network (then by name, as the CLI) is the
	// primary; API 1.41 takes one network at create, the second is
	// connected before start. The service name is an alias on each.
	assert.Equal(t, container.NetworkMode("conv_default"), host.NetworkMode)
	assert.Equal(t, &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		"conv_default": {Aliases: []string{"app"}},
	}}, spec.net)
	assert.Equal(t, []extraNet{{name: "conv_back", ep: &network.EndpointSettings{Aliases: []string{"app", "api"}}}}, spec.extra)

	// API 1.44 takes them all at create.
	spec, err = toCreate(p, p.Services["app"], 1, labels, convertOptions{apiVersion: "1.44"})
	require.NoError(t, err)
	assert.Len(t, spec.net.EndpointsConfig, 2)
	assert.Empty(t, spec.extra)

	// A build-only service runs the CLI's default image name; entrypoint: [] clears the image's.
	spec, err = toCreate(p, p.Services["built"], 1, nil, convertOptions{})
	require.NoError(t, err)
	assert.Equal(t, "conv-built", spec.cfg.Image)
	assert.Equal(t, []string{""}, []string(spec.cfg.Entrypoint))
	assert.Nil(t, spec.cfg.Cmd, "no command: the image's")
	assert.Nil(t, spec.cfg.StopTimeout, "no stop_grace_period: the engine's default")
}

func TestToCreateNetworkModes(t *testing.T) {
	p := loadYAML(t, `
services:
  db:
    image: db
  sidecar:
    image: side
    network_mode: service:db
  hostnet:
    image: h
    network_mode: host
`)
	spec, err := toCreate(p, p.Services["hostnet"], 1, nil, convertOptions{})
	require.NoError(t, err)
	assert.Equal(t, container.NetworkMode("host"), spec.host.NetworkMode)
	assert.Nil(t, spec.net)

	spec, err = toCreate(p, p.Services["sidecar"], 1, nil, convertOptions{networkContainer: func(s string) (string, error) {
		assert.Equal(t, "db", s)
		return "abc123", nil
	}})
	require.NoError(t, err)
	assert.Equal(t, container.NetworkMode("container:abc123"), spec.host.NetworkMode)

	boom := errors.New("no running container")
	_, err = toCreate(p, p.Services["sidecar"], 1, nil, convertOptions{networkContainer: func(string) (string, error) { return "", boom }})
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "service sidecar: network_mode service:db")
}

func TestToCreateRejectsUndeclaredVolumesAndNetworks(t *testing.T) {
	p := &types.Project{Name: "conv", Networks: types.Networks{"default": {}}}
	svc := func(edit func(s *types.ServiceConfig)) types.ServiceConfig {
		s := types.ServiceConfig{Name: "a"}
		s.Image = "x"
		edit(&s)
		return s
	}
	_, err := toCreate(p, svc(func(s *types.ServiceConfig) {
		s.Volumes = []types.ServiceVolumeConfig{{Type: types.VolumeTypeVolume, Source: "nope", Target: "/d"}}
	}), 1, nil, convertOptions{})
	assert.ErrorContains(t, err, `service a: volume "nope" is not declared`)

	_, err = toCreate(p, svc(func(s *types.ServiceConfig) {
		s.Networks = map[string]*types.ServiceNetworkConfig{"nope": nil}
	}), 1, nil, convertOptions{})
	assert.ErrorContains(t, err, `service a: network "nope" is not declared`)

	_, err = toCreate(p, svc(func(s *types.ServiceConfig) {
		s.Volumes = []types.ServiceVolumeConfig{{Type: "npipe", Source: "x", Target: "/d"}}
	}), 1, nil, convertOptions{})
	assert.ErrorContains(t, err, `volume type "npipe" is not supported`)

	spec, err := toCreate(&types.Project{Name: "conv"}, svc(func(*types.ServiceConfig) {}), 1, nil, convertOptions{})
	require.NoError(t, err)
	assert.Equal(t, container.NetworkMode("none"), spec.host.NetworkMode, "a project without networks")
}
