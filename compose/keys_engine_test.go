package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// keysProject writes a stack that uses the compose keys Dockhand
// converts beyond the common ones, with the files its secrets, configs
// and seccomp profile name.
func keysProject(t *testing.T, bb string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"token.txt":    "s3cr3t-token\n",
		"app.conf":     "answer=42\n",
		"seccomp.json": "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n",
		"compose.yaml": fmt.Sprintf(`services:
  db:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    ipc: shareable
    volumes: [data:/data]
  app:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    platform: linux/amd64
    secrets:
      - token
      - source: token
        target: custom
    configs:
      - appconf
      - source: appconf
        target: /etc/app.conf
    devices: ["/dev/null:/dev/mynull:rw"]
    device_cgroup_rules: ["c 1:3 mr"]
    deploy:
      restart_policy:
        condition: on-failure
        max_attempts: 3
      resources:
        reservations:
          memory: 64M
    volumes:
      - type: volume
        source: data
        target: /labelled
        volume:
          labels:
            purpose: test
    links: ["db:database"]
    external_links: ["${DB_CONTAINER}:extdb"]
    mem_swappiness: 10
    extra_hosts: ["somehost:10.1.2.3"]
    shm_size: 32m
    ulimits:
      nofile:
        soft: 1024
        hard: 2048
    mac_address: "02:42:ac:11:00:99"
    blkio_config:
      device_read_bps:
        - path: /dev/loop0
          rate: 1mb
    cpu_shares: 512
    cpu_period: 100000
    cpu_quota: 50000
    cgroup: private
    ipc: service:db
    pid: service:db
    volumes_from: ["db:ro"]
    security_opt: ["seccomp=./seccomp.json", "no-new-privileges:true", "systempaths=unconfined"]
  side:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    network_mode: service:db
  client:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    links: ["db:store"]
    networks: [default, other]
  off:
    image: %[1]s
    init: true
    command: ["sleep", "86400"]
    network_mode: disabled
secrets:
  token:
    file: ./token.txt
configs:
  appconf:
    file: ./app.conf
volumes:
  data:
    labels:
      team: core
networks:
  default:
    labels:
      netlabel: "yes"
  other: {}
`, bb),
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

// TestComposeKeysTakeEffect brings up a stack using the keys Dockhand
// supports beyond the common ones and inspects the containers for each
// key's effect, as a user checking `docker inspect` would.
func TestComposeKeysTakeEffect(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bb := testbench.BusyboxImage(t, c)
	dir := keysProject(t, bb)
	name := projectName(c, "keys")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithoutOSEnv(), WithVariables("DB_CONTAINER="+name+"-db-1"))
	require.NoError(t, err)
	s := New(c, p)
	t.Cleanup(func() { _ = s.Down(context.Background(), WithRemoveVolumes()); noProjectLeft(t, c, name) })
	require.NoError(t, s.Up(ctx, WithWait()))

	inspect := func(svc string) container.InspectResponse {
		t.Helper()
		ps, err := s.Ps(ctx, WithServices(svc))
		require.NoError(t, err)
		require.Len(t, ps, 1, svc)
		ins, err := c.API().ContainerInspect(ctx, ps[0].ID)
		require.NoError(t, err)
		return ins
	}
	exec := func(svc string, cmd ...string) string {
		t.Helper()
		res, err := s.Exec(ctx, svc, cmd)
		require.NoError(t, err)
		require.Equal(t, 0, res.ExitCode, "%v: %s", cmd, res.Stderr)
		return string(res.Stdout)
	}
	db, app := inspect("db"), inspect("app")

	t.Run("secrets and configs", func(t *testing.T) {
		assert.Equal(t, "s3cr3t-token\n", exec("app", "cat", "/run/secrets/token"))
		assert.Equal(t, "s3cr3t-token\n", exec("app", "cat", "/run/secrets/custom"))
		assert.Equal(t, "answer=42\n", exec("app", "cat", "/appconf"))
		assert.Equal(t, "answer=42\n", exec("app", "cat", "/etc/app.conf"))
		res, err := s.Exec(ctx, "app", []string{"sh", "-c", "echo x > /run/secrets/token"})
		require.NoError(t, err)
		assert.NotEqual(t, 0, res.ExitCode, "a secret is mounted read-only")
		ro := 0
		for _, m := range app.HostConfig.Mounts {
			if m.Type == mount.TypeBind && m.ReadOnly && (strings.HasPrefix(m.Target, "/run/secrets/") || m.Target == "/appconf" || m.Target == "/etc/app.conf") {
				ro++
			}
		}
		assert.Equal(t, 4, ro, "read-only bind mounts for 2 secrets and 2 configs: %+v", app.HostConfig.Mounts)
	})
	t.Run("devices and device_cgroup_rules", func(t *testing.T) {
		assert.Equal(t, []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rw"}}, app.HostConfig.Devices)
		exec("app", "test", "-c", "/dev/mynull")
		assert.Equal(t, []string{"c 1:3 mr"}, app.HostConfig.DeviceCgroupRules)
	})
	t.Run("deploy restart_policy and reservations", func(t *testing.T) {
		assert.Equal(t, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, app.HostConfig.RestartPolicy)
		assert.Equal(t, int64(64<<20), app.HostConfig.MemoryReservation)
	})
	t.Run("volume and network labels, volume mount labels", func(t *testing.T) {
		v, err := c.API().VolumeInspect(ctx, name+"_data")
		require.NoError(t, err)
		assert.Equal(t, "core", v.Labels["team"])
		n, err := c.API().NetworkInspect(ctx, name+"_default", network.InspectOptions{})
		require.NoError(t, err)
		assert.Equal(t, "yes", n.Labels["netlabel"])
		found := false
		for _, m := range app.HostConfig.Mounts {
			if m.Target == "/labelled" {
				found = true
				require.NotNil(t, m.VolumeOptions)
				assert.Equal(t, map[string]string{"purpose": "test"}, m.VolumeOptions.Labels)
			}
		}
		assert.True(t, found, "the /labelled volume mount")
	})
	t.Run("links and external_links", func(t *testing.T) {
		ep := app.NetworkSettings.Networks[name+"_default"]
		require.NotNil(t, ep)
		assert.Contains(t, ep.Links, name+"-db-1:database")
		assert.Contains(t, ep.Links, name+"-db-1:extdb", "external_links")
		assert.Contains(t, exec("app", "nslookup", "extdb", "127.0.0.11"), "Address")
		// links alone: client waits for db's container before it is created.
		client := inspect("client")
		assert.Contains(t, client.NetworkSettings.Networks[name+"_default"].Links, name+"-db-1:store")
		// A network connected after create (API < 1.44) has the links too.
		require.NotNil(t, client.NetworkSettings.Networks[name+"_other"])
		assert.Contains(t, client.NetworkSettings.Networks[name+"_other"].Links, name+"-db-1:store")
		assert.Contains(t, exec("app", "nslookup", "database", "127.0.0.11"), "Address")
	})
	t.Run("extra_hosts, shm_size, ulimits, mac_address, blkio, cpu, cgroup", func(t *testing.T) {
		assert.Contains(t, exec("app", "cat", "/etc/hosts"), "10.1.2.3\tsomehost")
		assert.Equal(t, int64(32<<20), app.HostConfig.ShmSize)
		require.Len(t, app.HostConfig.Ulimits, 1)
		assert.Equal(t, "nofile", app.HostConfig.Ulimits[0].Name)
		assert.Equal(t, int64(1024), app.HostConfig.Ulimits[0].Soft)
		assert.Equal(t, int64(2048), app.HostConfig.Ulimits[0].Hard)
		// The hard limit binds every process of the container (an exec's
		// soft limit is sometimes the hard one on this engine).
		assert.Regexp(t, `Max open files\s+\d+\s+2048\s`, exec("app", "cat", "/proc/self/limits"))
		assert.Equal(t, "02:42:ac:11:00:99", app.NetworkSettings.Networks[name+"_default"].MacAddress)
		require.Len(t, app.HostConfig.BlkioDeviceReadBps, 1)
		assert.Equal(t, "/dev/loop0", app.HostConfig.BlkioDeviceReadBps[0].Path)
		assert.Equal(t, uint64(1<<20), app.HostConfig.BlkioDeviceReadBps[0].Rate)
		assert.Equal(t, int64(512), app.HostConfig.CPUShares)
		assert.Equal(t, int64(100000), app.HostConfig.CPUPeriod)
		assert.Equal(t, int64(50000), app.HostConfig.CPUQuota)
		assert.Equal(t, container.CgroupnsMode("private"), app.HostConfig.CgroupnsMode)
		require.NotNil(t, app.HostConfig.MemorySwappiness)
		assert.Equal(t, int64(10), *app.HostConfig.MemorySwappiness)
	})
	t.Run("service references resolve to the container", func(t *testing.T) {
		assert.Equal(t, container.IpcMode("container:"+db.ID), app.HostConfig.IpcMode)
		assert.Equal(t, container.PidMode("container:"+db.ID), app.HostConfig.PidMode)
		assert.Equal(t, []string{db.ID + ":ro"}, app.HostConfig.VolumesFrom)
		side := inspect("side")
		assert.Equal(t, container.NetworkMode("container:"+db.ID), side.HostConfig.NetworkMode)
		// The hash is of the resolved service, as the CLI's.
		resolved, err := s.resolveServiceRefs(ctx, p.Services["side"])
		require.NoError(t, err)
		want, err := ServiceHash(resolved)
		require.NoError(t, err)
		assert.Equal(t, want, side.Config.Labels[LabelConfigHash])
		// pid: the db's sleep is visible from app.
		assert.Contains(t, exec("app", "ps"), "sleep 86400")
	})
	t.Run("network_mode disabled", func(t *testing.T) {
		off := inspect("off")
		assert.True(t, off.Config.NetworkDisabled)
		assert.Equal(t, container.NetworkMode("none"), off.HostConfig.NetworkMode)
	})
	t.Run("security_opt seccomp file", func(t *testing.T) {
		assert.Contains(t, app.HostConfig.SecurityOpt, `seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`)
		assert.Contains(t, app.HostConfig.SecurityOpt, "no-new-privileges:true")
	})
	t.Run("security_opt systempaths=unconfined", func(t *testing.T) {
		assert.NotContains(t, app.HostConfig.SecurityOpt, "systempaths=unconfined")
		assert.Empty(t, app.HostConfig.MaskedPaths)
		assert.Empty(t, app.HostConfig.ReadonlyPaths)
		// By default /proc/timer_list is masked and /proc/sys read-only
		// (mounts over /proc); unconfined, neither is.
		assert.NotContains(t, exec("app", "cat", "/proc/mounts"), "/proc/timer_list")
		assert.NotContains(t, exec("app", "cat", "/proc/mounts"), "/proc/sys ")
		assert.Contains(t, exec("client", "cat", "/proc/mounts"), "/proc/timer_list", "the default masks elsewhere")
	})
	t.Run("a second Up keeps every container", func(t *testing.T) {
		ids := containerIDs(t, s)
		require.NoError(t, s.Up(ctx, WithWait()))
		assert.Equal(t, ids, containerIDs(t, s))
	})
}

// TestComposePlatformReachesTheEngine proves platform: is sent with the
// create: an image of another platform is refused by the engine.
func TestComposePlatformReachesTheEngine(t *testing.T) {
	c := testbench.Client(t)
	ctx := context.Background()
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, writeFile(filepath.Join(dir, "compose.yaml"), fmt.Sprintf(`services:
  app:
    image: %s
    pull_policy: never
    command: ["true"]
    platform: linux/s390x
`, bb)))
	name := projectName(c, "platform")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithoutOSEnv())
	require.NoError(t, err)
	s := New(c, p)
	t.Cleanup(func() { _ = s.Down(context.Background(), WithRemoveVolumes()); noProjectLeft(t, c, name) })
	err = s.Up(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "platform")
}

