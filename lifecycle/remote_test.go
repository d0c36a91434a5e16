package lifecycle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// TestRemoteEngine runs the seed cycle and the waits with the client in a
// network namespace whose 127.0.0.1 is not the engine's, over tcp:// and
// ssh:// (see testbench.InRemote).
func TestRemoteEngine(t *testing.T) {
	for _, kind := range testbench.RemoteKinds {
		t.Run(kind, func(t *testing.T) { testbench.InRemote(t, kind, remoteCycle) })
	}
}

// TestEngineFromContainer runs the same with the client in a container of
// the engine, the engine's socket mounted: the client finds that out from
// the engine and reaches published ports at its network's gateway.
func TestEngineFromContainer(t *testing.T) {
	testbench.InContainer(t, remoteCycle)
}

func remoteCycle(t *testing.T) {
	kind, _ := testbench.InRemoteChild()
	c := testbench.Client(t)
	if kind != "container" {
		require.True(t, strings.HasPrefix(c.Host(), kind+"://"), "client on %s, want a %s engine", c.Host(), kind)
	}
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.RequireImage(t, c, testbench.Busybox)

	// The case: a web server with a published port, a healthcheck
	// and a log line, reached from the client's namespace.
	script := `mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www`
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", script), lifecycle.WithPorts("8080"), lifecycle.WithInit(),
		lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
			cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"},
				Interval: 200 * time.Millisecond, Retries: 50}
		}))
	require.NoError(t, err)
	require.NoError(t, waitfor.Wait(ctx, ctr.PortReady("8080"), ctr.Healthy(), ctr.LogLine(regexp.MustCompile(`^serving`), 1)))

	addr, err := ctr.HostPort(ctx, "8080")
	require.NoError(t, err)
	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	ins, err := ctr.Inspect(ctx)
	require.NoError(t, err)
	bound := ins.NetworkSettings.Ports["8080/tcp"]
	require.NotEmpty(t, bound)
	switch kind {
	case "tcp":
		// Bound to the address the client reaches the engine by, not to all interfaces.
		assert.Equal(t, testbench.RemoteHost(), bound[0].HostIP)
		assert.Equal(t, testbench.RemoteHost(), host)
	case "ssh":
		// Kept on the engine host's loopback, reached through a local forward.
		assert.Equal(t, "127.0.0.1", bound[0].HostIP)
		assert.Equal(t, "127.0.0.1", host)
		assert.NotEqual(t, bound[0].HostPort, addr[strings.LastIndex(addr, ":")+1:], "a local forward, not the engine's port")
	case "container":
		// Bound to and reached at the gateway of the client container's network.
		self, err := c.API().ContainerInspect(ctx, hostname(t))
		require.NoError(t, err)
		var gateways []string
		for _, ep := range self.NetworkSettings.Networks {
			gateways = append(gateways, ep.Gateway)
		}
		assert.Contains(t, gateways, host)
		assert.Equal(t, host, bound[0].HostIP)
	}
	for i := 0; i < 3; i++ { // a fresh connection each time
		body := httpGetBody(t, ctx, "http://"+addr+"/")
		assert.Contains(t, body, "hello from")
	}

	// exec, ps, stop, rm.
	res, err := ctr.Exec(ctx, []string{"sh", "-c", "echo $((6*7))"})
	require.NoError(t, err)
	assert.Equal(t, "42\n", string(res.Stdout))
	list, err := c.Containers(ctx, lifecycle.WithFilter("id", ctr.ID()))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, ctr.Stop(ctx, lifecycle.WithGracePeriod(5*time.Second)))
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exited", st.Status)
	require.NoError(t, ctr.Remove(ctx))

	// A foreground run with a custom entrypoint streams its output back.
	var out strings.Builder
	fg, err := c.Run(ctx, img, lifecycle.WithEntrypoint("/bin/echo"), lifecycle.WithCmd("over", kind), lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "over "+kind+"\n", out.String())
	require.NoError(t, fg.Remove(ctx))

	remoteBindMounts(t, ctx, kind, img)
}

