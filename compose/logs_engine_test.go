package compose

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// A container that prints a 50 MiB progress bar redrawn with \r and never
// ends the line: Logs writes it as one line of at most maxLogLine bytes
// (the old prefixer held the whole line, and rescanned it on every write),
// saying how much it dropped, and the lines after it in full. The failing
// service's last log lines, read by lifecycle's one capped reader, are
// quoted cut to 300 bytes.
func TestLogsCapGiantLine(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const barBytes = 50 << 20
	dir := t.TempDir()
	yaml := fmt.Sprintf(`services:
  bar:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "yes 'progress 42%%' | tr '\\n' '\\r' | head -c %d; echo; echo done; exit 3"]
`, barBytes)
	s, ct := upOneShot(t, ctx, c, dir, "bar", yaml, 3)

	var out bytes.Buffer
	require.NoError(t, s.Logs(ctx, &out))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2, "the progress bar and done")
	// The engine keeps what its log rotation (json-file max-size) left of
	// the line, more than maxLogLine bytes in any case.
	m := regexp.MustCompile(`^bar-1  \| ([^\n]*) \[\.\.\. (\d+) more bytes of this line dropped\]$`).FindStringSubmatch(lines[0])
	require.NotNil(t, m, "the giant line is cut and says so: %.200q", lines[0])
	assert.Len(t, m[1], maxLogLine, "the giant line is cut at maxLogLine")
	assert.Contains(t, m[1], "progress 42%\rprogress 42%\r")
	dropped, err := strconv.Atoi(m[2])
	require.NoError(t, err)
	assert.Positive(t, dropped)
	assert.LessOrEqual(t, dropped+maxLogLine, barBytes)
	assert.Equal(t, "bar-1  | done", lines[1])

	got := s.lastLogs(ctx, ct, 10)
	quoted := strings.Split(got, "\n")
	require.Len(t, quoted, 2)
	assert.Len(t, quoted[0], len("  | ")+300+len("..."), "the giant line quoted on its first 300 bytes")
	assert.Equal(t, "  | done", quoted[1])
}

// Stack.Logs writes standard error to w too, as Container.Logs does,
// unless WithStderr sends it elsewhere, prefixed the same way.
func TestLogsStderr(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	yaml := `services:
  two:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo to-out; echo to-err >&2"]
`
	s, _ := upOneShot(t, ctx, c, dir, "stderr", yaml, 0)

	var all bytes.Buffer
	require.NoError(t, s.Logs(ctx, &all))
	assert.Contains(t, all.String(), "two-1  | to-out\n")
	assert.Contains(t, all.String(), "two-1  | to-err\n")

	var out, errs bytes.Buffer
	require.NoError(t, s.Logs(ctx, &out, WithStderr(&errs)))
	assert.Equal(t, "two-1  | to-out\n", out.String())
	assert.Equal(t, "two-1  | to-err\n", errs.String())

	// Each CLI release is the reference: `logs` writes both streams to its
	// standard output, with the same prefix. (With several services both
	// releases pad a prefix to the longest name printed so far, so the
	// width depends on whose lines come first, run to run; Logs pads to
	// the longest name of all. So one service is compared.)
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		cmd := rel.command(ctx, nil, "-p", s.Name(), "logs", "--no-color")
		var cliErr bytes.Buffer
		cmd.Stderr = &cliErr
		cli, err := cmd.Output()
		require.NoError(t, err, "%s", cliErr.String())
		assert.ElementsMatch(t, strings.SplitAfter(strings.TrimSuffix(all.String(), "\n"), "\n"),
			strings.SplitAfter(strings.TrimSuffix(string(cli), "\n"), "\n"))
		assert.Empty(t, cliErr.String())
	})
}

// upOneShot brings up the one-service project yaml (written to dir), taken
// down when the test ends, and waits for its container to exit with code.
func upOneShot(t *testing.T, ctx context.Context, c *lifecycle.Client, dir, what, yaml string, code int) (*Stack, *lifecycle.Container) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yaml), 0o644))
	name := projectName(c, what)
	p, err := Load(ctx, WithFiles(filepath.Join(dir, "compose.yaml")), WithProjectName(name), WithVariables(stackEnv(t, c, false)...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx))
	cts, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", LabelProject+"="+name))
	require.NoError(t, err)
	require.Len(t, cts, 1)
	ct, err := c.Container(ctx, cts[0].ID)
	require.NoError(t, err)
	require.NoError(t, waitfor.Wait(ctx, ct.Exited(code)))
	return s, ct
}
