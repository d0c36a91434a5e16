package lifecycle

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockhand/dockhand/waitfor"
)

// ExecSucceeds is ready when cmd, run in the container (docker exec),
// exits 0. A command that does not exist in the image fails at once. An
// attempt that outlives its context (waitfor's AttemptTimeout) is killed
// as Exec describes: on a local engine, nothing of it stays running.
func (ct *Container) ExecSucceeds(cmd ...string) waitfor.Condition {
	if err := ct.valid("exec succeeds"); err != nil {
		return invalidCond{err}
	}
	return execCond{ct: ct, cmd: append([]string(nil), cmd...)}
}

type execCond struct {
	ct  *Container
	cmd []string
}

func (e execCond) String() string {
	return e.ct.condName("exec " + strings.Join(redactArgs(e.cmd), " "))
}

func (e execCond) Check(ctx context.Context) error {
	if len(e.cmd) == 0 || e.cmd[0] == "" {
		return waitfor.Permanent(invalidf("%s: no command", e))
	}
	ins, err := e.ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	if err := e.ct.stopped(ctx, ins); err != nil {
		return err
	}
	if !ins.State.Running {
		return fmt.Errorf("container %s is %s", e.ct, ins.State.Status)
	}
	// Exec kills the command if the attempt's ctx ends first, so a hung
	// attempt does not stay behind in the container. Its output is only
	// quoted: a little of it is enough.
	res, err := e.ct.Exec(ctx, e.cmd, WithMaxSize(64<<10))
	if err != nil {
		if isNoSuchCommand(err.Error()) {
			return waitfor.Permanent(err)
		}
		return err
	}
	if res.ExitCode == 0 {
		return nil
	}
	stdout, stderr := string(res.Stdout), string(res.Stderr)
	if res.Truncated {
		// A capture cut in the middle of a secret leaves a piece that
		// could not be recognised: drop each stream's partial last line.
		stdout, stderr = wholeLines(stdout), wholeLines(stderr)
	}
	out := redactOutput(strings.TrimSpace(stdout+"\n"+stderr), e.cmd) // it may echo the command
	if (res.ExitCode == 126 || res.ExitCode == 127) && isNoSuchCommand(out) {
		return waitfor.Permanent(fmt.Errorf("exec %q in %s: %s", progName(e.cmd), e.ct, out))
	}
	if len(out) > 300 {
		out = "..." + out[len(out)-300:]
	}
	if out != "" {
		return fmt.Errorf("exit code %d: %s", res.ExitCode, out)
	}
	return fmt.Errorf("exit code %d", res.ExitCode)
}

// wholeLines drops what follows the last newline of s.
func wholeLines(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}

func isNoSuchCommand(s string) bool {
	return strings.Contains(s, "executable file not found") || strings.Contains(s, "no such file or directory") && strings.Contains(s, "exec")
}
