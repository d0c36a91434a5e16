package lifecycle

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Logs writes the container's logs to w (docker logs): standard output,
// and standard error too unless WithStderr sends it elsewhere, kept apart
// (demultiplexed) when the container has no TTY. WithFollow streams until
// the container stops or ctx ends; WithSince and WithTail narrow the
// output, WithTimestamps prefixes each line with its time.
func (ct *Container) Logs(ctx context.Context, w io.Writer, opts ...LogsOption) error {
	if err := ct.valid("logs"); err != nil {
		return err
	}
	s, err := applyOpts("Logs", opts, LogsOption.applyLogs)
	if err != nil {
		return err
	}
	if w == nil {
		return invalidf("logs of %s: no destination: want a writer", ct)
	}
	stdout, stderr := w, w
	if s.stderr != nil {
		stderr = s.stderr
	}
	rc, err := ct.c.api.ContainerLogs(ctx, ct.id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: s.follow,
		Since: s.since, Tail: s.tail, Timestamps: s.timestamps,
	})
	if err != nil {
		return ct.c.opErr(err, "logs of %s", ct)
	}
	defer rc.Close()
	ins, err := ct.c.api.ContainerInspect(ctx, ct.id)
	if err != nil {
		return ct.c.opErr(err, "logs of %s", ct)
	}
	if ins.Config != nil && ins.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("logs of %s: %w", ct, err)
	}
	return ctx.Err()
}
