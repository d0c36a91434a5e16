// Command cyclebench times the seed's container cycle through the library
// and through the docker CLI, step by step:
//
//	go run ./internal/bench/cyclebench [-rounds 7]
//
// The cycle: pull an image from a registry, run it detached (sleep),
// list it (ps), exec a command in it, stop it, remove it, run it in the
// foreground with a custom entrypoint capturing the output, remove the
// image. The registry is go-containerregistry's, served by this process on
// 127.0.0.1 (which the engine treats as insecure, so plain HTTP); the busybox
// stand-in is pushed into it first. The CLI side is `docker pull`, `docker
// run -d`, `docker ps`, `docker exec`, `docker stop`, `docker rm`, `docker
// run --rm --entrypoint` and `docker rmi`, each a process as a person or a
// script would run it.
//
// Fairness: both sides run the same image and commands on the same engine;
// the sleeping container runs under an init process (WithInit / --init), so
// SIGTERM stops it at once, and both stop with a 1 s grace period. The
// library's foreground run is followed by its Remove inside the same step,
// as `docker run --rm` removes its container before it returns. One warm-up
// cycle per side is not counted (the first pull downloads the layers); then
// the rounds alternate which side goes first. Reported: the median per step
// and the median of the per-round totals, and their ratio library/CLI.
//
// What bounds the ratio: both sides ask the engine for the same work, and
// on this engine creating, starting, stopping and tearing down containers
// is most of the cycle (run -d ~190 ms, stop ~90 ms, the foreground run
// ~300 ms on a quiet 2-core machine). What the library saves is the CLI's
// cost per command: a process start and a ping, some 12-15 ms, which the
// light steps (ps, rm, rmi) show. The report prints that estimate and the
// lowest ratio it allows.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/google/go-containerregistry/pkg/registry"
)

var steps = []string{"pull", "run -d", "ps", "exec", "stop", "rm", "run --entrypoint", "rmi"}

// cliLabel marks the CLI side's containers, so they can be removed on exit.
const cliLabel = "dev.dockhand.bench=cyclebench"

const target = 0.75

func main() {
	rounds := flag.Int("rounds", 7, "measured rounds per side (at least 5)")
	image := flag.String("image", "dockhand.test/busybox:1", "local image to push into the registry and cycle")
	flag.Parse()
	if *rounds < 5 {
		fmt.Fprintln(os.Stderr, "cyclebench: -rounds must be at least 5")
		os.Exit(2)
	}
	if err := run(*rounds, *image); err != nil {
		fmt.Fprintln(os.Stderr, "cyclebench:", err)
		os.Exit(1)
	}
}

