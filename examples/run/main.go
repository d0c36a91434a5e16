// Run starts a container from an image, opens a session in it, and exits
// the session: the container then stops, but it is not gone.
//
// A container is a brand-new computer made from the image. When your
// terminal is interactive you get a shell inside it (type `exit` to leave);
// otherwise a short script runs in it and exits by itself.
//
//	go run ./examples/run
//	go run ./examples/run -image debian:bookworm-slim -shell bash -keep
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/moby/term"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to run")
	shell := flag.String("shell", "sh", "shell to start inside the container")
	name := flag.String("name", "", "container name (default: one Docker makes up)")
	keep := flag.Bool("keep", false, "keep the exited container (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/run -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *shell, *name, *keep) })
}

func run(ctx context.Context, image, shell, name string, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	// Is a person typing? Then give them a real terminal in the container.
	interactive := term.IsTerminal(os.Stdin.Fd())

	opts := []lifecycle.RunOption{
		lifecycle.WithStdout(os.Stdout), // attach: run in the foreground, as docker run without -d
		lifecycle.WithStderr(os.Stderr),
		lifecycle.WithProgress(os.Stdout), // shows the pull if the image is missing
	}
	if name != "" {
		opts = append(opts, lifecycle.WithName(name))
	}
	if interactive {
		ex.Step("Run a shell in a new container; type `exit` (or Ctrl-D) to end the session", "docker run -it "+image+" "+shell)
		ex.Look("while you are inside, `docker ps` in another terminal shows the container running")
		// WithTTY + a terminal on stdin: the terminal goes to raw mode, so
		// keys such as Ctrl-C reach the shell inside, and is restored after.
		opts = append(opts, lifecycle.WithCmd(shell), lifecycle.WithStdin(os.Stdin), lifecycle.WithTTY())
	} else {
		script := `echo "hello from $(hostname), a container made from the image"; ` +
			`echo "its processes:"; ps; echo "leaving the session"; exit 0`
		ex.Step("Run a short script in a new container (stdin is not a terminal)", "docker run "+image+" "+shell+" -c '...'")
		opts = append(opts, lifecycle.WithCmd(shell, "-c", script))
	}
	// In the foreground Run returns when the session ends, with an
	// *ExitError if its exit code is not 0, as exec.Cmd.Run does.
	ctr, err := c.Run(ctx, image, opts...)
	code := 0
	if ee := (*lifecycle.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode // the session failed, but the container is there to look at
	} else if err != nil {
		return err
	}
	defer func() {
		if keep {
			fmt.Printf("\nKept %s; remove it with `docker rm %s`.\n", ctr, ctr)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the container (pass -keep to keep it)", "docker rm "+ctr.String())
		if err := ctr.Remove(ctx, lifecycle.WithForce()); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	// The session is over: the main process ended, so the container stopped.
	ex.Step("The session ended: the container has exited, but it still exists", "docker ps -a")
	state, err := ctr.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("container %s: status %q, exit code %d", ctr, state.Status, code)
	ex.Look("`docker ps` no longer lists it, `docker ps -a --filter name=%s` shows it as Exited (%d)", ctr, code)
	ex.Say("its files are still there until it is removed; `docker start -ai %s` would run it again", ctr)
	return nil
}
