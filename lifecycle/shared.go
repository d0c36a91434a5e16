package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Labels of shared containers and their holders.
//
// A container labelled LabelShared=KEY is shared by every process that
// holds KEY: a process holds a key by creating a hold, a named volume
// labelled LabelHolds=KEY (Hold), which carries that process's LabelOwner
// like everything else it creates. A process registers its hold before it
// looks up the shared container, and releases it (Hold.Release) by
// removing its hold first and only then counting the others.
//
// A hold is a plain local volume that nothing mounts: it takes no IP
// address pool, bridge or iptables rules (a network would, and a machine
// has some 30 default address pools for all its networks), and `docker
// network prune` leaves it alone. `docker volume prune` removes it on
// engines before 23.0 (API < 1.42), which prune named volumes too; later
// engines prune only anonymous volumes unless given --all. A hold pruned
// away no longer counts: see dockhandtest for how a holder copes.
// Versions before holds were volumes made holds as networks labelled
// LabelHolds: those still count as holders, and the last holder (or
// Sweep) removes them once their owner is gone.
//
// Counting alone does not make removal safe: between the last holder's
// count and its removal, new holders may hold, find the container by
// name and adopt it. So the last holder removes the container with
// RemoveShared, which first renames it to a tombstone name (one atomic
// step on the engine: from then on a lookup by the key fails and a new
// holder makes a fresh container), then counts the holders again: if a
// holder is live (it held before the rename, so it may have found the
// container), the container gets its name back (or, when a fresh one took
// the name meanwhile, stays a tombstone for its users, whose last
// release removes it by id); otherwise it is removed. A holder that
// adopts a container checks, once it is ready, that it still has its
// name, and looks again if not.
//
// Sweep keeps a shared container while any holder of its key is not
// proven gone, whoever created it, and removes one with the same rename
// and recount; the ordinary rules (persistent, live owner, ...) keep it
// too.
const (
	LabelShared = "dev.dockhand.shared" // on a shared container: its key
	LabelHolds  = "dev.dockhand.holds"  // on a hold (a volume; a network in earlier versions): the key it holds
)

// holdPrefix starts the name of every hold: "dockhand-hold-<key>-<pid>-<random>".
const holdPrefix = "dockhand-hold-"

// Hold is this process's registration as a holder of a shared key (see
// Client.Hold). Another process releases it by its key and name with
// Client.ReleaseHold.
type Hold struct {
	c    *Client
	key  string
	name string
}

// Key returns the key held.
func (h *Hold) Key() string { return h.key }

// Name returns the name of the hold's volume.
func (h *Hold) Name() string { return h.name }

// Hold registers this process as a holder of key (a name-safe string,
// such as a hash): it creates a volume labelled LabelHolds=key, owned by
// this process, that nothing mounts. Call it before looking up the
// shared container.
func (c *Client) Hold(ctx context.Context, key string) (*Hold, error) {
	if !validName(key) {
		return nil, invalidf("hold: invalid key %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", key)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := holdPrefix + key + "-" + strconv.Itoa(c.pid) + "-" + hex.EncodeToString(b)
	if _, err := c.CreateVolume(ctx, name, WithLabels(map[string]string{LabelHolds: key})); err != nil {
		return nil, fmt.Errorf("hold %s: %w", key, err)
	}
	return &Hold{c: c, key: key, name: name}, nil
}

// Holders returns the names of the holds of key whose owner is not
// proven gone (this process's own included): volumes, and the networks
// of earlier versions.
func (c *Client) Holders(ctx context.Context, key string) ([]string, error) {
	live, _, err := c.holders(ctx, key)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(live))
	for i, h := range live {
		names[i] = h.name
	}
	return names, nil
}

// holdRef is one hold on the engine: a volume, or a network (earlier
// versions).
type holdRef struct {
	name    string
	network bool
}

