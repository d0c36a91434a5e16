// Stoprm stops a running container and removes it.
//
// Stopping sends the main process a signal (SIGTERM) so it can finish its
// work, and kills it if it has not exited after a grace period. A stopped
// container still exists, with its files; removing it deletes it for good.
//
//	go run ./examples/stoprm
//	go run ./examples/stoprm -image redis:7-alpine
package main

import (
	"context"
	"errors"
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
	grace := flag.Duration("grace", 5*time.Second, "how long stop waits before it kills")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/stoprm -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *grace) })
}

func run(ctx context.Context, image string, grace time.Duration) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// Whatever happens below (an error, Ctrl-C), remove what we made.
	defer func() {
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		_ = c.Cleanup(ctx)
	}()

	ex.Step("Start a container whose process handles SIGTERM", "docker run -d "+image+" sh -c '...'")
	// The shell traps TERM, says goodbye and exits 0: a graceful shutdown.
	script := `trap 'echo "got SIGTERM, shutting down"; exit 0' TERM; echo "working"; while true; do sleep 1; done`
	ctr, err := c.Run(ctx, image, lifecycle.WithCmd("sh", "-c", script), lifecycle.WithProgress(os.Stdout))
	if err != nil {
		return err
	}
	st, err := ctr.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("%s is %s", ctr, st.Status)

	ex.Step("Stop it", fmt.Sprintf("docker stop -t %d %s", int(grace.Seconds()), ctr))
	start := time.Now()
	if err := ctr.Stop(ctx, lifecycle.WithGracePeriod(grace)); err != nil {
		return err
	}
	st, err = ctr.State(ctx)
	if err != nil {
		return err
	}
	ex.Say("stopped after %s: status %s, exit code %d", time.Since(start).Round(time.Millisecond), st.Status, st.ExitCode)
	var logs strings.Builder
	if err := ctr.Logs(ctx, &logs); err != nil {
		return err
	}
	ex.Say("its logs (docker logs %s):", ctr)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		ex.Say("  | %s", line)
	}
	ex.Look("`docker ps -a` still lists %s as Exited (%d): stopped is not gone", ctr, st.ExitCode)

	ex.Step("Remove it", "docker rm "+ctr.String())
	if err := ctr.Remove(ctx); err != nil {
		return err
	}
	_, err = ctr.State(ctx)
	if !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("container %s still there after remove: %v", ctr, err)
	}
	ex.Say("%s is gone: `docker ps -a` no longer lists it", ctr)

	ex.Step("Stop and remove in one go, for a container you do not need to stop gently", "docker rm -f NAME")
	other, err := c.Run(ctx, image, lifecycle.WithCmd("sleep", "3600"))
	if err != nil {
		return err
	}
	// WithForce kills the running container, then removes it.
	if err := other.Remove(ctx, lifecycle.WithForce()); err != nil {
		return err
	}
	ex.Say("started %s and removed it while it was running", other)
	return nil
}
