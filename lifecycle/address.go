package lifecycle

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/internal/redact"
)

// HostOverrideEnv names the environment variable that forces the address
// at which published ports are reached (and bound), as WithHostOverride does.
const HostOverrideEnv = "DOCKHAND_HOST_OVERRIDE"

// WithHostOverride forces the address at which this client reaches
// published ports (HostPort, PortReady, compose's Port), for networks no
// rule can guess: a NAT in front of a remote engine, a name that resolves
// differently on the engine's side. Ports whose spec gives no host address
// are then bound to addr when it is an IP address (or a name resolving to
// one) and to 127.0.0.1 when it is a loopback address. It wins over the
// DOCKHAND_HOST_OVERRIDE environment variable.
func WithHostOverride(addr string) ClientOption {
	return func(c *clientConfig) error {
		if err := validOverride(addr); err != nil {
			return err
		}
		c.hostOverride = addr
		return nil
	}
}

func validOverride(addr string) error {
	if addr == "" || strings.ContainsAny(addr, "/:@ ") && net.ParseIP(addr) == nil {
		return invalidf("invalid host override %q: want an IP address or a host name, without port or scheme", addr)
	}
	return nil
}

// routeKind says how the client and the engine's published ports relate.
type routeKind int

const (
	routeLocal     routeKind = iota // same machine: loopback
	routeTCP                        // another machine over tcp://
	routeSSH                        // another machine over ssh://: forwarded
	routeContainer                  // client in a container of a local engine
	routeOverride                   // DOCKHAND_HOST_OVERRIDE / WithHostOverride
)

func (k routeKind) String() string {
	return [...]string{"local", "tcp", "ssh", "container", "override"}[k]
}

// portRoute is the one rule per client for published ports: the host
// address a port without one is bound to (bind) and the address the client
// dials for a port bound there or on all interfaces (reach).
type portRoute struct {
	kind  routeKind
	bind  string // "127.0.0.1", "10.200.0.1", ...
	reach string // host part the client dials; empty for ssh (forwarded)
}

// decideRoute applies the rule to the engine address the client connects
// to. lookup resolves host names (net.DefaultResolver in New, a table in
// tests). The in-container case is decided later, from the engine (see
// Client.route), because it needs an engine round trip.
//
//   - unix://, npipe://, tcp:// to a loopback address, to an unspecified
//     one (0.0.0.0, ::) or to one of this machine's own addresses: bind and
//     reach 127.0.0.1;
//   - tcp:// to another address: bind and reach that address (resolved to
//     an IP), so the port is open on the one interface the client reaches
//     the engine by, not on every interface. When the engine cannot bind it
//     (NAT, a name that resolves differently there) the start fails with an
//     error naming WithAllInterfaces and DOCKHAND_HOST_OVERRIDE: ports are
//     never opened on all interfaces unless asked;
//   - ssh://: bind the remote 127.0.0.1; the client reaches each port
//     through a local listener forwarding over SSH;
//   - an override: reach it; bind it when it is an IP address (127.0.0.1
//     when loopback). An unspecified override (0.0.0.0, ::) is rejected;
//     a loopback override of an ssh:// engine keeps the SSH forward.
func decideRoute(ctx context.Context, host, override string, lookup func(context.Context, string) ([]net.IP, error)) (portRoute, error) {
	if override != "" {
		if err := validOverride(override); err != nil {
			return portRoute{}, err
		}
		r := portRoute{kind: routeOverride, reach: override, bind: "127.0.0.1"}
		ip, err := firstIP(ctx, override, lookup)
		if err != nil {
			return portRoute{}, invalidf("host override %q: cannot resolve it: %v", override, err)
		}
		if ip.IsUnspecified() {
			// Binding there would open every port on all interfaces.
			return portRoute{}, invalidf("invalid host override %q: an unspecified address (all interfaces) cannot be reached; want the address of the engine host", override)
		}
		if ip.IsLoopback() && strings.HasPrefix(host, "ssh://") {
			// The remote loopback is reached through the SSH forward,
			// not at this machine's loopback.
			return portRoute{kind: routeSSH, bind: "127.0.0.1"}, nil
		}
		if !ip.IsLoopback() {
			r.bind = ip.String()
		}
		return r, nil
	}
	u, err := url.Parse(host)
	host = redact.URL(host) // for messages: a URL may hold a password
	if err != nil || u.Scheme == "" {
		return portRoute{}, invalidf("invalid engine host %q: want unix:///path, tcp://host:port or ssh://[user@]host[:port]", host)
	}
	local := portRoute{kind: routeLocal, bind: "127.0.0.1", reach: "127.0.0.1"}
	switch u.Scheme {
	case "unix", "npipe":
		return local, nil
	case "ssh":
		return portRoute{kind: routeSSH, bind: "127.0.0.1"}, nil
	case "tcp", "http", "https":
		name := u.Hostname()
		if name == "" {
			return portRoute{}, invalidf("invalid engine host %q: no host name in it", host)
		}
		ip, err := firstIP(ctx, name, lookup)
		if err != nil {
			return portRoute{}, &classified{msg: fmt.Sprintf("engine host %q: cannot resolve %q", host, name), class: ErrUnavailable, cause: err}
		}
		// 0.0.0.0 and :: as a client address mean this machine; so does
		// one of its own addresses. Never bind all interfaces from them.
		if ip.IsLoopback() || ip.IsUnspecified() || isOwnAddress(ip) {
			return local, nil
		}
		return portRoute{kind: routeTCP, bind: ip.String(), reach: ip.String()}, nil
	default:
		return portRoute{}, invalidf("invalid engine host %q: unknown scheme %q (want unix, npipe, tcp or ssh)", host, u.Scheme)
	}
}

