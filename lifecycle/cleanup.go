package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Resources lists what carries a session's labels on the engine.
type Resources struct {
	Containers []string // names or ids
	Networks   []string
	Volumes    []string
	Images     []string
}

// Empty reports whether nothing is listed.
func (r Resources) Empty() bool {
	return len(r.Containers)+len(r.Networks)+len(r.Volumes)+len(r.Images) == 0
}

func (r Resources) String() string {
	return fmt.Sprintf("containers %v, networks %v, volumes %v, images %v", r.Containers, r.Networks, r.Volumes, r.Images)
}

// Owned lists the resources this client's session created and that are still on the engine.
func (c *Client) Owned(ctx context.Context) (Resources, error) {
	return c.listLabelled(ctx, LabelSession+"="+c.session)
}

// Cleanup removes every container (with its anonymous volumes), network,
// volume and image that this client's session created. It removes
// nothing else, and returns the errors of what it could not remove.
func (c *Client) Cleanup(ctx context.Context) error {
	return c.removeLabelled(ctx, LabelSession+"="+c.session)
}

// Sweep removes the resources of every Dockhand session on this host whose
// owning process is gone (killed, crashed, never cleaned up). Resources of
// live processes, of other hosts, and anything not made by Dockhand are
// left alone, and so are sessions made WithPersistentSession. It returns
// the sessions it swept.
func (c *Client) Sweep(ctx context.Context) ([]string, error) {
	managed := filters.NewArgs(filters.Arg("label", LabelManaged+"=true"))
	all, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: managed})
	if err != nil {
		return nil, c.opErr(err, "sweep: list containers")
	}
	labelSets := make([]map[string]string, 0, len(all))
	for _, ct := range all {
		labelSets = append(labelSets, ct.Labels)
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: managed})
	if err != nil {
		return nil, c.opErr(err, "sweep: list networks")
	}
	for _, n := range nets {
		labelSets = append(labelSets, n.Labels)
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: managed})
	if err != nil {
		return nil, c.opErr(err, "sweep: list volumes")
	}
	for _, v := range vols.Volumes {
		labelSets = append(labelSets, v.Labels)
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{All: true, Filters: managed})
	if err != nil {
		return nil, c.opErr(err, "sweep: list images")
	}
	for _, im := range imgs {
		labelSets = append(labelSets, im.Labels)
	}
	dead := map[string]bool{}
	for _, l := range labelSets {
		sess := l[LabelSession]
		if sess == "" || sess == c.session || l[LabelHost] != c.host || dead[sess] {
			continue
		}
		pid, err := strconv.Atoi(l[LabelPID])
		if err != nil || pid <= 0 {
			continue
		}
		if !processAlive(pid) {
			dead[sess] = true
		}
	}
	var swept []string
	var errs []error
	for sess := range dead {
		c.logger.Debug("sweeping resources of a dead session", "session", sess)
		if err := c.removeLabelled(ctx, LabelSession+"="+sess); err != nil {
			errs = append(errs, err)
		}
		swept = append(swept, sess)
	}
	return swept, errors.Join(errs...)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (c *Client) listLabelled(ctx context.Context, label string) (Resources, error) {
	var r Resources
	f := filters.NewArgs(filters.Arg("label", label))
	cts, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return r, c.opErr(err, "list containers")
	}
	for _, ct := range cts {
		name := short(ct.ID)
		if len(ct.Names) > 0 {
			name = ct.Names[0][1:]
		}
		r.Containers = append(r.Containers, name)
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return r, c.opErr(err, "list networks")
	}
	for _, n := range nets {
		r.Networks = append(r.Networks, n.Name)
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return r, c.opErr(err, "list volumes")
	}
	for _, v := range vols.Volumes {
		r.Volumes = append(r.Volumes, v.Name)
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	if err != nil {
		return r, c.opErr(err, "list images")
	}
	for _, im := range imgs {
		r.Images = append(r.Images, im.ID)
	}
	return r, nil
}

// removeLabelled removes containers first (they hold networks, volumes and
// images), then networks, volumes and images.
func (c *Client) removeLabelled(ctx context.Context, label string) error {
	var errs []error
	f := filters.NewArgs(filters.Arg("label", label))
	ignore := func(err error) bool { return err == nil || cerrdefs.IsNotFound(err) }
	cts, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return c.opErr(err, "cleanup: list containers")
	}
	for _, ct := range cts {
		if err := c.api.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); !ignore(err) && !isRemovalInProgress(err) {
			errs = append(errs, c.opErr(err, "cleanup: remove container %s", short(ct.ID)))
		}
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return c.opErr(err, "cleanup: list networks")
	}
	for _, n := range nets {
		if err := c.api.NetworkRemove(ctx, n.ID); !ignore(err) {
			errs = append(errs, c.opErr(err, "cleanup: remove network %s", n.Name))
		}
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return c.opErr(err, "cleanup: list volumes")
	}
	for _, v := range vols.Volumes {
		if err := c.api.VolumeRemove(ctx, v.Name, true); !ignore(err) {
			errs = append(errs, c.opErr(err, "cleanup: remove volume %s", v.Name))
		}
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	if err != nil {
		return c.opErr(err, "cleanup: list images")
	}
	for _, im := range imgs {
		if _, err := c.api.ImageRemove(ctx, im.ID, image.RemoveOptions{Force: true, PruneChildren: true}); !ignore(err) {
			errs = append(errs, c.opErr(err, "cleanup: remove image %s", short(im.ID)))
		}
	}
	return errors.Join(errs...)
}

func isRemovalInProgress(err error) bool {
	return err != nil && (containsFold(err.Error(), "removal of container") && containsFold(err.Error(), "already in progress"))
}
