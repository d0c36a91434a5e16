// Pull downloads an image from a registry: the first step of the lifecycle.
//
// An image is a blueprint, a powered-down computer with its software already
// installed. Pulling copies it (layer by layer) from a registry such as
// Docker Hub to your machine, so containers can be started from it.
//
//	go run ./examples/pull                 # pulls busybox:1.37
//	go run ./examples/pull -image redis:7-alpine -keep
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
	image := flag.String("image", "busybox:1.37", "image to pull")
	keep := flag.Bool("keep", false, "keep the image afterwards (it is removed if this example pulled it)")
	flag.Parse()
	ex.Main(func(ctx context.Context) error { return run(ctx, *image, *keep) })
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
	if hadIt {
		ex.Say("(you have it already: the registry is asked for a newer version, and only new layers would be downloaded)")
	}
	// WithProgress shows the layers as they download, like the docker CLI.
	if err := c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)); err != nil {
		return err
	}

	ex.Step("Look at what was downloaded", "docker image inspect "+image)
	img, err := c.InspectImage(ctx, image)
	if err != nil {
		return err
	}
	ex.Say("id:   %s", ex.Short(img.ID))
	ex.Say("tags: %v", img.Tags)
	ex.Say("size: %.1f MB", float64(img.Size)/1e6)
	ex.Look("`docker images` lists it now; no container runs yet: an image is only the blueprint")

	if keep || hadIt {
		fmt.Printf("\nThe image stays on your machine; remove it with `docker rmi %s` (or go run ./examples/rmi).\n", image)
		return nil
	}
	ctx, cancel := ex.Later(ctx)
	defer cancel()
	ex.Step("Clean up: remove the image again (pass -keep to keep it)", "docker rmi "+image)
	return c.RemoveImage(ctx, image)
}
