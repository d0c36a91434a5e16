package lifecycle

import (
	"context"

	"github.com/docker/docker/api/types/container"
)

// Commit makes an image of the container's filesystem and configuration
// and tags it ref (docker commit), pausing the container meanwhile. It
// returns the image id. Volumes and tmpfs mounts are not part of the
// image. The image carries no ownership: the container's Dockhand
// ownership labels are set to "" on it (the engine would otherwise copy
// them into the image, and from it into every container made from it), so
// Cleanup and Sweep never remove it; remove it with RemoveImage.
func (ct *Container) Commit(ctx context.Context, ref string) (string, error) {
	if err := ct.valid("commit"); err != nil {
		return "", err
	}
	named, err := parseRef(ref)
	if err != nil {
		return "", err
	}
	// The engine merges this config over the container's: a key given
	// here, even "", wins.
	labels := map[string]string{LabelVersion: "", LabelHost: "", LabelCreated: "", LabelShared: ""}
	for _, k := range ownershipKeys {
		labels[k] = ""
	}
	resp, err := ct.c.api.ContainerCommit(ctx, ct.id, container.CommitOptions{
		Reference: named.String(), Pause: true, Config: &container.Config{Labels: labels},
	})
	if err != nil {
		return "", ct.c.lookupErr(err, "commit container %s as %s", ct, ref)
	}
	return resp.ID, nil
}
