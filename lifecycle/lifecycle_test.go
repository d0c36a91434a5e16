package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pushBusybox puts the busybox stand-in into reg under repo and returns the reference.
func pushBusybox(t *testing.T, c *lifecycle.Client, reg *testbench.Registry, repo string) string {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ref := reg.Host + "/" + repo
	require.NoError(t, c.Tag(ctx, img, ref))
	var opts []lifecycle.PushOption
	if reg.Username != "" {
		opts = append(opts, lifecycle.WithAuth(reg.Username, reg.Password))
	}
	require.NoError(t, c.Push(ctx, ref, opts...))
	require.NoError(t, c.RemoveImage(ctx, ref))
	return ref
}

// TestSeedWalkthrough is the seed's lifecycle in order: pull, run, ps,
// exec bash, stop, rm, custom entrypoint, rmi.
func TestSeedWalkthrough(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	reg := testbench.StartRegistry(t, "", "")
	ref := pushBusybox(t, c, reg, "dockhand/walkthrough:1")

	// 1. Pull, with progress as plain lines (not a terminal).
	var progress bytes.Buffer
	var events []lifecycle.Progress
	require.NoError(t, c.Pull(ctx, ref, lifecycle.WithProgress(&progress),
		lifecycle.WithProgressFunc(func(p lifecycle.Progress) { events = append(events, p) })))
	img, err := c.InspectImage(ctx, ref)
	require.NoError(t, err)
	assert.Contains(t, img.Tags, ref)
	assert.Contains(t, progress.String(), "Downloaded newer image for "+ref)
	assert.NotContains(t, progress.String(), "\x1b[", "no cursor movement when the writer is not a terminal")
	assert.NotEmpty(t, events)

	// 2. Run a container from it.
	ctr, err := c.Run(ctx, ref, lifecycle.WithCmd("sleep", "300"), lifecycle.WithPull(lifecycle.PullNever))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())

	// 3. ps shows it running.
	list, err := c.Containers(ctx, lifecycle.WithFilter("id", ctr.ID()))
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "running", list[0].State)
	assert.Equal(t, ctr.Name(), list[0].Name)

	// 4. A new bash inside it: literally bash.
	res, err := ctr.Exec(ctx, []string{"bash", "-c", `echo "bash $BASH_VERSION in $(hostname)"; echo oops >&2; exit 7`})
	require.NoError(t, err)
	assert.Equal(t, 7, res.ExitCode)
	assert.Regexp(t, `^bash \d+\.\d+`, string(res.Stdout))
	assert.Equal(t, "oops\n", string(res.Stderr))

	// 5. Stop and remove.
	require.NoError(t, ctr.Stop(ctx, lifecycle.WithGracePeriod(time.Second)))
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exited", st.Status)
	assert.False(t, st.Running)
	require.NoError(t, ctr.Remove(ctx))
	_, err = ctr.State(ctx)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)

	// 6. A custom entrypoint, in the foreground, capturing its output.
	var out bytes.Buffer
	one, err := c.Run(ctx, ref, lifecycle.WithEntrypoint("/bin/echo"), lifecycle.WithCmd("hello", "from", "echo"),
		lifecycle.WithStdout(&out))
	require.NoError(t, err)
	code, err := one.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "hello from echo\n", out.String())
	require.NoError(t, one.Remove(ctx))

	// 7. Remove the image.
	require.NoError(t, c.RemoveImage(ctx, ref))
	_, err = c.InspectImage(ctx, ref)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
}

func TestPullWithCredentials(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	reg := testbench.StartRegistry(t, "alice", "s3cret-pw")
	ref := pushBusybox(t, c, reg, "private/busybox:1")

	t.Run("wrong password is refused", func(t *testing.T) {
		err := c.Pull(ctx, ref, lifecycle.WithAuth("alice", "wrong-pw"))
		require.Error(t, err)
		assert.ErrorIs(t, err, lifecycle.ErrUnauthorized)
		assert.NotContains(t, err.Error(), "wrong-pw")
	})
	t.Run("no credentials is refused", func(t *testing.T) {
		cfg := t.TempDir()
		c2 := testbench.Client(t, lifecycle.WithConfigDir(cfg))
		err := c2.Pull(ctx, ref)
		assert.ErrorIs(t, err, lifecycle.ErrUnauthorized)
	})
	t.Run("credentials from the docker config", func(t *testing.T) {
		cfg := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pw"))
		conf := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, auth)
		require.NoError(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(conf), 0o600))
		c2 := testbench.Client(t, lifecycle.WithConfigDir(cfg))
		require.NoError(t, c2.Pull(ctx, ref))
		require.NoError(t, c2.RemoveImage(ctx, ref))
	})
}

