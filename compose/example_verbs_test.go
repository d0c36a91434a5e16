package compose_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/lifecycle"
)

// Run a test suite the way CI does with docker compose up
// --abort-on-container-exit --exit-code-from tests: Up returns when a
// container exits, stops the rest, and reports the tests' exit.
func ExampleWithExitCodeFrom() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.test.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	defer st.Down(ctx, compose.WithRemoveVolumes())
	err = st.Up(ctx, compose.WithExitCodeFrom("tests"), compose.WithPull(lifecycle.PullNever))
	var ee *lifecycle.ExitError
	switch {
	case err == nil:
		fmt.Println("tests passed")
	case errors.As(err, &ee):
		fmt.Println("tests failed with code", ee.ExitCode, "last lines:", ee.Logs)
		os.Exit(ee.ExitCode)
	default:
		log.Fatal(err)
	}
}

// List the compose projects on the engine, stopped ones too (docker
// compose ls -a).
func ExampleLs() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	stacks, err := compose.Ls(ctx, c, compose.WithAll())
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range stacks {
		fmt.Println(s.Name, s.Status, s.ConfigFiles)
	}
}

// Scale a service, run a one-off command in it with another entrypoint,
// user and mount, then freeze, inspect and signal the stack.
func ExampleStack_Kill() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	defer st.Down(ctx)
	if err := st.Up(ctx, compose.WithScale("worker", 3), compose.WithWait()); err != nil {
		log.Fatal(err)
	}
	code, err := st.Run(ctx, "worker", []string{"-c", "ls /data"}, compose.WithEntrypoint("sh"),
		compose.WithUser("1000"), compose.WithVolumes("./data:/data:ro"), compose.WithStdout(os.Stdout))
	fmt.Println("run exit code", code, err)
	_ = st.Pause(ctx, compose.WithServices("worker"))
	_ = st.Unpause(ctx, compose.WithServices("worker"))
	procs, _ := st.Top(ctx, compose.WithServices("worker"))
	for _, sp := range procs {
		fmt.Println(sp.Name, len(sp.Processes), "processes")
	}
	if err := st.Kill(ctx, compose.WithServices("worker"), compose.WithSignal("SIGHUP")); err != nil {
		log.Fatal(err)
	}
}

// Pull the images of the stack's services before going offline (docker
// compose pull --ignore-buildable), printing progress, then list the
// image each container runs (docker compose images).
func ExampleStack_Pull() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	if err := st.Pull(ctx, compose.WithIgnoreBuildable(), compose.WithProgress(os.Stderr)); err != nil {
		log.Fatal(err) // names each service and image that could not be pulled
	}
	if err := st.Up(ctx, compose.WithPull(lifecycle.PullNever)); err != nil {
		log.Fatal(err)
	}
	defer st.Down(ctx)
	images, err := st.Images(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, im := range images {
		fmt.Println(im.ContainerName, im.Repository+":"+im.Tag, im.ShortID(), im.Size)
	}
}

// Copy a configuration directory into every replica of a service, and a
// report out of its second replica (docker compose cp).
func ExampleStack_CopyTo() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	if err := st.Up(ctx, compose.WithScale("worker", 2), compose.WithWait()); err != nil {
		log.Fatal(err)
	}
	defer st.Down(ctx)
	// ./conf becomes /etc/app/conf in worker-1 and worker-2.
	if err := st.CopyTo(ctx, "worker", "./conf", "/etc/app"); err != nil {
		log.Fatal(err)
	}
	// /var/log/app/report.txt of worker-2 becomes ./out/report.txt.
	if err := st.CopyFrom(ctx, "worker", "/var/log/app/report.txt", "./out", compose.WithIndex(2)); err != nil {
		log.Fatal(err)
	}
}
