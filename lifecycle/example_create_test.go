package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// Create a container on two networks without starting it, rename it, then
// start it and wait until it runs (docker create, rename, start).
func ExampleClient_Create() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	front, err := c.CreateNetwork(ctx, "example-front")
	if err != nil {
		log.Fatal(err)
	}
	defer c.RemoveNetwork(ctx, front.ID)
	back, err := c.CreateNetwork(ctx, "example-back", lifecycle.WithNetworkConfig(func(o *network.CreateOptions) {
		o.Attachable = true // what the options do not cover
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.RemoveNetwork(ctx, back.ID)

	ctr, err := c.Create(ctx, "dockhand.test/busybox:1", lifecycle.WithCmd("sleep", "300"), lifecycle.WithInit(),
		lifecycle.WithName("example-web"), lifecycle.WithPorts("80"),
		lifecycle.WithNetwork(front.Name, "web"), lifecycle.WithNetwork(back.Name, "web-internal"))
	if err != nil {
		log.Fatal(err)
	}
	defer ctr.Remove(ctx, lifecycle.WithForce())
	if err := ctr.Rename(ctx, "example-web-2"); err != nil {
		log.Fatal(err)
	}
	if err := ctr.Start(ctx); err != nil {
		log.Fatal(err)
	}
	if err := waitfor.Wait(ctx, ctr.Ready()); err != nil {
		log.Fatal(err)
	}
	list, err := c.Containers(ctx, lifecycle.WithFilter("name", "example-web-2"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(list[0].Name, list[0].State, list[0].Ports) // example-web-2 running [127.0.0.1:49153->80/tcp]
}

// Wait as docker compose does: service_healthy fails at once on an
// unhealthy container; up --wait wants running, or healthy if there is a
// healthcheck, and accepts a one-shot job that exited 0.
func ExampleContainer_Ready() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	job, err := c.Run(ctx, "dockhand.test/busybox:1", lifecycle.WithCmd("sh", "-c", "echo migrated"))
	if err != nil {
		log.Fatal(err)
	}
	defer job.Remove(ctx, lifecycle.WithForce())
	err = waitfor.Wait(ctx, job.Ready(lifecycle.WithFailUnhealthy(), lifecycle.WithExitZero()))
	var exit *lifecycle.ExitError
	switch {
	case errors.As(err, &exit) && exit.Status == "unhealthy":
		log.Fatalf("unhealthy: %v", exit.Logs)
	case errors.As(err, &exit):
		log.Fatalf("exited with code %d: %v", exit.ExitCode, exit.Logs)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("ready")
}
