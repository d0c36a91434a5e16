// Ports publishes a port of a container on the host, then asks the service
// behind it for a page, from the host.
//
// A container has its own network: nothing outside can reach it until you
// publish (forward) one of its ports to a port of the host. Here a small web
// server listens on port 8080 inside the container; publishing maps a host
// port to it. Dockhand binds published ports to 127.0.0.1 by default, so a
// development service is not opened to your whole network.
//
//	go run ./examples/ports                 # a free host port is chosen
//	go run ./examples/ports -port 8081 -keep
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "image with busybox's httpd")
	port := flag.Int("port", 0, "host port to publish on (0: any free port)")
	keep := flag.Bool("keep", false, "keep the web server running (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/ports -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *port, *keep) })
}

func run(ctx context.Context, image string, port int, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	spec, hostPort := "8080", "" // container port only: the engine picks a free host port
	if port != 0 {
		hostPort = fmt.Sprint(port)
		spec = hostPort + ":8080" // host port : container port
	}
	ex.Step("Start a web server in a container, publishing its port 8080", "docker run -d -p "+c.PublishAddress(ctx)+":"+hostPort+":8080 "+image+" httpd ...")
	script := `mkdir -p /www && echo "hello from container $(hostname)" > /www/index.html && exec httpd -f -v -p 8080 -h /www`
	ctr, err := c.Run(ctx, image, lifecycle.WithCmd("sh", "-c", script), lifecycle.WithPorts(spec),
		lifecycle.WithInit(), lifecycle.WithProgress(os.Stdout))
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			fmt.Printf("\nKept %s running; `docker rm -f %s` stops it.\n", ctr, ctr)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the container (pass -keep to keep it)", "docker rm -f "+ctr.String())
		if err := ctr.Remove(ctx, lifecycle.WithForce()); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	ex.Step("Find out which host port it got", "docker port "+ctr.String()+" 8080")
	addr, err := ctr.HostPort(ctx, "8080")
	if err != nil {
		return err
	}
	ex.Say("container port 8080 is published on %s", addr)

	url := "http://" + addr + "/"
	ex.Step("Ask the web server for its page, from the host", "curl "+url)
	body, err := ex.Get(ctx, url)
	if err != nil {
		return err
	}
	ex.Say("answer: %s", strings.TrimSpace(body))
	ex.Look("`docker ps` shows %s:%s->8080/tcp in the PORTS column", c.PublishAddress(ctx), addr[strings.LastIndex(addr, ":")+1:])
	if keep {
		ex.ForwardNote(c)
		ex.Look("open %s in a browser", url)
	}
	return nil
}