func TestRunFailuresLeaveNothing(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	before := countContainers(t, c)

	_, err := c.Run(ctx, "dockhand.test/absent:never", lifecycle.WithPull(lifecycle.PullNever))
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	assert.Contains(t, err.Error(), "dockhand.test/absent:never")

	_, err = c.Run(ctx, img, lifecycle.WithCmd("/no/such/program"))
	assert.Error(t, err)
	assert.Contains(t, err.Error(), "/no/such/program")

	// A port that is already taken.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithPorts(fmt.Sprintf("%d:80", port)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprint(port))

	// A name in use.
	first, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithName("dockhand-dup-"+c.Session()))
	require.NoError(t, err)
	_, err = c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithName("dockhand-dup-"+c.Session()))
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	require.NoError(t, first.Remove(ctx, lifecycle.WithForce()))

	assert.Equal(t, before, countContainers(t, c), "a failed Run must leave no container")
}

func countContainers(t *testing.T, c *lifecycle.Client) int {
	l, err := c.Containers(context.Background(), lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	return len(l)
}

func TestRunOptions(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img,
		lifecycle.WithCmd("sleep", "60"), lifecycle.WithEnv("GREETING=hi"), lifecycle.WithWorkdir("/tmp"),
		lifecycle.WithUser("nobody"), lifecycle.WithLabels(map[string]string{"team": "dev"}), lifecycle.WithInit(),
		lifecycle.WithHostname("box"), lifecycle.WithRestart("on-failure:2"))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	res, err := ctr.Exec(ctx, []string{"sh", "-c", `echo "$GREETING $(pwd) $(id -un) $(hostname)"`})
	require.NoError(t, err)
	assert.Equal(t, "hi /tmp nobody box\n", string(res.Stdout))
	ins, err := ctr.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, "dev", ins.Config.Labels["team"])
	assert.Equal(t, c.Session(), ins.Config.Labels[lifecycle.LabelSession])
	assert.Equal(t, "on-failure", string(ins.HostConfig.RestartPolicy.Name))
	assert.Equal(t, 2, ins.HostConfig.RestartPolicy.MaximumRetryCount)
	require.NotNil(t, ins.HostConfig.Init)
	assert.True(t, *ins.HostConfig.Init)
	// Exec options: env, user, workdir, stdin.
	res, err = ctr.Exec(ctx, []string{"sh", "-c", `read line; echo "$line $X $(id -u) $(pwd)"`},
		lifecycle.WithEnv("X=y"), lifecycle.WithUser("root"), lifecycle.WithWorkdir("/bin"),
		lifecycle.WithStdin(strings.NewReader("from-stdin\n")))
	require.NoError(t, err)
	assert.Equal(t, "from-stdin y 0 /bin\n", string(res.Stdout))
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
}

func TestInteractiveSessionThenExited(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	var out bytes.Buffer
	// A session a user types into, then exits.
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh"),
		lifecycle.WithStdin(strings.NewReader("echo inside $(hostname)\nexit 3\n")), lifecycle.WithStdout(&out))
	require.NotNil(t, ctr)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee, "a foreground run that exits non-zero says so, as exec.Cmd.Run")
	assert.Equal(t, 3, ee.ExitCode)
	assert.Contains(t, out.String(), "inside ")
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, "exited", st.Status)
	assert.Equal(t, 3, st.ExitCode)
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("status", "exited"), lifecycle.WithFilter("id", ctr.ID()))
	require.NoError(t, err)
	assert.Len(t, list, 1)
	require.NoError(t, ctr.Remove(ctx))
}

func TestPortsDefaultToLoopback(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "mkdir -p /www && echo hello-port > /www/index.html && exec httpd -f -p 80 -h /www"),
		lifecycle.WithPorts("80"))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	addr, err := ctr.HostPort(ctx, "80")
	require.NoError(t, err)
	host, _, _ := net.SplitHostPort(addr)
	assert.Equal(t, "127.0.0.1", host)
	ins, err := ctr.Inspect(ctx)
	require.NoError(t, err)
	for _, b := range ins.NetworkSettings.Ports["80/tcp"] {
		assert.Equal(t, "127.0.0.1", b.HostIP, "ports bind to loopback by default")
	}
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "hello-port\n", body)
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))

	all, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithPorts("80"), lifecycle.WithAllInterfaces())
	require.NoError(t, err)
	defer all.Remove(context.Background(), lifecycle.WithForce())
	ins, err = all.Inspect(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, ins.NetworkSettings.Ports["80/tcp"])
	assert.Equal(t, "0.0.0.0", ins.NetworkSettings.Ports["80/tcp"][0].HostIP)
	_, err = all.HostPort(ctx, "81")
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	require.NoError(t, all.Remove(ctx, lifecycle.WithForce()))
}

