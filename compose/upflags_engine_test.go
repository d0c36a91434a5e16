package compose

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

func loadFlags(t *testing.T, c *lifecycle.Client, name, mark string, profiles ...string) *Stack {
	t.Helper()
	vars := append(stackEnv(t, c, false), "MARK="+mark)
	p, err := Load(context.Background(), WithFiles("testdata/verbs/flags.yaml"), WithProjectName(name), WithVariables(vars...), WithProfiles(profiles...))
	require.NoError(t, err)
	return New(c, p)
}

// running lists "service-number" of the stack's running containers, and
// their ids by that key.
func running(t *testing.T, s *Stack) ([]string, map[string]string) {
	t.Helper()
	ps, err := s.Ps(context.Background())
	require.NoError(t, err)
	var keys []string
	ids := map[string]string{}
	for _, sc := range ps {
		k := sc.Service + "-" + string(rune('0'+sc.Number))
		keys = append(keys, k)
		ids[k] = sc.ID
	}
	sort.Strings(keys)
	return keys, ids
}

func TestUpNoDepsAndScale(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "nodeps"), "one")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithServices("web"), WithNoDeps(), WithGracePeriod(time.Second)))
	got, _ := running(t, s)
	assert.Equal(t, []string{"web-1"}, got, "--no-deps: db is not started")

	require.NoError(t, s.Up(ctx, WithScale("web", 3), WithGracePeriod(time.Second)))
	got, ids := running(t, s)
	assert.Equal(t, []string{"db-1", "web-1", "web-2", "web-3"}, got)
	web1 := ids["web-1"]

	require.NoError(t, s.Up(ctx, WithScale("web", 1), WithGracePeriod(time.Second)))
	got, ids = running(t, s)
	assert.Equal(t, []string{"db-1", "web-1"}, got, "scaling down removes the highest numbers")
	assert.Equal(t, web1, ids["web-1"], "scaling recreates nothing")
	ps, err := s.Ps(ctx, WithAll())
	require.NoError(t, err)
	assert.Len(t, ps, 2, "web-2 and web-3 are removed, not stopped")
}

func TestUpNoRecreate(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "norecreate")
	s := loadFlags(t, c, name, "one")
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	_, before := running(t, s)

	changed := loadFlags(t, c, name, "two") // web's environment changed
	require.NoError(t, changed.Up(ctx, WithNoRecreate(), WithGracePeriod(time.Second)))
	_, after := running(t, changed)
	assert.Equal(t, before, after, "--no-recreate keeps the changed container")

	require.NoError(t, changed.Up(ctx, WithGracePeriod(time.Second)))
	_, again := running(t, changed)
	assert.Equal(t, before["db-1"], again["db-1"])
	assert.NotEqual(t, before["web-1"], again["web-1"], "without it the changed service is recreated")

	err := changed.Up(ctx, WithNoRecreate(), WithForceRecreate())
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
}

func TestUpPullAndBadFlags(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := loadFlags(t, c, projectName(c, "pull"), "one", "absent")
	downAtEnd(t, s)
	// PullNever: a missing image fails before anything is created.
	err := s.Up(ctx, WithPull(lifecycle.PullNever))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dockhand.test/absent:1")
	assert.Contains(t, err.Error(), "never")
	assert.Empty(t, states(t, s))

	for _, o := range []UpOption{WithPull(lifecycle.PullPolicy(7)), WithScale("nope", 2), WithScale("web", -1), WithScale("", 1)} {
		err := s.Up(ctx, o)
		require.ErrorIs(t, err, lifecycle.ErrInvalid)
	}
	assert.Empty(t, states(t, s), "bad input creates nothing")
	err = s.Up(ctx, WithPull(lifecycle.PullPolicy(7)))
	assert.Contains(t, err.Error(), "WithPull(7)")
}

func TestUpNoBuild(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := projectName(c, "nobuild")
	s := loadFlags(t, c, name, "one", "built")
	downAtEnd(t, s)
	image := name + "-built"
	// Never built, never pulled: a missing image fails.
	err := s.Up(ctx, WithServices("built"), WithNoBuild(), WithPull(lifecycle.PullNever))
	require.Error(t, err)
	assert.Contains(t, err.Error(), image)
	_, err = c.InspectImage(ctx, image)
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "WithNoBuild built nothing")

	require.NoError(t, s.Up(ctx, WithServices("built"), WithGracePeriod(time.Second)))
	img, err := c.InspectImage(ctx, image)
	require.NoError(t, err, "without it the missing image is built")
	// Present: WithNoBuild uses it; WithBuild with it is an error.
	require.NoError(t, s.Up(ctx, WithServices("built"), WithNoBuild(), WithGracePeriod(time.Second)))
	again, err := c.InspectImage(ctx, image)
	require.NoError(t, err)
	assert.Equal(t, img.ID, again.ID)
	got, _ := running(t, s)
	assert.Equal(t, []string{"built-1"}, got)
	require.ErrorIs(t, s.Up(ctx, WithBuild(), WithNoBuild()), lifecycle.ErrInvalid)
}

// TestUpFlagsLikeTheCLI runs the flags of TestUpNoDepsAndScale and
// TestUpNoRecreate through each CLI release on a project of its own and
// checks that the CLI leaves what Up leaves there.
func TestUpFlagsLikeTheCLI(t *testing.T) {
	c := testbench.Client(t)
	bb := testbench.BusyboxImage(t, c)
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		name := projectName(c, "upflagscli"+strings.SplitN(rel.version, ".", 2)[0])
		s := loadFlags(t, c, name, "one")
		downAtEnd(t, s)
		up := func(mark string, args ...string) {
			t.Helper()
			env := []string{"BUSYBOX_IMAGE=" + bb, "MARK=" + mark}
			out, err := rel.command(ctx, env, append([]string{"-f", "testdata/verbs/flags.yaml", "-p", name, "up", "-d", "-t", "1"}, args...)...).CombinedOutput()
			require.NoError(t, err, "%s", out)
		}
		up("one", "--no-deps", "web")
		got, _ := running(t, s)
		assert.Equal(t, []string{"web-1"}, got, "--no-deps: db is not started")

		up("one", "--scale", "web=3")
		got, ids := running(t, s)
		assert.Equal(t, []string{"db-1", "web-1", "web-2", "web-3"}, got)
		web1 := ids["web-1"]
		up("one", "--scale", "web=1")
		got, ids = running(t, s)
		assert.Equal(t, []string{"db-1", "web-1"}, got, "scaling down removes the highest numbers")
		assert.Equal(t, web1, ids["web-1"], "scaling recreates nothing")
		ps, err := s.Ps(ctx, WithAll())
		require.NoError(t, err)
		assert.Len(t, ps, 2, "web-2 and web-3 are removed, not stopped")

		up("two", "--no-recreate") // web's environment changed
		_, after := running(t, s)
		assert.Equal(t, ids, after, "--no-recreate keeps the changed container")
		up("two")
		_, again := running(t, s)
		assert.Equal(t, ids["db-1"], again["db-1"])
		assert.NotEqual(t, ids["web-1"], again["web-1"], "without it the changed service is recreated")
	})
}
