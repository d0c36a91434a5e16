package compose

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
)

func TestLsLikeTheCLI(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	running := loadFlags(t, c, projectName(c, "ls-run"), "one")
	downAtEnd(t, running)
	require.NoError(t, running.Up(ctx, WithScale("web", 2), WithGracePeriod(time.Second)))
	stopped := loadFlags(t, c, projectName(c, "ls-stop"), "one")
	downAtEnd(t, stopped)
	require.NoError(t, stopped.Up(ctx, WithGracePeriod(time.Second)))
	require.NoError(t, stopped.Stop(ctx, WithServices("web"), WithGracePeriod(time.Second)))
	require.NoError(t, stopped.Kill(ctx))
	mine := func(all []StackSummary) map[string]StackSummary {
		m := map[string]StackSummary{}
		for _, s := range all {
			if s.Name == running.Name() || s.Name == stopped.Name() {
				m[s.Name] = s
			}
		}
		return m
	}
	// db is killed: both of stopped's containers have exited.
	got, err := Ls(ctx, c)
	require.NoError(t, err)
	m := mine(got)
	assert.Equal(t, "running(3)", m[running.Name()].Status)
	assert.NotContains(t, m, stopped.Name(), "without WithAll a stack with nothing running is not listed")
	assert.Contains(t, m[running.Name()].ConfigFiles, "flags.yaml")

	got, err = Ls(ctx, c, WithAll())
	require.NoError(t, err)
	m = mine(got)
	assert.Equal(t, "exited(2)", m[stopped.Name()].Status)

	// Each CLI release is the reference.
	forEachComposeRelease(t, func(t *testing.T, rel composeRelease) {
		for _, args := range [][]string{{"ls", "--format", "json"}, {"ls", "-a", "--format", "json"}} {
			out, err := rel.command(ctx, nil, args...).Output()
			require.NoError(t, err)
			var cli []StackSummary
			require.NoError(t, json.Unmarshal(out, &cli))
			ours, err := Ls(ctx, c, WithAll())
			require.NoError(t, err)
			if len(args) == 3 {
				ours, err = Ls(ctx, c)
				require.NoError(t, err)
			}
			assert.Equal(t, mine(cli), mine(ours), "docker compose v%s %v", rel.version, args)
		}
	})
	_, err = Ls(ctx, nil)
	require.Error(t, err)
}
