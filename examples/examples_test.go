package examples_test

// Engine-backed tests of the examples: each example is built once, run as
// a user would run it (from the repository root, on the offline stand-in
// images and a registry in the test process), and judged by its effect on
// the engine, not only by its exit code. Every example's resources carry a
// per-test label (DOCKHAND_LABELS), so a test can tell that nothing of it
// is left behind.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// testLabel is the label key of resources made by a test (scripts/test's
// leak check looks for it too).
const testLabel = "dev.dockhand.test"

var examples = []string{"pull", "run", "ps", "exec", "stoprm", "entrypoint", "rmi", "volumes", "ports",
	"build", "push", "compose", "tour", "devstack", "devstack/app"}

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dockhand-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	err  error
	out  []byte
}

// bin returns the path of the example's binary, building all of them with
// one go build the first time.
func bin(t *testing.T, name string) string {
	t.Helper()
	build.once.Do(func() {
		args := []string{"build", "-o", binDir + string(os.PathSeparator)}
		for _, e := range examples {
			args = append(args, "./examples/"+e)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = testbench.Root(t)
		build.out, build.err = cmd.CombinedOutput()
	})
	require.NoError(t, build.err, "go build of the examples:\n%s", build.out)
	return filepath.Join(binDir, filepath.Base(name))
}

// ex is one test's way to run examples: its label, its client for checks.
type ex struct {
	t     *testing.T
	c     *lifecycle.Client
	label string // value of testLabel
	env   []string
	// remote, when set, runs the examples with the client in its network
	// namespace, on its engine endpoint (remote_test.go).
	remote *testbench.RemoteBench
}

func newEx(t *testing.T) *ex {
	c := testbench.Client(t)
	label := fmt.Sprintf("%s-%d", regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"), time.Now().UnixNano())
	e := &ex{t: t, c: c, label: label}
	t.Cleanup(e.noLeftovers)
	return e
}

// run runs an example from the repository root with stdin (nil: none) and
// returns its combined output; it fails the test if the example fails.
func (e *ex) run(stdin io.Reader, name string, args ...string) string {
	e.t.Helper()
	out, err := e.try(stdin, name, args...)
	require.NoError(e.t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return out
}

func (e *ex) try(stdin io.Reader, name string, args ...string) (string, error) {
	e.t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = bin(e.t, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	if e.remote != nil {
		cmd = e.remote.Command(ctx, path, args...)
	}
	cmd.Dir = testbench.Root(e.t)
	cmd.Env = append(append(os.Environ(), e.remote.Env()...), "DOCKHAND_LABELS="+testLabel+"="+e.label)
	cmd.Env = append(cmd.Env, e.env...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	e.t.Logf("%s %s: %s, %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err)
	return out.String(), err
}

func (e *ex) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	e.t.Cleanup(cancel)
	return ctx
}

// labelled lists what carries this test's label on the engine.
func (e *ex) labelled() []string {
	ctx := e.ctx(time.Minute)
	api := e.c.API()
	f := filters.NewArgs(filters.Arg("label", testLabel+"="+e.label))
	var found []string
	cts, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	require.NoError(e.t, err)
	for _, c := range cts {
		found = append(found, "container "+c.Names[0]+" ("+c.Status+")")
	}
	nets, err := api.NetworkList(ctx, network.ListOptions{Filters: f})
	require.NoError(e.t, err)
	for _, n := range nets {
		found = append(found, "network "+n.Name)
	}
	vols, err := api.VolumeList(ctx, volume.ListOptions{Filters: f})
	require.NoError(e.t, err)
	for _, v := range vols.Volumes {
		found = append(found, "volume "+v.Name)
	}
	imgs, err := api.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	require.NoError(e.t, err)
	for _, i := range imgs {
		found = append(found, "image "+i.ID+" "+strings.Join(i.RepoTags, ","))
	}
	return found
}

// noLeftovers fails the test if an example left anything labelled, and
// removes it.
func (e *ex) noLeftovers() {
	left := e.labelled()
	if len(left) == 0 {
		return
	}
	e.t.Errorf("examples left resources behind: %v", left)
	ctx := e.ctx(time.Minute)
	api := e.c.API()
	f := filters.NewArgs(filters.Arg("label", testLabel+"="+e.label))
	cts, _ := api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	for _, c := range cts {
		_ = api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	nets, _ := api.NetworkList(ctx, network.ListOptions{Filters: f})
	for _, n := range nets {
		_ = api.NetworkRemove(ctx, n.ID)
	}
	vols, _ := api.VolumeList(ctx, volume.ListOptions{Filters: f})
	for _, v := range vols.Volumes {
		_ = api.VolumeRemove(ctx, v.Name, true)
	}
	imgs, _ := api.ImageList(ctx, image.ListOptions{Filters: f})
	for _, i := range imgs {
		_, _ = api.ImageRemove(ctx, i.ID, image.RemoveOptions{Force: true, PruneChildren: true})
	}
}

// containers lists this test's containers (by label), with their state.
// noProjectLeft asserts that no container, volume or network of the
// compose project is on the engine.
func (e *ex) noProjectLeft(project string) {
	e.t.Helper()
	f := lifecycle.WithFilter("label", "com.docker.compose.project="+project)
	cts, err := e.c.Containers(e.ctx(time.Minute), lifecycle.WithAll(), f)
	require.NoError(e.t, err)
	assert.Empty(e.t, cts, "containers of project %s", project)
	vols, err := e.c.Volumes(e.ctx(time.Minute), f)
	require.NoError(e.t, err)
	assert.Empty(e.t, vols, "volumes of project %s", project)
	nets, err := e.c.Networks(e.ctx(time.Minute), f)
	require.NoError(e.t, err)
	assert.Empty(e.t, nets, "networks of project %s", project)
}

func (e *ex) containers() []container.Summary {
	cts, err := e.c.API().ContainerList(e.ctx(time.Minute), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", testLabel+"="+e.label))})
	require.NoError(e.t, err)
	return cts
}

func (e *ex) removeContainers() {
	for _, c := range e.containers() {
		require.NoError(e.t, e.c.API().ContainerRemove(e.ctx(time.Minute), c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}))
	}
}

func (e *ex) hasImage(ref string) bool {
	_, err := e.c.InspectImage(e.ctx(time.Minute), ref)
	return err == nil
}

func (e *ex) removeImage(ref string) {
	if e.hasImage(ref) {
		require.NoError(e.t, e.c.RemoveImage(e.ctx(time.Minute), ref))
	}
}

// pushed puts the busybox stand-in into a registry of the test process
// under repo, and returns its reference, not present on the engine.
func (e *ex) pushed(repo string) string {
	e.t.Helper()
	ctx := e.ctx(2 * time.Minute)
	reg := testbench.StartRegistry(e.t, "", "")
	ref := reg.Host + "/" + repo
	require.NoError(e.t, e.c.Tag(ctx, testbench.BusyboxImage(e.t, e.c), ref))
	require.NoError(e.t, e.c.Push(ctx, ref))
	require.NoError(e.t, e.c.RemoveImage(ctx, ref))
	e.t.Cleanup(func() { e.removeImage(ref) })
	return ref
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return 0, ""
}

func TestPull(t *testing.T) {
	e := newEx(t)
	ref := e.pushed("examples/pull:1")

	out := e.run(nil, "pull", "-image", ref, "-keep")
	assert.Contains(t, out, "Downloaded newer image for "+ref)
	assert.True(t, e.hasImage(ref), "with -keep the pulled image is on the engine")
	e.removeImage(ref)

	out = e.run(nil, "pull", "-image", ref)
	assert.Contains(t, out, "Clean up: remove the image again")
	assert.False(t, e.hasImage(ref), "without -keep the image this example pulled is removed again")
	assert.NotContains(t, out, "\x1b[", "not a terminal: progress comes as plain lines")

	t.Run("on a terminal, progress updates in place like docker pull", func(t *testing.T) {
		script, err := exec.LookPath("script")
		if err != nil {
			t.Skip("util-linux script (to give the example a terminal) is not installed")
		}
		// An image with a layer the engine does not have yet, so that there
		// is layer progress to render.
		ctx := e.ctx(2 * time.Minute)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"),
			[]byte("FROM "+testbench.BusyboxImage(t, e.c)+"\nRUN head -c 200000 /dev/urandom > /noise\n"), 0o644))
		id, err := e.c.Build(ctx, dir)
		require.NoError(t, err)
		fresh := strings.Replace(ref, "examples/pull:1", "examples/pull-fresh:1", 1)
		require.NoError(t, e.c.Tag(ctx, id, fresh))
		require.NoError(t, e.c.Push(ctx, fresh))
		require.NoError(t, e.c.RemoveImage(ctx, fresh)) // its only name: the image goes with it

		e2 := *e
		e2.t = t
		out := e2.run(typist(t), script, "-qfec", bin(t, "pull")+" -image "+fresh, "/dev/null")
		assert.Contains(t, out, "Downloaded newer image for "+fresh)
		assert.Contains(t, out, "Pull complete")
		assert.Regexp(t, `\x1b\[\d*[AK]`, out, "cursor movement and line clearing, as the docker CLI renders on a terminal")
		assert.False(t, e.hasImage(fresh))
	})
}

// TestPullOffline: an image that is only on this machine is pulled from
// the example's own registry on 127.0.0.1, for real (the engine's pull
// answers "Downloaded newer image" for the registry's name, and the
// registry saw the engine ask for the manifest), and it is the very image
// the user has, which stays.
func TestPullOffline(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	orig, err := e.c.InspectImage(e.ctx(time.Minute), img)
	require.NoError(t, err)
	pulledFromOwnRegistry := func(t *testing.T, out string) {
		t.Helper()
		m := regexp.MustCompile(`registry listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		ref := m[1] + "/dockhand-examples/pull:1"
		assert.Contains(t, out, "same as: docker pull "+ref)
		assert.Contains(t, out, "Status: Downloaded newer image for "+ref, "the engine pulled the registry's name")
		assert.Regexp(t, `the registry answered the engine's pull: .*(GET|HEAD) /v2/dockhand-examples/pull/manifests/1`, out)
		assert.Contains(t, out, "id:   "+strings.TrimPrefix(orig.ID, "sha256:")[:12], "the image pulled is the local one")
		assert.False(t, e.hasImage(ref), "the registry's name is removed at the end")
	}

	t.Run("a stand-in", func(t *testing.T) {
		out := e.run(nil, "pull", "-image", img)
		assert.Contains(t, out, img+" is a stand-in that exists on this machine only")
		assert.NotContains(t, out, "Get \"https://dockhand.test/v2/\"", "a stand-in is never asked for at a registry")
		pulledFromOwnRegistry(t, out)
		assert.True(t, e.hasImage(img), "the stand-in stays")
	})

	t.Run("a local image whose registry cannot be reached", func(t *testing.T) {
		// .invalid never resolves (RFC 6761): no registry is reachable for it.
		local := "registry.invalid/dockhand-examples/local:" + strings.ToLower(e.label[len(e.label)-8:])
		require.NoError(t, e.c.Tag(e.ctx(time.Minute), img, local))
		t.Cleanup(func() { e.removeImage(local) })
		out := e.run(nil, "pull", "-image", local)
		assert.Contains(t, out, "the registry of "+local+" cannot be reached, but the image is on this machine")
		assert.Contains(t, out, `Get "https://registry.invalid/v2/"`, "the engine's reason is shown")
		pulledFromOwnRegistry(t, out)
		assert.True(t, e.hasImage(local), "the user's image stays")
	})

	t.Run("an engine that cannot reach the example's registry: the local copy, said so", func(t *testing.T) {
		// An engine on another machine answers the push to 127.0.0.1:PORT
		// as this proxy in front of ours does.
		proxy := testbench.NewFaultProxy(t)
		proxy.Inject(testbench.Rule{Method: "POST", Path: "/images/**/push", Action: testbench.Fail500,
			Message: `Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`})
		e2 := *e
		e2.t = t
		e2.env = append(append([]string(nil), e.env...), "DOCKER_HOST="+proxy.Host())
		out := e2.run(nil, "pull", "-image", img)
		assert.Equal(t, 1, proxy.Count("POST", "/images/**/push"), "the example tried its registry")
		assert.Contains(t, out, "the engine cannot reach a registry on this machine")
		assert.Contains(t, out, "so nothing is pulled: the local copy of "+img+" is used as it is")
		assert.NotContains(t, out, "Downloaded newer image")
		assert.Contains(t, out, "docker image inspect "+img)
		assert.Contains(t, out, "id:   "+strings.TrimPrefix(orig.ID, "sha256:")[:12])
		assert.Contains(t, out, "The image stays on your machine")
		m := regexp.MustCompile(`registry listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		assert.False(t, e.hasImage(m[1]+"/dockhand-examples/pull:1"), "the name given for the push is removed")
		assert.True(t, e.hasImage(img))
	})
}

// TestNoRegistry: on the public default images, which no registry can
// serve here (none is reachable, nor on CI), every example stops at its
// first pull with an error that names the image and says exactly what to
// run instead; and it leaves nothing behind (newEx's check).
func TestNoRegistry(t *testing.T) {
	e := newEx(t)
	for _, img := range []string{"busybox:1.37", "bash:5.2", "redis:7-alpine"} {
		require.False(t, e.hasImage(img), "%s is on the engine: this test needs the examples' public defaults to be missing", img)
	}
	suffix := strings.ToLower(e.label[len(e.label)-8:])
	onBusybox := func(name string) string { return "go run ./examples/" + name + " -image dockhand.test/busybox:1" }
	for _, tc := range []struct {
		name    string
		args    []string // only names of our own: the images are the defaults
		images  string
		offline string
	}{
		{"pull", nil, "busybox:1.37", onBusybox("pull")},
		{"run", nil, "busybox:1.37", onBusybox("run")},
		{"ps", nil, "busybox:1.37", onBusybox("ps")},
		{"exec", nil, "bash:5.2", onBusybox("exec")},
		{"stoprm", nil, "busybox:1.37", onBusybox("stoprm")},
		{"entrypoint", nil, "busybox:1.37", onBusybox("entrypoint")},
		{"rmi", []string{"-tag", "dockhand-examples/rmi:" + suffix}, "busybox:1.37", onBusybox("rmi")},
		{"volumes", []string{"-volume", "dhx-examples-" + suffix}, "busybox:1.37", onBusybox("volumes")},
		{"ports", nil, "busybox:1.37", onBusybox("ports")},
		{"build", []string{"-tag", "dockhand-examples/hello:" + suffix}, "busybox:1.37", "go run ./examples/build -base dockhand.test/busybox:1"},
		{"push", nil, "busybox:1.37", onBusybox("push")},
		{"compose", []string{"-project", "dhx-ex-" + suffix}, "busybox:1.37, redis:7-alpine",
			"go run ./examples/compose -busybox dockhand.test/busybox:1 -redis dockhand.test/redis:7"},
		{"tour", nil, "bash:5.2", onBusybox("tour")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.try(nil, tc.name, tc.args...)
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, out)
			assert.Equal(t, 1, exitErr.ExitCode(), out)
			assert.Contains(t, out, "error: cannot pull "+tc.images+": no registry could be reached:\n", out)
			assert.Contains(t, out, "To run without a registry, build the offline stand-in images once and use them:\n"+
				"    scripts/test-images && "+tc.offline+"\n")
		})
	}
	// The tour stops at its first step.
	out, _ := e.try(nil, "tour")
	assert.Contains(t, out, "1. Pull the image")
	assert.NotContains(t, out, "\n2. ")
}

func TestRun(t *testing.T) {
	e := newEx(t)
	t.Run("not a terminal: a scripted session, then the container shows exited", func(t *testing.T) {
		out := e.run(nil, "run", "-image", testbench.BusyboxImage(t, e.c), "-keep")
		assert.Contains(t, out, "hello from ")
		assert.Contains(t, out, `status "exited", exit code 0`)
		cts := e.containers()
		require.Len(t, cts, 1, "the kept container")
		assert.Equal(t, "exited", cts[0].State)
		assert.Contains(t, cts[0].Status, "Exited (0)")
		e.removeContainers()

		e.run(nil, "run", "-image", testbench.BusyboxImage(t, e.c))
		assert.Empty(t, e.containers(), "without -keep the exited container is removed")
	})
	t.Run("a terminal: an interactive shell that the user exits", func(t *testing.T) {
		script, err := exec.LookPath("script")
		if err != nil {
			t.Skip("util-linux script (to give the example a terminal) is not installed")
		}
		// script(1) runs the example on a pseudo-terminal; we type into it.
		cmdline := bin(t, "run") + " -image " + testbench.BusyboxImage(t, e.c)
		e2 := *e
		e2.t = t
		out := e2.run(typist(t, "echo inside-$((6*7))\r", "exit\r"), script, "-qfec", cmdline, "/dev/null")
		assert.Contains(t, out, "docker run -it", "a terminal gets the interactive session")
		assert.Contains(t, out, "inside-42")
		assert.Contains(t, out, `status "exited", exit code 0`)
	})
}

func TestPs(t *testing.T) {
	e := newEx(t)
	out := e.run(nil, "ps", "-image", testbench.BusyboxImage(t, e.c))
	assert.Regexp(t, `(?s)List the running containers.*Up .*List all containers.*Exited \(3\)`, out)
	assert.Contains(t, out, "status exited, exit code 3")
}

func TestExec(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	out := e.run(nil, "exec", "-image", img)
	assert.Regexp(t, `bash \d+\.\d+\.\d+`, out, "bash printed its version")
	assert.Contains(t, out, "exit code 1, stderr: ls: /nowhere")
	assert.Contains(t, out, "sleep 3600", "ps shows the container's main process")

	out = e.run(strings.NewReader("echo piped $((20+22)); exit 5\n"), "exec", "-image", img, "-it")
	assert.Contains(t, out, "piped 42", "-it runs bash on the example's stdin")
	assert.Contains(t, out, "bash ended with exit code 5")
	assert.Regexp(t, `is running`, out, "the container outlives the exec")

	// On a terminal, -it is an interactive bash with a prompt.
	script, err := exec.LookPath("script")
	if err != nil {
		t.Log("util-linux script is not installed: the terminal case is not tested")
		return
	}
	out = e.run(typist(t, "echo tty=$(tty)\r", "exit\r"), script, "-qfec", bin(t, "exec")+" -image "+img+" -it", "/dev/null")
	assert.Contains(t, out, "docker exec -it ")
	assert.Regexp(t, `tty=/dev/pts/\d+`, out, "bash inside has a terminal")
	assert.Contains(t, out, "bash ended with exit code 0")
}

func TestStopRm(t *testing.T) {
	e := newEx(t)
	out := e.run(nil, "stoprm", "-image", testbench.BusyboxImage(t, e.c))
	assert.Contains(t, out, "got SIGTERM, shutting down", "the container was stopped gently")
	assert.Contains(t, out, "status exited, exit code 0")
	assert.Contains(t, out, "is gone")
}

func TestEntrypoint(t *testing.T) {
	e := newEx(t)
	out := e.run(nil, "entrypoint", "-image", testbench.BusyboxImage(t, e.c))
	assert.Contains(t, out, `CMD ["sh"]`)
	assert.Contains(t, out, "| hello from CMD")
	assert.Contains(t, out, "| Linux x86_64")
	assert.Contains(t, out, "| entrypoint: now running: date -u")
}

func TestRmi(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	tag := "dockhand-examples/rmi:" + strings.ToLower(e.label[len(e.label)-8:])
	out := e.run(nil, "rmi", "-image", img, "-tag", tag)
	assert.Contains(t, out, "refused, as expected")
	assert.False(t, e.hasImage(tag), "the example's tag is removed")
	assert.True(t, e.hasImage(img), "the image itself stays without -all")

	ref := e.pushed("examples/rmi:1") // an image the test can lose
	out = e.run(nil, "rmi", "-image", ref, "-tag", tag, "-all")
	assert.Contains(t, out, "Pull "+ref+" first")
	assert.False(t, e.hasImage(ref), "-all removes the image too")
	assert.False(t, e.hasImage(tag))
}

func TestVolumes(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	vol := "dhx-examples-" + e.label[len(e.label)-12:]
	out := e.run(nil, "volumes", "-image", img, "-volume", vol, "-keep")
	m := regexp.MustCompile(`wrote: (note written at \S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.Regexp(t, `(?s)A second, brand-new container.*\| `+regexp.QuoteMeta(m[1]), out, "the second container read the first one's note")
	assert.Contains(t, out, "(no /not-in-the-volume here)")
	assert.Empty(t, e.containers(), "both containers are removed")

	// The kept volume holds the note; a second run appends to it and,
	// since the volume was there before, keeps it.
	out = e.run(nil, "volumes", "-image", img, "-volume", vol)
	assert.Contains(t, out, "it existed already")
	assert.Equal(t, 2, strings.Count(out, "| note written at"), "the second run reads both notes")
	require.NoError(t, e.c.RemoveVolume(e.ctx(time.Minute), vol))
	e.run(nil, "volumes", "-image", img, "-volume", vol)
	vols, err := e.c.Volumes(e.ctx(time.Minute), lifecycle.WithFilter("name", vol))
	require.NoError(t, err)
	assert.Empty(t, vols, "a volume the example created is removed without -keep")
}

func TestPorts(t *testing.T) {
	e := newEx(t)
	out := e.run(nil, "ports", "-image", testbench.BusyboxImage(t, e.c), "-keep")
	m := regexp.MustCompile(`published on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.Contains(t, out, "answer: hello from container")
	// The kept server answers the test too, on the loopback only.
	code, body := httpGet(t, "http://"+m[1]+"/")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "hello from container")
	cts := e.containers()
	require.Len(t, cts, 1)
	require.NotEmpty(t, cts[0].Ports)
	assert.Equal(t, "127.0.0.1", cts[0].Ports[0].IP)
	e.removeContainers()
}

func TestBuild(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	tag := "dockhand-examples/hello:" + strings.ToLower(e.label[len(e.label)-8:])
	out := e.run(nil, "build", "-base", img, "-tag", tag, "-keep")
	assert.Contains(t, out, "Successfully tagged "+tag)
	assert.Regexp(t, `answer: Hello from container \w+, running as nobody`, out)
	built, err := e.c.InspectImage(e.ctx(time.Minute), tag)
	require.NoError(t, err, "with -keep the image stays")
	assert.Equal(t, e.label, built.Labels[testLabel])
	assert.Empty(t, e.containers())
	require.NoError(t, e.c.RemoveImage(e.ctx(time.Minute), tag))

	e.run(nil, "build", "-base", img, "-tag", tag)
	assert.False(t, e.hasImage(tag), "without -keep the image is removed")
}

func TestPush(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	t.Run("to its own in-process registry", func(t *testing.T) {
		out := e.run(nil, "push", "-image", img)
		assert.Regexp(t, `registry listening on 127\.0\.0\.1:\d+`, out)
		assert.Contains(t, out, "is no longer on this machine")
		assert.Regexp(t, `running the image pulled from 127\.0\.0\.1:\d+`, out)
	})
	t.Run("to a given registry, from which the image can be pulled back", func(t *testing.T) {
		reg := testbench.StartRegistry(t, "", "")
		repo := "examples/pushed:" + strings.ToLower(e.label[len(e.label)-8:])
		ref := reg.Host + "/" + repo
		out := e.run(nil, "push", "-image", img, "-registry", reg.Host, "-repo", repo)
		assert.Contains(t, out, "The push refers to repository ["+reg.Host+"/examples/pushed]")
		assert.False(t, e.hasImage(ref), "the example removed its local copy")
		// Another client pulls what the example pushed.
		require.NoError(t, e.c.Pull(e.ctx(time.Minute), ref))
		pulled, err := e.c.InspectImage(e.ctx(time.Minute), ref)
		require.NoError(t, err)
		orig, err := e.c.InspectImage(e.ctx(time.Minute), img)
		require.NoError(t, err)
		assert.Equal(t, orig.ID, pulled.ID, "the same image came back")
		e.removeImage(ref)
	})
}

func TestCompose(t *testing.T) {
	e := newEx(t)
	img := testbench.BusyboxImage(t, e.c)
	redis := testbench.RequireImage(t, e.c, testbench.Redis)
	project := "dhx-ex-" + strings.ToLower(e.label[len(e.label)-10:])
	out := e.run(nil, "compose", "-busybox", img, "-redis", redis, "-project", project)
	// Up, then ps with both running and healthy.
	assert.Regexp(t, `(?s)Start the stack.*`+project+`-web-1\s+(\w+)\s+running\s+healthy`, out)
	// Stop: the same containers, exited.
	assert.Regexp(t, `(?s)Stop the stack.*`+project+`-cache-1\s+\w+\s+exited.*Start it again`, out)
	// Start: the same ids run again and serve again.
	ids := regexp.MustCompile(project+`-web-1\s+([0-9a-f]{12})\s`).FindAllStringSubmatch(out, -1)
	require.Len(t, ids, 3, out)
	assert.Equal(t, ids[0][1], ids[2][1], "start runs the same container again")
	assert.Equal(t, 2, strings.Count(out, "web answers: hello from "), out)
	assert.Contains(t, out, "redis_version:")
	// Down: nothing of the project is left.
	e.noProjectLeft(project)
}

func TestTour(t *testing.T) {
	e := newEx(t)
	ref := e.pushed("examples/tour:1")
	out := e.run(nil, "tour", "-image", ref)
	for _, step := range []string{"same as: docker pull", "same as: docker run ", "same as: docker ps -a", "docker exec ",
		"same as: docker stop", "same as: docker rm ", "--entrypoint uname", "same as: docker rmi"} {
		assert.Contains(t, out, step)
	}
	assert.Regexp(t, `bash \d+\.\d+`, out)
	assert.Contains(t, out, "has exited")
	assert.Contains(t, out, "Linux")
	assert.Contains(t, out, "removed "+ref+" too: the tour pulled it")
	assert.False(t, e.hasImage(ref), "the tour removed the image it pulled")
	assert.False(t, e.hasImage("dockhand-examples/tour:1"))

	t.Run("offline, on a stand-in: pulled from the tour's own registry", func(t *testing.T) {
		img := testbench.BusyboxImage(t, e.c)
		out := e.run(nil, "tour", "-image", img)
		m := regexp.MustCompile(`registry listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		served := m[1] + "/dockhand-examples/tour:1"
		assert.Contains(t, out, "Status: Downloaded newer image for "+served)
		assert.Regexp(t, `the registry answered the engine's pull: .*(GET|HEAD) /v2/dockhand-examples/tour/manifests/1`, out)
		for _, step := range []string{"same as: docker run ", "same as: docker ps -a", "same as: docker stop", "--entrypoint uname", "same as: docker rmi"} {
			assert.Contains(t, out, step)
		}
		assert.Regexp(t, `bash \d+\.\d+`, out)
		assert.Contains(t, out, "removed "+served+" too")
		assert.Contains(t, out, img+" stays, as you had it before the tour")
		assert.True(t, e.hasImage(img))
		assert.False(t, e.hasImage(served))
		assert.False(t, e.hasImage("dockhand-examples/tour:1"))
	})
}

// TestInterrupt: Ctrl-C in the middle of an example stops it and still
// removes what it made.
func TestInterrupt(t *testing.T) {
	e := newEx(t)
	cmd := exec.Command(bin(t, "exec"), "-image", testbench.BusyboxImage(t, e.c), "-it")
	cmd.Dir = testbench.Root(t)
	cmd.Env = append(os.Environ(), "DOCKHAND_LABELS="+testLabel+"="+e.label)
	stdin, err := cmd.StdinPipe() // kept open: bash inside waits for input
	require.NoError(t, err)
	defer stdin.Close()
	var out testbench.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	// Wait until the interactive bash runs inside the container.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "docker exec -i"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the example never reached its bash session:\n%s", out.String())
		}
	}
	require.Len(t, e.containers(), 1)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err = cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, out.String())
	assert.Equal(t, 130, exitErr.ExitCode(), out.String())
	assert.Contains(t, out.String(), "interrupted")
	assert.Empty(t, e.containers(), "the container is removed after Ctrl-C")
}

// typist returns a terminal's input as a person types it: the lines a
// second apart once the session has had a few seconds to start. It is an
// os.Pipe (which exec hands to the child as it is) and stays open until the
// test ends: a closed input would end script(1)'s session early.
func typist(t *testing.T, lines ...string) *os.File {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); w.Close(); r.Close() })
	go func() {
		select {
		case <-time.After(4 * time.Second):
		case <-done:
			return
		}
		for _, l := range lines {
			if _, err := io.WriteString(w, l); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}()
	return r
}
