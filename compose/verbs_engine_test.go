package compose

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

func TestLogsTimestampsSince(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := upOneShot(t, ctx, c, t.TempDir(), "since", `services:
  two:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo first; sleep 2; echo second"]
`, 0)
	var out bytes.Buffer
	require.NoError(t, s.Logs(ctx, &out, WithTimestamps()))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2, "%q", out.String())
	var stamps []time.Time
	for i, want := range []string{"first", "second"} {
		rest, ok := strings.CutPrefix(lines[i], "two-1  | ")
		require.True(t, ok, "%q", lines[i])
		ts, text, ok := strings.Cut(rest, " ")
		require.True(t, ok, "%q", lines[i])
		assert.Equal(t, want, text)
		when, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err, "an RFC 3339 timestamp: %q", lines[i])
		stamps = append(stamps, when)
	}
	require.True(t, stamps[1].After(stamps[0]))

	out.Reset()
	require.NoError(t, s.Logs(ctx, &out, WithSince(stamps[1])))
	assert.Equal(t, "two-1  | second\n", out.String(), "--since the second line's time")

	// Each CLI release is the reference for the same flags.
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		cli, err := rel.command(ctx, nil, "-p", s.Name(), "logs", "--no-color", "--no-log-prefix",
			"--since", stamps[1].Format(time.RFC3339Nano)).Output()
		require.NoError(t, err)
		assert.Equal(t, "second\n", string(cli))
	})

	require.ErrorIs(t, s.Logs(ctx, &out, WithSince(time.Time{})), lifecycle.ErrInvalid)
}

func TestExecIndex(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "execindex"), "one")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithServices("web"), WithNoDeps(), WithScale("web", 2), WithGracePeriod(time.Second)))
	ps, err := s.Ps(ctx)
	require.NoError(t, err)
	ids := map[int]string{}
	for _, sc := range ps {
		ids[sc.Number] = sc.ID
	}
	for _, n := range []int{1, 2} {
		res, err := s.ExecIndex(ctx, "web", n, []string{"hostname"})
		require.NoError(t, err)
		assert.Equal(t, ids[n][:12]+"\n", string(res.Stdout), "exec --index %d runs in web-%d", n, n)
	}
	_, err = s.ExecIndex(ctx, "web", 3, []string{"true"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "number 3")
	_, err = s.ExecIndex(ctx, "web", 0, []string{"true"})
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
}

func TestKillPauseUnpause(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "kill"), "one")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))

	require.NoError(t, s.Pause(ctx, WithServices("web")))
	st := states(t, s)
	assert.Equal(t, "paused", st["web"].State)
	assert.Equal(t, "running", st["db"].State, "only the named service")
	require.NoError(t, s.Pause(ctx), "pausing what is paused is no error")
	assert.Equal(t, "paused", states(t, s)["db"].State)
	require.NoError(t, s.Unpause(ctx))
	st = states(t, s)
	assert.Equal(t, "running", st["web"].State)
	assert.Equal(t, "running", st["db"].State)

	// web runs sleep under init: SIGHUP ends it with 129 (128+1).
	require.NoError(t, s.Kill(ctx, WithServices("web"), WithSignal("SIGHUP")))
	web, db := mustHandle(t, c, st["web"].ID), mustHandle(t, c, st["db"].ID)
	code, err := web.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 129, code, "the signal was SIGHUP")
	dbState, err := db.State(ctx)
	require.NoError(t, err)
	assert.True(t, dbState.Running, "only the named service")
	require.NoError(t, s.Kill(ctx))
	code, err = db.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 137, code, "default SIGKILL")

	require.ErrorIs(t, s.Kill(ctx, WithSignal("")), lifecycle.ErrInvalid)
	require.Error(t, s.Kill(ctx, WithServices("nope")))
}

func mustHandle(t *testing.T, c *lifecycle.Client, id string) *lifecycle.Container {
	t.Helper()
	h, err := c.Container(context.Background(), id)
	require.NoError(t, err)
	return h
}

