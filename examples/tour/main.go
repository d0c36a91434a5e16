// Tour walks the whole lifecycle of a container in order, one step at a
// time: pull an image, run a container from it and exit the session, check
// its state, run bash inside a running container, stop and remove
// containers, run a custom entrypoint, and remove the image.
//
// Each step prints the docker command that does the same, and what to look
// at in another terminal. Pass -pause to wait for Enter between steps.
//
//	go run ./examples/tour
//	go run ./examples/tour -pause
//	go run ./examples/tour -image debian:bookworm-slim
//	go run ./examples/tour -image dockhand.test/busybox:1   # without a registry
//
// Without a registry: when the image is only on this machine (a stand-in
// that scripts/test-images builds, such as dockhand.test/busybox:1, or any
// image you have whose registry cannot be reached), the first step serves
// your copy from a registry inside this program, on 127.0.0.1, and the
// engine pulls it from there, so the pull step really pulls; the tour then
// goes on with that image and removes the registry's name for it at the
// end (your image stays). An image that is neither here nor reachable
// stops the tour at once, with an error that says what to run instead.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/moby/term"
)

// tag is the tour's own name for the image, so removing it at the end
// never takes away an image you had before.
const tag = "dockhand-examples/tour:1"

func main() {
	image := flag.String("image", "bash:5.2", "image to tour with (it needs bash)")
	pause := flag.Bool("pause", false, "wait for Enter before each step")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/tour -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return tour(ctx, *image, *pause) })
}

func tour(ctx context.Context, image string, pause bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// Whatever happens, the containers the tour made go (they carry its
	// session label), and so does its extra image name.
	done := func() {}
	defer func() { done() }()
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = c.Cleanup(ctx)
		_ = c.RemoveImage(ctx, tag)
	}()
	in := bufio.NewReader(os.Stdin)
	next := func() {
		if pause {
			fmt.Print("\n   [Enter] for the next step ")
			_, _ = in.ReadString('\n')
		}
	}

	// 1. Pull.
	_, err = c.InspectImage(ctx, image)
	hadIt := err == nil
	ex.Step("Pull the image: download the blueprint of the containers", "docker pull "+image)
	// ex.Pull is c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)),
	// unless the image is only on this machine: then a registry inside
	// this program serves it, and pulled is the registry's name for it.
	pulled, done, err := ex.Pull(ctx, c, image, tag)
	if err != nil {
		return err
	}
	if err := c.Tag(ctx, pulled, tag); err != nil {
		return err
	}
	ex.Look("`docker images` lists %s (and %s, the tour's own name for it)", pulled, tag)
	next()

	// 2. Run, and exit the session.
	first, err := session(ctx, c)
	if err != nil {
		return err
	}
	next()

	// 3. ps.
	ex.Step("Check the state of the containers", "docker ps -a")
	list, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	if err != nil {
		return err
	}
	for _, s := range list {
		ex.Say("%s  %s  %s", s.Name, s.Image, s.Status)
	}
	ex.Say("the session's container has exited, but it is still there (docker ps without -a hides it)")
	next()

	// 4. exec: needs a running container.
	ex.Step("Start a container in the background, and run a new bash inside it", "docker run -d --init "+tag+" sleep 3600; docker exec NAME bash -c '...'")
	bg, err := c.Run(ctx, tag, lifecycle.WithEntrypoint("sleep"), lifecycle.WithCmd("3600"), lifecycle.WithInit())
	if err != nil {
		return err
	}
	res, err := bg.Exec(ctx, []string{"bash", "-c", `echo "bash $BASH_VERSION, in $(hostname)"`})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("bash in %s exited with %d: %s (does the image have bash?)", bg, res.ExitCode, res.Stderr)
	}
	ex.Say("%s (in %s)", strings.TrimSpace(string(res.Stdout)), bg)
	ex.Look("try it yourself while this waits: `docker exec -it %s bash` (run with -pause)", bg)
	next()

	// 5. Stop.
	ex.Step("Stop the background container", "docker stop "+bg.String())
	if err := bg.Stop(ctx); err != nil {
		return err
	}
	st, err := bg.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("%s is %s (exit code %d)", bg, st.Status, st.ExitCode)
	next()

	// 6. Remove.
	ex.Step("Remove both containers", "docker rm "+first.String()+" "+bg.String())
	for _, ct := range []*lifecycle.Container{first, bg} {
		if err := ct.Remove(ctx); err != nil {
			return err
		}
		ex.Say("removed %s", ct)
	}
	ex.Look("`docker ps -a` no longer lists them")
	next()

	// 7. A custom entrypoint.
	ex.Step("Run a custom entrypoint command", "docker run --rm --entrypoint uname "+tag+" -a")
	var out strings.Builder
	one, err := c.Run(ctx, tag, lifecycle.WithEntrypoint("uname"), lifecycle.WithCmd("-a"),
		lifecycle.WithStdout(&out), lifecycle.WithStderr(&out))
	if err != nil {
		return err
	}
	if _, err := one.Wait(ctx); err != nil {
		return err
	}
	if err := one.Remove(ctx); err != nil {
		return err
	}
	ex.Say("uname -a, as the container's main process: %s", strings.TrimSpace(out.String()))
	next()

	// 8. rmi.
	rmi := "docker rmi " + tag
	if pulled != image {
		rmi += " " + pulled
	}
	ex.Step("Remove the image: clean up", rmi)
	if err := c.RemoveImage(ctx, tag); err != nil {
		return err
	}
	if pulled != image {
		done()
		ex.Say("removed %s too: the tour pulled it from its own registry, which stops now", pulled)
	}
	if hadIt {
		ex.Say("removed the tour's name; %s stays, as you had it before the tour", image)
	} else {
		if err := c.RemoveImage(ctx, image); err != nil {
			return err
		}
		ex.Say("removed %s too: the tour pulled it", image)
	}
	if _, err := c.InspectImage(ctx, tag); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("%s still there: %v", tag, err)
	}
	fmt.Println("\nThat is the whole lifecycle. Next: examples/volumes, ports, build, push, compose, devstack.")
	return nil
}

// session runs a container in the foreground and returns when its session
// is over: an interactive shell when a person is at the terminal,
// otherwise a short script.
func session(ctx context.Context, c *lifecycle.Client) (*lifecycle.Container, error) {
	opts := []lifecycle.RunOption{lifecycle.WithStdout(os.Stdout), lifecycle.WithStderr(os.Stderr)}
	if term.IsTerminal(os.Stdin.Fd()) {
		ex.Step("Run a container with a shell in it; look around, then type `exit`", "docker run -it "+tag+" bash")
		opts = append(opts, lifecycle.WithCmd("bash"), lifecycle.WithStdin(os.Stdin), lifecycle.WithTTY())
	} else {
		ex.Step("Run a container with a short session in it (stdin is not a terminal)", "docker run "+tag+" bash -c '...'")
		opts = append(opts, lifecycle.WithCmd("bash", "-c", `echo "   | inside $(hostname): $(ls / | wc -l) entries in /"; echo "   | exit"; exit 0`))
	}
	// In the foreground Run returns when the container exits (an
	// *ExitError if its code is not 0).
	ct, err := c.Run(ctx, tag, opts...)
	if err != nil {
		return ct, err
	}
	ex.Say("the session is over: %s has exited", ct)
	return ct, nil
}
