package lifecycle_test

import (
	"testing"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/stretchr/testify/assert"
)

// TestOptionMisuseDoesNotCompile proves that an option given to a verb it
// does not serve is a compile error, not a run-time one, while every
// option that serves several verbs compiles with each of them.
func TestOptionMisuseDoesNotCompile(t *testing.T) {
	snip := testbench.NewSnippets(t, "github.com/dockhand/dockhand/lifecycle",
		"ctx context.Context, c *lifecycle.Client, ct *lifecycle.Container, w io.Writer")

	good := []string{
		`_ = c.Pull(ctx, "x", lifecycle.WithPlatform("linux/amd64"), lifecycle.WithAuth("u", "p"), lifecycle.WithProgress(w), lifecycle.WithProgressFunc(nil))`,
		`_ = c.Push(ctx, "x", lifecycle.WithAuth("u", "p"), lifecycle.WithProgress(w), lifecycle.WithProgressFunc(nil))`,
		`_, _ = c.Build(ctx, ".", lifecycle.WithPlatform("linux/amd64"), lifecycle.WithProgress(w), lifecycle.WithLabels(nil), lifecycle.WithTags("x"))`,
		`_, _ = c.Run(ctx, "x", lifecycle.WithEnv("A=1"), lifecycle.WithUser("u"), lifecycle.WithWorkdir("/"), lifecycle.WithTTY(),
			lifecycle.WithStdin(nil), lifecycle.WithStdout(w), lifecycle.WithStderr(w), lifecycle.WithLabels(nil),
			lifecycle.WithPlatform("linux/amd64"), lifecycle.WithProgress(w), lifecycle.WithAuth("u", "p"), lifecycle.WithCmd("x"))`,
		`_, _ = ct.Exec(ctx, nil, lifecycle.WithEnv("A=1"), lifecycle.WithUser("u"), lifecycle.WithWorkdir("/"), lifecycle.WithTTY(),
			lifecycle.WithStdin(nil), lifecycle.WithStdout(w), lifecycle.WithStderr(w), lifecycle.WithMaxSize(1))`,
		`_ = ct.Logs(ctx, w, lifecycle.WithStderr(w), lifecycle.WithFollow(), lifecycle.WithTail(1))`,
		`_ = ct.Remove(ctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes())`,
		`_ = c.RemoveImage(ctx, "x", lifecycle.WithForce())`,
		`_ = ct.Kill(ctx, lifecycle.WithSignal("HUP"))`,
		`_ = ct.Stop(ctx, lifecycle.WithSignal("HUP"), lifecycle.WithGracePeriod(time.Second))`,
		`_, _ = c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("status", "exited"))`,
		`_ = c.RemoveVolume(ctx, "x", lifecycle.WithForce())`,
		`_, _ = c.Volumes(ctx, lifecycle.WithFilter("label", "a"))`,
		`_, _ = c.Networks(ctx, lifecycle.WithFilter("label", "a"))`,
		`_, _ = c.CreateVolume(ctx, "v", lifecycle.WithLabels(nil), lifecycle.WithDriver("local"), lifecycle.WithDriverOpts(nil))`,
		`_, _ = c.CreateNetwork(ctx, "n", lifecycle.WithLabels(nil), lifecycle.WithDriver("bridge"), lifecycle.WithDriverOpts(nil), lifecycle.WithInternal())`,
		`_, _ = ct.ReadFile(ctx, "/x", lifecycle.WithMaxSize(1))`,
		`_ = ct.CopyFrom(ctx, "/x", "y", lifecycle.WithSpecialFiles())`,
		`var opts []lifecycle.RunOption; opts = append(opts, lifecycle.WithEnv("A=1"), lifecycle.WithCmd("x")); _, _ = c.Run(ctx, "x", opts...)`,
		`_, _ = c.Create(ctx, "x", lifecycle.WithCmd("x"), lifecycle.WithNetwork("n", "a"), lifecycle.WithPorts("80"), lifecycle.WithAllInterfaces())`,
		`_, _ = c.CreateNetwork(ctx, "n", lifecycle.WithNetworkConfig(nil))`,
		`_, _ = ct.Healthy(lifecycle.WithFailUnhealthy()), ct.Ready(lifecycle.WithFailUnhealthy(), lifecycle.WithExitZero())`,
	}
	for _, body := range good {
		assert.NoError(t, snip.Check(body), "must compile:\n%s", body)
	}

	// Each of these compiled, and failed at run time, when one Option
	// type served every verb.
	bad := map[string]string{
		`_ = c.Pull(ctx, "x", lifecycle.WithCmd("x"))`:                      "PullOption",
		`_, _ = c.Run(ctx, "x", lifecycle.WithFollow())`:                    "RunOption",
		`_, _ = ct.Exec(ctx, nil, lifecycle.WithPorts("80"))`:               "ExecOption",
		`_ = ct.Stop(ctx, lifecycle.WithForce())`:                           "StopOption",
		`_ = ct.Remove(ctx, lifecycle.WithFollow())`:                        "RemoveOption",
		`_, _ = c.Build(ctx, ".", lifecycle.WithAuth("u", "p"))`:            "BuildOption",
		`_ = c.Push(ctx, "x", lifecycle.WithPlatform("linux/amd64"))`:       "PushOption",
		`_, _ = c.Volumes(ctx, lifecycle.WithAll())`:                        "FilterOption",
		`_, _ = ct.ReadFile(ctx, "/x", lifecycle.WithFollow())`:             "ReadFileOption",
		`_ = ct.Logs(ctx, w, lifecycle.WithStdout(w))`:                      "LogsOption",
		`_, _ = c.CreateVolume(ctx, "v", lifecycle.WithInternal())`:         "VolumeOption",
		`_ = c.RemoveImage(ctx, "x", lifecycle.WithRemoveVolumes())`:        "RemoveImageOption",
		`_ = c.RemoveVolume(ctx, "x", lifecycle.WithRemoveVolumes())`:       "RemoveVolumeOption",
		`_ = ct.Healthy(lifecycle.WithExitZero())`:                          "HealthyOption",
		`_, _ = c.CreateVolume(ctx, "v", lifecycle.WithNetworkConfig(nil))`: "VolumeOption",
		`_ = ct.Kill(ctx, lifecycle.WithGracePeriod(time.Second))`:          "KillOption",
		`_ = ct.Stop(ctx, lifecycle.WithAll())`:                             "StopOption",
		`_ = ct.CopyFrom(ctx, "/x", "y", lifecycle.WithMaxSize(1))`:         "CopyFromOption",
		`_, _ = ct.Exec(ctx, nil, lifecycle.WithLabels(nil))`:               "ExecOption",
		`_ = c.Pull(ctx, "x", lifecycle.WithTags("x"))`:                     "PullOption",
	}
	for body, want := range bad {
		err := snip.Check(body)
		if assert.Error(t, err, "must not compile:\n%s", body) {
			assert.Contains(t, err.Error(), want, body)
		}
	}
}
