// Pull downloads an image from a registry: the first step of the lifecycle.
//
// An image is a blueprint, a powered-down computer with its software already
// installed. Pulling copies it (layer by layer) from a registry such as
// Docker Hub to your machine, so containers can be started from it.
//
//	go run ./examples/pull                 # pulls busybox:1.37
//	go run ./examples/pull -image redis:7-alpine -keep
//	go run ./examples/pull -image dockhand.test/busybox:1   # without a registry
//
// Without a registry: an image that is only on this machine (a stand-in
// that scripts/test-images builds, such as dockhand.test/busybox:1, or any
// image you have whose registry cannot be reached) is served by a registry
// inside this program, on 127.0.0.1: the example pushes your copy there and
// the engine pulls it back under the registry's name, so the pull really
// happens. Your image stays as it was; the registry's name for it is
// removed at the end. (An engine on another machine cannot reach that
// registry: then the example says that it uses the local copy.) An image
// that is neither here nor reachable fails at once, with an error that
// says what to run instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to pull")
	keep := flag.Bool("keep", false, "keep the image afterwards (it is removed if this example pulled it)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/pull -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *keep) })
}

func run(ctx context.Context, image string, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	// Was it here already? Then it is yours, and we leave it alone.
	_, err = c.InspectImage(ctx, image)
	hadIt := err == nil
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return err
	}

	ex.Step("Pull the image "+image, "docker pull "+image)
	if hadIt && !ex.StandIn(image) {
		ex.Say("(you have it already: the registry is asked for a newer version, and only new layers would be downloaded)")
	}
	// ex.Pull is c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)),
	// which shows the layers as they download like the docker CLI, unless
	// the image is only on this machine: then it serves it from a registry
	// inside this program and pulls it from there.
	pulled, done, err := ex.Pull(ctx, c, image, "dockhand-examples/pull:1")
	if err != nil {
		return err
	}
	defer done()

	ex.Step("Look at what was downloaded", "docker image inspect "+pulled)
	img, err := c.InspectImage(ctx, pulled)
	if err != nil {
		return err
	}
	ex.Say("id:   %s", ex.Short(img.ID))
	ex.Say("tags: %v", img.Tags)
	ex.Say("size: %.1f MB", float64(img.Size)/1e6)
	ex.Look("`docker images` lists it now; no container runs yet: an image is only the blueprint")

	if pulled != image {
		ex.Step("Clean up: remove the registry's name for it (the registry stops with this program)", "docker rmi "+pulled)
		done()
		fmt.Printf("\n%s stays on your machine, as you had it.\n", image)
		return nil
	}
	if keep || hadIt {
		fmt.Printf("\nThe image stays on your machine; remove it with `docker rmi %s` (or go run ./examples/rmi).\n", image)
		return nil
	}
	ctx, cancel := ex.Later(ctx)
	defer cancel()
	ex.Step("Clean up: remove the image again (pass -keep to keep it)", "docker rmi "+image)
	return c.RemoveImage(ctx, image)
}