func TestNamedVolumeOutlivesContainer(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	vol := "dockhand-data-" + c.Session()
	var out bytes.Buffer
	w, err := c.Run(ctx, img, lifecycle.WithVolumes(vol+":/data"), lifecycle.WithCmd("sh", "-c", "echo kept > /data/note"),
		lifecycle.WithStdout(&out))
	require.NoError(t, err)
	require.NoError(t, w.Remove(ctx))
	vols, err := c.Volumes(ctx, lifecycle.WithFilter("name", vol))
	require.NoError(t, err)
	require.Len(t, vols, 1)
	assert.Equal(t, c.Session(), vols[0].Labels[lifecycle.LabelSession], "auto-created volumes are labelled")

	r, err := c.Run(ctx, img, lifecycle.WithVolumes(vol+":/data:ro"), lifecycle.WithCmd("cat", "/data/note"), lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "kept\n", out.String())
	// In use: removal is a conflict.
	err = c.RemoveVolume(ctx, vol)
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	require.NoError(t, r.Remove(ctx))
	require.NoError(t, c.RemoveVolume(ctx, vol))
}

func TestNetworkAliases(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	n, err := c.CreateNetwork(ctx, "dockhand-net-"+c.Session())
	require.NoError(t, err)
	srv, err := c.Run(ctx, img, lifecycle.WithNetwork(n.Name, "db"),
		lifecycle.WithCmd("sh", "-c", "mkdir /w && echo pong > /w/ping && exec httpd -f -p 8080 -h /w"))
	require.NoError(t, err)
	cli, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "60"))
	require.NoError(t, err)
	require.NoError(t, c.ConnectNetwork(ctx, n.Name, cli, "client"))
	var res *lifecycle.ExecResult
	require.Eventually(t, func() bool {
		res, err = cli.Exec(ctx, []string{"wget", "-q", "-O", "-", "http://db:8080/ping"})
		return err == nil && res.ExitCode == 0
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, "pong\n", string(res.Stdout))
	require.NoError(t, srv.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, cli.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, c.RemoveNetwork(ctx, n.Name))
}

func TestLogs(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sh", "-c", "echo out1; echo err1 >&2; sleep 1; echo out2; echo out3"))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	var out, errOut bytes.Buffer
	require.NoError(t, ctr.Logs(ctx, &out, lifecycle.WithFollow(), lifecycle.WithStderr(&errOut)))
	assert.Equal(t, "out1\nout2\nout3\n", out.String())
	assert.Equal(t, "err1\n", errOut.String())
	out.Reset()
	// Without WithStderr, standard error goes to w too, as docker logs shows it.
	require.NoError(t, ctr.Logs(ctx, &out))
	for _, line := range []string{"out1\n", "err1\n", "out2\n", "out3\n"} {
		assert.Contains(t, out.String(), line)
	}
	assert.Len(t, out.String(), len("out1\nerr1\nout2\nout3\n"))
	out.Reset()
	require.NoError(t, ctr.Logs(ctx, &out, lifecycle.WithTail(1)))
	assert.Equal(t, "out3\n", out.String())
	out.Reset()
	require.NoError(t, ctr.Logs(ctx, &out, lifecycle.WithSince(time.Now().Add(time.Hour))))
	assert.Empty(t, out.String())
	require.NoError(t, ctr.Remove(ctx))
}

