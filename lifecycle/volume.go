package lifecycle

import (
	"context"

	"github.com/docker/docker/api/types/volume"
)

// Volume is a named volume. Data in it outlives the containers that use it.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Labels     map[string]string
}

// CreateVolume creates a named volume (docker volume create). Creating a
// volume that exists returns it unchanged, as the engine does.
func (c *Client) CreateVolume(ctx context.Context, name string, opts ...VolumeOption) (*Volume, error) {
	s, err := applyOpts("CreateVolume", opts, VolumeOption.applyVolume)
	if err != nil {
		return nil, err
	}
	if !validName(name) {
		return nil, invalidf("invalid volume name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
	}
	v, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: s.driver, DriverOpts: s.driverOpts, Labels: c.sessionLabels(s.labels)})
	if err != nil {
		return nil, c.opErr(err, "create volume %s", name)
	}
	return &Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels}, nil
}

// Volume returns the named volume (docker volume inspect); a missing one
// is an ErrNotFound error.
func (c *Client) Volume(ctx context.Context, name string) (*Volume, error) {
	if name == "" {
		return nil, invalidf("invalid volume name %q: want a volume name", name)
	}
	v, err := c.api.VolumeInspect(ctx, name)
	if err != nil {
		return nil, c.lookupErr(err, "volume %s", name)
	}
	return &Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels}, nil
}

// Volumes lists volumes, narrowed by WithFilter ("label", "name", "dangling").
func (c *Client) Volumes(ctx context.Context, opts ...FilterOption) ([]Volume, error) {
	s, err := applyOpts("Volumes", opts, FilterOption.applyFilter)
	if err != nil {
		return nil, err
	}
	resp, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: filterArgs(s)})
	if err != nil {
		return nil, c.opErr(err, "list volumes")
	}
	out := make([]Volume, 0, len(resp.Volumes))
	for _, v := range resp.Volumes {
		out = append(out, Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels})
	}
	return out, nil
}

// RemoveVolume removes a volume; one in use by a container fails with
// ErrConflict (WithForce does not override that on the engine).
func (c *Client) RemoveVolume(ctx context.Context, name string, opts ...RemoveVolumeOption) error {
	s, err := applyOpts("RemoveVolume", opts, RemoveVolumeOption.applyRemoveVolume)
	if err != nil {
		return err
	}
	if name == "" {
		return invalidf("invalid volume name %q: want a volume name", name)
	}
	if err := c.api.VolumeRemove(ctx, name, s.force); err != nil {
		return c.lookupErr(err, "remove volume %s", name)
	}
	return nil
}
