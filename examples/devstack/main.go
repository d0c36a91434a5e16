// Devstack brings up the complete development environment of the notes app
// (examples/devstack/app) with one command: it builds the app's image,
// starts PostgreSQL and Redis, waits until they are healthy, starts the
// app, and waits until the app is healthy too. Think of it as the "set up
// for development" section of a README, in a form that runs.
//
//	go run ./examples/devstack             # up: the complete stack (compose.yaml)
//	go run ./examples/devstack services    # only PostgreSQL and Redis (compose.services.yaml),
//	                                       # to run the app on the host with `go run ./examples/devstack/app`
//	go run ./examples/devstack ps          # what runs, and its health
//	go run ./examples/devstack logs [-f]   # the logs of every service
//	go run ./examples/devstack down [-v]   # stop and remove; -v deletes the database too
//
// It does what `docker compose -f examples/devstack/compose.yaml up -d --build --wait`
// does, through Dockhand's compose package. Run it from the repository root
// (or pass -dir). With -offline (or DOCKHAND_OFFLINE=1) it uses the stand-in
// images that scripts/test-images builds, for machines without a registry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/filters"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

// The stand-ins of the public images, built offline by scripts/test-images.
var offlineImages = []string{
	"POSTGRES_IMAGE=dockhand.test/postgres:15",
	"REDIS_IMAGE=dockhand.test/redis:7",
	"GO_IMAGE=dockhand.test/golang:1.26",
}

type options struct {
	dir      string
	offline  bool
	volumes  bool
	rmi      bool
	follow   bool
	timeout  time.Duration
	services bool // compose.services.yaml only
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", filepath.Join("examples", "devstack"), "directory with compose.yaml and compose.services.yaml")
	flag.BoolVar(&o.offline, "offline", os.Getenv("DOCKHAND_OFFLINE") == "1", "use the offline stand-in images (dockhand.test/...) (DOCKHAND_OFFLINE=1)")
	flag.BoolVar(&o.volumes, "v", false, "down: delete the named volumes (the database) too")
	flag.BoolVar(&o.rmi, "rmi", false, "down: remove the app image that up built")
	flag.BoolVar(&o.follow, "f", false, "logs: keep following new lines (Ctrl-C to stop)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "up: limit for building, starting and waiting")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./examples/devstack [flags] [up|services|ps|logs|down]\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	cmd := "up"
	if flag.NArg() > 0 {
		cmd = flag.Arg(0)
		// Flags may follow the command too: down -v, logs -f.
		if err := flag.CommandLine.Parse(flag.Args()[1:]); err != nil || flag.NArg() > 0 {
			flag.Usage()
			os.Exit(2)
		}
	}
	// What to run instead when no registry can be reached: the same
	// command on the stand-ins (up names the images it could not pull).
	offline := ex.Offline{Command: "go run ./examples/devstack -offline"}
	if cmd != "up" {
		offline.Command += " " + cmd
	}
	ex.Main(offline, func(ctx context.Context) error {
		switch cmd {
		case "up":
			return up(ctx, o)
		case "services":
			o.services = true
			return up(ctx, o)
		case "ps":
			return ps(ctx, o)
		case "logs":
			return logs(ctx, o)
		case "down":
			return down(ctx, o)
		}
		flag.Usage()
		return fmt.Errorf("unknown command %q", cmd)
	})
}

// load reads compose.yaml (or compose.services.yaml) as `docker compose -f` would.
func load(ctx context.Context, o options) (*compose.Stack, *lifecycle.Client, error) {
	file := "compose.yaml"
	if o.services {
		file = "compose.services.yaml"
	}
	path := filepath.Join(o.dir, file)
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("%s not found: run this from the repository root, or pass -dir", path)
	}
	var env []string
	if o.offline {
		// Explicit variables win over the environment in compose.Load,
		// so only fill in what the environment does not already say.
		for _, kv := range offlineImages {
			if k, _, _ := strings.Cut(kv, "="); os.Getenv(k) == "" {
				env = append(env, kv)
			}
		}
	}
	p, err := compose.Load(ctx, compose.WithFiles(path), compose.WithVariables(env...))
	if err != nil {
		return nil, nil, err
	}
	c, err := ex.Client(ctx)
	if err != nil {
		return nil, nil, err
	}
	return compose.New(c, p), c, nil
}

