// Entrypoint runs a container with a custom entrypoint command.
//
// An image says what a new container runs: its ENTRYPOINT (the program)
// followed by its CMD (default arguments). `docker run IMAGE args...`
// replaces CMD; `docker run --entrypoint prog IMAGE args...` replaces the
// program too. The container runs ENTRYPOINT + CMD as one command line.
//
//	go run ./examples/entrypoint
//	go run ./examples/entrypoint -image alpine:3.20
package main

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to run")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/entrypoint -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image) })
}

func run(ctx context.Context, image string) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = c.Cleanup(ctx) // the three short-lived containers
	}()
	if _, err := c.InspectImage(ctx, image); err != nil {
		if err := c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)); err != nil {
			return err
		}
	}

	ex.Step("What does the image run by default?", "docker image inspect -f '{{.Config.Entrypoint}} {{.Config.Cmd}}' "+image)
	ii, err := c.API().ImageInspect(ctx, image) // the raw engine API, for the image's config
	if err != nil {
		return err
	}
	ex.Say("ENTRYPOINT %q, CMD %q", ii.Config.Entrypoint, ii.Config.Cmd)

	ex.Step("Replace the CMD: the arguments after the image name", "docker run "+image+" echo hello from CMD")
	if err := runOnce(ctx, c, image, lifecycle.WithCmd("echo", "hello from CMD")); err != nil {
		return err
	}

	ex.Step("Replace the ENTRYPOINT: a different program", "docker run --entrypoint uname "+image+" -s -m")
	// The entrypoint is "uname"; the CMD ("-s -m") becomes its arguments.
	if err := runOnce(ctx, c, image, lifecycle.WithEntrypoint("uname"), lifecycle.WithCmd("-s", "-m")); err != nil {
		return err
	}

	ex.Step("A custom entrypoint script, as images use to prepare things before the real program",
		"docker run --entrypoint sh "+image+" -c '...' entry date -u")
	// Everything after the script is "$@": the script ends by running it.
	script := `echo "entrypoint: preparing (user $(id -un), in $(pwd))"; echo "entrypoint: now running: $*"; exec "$@"`
	if err := runOnce(ctx, c, image, lifecycle.WithEntrypoint("sh", "-c", script, "entry"), lifecycle.WithCmd("date", "-u")); err != nil {
		return err
	}
	ex.Look("`docker ps -a --no-trunc` shows each container's full command in the COMMAND column")
	return nil
}

// runOnce runs a container in the foreground, prints its output, and removes it.
func runOnce(ctx context.Context, c *lifecycle.Client, image string, opts ...lifecycle.RunOption) error {
	var out strings.Builder
	opts = append(opts, lifecycle.WithStdout(&out), lifecycle.WithStderr(&out))
	// In the foreground Run returns when the container exits, with an
	// *ExitError if its exit code is not 0, as exec.Cmd.Run does.
	ctr, runErr := c.Run(ctx, image, opts...)
	if ctr == nil {
		return runErr
	}
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = ctr.Remove(ctx, lifecycle.WithForce())
	}()
	ins, err := ctr.Inspect(ctx)
	if err != nil {
		return err
	}
	ex.Say("the container ran: %s", strings.Join(append(ins.Config.Entrypoint, ins.Config.Cmd...), " "))
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ex.Say("  | %s", line)
	}
	return runErr
}