// firstIP resolves name (an IP literal resolves to itself), preferring IPv4.
func firstIP(ctx context.Context, name string, lookup func(context.Context, string) ([]net.IP, error)) (net.IP, error) {
	if name == "localhost" {
		return net.IPv4(127, 0, 0, 1), nil
	}
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		return ip, nil
	}
	ips, err := lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address for %q", name)
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip, nil
		}
	}
	return ips[0], nil
}

// interfaceAddrs lists this machine's addresses (a variable for tests).
var interfaceAddrs = net.InterfaceAddrs

// isOwnAddress reports whether ip is an address of this machine: an engine
// reached there is local.
func isOwnAddress(ip net.IP) bool {
	addrs, err := interfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func lookupIP(ctx context.Context, name string) ([]net.IP, error) {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, name)
	if err != nil {
		return nil, err
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, nil
}

// routeState holds a client's route; the in-container case of a local
// engine is decided once, at the first need, from the engine.
type routeState struct {
	mu        sync.Mutex
	decided   bool          // the in-container question is answered
	detecting chan struct{} // closed when the running detection ends
	route     portRoute
	fwd       *sshForward
	bindWarn  sync.Once // remotemount.go
}

// route returns the client's port rule. For a local engine it asks the
// engine, once, whether this process runs in one of its containers (see
// detectContainer): then ports are bound to and reached at that
// container network's gateway, the engine host's address on it.
//
// The engine is asked without holding the lock, on the ctx of the caller
// that asks; concurrent callers wait for that answer on their own ctx (and
// get the local route if theirs ends first), and ask again themselves if
// that detection failed.
func (c *Client) route(ctx context.Context) portRoute {
	rs := c.ports
	for {
		rs.mu.Lock()
		if rs.decided || rs.route.kind != routeLocal || !c.unixEngine {
			r := rs.route
			rs.mu.Unlock()
			return r
		}
		if ch := rs.detecting; ch != nil {
			r := rs.route
			rs.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return r // undecided: the local route, as for a failed detection
			}
		}
		ch := make(chan struct{})
		rs.detecting = ch
		rs.mu.Unlock()

		gw, ok, err := c.detectContainer(ctx)

		rs.mu.Lock()
		rs.detecting = nil
		close(ch)
		if err != nil {
			// Not decided: asked again next time (the engine or ctx failed).
			c.logger.Debug("could not tell whether this client runs in a container of its engine", "error", err)
		} else {
			rs.decided = true
			if ok {
				rs.route = portRoute{kind: routeContainer, bind: gw, reach: gw}
				c.logger.Debug("client runs in a container of its engine: ports bound and reached at the gateway", "gateway", gw)
			}
		}
		r := rs.route
		rs.mu.Unlock()
		return r
	}
}

// bindAddress is the host address given to published ports whose spec
// names none (unless WithAllInterfaces).
func (c *Client) bindAddress(ctx context.Context) string { return c.route(ctx).bind }