func TestBuildTagPushPullBack(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	base := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("Dockerfile", `ARG BASE=scratch
FROM ${BASE} AS base
ARG GREETING=hello
COPY . /app/
RUN echo "$GREETING" > /app/greeting
FROM base AS final
CMD ["cat", "/app/greeting"]
FROM base AS other
CMD ["echo", "other"]
`)
	write("keep.txt", "kept")
	write("secret.env", "TOKEN=x")
	write("node_modules/big.js", "junk")
	write(".dockerignore", "secret.env\nnode_modules\n")
	tag := "dockhand.test/built:" + c.Session()
	var lines []string
	id, err := c.Build(ctx, dir, lifecycle.WithTags(tag), lifecycle.WithBuildArgs("BASE="+base, "GREETING=hi-there"),
		lifecycle.WithTarget("final"), lifecycle.WithProgressFunc(func(p lifecycle.Progress) { lines = append(lines, p.Status) }))
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	assert.NotEmpty(t, lines)
	img, err := c.InspectImage(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, c.Session(), img.Labels[lifecycle.LabelBuildSession])
	assert.NotContains(t, img.Labels, lifecycle.LabelSession, "a built image carries no label its containers would inherit as ownership")

	var out bytes.Buffer
	ctr, err := c.Run(ctx, tag, lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "hi-there\n", out.String(), "build arg and target applied")
	res, err := execOnce(ctx, c, tag, "ls", "/app")
	require.NoError(t, err)
	assert.Contains(t, res, "keep.txt")
	assert.NotContains(t, res, "secret.env", ".dockerignore honoured")
	assert.NotContains(t, res, "node_modules")
	require.NoError(t, ctr.Remove(ctx))

	// Distribute: push to a registry, remove locally, pull back, run.
	reg := testbench.StartRegistry(t, "bob", "pushpw")
	remote := reg.Host + "/team/built:1"
	require.NoError(t, c.Tag(ctx, tag, remote))
	var progress bytes.Buffer
	require.NoError(t, c.Push(ctx, remote, lifecycle.WithAuth("bob", "pushpw"), lifecycle.WithProgress(&progress)))
	assert.Contains(t, progress.String(), "Pushed")
	require.NoError(t, c.RemoveImage(ctx, remote))
	require.NoError(t, c.RemoveImage(ctx, tag))
	out.Reset()
	pulled, err := c.Run(ctx, remote, lifecycle.WithAuth("bob", "pushpw"), lifecycle.WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, "hi-there\n", out.String())
	require.NoError(t, pulled.Remove(ctx))
	require.NoError(t, c.RemoveImage(ctx, remote))
}

func execOnce(ctx context.Context, c *lifecycle.Client, img string, cmd ...string) (string, error) {
	var out bytes.Buffer
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd(cmd...), lifecycle.WithStdout(&out))
	if ctr != nil {
		defer func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) }()
	}
	return out.String(), err
}

func TestRemoveImageInUse(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	base := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nLABEL purpose=in-use\n"), 0o644))
	tag := "dockhand.test/inuse:" + c.Session()
	_, err := c.Build(ctx, dir, lifecycle.WithTags(tag))
	require.NoError(t, err)
	ctr, err := c.Run(ctx, tag, lifecycle.WithCmd("sleep", "60"))
	require.NoError(t, err)
	err = c.RemoveImage(ctx, tag)
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrConflict)
	assert.Contains(t, err.Error(), tag)
	assert.Contains(t, err.Error(), ctr.ID()[:12], "the error names the container using the image")
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	require.NoError(t, c.RemoveImage(ctx, tag))
}

func TestCopyFiles(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, time.Minute)
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "60"))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	require.NoError(t, ctr.WriteFile(ctx, "/tmp/hello.txt", []byte("hi\n"), 0o640))
	res, err := ctr.Exec(ctx, []string{"stat", "-c", "%a %s", "/tmp/hello.txt"})
	require.NoError(t, err)
	assert.Equal(t, "640 3\n", string(res.Stdout))
	b, err := ctr.ReadFile(ctx, "/tmp/hello.txt")
	require.NoError(t, err)
	assert.Equal(t, "hi\n", string(b))
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("A"), 0o644))
	require.NoError(t, ctr.CopyTo(ctx, src, "/tmp"))
	dst := t.TempDir()
	require.NoError(t, ctr.CopyFrom(ctx, "/tmp/"+filepath.Base(src), dst))
	got, err := os.ReadFile(filepath.Join(dst, filepath.Base(src), "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))
	_, err = ctr.ReadFile(ctx, "/nope")
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
}

func TestConcurrentCycles(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "60"), lifecycle.WithName(fmt.Sprintf("dockhand-cc-%s-%d", c.Session(), i)))
				if err != nil {
					return err
				}
				res, err := ctr.Exec(ctx, []string{"echo", fmt.Sprint(i)})
				if err != nil {
					return err
				}
				if string(res.Stdout) != fmt.Sprintf("%d\n", i) {
					return fmt.Errorf("container %d: exec said %q", i, res.Stdout)
				}
				if err := ctr.Stop(ctx, lifecycle.WithGracePeriod(0)); err != nil {
					return err
				}
				return ctr.Remove(ctx)
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 0, countContainers(t, c))
}

func TestEngineUnreachable(t *testing.T) {
	ctx := ctxFor(t, 10*time.Second)
	sock := filepath.Join(t.TempDir(), "no-engine.sock")
	_, err := lifecycle.New(ctx, lifecycle.WithDockerHost("unix://"+sock))
	require.Error(t, err)
	assert.ErrorIs(t, err, lifecycle.ErrUnavailable)
	assert.Contains(t, err.Error(), sock)
	assert.Contains(t, err.Error(), "DOCKER_HOST")
}

var _ = errors.Is
var _ = json.Marshal
