// Ps checks the state of containers: which are running, which have exited.
//
// It starts two containers, one that keeps running and one that finishes
// at once, and lists them as `docker ps` and `docker ps -a` would.
//
//	go run ./examples/ps
//	go run ./examples/ps -image alpine:3.20 -keep
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image to run the two containers from")
	keep := flag.Bool("keep", false, "keep the containers (they are removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/ps -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *keep) })
}

func run(ctx context.Context, image string, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		if keep {
			fmt.Println("\nKept both containers; `docker rm -f` them when done.")
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove both containers (pass -keep to keep them)", "docker rm -f ...")
		// Cleanup removes exactly what this client created, nothing else.
		if err := c.Cleanup(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	ex.Step("Start a container that keeps running", "docker run -d --init "+image+" sleep 3600")
	// WithInit puts a tiny init as process 1: it passes signals on, so the
	// container stops at once instead of after the 10 s grace period.
	busy, err := c.Run(ctx, image, lifecycle.WithCmd("sleep", "3600"), lifecycle.WithInit(),
		lifecycle.WithProgress(os.Stdout))
	if err != nil {
		return err
	}
	ex.Say("started %s", busy)

	ex.Step("Start a container that is done at once", "docker run -d "+image+" sh -c 'echo done; exit 3'")
	done, err := c.Run(ctx, image, lifecycle.WithCmd("sh", "-c", "echo done; exit 3"))
	if err != nil {
		return err
	}
	if _, err := done.Wait(ctx); err != nil {
		return err
	}
	ex.Say("started %s, and it has already exited", done)

	// Only this example's containers: they carry our session's label.
	mine := lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session())

	ex.Step("List the running containers", "docker ps")
	running, err := c.Containers(ctx, mine)
	if err != nil {
		return err
	}
	table(running)

	ex.Step("List all containers, stopped ones too", "docker ps -a")
	all, err := c.Containers(ctx, mine, lifecycle.WithAll())
	if err != nil {
		return err
	}
	table(all)
	ex.Say("an exited container keeps its files and its exit code until it is removed")
	ex.Look("`docker ps -a` shows the same two lines (and whatever else you run)")

	ex.Step("Ask about one container in detail", "docker inspect "+done.String())
	st, err := done.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("%s: status %s, exit code %d, ran %s", done, st.Status, st.ExitCode, st.FinishedAt.Sub(st.StartedAt).Round(time.Millisecond))
	return nil
}

// table prints containers in the columns docker ps uses.
func table(list []lifecycle.Summary) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "   CONTAINER ID\tIMAGE\tCOMMAND\tSTATUS\tNAMES")
	for _, s := range list {
		fmt.Fprintf(w, "   %s\t%s\t%q\t%s\t%s\n", ex.Short(s.ID), s.Image, s.Command, s.Status, s.Name)
	}
	_ = w.Flush()
}
