package composetest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/compose/composetest"
	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

const composeFile = "testdata/compose.yaml"

// webSpec loads the web service of testdata/compose.yaml with the variables
// kv (and nothing from the process environment).
func webSpec(t *testing.T, kv ...string) dockhandtest.Spec {
	t.Helper()
	spec, err := composetest.ServiceSpec(t.Context(), "web", compose.WithFiles(composeFile), compose.WithoutOSEnv(), compose.WithVariables(kv...))
	require.NoError(t, err)
	return spec
}

// The service's keys land in the Spec: interpolated, sorted, the fixed
// host port dropped, the ignored keys (container_name, restart, labels)
// without effect.
func TestComposeSpecCarriesTheService(t *testing.T) {
	spec := webSpec(t, "IMAGE=example/web:1", "WHO=tests", "RUN=r1")
	assert.Equal(t, "web", spec.Name)
	assert.Equal(t, "example/web:1", spec.Image)
	assert.Equal(t, []string{"/bin/sh", "-c"}, spec.Entrypoint)
	require.Len(t, spec.Cmd, 1)
	assert.Contains(t, spec.Cmd[0], `exec httpd -f -p 8080 -h /tmp`)
	assert.Contains(t, spec.Cmd[0], `"$HOLD"`, "$$ is a literal $")
	assert.Equal(t, []string{"GREETING=hello tests", "HOLD=", "RUN=r1"}, spec.Env)
	assert.Equal(t, []string{"8080", "9090"}, spec.Ports, "ports: and expose:, container ports only")
	assert.Equal(t, map[string]string{"/scratch": "size=1m"}, spec.Tmpfs)
	assert.NotNil(t, spec.Ready, "ready on the healthcheck")
	assert.Equal(t, &container.HealthConfig{Test: []string{"CMD-SHELL", "test -f /tmp/ready"}, Interval: 250 * time.Millisecond, Timeout: 5 * time.Second},
		spec.Healthcheck, "the file's healthcheck, its 30s interval capped")
	assert.Zero(t, spec.ReadyTimeout)

	again := webSpec(t, "IMAGE=example/web:1", "WHO=tests", "RUN=r1")
	again.Ready, spec.Ready = nil, nil
	assert.Equal(t, spec, again, "the same Spec at every load")
}

// writeCompose writes a compose file of one service, svc, and returns
// its path.
func writeCompose(t *testing.T, services string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "compose.yaml")
	require.NoError(t, os.WriteFile(p, []byte("name: bad\nservices:\n"+services), 0o644))
	return p
}