func TestBuild(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "build")
	s := loadFlags(t, c, name, "one", "built")
	downAtEnd(t, s)
	require.ErrorIs(t, s.Build(ctx, WithServices("web")), lifecycle.ErrInvalid, "web has no build: section")
	_, err := c.InspectImage(ctx, name+"-built")
	require.ErrorIs(t, err, lifecycle.ErrNotFound)

	var prog bytes.Buffer
	require.NoError(t, s.Build(ctx, WithProgress(&prog)))
	img, err := c.InspectImage(ctx, name+"-built")
	require.NoError(t, err, "built: %s", prog.String())
	assert.Equal(t, name, img.Labels[LabelProject])
	assert.Contains(t, prog.String(), name+"-built")
	// Up uses it: with no build and no pull allowed it starts.
	require.NoError(t, s.Up(ctx, WithServices("built"), WithNoBuild(), WithPull(lifecycle.PullNever), WithGracePeriod(time.Second)))
	res, err := s.Exec(ctx, "built", []string{"cat", "/hello.txt"})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Stdout, "the build's COPY is in the image")
}

func TestTop(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "top"), "one")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithScale("web", 2), WithGracePeriod(time.Second)))
	all, err := s.Top(ctx)
	require.NoError(t, err)
	var got []string
	for _, sp := range all {
		got = append(got, sp.Name)
		cmd := -1
		for i, title := range sp.Titles {
			if title == "CMD" {
				cmd = i
			}
		}
		require.GreaterOrEqual(t, cmd, 0, "%v", sp.Titles)
		var cmds []string
		for _, p := range sp.Processes {
			cmds = append(cmds, p[cmd])
		}
		assert.Contains(t, cmds, "sleep 86400", sp.Name)
	}
	n := s.Name()
	assert.Equal(t, []string{n + "-db-1", n + "-web-1", n + "-web-2"}, got)

	web, err := s.Top(ctx, WithServices("web"))
	require.NoError(t, err)
	assert.Len(t, web, 2)
	// Each CLI release is the reference: the same processes (service,
	// number, PID, CMD).
	var ours []string
	for _, sp := range all {
		pid, cmd := -1, -1
		for i, title := range sp.Titles {
			switch title {
			case "PID":
				pid = i
			case "CMD":
				cmd = i
			}
		}
		for _, p := range sp.Processes {
			ours = append(ours, strings.Join([]string{sp.Service, strconv.Itoa(sp.Number), p[pid], p[cmd]}, " "))
		}
	}
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		out, err := rel.command(ctx, nil, "-p", n, "top").Output()
		require.NoError(t, err)
		var cli []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
			f := strings.Fields(line)
			require.GreaterOrEqual(t, len(f), 10, "%q", line)
			cli = append(cli, strings.Join([]string{f[0], f[1], f[3], strings.Join(f[9:], " ")}, " "))
		}
		assert.ElementsMatch(t, cli, ours)
	})
}

func TestWaitVerb(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const file = "testdata/verbs/abort-simple.yaml"
	s := loadAbortFile(t, c, file, "waitverb", "5")
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	code, err := s.Wait(ctx, WithServices("tests"))
	require.NoError(t, err)
	assert.Equal(t, 5, code, "the exit code of tests")
	_, err = s.Wait(ctx, WithServices("tests"))
	require.Error(t, err, "nothing left running to wait for")

	// Each CLI release is the reference.
	env := []string{"BUSYBOX_IMAGE=" + testbench.BusyboxImage(t, c), "TESTS_EXIT=5"}
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		out, err := rel.command(ctx, env, "-f", file, "-p", s.Name(), "up", "-d", "--force-recreate", "tests").CombinedOutput()
		require.NoError(t, err, "%s", out)
		err = rel.command(ctx, nil, "-p", s.Name(), "wait", "tests").Run()
		var xe *exec.ExitError
		require.True(t, errors.As(err, &xe), "%v", err)
		assert.Equal(t, 5, xe.ExitCode())
	})
}