func run(rounds int, image string) (err error) {
	ctx := context.Background()
	docker, err := exec.LookPath("docker")
	if err != nil {
		return fmt.Errorf("the docker CLI is needed for the comparison: %w", err)
	}
	c, err := lifecycle.New(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, c.Cleanup(cctx), removeCLIContainers(cctx, c))
	}()
	if _, err := c.InspectImage(ctx, image); err != nil {
		return fmt.Errorf("%w (build the stand-ins with scripts/test-images)", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ref := ln.Addr().String() + "/dockhand/cyclebench:1"
	if err := c.Tag(ctx, image, ref); err != nil {
		return err
	}
	if err := c.Push(ctx, ref); err != nil {
		return err
	}
	if err := c.RemoveImage(ctx, ref); err != nil {
		return err
	}
	defer func() { _ = c.RemoveImage(context.Background(), ref) }()

	lib := func() ([]time.Duration, error) { return libraryCycle(ctx, c, ref) }
	cli := func() ([]time.Duration, error) { return cliCycle(ctx, docker, ref) }
	fmt.Printf("engine %s (API %s), registry %s, %d rounds per side after one warm-up each\n", c.Host(), c.APIVersion(), ln.Addr(), rounds)
	if _, err := lib(); err != nil {
		return fmt.Errorf("library warm-up: %w", err)
	}
	if _, err := cli(); err != nil {
		return fmt.Errorf("CLI warm-up: %w", err)
	}
	var libT, cliT [][]time.Duration
	for r := range rounds {
		first, second := lib, cli
		if r%2 == 1 {
			first, second = cli, lib
		}
		a, err := first()
		if err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		b, err := second()
		if err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		if r%2 == 1 {
			a, b = b, a
		}
		libT, cliT = append(libT, a), append(cliT, b)
	}
	report(os.Stdout, libT, cliT)
	return nil
}

// timer records the duration of each step in order.
type timer struct {
	last time.Time
	d    []time.Duration
}

func newTimer() *timer { return &timer{last: time.Now()} }

func (t *timer) lap() {
	now := time.Now()
	t.d = append(t.d, now.Sub(t.last))
	t.last = now
}

func libraryCycle(ctx context.Context, c *lifecycle.Client, ref string) ([]time.Duration, error) {
	t := newTimer()
	if err := c.Pull(ctx, ref); err != nil {
		return nil, err
	}
	t.lap()
	ctr, err := c.Run(ctx, ref, lifecycle.WithCmd("sleep", "300"), lifecycle.WithInit())
	if err != nil {
		return nil, err
	}
	t.lap()
	list, err := c.Containers(ctx, lifecycle.WithFilter("id", ctr.ID()))
	if err != nil {
		return nil, err
	}
	if len(list) != 1 || list[0].State != "running" {
		return nil, fmt.Errorf("ps: want the running container, got %+v", list)
	}
	t.lap()
	res, err := ctr.Exec(ctx, []string{"bash", "-c", "echo hello from bash"})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 || string(res.Stdout) != "hello from bash\n" {
		return nil, fmt.Errorf("exec: exit %d, output %q", res.ExitCode, res.Stdout)
	}
	t.lap()
	if err := ctr.Stop(ctx, lifecycle.WithGracePeriod(time.Second)); err != nil {
		return nil, err
	}
	t.lap()
	if err := ctr.Remove(ctx); err != nil {
		return nil, err
	}
	t.lap()
	var out bytes.Buffer
	one, err := c.Run(ctx, ref, lifecycle.WithEntrypoint("/bin/echo"), lifecycle.WithCmd("hello", "from", "echo"), lifecycle.WithStdout(&out))
	if err != nil {
		return nil, err
	}
	if err := one.Remove(ctx); err != nil {
		return nil, err
	}
	if out.String() != "hello from echo\n" {
		return nil, fmt.Errorf("run --entrypoint: output %q", out.String())
	}
	t.lap()
	if err := c.RemoveImage(ctx, ref); err != nil {
		return nil, err
	}
	t.lap()
	return t.d, nil
}

func cliCycle(ctx context.Context, docker, ref string) ([]time.Duration, error) {
	sh := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, docker, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return string(out), nil
	}
	t := newTimer()
	if _, err := sh("pull", ref); err != nil {
		return nil, err
	}
	t.lap()
	out, err := sh("run", "-d", "--init", "--label", cliLabel, ref, "sleep", "300")
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(out)
	t.lap()
	out, err = sh("ps", "--filter", "id="+id)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(out, id[:12]) || !strings.Contains(out, "Up ") {
		return nil, fmt.Errorf("ps: want the running container, got %q", out)
	}
	t.lap()
	out, err = sh("exec", id, "bash", "-c", "echo hello from bash")
	if err != nil {
		return nil, err
	}
	if out != "hello from bash\n" {
		return nil, fmt.Errorf("exec: output %q", out)
	}
	t.lap()
	if _, err := sh("stop", "-t", "1", id); err != nil {
		return nil, err
	}
	t.lap()
	if _, err := sh("rm", id); err != nil {
		return nil, err
	}
	t.lap()
	out, err = sh("run", "--rm", "--label", cliLabel, "--entrypoint", "/bin/echo", ref, "hello", "from", "echo")
	if err != nil {
		return nil, err
	}
	if out != "hello from echo\n" {
		return nil, fmt.Errorf("run --entrypoint: output %q", out)
	}
	t.lap()
	if _, err := sh("rmi", ref); err != nil {
		return nil, err
	}
	t.lap()
	return t.d, nil
}

func removeCLIContainers(ctx context.Context, c *lifecycle.Client) error {
	list, err := c.API().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", cliLabel))})
	if err != nil {
		return err
	}
	var errs []error
	for _, ct := range list {
		errs = append(errs, c.API().ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true}))
	}
	return errors.Join(errs...)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func column(rounds [][]time.Duration, i int) []time.Duration {
	out := make([]time.Duration, len(rounds))
	for r, d := range rounds {
		out[r] = d[i]
	}
	return out
}

func totals(rounds [][]time.Duration) []time.Duration {
	out := make([]time.Duration, len(rounds))
	for r, d := range rounds {
		for _, x := range d {
			out[r] += x
		}
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func report(w io.Writer, lib, cli [][]time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tlibrary\tdocker CLI\tlibrary/CLI\t")
	for i, s := range steps {
		l, c := median(column(lib, i)), median(column(cli, i))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t\n", s, ms(l), ms(c), float64(l)/float64(c))
	}
	l, c := median(totals(lib)), median(totals(cli))
	ratio := float64(l) / float64(c)
	fmt.Fprintf(tw, "total\t%s\t%s\t%.2f\t\n", ms(l), ms(c), ratio)
	_ = tw.Flush()
	verdict := "met"
	if ratio > target {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "medians over %d rounds per side; total is the median of the per-round totals. Target library/CLI <= %.2f: %s\n",
		len(lib), target, verdict)
	// The light steps are nearly all CLI overhead: estimate it per command.
	var over []time.Duration
	for i, s := range steps {
		if s == "ps" || s == "rm" || s == "rmi" {
			over = append(over, median(column(cli, i))-median(column(lib, i)))
		}
	}
	per := median(over)
	saved := time.Duration(len(steps)) * per
	fmt.Fprintf(w, "CLI overhead per command (ps, rm, rmi): ~%s; with the engine's work equal on both sides, %d commands allow a ratio of ~%.2f at best\n",
		ms(per), len(steps), float64(c-saved)/float64(c))
}
