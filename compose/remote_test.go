package compose

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/waitfor"
)

const remoteStack = `services:
  cache:
    image: ${REDIS_IMAGE}
    ports: ["6379"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 200ms
      retries: 50
  web:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo hello-compose > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    init: true
`

// TestRemoteStack runs compose Up (wait), Port and Down with the client in
// a network namespace whose 127.0.0.1 is not the engine's, over tcp:// and
// ssh:// (see testbench.InRemote): Port answers an address that works from
// there, and the ports are bound where the client reaches the engine (tcp)
// or on the remote loopback (ssh).
func TestRemoteStack(t *testing.T) {
	for _, kind := range testbench.RemoteKinds {
		t.Run(kind, func(t *testing.T) { testbench.InRemote(t, kind, remoteStackBody) })
	}
}

func remoteStackBody(t *testing.T) {
	kind, _ := testbench.InRemoteChild()
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(remoteStack), 0o644))
	name := projectName(c, "remote-"+kind)
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(stackEnv(t, c, true)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithWait()))

	want := map[string]string{"tcp": testbench.RemoteHost(), "ssh": "127.0.0.1"}[kind]
	cache, err := s.Port(ctx, "cache", "6379")
	require.NoError(t, err)
	host, _, err := net.SplitHostPort(cache)
	require.NoError(t, err)
	assert.Equal(t, want, host)
	require.NoError(t, waitfor.Wait(ctx, waitfor.Redis(cache, "")), "redis through %s", cache)

	web, err := s.Port(ctx, "web", "8080")
	require.NoError(t, err)
	require.NoError(t, waitfor.Wait(ctx, waitfor.HTTP("http://"+web+"/")))
	resp, err := http.Get("http://" + web + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "hello-compose\n", string(body))

	ins, err := c.API().ContainerInspect(ctx, name+"-cache-1")
	require.NoError(t, err)
	bound := ins.NetworkSettings.Ports["6379/tcp"]
	require.NotEmpty(t, bound)
	assert.Equal(t, want, bound[0].HostIP, "bound where the client reaches the engine (tcp) or on its loopback (ssh)")

	require.NoError(t, s.Down(ctx, WithRemoveVolumes()))
	noProjectLeft(t, c, name)
}