// remoteBindMounts: a client reaching the engine through a Docker context
// (a tcp:// endpoint with TLS, or ssh://, read from the CLI's configuration
// as the CLI does) works as with DOCKER_HOST; bind mounts on an engine whose file
// system is not the client's warn once and a refused one says whose path it
// names and what to do instead.
func remoteBindMounts(t *testing.T, ctx context.Context, kind, img string) {
	var opts []lifecycle.ClientOption
	if kind != "container" {
		dir := t.TempDir()
		host := os.Getenv("DOCKER_HOST")
		sum := sha256.Sum256([]byte("remote-" + kind))
		meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
		require.NoError(t, os.MkdirAll(meta, 0o700))
		if kind == "tcp" {
			// tcp:// with TLS, the certificates in the context's store, as
			// `docker context create --docker host=...,ca=...,cert=...,key=...` keeps them.
			host = testbench.RemoteTLSHost()
			tlsDir := filepath.Join(dir, "contexts", "tls", hex.EncodeToString(sum[:]), "docker")
			require.NoError(t, os.MkdirAll(tlsDir, 0o700))
			for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
				b, err := os.ReadFile(filepath.Join(testbench.RemoteTLSDir(), f))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(tlsDir, f), b, 0o600))
			}
		}
		require.NoError(t, os.WriteFile(filepath.Join(meta, "meta.json"),
			[]byte(`{"Name":"remote-`+kind+`","Metadata":{},"Endpoints":{"docker":{"Host":"`+host+`","SkipTLSVerify":false}}}`), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"remote-`+kind+`"}`), 0o600))
		t.Setenv("DOCKER_HOST", "")
		t.Setenv("DOCKER_CONFIG", dir)
	}
	var logs bytes.Buffer
	opts = append(opts, lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	c := testbench.Client(t, opts...)
	switch kind {
	case "tcp":
		assert.Equal(t, testbench.RemoteTLSHost(), c.Host(), "through the TLS context")
	case "ssh":
		assert.True(t, strings.HasPrefix(c.Host(), "ssh://"), "through the context: %s", c.Host())
	}
	missing := "/nonexistent-dockhand-" + c.Session()
	_, err := c.Run(ctx, img, lifecycle.WithVolumes(missing+":/data"), lifecycle.WithCmd("true"))
	require.Error(t, err)
	assert.ErrorContains(t, err, "bind mount source "+missing+" is a path on the engine host")
	assert.ErrorContains(t, err, "CopyTo")
	for i := 0; i < 2; i++ {
		ctr, err := c.Run(ctx, img, lifecycle.WithVolumes("/etc:/data:ro"), lifecycle.WithCmd("true"), lifecycle.WithStdout(io.Discard))
		require.NoError(t, err)
		require.NoError(t, ctr.Remove(ctx))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "bind mounts name paths on the engine host"), "one warning per client:\n%s", logs.String())

	// A build uploads its context and says so.
	bctx := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM "+img+"\nCOPY note /note\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bctx, "note"), []byte("built "+kind+"\n"), 0o644))
	var said []string
	id, err := c.Build(ctx, bctx, lifecycle.WithProgressFunc(func(p lifecycle.Progress) { said = append(said, p.Status) }))
	require.NoError(t, err)
	defer func() { _ = c.RemoveImage(ctx, id, lifecycle.WithForce()) }()
	require.NotEmpty(t, said)
	assert.Equal(t, "Sending build context "+bctx+" to the engine at "+c.Host(), said[0])
	assert.Regexp(t, `^Sent build context: [1-9]\d* bytes$`, said[1])
	var note strings.Builder
	nr, err := c.Run(ctx, id, lifecycle.WithCmd("cat", "/note"), lifecycle.WithStdout(&note))
	require.NoError(t, err)
	require.NoError(t, nr.Remove(ctx))
	assert.Equal(t, "built "+kind+"\n", note.String())

	// Published ports through the context's client follow the same rule.
	web, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "mkdir -p /www && echo ctx > /www/index.html && exec httpd -f -p 8080 -h /www"),
		lifecycle.WithPorts("8080"), lifecycle.WithInit())
	require.NoError(t, err)
	defer func() { _ = web.Remove(ctx, lifecycle.WithForce()) }()
	require.NoError(t, waitfor.Wait(ctx, web.PortReady("8080")))
	addr, err := web.HostPort(ctx, "8080")
	require.NoError(t, err)
	assert.Equal(t, "ctx\n", httpGetBody(t, ctx, "http://"+addr+"/"))
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	require.NoError(t, err)
	return h
}

func httpGetBody(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "%s", b)
	return string(b)
}

// TestHostOverride: the override is where ports are reached and, being an
// IP address, where they are bound. One the engine host does not own fails
// the start with an error naming the ways out, and leaves nothing behind.
func TestHostOverride(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	t.Setenv(lifecycle.HostOverrideEnv, "192.0.2.1") // TEST-NET-1: no host owns it
	c := testbench.Client(t)
	img := testbench.RequireImage(t, c, testbench.Busybox)
	assert.Equal(t, "192.0.2.1", c.PublishAddress(ctx))
	_, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithPorts("8080"))
	require.Error(t, err)
	assert.ErrorContains(t, err, "WithAllInterfaces")
	assert.ErrorContains(t, err, lifecycle.HostOverrideEnv)
	var re *lifecycle.RunError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Removed, "a failed run leaves nothing behind")
	// A foreground run says the same.
	_, err = c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPorts("8080"), lifecycle.WithStdout(io.Discard))
	require.Error(t, err)
	assert.ErrorContains(t, err, "WithAllInterfaces")
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Removed, "a failed run leaves nothing behind")

	// The option wins over the variable; a loopback override binds 127.0.0.1.
	c2 := testbench.Client(t, lifecycle.WithHostOverride("localhost"))
	assert.Equal(t, "127.0.0.1", c2.PublishAddress(ctx))
	ctr, err := c2.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "mkdir -p /www && echo over > /www/index.html && exec httpd -f -p 8080 -h /www"),
		lifecycle.WithPorts("8080"), lifecycle.WithInit())
	require.NoError(t, err)
	defer func() { _ = ctr.Remove(ctx, lifecycle.WithForce()) }()
	require.NoError(t, waitfor.Wait(ctx, ctr.PortReady("8080")))
	addr, err := ctr.HostPort(ctx, "8080")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "localhost:"), addr)
	assert.Equal(t, "over\n", httpGetBody(t, ctx, "http://"+addr+"/"))

	_, err = lifecycle.New(ctx, lifecycle.WithHostOverride("tcp://10.0.0.1:2375"))
	assert.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.ErrorContains(t, err, `invalid host override "tcp://10.0.0.1:2375"`)
}
