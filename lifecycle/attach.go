package lifecycle

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/moby/term"
)

// ExecResult is the outcome of a command run with Exec.
type ExecResult struct {
	ExitCode int
	Stdout   []byte // captured when no WithStdout writer was given
	Stderr   []byte // captured when no WithStderr writer was given
	// Truncated is set when a captured stream was longer than the
	// capture limit (DefaultMaxSize, or WithMaxSize): its first bytes
	// are kept, the rest dropped.
	Truncated bool
}

// Exec runs a command in the running container (docker exec) and waits for
// it. A command that runs and exits non-zero is not an error: read
// ExitCode. Standard output and error are kept apart (demultiplexed) and
// captured in the result, up to DefaultMaxSize bytes each (WithMaxSize),
// unless WithStdout/WithStderr redirect them. WithStdin feeds standard
// input, and is read no more once Exec returns; WithTTY with a terminal as
// stdin gives a person an interactive session (raw mode, resized with the
// window).
//
// When ctx ends first, Exec returns its error and kills the command, as
// exec.CommandContext does, with the processes it started: the engine's
// API has no call for that, so it is done from this host with SIGKILL
// when the engine runs here (the process is found by the exec's pid and
// checked to be in the container's cgroup). With a remote engine the
// command is left to end by itself, and a warning is logged.
func (ct *Container) Exec(ctx context.Context, cmd []string, opts ...ExecOption) (*ExecResult, error) {
	if err := ct.valid("exec"); err != nil {
		return nil, err
	}
	s, err := applyOpts("Exec", opts, ExecOption.applyExec)
	if err != nil {
		return nil, err
	}
	if len(cmd) == 0 || cmd[0] == "" {
		return nil, invalidf("exec in %s: invalid command %q: want a non-empty command", ct, redactArgs(cmd))
	}
	created, err := ct.c.api.ContainerExecCreate(ctx, ct.id, container.ExecOptions{
		Cmd: cmd, Env: s.proc.env, User: s.proc.user, WorkingDir: s.proc.workdir, Tty: s.io.tty,
		AttachStdin: s.io.stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, ct.c.opErr(err, "exec %q in %s", progName(cmd), ct)
	}
	hj, err := ct.c.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: s.io.tty})
	if err != nil {
		if ctx.Err() != nil {
			ct.killExec(ctx, created.ID, progName(cmd))
		}
		return nil, ct.c.opErr(err, "exec %q in %s: attach", progName(cmd), ct)
	}
	res := &ExecResult{}
	outBuf := &capBuf{max: sizeLimit(s.maxSize)}
	errBuf := &capBuf{max: sizeLimit(s.maxSize)}
	stdout, stderr := s.io.stdout, s.io.stderr
	if stdout == nil {
		stdout = outBuf
	}
	if stderr == nil {
		stderr = errBuf
	}
	resize := func(h, w uint) error {
		return ct.c.api.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: h, Width: w})
	}
	if err := pump(ctx, hj, s.io.tty, s.io.stdin, stdout, stderr, resize); err != nil {
		if ctx.Err() != nil {
			ct.killExec(ctx, created.ID, progName(cmd))
		}
		return nil, fmt.Errorf("exec %q in %s: %w", progName(cmd), ct, err)
	}
	res.Stdout, res.Stderr = outBuf.b, errBuf.b
	res.Truncated = outBuf.over || errBuf.over
	// The stream can end a moment before the engine records the exit code.
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		ins, err := ct.c.api.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			if ctx.Err() != nil {
				ct.killExec(ctx, created.ID, progName(cmd))
			}
			return nil, ct.c.opErr(err, "exec %q in %s: inspect", progName(cmd), ct)
		}
		if !ins.Running {
			res.ExitCode = ins.ExitCode
			return res, nil
		}
		select {
		case <-ctx.Done():
			ct.killExec(ctx, created.ID, progName(cmd))
			return nil, fmt.Errorf("exec %q in %s: %w", progName(cmd), ct, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// capBuf keeps the first max bytes written to it and notes whether more
// came.
type capBuf struct {
	b    []byte
	max  int64
	over bool
}

func (c *capBuf) Write(p []byte) (int, error) {
	room := c.max - int64(len(c.b))
	if int64(len(p)) > room {
		c.over = true
		c.b = append(c.b, p[:max(room, 0)]...)
		return len(p), nil
	}
	c.b = append(c.b, p...)
	return len(p), nil
}

// attachAndStart runs a foreground container: attach, start, stream until
// it exits, and return its exit code. *started is set once the engine has
// started it.
func (ct *Container) attachAndStart(ctx context.Context, s *ioSettings, autoRemove bool, started *bool) (int, error) {
	hj, err := ct.c.api.ContainerAttach(ctx, ct.id, container.AttachOptions{
		Stream: true, Stdin: s.stdin != nil, Stdout: true, Stderr: true,
	})
	if err != nil {
		return -1, ct.c.opErr(err, "attach")
	}
	// Ask for the exit before the start, as docker run does, so that a
	// container that exits (and with WithAutoRemove is removed) at once
	// is not missed.
	cond := container.WaitConditionNextExit
	if autoRemove {
		cond = container.WaitConditionRemoved
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waitCh, waitErr := ct.c.api.ContainerWait(wctx, ct.id, cond)
	if err := ct.c.api.ContainerStart(ctx, ct.id, container.StartOptions{}); err != nil {
		hj.Close()
		return -1, ct.c.opErr(err, "start container")
	}
	*started = true
	stdout, stderr := s.stdout, s.stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	resize := func(h, w uint) error {
		return ct.c.api.ContainerResize(ctx, ct.id, container.ResizeOptions{Height: h, Width: w})
	}
	if err := pump(ctx, hj, s.tty, s.stdin, stdout, stderr, resize); err != nil {
		return -1, fmt.Errorf("streams: %w", err)
	}
	select {
	case r := <-waitCh:
		if r.Error != nil && r.Error.Message != "" {
			return -1, fmt.Errorf("wait for the exit: %s", r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-waitErr:
		return -1, ct.c.opErr(err, "wait for the exit")
	}
}

// pump copies between a hijacked connection and the caller's streams until
// the output ends or ctx is done. With a TTY and a terminal on stdin, the
// terminal is put in raw mode and the remote TTY follows its size. The
// copy of stdin ends before pump returns: see copyStdin.
func pump(ctx context.Context, hj types.HijackedResponse, tty bool, stdin io.Reader, stdout, stderr io.Writer, resize func(h, w uint) error) error {
	if tty && stdin != nil {
		if f, ok := isTerminal(stdin); ok {
			if st, err := term.SetRawTerminal(f.Fd()); err == nil {
				defer func() { _ = term.RestoreTerminal(f.Fd(), st) }()
			}
			stop := followSize(f, resize)
			defer stop()
		}
	}
	outDone := make(chan error, 1)
	go func() {
		var err error
		if tty {
			_, err = io.Copy(stdout, hj.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, hj.Reader)
		}
		outDone <- err
	}()
	stopStdin := func() {}
	if stdin != nil {
		stopStdin = copyStdin(stdin, hijackedIn{&hj})
	}
	var err error
	outEnded := false
	select {
	case err = <-outDone:
		outEnded = true
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Closing the connection ends a write to it that blocks, and a read
	// from it; then the stdin copy can stop.
	hj.Close()
	stopStdin()
	if !outEnded {
		// The output copy writes to the caller's writers: it must be over
		// when the call returns, as os/exec's Wait waits for its copies.
		<-outDone
	}
	return err
}

// hijackedIn is the write side of an attached connection.
type hijackedIn struct{ hj *types.HijackedResponse }

func (h hijackedIn) Write(p []byte) (int, error) { return h.hj.Conn.Write(p) }
func (h hijackedIn) CloseWrite() error           { return h.hj.CloseWrite() }
