package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"regexp"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// Wait until a container's healthcheck passes. The wait follows the
// engine's events, so it returns within milliseconds of the change; it
// fails at once, with the exit code and the last log lines, if the
// container exits first.
func ExampleContainer_Healthy() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	db, err := c.Run(ctx, "dockhand.test/postgres:15", lifecycle.WithEnv("POSTGRES_PASSWORD=example"),
		lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
			cfg.Healthcheck = &container.HealthConfig{
				Test:     []string{"CMD-SHELL", "pg_isready -U postgres"},
				Interval: 500 * time.Millisecond,
				Retries:  60,
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Remove(ctx, lifecycle.WithForce())

	w := waitfor.Waiter{Timeout: time.Minute}
	if err := w.Wait(ctx, db.Healthy()); err != nil {
		var exit *lifecycle.ExitError
		if errors.As(err, &exit) {
			log.Fatalf("the database died (code %d): %v", exit.ExitCode, exit.Logs)
		}
		log.Fatal(err)
	}
	fmt.Println("database healthy")
}

// Wait for the server's port to answer on the host. PortReady is not fooled
// by docker-proxy, which accepts connections on the published port before
// anything listens in the container.
func ExampleContainer_PortReady() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	web, err := c.Run(ctx, "dockhand.test/busybox:1", lifecycle.WithPorts("80"),
		lifecycle.WithCmd("sh", "-c", "sleep 1; exec httpd -f -p 80 -h /"))
	if err != nil {
		log.Fatal(err)
	}
	defer web.Remove(ctx, lifecycle.WithForce())

	if err := (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, web.PortReady("80")); err != nil {
		log.Fatal(err)
	}
	addr, _ := web.HostPort(ctx, "80")
	fmt.Println("serving on http://" + addr)
}

// Wait for several things at once: a log line, a listening port (checked
// from the host's /proc, so it works in images without a shell) and a
// command.
func ExampleContainer_LogLine() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	cache, err := c.Run(ctx, "dockhand.test/redis:7")
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Remove(ctx, lifecycle.WithForce())

	err = (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx,
		cache.LogLine(regexp.MustCompile(`Ready to accept connections`), 1),
		cache.Listening("6379"),
		cache.ExecSucceeds("redis-cli", "ping"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("redis is up")
}

// Run a one-off job and require that it succeeds.
func ExampleContainer_Exited() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	job, err := c.Run(ctx, "dockhand.test/busybox:1", lifecycle.WithCmd("sh", "-c", "echo migrating; sleep 1"))
	if err != nil {
		log.Fatal(err)
	}
	defer job.Remove(ctx, lifecycle.WithForce())

	// A different exit code fails at once, with the job's last log lines.
	if err := waitfor.Wait(ctx, job.Exited(0)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("migrated")
}