// holders lists the holds of key: live (owner not proven gone) and gone
// (owner proven gone, as Sweep proves it).
func (c *Client) holders(ctx context.Context, key string) (live, gone []holdRef, err error) {
	f := filters.NewArgs(filters.Arg("label", LabelHolds+"="+key))
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, nil, c.opErr(err, "list holders of %s", key)
	}
	// Holds made by earlier versions, which were networks.
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, nil, c.opErr(err, "list holders of %s (networks)", key)
	}
	me, meErr := self()
	judge := func(h holdRef, l map[string]string) {
		if l[LabelHolds] != key || l[LabelManaged] != "true" {
			return
		}
		if dead, _ := ownerVerdict(l[LabelOwner], me, meErr, probeOwner); dead {
			gone = append(gone, h)
		} else {
			live = append(live, h)
		}
	}
	for _, v := range vols.Volumes {
		if v != nil {
			judge(holdRef{name: v.Name}, v.Labels)
		}
	}
	for _, n := range nets {
		judge(holdRef{name: n.Name, network: true}, n.Labels)
	}
	return live, gone, nil
}

// Release removes the hold; then, if no other holder of the key is live,
// it returns last true: the caller, the last holder, may remove the
// shared container. The last holder also removes the holds of processes
// proven gone (killed before they could release). Release is idempotent.
func (h *Hold) Release(ctx context.Context) (last bool, err error) {
	if err := h.c.api.VolumeRemove(ctx, h.name, false); err != nil && !cerrdefs.IsNotFound(err) {
		return false, h.c.opErr(err, "release hold %s", h.name)
	}
	live, gone, err := h.c.holders(ctx, h.key)
	if err != nil || len(live) > 0 {
		return false, err
	}
	for _, g := range gone {
		var err error
		if g.network {
			err = h.c.api.NetworkRemove(ctx, g.name)
		} else {
			err = h.c.api.VolumeRemove(ctx, g.name, false)
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			h.c.logger.Debug("release: could not remove the hold of a gone process", "hold", g.name, "error", err)
		}
	}
	return true, nil
}

// ReleaseHold releases the hold named name of key that another process
// made with Hold (a watchdog releasing for a process that ended without
// releasing, say), as Hold.Release does: last reports whether no other
// holder of key is live. The hold must be named and labelled as Hold
// makes them (a volume "dockhand-hold-<key>-…" labelled LabelHolds=key by
// Dockhand): any other name is an ErrInvalid before any engine call, and
// a volume of that name with other labels an ErrInvalid without removing
// it. A hold that is not found is already released.
func (c *Client) ReleaseHold(ctx context.Context, key, name string) (last bool, err error) {
	if !validName(key) {
		return false, invalidf("release hold: invalid key %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", key)
	}
	if !strings.HasPrefix(name, holdPrefix+key+"-") || !validName(name) {
		return false, invalidf("release hold of %s: invalid hold name %q: want %s%s-<pid>-<random>, as Hold names it", key, name, holdPrefix, key)
	}
	v, err := c.api.VolumeInspect(ctx, name)
	switch {
	case cerrdefs.IsNotFound(err):
	case err != nil:
		return false, c.opErr(err, "release hold %s: inspect", name)
	case v.Labels[LabelHolds] != key || v.Labels[LabelManaged] != "true":
		return false, invalidf("release hold of %s: volume %q is not a hold of it (no %s=%s label set by Dockhand)", key, name, LabelHolds, key)
	}
	return (&Hold{c: c, key: key, name: name}).Release(ctx)
}

