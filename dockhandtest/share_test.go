package dockhandtest_test

// Sharing across test processes, proven with real ones: the packages
// testdata/share/{a,b,c,d} run child.Run, as `go test` of several packages,
// or as a test binary this test builds, starts and kills. The children
// run PostgreSQL WithDurability, a configuration no other package of a
// `go test ./...` asks for (examples/repository runs the default one at
// the same time), so what these tests assert is theirs alone.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// childEnv is the environment of a child test process.
func childEnv(kv ...string) []string {
	return append(append(os.Environ(), "CI=true", "DOCKHANDTEST_IMAGE="+testbench.Postgres), kv...)
}

// releaseOurs makes this process hold no service, so that the children
// decide alone.
func releaseOurs(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, dockhandtest.Release(ctx))
}

// Four packages run by one `go test` share one container; migrations run
// once; when they end, nothing is left.
func TestSharedAcrossPackages(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	releaseOurs(t)
	s := runSharePackages(t, "DOCKHANDTEST_VERSION="+testbench.RandomName("share"))
	testbench.NothingLeft(t, c, s.Key)
}

// runSharePackages runs the packages testdata/share/{a,b,c,d} with one
// `go test` (four processes at once), in childEnv(env...) and with a
// migrations log and a barrier of their own. It asserts that the four
// got one container and that the migrations ran once among them, and
// returns that container's server.
func runSharePackages(t *testing.T, env ...string) testbench.ChildServer {
	t.Helper()
	dir := t.TempDir()
	barrier := filepath.Join(dir, "barrier")
	require.NoError(t, os.Mkdir(barrier, 0o755))
	migrations := filepath.Join(dir, "migrations")
	cmd := exec.Command(testbench.GoTool(t), "test", "-count=1", "-p=4", "-v",
		"./testdata/share/a", "./testdata/share/b", "./testdata/share/c", "./testdata/share/d")
	cmd.Env = childEnv(append(env, "DOCKHANDTEST_MIGRATIONS="+migrations, "DOCKHANDTEST_BARRIER="+barrier)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	servers := testbench.ServersIn(string(out))
	require.Len(t, servers, 4, "%s", out)
	for _, s := range servers[1:] {
		assert.Equal(t, servers[0].ID, s.ID, "package %s got another container", s.Pkg)
	}
	ran, err := os.ReadFile(migrations)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(ran), "\n"), "migrations ran once for 4 packages: %s", ran)
	return servers[0]
}

var childBin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// childBinary builds the test binary of testdata/share/a once.
func childBinary(t *testing.T) string {
	t.Helper()
	go1 := testbench.GoTool(t)
	childBin.once.Do(func() {
		childBin.dir, childBin.err = os.MkdirTemp("", "dockhandtest-child")
		if childBin.err != nil {
			return
		}
		childBin.path = filepath.Join(childBin.dir, "a.test")
		childBin.out, childBin.err = exec.Command(go1, "test", "-c", "-o", childBin.path, "./testdata/share/a").CombinedOutput()
	})
	require.NoError(t, childBin.err, "%s", childBin.out)
	return childBin.path
}

func removeChildBinary() {
	if childBin.dir != "" {
		_ = os.RemoveAll(childBin.dir)
	}
}

