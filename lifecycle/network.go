package lifecycle

import (
	"context"
	"maps"

	"github.com/docker/docker/api/types/network"
)

// Network is a container network.
type Network struct {
	ID     string
	Name   string
	Driver string
	Labels map[string]string
	// IPAMOptions are the options of the network's IPAM driver as the
	// engine keeps them (docker network create --ipam-opt); nil when it
	// has none.
	IPAMOptions map[string]string
}

// CreateNetwork creates a network (docker network create; bridge by default).
func (c *Client) CreateNetwork(ctx context.Context, name string, opts ...NetworkOption) (*Network, error) {
	s, err := applyOpts("CreateNetwork", opts, NetworkOption.applyNetwork)
	if err != nil {
		return nil, err
	}
	if !validName(name) {
		return nil, invalidf("invalid network name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
	}
	req := network.CreateOptions{Driver: s.driver, Options: s.driverOpts, Internal: s.internal, Labels: maps.Clone(s.labels)}
	for _, h := range s.netHooks {
		h(&req)
	}
	labels := c.sessionLabels(req.Labels) // ours to write, whatever a hook did
	req.Labels = labels
	resp, err := c.api.NetworkCreate(ctx, name, req)
	if err != nil {
		return nil, c.opErr(err, "create network %s", name)
	}
	out := &Network{ID: resp.ID, Name: name, Driver: firstNonEmpty(req.Driver, "bridge"), Labels: labels}
	if req.IPAM != nil && len(req.IPAM.Options) > 0 {
		out.IPAMOptions = maps.Clone(req.IPAM.Options)
	}
	return out, nil
}

// Network returns the network named nameOrID (docker network inspect); a
// missing one is an ErrNotFound error.
func (c *Client) Network(ctx context.Context, nameOrID string) (*Network, error) {
	if nameOrID == "" {
		return nil, invalidf("invalid network %q: want a network name or id", nameOrID)
	}
	n, err := c.api.NetworkInspect(ctx, nameOrID, network.InspectOptions{})
	if err != nil {
		return nil, c.lookupErr(err, "network %s", nameOrID)
	}
	return &Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Labels: n.Labels, IPAMOptions: ipamOptions(n.IPAM)}, nil
}

// Networks lists networks, narrowed by WithFilter ("label", "name", "driver").
func (c *Client) Networks(ctx context.Context, opts ...FilterOption) ([]Network, error) {
	s, err := applyOpts("Networks", opts, FilterOption.applyFilter)
	if err != nil {
		return nil, err
	}
	list, err := c.api.NetworkList(ctx, network.ListOptions{Filters: filterArgs(s)})
	if err != nil {
		return nil, c.opErr(err, "list networks")
	}
	out := make([]Network, 0, len(list))
	for _, n := range list {
		out = append(out, Network{ID: n.ID, Name: n.Name, Driver: n.Driver, Labels: n.Labels, IPAMOptions: ipamOptions(n.IPAM)})
	}
	return out, nil
}

// ipamOptions are the IPAM driver options the engine reports, nil when
// there are none.
func ipamOptions(ipam network.IPAM) map[string]string {
	if len(ipam.Options) == 0 {
		return nil
	}
	return maps.Clone(ipam.Options)
}

// ConnectNetwork connects a container to a network under optional aliases
// (docker network connect --alias).
func (c *Client) ConnectNetwork(ctx context.Context, networkName string, ct *Container, aliases ...string) error {
	if err := ct.valid("connect network"); err != nil {
		return err
	}
	if networkName == "" {
		return invalidf("invalid network connect of %v to %q: want a network name", ct, networkName)
	}
	if err := c.api.NetworkConnect(ctx, networkName, ct.id, &network.EndpointSettings{Aliases: aliases}); err != nil {
		return c.opErr(err, "connect %s to network %s", ct, networkName)
	}
	return nil
}

// DisconnectNetwork disconnects a container from a network.
func (c *Client) DisconnectNetwork(ctx context.Context, networkName string, ct *Container) error {
	if err := ct.valid("disconnect network"); err != nil {
		return err
	}
	if networkName == "" {
		return invalidf("invalid network disconnect of %v from %q: want a network name", ct, networkName)
	}
	if err := c.api.NetworkDisconnect(ctx, networkName, ct.id, false); err != nil {
		return c.opErr(err, "disconnect %s from network %s", ct, networkName)
	}
	return nil
}

// RemoveNetwork removes a network.
func (c *Client) RemoveNetwork(ctx context.Context, name string) error {
	if name == "" {
		return invalidf("invalid network name %q: want a network name or id", name)
	}
	if err := c.api.NetworkRemove(ctx, name); err != nil {
		return c.lookupErr(err, "remove network %s", name)
	}
	return nil
}
