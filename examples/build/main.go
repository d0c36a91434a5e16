// Build packages an app into an image with a Dockerfile, then runs it.
//
// Packaging is the first of Docker's jobs: the image holds the app together
// with its whole environment (here a tiny web app in examples/build/app:
// a page, a CGI program, and busybox's web server to serve them). The
// Dockerfile in that directory says, step by step, how to make the image.
//
//	go run ./examples/build
//	go run ./examples/build -tag hello:dev -keep && docker run --rm -p 8080:8080 hello:dev
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	dir := flag.String("context", filepath.Join("examples", "build", "app"), "build context: the directory with the Dockerfile and the app")
	tag := flag.String("tag", "dockhand-examples/hello:1", "name for the new image")
	base := flag.String("base", "busybox:1.37", "base image (the Dockerfile's BASE build argument)")
	keep := flag.Bool("keep", false, "keep the image (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/build -base " + ex.Busybox, Images: []string{*base}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *dir, *tag, *base, *keep) })
}

func run(ctx context.Context, dir, tag, base string, keep bool) error {
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return fmt.Errorf("no Dockerfile in %s: run this from the repository root, or pass -context", dir)
	}
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		if keep {
			fmt.Printf("\nKept the image %s; `docker run --rm -p 8080:8080 %s` runs it, `docker rmi %s` removes it.\n", tag, tag, tag)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the image (pass -keep to keep it)", "docker rmi "+tag)
		// Everything this client made carries its session label: the
		// image, and the intermediate build layers.
		if err := c.Cleanup(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	ex.Step("Build the image from "+filepath.Join(dir, "Dockerfile"), "docker build --build-arg BASE="+base+" -t "+tag+" "+dir)
	// The base image must be there (the builder would pull it otherwise).
	if _, err := c.InspectImage(ctx, base); err != nil {
		if err := c.Pull(ctx, base, lifecycle.WithProgress(os.Stdout)); err != nil {
			return err
		}
	}
	id, err := c.Build(ctx, dir, lifecycle.WithTags(tag), lifecycle.WithBuildArgs("BASE="+base),
		lifecycle.WithProgress(os.Stdout))
	if err != nil {
		return err
	}
	img, err := c.InspectImage(ctx, id)
	if err != nil {
		return err
	}
	ex.Say("built image %s, %.1f MB, named %v", ex.Short(img.ID), float64(img.Size)/1e6, img.Tags)
	ex.Look("`docker history %s` shows one layer per Dockerfile step", tag)

	ex.Step("Run the packaged app", "docker run -d -p 127.0.0.1::8080 "+tag)
	ctr, err := c.Run(ctx, tag, lifecycle.WithPorts("8080"), lifecycle.WithInit(), lifecycle.WithPull(lifecycle.PullNever))
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = ctr.Remove(ctx, lifecycle.WithForce())
	}()
	addr, err := ctr.HostPort(ctx, "8080")
	if err != nil {
		return err
	}
	url := "http://" + addr + "/cgi-bin/hello"
	ex.Step("Ask the app for a greeting", "curl "+url)
	body, err := ex.Get(ctx, url)
	if err != nil {
		return err
	}
	ex.Say("answer: %s", strings.TrimSpace(body))
	ex.Say("GREETING came from the Dockerfile's ENV, the user from its USER line")
	return nil
}
