package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEngine answers pings and the inspect of one container (fakeID, for
// a handle), and counts every other request, to prove bad input is
// rejected before any engine call.
const fakeID = "0123456789ab"

func fakeEngine(t *testing.T) (*lifecycle.Client, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_ping") {
			w.Header().Set("API-Version", "1.41")
			_, _ = w.Write([]byte("OK"))
			return
		}
		if strings.HasSuffix(r.URL.Path, "/containers/"+fakeID+"/json") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"Id":"` + fakeID + `","Name":"/fake","Config":{"Image":"busybox"},"State":{"Status":"running","Running":true}}`))
			return
		}
		calls.Add(1)
		http.Error(w, `{"message":"fake engine"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	c, err := lifecycle.New(context.Background(), lifecycle.WithDockerHost("tcp://"+srv.Listener.Addr().String()))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, &calls
}

func TestBadInputRejectedBeforeEngine(t *testing.T) {
	c, calls := fakeEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run := func(img string, o ...lifecycle.RunOption) error { _, err := c.Run(ctx, img, o...); return err }
	ct, err := c.Container(ctx, fakeID)
	require.NoError(t, err)
	require.Equal(t, fakeID, ct.ID())
	require.Equal(t, "fake", ct.Name())
	require.Equal(t, "busybox", ct.Image())
	cases := []struct {
		name string
		call func() error
		want string // the bad value, quoted in the message
	}{
		{"uppercase image", func() error { return run("Busybox") }, `"Busybox"`},
		{"empty image", func() error { return run("") }, `""`},
		{"image with spaces", func() error { return run("bad image") }, `"bad image"`},
		{"image bad tag", func() error { return run("busybox:tag:extra") }, `"busybox:tag:extra"`},
		{"pull bad ref", func() error { return c.Pull(ctx, "::") }, `"::"`},
		{"push bad ref", func() error { return c.Push(ctx, "team/Case") }, `"team/Case"`},
		{"tag bad target", func() error { return c.Tag(ctx, "busybox", "no good") }, `"no good"`},
		{"port too many parts", func() error { return run("busybox", lifecycle.WithPorts("80:80:80:tcp")) }, `"80:80:80:tcp"`},
		{"port not a number", func() error { return run("busybox", lifecycle.WithPorts("http")) }, `"http"`},
		{"port out of range", func() error { return run("busybox", lifecycle.WithPorts("70000")) }, `"70000"`},
		{"port zero", func() error { return run("busybox", lifecycle.WithPorts("8080:0")) }, `"8080:0"`},
		{"port bad proto", func() error { return run("busybox", lifecycle.WithPorts("80/icmp")) }, `"icmp"`},
		{"port bad ip", func() error { return run("busybox", lifecycle.WithPorts("300.1.1.1:80:80")) }, `"300.1.1.1"`},
		{"port empty", func() error { return run("busybox", lifecycle.WithPorts("")) }, `""`},
		{"volume relative target", func() error { return run("busybox", lifecycle.WithVolumes("data:data")) }, `"data"`},
		{"volume bad mode", func() error { return run("busybox", lifecycle.WithVolumes("data:/data:rx")) }, `"rx"`},
		{"volume too many parts", func() error { return run("busybox", lifecycle.WithVolumes("a:/b:ro:x")) }, `"a:/b:ro:x"`},
		{"volume bad name", func() error { return run("busybox", lifecycle.WithVolumes("bad name:/data")) }, `"bad name"`},
		{"volume empty source", func() error { return run("busybox", lifecycle.WithVolumes(":/data")) }, `":/data"`},
		{"empty command", func() error { return run("busybox", lifecycle.WithCmd()) }, `[]`},
		{"empty program", func() error { return run("busybox", lifecycle.WithCmd("", "x")) }, `["" "x"]`},
		{"empty entrypoint program", func() error { return run("busybox", lifecycle.WithEntrypoint("")) }, `[""]`},
		{"unknown restart", func() error { return run("busybox", lifecycle.WithRestart("sometimes")) }, `"sometimes"`},
		{"restart count on always", func() error { return run("busybox", lifecycle.WithRestart("always:3")) }, `"always:3"`},
		{"restart bad count", func() error { return run("busybox", lifecycle.WithRestart("on-failure:x")) }, `"x"`},
		{"restart with autoremove", func() error {
			return run("busybox", lifecycle.WithRestart("always"), lifecycle.WithAutoRemove())
		}, `"always"`},
		{"bad env", func() error { return run("busybox", lifecycle.WithEnv("NOEQUALS")) }, `"NOEQUALS"`},
		{"bad container name", func() error { return run("busybox", lifecycle.WithName("-dash")) }, `"-dash"`},
		{"relative workdir", func() error { return run("busybox", lifecycle.WithWorkdir("tmp")) }, `"tmp"`},
		{"bad platform", func() error { return run("busybox", lifecycle.WithPlatform("amd64")) }, `"amd64"`},
		{"bad pull policy", func() error { return run("busybox", lifecycle.WithPull(lifecycle.PullPolicy(9))) }, `9`},
		{"nil option", func() error { return run("busybox", nil) }, `option #1 is nil`},
		{"hand-made container", func() error { return new(lifecycle.Container).Stop(ctx) }, `not a container handle`},
		{"nil container", func() error { return (*lifecycle.Container)(nil).Remove(ctx) }, `not a container handle`},
		{"hand-made container exec", func() error { _, err := new(lifecycle.Container).Exec(ctx, []string{"true"}); return err }, `not a container handle`},
		{"hand-made container logs", func() error { return new(lifecycle.Container).Logs(ctx, io.Discard) }, `not a container handle`},
		{"hand-made container wait", func() error {
			_, err := new(lifecycle.Container).Wait(ctx)
			return err
		}, `not a container handle`},
		{"hand-made container condition", func() error { return new(lifecycle.Container).Healthy().Check(ctx) }, `not a container handle`},
		{"zero client", func() error { _, err := new(lifecycle.Client).Run(ctx, "busybox"); return err }, `not a client`},
		{"bad status filter", func() error { _, err := c.Containers(ctx, lifecycle.WithFilter("status", "sleeping")); return err }, `"sleeping"`},
		{"negative stop timeout", func() error { return ct.Stop(ctx, lifecycle.WithGracePeriod(-time.Second)) }, `-1s`},
		{"negative tail", func() error { return ct.Logs(ctx, io.Discard, lifecycle.WithTail(-1)) }, `-1`},
		{"logs without writer", func() error { return ct.Logs(ctx, nil) }, `no destination`},
		{"empty exec", func() error { _, err := ct.Exec(ctx, nil); return err }, `[]`},
		{"host port bad spec", func() error { _, err := ct.HostPort(ctx, "eighty"); return err }, `"eighty"`},
		{"write relative path", func() error { return ct.WriteFile(ctx, "rel.txt", nil, 0o644) }, `"rel.txt"`},
		{"bad volume name", func() error { _, err := c.CreateVolume(ctx, "no/slash"); return err }, `"no/slash"`},
		{"bad network name", func() error { _, err := c.CreateNetwork(ctx, ""); return err }, `""`},
		{"hold bad key", func() error { _, err := c.Hold(ctx, "a/b"); return err }, `"a/b"`},
		{"release hold bad key", func() error { _, err := c.ReleaseHold(ctx, "", "dockhand-hold--1-x"); return err }, `""`},
		{"release hold not a hold name", func() error { _, err := c.ReleaseHold(ctx, "k", "pgdata"); return err }, `"pgdata"`},
		{"release hold of another key", func() error { _, err := c.ReleaseHold(ctx, "k", "dockhand-hold-k2-1-x"); return err }, `"dockhand-hold-k2-1-x"`},
		{"build missing dir", func() error { _, err := c.Build(ctx, "/does/not/exist"); return err }, `"/does/not/exist"`},
		{"build bad tag", func() error { _, err := c.Build(ctx, t.TempDir(), lifecycle.WithTags("A:B:C")); return err }, `"A:B:C"`},
		{"build bad arg", func() error { _, err := c.Build(ctx, t.TempDir(), lifecycle.WithBuildArgs("=x")); return err }, `empty name`},
		{"build no dockerfile", func() error { _, err := c.Build(ctx, t.TempDir()); return err }, `"Dockerfile"`},
		{"secret env redacted", func() error { return run("busybox", lifecycle.WithEnv("DB_PASSWORD")) }, `"DB_PASSWORD"`},
	}
	require.GreaterOrEqual(t, len(cases), 25)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.ErrorIs(t, err, lifecycle.ErrInvalid, "error: %v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, calls.Load(), "bad input must be rejected before any engine call")
}

// TestSecretsNotInErrors drives each check that rejects an entry which may
// hold a secret, and asserts the error is that check's (ErrInvalid, its
// reason, no engine call) and does not show the secret; then an engine
// error that echoes the environment, asserting it is the create's error
// and comes out scrubbed.
func TestSecretsNotInErrors(t *testing.T) {
	c, calls := fakeEngine(t)
	ctx := context.Background()
	run := func(o ...lifecycle.RunOption) error { _, err := c.Run(ctx, "busybox", o...); return err }
	build := func(o ...lifecycle.BuildOption) error { _, err := c.Build(ctx, t.TempDir(), o...); return err }
	ct, err := c.Container(ctx, fakeID)
	require.NoError(t, err)
	cases := []struct {
		name   string
		call   func() error
		reason string // names the check that rejected it
	}{
		{"env value without a name", func() error { return run(lifecycle.WithEnv("=hunter2")) }, "environment variable #1: empty name"},
		{"env value without '='", func() error { return run(lifecycle.WithEnv("A=1", "hunter2 x")) }, "environment variable #2: no '='"},
		{"env name holding a value", func() error { return run(lifecycle.WithEnv("password hunter2=x")) }, "environment variable #1: the name before '=' holds white space"},
		{"exec env value without a name", func() error { _, err := ct.Exec(ctx, []string{"true"}, lifecycle.WithEnv("=hunter2")); return err }, "environment variable #1: empty name"},
		{"build arg value without a name", func() error { return build(lifecycle.WithBuildArgs("=hunter2")) }, "build argument #1: empty name"},
		{"build arg value without '='", func() error { return build(lifecycle.WithBuildArgs("hunter2 x")) }, "build argument #1: no '='"},
		{"command with an empty program", func() error { return run(lifecycle.WithCmd("", "--password=hunter2")) }, "invalid command"},
		{"entrypoint with an empty program", func() error { return run(lifecycle.WithEntrypoint("", "PGPASSWORD=hunter2")) }, "invalid entrypoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, lifecycle.ErrInvalid, "rejected by the input check: %v", err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	assert.Zero(t, calls.Load(), "the checks reject before any engine call")

	// An engine that quotes the environment in its error, as real ones do.
	var created atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Header().Set("API-Version", "1.41")
			_, _ = w.Write([]byte("OK"))
		case strings.HasSuffix(r.URL.Path, "/images/busybox/json"):
			_, _ = w.Write([]byte(`{"Id":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Config":{}}`))
		case strings.HasSuffix(r.URL.Path, "/containers/create"):
			created.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"invalid environment variable: password=hunter2 x"}`))
		default:
			http.Error(w, `{"message":"fake engine"}`, http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	echo, err := lifecycle.New(ctx, lifecycle.WithDockerHost("tcp://"+srv.Listener.Addr().String()))
	require.NoError(t, err)
	t.Cleanup(func() { echo.Close() })
	_, err = echo.Run(ctx, "busybox", lifecycle.WithEnv("password=hunter2 x"))
	require.Error(t, err)
	assert.Equal(t, int64(1), created.Load(), "the run reached the create call")
	assert.Contains(t, err.Error(), "create container")
	assert.Contains(t, err.Error(), "invalid environment variable: password=", "the engine's message is kept")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.ErrorIs(t, err, lifecycle.ErrInvalid, "the engine's class is kept")

	assert.Equal(t, "alice:xxxxx", lifecycle.Credentials{Username: "alice", Password: "pw"}.String())
	assert.Equal(t, `lifecycle.Credentials{Username:"alice", Password:"xxxxx"}`, fmt.Sprintf("%#v", lifecycle.Credentials{Username: "alice", Password: "pw"}))
}

// New costs the engine one round trip: the ping that checks it answers
// also negotiates the API version.
func TestNewPingsOnce(t *testing.T) {
	var pings, other atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_ping") {
			pings.Add(1)
			w.Header().Set("API-Version", "1.41")
			_, _ = w.Write([]byte("OK"))
			return
		}
		other.Add(1)
		http.Error(w, `{"message":"fake engine"}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, err := lifecycle.New(context.Background(), lifecycle.WithDockerHost("tcp://"+srv.Listener.Addr().String()))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, int64(1), pings.Load())
	assert.Zero(t, other.Load())
	assert.Equal(t, "1.41", c.APIVersion())
}