// TestComposeKeysNeedingANewerAPI checks that keys this engine's API
// version cannot honour fail Up with an error naming the service, the
// key and the API version needed, before anything is created.
func TestComposeKeysNeedingANewerAPI(t *testing.T) {
	c := testbench.Client(t)
	ctx := context.Background()
	bb := testbench.BusyboxImage(t, c)
	api := c.APIVersion()
	cases := []struct {
		key, yaml, version string
	}{
		{"healthcheck.start_interval", "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      start_period: 5s\n      start_interval: 1s\n", "1.44"},
		{"annotations", "    annotations:\n      com.example.a: b\n", "1.43"},
		{"volumes[0].volume.subpath", "    volumes:\n      - type: volume\n        source: data\n        target: /d\n        volume:\n          subpath: sub\n", "1.45"},
		{"networks.back.gw_priority", "    networks:\n      back:\n        gw_priority: 10\n", "1.48"},
		{"networks.b2.mac_address", "    networks:\n      a1: {}\n      b2:\n        mac_address: 02:42:ac:11:00:98\n", "1.44"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			if !strings.HasPrefix(api, "1.") || !lessAPI(api, tc.version) {
				t.Skipf("engine API %s is not older than %s: the key is accepted", api, tc.version)
			}
			dir := t.TempDir()
			require.NoError(t, writeFile(filepath.Join(dir, "compose.yaml"), fmt.Sprintf(`services:
  app:
    image: %s
    command: ["sleep", "86400"]
%svolumes:
  data:
networks:
  back:
  a1:
  b2:
`, bb, tc.yaml)))
			name := projectName(c, "api")
			p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithoutOSEnv())
			require.NoError(t, err)
			s := New(c, p)
			t.Cleanup(func() { _ = s.Down(context.Background(), WithRemoveVolumes()) })
			err = s.Up(ctx)
			require.Error(t, err)
			assert.ErrorIs(t, err, lifecycle.ErrInvalid)
			assert.Contains(t, err.Error(), `service "app"`)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), "needs API "+tc.version)
			noProjectLeft(t, c, name)
		})
	}
}