// runChild runs the child test binary to its end.
func runChild(t *testing.T, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(childBinary(t), "-test.v", "-test.count=1")
	cmd.Env = childEnv(env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type blockedChild struct {
	cmd    *exec.Cmd
	server testbench.ChildServer
	out    *bytes.Buffer
}

// startBlocked starts the child test binary and returns once it holds
// the server and blocks.
func startBlocked(t *testing.T, env ...string) *blockedChild {
	t.Helper()
	return startBlockedBinary(t, childBinary(t), childEnv(env...))
}

// startBlockedBinary starts the test binary bin with the environment env
// and returns once it holds its server and blocks.
func startBlockedBinary(t *testing.T, bin string, env []string) *blockedChild {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(bin, "-test.v", "-test.count=1")
	cmd.Env = append(env, "DOCKHANDTEST_BLOCK="+ready)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	ch := &blockedChild{cmd: cmd, out: &bytes.Buffer{}}
	cmd.Stderr = ch.out
	require.NoError(t, cmd.Start())
	t.Cleanup(ch.kill)
	found := make(chan testbench.ChildServer, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s := testbench.ServersIn(sc.Text()); len(s) == 1 {
				found <- s[0]
			}
		}
	}()
	select {
	case ch.server = <-found:
	case <-time.After(3 * time.Minute):
		t.Fatalf("child did not get a server: %s", ch.out)
	}
	for {
		if _, err := os.Stat(ready); err == nil {
			return ch
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill kills the child with SIGKILL: it never releases its hold.
func (ch *blockedChild) kill() {
	if ch.cmd.ProcessState == nil {
		_ = ch.cmd.Process.Signal(syscall.SIGKILL)
		_ = ch.cmd.Wait()
	}
}

func containerExists(t *testing.T, c *lifecycle.Client, id string) bool {
	t.Helper()
	_, err := c.API().ContainerInspect(context.Background(), id)
	return err == nil
}

// A holder killed with SIGKILL, its watchdog gone too (none here), never
// releases: the container stays while another holder lives, and the next
// run, finding it held by no live process, replaces it; at the end
// nothing is left.
func TestSharedKilledHolder(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	releaseOurs(t)
	dir := t.TempDir()
	// No watchdog: the killed processes leave the server behind, as when
	// the watchdog dies too (watchdog_test.go tests the watchdog).
	env := []string{"DOCKHANDTEST_VERSION=" + testbench.RandomName("kill"), "DOCKHANDTEST_MIGRATIONS=" + filepath.Join(dir, "migrations"),
		"DOCKHANDTEST_NO_WATCHDOG=1"}

	first := startBlocked(t, env...)
	second := startBlocked(t, env...)
	require.Equal(t, first.server.ID, second.server.ID, "one container for both")
	first.kill()
	assert.True(t, containerExists(t, c, first.server.ID))
	second.kill()
	assert.True(t, containerExists(t, c, first.server.ID), "nobody released it")

	// The next run finds it held by no live process: a leftover.
	out, err := runChild(t, env...)
	require.NoError(t, err, "%s", out)
	next := testbench.ServersIn(out)
	require.Len(t, next, 1, "%s", out)
	assert.Equal(t, first.server.Key, next[0].Key, "same configuration")
	assert.NotEqual(t, first.server.ID, next[0].ID, "a fresh container, not the killed run's")
	assert.False(t, containerExists(t, c, first.server.ID), "the leftover is removed")
	testbench.NothingLeft(t, c, first.server.Key)
}

// The database of a failed test is kept, with its DSN in the test log,
// while the server lives (here: this process holds it too).
func TestFailedTestKeepsDatabase(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	srv := dockhandtest.Start(t, dockhandtest.ServerSpec(t, c, dockhandtest.PostgresSpec(testbench.Postgres, true, false)))
	version := testbench.RandomName("fail")
	out, err := runChild(t, "DOCKHANDTEST_VERSION="+version, "DOCKHANDTEST_MIGRATIONS="+filepath.Join(t.TempDir(), "m"),
		"DOCKHANDTEST_FAIL=1")
	require.Error(t, err, "the child test fails on purpose: %s", out)
	assert.Contains(t, out, "failing on purpose")
	assert.Regexp(t, `last \d+ log lines of dockhandtest-postgres-\w+:\n`, out, "the server's log tail in the failed test's log")
	m := regexp.MustCompile(`kept the database of the failed test: (postgres://\S+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, "DSN in the log: %s", out)
	s := testbench.ServersIn(out)
	require.Len(t, s, 1)
	assert.Equal(t, srv.Key(), s[0].Key)

	ctx := testbench.CtxFor(t, time.Minute)
	conn := connect(t, ctx, m[1])
	var note string
	require.NoError(t, conn.QueryRow(ctx, "SELECT note FROM "+pgx.Identifier{"v_" + version}.Sanitize()).Scan(&note))
	assert.Equal(t, "a", note, "the failed test's row is there")
	db := conn.Config().Database
	conn.Close(ctx)
	admin := connect(t, ctx, strings.Replace(m[1], "/"+db+"?", "/postgres?", 1))
	_, err = admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	require.NoError(t, err)
}

// Migrations are identified by their version: the same version in a
// later run reuses the template, a new one makes a new template.
func TestMigrationsChangedBetweenRuns(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	srv := dockhandtest.Start(t, dockhandtest.ServerSpec(t, c, dockhandtest.PostgresSpec(testbench.Postgres, true, false)))
	migrations := filepath.Join(t.TempDir(), "migrations")
	ctx := testbench.CtxFor(t, 5*time.Minute)
	addr, err := srv.HostPort(ctx, "5432")
	require.NoError(t, err)
	admin := connect(t, ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
	const templates = "SELECT count(*) FROM pg_database WHERE datistemplate AND datname LIKE 'dockhandtest_tpl_%'"
	before := count(t, ctx, admin, templates)
	v1, v2 := testbench.RandomName("one"), testbench.RandomName("two")
	for _, v := range []string{v1, v1, v2} {
		// The child writes into table v_<version>: it fails unless its
		// database came from that version's template.
		out, err := runChild(t, "DOCKHANDTEST_VERSION="+v, "DOCKHANDTEST_MIGRATIONS="+migrations)
		require.NoError(t, err, "%s", out)
		s := testbench.ServersIn(out)
		require.Len(t, s, 1, "%s", out)
		assert.Equal(t, srv.Key(), s[0].Key, "the server this process holds")
	}
	ran, err := os.ReadFile(migrations)
	require.NoError(t, err)
	assert.Equal(t, "a "+v1+"\na "+v2+"\n", string(ran), "v1 once across two runs, then v2")
	assert.Equal(t, before+2, count(t, ctx, admin, templates), "one template per version")
}

// WithKeepAlive: the server outlives the run, and the next run finds it
// up, with its template; nothing else removes it (Main, Sweep), only its
// persistent session's Cleanup.
func TestKeepAliveBetweenRuns(t *testing.T) {
	c := dockhandtest.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	migrations := filepath.Join(t.TempDir(), "migrations")
	// A tag of this run's own: the server is this test's alone, so it may
	// remove it (and only it, by the ids it saw).
	env := []string{"DOCKHANDTEST_KEEPALIVE=" + testbench.RandomName("tag"), "DOCKHANDTEST_VERSION=" + testbench.RandomName("keep"), "DOCKHANDTEST_MIGRATIONS=" + migrations}
	var ids []string
	var key string
	t.Cleanup(func() { removeKeepAlive(t, c, key, ids...) })
	for range 2 {
		out, err := runChild(t, env...)
		require.NoError(t, err, "%s", out)
		s := testbench.ServersIn(out)
		require.Len(t, s, 1, "%s", out)
		ids = append(ids, s[0].ID)
		key = s[0].Key
		assert.True(t, containerExists(t, c, s[0].ID), "kept after the run")
	}
	assert.Equal(t, ids[0], ids[1], "the second run found the first run's server")
	ran, err := os.ReadFile(migrations)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(ran), "\n"), "its template too: %s", ran)
	assert.NotEqual(t, plainKeepAliveKey(t, c), key, "the tag makes the server this test's own")
	removeKeepAlive(t, c, key, ids...)
	assert.False(t, containerExists(t, c, ids[0]))
}

// plainKeepAliveKey is the key of the children's KeepAlive server
// without a tag: the one every developer's runs share.
func plainKeepAliveKey(t *testing.T, c *lifecycle.Client) string {
	t.Helper()
	saved := testhook.KeepAliveTag
	testhook.KeepAliveTag = ""
	defer func() { testhook.KeepAliveTag = saved }()
	spec := dockhandtest.ServerSpec(t, c, dockhandtest.PostgresSpec(testbench.Postgres, true, true))
	return dockhandtest.KeyOf(t, c, spec)
}

// removeKeepAlive removes the KeepAlive containers this test saw, by id,
// and only while they carry its own key (a tagged one, see testhook):
// never another run's or developer's server.
func removeKeepAlive(t testing.TB, c *lifecycle.Client, key string, ids ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range slices.Compact(slices.Clone(ids)) {
		ins, err := c.API().ContainerInspect(ctx, id)
		if err != nil || ins.Config == nil || key == "" || ins.Config.Labels[lifecycle.LabelShared] != key {
			continue
		}
		if err := c.API().ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			t.Errorf("remove keep-alive server %s: %v", id, err)
		}
	}
}
