package lifecycle

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/dockhand/dockhand/waitfor"
)

// Listening is ready when a process listens on port ("5432", "5432/tcp",
// "53/udp": a bound UDP socket) inside the container's network namespace,
// on any address, loopback included. It needs nothing in the image, not
// even a shell: when the engine runs on this host it reads the socket
// tables of the container's namespace from /proc/<pid>/net/tcp and tcp6
// (udp, udp6) of the container's main process, checking by its cgroup that
// the pid is that container's. Otherwise (a remote engine, a Docker
// Desktop VM) it runs `cat /proc/net/tcp /proc/net/tcp6` in the container,
// which needs a cat there. (docker cp cannot help: the engine copies from
// the container's filesystem, where /proc is an empty mount point.)
func (ct *Container) Listening(port string) waitfor.Condition {
	if err := ct.valid("listening"); err != nil {
		return invalidCond{err}
	}
	p, err := normPort(port)
	return listenCond{ct: ct, port: p, portErr: err, raw: port}
}

type listenCond struct {
	ct      *Container
	port    nat.Port
	portErr error
	raw     string
}

func (l listenCond) String() string {
	if l.portErr != nil {
		return l.ct.condName("listening on " + l.raw)
	}
	return l.ct.condName("listening on " + string(l.port))
}

func (l listenCond) Check(ctx context.Context) error {
	if l.portErr != nil {
		return waitfor.Permanent(l.portErr)
	}
	ins, err := l.ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	_, err = l.ct.listening(ctx, ins, l.port, false)
	return err
}

// listening checks that something listens on p inside the container (on a
// non-loopback address when reachable is set: one the engine can forward a
// published port to). It returns how the sockets were read.
func (ct *Container) listening(ctx context.Context, ins container.InspectResponse, p nat.Port, reachable bool) (string, error) {
	if err := ct.stopped(ctx, ins); err != nil {
		return "", err
	}
	if !ins.State.Running || ins.State.Pid == 0 {
		return "", fmt.Errorf("container %s is %s", ct, ins.State.Status)
	}
	socks, how, err := ct.sockets(ctx, ins.State.Pid, p.Proto())
	if err != nil {
		return how, err
	}
	port := p.Int()
	loopbackOnly := false
	for _, s := range socks {
		if s.port != port || !s.listening {
			continue
		}
		if reachable && s.addr.IsLoopback() {
			loopbackOnly = true
			continue
		}
		return how, nil
	}
	if loopbackOnly {
		return how, fmt.Errorf("%s is only listened on on a loopback address inside container %s: a published port cannot reach it", p, ct)
	}
	return how, fmt.Errorf("nothing listens on %s inside container %s yet", p, ct)
}
