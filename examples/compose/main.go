// Compose starts a small stack described in a compose file
// (examples/compose/compose.yaml), then stops it, starts it again, and
// takes it down: the commands you use every day with a compose stack.
//
// A compose file lists the services of an app (the containers), with their
// images, ports, volumes and the order they need, so one command does what
// would otherwise be many docker run commands with long flags.
//
//	go run ./examples/compose
//	go run ./examples/compose -keep   # leave it running; later: docker compose -p hello-compose down -v
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/examples/internal/ex"
)

func main() {
	file := flag.String("file", filepath.Join("examples", "compose", "compose.yaml"), "compose file")
	project := flag.String("project", "", "project name (default: the file's name:, hello-compose)")
	busybox := flag.String("busybox", "busybox:1.37", "image of the web service")
	redis := flag.String("redis", "redis:7-alpine", "image of the cache service")
	keep := flag.Bool("keep", false, "leave the stack running at the end instead of taking it down")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/compose -busybox " + ex.Busybox + " -redis " + ex.Redis, Images: []string{*busybox, *redis}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *file, *project, *busybox, *redis, *keep) })
}

func run(ctx context.Context, file, project, busybox, redis string, keep bool) error {
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("%s not found: run this from the repository root, or pass -file", file)
	}
	// Load reads the file as `docker compose` does: variables from the
	// environment (and .env) fill in ${...}; here two come from our flags.
	loadOpts := []compose.LoadOption{compose.WithFiles(file), compose.WithVariables("BUSYBOX_IMAGE="+busybox, "REDIS_IMAGE="+redis)}
	if project != "" {
		loadOpts = append(loadOpts, compose.WithProjectName(project))
	}
	p, err := compose.Load(ctx, loadOpts...)
	if err != nil {
		return err
	}
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	st := compose.New(c, p)
	cli := "docker compose -p " + st.Name()

	ex.Step("Start the stack: "+strings.Join(p.ServiceNames(), " and ")+", in the order depends_on asks", "docker compose -f "+file+" up -d --wait")
	down := func() {
		if keep {
			fmt.Printf("\nThe stack is still running; `%s down -v` takes it down.\n", cli)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Take the stack down: containers, network and (with -v) volumes are removed", cli+" down -v")
		if err := st.Down(ctx, compose.WithRemoveVolumes(), compose.WithProgress(os.Stdout)); err != nil {
			fmt.Fprintln(os.Stderr, "down:", err)
		}
		ex.Look("`%s ps -a` and `docker volume ls` no longer list anything of %s", cli, st.Name())
	}
	defer down()
	if err := st.Up(ctx, compose.WithWait(), compose.WithWaitTimeout(3*time.Minute), compose.WithProgress(os.Stdout)); err != nil {
		return err
	}
	if err := table(ctx, st, cli+" ps"); err != nil {
		return err
	}
	addr, err := st.Port(ctx, "web", "8080")
	if err != nil {
		return err
	}
	ex.Say("web answers: %s", answer(ctx, "http://"+addr+"/"))
	ex.Look("`%s ps` in another terminal shows the same", cli)

	ex.Step("Stop the stack: the containers stop but stay, with their files", cli+" stop")
	if err := st.Stop(ctx, compose.WithProgress(os.Stdout)); err != nil {
		return err
	}
	if err := table(ctx, st, cli+" ps -a"); err != nil {
		return err
	}

	ex.Step("Start it again: the same containers run again", cli+" start")
	if err := st.Start(ctx, compose.WithProgress(os.Stdout)); err != nil {
		return err
	}
	if err := table(ctx, st, cli+" ps"); err != nil {
		return err
	}
	// The host port may change on start when it was chosen by the engine.
	if addr, err = st.Port(ctx, "web", "8080"); err != nil {
		return err
	}
	ex.Say("web answers: %s", answer(ctx, "http://"+addr+"/"))
	ex.Say("(a new start time: the main process ran again, in the same container)")

	ex.Step("Run a command in a service's container", cli+" exec cache redis-cli info server")
	res, err := st.Exec(ctx, "cache", []string{"redis-cli", "info", "server"})
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if strings.HasPrefix(line, "redis_version") || strings.HasPrefix(line, "uptime_in_seconds") {
			ex.Say("%s", strings.TrimSpace(line))
		}
	}
	return nil
}

func table(ctx context.Context, st *compose.Stack, cli string) error {
	list, err := st.Ps(ctx, compose.WithAll())
	if err != nil {
		return err
	}
	ex.Say("%s:", cli)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "     NAME\tID\tSTATE\tHEALTH\tPORTS")
	for _, c := range list {
		fmt.Fprintf(w, "     %s\t%s\t%s\t%s\t%s\n", c.Name, ex.Short(c.ID), c.State, c.Health, strings.Join(c.Ports, ", "))
	}
	return w.Flush()
}

// answer returns the page at url (see ex.Get), or what went wrong, for printing.
func answer(ctx context.Context, url string) string {
	body, err := ex.Get(ctx, url)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return strings.TrimSpace(body)
}
