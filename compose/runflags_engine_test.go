package compose

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

func TestRunEntrypointUserWorkdirVolumes(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "runflags"), "one")
	downAtEnd(t, s)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hi\n"), 0o644))
	require.NoError(t, os.Chmod(dir, 0o755))
	script := "id -u; pwd; cat /data/hello.txt; touch /data/x 2>/dev/null || echo read-only"
	var out bytes.Buffer
	code, err := s.Run(ctx, "web", []string{"-c", script}, WithNoDeps(), WithEntrypoint("sh"), WithUser("1234"),
		WithWorkdir("/tmp"), WithVolumes(dir+":/data:ro"), WithStdout(&out))
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "1234\n/tmp\nhi\nread-only\n", out.String())

	// Each CLI release is the reference for the same flags.
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		got, err := rel.command(ctx, []string{"BUSYBOX_IMAGE=" + testbench.BusyboxImage(t, c)}, "-f", "testdata/verbs/flags.yaml", "-p", s.Name(),
			"run", "--rm", "--no-deps", "--entrypoint", "sh", "-u", "1234", "-w", "/tmp", "-v", dir+":/data:ro", "web", "-c", script).Output()
		require.NoError(t, err)
		assert.Equal(t, out.String(), string(got))
	})

	// Bad input fails before anything is created.
	for _, o := range []RunOption{WithWorkdir("tmp"), WithEntrypoint(""), WithUser(""), WithVolumes("undeclared:/data"), WithVolumes("a:b:c:d")} {
		_, err := s.Run(ctx, "web", nil, o)
		require.ErrorIs(t, err, lifecycle.ErrInvalid)
	}
	ps, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", LabelProject+"="+s.Name()))
	require.NoError(t, err)
	assert.Empty(t, ps, "no container left, none created by bad input, db not started")
}

func TestRunServicePorts(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "runports"), "one", "ported")
	downAtEnd(t, s)
	ports := func(opts ...RunOption) []string {
		done := make(chan error, 1)
		go func() {
			_, err := s.Run(ctx, "ported", nil, opts...)
			done <- err
		}()
		var seen []string
		for {
			cts, err := c.Containers(ctx, lifecycle.WithFilter("label", LabelProject+"="+s.Name()), lifecycle.WithFilter("label", LabelOneoff+"=True"))
			require.NoError(t, err)
			if len(cts) == 1 && seen == nil {
				seen = append([]string{}, cts[0].Ports...)
			}
			select {
			case err := <-done:
				require.NoError(t, err)
				require.NotNil(t, seen, "the one-off container was seen running")
				return seen
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	with := ports(WithServicePorts())
	require.Len(t, with, 1)
	assert.Contains(t, with[0], "->7/tcp", "--service-ports publishes port 7")
	assert.Empty(t, ports(), "without it nothing is published")
}
