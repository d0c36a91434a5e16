// Command healthbench measures how soon lifecycle's Healthy condition
// notices that a container became healthy, or that it exited instead.
//
// For each trial it starts a container whose healthcheck passes after a
// random delay, waits for it with Healthy(), and compares the moment the
// wait returned with the timestamp the engine put on its
// `health_status: healthy` event, read from an events subscription of its
// own. It prints p50, p90 and max of that lag. (docker compose's
// depends_on: service_healthy polls every 500 ms: about 250 ms on average.)
// A second series does the same with containers that exit (code 3) after
// the delay, never healthy: the lag from the engine's die event to the
// failed wait, which includes reading the container's last log lines.
//
//	go run ./internal/bench/healthbench [-trials 20]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err) // after run's deferred cleanup
	}
}

func run() error {
	trials := flag.Int("trials", 20, "number of containers to start")
	image := flag.String("image", "dockhand.test/busybox:1", "image with sh, touch and test")
	minDelay := flag.Duration("min", 300*time.Millisecond, "shortest delay before the container turns healthy")
	maxDelay := flag.Duration("max", 1500*time.Millisecond, "longest delay before the container turns healthy")
	interval := flag.Duration("interval", 100*time.Millisecond, "healthcheck interval")
	flag.Parse()
	if *trials < 1 || *maxDelay < *minDelay {
		flag.Usage()
		os.Exit(2)
	}

	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Cleanup(cctx); err != nil {
			log.Print("cleanup: ", err)
		}
	}()

	for _, exits := range []bool{false, true} {
		what := "healthy"
		if exits {
			what = "exited"
		}
		var lags []time.Duration
		for i := range *trials {
			delay := *minDelay + rand.N(*maxDelay-*minDelay+1)
			lag, err := trial(ctx, c, *image, delay, *interval, exits)
			if err != nil {
				return fmt.Errorf("%s trial %d: %w", what, i+1, err)
			}
			fmt.Printf("trial %2d: %s after %-6v wait returned %v after the engine's event\n", i+1, what, delay.Round(time.Millisecond), lag.Round(10*time.Microsecond))
			lags = append(lags, lag)
		}
		slices.Sort(lags)
		event := "health_status: healthy"
		if exits {
			event = "die"
		}
		fmt.Printf("\n%d trials, lag from the engine's %s event to the return of the wait:\n", len(lags), event)
		fmt.Printf("p50 %v   p90 %v   max %v   (min %v)\n\n",
			pct(lags, 50).Round(10*time.Microsecond), pct(lags, 90).Round(10*time.Microsecond),
			lags[len(lags)-1].Round(10*time.Microsecond), lags[0].Round(10*time.Microsecond))
	}
	return nil
}

// trial runs one container and returns how long after the engine's healthy
// event (die event, when exits) the wait returned.
func trial(ctx context.Context, c *lifecycle.Client, image string, delay, interval time.Duration, exits bool) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	script := fmt.Sprintf("sleep %.3f; touch /tmp/ok; exec sleep 300", delay.Seconds())
	action := "health_status: healthy"
	if exits {
		script = fmt.Sprintf("sleep %.3f; echo giving up >&2; exit 3", delay.Seconds())
		action = "die"
	}
	ctr, err := c.Run(ctx, image, lifecycle.WithPull(lifecycle.PullNever), lifecycle.WithCmd("sh", "-c", script),
		lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
			cfg.Healthcheck = &container.HealthConfig{
				Test: []string{"CMD-SHELL", "test -f /tmp/ok"}, Interval: interval, Timeout: 5 * time.Second, Retries: 3,
			}
		}))
	if err != nil {
		return 0, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = ctr.Remove(rctx, lifecycle.WithForce())
	}()

	// An independent subscription, replaying from the container's
	// creation so no event can be missed.
	f := filters.NewArgs(filters.Arg("container", ctr.ID()), filters.Arg("event", "health_status"), filters.Arg("event", "die"))
	msgs, errs := c.API().Events(ctx, events.ListOptions{Filters: f, Since: "0"})
	healthy := make(chan time.Time, 1)
	go func() {
		for {
			select {
			case m := <-msgs:
				if string(m.Action) == action {
					healthy <- time.Unix(0, m.TimeNano)
					return
				}
			case <-errs:
				return
			}
		}
	}()

	err = (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, ctr.Healthy())
	returned := time.Now()
	var ee *lifecycle.ExitError
	switch {
	case exits && !errors.As(err, &ee):
		return 0, fmt.Errorf("want the exit, got %v", err)
	case !exits && err != nil:
		return 0, err
	}
	select {
	case at := <-healthy:
		return returned.Sub(at), nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("no %s event on the independent subscription", action)
	}
}

// pct is the nearest-rank p-th percentile of sorted.
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