// A key the Spec cannot carry fails with the service, the key and what
// to do instead, before any engine request.
func TestComposeSpecRejectsWhatItCannotCarry(t *testing.T) {
	// ServiceSpec takes no client and makes none today, so this proxy
	// sees nothing: it guards against a change that would make one from
	// the environment (DOCKER_HOST), as lifecycle.New does.
	proxy := testbench.NewFaultProxy(t)
	t.Setenv("DOCKER_HOST", proxy.Host())
	for _, tc := range []struct {
		name, services, service, want string
	}{
		{"volumes", "  db:\n    image: busybox\n    volumes: [\"./data:/data\"]\n", "db", `compose service "db": volumes: a fixture mounts nothing but tmpfs`},
		{"depends_on", "  db:\n    image: busybox\n    depends_on: [other]\n  other:\n    image: busybox\n", "db", `compose service "db": depends_on: a fixture is one container`},
		{"cap_add", "  db:\n    image: busybox\n    cap_add: [NET_ADMIN]\n", "db", `compose service "db": cap_add: a fixture's Spec carries image`},
		{"privileged", "  db:\n    image: busybox\n    privileged: true\n", "db", `compose service "db": privileged:`},
		{"ulimits", "  db:\n    image: busybox\n    ulimits: {nofile: 1024}\n", "db", `compose service "db": ulimits:`},
		{"working_dir", "  db:\n    image: busybox\n    working_dir: /srv\n", "db", `compose service "db": working_dir:`},
		{"secrets", "  db:\n    image: busybox\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw\n", "db", `compose service "db": secrets: a fixture mounts nothing but tmpfs`},
		{"build without image", "  app:\n    build: .\n", "app", `compose service "app": build: a fixture runs an image and never builds`},
		{"a network of its own", "  db:\n    image: busybox\n    networks: [back]\nnetworks:\n  back: {}\n", "db", `compose service "db": networks.back: a fixture runs on the engine's default network`},
		{"scale", "  db:\n    image: busybox\n    scale: 2\n", "db", `compose service "db": scale: 2: a fixture runs one container`},
		{"pull_policy", "  db:\n    image: busybox\n    pull_policy: always\n", "db", `compose service "db": pull_policy: "always"`},
		{"pull_policy never", "  db:\n    image: busybox\n    pull_policy: never\n", "db", `compose service "db": pull_policy: "never": a fixture pulls its image when it is missing`},
		{"init", "  db:\n    image: busybox\n    init: true\n", "db", `compose service "db": init:`},
		{"empty entrypoint", "  db:\n    image: busybox\n    entrypoint: []\n", "db", `compose service "db": entrypoint: an empty entrypoint`},
		{"deploy limits", "  db:\n    image: busybox\n    deploy: {resources: {limits: {memory: 64m}}}\n", "db", `compose service "db": deploy:`},
		{"tty", "  db:\n    image: busybox\n    tty: true\n", "db", `compose service "db": tty:`},
		{"bad expose", "  db:\n    image: busybox\n    expose: [\"1-1000\"]\n", "db", `compose service "db": expose[0]: "1-1000": want a port`},
		{"healthcheck without a program", "  db:\n    image: busybox\n    healthcheck: {test: [CMD]}\n", "db", `compose service "db": healthcheck.test: CMD with no program`},
		{"healthcheck without a command line", "  db:\n    image: busybox\n    healthcheck: {test: [CMD-SHELL, \" \"]}\n", "db", `compose service "db": healthcheck.test: CMD-SHELL with no command`},
		{"unknown service", "  db:\n    image: busybox\n  dbg:\n    image: busybox\n    profiles: [debug]\n", "web", `compose project bad has no service "web": want one of db, dbg`},
		{"a disabled service's rejected key", "  db:\n    image: busybox\n    profiles: [debug]\n    cap_add: [NET_ADMIN]\n  x:\n    image: busybox\n", "db", `compose service "db": cap_add:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := composetest.ServiceSpec(t.Context(), tc.service, compose.WithFiles(writeCompose(t, tc.services)), compose.WithoutOSEnv())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.ErrorIs(t, err, lifecycle.ErrInvalid)
		})
	}
	_, err := composetest.ServiceSpec(t.Context(), "", compose.WithFiles(composeFile))
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.ErrorContains(t, err, "composetest.ServiceSpec: empty service name")
	assert.Empty(t, proxy.Calls(), "no engine request")
}

// The file's healthcheck becomes the Spec's, as docker compose makes it,
// with the interval capped; readiness is the engine's health when there
// is a test, else the ports'.
func TestComposeSpecReadiness(t *testing.T) {
	const capped = 250 * time.Millisecond
	for _, tc := range []struct {
		name, hc string
		want     *container.HealthConfig
		ready    bool
	}{
		{"NONE", "healthcheck: {test: [NONE]}", &container.HealthConfig{Test: []string{"NONE"}}, false},
		{"disable", "healthcheck: {test: [CMD, \"true\"], disable: true}", &container.HealthConfig{Test: []string{"NONE"}}, false},
		{"none", "", nil, false},
		{"CMD", "healthcheck: {test: [CMD, redis-cli, ping]}", &container.HealthConfig{Test: []string{"CMD", "redis-cli", "ping"}, Interval: capped}, true},
		{"string form", "healthcheck: {test: redis-cli ping}", &container.HealthConfig{Test: []string{"CMD-SHELL", "redis-cli ping"}, Interval: capped}, true},
		{"CMD-SHELL as the engine runs it", "healthcheck: {test: [CMD-SHELL, \"exit $$0\", \"3\"]}", &container.HealthConfig{Test: []string{"CMD-SHELL", "exit $0", "3"}, Interval: capped}, true},
		{"timings", "healthcheck: {test: [CMD, \"true\"], interval: 1m, timeout: 3s, retries: 5, start_period: 10s}",
			&container.HealthConfig{Test: []string{"CMD", "true"}, Interval: capped, Timeout: 3 * time.Second, Retries: 5, StartPeriod: 10 * time.Second}, true},
		{"a shorter interval", "healthcheck: {test: [CMD, \"true\"], interval: 100ms}", &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: 100 * time.Millisecond}, true},
		{"start_interval", "healthcheck: {test: [CMD, \"true\"], interval: 1m, start_interval: 50ms}", &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: 50 * time.Millisecond}, true},
		{"timings only", "healthcheck: {interval: 1m, timeout: 3s}", &container.HealthConfig{Interval: capped, Timeout: 3 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := composetest.ServiceSpec(t.Context(), "Cache", compose.WithFiles(writeCompose(t, "  Cache:\n    image: redis\n    "+tc.hc+"\n")), compose.WithoutOSEnv())
			require.NoError(t, err)
			assert.Equal(t, "cache", spec.Name, "lowercased: a valid Spec name")
			assert.Equal(t, tc.want, spec.Healthcheck)
			assert.Equal(t, tc.ready, spec.Ready != nil)
		})
	}
}

// A service its profile disables is enabled by naming it, as docker
// compose up cache does.
func TestComposeSpecDisabledServiceNamed(t *testing.T) {
	spec, err := composetest.ServiceSpec(t.Context(), "cache", compose.WithFiles(composeFile), compose.WithoutOSEnv())
	require.NoError(t, err)
	assert.Equal(t, "redis:7", spec.Image)
	assert.Equal(t, []string{"6379"}, spec.Ports)
	withProfile, err := composetest.ServiceSpec(t.Context(), "cache", compose.WithFiles(composeFile), compose.WithoutOSEnv(), compose.WithProfiles("cache"))
	require.NoError(t, err)
	assert.Equal(t, withProfile, spec, "the same Spec as with its profile enabled")

	// Its env_file is read, as Load reads those of the enabled services.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tool.env"), []byte("FROM_ENV_FILE=tool\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web:\n    image: busybox\n"+
		"  tool:\n    image: busybox\n    profiles: [tools]\n    env_file: tool.env\n"), 0o644))
	spec, err = composetest.ServiceSpec(t.Context(), "tool", compose.WithWorkingDir(dir), compose.WithoutOSEnv())
	require.NoError(t, err)
	assert.Equal(t, []string{"FROM_ENV_FILE=tool"}, spec.Env)
}

// A key set to what leaving it out gives is left out: an empty command
// is the image's (as for the engine), false and an empty block are the
// defaults.
func TestComposeSpecDefaultsAreUnset(t *testing.T) {
	load := func(t *testing.T, keys string) dockhandtest.Spec {
		t.Helper()
		spec, err := composetest.ServiceSpec(t.Context(), "db", compose.WithFiles(writeCompose(t, "  db:\n    image: busybox\n"+keys)), compose.WithoutOSEnv())
		require.NoError(t, err, "%s", keys)
		return spec
	}
	plain := load(t, "")
	for _, keys := range []string{
		"    command: []\n",
		"    command: \"\"\n",
		"    init: false\n",
		"    read_only: false\n",
		"    privileged: false\n",
		"    tty: false\n",
		"    deploy: {}\n",
	} {
		spec := load(t, keys)
		assert.Equal(t, plain, spec, "%s", keys)
		assert.Nil(t, spec.Cmd, "%s", keys)
	}
}

// The service runs as a shared fixture: reached on an ephemeral host
// port (not the file's 18080), with its tmpfs, and the same container
// for a Spec loaded again.
func TestComposeSpecStarts(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	vars := []string{"IMAGE=" + img, "WHO=compose", "RUN=" + testbench.RandomName("start")}
	spec := webSpec(t, vars...)
	srv := dockhandtest.Start(t, spec)

	ctx := testbench.CtxFor(t, time.Minute)
	addr, err := srv.HostPort(ctx, "8080")
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.NotEqual(t, "18080", port, "the file's fixed host port is not used")
	assert.Equal(t, "hello compose\n", httpGet(t, ctx, "http://"+addr+"/index.html"), "environment interpolated")
	_, err = srv.HostPort(ctx, "9090")
	assert.NoError(t, err, "expose: is published too")
	ins, err := srv.Container().Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"/scratch": "size=1m"}, ins.HostConfig.Tmpfs)
	assert.NotEqual(t, "dockhandtest-compose-web", ins.Name, "container_name is the fixture's")

	again := dockhandtest.Start(t, webSpec(t, vars...))
	assert.Equal(t, srv.Container().ID(), again.Container().ID(), "one container for the same service")
	assert.Equal(t, srv.Key(), again.Key(), "the key is stable across loads")
}

func httpGet(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return string(b)
}

// The healthcheck, not the ports, says when the service is ready: with
// HOLD set nothing makes /tmp/ready, so Start waits while the web server
// answers, and returns once the test makes the file.
func TestComposeHealthcheckGatesReadiness(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	run := "RUN=" + testbench.RandomName("gate")
	spec := webSpec(t, "IMAGE="+img, "HOLD=1", run)
	ctx := testbench.CtxFor(t, 2*time.Minute)

	type result struct {
		srv *dockhandtest.Server
		err error
	}
	started := make(chan result, 1)
	go func() {
		srv, err := startErr(t, ctx, spec)
		started <- result{srv, err}
	}()
	ct := containerWithEnv(t, ctx, c, "web", run) // the one Start made, before it returns
	require.NoError(t, (&waitfor.Waiter{Timeout: time.Minute}).Wait(ctx, ct.PortReady("8080")))
	addr, err := ct.HostPort(ctx, "8080")
	require.NoError(t, err)
	assert.Equal(t, "hello world\n", httpGet(t, ctx, "http://"+addr+"/index.html"), "the server answers")
	select {
	case r := <-started:
		t.Fatalf("Start returned before the healthcheck passed: %v", r.err)
	default:
	}
	res, err := ct.Exec(ctx, []string{"touch", "/tmp/ready"})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	r := <-started
	require.NoError(t, r.err)
	assert.Equal(t, ct.ID(), r.srv.Container().ID())
}

// A healthcheck that never passes fails Start after ReadyTimeout, with
// the engine's account of the last check.
func TestComposeHealthcheckFailing(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	spec := webSpec(t, "IMAGE="+img, "HOLD=1", "RUN="+testbench.RandomName("fail"))
	spec.ReadyTimeout = 3 * time.Second
	_, err := startErr(t, testbench.CtxFor(t, time.Minute), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "healthy")
	assert.Contains(t, err.Error(), "last check exited 1")
	var werr *waitfor.Error
	assert.True(t, errors.As(err, &werr), "a wait that ran out: %v", err)
	testbench.NothingLeft(t, c, keyIn(t, err))
}

// Two test processes (packages a and b of testdata, run by one
// `go test`) starting the same compose service share one container, and
// when they end nothing is left.
func TestComposeSharedAcrossPackages(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	barrier := t.TempDir()
	vars := []string{"IMAGE=" + img, "WHO=children", "RUN=" + testbench.RandomName("share")}
	cmd := exec.Command(testbench.GoTool(t), "test", "-count=1", "-p=2", "-v", "./testdata/a", "./testdata/b")
	cmd.Env = append(append(os.Environ(), "CI=true", "COMPOSETEST_BARRIER="+barrier), vars...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	servers := testbench.ServersIn(string(out))
	require.Len(t, servers, 2, "%s", out)
	assert.Equal(t, servers[0].ID, servers[1].ID, "one container for both packages")
	assert.Equal(t, servers[0].Key, servers[1].Key)
	testbench.NothingLeft(t, c, servers[0].Key)
	srv := dockhandtest.Start(t, webSpec(t, vars...))
	assert.Equal(t, servers[0].Key, srv.Key(), "the key the variables make, in any process")
}

// The engine runs the file's test: one that takes longer than a wait's
// attempt (1 s) still passes within its timeout; one that outlives its
// timeout fails, and so does a program missing from the image, each
// after ReadyTimeout, with the engine's account of the last check.
func TestComposeHealthcheckRuns(t *testing.T) {
	c := dockhandtest.Client(t)
	img := testbench.BusyboxImage(t, c)
	load := func(t *testing.T, test string) dockhandtest.Spec {
		t.Helper()
		file := writeCompose(t, "  slow:\n    image: ${IMAGE}\n    command: [sleep, \"300\"]\n    environment: [RUN]\n"+
			"    healthcheck: {test: "+test+", timeout: 1500ms, interval: 1m}\n")
		spec, err := composetest.ServiceSpec(t.Context(), "slow", compose.WithFiles(file), compose.WithoutOSEnv(),
			compose.WithVariables("IMAGE="+img, "RUN="+testbench.RandomName("slow")))
		require.NoError(t, err)
		return spec
	}
	t.Run("longer than an attempt", func(t *testing.T) {
		spec := load(t, `[CMD-SHELL, "sleep 1.2"]`)
		srv := dockhandtest.Start(t, spec)
		ins, err := srv.Container().Inspect(testbench.CtxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Equal(t, &container.HealthConfig{Test: []string{"CMD-SHELL", "sleep 1.2"}, Interval: 250 * time.Millisecond, Timeout: 1500 * time.Millisecond},
			ins.Config.Healthcheck, "the engine runs the file's healthcheck, interval capped")
		assert.Equal(t, container.Healthy, ins.State.Health.Status)
	})
	t.Run("longer than its timeout", func(t *testing.T) {
		spec := load(t, `[CMD, sleep, "5"]`)
		spec.ReadyTimeout = 4 * time.Second
		_, err := startErr(t, testbench.CtxFor(t, time.Minute), spec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Health check exceeded timeout (1.5s)")
		testbench.NothingLeft(t, c, keyIn(t, err))
	})
	t.Run("no such program", func(t *testing.T) {
		spec := load(t, `[CMD, no-such-check]`)
		spec.ReadyTimeout = 3 * time.Second
		_, err := startErr(t, testbench.CtxFor(t, time.Minute), spec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no-such-check")
		assert.Contains(t, err.Error(), "executable file not found")
		testbench.NothingLeft(t, c, keyIn(t, err))
	})
}

// healthcheckImage builds, from the busybox stand-in, an image whose
// HEALTHCHECK passes once /tmp/ok exists but runs its first check only
// an hour after the start: started as it is, its container is never
// ready in a test's time. It is removed when the test ends, after the
// test's shared services are released (their containers use it).
func healthcheckImage(t *testing.T, c *lifecycle.Client) string {
	t.Helper()
	base := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+
		"\nHEALTHCHECK --interval=1h --timeout=5s CMD test -f /tmp/ok\nCMD [\"sleep\", \"300\"]\nLABEL dockhand.test/unique="+testbench.RandomName("h")+"\n"), 0o644))
	tag := "dockhand.test/busybox-healthcheck:" + testbench.RandomName("t")
	ctx := testbench.CtxFor(t, 2*time.Minute)
	_, err := c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, dockhandtest.Release(ctx))
		assert.NoError(t, c.RemoveImage(ctx, tag))
	})
	return tag
}

// The file's healthcheck replaces the image's, as with docker compose:
// disable: true and test: [NONE] turn it off, a test of the file's runs
// instead of it, and timings alone retime the image's test. Without
// healthcheck: the image's is waited for.
func TestComposeHealthcheckReplacesTheImages(t *testing.T) {
	c := dockhandtest.Client(t)
	img := healthcheckImage(t, c)
	load := func(t *testing.T, keys string) dockhandtest.Spec {
		t.Helper()
		file := writeCompose(t, "  svc:\n    image: ${IMAGE}\n    environment: [RUN]\n"+keys)
		spec, err := composetest.ServiceSpec(t.Context(), "svc", compose.WithFiles(file), compose.WithoutOSEnv(),
			compose.WithVariables("IMAGE="+img, "RUN="+testbench.RandomName("img")))
		require.NoError(t, err)
		return spec
	}
	ready := func(t *testing.T, keys string) *dockhandtest.Server {
		t.Helper()
		spec := load(t, keys)
		spec.ReadyTimeout = 30 * time.Second
		srv, err := startErr(t, testbench.CtxFor(t, time.Minute), spec)
		require.NoError(t, err)
		return srv
	}
	notReady := func(t *testing.T, keys string) {
		t.Helper()
		spec := load(t, keys)
		spec.ReadyTimeout = 2 * time.Second
		_, err := startErr(t, testbench.CtxFor(t, time.Minute), spec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "health status")
		testbench.NothingLeft(t, c, keyIn(t, err))
	}
	t.Run("the image's", func(t *testing.T) { notReady(t, "") })
	t.Run("disable", func(t *testing.T) {
		srv := ready(t, "    healthcheck: {disable: true}\n")
		ins, err := srv.Container().Inspect(testbench.CtxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Nil(t, ins.State.Health, "no healthcheck runs")
	})
	t.Run("NONE", func(t *testing.T) { ready(t, "    healthcheck: {test: [NONE]}\n") })
	t.Run("the file's test instead", func(t *testing.T) {
		srv := ready(t, "    healthcheck: {test: [CMD, \"true\"]}\n")
		ins, err := srv.Container().Inspect(testbench.CtxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Equal(t, []string{"CMD", "true"}, ins.Config.Healthcheck.Test)
	})
	t.Run("timings only", func(t *testing.T) {
		srv := ready(t, "    command: [sh, -c, \"touch /tmp/ok; exec sleep 300\"]\n    healthcheck: {interval: 1m}\n")
		ins, err := srv.Container().Inspect(testbench.CtxFor(t, time.Minute))
		require.NoError(t, err)
		assert.Equal(t, []string{"CMD-SHELL", "test -f /tmp/ok"}, ins.Config.Healthcheck.Test, "the image's test")
		assert.Equal(t, 250*time.Millisecond, ins.Config.Healthcheck.Interval, "the file's interval, capped")
	})
	t.Run("timings only keep the image's test", func(t *testing.T) { notReady(t, "    healthcheck: {interval: 1m}\n") })
}