func up(ctx context.Context, o options) error {
	st, c, err := load(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	p := st.Project()
	what := "the complete stack: " + strings.Join(p.ServiceNames(), ", ")
	if o.services {
		what = "the backing services only: " + strings.Join(p.ServiceNames(), ", ")
	}
	ex.Step("Bring up "+what+" (project "+st.Name()+")", "docker compose -f "+filepath.Join(o.dir, filepath.Base(p.ComposeFiles[0]))+" up -d --build --wait")
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if svc.Build != nil {
			ex.Say("%s: built from %s", name, svc.Build.Dockerfile)
		} else {
			ex.Say("%s: image %s", name, svc.Image)
		}
	}
	start := time.Now()
	err = st.Up(ctx, compose.WithBuild(), compose.WithWait(), compose.WithWaitTimeout(o.timeout),
		compose.WithRemoveOrphans(), compose.WithProgress(os.Stdout))
	if ex.RegistryUnreachable(err) {
		return ex.NoRegistry(ctx, c, err, o.offlineCommand(), images(p)...)
	}
	if err != nil {
		return fmt.Errorf("%w\n(the logs: go run ./examples/devstack logs; to clean up: go run ./examples/devstack down)", err)
	}
	ex.Say("up and healthy in %s", time.Since(start).Round(100*time.Millisecond))
	if err := pruneOldBuilds(ctx, c, st); err != nil {
		return err
	}
	if err := table(ctx, st); err != nil {
		return err
	}

	db, err := st.Port(ctx, "db", "5432")
	if err != nil {
		return err
	}
	cache, err := st.Port(ctx, "cache", "6379")
	if err != nil {
		return err
	}
	dbURL := (&url.URL{Scheme: "postgres", User: url.UserPassword("app", "app"), Host: db, Path: "/app", RawQuery: "sslmode=disable"}).String()
	redisURL := "redis://" + cache + "/0"
	if o.services {
		ex.Step("The services are ready: now run the app on your machine", "")
		fmt.Printf("\n  export DATABASE_URL='%s'\n  export REDIS_URL='%s'\n  go run ./examples/devstack/app\n\n", dbURL, redisURL)
		ex.ForwardNote(c)
		ex.Say("edit the code, stop the app with Ctrl-C, run it again: the data stays in PostgreSQL")
	} else {
		app, err := st.Port(ctx, "app", "8080")
		if err != nil {
			return err
		}
		ex.Step("The notes app is running at http://"+app, "")
		fmt.Printf("\n  curl -X POST -d '{\"title\":\"hello\",\"body\":\"my first note\"}' http://%s/notes\n", app)
		fmt.Printf("  curl http://%s/notes\n  curl http://%s/healthz\n\n", app, app)
		ex.Say("PostgreSQL is on %s and Redis on %s, for your own tools (psql %q)", db, cache, dbURL)
	}
	ex.Look("`docker ps --filter label=com.docker.compose.project=%s` (or `docker compose -p %s ps`)", st.Name(), st.Name())
	ex.Say("stop it with:  go run ./examples/devstack down      (the data stays in the volume)")
	ex.Say("or:            go run ./examples/devstack down -v   (the data is deleted too)")
	return nil
}

// offlineCommand is the command that brings up the same on the stand-ins.
func (o options) offlineCommand() string {
	if o.services {
		return "go run ./examples/devstack -offline services"
	}
	return "go run ./examples/devstack -offline"
}

// images lists the images that up pulls when they are missing: those the
// services run, and the base images of those it builds (the build
// arguments named *_IMAGE, as GO_IMAGE in the Dockerfile's FROM).
func images(p *types.Project) []string {
	var list []string
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if svc.Build == nil {
			list = append(list, svc.Image)
			continue
		}
		for k, v := range svc.Build.Args {
			if strings.HasSuffix(k, "_IMAGE") && v != nil && *v != "" {
				list = append(list, *v)
			}
		}
	}
	return list
}

func ps(ctx context.Context, o options) error {
	st, c, err := load(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	return table(ctx, st)
}

func table(ctx context.Context, st *compose.Stack) error {
	list, err := st.Ps(ctx, compose.WithAll())
	if err != nil {
		return err
	}
	if len(list) == 0 {
		ex.Say("nothing runs in project %s", st.Name())
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\n   NAME\tSERVICE\tSTATE\tHEALTH\tPORTS")
	for _, c := range list {
		fmt.Fprintf(w, "   %s\t%s\t%s\t%s\t%s\n", c.Name, c.Service, c.State, c.Health, strings.Join(c.Ports, ", "))
	}
	return w.Flush()
}

func logs(ctx context.Context, o options) error {
	st, c, err := load(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	var opts []compose.LogsOption
	if o.follow {
		opts = append(opts, compose.WithFollow())
	}
	err = st.Logs(ctx, os.Stdout, opts...)
	if o.follow && errors.Is(err, context.Canceled) {
		return nil // Ctrl-C ends following
	}
	return err
}

func down(ctx context.Context, o options) error {
	st, c, err := load(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := []compose.DownOption{compose.WithRemoveOrphans(), compose.WithProgress(os.Stdout)}
	cli := "docker compose -p " + st.Name() + " down"
	if o.volumes {
		opts = append(opts, compose.WithRemoveVolumes())
		cli += " -v"
	}
	if o.rmi {
		opts = append(opts, compose.WithRemoveImages())
		cli += " --rmi local"
	}
	ex.Step("Stop and remove the containers and the network of project "+st.Name(), cli)
	// Down must finish even after Ctrl-C: half-removed stacks are confusing.
	ctx, cancel := ex.Later(ctx)
	defer cancel()
	if err := st.Down(ctx, opts...); err != nil {
		return err
	}
	if o.rmi {
		if err := pruneOldBuilds(ctx, c, st); err != nil {
			return err
		}
	}
	if o.volumes {
		ex.Say("the volume %s and the data in it are deleted", volumeNames(st.Project()))
	} else {
		ex.Say("the data stays in the volume %s: the next up finds it (down -v deletes it)", volumeNames(st.Project()))
	}
	return nil
}

// pruneOldBuilds removes the app images of earlier ups: each build moves
// the image's name to the new image and leaves the old one unnamed
// ("dangling"). Only dangling images labelled with this project go.
func pruneOldBuilds(ctx context.Context, c *lifecycle.Client, st *compose.Stack) error {
	rep, err := c.API().ImagesPrune(ctx, filters.NewArgs(
		filters.Arg("dangling", "true"), filters.Arg("label", compose.LabelProject+"="+st.Name())))
	if err != nil {
		return fmt.Errorf("remove earlier builds: %w", err)
	}
	if len(rep.ImagesDeleted) > 0 {
		ex.Say("removed the app's earlier build (an image that lost its name to the new one)")
	}
	return nil
}

func volumeNames(p *types.Project) string {
	var names []string
	for key, v := range p.Volumes {
		name := v.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}
