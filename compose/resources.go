package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

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
		h, _ := networkHash(nw)
		var found *lifecycle.Network
		for i, n := range list {
			if n.Name == name {
				found = &list[i]
			}
		}
		var reconnect []lifecycle.Summary
		if found != nil {
			owner := found.Labels[LabelProject]
			if owner != "" && owner != p.Name {
				return fmt.Errorf("compose %s: network %s exists and belongs to project %q (label %s), not to %q: %w",
					p.Name, name, owner, LabelProject, p.Name, lifecycle.ErrConflict)
			}
			old := found.Labels[LabelConfigHash]
			if owner == "" || old == "" || h == "" || networkUnchanged(old, nw, h, found.IPAMOptions) {
				continue
			}
			// Ours, and its configuration changed: recreate it, as the CLI
			// does, and reconnect the project's containers.
			if reconnect, err = s.dropDivergedNetwork(ctx, p, *found, prog); err != nil {
				return err
			}
		}
		spec := func(req *network.CreateOptions) {
			req.Driver, req.Options, req.Internal, req.Attachable = nw.Driver, nw.DriverOpts, nw.Internal, nw.Attachable
			req.EnableIPv6 = nw.EnableIPv6
			if nw.Ipam.Driver != "" || len(nw.Ipam.Config) > 0 || len(nw.Ipam.Options) > 0 {
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
		for _, ct := range reconnect {
			aliases := []string{ct.Labels[LabelService], ctName(ct)}
			if err := s.c.ConnectNetwork(ctx, name, ct.Container(), aliases...); err != nil {
				return fmt.Errorf("compose %s: reconnect %s to recreated network %s: %w", p.Name, ctName(ct), name, err)
			}
		}
	}
	return nil
}

// dropDivergedNetwork disconnects the project's containers from n, whose
// configuration changed, and removes it; it returns the containers to
// reconnect once it is created again. A container of another project on
// it is an error: the network is left as it is.
func (s *Stack) dropDivergedNetwork(ctx context.Context, p *types.Project, n lifecycle.Network, prog *progress) ([]lifecycle.Summary, error) {
	cts, err := s.c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("network", n.ID))
	if err != nil {
		return nil, fmt.Errorf("compose %s: network %s: %w", p.Name, n.Name, err)
	}
	for _, ct := range cts {
		if ct.Labels[LabelProject] != p.Name {
			return nil, fmt.Errorf("compose %s: network %s changed (config hash %s -> new) but container %s of another project uses it: %w",
				p.Name, n.Name, n.Labels[LabelConfigHash], ctName(ct), lifecycle.ErrConflict)
		}
	}
	prog.event("Network", n.Name, "Recreate")
	for _, ct := range cts {
		if err := s.c.DisconnectNetwork(ctx, n.ID, ct.Container()); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			return nil, fmt.Errorf("compose %s: network %s: %w", p.Name, n.Name, err)
		}
	}
	if err := s.c.RemoveNetwork(ctx, n.ID); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return nil, fmt.Errorf("compose %s: network %s: %w", p.Name, n.Name, err)
	}
	return cts, nil
}

// ensureVolumes creates the project's named volumes and checks that
// external ones exist.
//
// A volume of the project whose configuration changed (its config hash
// label differs) is an error naming what changed, unless recreate
// (WithRecreateVolumes): then the project's containers using it and the
// volume are removed, and it is created again, empty.
func (s *Stack) ensureVolumes(ctx context.Context, p *types.Project, prog *progress, recreate bool, timeout *time.Duration) error {
	for _, key := range p.VolumeNames() {
		v := p.Volumes[key]
		name := v.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		h, _ := volumeHash(v)
		have, err := s.c.Volume(ctx, name)
		if err == nil {
			if bool(v.External) || have.Labels[LabelProject] != p.Name || have.Labels[LabelConfigHash] == "" || h == "" || have.Labels[LabelConfigHash] == h {
				continue
			}
			if !recreate {
				return fmt.Errorf("compose %s: volume %s exists with another configuration (%s): Up keeps it and its data; WithRecreateVolumes removes and recreates it, losing the data: %w",
					p.Name, name, volumeDiff(*have, v), lifecycle.ErrConflict)
			}
			if err := s.dropVolume(ctx, p, name, prog, timeout); err != nil {
				return err
			}
		} else if !errors.Is(err, lifecycle.ErrNotFound) {
			return fmt.Errorf("compose %s: %w", p.Name, err)
		}
		if bool(v.External) {
			return fmt.Errorf("compose %s: external volume %q not found", p.Name, name)
		}
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

// volumeDiff says how the existing volume differs from its configuration,
// as far as the engine shows it.
func volumeDiff(have lifecycle.Volume, want types.VolumeConfig) string {
	var diffs []string
	driver := want.Driver
	if driver == "" {
		driver = "local"
	}
	if have.Driver != driver {
		diffs = append(diffs, fmt.Sprintf("driver %q, configured %q", have.Driver, driver))
	}
	for k, v := range want.Labels {
		if got, ok := have.Labels[k]; !ok || got != v {
			diffs = append(diffs, fmt.Sprintf("label %s=%q, configured %q", k, got, v))
		}
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "driver_opts or another setting")
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// dropVolume removes the project's containers that use volume name, then
// the volume. A container of another project using it is an error.
func (s *Stack) dropVolume(ctx context.Context, p *types.Project, name string, prog *progress, timeout *time.Duration) error {
	cts, err := s.c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("volume", name))
	if err != nil {
		return fmt.Errorf("compose %s: volume %s: %w", p.Name, name, err)
	}
	for _, ct := range cts {
		if ct.Labels[LabelProject] != p.Name {
			return fmt.Errorf("compose %s: volume %s: container %s of another project uses it: %w", p.Name, name, ctName(ct), lifecycle.ErrConflict)
		}
	}
	for _, ct := range cts {
		if err := s.removeContainer(ctx, ct, timeout, false, prog); err != nil {
			return fmt.Errorf("compose %s: %w", p.Name, err)
		}
	}
	prog.event("Volume", name, "Removing")
	if err := s.c.RemoveVolume(ctx, name); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("compose %s: %w", p.Name, err)
	}
	prog.event("Volume", name, "Removed")
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
