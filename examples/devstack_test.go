package examples_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

type note struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func postNote(t *testing.T, base, title, body string) note {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"title": title, "body": body})
	resp, err := http.Post(base+"/notes", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var n note
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	return n
}

// listNotes returns the notes and the X-Cache header of the answer.
func listNotes(t *testing.T, base string) ([]note, string) {
	t.Helper()
	resp, err := http.Get(base + "/notes")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ns []note
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ns))
	return ns, resp.Header.Get("X-Cache")
}

func titles(ns []note) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Title)
	}
	return out
}

// TestDevstack is the README's promise: one command brings up a working
// development environment; its data outlives a restart; the backing
// services alone serve the app run on the host; down -v leaves nothing.
func TestDevstack(t *testing.T) {
	e := newEx(t)
	for _, img := range []string{testbench.Postgres, testbench.Redis, testbench.Golang} {
		testbench.RequireImage(t, e.c, img)
	}
	project := "dhx-devstack-" + strings.ToLower(e.label[len(e.label)-10:])
	appPort, dbPort, redisPort := freePort(t), freePort(t), freePort(t)
	e.env = []string{"COMPOSE_PROJECT_NAME=" + project, "APP_PORT=" + appPort, "DB_PORT=" + dbPort, "REDIS_PORT=" + redisPort}
	t.Cleanup(func() { _, _ = e.try(nil, "devstack", "-offline", "down", "-v", "-rmi") })
	base := "http://127.0.0.1:" + appPort

	// 1. One command: build, start, wait until healthy.
	start := time.Now()
	out := e.run(nil, "devstack", "-offline")
	t.Logf("devstack up, first time (image built): %s", time.Since(start).Round(100*time.Millisecond))
	assert.Contains(t, out, "Image "+project+"-app  Built")
	assert.Regexp(t, project+`-app-1\s+app\s+running\s+healthy\s+127\.0\.0\.1:`+appPort+`->8080/tcp`, out)
	assert.Regexp(t, project+`-db-1\s+db\s+running\s+healthy\s+127\.0\.0\.1:`+dbPort+`->5432/tcp`, out)
	assert.Regexp(t, project+`-cache-1\s+cache\s+running\s+healthy\s+127\.0\.0\.1:`+redisPort+`->6379/tcp`, out)
	assert.Contains(t, out, "running at http://127.0.0.1:"+appPort)

	// The image is the scratch one, with the waitfor entrypoint.
	ins, err := e.c.API().ImageInspect(e.ctx(time.Minute), project+"-app")
	require.NoError(t, err)
	assert.Equal(t, []string{"/waitfor", "--"}, ins.Config.Entrypoint)
	assert.Equal(t, []string{"/app"}, []string(ins.Config.Cmd))
	assert.Less(t, ins.Size, int64(40<<20), "a scratch image with two static binaries")
	// The entrypoint waited for both services before it started the app.
	logs := e.run(nil, "devstack", "-offline", "logs")
	assert.Regexp(t, `(?s)app-1 .*msg=ready target=postgres://app:xxxxx@db:5432/app.*msg=exec command=/app.*notes app listening`, logs)
	assert.Contains(t, logs, "msg=ready target=redis://cache:6379")

	// 2. The app works: notes go to PostgreSQL, reads come from Redis once cached.
	code, body := httpGet(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"postgres":"ok","redis":"ok"}`, body)
	first := postNote(t, base, "buy milk", "two litres")
	postNote(t, base, "call Ana", "")
	ns, cache := listNotes(t, base)
	assert.Equal(t, []string{"buy milk", "call Ana"}, titles(ns))
	assert.Equal(t, "miss", cache)
	_, cache = listNotes(t, base)
	assert.Equal(t, "hit", cache, "the second read comes from Redis")
	code, body = httpGet(t, base+"/notes/"+strconv.FormatInt(first.ID, 10))
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"body":"two litres"`)

	// 3. Restart: down keeps the volume, the next up finds the data.
	e.removeAnonVolumesAtEnd(project)
	out = e.run(nil, "devstack", "-offline", "down")
	assert.Contains(t, out, "the data stays in the volume "+project+"_pgdata")
	cts, err := e.c.Containers(e.ctx(time.Minute), lifecycle.WithAll(), lifecycle.WithFilter("label", "com.docker.compose.project="+project))
	require.NoError(t, err)
	assert.Empty(t, cts, "down removes the containers")
	start = time.Now()
	e.run(nil, "devstack", "-offline", "up")
	t.Logf("devstack up, again (image cached): %s", time.Since(start).Round(100*time.Millisecond))
	ns, _ = listNotes(t, base)
	assert.Equal(t, []string{"buy milk", "call Ana"}, titles(ns), "the notes survived down and up")
	out = e.run(nil, "devstack", "-offline", "ps")
	assert.Equal(t, 3, strings.Count(out, "healthy"), out)
	e.removeAnonVolumesAtEnd(project)
	e.run(nil, "devstack", "-offline", "down")

	// 4. Only the backing services; the app runs on the host.
	out = e.run(nil, "devstack", "-offline", "services")
	assert.NotContains(t, out, project+"-app-1")
	dbURL := regexp.MustCompile(`export DATABASE_URL='([^']+)'`).FindStringSubmatch(out)
	redisURL := regexp.MustCompile(`export REDIS_URL='([^']+)'`).FindStringSubmatch(out)
	require.NotNil(t, dbURL, out)
	require.NotNil(t, redisURL, out)
	assert.Equal(t, "postgres://app:app@127.0.0.1:"+dbPort+"/app?sslmode=disable", dbURL[1])
	assert.Equal(t, "redis://127.0.0.1:"+redisPort+"/0", redisURL[1])

	hostPort := freePort(t)
	app := exec.Command(bin(t, "devstack/app"))
	app.Env = append(os.Environ(), "DATABASE_URL="+dbURL[1], "REDIS_URL="+redisURL[1], "ADDR=127.0.0.1:"+hostPort)
	var appOut bytes.Buffer
	app.Stdout, app.Stderr = &appOut, &appOut
	require.NoError(t, app.Start())
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() { _ = app.Process.Kill() })
	host := "http://127.0.0.1:" + hostPort
	code, body = httpGet(t, host+"/healthz")
	assert.Equal(t, http.StatusOK, code, body)
	ns, _ = listNotes(t, host)
	assert.Equal(t, []string{"buy milk", "call Ana"}, titles(ns), "the host app sees the stack's data")
	postNote(t, host, "from the host", "")
	ns, _ = listNotes(t, host)
	assert.Len(t, ns, 3)

	// Graceful stop on SIGTERM.
	require.NoError(t, app.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		assert.NoError(t, err, appOut.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("the app did not stop on SIGTERM:\n%s", appOut.String())
	}
	assert.Contains(t, appOut.String(), "shutting down")
	assert.Contains(t, appOut.String(), "msg=stopped")

	// 5. Down -v: nothing of the project is left (the leak check of newEx
	// also finds anything that carries this test's label).
	out = e.run(nil, "devstack", "-offline", "down", "-v", "-rmi")
	assert.Contains(t, out, "the data in it are deleted")
	e.noProjectLeft(project)
	assert.False(t, e.hasImage(project+"-app"), "down -rmi removes the built image")
}

