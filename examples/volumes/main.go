// Volumes keeps data beyond the life of a container.
//
// A container's own files go away when the container is removed. A volume
// is storage that Docker keeps on the host: mount it into a container, write
// to it, remove the container, and the next container that mounts the same
// volume finds the data. Databases keep their data in volumes this way.
//
//	go run ./examples/volumes
//	go run ./examples/volumes -volume my-notes -keep   # run twice: the notes add up
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to run")
	volume := flag.String("volume", "dockhand-examples-notes", "name of the volume")
	keep := flag.Bool("keep", false, "keep the volume (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/volumes -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *volume, *keep) })
}

func run(ctx context.Context, image, volume string, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	ex.Step("Create a volume", "docker volume create "+volume)
	v, err := c.CreateVolume(ctx, volume)
	if err != nil {
		return err
	}
	ex.Say("volume %s, kept by the %s driver at %s (on the Docker host)", v.Name, v.Driver, v.Mountpoint)
	// Creating a volume that exists returns it unchanged: then it is not ours to remove.
	existed := v.Labels[lifecycle.LabelSession] != c.Session()
	if existed {
		ex.Say("(it existed already, with what earlier runs wrote: it will be kept)")
	}
	defer func() {
		if keep || existed {
			fmt.Printf("\nKept the volume; `docker volume rm %s` removes it.\n", volume)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the volume (pass -keep to keep it)", "docker volume rm "+volume)
		if err := c.RemoveVolume(ctx, volume); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	note := "note written at " + time.Now().Format(time.TimeOnly)
	ex.Step("A first container writes a note into the volume, mounted at /data", "docker run -v "+volume+":/data "+image+" sh -c 'echo ... >> /data/notes.txt'")
	first, err := runOnce(ctx, c, image, volume, `echo "$NOTE" >> /data/notes.txt && echo "wrote: $NOTE" && touch /not-in-the-volume`, "NOTE="+note)
	if err != nil {
		return err
	}

	ex.Step("Remove that container", "docker rm "+first.String())
	if err := first.Remove(ctx); err != nil {
		return err
	}
	ex.Say("%s is gone, and so is /not-in-the-volume, which lived in the container's own files", first)

	ex.Step("A second, brand-new container mounts the same volume and reads it", "docker run -v "+volume+":/data "+image+" cat /data/notes.txt")
	second, err := runOnce(ctx, c, image, volume, `cat /data/notes.txt; ls /not-in-the-volume 2>/dev/null || echo "(no /not-in-the-volume here)"`)
	if err != nil {
		return err
	}
	if err := second.Remove(ctx); err != nil {
		return err
	}
	ex.Say("the note survived the container that wrote it")
	ex.Look("`docker volume ls` lists %s; `docker volume inspect %s` shows where it lives", volume, volume)
	return nil
}

// runOnce runs script in a new container with the volume at /data, waits
// for it, and prints its output. A container that failed is removed.
func runOnce(ctx context.Context, c *lifecycle.Client, image, volume, script string, env ...string) (*lifecycle.Container, error) {
	var out strings.Builder
	ctr, err := c.Run(ctx, image,
		lifecycle.WithVolumes(volume+":/data"),
		lifecycle.WithEnv(env...),
		lifecycle.WithCmd("sh", "-c", script),
		lifecycle.WithStdout(&out), lifecycle.WithStderr(&out),
		lifecycle.WithProgress(os.Stdout))
	if ctr == nil {
		return nil, err
	}
	if err != nil { // an *ExitError: the container exited non-zero
		err = fmt.Errorf("%w: %s", err, out.String())
		rctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = ctr.Remove(rctx, lifecycle.WithForce())
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ex.Say("  | %s", line)
	}
	return ctr, nil
}
