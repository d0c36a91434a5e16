package lifecycle_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// TestEngineErrorsClassifyAndSayEachThingOnce makes real failures happen
// on the engine and checks what a caller sees: the class errors.Is finds,
// and a message that names the operation and the value once (no "pull X:
// pull X:"), without the password.
func TestEngineErrorsClassifyAndSayEachThingOnce(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	open := testbench.StartRegistry(t, "", "")
	private := testbench.StartRegistry(t, "alice", "s3cret-pw")
	privateRef := pushBusybox(t, c, private, "private/busybox:1")
	noCreds := testbench.Client(t, lifecycle.WithConfigDir(t.TempDir()))

	// A local tag for the private registry, to push without credentials.
	// (A push with a wrong password is left out: the engine retries it
	// for about 50 s before it gives up with the same "unauthorized" a
	// pull with a wrong password gets.)
	pushRef := private.Host + "/private/pushed:1"
	require.NoError(t, c.Tag(ctx, img, pushRef))
	t.Cleanup(func() { assert.NoError(t, c.RemoveImage(ctx, pushRef)) })

	// A container holding a name and a published host port.
	name := "dockhand-errors-" + c.Session()
	holder, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "300"), lifecycle.WithName(name), lifecycle.WithPorts("127.0.0.1::80"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, holder.Remove(ctx, lifecycle.WithForce())) })
	held, err := holder.HostPort(ctx, "80/tcp") // "127.0.0.1:PORT"
	require.NoError(t, err)
	// A host port another process listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port

	// A container that was removed: a handle on nothing.
	goneName := "dockhand-gone-" + c.Session()
	gone, err := c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithName(goneName))
	require.NoError(t, err)
	require.NoError(t, gone.Remove(ctx, lifecycle.WithForce()))
	absent := "dockhand-absent-" + c.Session()

	missingRef := open.Host + "/nope/missing:1"
	absentLocal := open.Host + "/nope/absent-local:1"
	for _, tc := range []struct {
		name  string
		call  func() error
		class error
		op    string // the operation and its value, as the message must say them once
		value string // the value, said once
	}{
		{"pull missing from registry", func() error { return c.Pull(ctx, missingRef) },
			lifecycle.ErrNotFound, "pull " + missingRef, missingRef},
		{"run pulls missing image", func() error { _, err := c.Run(ctx, missingRef); return err },
			lifecycle.ErrNotFound, "pull " + missingRef, missingRef},
		{"pull private without credentials", func() error { return noCreds.Pull(ctx, privateRef) },
			lifecycle.ErrUnauthorized, "pull " + privateRef, privateRef},
		{"pull private with a wrong password", func() error {
			return c.Pull(ctx, privateRef, lifecycle.WithAuth("alice", "wrong-pw"))
		}, lifecycle.ErrUnauthorized, "pull " + privateRef, privateRef},
		{"push private without credentials", func() error { return noCreds.Push(ctx, pushRef) },
			lifecycle.ErrUnauthorized, "push " + pushRef, pushRef},
		{"push image not present", func() error { return c.Push(ctx, absentLocal) },
			lifecycle.ErrNotFound, "push " + absentLocal, absentLocal},
		{"run image not present, pull never", func() error {
			_, err := c.Run(ctx, "dockhand.test/absent:never", lifecycle.WithPull(lifecycle.PullNever))
			return err
		}, lifecycle.ErrNotFound, "run dockhand.test/absent:never", "dockhand.test/absent:never"},
		{"missing container", func() error { _, err := c.Container(ctx, absent); return err },
			lifecycle.ErrNotFound, "container " + absent, absent},
		{"missing image", func() error { _, err := c.InspectImage(ctx, "dockhand.test/absent:never"); return err },
			lifecycle.ErrNotFound, "inspect image dockhand.test/absent:never", "dockhand.test/absent:never"},
		{"stop removed container", func() error { return gone.Stop(ctx) },
			lifecycle.ErrNotFound, "stop container " + goneName, goneName},
		{"remove removed container", func() error { return gone.Remove(ctx) },
			lifecycle.ErrNotFound, "remove container " + goneName, goneName},
		{"remove missing image", func() error { return c.RemoveImage(ctx, "dockhand.test/absent:never") },
			lifecycle.ErrNotFound, "remove image dockhand.test/absent:never", "dockhand.test/absent:never"},
		{"remove missing volume", func() error { return c.RemoveVolume(ctx, absent) },
			lifecycle.ErrNotFound, "remove volume " + absent, absent},
		{"remove missing network", func() error { return c.RemoveNetwork(ctx, absent) },
			lifecycle.ErrNotFound, "remove network " + absent, absent},
		{"name in use", func() error {
			_, err := c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithName(name))
			return err
		},
			lifecycle.ErrConflict, "run " + img, img},
		{"port allocated by a container", func() error {
			_, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithPorts(held+":80"))
			return err
		}, lifecycle.ErrConflict, "run " + img, img},
		{"port taken by another process", func() error {
			_, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "30"), lifecycle.WithPorts(fmt.Sprintf("127.0.0.1:%d:80", busy)))
			return err
		}, lifecycle.ErrConflict, "run " + img, img},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			msg := err.Error()
			t.Log(msg)
			assert.ErrorIs(t, err, tc.class, msg)
			assert.Equal(t, 1, strings.Count(msg, tc.op), "the operation once: %s", msg)
			assert.Equal(t, 1, strings.Count(msg, tc.value), "the value once: %s", msg)
			assert.True(t, strings.HasPrefix(msg, tc.op), "the message starts with the operation: %s", msg)
			assert.NotContains(t, msg, "wrong-pw")
		})
	}
}

// TestBuildErrorSaysItOnce: a failed build step names the build once,
// is no class of ours, and keeps the engine's stream error (its code is
// the step's exit status).
func TestBuildErrorSaysItOnce(t *testing.T) {
	c := testbench.Client(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+img+"\nRUN exit 3\n"), 0o644))
	_, err := c.Build(ctx, dir)
	require.Error(t, err)
	msg := err.Error()
	t.Log(msg)
	assert.Equal(t, 1, strings.Count(msg, "build "+dir), msg)
	assert.True(t, strings.HasPrefix(msg, "build "+dir+": "), msg)
	var je *jsonmessage.JSONError
	require.True(t, errors.As(err, &je), "the stream's error is reachable: %#v", err)
	assert.Equal(t, 3, je.Code, "the step's exit status")
	for _, class := range []error{lifecycle.ErrNotFound, lifecycle.ErrConflict, lifecycle.ErrUnauthorized, lifecycle.ErrInvalid} {
		assert.NotErrorIs(t, err, class)
	}
}
