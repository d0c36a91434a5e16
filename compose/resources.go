package compose

import (
	"context"
	"fmt"
	"maps"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
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
			if _, err := s.api.NetworkInspect(ctx, name, network.InspectOptions{}); err != nil {
				return fmt.Errorf("compose %s: external network %q not found: %w", p.Name, name, err)
			}
			continue
		}
		list, err := s.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
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
		req := network.CreateOptions{
			Driver: nw.Driver, Options: nw.DriverOpts, Internal: nw.Internal, Attachable: nw.Attachable,
			Labels: s.resourceLabels(p, nw.Labels, LabelNetwork, key, h), EnableIPv6: nw.EnableIPv6,
		}
		if nw.Ipam.Driver != "" || len(nw.Ipam.Config) > 0 {
			req.IPAM = &network.IPAM{Driver: nw.Ipam.Driver, Options: nw.Ipam.Options}
			for _, pool := range nw.Ipam.Config {
				req.IPAM.Config = append(req.IPAM.Config, network.IPAMConfig{
					Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange, AuxAddress: pool.AuxiliaryAddresses,
				})
			}
		}
		prog.event("Network", name, "Creating")
		if _, err := s.api.NetworkCreate(ctx, name, req); err != nil && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("compose %s: create network %s: %w", p.Name, name, err)
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
		_, err := s.api.VolumeInspect(ctx, name)
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("compose %s: volume %s: %w", p.Name, name, err)
		}
		if bool(v.External) {
			return fmt.Errorf("compose %s: external volume %q not found", p.Name, name)
		}
		h, _ := volumeHash(v)
		labels := s.resourceLabels(p, v.Labels, LabelVolume, key, h)
		prog.event("Volume", name, "Creating")
		if _, err := s.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			return fmt.Errorf("compose %s: create volume %s: %w", p.Name, name, err)
		}
		prog.event("Volume", name, "Created")
	}
	return nil
}

// resourceLabels are the labels of a network or volume the project
// creates: its own, the CLI's (kind is LabelNetwork or LabelVolume, key
// the name in the compose file; hash, when not empty, the config hash)
// and Dockhand's session labels.
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
	return s.c.Labels(labels)
}
