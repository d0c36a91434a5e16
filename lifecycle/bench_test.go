package lifecycle_test

// The library against the plain Docker SDK doing the same engine calls,
// on the same engine socket. -count repeats each sub-benchmark back to
// back, so to interleave library and sdk (the engine's speed drifts with
// the machine's load) repeat the whole command instead:
//
//	for i in 1 2 3 4 5 6; do
//	  go test ./lifecycle/ -run '^$' -bench 'RunRemove|Exec' -benchtime 20x -count 1
//	done
//
// Run makes two calls the SDK side does not: ImageInspect (the pull
// policy: is the image present?) and ContainerInspect (the generated
// name, when WithName is not given); each costs well under a millisecond
// on a local engine, against some 300 ms for create+start+remove.

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// benchLabel marks the containers the SDK side makes, so they are removed
// even if a benchmark fails half way.
const benchLabel = "dev.dockhand.bench"

// sdkClient is a plain SDK client, configured as SDK users usually do.
func sdkClient(b *testing.B) *client.Client {
	b.Helper()
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f := filters.NewArgs(filters.Arg("label", benchLabel+"="+b.Name()))
		if list, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: f}); err == nil {
			for _, c := range list {
				_ = api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
			}
		}
		_ = api.Close()
	})
	return api
}

func BenchmarkRunRemove(b *testing.B) {
	c := testbench.Client(b)
	img := testbench.BusyboxImage(b, c)
	ctx := context.Background()

	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "300"))
			if err != nil {
				b.Fatal(err)
			}
			if err := ctr.Remove(ctx, lifecycle.WithForce()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		api := sdkClient(b)
		cfg := &container.Config{Image: img, Cmd: []string{"sleep", "300"}, Labels: map[string]string{benchLabel: b.Name()}}
		for b.Loop() {
			resp, err := api.ContainerCreate(ctx, cfg, &container.HostConfig{}, nil, nil, "")
			if err != nil {
				b.Fatal(err)
			}
			if err := api.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := api.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkExec(b *testing.B) {
	c := testbench.Client(b)
	img := testbench.BusyboxImage(b, c)
	ctx := context.Background()
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "3600"), lifecycle.WithInit())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	cmd := []string{"echo", "hi"}

	b.Run("library", func(b *testing.B) {
		for b.Loop() {
			res, err := ctr.Exec(ctx, cmd)
			if err != nil {
				b.Fatal(err)
			}
			if res.ExitCode != 0 || string(res.Stdout) != "hi\n" {
				b.Fatalf("exec: %d %q", res.ExitCode, res.Stdout)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		api := sdkClient(b)
		for b.Loop() {
			ex, err := api.ContainerExecCreate(ctx, ctr.ID, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
			if err != nil {
				b.Fatal(err)
			}
			hj, err := api.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
			if err != nil {
				b.Fatal(err)
			}
			var out, errOut bytes.Buffer
			_, err = stdcopy.StdCopy(&out, &errOut, hj.Reader)
			hj.Close()
			if err != nil {
				b.Fatal(err)
			}
			// The stream can end a moment before the engine records the
			// exit code: a correct caller asks again while it is running.
			var ins container.ExecInspect
			for {
				ins, err = api.ContainerExecInspect(ctx, ex.ID)
				if err != nil {
					b.Fatal(err)
				}
				if !ins.Running {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if ins.ExitCode != 0 || out.String() != "hi\n" {
				b.Fatalf("exec: %d %q", ins.ExitCode, out.String())
			}
		}
	})
}