// reachAddress turns a binding the engine reports (host IP, host port) into
// the address this client dials.
func (c *Client) reachAddress(ctx context.Context, hostIP, hostPort string) (string, error) {
	r := c.route(ctx)
	all := hostIP == "" || hostIP == "0.0.0.0" || hostIP == "::"
	loop := false
	if ip := net.ParseIP(hostIP); ip != nil && ip.IsLoopback() {
		loop = true
	}
	switch {
	case r.kind == routeSSH && (all || loop):
		target := hostIP
		if all {
			target = "127.0.0.1"
		}
		return c.ports.fwd.local(net.JoinHostPort(target, hostPort))
	case r.kind == routeLocal && all && hostIP == "::":
		return net.JoinHostPort("::1", hostPort), nil
	case all || hostIP == r.bind:
		return net.JoinHostPort(r.reach, hostPort), nil
	case loop && r.kind != routeLocal:
		return "", &classified{msg: fmt.Sprintf("port %s is bound to the loopback address %s of the engine host, which this client (%s engine at %s) cannot reach; publish it without a host address or set %s",
			hostPort, hostIP, r.kind, c.addr, HostOverrideEnv), class: ErrUnavailable}
	default:
		return net.JoinHostPort(hostIP, hostPort), nil
	}
}

// bindErr explains a start that failed while the container publishes ports
// on a remote engine's address: the engine may not own the address the
// client reaches it by (NAT, a name resolving differently on its side).
// It keeps the engine's error class.
func (c *Client) bindErr(ctx context.Context, err error, bindings bool) error {
	r := c.route(ctx)
	if err == nil || !bindings || (r.kind != routeTCP && r.kind != routeOverride) {
		return err
	}
	return fmt.Errorf("%w (ports are published on %s, the address this client reaches the engine by; if the engine host does not own it, "+
		"pass WithAllInterfaces to publish on all its interfaces or set %s)", err, r.bind, HostOverrideEnv)
}

// detectContainer reports whether this process runs in a container of the
// engine, and the gateway of that container's network. It asks the engine,
// not /.dockerenv (which ordinary VMs have too): one of this process's
// addresses lies in a bridge network of the engine without being its
// gateway (the engine host's own address there), and the engine lists a
// container with that address on that network. On the engine host itself
// this costs one network list.
func (c *Client) detectContainer(ctx context.Context) (string, bool, error) {
	var mine []net.IP
	addrs, err := interfaceAddrs()
	if err != nil {
		return "", false, nil // no addresses to tell by: as a local client
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			mine = append(mine, n.IP)
		}
	}
	if len(mine) == 0 {
		return "", false, nil
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return "", false, err
	}
	for _, n := range nets {
		if n.Driver != "bridge" {
			continue
		}
		for _, cfg := range n.IPAM.Config {
			_, subnet, err := net.ParseCIDR(cfg.Subnet)
			if err != nil {
				continue
			}
			for _, ip := range mine {
				// The engine host's own address on a bridge is its gateway
				// (not listed for the default bridge: then the inspection
				// below finds no container with it).
				if !subnet.Contains(ip) || ip.String() == cfg.Gateway {
					continue
				}
				gw, ok, err := c.containerGateway(ctx, n.ID, ip.String())
				if err != nil || ok {
					return gw, ok, err
				}
			}
		}
	}
	return "", false, nil
}

// containerGateway finds the container with address ip on the network and
// returns its gateway there.
func (c *Client) containerGateway(ctx context.Context, networkID, ip string) (string, bool, error) {
	ins, err := c.api.NetworkInspect(ctx, networkID, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return "", false, nil // removed since the list
	} else if err != nil {
		return "", false, err
	}
	for id, ep := range ins.Containers {
		if a, _, _ := strings.Cut(ep.IPv4Address, "/"); a != ip {
			continue
		}
		ct, err := c.api.ContainerInspect(ctx, id)
		if err != nil {
			return "", false, err
		}
		if ct.NetworkSettings == nil {
			return "", false, nil
		}
		for _, e := range ct.NetworkSettings.Networks {
			if e != nil && e.NetworkID == ins.ID && e.Gateway != "" {
				return e.Gateway, true, nil
			}
		}
	}
	return "", false, nil
}

// PublishAddress is the host address this client binds published ports to
// when their spec names none (see WithPorts and WithHostOverride): 127.0.0.1
// for a local engine, the address the client reaches a tcp:// engine by,
// the remote loopback of an ssh:// engine. Run, Create and compose fill it
// in themselves; it is for messages and for configuration written by hand.
func (c *Client) PublishAddress(ctx context.Context) string { return c.bindAddress(ctx) }