// RemoveShared removes the shared container id of key (labelled
// LabelShared=key) unless a holder of key is live: it renames the
// container to a tombstone name, counts the live holders of key, and
// removes the container only if there are none; otherwise it gives the
// container its name back (when that name was taken meanwhile, it stays
// a tombstone: its holders use it by id, and the last of them removes
// it). removed reports whether the container is gone. A container that
// is not a shared container of key (see IsShared) is an ErrInvalid. A container that
// is not found counts as removed. Call it as the last holder, after
// Hold.Release returned last.
func (c *Client) RemoveShared(ctx context.Context, key, id string) (removed bool, err error) {
	if !validName(key) {
		return false, invalidf("remove shared: invalid key %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", key)
	}
	if id == "" {
		return false, invalidf("remove shared %s: empty container id", key)
	}
	ins, err := c.api.ContainerInspect(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, c.opErr(err, "remove shared %s: inspect %s", key, short(id))
	}
	if ok, err := c.IsShared(ctx, key, id); err != nil || !ok {
		if err == nil {
			err = invalidf("remove shared %s: container %s is not a shared container of it (labelled %s=%s by Dockhand, not by its image)", key, short(id), LabelShared, key)
		}
		return false, err
	}
	name := strings.TrimPrefix(ins.Name, "/")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	tomb := "dockhand-tomb-" + key + "-" + hex.EncodeToString(b)
	if err := c.api.ContainerRename(ctx, id, tomb); err != nil {
		if cerrdefs.IsNotFound(err) {
			return true, nil
		}
		return false, c.opErr(err, "remove shared %s: rename %s to %s", key, short(id), tomb)
	}
	live, _, herr := c.holders(ctx, key)
	if herr != nil || len(live) > 0 {
		// Someone may use it: give it its name back, when still free.
		if err := c.api.ContainerRename(ctx, id, name); err != nil {
			c.logger.Debug("remove shared: keeping a tombstone for its holders", "container", tomb, "key", key, "error", err)
		}
		return false, herr
	}
	err = c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		return false, c.opErr(err, "remove shared %s: remove %s", key, tomb)
	}
	return true, nil
}

// IsShared reports whether the container id is a shared container of
// key that Dockhand made: labelled LabelShared=key and managed, with
// ownership labels that are not merely its image's (the check Sweep
// makes). A container that is not found is not shared (false, nil).
func (c *Client) IsShared(ctx context.Context, key, id string) (bool, error) {
	if !validName(key) {
		return false, invalidf("is shared: invalid key %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", key)
	}
	ins, err := c.api.ContainerInspect(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.opErr(err, "is shared %s: inspect %s", key, short(id))
	}
	if ins.Config == nil || ins.Config.Labels[LabelShared] != key || ins.Config.Labels[LabelManaged] != "true" {
		return false, nil
	}
	img, err := c.api.ImageInspect(ctx, ins.Image)
	if err != nil {
		return false, c.opErr(err, "is shared %s: inspect the image of %s", key, short(id))
	}
	var il map[string]string
	if img.Config != nil {
		il = img.Config.Labels
	}
	return !inherited(ins.Config.Labels, il), nil
}

// OwnerGone reports whether the process that created the container id
// (its LabelOwner) is proven gone, as Sweep proves it: false while it may
// live, or when it cannot be told. A container that is not found is
// gone (true, nil).
func (c *Client) OwnerGone(ctx context.Context, id string) (bool, error) {
	ins, err := c.api.ContainerInspect(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, c.opErr(err, "owner of %s: inspect", short(id))
	}
	if ins.Config == nil || ins.Config.Labels[LabelOwner] == "" {
		return false, nil
	}
	me, meErr := self()
	gone, _ := ownerVerdict(ins.Config.Labels[LabelOwner], me, meErr, probeOwner)
	return gone, nil
}

// sharedKept is the Sweep rule for shared containers: it returns the
// reason to keep a container labelled LabelShared while a holder of its
// key is not proven gone, or "" when none is. holders lists the live
// holders of a key (memoised by the caller).
func sharedKept(l map[string]string, holders func(string) (int, error)) string {
	key := l[LabelShared]
	if key == "" {
		return ""
	}
	n, err := holders(key)
	switch {
	case err != nil:
		return "shared: cannot list its holders: " + err.Error()
	case n > 0:
		return "shared: " + strconv.Itoa(n) + " holder(s) of " + key + " not proven gone"
	}
	return ""
}