func lessAPI(have, want string) bool {
	var hm, hn, wm, wn int
	fmt.Sscanf(have, "%d.%d", &hm, &hn)
	fmt.Sscanf(want, "%d.%d", &wm, &wn)
	return hm < wm || hm == wm && hn < wn
}

// TestUpBadFileLeavesNothingBehind: a secret whose file is missing fails
// Up with an error naming the service, the secret and the file, before
// any network, volume or container is created.
func TestUpBadFileLeavesNothingBehind(t *testing.T) {
	c := testbench.Client(t)
	ctx := context.Background()
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, writeFile(filepath.Join(dir, "token.txt"), "t\n"))
	require.NoError(t, writeFile(filepath.Join(dir, "compose.yaml"), fmt.Sprintf(`services:
  app:
    image: %s
    command: ["sleep", "86400"]
    volumes: [data:/data]
    secrets: [token]
volumes:
  data:
secrets:
  token:
    file: ./token.txt
`, bb)))
	name := projectName(c, "badfile")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithoutOSEnv())
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "token.txt"))) // gone between Load and Up
	s := New(c, p)
	t.Cleanup(func() { _ = s.Down(context.Background(), WithRemoveVolumes()) })
	err = s.Up(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `service "app": secret "token"`)
	assert.Contains(t, err.Error(), "token.txt")
	noProjectLeft(t, c, name)
}
