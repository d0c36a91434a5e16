package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/lifecycle"
)

// ensureNetworks creates the project's networks (labelled as the CLI
// does) and checks that external ones exist.
func (s *Stack) ensureNetworks(ctx context.Context, p *types.Project, prog *progress) error {
	for _, key := range p.NetworkNames() {
		nw := p.Networks[key]
		name := nw.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		if bool(nw.External) {
			if _, err := s.c.Network(ctx, name); err != nil {
				return fmt.Errorf("compose %s: external network %q not found: %w", p.Name, name, err)
			}
			continue
		}
		list, err := s.c.Networks(ctx, lifecycle.WithFilter("name", name))
		if err != nil {
			return fmt.Errorf("compose %s: network %s: %w", p.Name, name, err)
		}
		found := false
		for _, n := range list {
			if n.Name == name {
				found = true
			}
		}
		if found {
			continue
		}
		h, _ := networkHash(nw)
		spec := func(req *network.CreateOptions) {
			req.Driver, req.Options, req.Internal, req.Attachable = nw.Driver, nw.DriverOpts, nw.Internal, nw.Attachable
			req.EnableIPv6 = nw.EnableIPv6
			if nw.Ipam.Driver != "" || len(nw.Ipam.Config) > 0 {
				req.IPAM = &network.IPAM{Driver: nw.Ipam.Driver, Options: nw.Ipam.Options}
				for _, pool := range nw.Ipam.Config {
					req.IPAM.Config = append(req.IPAM.Config, network.IPAMConfig{
						Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange, AuxAddress: pool.AuxiliaryAddresses,
					})
				}
			}
		}
		prog.event("Network", name, "Creating")
		_, err = s.c.CreateNetwork(ctx, name, lifecycle.WithLabels(s.resourceLabels(p, nw.Labels, LabelNetwork, key, h)), lifecycle.WithNetworkConfig(spec))
		if err != nil && !errors.Is(err, lifecycle.ErrConflict) {
			return fmt.Errorf("compose %s: %w", p.Name, err)
		}
		prog.event("Network", name, "Created")
	}
	return nil
}

// ensureVolumes creates the project's named volumes and checks that
// external ones exist.
func (s *Stack) ensureVolumes(ctx context.Context, p *types.Project, prog *progress) error {
	for _, key := range p.VolumeNames() {
		v := p.Volumes[key]
		name := v.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		_, err := s.c.Volume(ctx, name)
		if err == nil {
			continue
		}
		if !errors.Is(err, lifecycle.ErrNotFound) {
			return fmt.Errorf("compose %s: %w", p.Name, err)
		}
		if bool(v.External) {
			return fmt.Errorf("compose %s: external volume %q not found", p.Name, name)
		}
		h, _ := volumeHash(v)
		labels := s.resourceLabels(p, v.Labels, LabelVolume, key, h)
		prog.event("Volume", name, "Creating")
		opts := []lifecycle.VolumeOption{lifecycle.WithLabels(labels)}
		if v.Driver != "" {
			opts = append(opts, lifecycle.WithDriver(v.Driver))
		}
		if len(v.DriverOpts) > 0 {
			opts = append(opts, lifecycle.WithDriverOpts(v.DriverOpts))
		}
		if _, err := s.c.CreateVolume(ctx, name, opts...); err != nil {
			return fmt.Errorf("compose %s: %w", p.Name, err)
		}
		prog.event("Volume", name, "Created")
	}
	return nil
}

// resourceLabels are the labels of a network or volume the project
// creates: its own and the CLI's (kind is LabelNetwork or LabelVolume, key
// the name in the compose file; hash, when not empty, the config hash).
// lifecycle adds Dockhand's ownership labels when it creates it.
func (s *Stack) resourceLabels(p *types.Project, own types.Labels, kind, key, hash string) map[string]string {
	labels := maps.Clone(map[string]string(own))
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelProject] = p.Name
	labels[kind] = key
	labels[LabelVersion] = ComposeVersion
	if hash != "" {
		labels[LabelConfigHash] = hash
	}
	return labels
}
