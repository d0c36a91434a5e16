package lifecycle

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Logs writes the container's logs to the WithStdout and WithStderr
// writers, demultiplexed (docker logs). WithFollow streams until the
// container stops or ctx ends; WithSince and WithTail narrow the output.
func (ct *Container) Logs(ctx context.Context, opts ...Option) error {
	s, err := apply("Logs", opts)
	if err != nil {
		return err
	}
	if s.stdout == nil && s.stderr == nil {
		return invalidf("logs of %s: no destination: give WithStdout and/or WithStderr", ct)
	}
	rc, err := ct.c.api.ContainerLogs(ctx, ct.ID, container.LogsOptions{
		ShowStdout: s.stdout != nil, ShowStderr: s.stderr != nil, Follow: s.follow,
		Since: s.since, Tail: s.tail, Timestamps: s.timestamps,
	})
	if err != nil {
		return ct.c.opErr(err, "logs of %s", ct)
	}
	defer rc.Close()
	stdout, stderr := s.stdout, s.stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	ins, err := ct.c.api.ContainerInspect(ctx, ct.ID)
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
