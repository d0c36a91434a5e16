package lifecycle_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// An engine on another machine: ports are published where this client
// reaches them. With DOCKER_HOST=tcp://10.0.0.5:2375 the port binds to
// 10.0.0.5 and HostPort answers "10.0.0.5:49153"; with
// DOCKER_HOST=ssh://dev@buildbox it stays on the remote loopback and HostPort
// answers a local port that forwards over SSH while c is open.
func ExampleClient_PublishAddress() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx, lifecycle.WithDockerHost("tcp://10.0.0.5:2375"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("ports without a host address bind to", c.PublishAddress(ctx))
	ctr, err := c.Run(ctx, "redis:7", lifecycle.WithPorts("6379"))
	if err != nil {
		log.Fatal(err)
	}
	defer ctr.Remove(ctx, lifecycle.WithForce())
	addr, _ := ctr.HostPort(ctx, "6379")
	if err := waitfor.Wait(ctx, ctr.PortReady("6379"), waitfor.Redis(addr, "")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("redis at", addr)
}

// Behind a NAT no rule can guess the address: name it (or set
// DOCKHAND_HOST_OVERRIDE).
func ExampleWithHostOverride() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx, lifecycle.WithDockerHost("tcp://192.168.1.20:2375"),
		lifecycle.WithHostOverride("203.0.113.7"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctr, err := c.Run(ctx, "nginx:alpine", lifecycle.WithPorts("80"), lifecycle.WithAllInterfaces())
	if err != nil {
		log.Fatal(err)
	}
	defer ctr.Remove(ctx, lifecycle.WithForce())
	addr, _ := ctr.HostPort(ctx, "80") // "203.0.113.7:PORT"
	fmt.Println("http://" + addr + "/")
}