// TestDevstackNoRegistry: without -offline and without a registry (none is
// reachable here, nor on CI), up and services stop at once with an error
// that names the images they could not pull and says what to run instead,
// and leave nothing of the project behind.
func TestDevstackNoRegistry(t *testing.T) {
	e := newEx(t)
	for _, img := range []string{"postgres:17-alpine", "redis:7-alpine", "golang:1.26-bookworm"} {
		require.False(t, e.hasImage(img), "%s is on the engine: this test needs the devstack's public defaults to be missing", img)
	}
	project := "dhx-devstack-nr-" + strings.ToLower(e.label[len(e.label)-10:])
	e.env = []string{"COMPOSE_PROJECT_NAME=" + project, "APP_PORT=" + freePort(t), "DB_PORT=" + freePort(t), "REDIS_PORT=" + freePort(t),
		"DOCKHAND_OFFLINE=", "POSTGRES_IMAGE=", "REDIS_IMAGE=", "GO_IMAGE="} // the public defaults
	for _, tc := range []struct {
		cmd     []string
		images  string
		offline string
	}{
		{nil, "golang:1.26-bookworm, redis:7-alpine, postgres:17-alpine", "go run ./examples/devstack -offline"},
		{[]string{"services"}, "redis:7-alpine, postgres:17-alpine", "go run ./examples/devstack -offline services"},
	} {
		out, err := e.try(nil, "devstack", tc.cmd...)
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, out)
		assert.Equal(t, 1, exitErr.ExitCode(), out)
		assert.Contains(t, out, "error: cannot pull "+tc.images+": no registry could be reached:\n", out)
		assert.Contains(t, out, "To run without a registry, build the offline stand-in images once and use them:\n"+
			"    scripts/test-images && "+tc.offline+"\n")
		assert.NotContains(t, out, "the logs: go run", "nothing started, so there are no logs to read")
	}
	e.noProjectLeft(project)
}

// The devstack Dockerfile copies only the packages its two binaries are
// built from (a small build context and cache key): every package of this
// module that cmd/waitfor and the app import must be among them. Fails
// fast, without an engine, when an import is added and the COPY is not.
func TestDevstackDockerfileCopiesEveryPackageItBuilds(t *testing.T) {
	root := testbench.Root(t)
	df, err := os.ReadFile(filepath.Join(root, "examples/devstack/Dockerfile"))
	require.NoError(t, err)
	var copied []string
	for _, line := range strings.Split(string(df), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "COPY" {
			copied = append(copied, strings.TrimSuffix(f[1], "/"))
		}
	}
	list := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"./cmd/waitfor", "./examples/devstack/app")
	list.Dir = root
	out, err := list.Output()
	require.NoError(t, err)
	const module = "github.com/dockhand/dockhand/"
	for _, pkg := range strings.Fields(string(out)) {
		dir, ours := strings.CutPrefix(pkg, module)
		if !ours {
			continue
		}
		found := false
		for _, c := range copied {
			if dir == c || strings.HasPrefix(dir, c+"/") {
				found = true
			}
		}
		assert.True(t, found, "examples/devstack/Dockerfile does not COPY %s/ (imported by the binaries it builds)", dir)
	}
}

// removeAnonVolumesAtEnd removes, when the test ends, the anonymous volumes
// (redis's VOLUME /data) of the project's containers now on the engine:
// down without -v keeps them, as docker compose down does.
func (e *ex) removeAnonVolumesAtEnd(project string) {
	e.t.Helper()
	cts, err := e.c.API().ContainerList(e.ctx(time.Minute), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+project))})
	require.NoError(e.t, err)
	for _, ct := range cts {
		for _, m := range ct.Mounts {
			if m.Type != "volume" || m.Name == "" || strings.HasPrefix(m.Name, project+"_") {
				continue // a bind, or the project's named volume (down -v removes it)
			}
			e.t.Cleanup(func() { _ = e.c.API().VolumeRemove(e.ctx(time.Minute), m.Name, true) })
		}
	}
}
