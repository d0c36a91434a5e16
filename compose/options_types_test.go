package compose_test

import (
	"testing"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/stretchr/testify/assert"
)

// TestOptionTypes proves that a compose option given to a verb it does
// not serve is a compile error, while each multi-verb option compiles
// with every verb it serves.
func TestOptionTypes(t *testing.T) {
	snip := testbench.NewSnippets(t, "github.com/dockhand/dockhand/compose",
		"ctx context.Context, s *compose.Stack, w io.Writer")
	good := []string{
		`_ = s.Up(ctx, compose.WithWait(), compose.WithWaitTimeout(time.Second), compose.WithBuild(), compose.WithProgress(w),
			compose.WithServices("a"), compose.WithRemoveOrphans(), compose.WithAllInterfaces(), compose.WithForceRecreate(),
			compose.WithGracePeriod(time.Second))`,
		`_ = s.Down(ctx, compose.WithProgress(w), compose.WithRemoveOrphans(), compose.WithRemoveVolumes(), compose.WithRemoveImages(),
			compose.WithGracePeriod(time.Second))`,
		`_, _ = s.Ps(ctx, compose.WithServices("a"), compose.WithAll())`,
		`_ = s.Logs(ctx, w, compose.WithServices("a"), compose.WithFollow(), compose.WithTail(1), compose.WithStderr(w))`,
		`_ = s.Stop(ctx, compose.WithServices("a"), compose.WithProgress(w), compose.WithGracePeriod(time.Second))`,
		`_ = s.Start(ctx, compose.WithServices("a"), compose.WithProgress(w))`,
		`_ = s.Restart(ctx, compose.WithServices("a"), compose.WithProgress(w), compose.WithGracePeriod(time.Second))`,
		`_, _ = s.Run(ctx, "a", nil, compose.WithProgress(w), compose.WithAllInterfaces(), compose.WithStdout(w), compose.WithStderr(w),
			compose.WithEnv("A=1"), compose.WithNoDeps())`,
		`_, _ = compose.Load(ctx, compose.WithVariables("A=1"), compose.WithVariablesMap(nil))`,
		`_ = s.Up(ctx, compose.WithNoDeps(), compose.WithScale("a", 2), compose.WithPull(0), compose.WithNoRecreate(),
			compose.WithNoBuild(), compose.WithAbortOnContainerExit(), compose.WithExitCodeFrom("a"))`,
		`_ = s.Logs(ctx, w, compose.WithSince(time.Now()), compose.WithTimestamps())`,
		`_, _ = s.Run(ctx, "a", nil, compose.WithEntrypoint("sh"), compose.WithUser("1"), compose.WithWorkdir("/"),
			compose.WithVolumes("/a:/b"), compose.WithServicePorts())`,
		`_ = s.Kill(ctx, compose.WithServices("a"), compose.WithSignal("HUP"))`,
		`_ = s.Pause(ctx, compose.WithServices("a")); _ = s.Unpause(ctx, compose.WithServices("a"))`,
		`_, _ = compose.Ls(ctx, nil, compose.WithAll())`,
		`_ = s.Build(ctx, compose.WithServices("a"), compose.WithProgress(w))`,
		`_, _ = s.Top(ctx, compose.WithServices("a"))`,
		`_, _ = s.Wait(ctx, compose.WithServices("a"))`,
		`_ = s.Pull(ctx, compose.WithServices("a"), compose.WithProgress(w), compose.WithIgnorePullFailures(), compose.WithIgnoreBuildable(),
			compose.WithIncludeDeps(), compose.WithPull(0))`,
		`_, _ = s.Images(ctx, compose.WithServices("a"))`,
		`_ = s.CopyTo(ctx, "a", "x", "/", compose.WithIndex(1), compose.WithOneOffs())`,
		`_ = s.CopyFrom(ctx, "a", "/x", "x", compose.WithIndex(1))`,
		`_, _ = s.Config(compose.WithFormat("json"), compose.WithServices("a"))`,
	}
	for _, body := range good {
		assert.NoError(t, snip.Check(body), "must compile:\n%s", body)
	}
	// Each of these compiled, and failed at run time, when one Option
	// type served every verb.
	bad := map[string]string{
		`_ = s.Down(ctx, compose.WithWait())`:                        "DownOption",
		`_, _ = s.Ps(ctx, compose.WithFollow())`:                     "PsOption",
		`_ = s.Logs(ctx, w, compose.WithAll())`:                      "LogsOption",
		`_ = s.Start(ctx, compose.WithGracePeriod(time.Second))`:     "StartOption",
		`_ = s.Up(ctx, compose.WithRemoveVolumes())`:                 "UpOption",
		`_, _ = s.Run(ctx, "a", nil, compose.WithServices("b"))`:     "RunOption",
		`_ = s.Restart(ctx, compose.WithRemoveOrphans())`:            "RestartOption",
		`_ = s.Stop(ctx, compose.WithEnv("A=1"))`:                    "StopOption",
		`_, _ = compose.Load(ctx, compose.WithEnv("A=1"))`:           "LoadOption",
		`_, _ = s.Run(ctx, "a", nil, compose.WithVariables("A=1"))`:  "RunOption",
		`_ = s.Pause(ctx, compose.WithSignal("HUP"))`:                "PauseOption",
		`_ = s.Kill(ctx, compose.WithTimestamps())`:                  "KillOption",
		`_, _ = compose.Ls(ctx, nil, compose.WithFollow())`:          "LsOption",
		`_ = s.Build(ctx, compose.WithAll())`:                        "BuildOption",
		`_, _ = s.Top(ctx, compose.WithTail(1))`:                     "TopOption",
		`_, _ = s.Wait(ctx, compose.WithAll())`:                      "WaitOption",
		`_, _ = s.Run(ctx, "a", nil, compose.WithScale("a", 1))`:     "RunOption",
		`_ = s.Pull(ctx, compose.WithAll())`:                         "PullOption",
		`_, _ = s.Images(ctx, compose.WithProgress(w))`:              "ImagesOption",
		`_ = s.CopyFrom(ctx, "a", "/x", "x", compose.WithOneOffs())`: "CopyFromOption",
		`_ = s.Up(ctx, compose.WithIndex(1))`:                        "UpOption",
		`_ = s.Build(ctx, compose.WithIgnorePullFailures())`:         "BuildOption",
		`_, _ = s.Config(compose.WithAll())`:                         "ConfigOption",
		`_ = s.Up(ctx, compose.WithFormat("json"))`:                  "UpOption",
	}
	for body, want := range bad {
		err := snip.Check(body)
		if assert.Error(t, err, "must not compile:\n%s", body) {
			assert.Contains(t, err.Error(), want, body)
		}
	}
}
