package lifecycle_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// The seed's walk-through: pull, run, ps, exec, stop, rm, rmi.
func Example() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx) // DOCKER_HOST, TLS and Docker contexts as the CLI reads them
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.Pull(ctx, "busybox:latest", lifecycle.WithProgress(os.Stdout)); err != nil {
		log.Fatal(err)
	}
	ctr, err := c.Run(ctx, "busybox:latest", lifecycle.WithCmd("sleep", "300"))
	if err != nil {
		log.Fatal(err)
	}
	running, _ := c.Containers(ctx, lifecycle.WithFilter("id", ctr.ID()))
	fmt.Println(running[0].Name, running[0].State)

	res, err := ctr.Exec(ctx, []string{"sh", "-c", "echo hello from $(hostname)"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(res.Stdout))

	_ = ctr.Stop(ctx, lifecycle.WithGracePeriod(2*time.Second))
	_ = ctr.Remove(ctx)
	_ = c.RemoveImage(ctx, "busybox:latest")
}

// Run in the foreground with a custom entrypoint and capture what it prints.
func ExampleClient_Run_entrypoint() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctr, err := c.Run(ctx, "busybox:latest",
		lifecycle.WithEntrypoint("/bin/echo"), lifecycle.WithCmd("custom", "entrypoint"),
		lifecycle.WithStdout(os.Stdout)) // attached: returns when the container exits
	if err != nil {
		log.Fatal(err)
	}
	code, _ := ctr.Wait(ctx)
	fmt.Println("exit code", code)
	_ = ctr.Remove(ctx)
}

// Publish a port (on 127.0.0.1 unless asked otherwise) and find where it landed.
func ExampleContainer_HostPort() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctr, err := c.Run(ctx, "nginx:alpine", lifecycle.WithPorts("80")) // a random host port
	if err != nil {
		log.Fatal(err)
	}
	defer ctr.Remove(ctx, lifecycle.WithForce())
	addr, _ := ctr.HostPort(ctx, "80")
	fmt.Println("http://" + addr + "/")
}

// A named volume keeps its data after the container that wrote it is gone.
func ExampleClient_CreateVolume() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateVolume(ctx, "notes"); err != nil {
		log.Fatal(err)
	}
	w, _ := c.Run(ctx, "busybox:latest", lifecycle.WithVolumes("notes:/data"),
		lifecycle.WithCmd("sh", "-c", "echo kept > /data/note"), lifecycle.WithStdout(os.Stdout))
	_ = w.Remove(ctx)
	r, _ := c.Run(ctx, "busybox:latest", lifecycle.WithVolumes("notes:/data:ro"),
		lifecycle.WithCmd("cat", "/data/note"), lifecycle.WithStdout(os.Stdout)) // prints "kept"
	_ = r.Remove(ctx)
	_ = c.RemoveVolume(ctx, "notes")
}

// Package an app with its Dockerfile, then distribute it to a registry.
func ExampleClient_Build() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	id, err := c.Build(ctx, "./app", lifecycle.WithTags("registry.example.com/team/app:1.0"),
		lifecycle.WithBuildArgs("VERSION=1.0"), lifecycle.WithProgress(os.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("built", id)
	// Credentials come from ~/.docker/config.json (docker login) unless WithAuth is given.
	if err := c.Push(ctx, "registry.example.com/team/app:1.0", lifecycle.WithProgress(os.Stdout)); err != nil {
		log.Fatal(err)
	}
}

// Remove everything a session created, e.g. at the end of a test.
func ExampleClient_Cleanup() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer func() { _ = c.Cleanup(ctx) }() // containers, networks, volumes, images of this session only
	// A crashed earlier run (killed with SIGKILL) left resources behind? Sweep them.
	swept, _ := c.Sweep(ctx)
	fmt.Println("swept:", swept)
}
