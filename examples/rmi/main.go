// Rmi removes an image: the clean-up at the end of the lifecycle.
//
// Images take disk space until you remove them. An image can carry several
// names (tags); removing a name only untags it, and the data goes when the
// last name goes. An image that a container (even a stopped one) still
// uses cannot be removed until that container is.
//
// To keep your own images safe, this example works on a name of its own:
// it gives -image a second tag, shows what blocks removal, and removes that
// tag. With -all it then removes -image itself (as `docker rmi IMAGE`).
//
//	go run ./examples/rmi
//	go run ./examples/rmi -image busybox:1.37 -all
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to work with (pulled if missing)")
	tag := flag.String("tag", "dockhand-examples/rmi:demo", "the extra name this example gives the image and removes")
	all := flag.Bool("all", false, "finally remove -image itself too")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/rmi -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *tag, *all) })
}

func run(ctx context.Context, image, tag string, all bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = c.Cleanup(ctx) // the container, if we stopped half-way
		_ = c.RemoveImage(ctx, tag)
	}()

	if _, err := c.InspectImage(ctx, image); errors.Is(err, lifecycle.ErrNotFound) {
		ex.Step("Pull "+image+" first", "docker pull "+image)
		if err := c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}

	ex.Step("Give the image a second name", "docker tag "+image+" "+tag)
	if err := c.Tag(ctx, image, tag); err != nil {
		return err
	}
	img, err := c.InspectImage(ctx, tag)
	if err != nil {
		return err
	}
	ex.Say("image %s now has the names %v", ex.Short(img.ID), img.Tags)
	ex.Look("`docker images` lists both names with the same IMAGE ID: one image, two tags")

	ex.Step("Run a container from it, and let it exit", "docker run "+tag+" true")
	ctr, err := c.Run(ctx, tag, lifecycle.WithCmd("true"), lifecycle.WithStdout(os.Stdout))
	if err != nil {
		return err
	}
	ex.Say("%s has exited, but still exists", ctr)

	ex.Step("Try to remove the image itself, by its id", "docker rmi "+ex.Short(img.ID))
	// By id means the image and all its names. The engine refuses while a
	// container uses it, while it has several names, or while other
	// images are built on top of it, and says which.
	err = c.RemoveImage(ctx, img.ID)
	if !errors.Is(err, lifecycle.ErrConflict) {
		return fmt.Errorf("expected the engine to refuse, got %v", err)
	}
	ex.Say("refused, as expected: %v", err)

	ex.Step("Remove the container, then the extra name", "docker rm "+ctr.String()+" && docker rmi "+tag)
	if err := ctr.Remove(ctx); err != nil {
		return err
	}
	if err := c.RemoveImage(ctx, tag); err != nil {
		return err
	}
	_, err = c.InspectImage(ctx, tag)
	ex.Say("%s is gone (%v)", tag, errors.Is(err, lifecycle.ErrNotFound))
	ex.Say("the image itself is still there under %s: it had another name", image)

	if !all {
		ex.Say("run with -all to remove %s too", image)
		return nil
	}
	ex.Step("Remove the image itself", "docker rmi "+image)
	if err := c.RemoveImage(ctx, image); err != nil {
		return err
	}
	ex.Say("%s removed; its layers are deleted unless another image shares them", image)
	ex.Look("`docker images` no longer lists it; `docker system df` shows the space in use")
	return nil
}
