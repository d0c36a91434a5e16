// Exec runs a new program inside a container that is already running: a
// single command, or (with -it) an interactive bash session.
//
// The container keeps running its own main process; exec adds another
// process next to it, which sees the same files, network and processes.
//
//	go run ./examples/exec                 # runs a few commands with bash
//	go run ./examples/exec -it             # opens bash inside; `exit` to leave
//	go run ./examples/exec -image debian:bookworm-slim
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/moby/term"
)

func main() {
	image := flag.String("image", "bash:5.2", "image with bash in it")
	it := flag.Bool("it", false, "open an interactive bash inside the container (docker exec -it)")
	keep := flag.Bool("keep", false, "keep the container running (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/exec -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *it, *keep) })
}

func run(ctx context.Context, image string, it, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	ex.Step("Start a container that keeps running", "docker run -d --init --entrypoint sleep "+image+" 3600")
	// Override the entrypoint so the image's own start-up script (if any)
	// does not get in the way; "sleep" just keeps the container alive.
	ctr, err := c.Run(ctx, image, lifecycle.WithEntrypoint("sleep"), lifecycle.WithCmd("3600"),
		lifecycle.WithInit(), lifecycle.WithProgress(os.Stdout))
	if err != nil {
		return err
	}
	ex.Say("started %s", ctr)
	defer func() {
		if keep {
			fmt.Printf("\nKept %s running; try `docker exec -it %s bash`, then `docker rm -f %s`.\n", ctr, ctr, ctr)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the container (pass -keep to keep it)", "docker rm -f "+ctr.String())
		if err := ctr.Remove(ctx, lifecycle.WithForce()); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	ex.Step("Run one command inside it", "docker exec "+ctr.String()+" bash -c 'echo ...'")
	res, err := ctr.Exec(ctx, []string{"bash", "-c", `echo "bash $BASH_VERSION, in $(hostname)"`})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("bash exited with %d: %s", res.ExitCode, res.Stderr)
	}
	ex.Say("%s", strings.TrimSpace(string(res.Stdout)))

	ex.Step("A command that fails is not an error of Exec: read its exit code", "docker exec "+ctr.String()+" ls /nowhere")
	res, err = ctr.Exec(ctx, []string{"ls", "/nowhere"})
	if err != nil {
		return err
	}
	ex.Say("exit code %d, stderr: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))

	ex.Step("See the processes: the main one (sleep) and the one exec just added (ps)", "docker exec "+ctr.String()+" ps")
	res, err = ctr.Exec(ctx, []string{"ps"})
	if err != nil {
		return err
	}
	fmt.Print(indent(string(res.Stdout)))

	if !it {
		ex.Say("run again with -it for an interactive bash inside the container")
		return nil
	}
	opts := []lifecycle.ExecOption{lifecycle.WithStdin(os.Stdin), lifecycle.WithStdout(os.Stdout), lifecycle.WithStderr(os.Stderr)}
	if term.IsTerminal(os.Stdin.Fd()) {
		ex.Step("Open a new bash inside it; type `exit` to leave (the container keeps running)", "docker exec -it "+ctr.String()+" bash")
		// A TTY makes bash interactive: a prompt, line editing, colours.
		opts = append(opts, lifecycle.WithTTY())
	} else {
		// Without a terminal, bash reads commands from our stdin, as
		// `echo 'ls /' | docker exec -i CONTAINER bash` does.
		ex.Step("Run bash inside it, reading commands from stdin (not a terminal)", "docker exec -i "+ctr.String()+" bash")
	}
	res, err = ctr.Exec(ctx, []string{"bash"}, opts...)
	if err != nil {
		return err
	}
	ex.Say("bash ended with exit code %d; the container is still running:", res.ExitCode)
	st, err := ctr.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("%s is %s", ctr, st.Status)
	return nil
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ") + "\n"
}
