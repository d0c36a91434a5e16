package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/dockhand/dockhand/waitfor"
)

// PortReady is ready when the container's published port answers on the
// host. A successful dial proves nothing by itself: Docker's userland
// proxy (docker-proxy) accepts connections on the host port before
// anything listens in the container, and closes them once it fails to
// reach the container. So PortReady requires, in this order:
//
//  1. the port is published (a host port is bound);
//  2. a process listens on it inside the container, on an address the
//     engine can forward to, i.e. not loopback only (as Listening);
//  3. for tcp, a connection to the host port opens and is not closed or
//     reset within 20 ms: the proxy closes at once the connections it
//     cannot forward.
//
// udp ports get steps 1 and 2 only: UDP has no handshake to test.
func (ct *Container) PortReady(port string) waitfor.Condition {
	if err := ct.valid("port ready"); err != nil {
		return invalidCond{err}
	}
	p, err := normPort(port)
	return portReadyCond{listenCond{ct: ct, port: p, portErr: err, raw: port}}
}

type portReadyCond struct{ l listenCond }

// proxyWindow is how long a fresh connection to the host port must stay
// open: docker-proxy closes the ones it cannot forward within a
// millisecond or so.
const proxyWindow = 20 * time.Millisecond

func (p portReadyCond) String() string {
	name := p.l.raw
	if p.l.portErr == nil {
		name = string(p.l.port)
	}
	return p.l.ct.condName("port " + name + " ready on the host")
}

func (p portReadyCond) Check(ctx context.Context) error {
	if p.l.portErr != nil {
		return waitfor.Permanent(p.l.portErr)
	}
	ct := p.l.ct
	ins, err := ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	if err := ct.stopped(ctx, ins); err != nil {
		return err
	}
	if ins.HostConfig != nil && len(ins.HostConfig.PortBindings[p.l.port]) == 0 && !ins.HostConfig.PublishAllPorts {
		return waitfor.Permanent(invalidf("container %s does not publish port %s", ct, p.l.port))
	}
	addr, err := ct.c.hostPortOf(ctx, ins, p.l.port, ct.String())
	if err != nil {
		return err
	}
	if _, err := ct.listening(ctx, ins, p.l.port, true); err != nil {
		return err
	}
	if p.l.port.Proto() != "tcp" {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(proxyWindow))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		return nil // the server spoke first
	case errors.As(err, &ne) && ne.Timeout():
		return nil // still open: forwarded
	default:
		return fmt.Errorf("connection to %s (port %s of container %s) closed at once: %w", addr, p.l.port, ct, err)
	}
}
