package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testLabel = "dev.dockhand.test=waitfor"
	testImage = "dockhand.test/waitfor-it:test"
)

// docker runs the docker CLI (tests only: the library never shells out).
func docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(t, args...)
	require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
	return out
}

// requireDocker skips when no engine answers, except in CI.
func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err == nil {
		if out, err := docker(t, "version", "--format", "{{.Server.Version}}"); err == nil {
			return
		} else if os.Getenv("CI") == "true" {
			t.Fatalf("docker engine not available in CI: %v: %s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("docker CLI not found in CI")
	}
	t.Skip("docker engine not available")
}

// buildImage builds a scratch image with the static waitfor binary as its
// entrypoint and busybox.
func buildImage(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), data, 0o755))
	}
	copyFile(bin, "waitfor")
	copyFile("/usr/bin/busybox", "busybox")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(
		"FROM scratch\nCOPY busybox /bin/busybox\nCOPY waitfor /waitfor\nENTRYPOINT [\"/waitfor\"]\n"), 0o644))
	mustDocker(t, "build", "-q", "--label", testLabel, "-t", testImage, dir)
	t.Cleanup(func() { _, _ = docker(t, "rmi", "-f", testImage) })
}

func randomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestDockerEntrypoint(t *testing.T) {
	requireDocker(t)
	if _, err := os.Stat("/usr/bin/busybox"); err != nil {
		t.Skip("no /usr/bin/busybox to put into the image")
	}
	buildImage(t)

	network := randomName("waitfor-test-")
	mustDocker(t, "network", "create", "--label", testLabel, network)
	var containers []string
	t.Cleanup(func() {
		if len(containers) > 0 {
			_, _ = docker(t, append([]string{"rm", "-f"}, containers...)...)
		}
		_, _ = docker(t, "network", "rm", network)
	})
	run := func(name string, args ...string) {
		containers = append(containers, name)
		mustDocker(t, append([]string{"run", "-d", "--name", name, "--label", testLabel, "--network", network}, args...)...)
	}
	running := func(name string) bool {
		return mustDocker(t, "inspect", "-f", "{{.State.Running}}", name) == "true"
	}

	t.Run("waits for db then execs", func(t *testing.T) {
		app, db := randomName("waitfor-app-"), randomName("waitfor-db-")
		run(app, testImage, "-timeout", "60s", "tcp://db:5432", "--", "/bin/busybox", "echo", "started")
		time.Sleep(1500 * time.Millisecond)
		require.True(t, running(app), "app must still be waiting: db does not exist yet")
		assert.NotContains(t, mustDocker(t, "logs", app), "started")

		run(db, "--network-alias", "db", "--entrypoint", "/bin/busybox", testImage, "httpd", "-f", "-p", "5432", "-h", "/")
		dbStarted := time.Now()
		code := mustDocker(t, "wait", app)
		assert.Equal(t, "0", code)
		assert.Less(t, time.Since(dbStarted), 10*time.Second)
		logs := mustDocker(t, "logs", app)
		assert.Contains(t, logs, "started")
		assert.Contains(t, logs, "msg=ready target=tcp://db:5432")
		assert.Contains(t, logs, "msg=exec command=/bin/busybox")
	})

	t.Run("docker stop while waiting is fast", func(t *testing.T) {
		app := randomName("waitfor-stuck-")
		run(app, testImage, "-timeout", "0", "tcp://nothing-here:5432", "--", "/bin/busybox", "echo", "started")
		time.Sleep(500 * time.Millisecond)
		require.True(t, running(app))
		start := time.Now()
		mustDocker(t, "stop", "-t", "10", app)
		elapsed := time.Since(start)
		assert.Less(t, elapsed, 2*time.Second, "SIGTERM must end the wait (PID 1 gets no default handler)")
		assert.Equal(t, "143", mustDocker(t, "inspect", "-f", "{{.State.ExitCode}}", app))
		t.Logf("docker stop took %v", elapsed.Round(time.Millisecond))
	})
}
