package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Resources lists containers, networks, volumes and images on the engine.
type Resources struct {
	Containers []string // names (or ids, for a container without a name)
	Networks   []string // names
	Volumes    []string // names
	Images     []string // ids
}

// Empty reports whether nothing is listed.
func (r Resources) Empty() bool {
	return len(r.Containers)+len(r.Networks)+len(r.Volumes)+len(r.Images) == 0
}

func (r Resources) String() string {
	return fmt.Sprintf("containers %v, networks %v, volumes %v, images %v", r.Containers, r.Networks, r.Volumes, r.Images)
}

// Owned lists what Cleanup would remove now: the containers, networks,
// volumes and built images this client created that are still on the
// engine, and, for a WithPersistentSession client, the persistent
// resources of its session.
func (c *Client) Owned(ctx context.Context) (Resources, error) {
	ts, err := c.cleanupTargets(ctx)
	if err != nil {
		return Resources{}, err
	}
	return ts.resources(), nil
}

// Cleanup removes every container (with its anonymous volumes), network,
// volume and image that this client created, and, when the client is
// itself WithPersistentSession (the teardown of a stack, from a later
// process with the same WithSession id too), the persistent resources of
// its session; an ordinary client sharing the session id never removes
// those. It
// removes nothing else: not what other clients or processes of the same
// session made (Sweep removes those once their process is gone), not a
// container that merely inherited Dockhand labels from its image, not an
// image built on top of one of ours. An image still used by a container
// that is not ours is kept and reported. It returns the errors of what it
// could not remove.
func (c *Client) Cleanup(ctx context.Context) error {
	ts, err := c.cleanupTargets(ctx)
	if err != nil {
		return err
	}
	_, err = c.remove(ctx, ts, false)
	return err
}

// mine reports whether Cleanup may remove a container, network or volume
// with these labels: made by this client, or persistent in its session
// when this client is persistent too (the explicit teardown of a stack
// from a later process). An ordinary client that happens to share the
// session id never removes a persistent stack.
func (c *Client) mine(l map[string]string) (ok, byClient bool) {
	if l[LabelManaged] != "true" || l[LabelSession] != c.session {
		return false, false
	}
	if l[LabelClient] == c.id {
		return true, true
	}
	return c.persist && l[LabelPersistent] == "true", false
}

// target is one resource to remove.
type target struct {
	kind string // "container", "network", "volume", "image"
	id   string
	name string
	tags []string // an image's tags
	key  string   // a shared container's key (LabelShared)
}

type targets []target

func (ts targets) resources() Resources {
	var r Resources
	for _, t := range ts {
		switch t.kind {
		case "container":
			r.Containers = append(r.Containers, t.name)
		case "network":
			r.Networks = append(r.Networks, t.name)
		case "volume":
			r.Volumes = append(r.Volumes, t.name)
		case "image":
			r.Images = append(r.Images, t.id)
		}
	}
	return r
}

// cleanupTargets lists what Cleanup removes, containers first (they hold
// networks, volumes and images).
func (c *Client) cleanupTargets(ctx context.Context) (targets, error) {
	var ts targets
	f := filters.NewArgs(filters.Arg("label", LabelSession+"="+c.session))
	cts, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, c.opErr(err, "cleanup: list containers")
	}
	images := c.imageLabels()
	for _, ct := range cts {
		ok, byClient := c.mine(ct.Labels)
		if !ok {
			continue
		}
		img, known := images(ctx, ct.ImageID)
		switch {
		case known && inherited(ct.Labels, img):
			c.logger.Debug("cleanup: keeping a container whose labels are its image's", "container", containerName(ct))
			continue
		case !known && !byClient:
			// Only this client's random id proves the container ours
			// without its image to compare with.
			c.logger.Debug("cleanup: keeping a persistent container whose image cannot be inspected", "container", containerName(ct))
			continue
		}
		ts = append(ts, target{kind: "container", id: ct.ID, name: containerName(ct)})
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, c.opErr(err, "cleanup: list networks")
	}
	for _, n := range nets {
		if ok, _ := c.mine(n.Labels); ok {
			ts = append(ts, target{kind: "network", id: n.ID, name: n.Name})
		}
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, c.opErr(err, "cleanup: list volumes")
	}
	for _, v := range vols.Volumes {
		if ok, _ := c.mine(v.Labels); ok {
			ts = append(ts, target{kind: "volume", id: v.Name, name: v.Name})
		}
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelBuildSession+"="+c.session))})
	if err != nil {
		return nil, c.opErr(err, "cleanup: list images")
	}
	for _, im := range imgs {
		l := im.Labels
		if l[LabelBuildSession] != c.session || (l[LabelBuildClient] != c.id && !(c.persist && l[LabelBuildPersistent] == "true")) {
			continue
		}
		built, err := c.builtHere(ctx, im.ID, l)
		if err != nil {
			return nil, err
		}
		if !built {
			c.logger.Debug("cleanup: keeping an image that carries the session's build labels but is not its build", "image", short(im.ID))
			continue
		}
		t, ok := imageTarget(im)
		if !ok {
			c.logger.Debug("cleanup: keeping an image tagged by someone else", "image", short(im.ID), "tags", im.RepoTags)
			continue
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// Sweep removes what Dockhand processes that are gone (killed, crashed,
// never cleaned up) left on the engine, and returns what it removed. It
// removes a container, network or volume only when it can prove that the
// process named by its LabelOwner is gone, and an image only when it is
// the very image a gone process built and no container (in any state)
// uses it. Everything else stays: resources of live processes, of other
// hosts, boots and pid namespaces, of sessions made WithPersistentSession,
// containers that merely inherited Dockhand labels from their image, and
// anything not made by Dockhand. Why a resource was kept is logged at
// debug level. Removal is per owner process, never per session: one dead
// process of a session shared with WithSession condemns only what it
// made. A shared container (LabelShared) also stays while any holder of
// its key (see Hold) is not proven gone.
func (c *Client) Sweep(ctx context.Context) (Resources, error) {
	me, meErr := self()
	if meErr != nil {
		c.logger.Debug("sweep: keeping everything: this process cannot identify itself", "reason", meErr.Error())
		return Resources{}, nil
	}
	type judged struct {
		gone bool
		why  string
	}
	judgedOwners := map[string]judged{} // one probe per owner and sweep
	verdict := func(label string) (bool, string) {
		j, ok := judgedOwners[label]
		if !ok {
			j.gone, j.why = ownerVerdict(label, me, nil, probeOwner)
			judgedOwners[label] = j
			if j.gone {
				c.logger.Debug("sweep: owner process gone", "owner", label)
			}
		}
		return j.gone, j.why
	}
	var ts targets
	keep := func(kind, name, reason string) {
		c.logger.Debug("sweep: keeping "+kind, kind, name, "reason", reason)
	}
	all, err := c.api.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return Resources{}, c.opErr(err, "sweep: list containers")
	}
	images := c.imageLabels()
	liveHolders := map[string]int{} // one list per shared key and sweep
	holders := func(key string) (int, error) {
		if n, ok := liveHolders[key]; ok {
			return n, nil
		}
		live, err := c.Holders(ctx, key)
		if err != nil {
			return 0, err
		}
		liveHolders[key] = len(live)
		return len(live), nil
	}
	inUse := map[string]bool{}
	// The networks and volumes of every container that stays (ours or
	// not, running or stopped): a stopped container keeps its network
	// though the engine would let it go, and a volume a kept stack
	// adopted outlives the process that created it.
	keptNets, keptVols := map[string]bool{}, map[string]bool{}
	for _, ct := range all {
		inUse[ct.ImageID] = true
		img, known := images(ctx, ct.ImageID)
		if ct.Labels[LabelManaged] == "true" {
			ok, why := sweepVerdict(ct.Labels, img, known, verdict)
			if ok {
				if why = sharedKept(ct.Labels, holders); why == "" {
					ts = append(ts, target{kind: "container", id: ct.ID, name: containerName(ct), key: ct.Labels[LabelShared]})
					continue
				}
			}
			keep("container", containerName(ct), why)
		}
		if ct.NetworkSettings != nil {
			for name, ep := range ct.NetworkSettings.Networks {
				keptNets[name] = true
				if ep != nil && ep.NetworkID != "" {
					keptNets[ep.NetworkID] = true
				}
			}
		}
		for _, m := range ct.Mounts {
			if m.Name != "" {
				keptVols[m.Name] = true
			}
		}
	}
	managed := filters.NewArgs(filters.Arg("label", LabelManaged+"=true"))
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: managed})
	if err != nil {
		return Resources{}, c.opErr(err, "sweep: list networks")
	}
	for _, n := range nets {
		if ok, why := sweepVerdict(n.Labels, nil, true, verdict); !ok {
			keep("network", n.Name, why)
			continue
		}
		if keptNets[n.ID] || keptNets[n.Name] {
			keep("network", n.Name, "a container that stays is connected to it")
			continue
		}
		ts = append(ts, target{kind: "network", id: n.ID, name: n.Name})
	}
	vols, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: managed})
	if err != nil {
		return Resources{}, c.opErr(err, "sweep: list volumes")
	}
	for _, v := range vols.Volumes {
		if ok, why := sweepVerdict(v.Labels, nil, true, verdict); !ok {
			keep("volume", v.Name, why)
			continue
		}
		if keptVols[v.Name] {
			keep("volume", v.Name, "a container that stays mounts it")
			continue
		}
		ts = append(ts, target{kind: "volume", id: v.Name, name: v.Name})
	}
	imgs, err := c.api.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelBuildOwner))})
	if err != nil {
		return Resources{}, c.opErr(err, "sweep: list images")
	}
	for _, im := range imgs {
		if im.Labels[LabelBuildOwner] == "" && im.Labels[LabelBuildPersistent] != "true" {
			continue // no owner and not persistent: nothing to decide
		}
		built := false
		if im.Labels[LabelBuildPersistent] != "true" {
			if built, err = c.builtHere(ctx, im.ID, im.Labels); err != nil {
				return Resources{}, err
			}
		}
		// A container made from the image since the list above still
		// keeps it: the engine refuses to remove an image in use.
		if ok, why := imageSweepVerdict(im.Labels, built, inUse[im.ID], verdict); !ok {
			keep("image", short(im.ID), why)
			continue
		}
		t, ok := imageTarget(im)
		if !ok {
			keep("image", short(im.ID), "tagged by someone else")
			continue
		}
		ts = append(ts, t)
	}
	removed, err := c.remove(ctx, ts, true)
	return removed.resources(), err
}

// sweepVerdict decides whether Sweep removes a container, network or
// volume with these labels. img holds a container's image labels (nil for
// networks and volumes), imgKnown whether they could be read; owner
// judges the owner label. It returns the reason in either case.
func sweepVerdict(l, img map[string]string, imgKnown bool, owner func(string) (bool, string)) (bool, string) {
	switch {
	case l[LabelManaged] != "true":
		return false, "not made by Dockhand"
	case l[LabelPersistent] == "true":
		return false, "persistent"
	case img[LabelPersistent] == "true":
		return false, "its image is labelled persistent"
	case !imgKnown:
		return false, "its image cannot be inspected, so its labels cannot be told from the image's"
	case inherited(l, img):
		return false, "its ownership labels are its image's: inherited, not set by Dockhand"
	}
	return owner(l[LabelOwner])
}

// imageSweepVerdict decides whether Sweep removes an image with these
// labels; built tells whether it is the very image of a Dockhand build,
// inUse whether a container uses it.
func imageSweepVerdict(l map[string]string, built, inUse bool, owner func(string) (bool, string)) (bool, string) {
	switch {
	case l[LabelBuildPersistent] == "true":
		return false, "persistent"
	case !built:
		return false, "not the image a Dockhand build made (built on top of one, or relabelled)"
	case inUse:
		return false, "used by a container"
	}
	return owner(l[LabelBuildOwner])
}

// imageLabels returns a cached lookup of image labels by id; known is
// false when the image cannot be inspected.
func (c *Client) imageLabels() func(ctx context.Context, id string) (map[string]string, bool) {
	type entry struct {
		labels map[string]string
		known  bool
	}
	cache := map[string]entry{}
	return func(ctx context.Context, id string) (map[string]string, bool) {
		if e, ok := cache[id]; ok {
			return e.labels, e.known
		}
		var e entry
		if id != "" {
			if ii, err := c.api.ImageInspect(ctx, id); err == nil {
				e.known = true
				if ii.Config != nil {
					e.labels = ii.Config.Labels
				}
			}
		}
		cache[id] = e
		return e.labels, e.known
	}
}

// builtHere reads an image's history and tells whether it is the very
// image of a Dockhand build (see the package function builtHere).
func (c *Client) builtHere(ctx context.Context, id string, labels map[string]string) (bool, error) {
	h, err := c.api.ImageHistory(ctx, id)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.opErr(err, "image history %s", short(id))
	}
	steps := make([]string, len(h))
	for i, s := range h {
		steps[i] = s.CreatedBy
	}
	return builtHere(labels, steps), nil
}

// remove removes ts in order and returns what it removed. A network,
// volume or image still in use is kept: Sweep only logs that, Cleanup
// reports it as an error.
func (c *Client) remove(ctx context.Context, ts targets, sweep bool) (targets, error) {
	var errs []error
	var removed targets
	op := "cleanup"
	if sweep {
		op = "sweep"
	}
	gone := func(err error) bool { return err == nil || cerrdefs.IsNotFound(err) }
	inUse := func(kind, name string, err error) {
		if sweep {
			c.logger.Debug(op+": keeping "+kind+" in use", kind, name, "error", err.Error())
			return
		}
		errs = append(errs, &classified{msg: fmt.Sprintf("%s: %s %s is in use", op, kind, name), class: ErrConflict, cause: err})
	}
	for _, t := range ts {
		var err error
		switch t.kind {
		case "container":
			if t.key != "" {
				// Shared: a holder may have come since the count. Rename,
				// count again, remove only if still no holder.
				ok, rerr := c.RemoveShared(ctx, t.key, t.id)
				if rerr == nil && !ok {
					c.logger.Debug(op+": keeping shared container: a holder came", "container", t.name, "key", t.key)
					continue
				}
				err = rerr
				break
			}
			err = c.api.ContainerRemove(ctx, t.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
			if isRemovalInProgress(err) {
				err = nil
			}
		case "network":
			err = c.api.NetworkRemove(ctx, t.id)
		case "volume":
			err = c.api.VolumeRemove(ctx, t.id, false)
		case "image":
			// Never forced: the engine keeps an image a container uses.
			// Each of the build's tags goes on its own; removing the last
			// one removes the image (and its untagged parents, the
			// build's steps).
			refs := t.tags
			if len(refs) == 0 { // untagged
				refs = []string{t.id}
			}
			for _, ref := range refs {
				if ref != t.id && !c.tagStillOn(ctx, ref, t.id) {
					// Moved to another image since the list (a new build,
					// a docker tag): that image is not ours to untag.
					c.logger.Debug(op+": keeping a tag that moved to another image", "tag", ref, "image", short(t.id))
					continue
				}
				if _, err = c.api.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true}); !gone(err) {
					break
				}
			}
		}
		switch {
		case gone(err):
			removed = append(removed, t)
		case t.kind != "container" && isInUse(err):
			inUse(t.kind, t.name, err)
		default:
			errs = append(errs, c.opErr(err, "%s: remove %s %s", op, t.kind, t.name))
		}
	}
	return removed, errors.Join(errs...)
}

// tagStillOn reports whether ref still names the image id.
func (c *Client) tagStillOn(ctx context.Context, ref, id string) bool {
	ii, err := c.api.ImageInspect(ctx, ref)
	return err == nil && ii.ID == id
}

// isInUse reports the engine's refusal to remove something in use (a
// network with endpoints, a volume or image a container uses).
func isInUse(err error) bool {
	return err != nil && (cerrdefs.IsConflict(err) || cerrdefs.IsPermissionDenied(err))
}

// imageTarget is the removal of a built image: the tags its build gave
// it, or, untagged, the image itself. An image left with only tags
// someone else added is not a target (ok false); one with both loses
// ours and keeps theirs.
func imageTarget(im image.Summary) (t target, ok bool) {
	ours := map[string]bool{}
	for _, tag := range strings.Fields(im.Labels[LabelBuildTags]) {
		ours[tag] = true
	}
	t = target{kind: "image", id: im.ID, name: short(im.ID)}
	tagged := false
	for _, tag := range im.RepoTags {
		if tag == "<none>:<none>" {
			continue
		}
		tagged = true
		if ours[tag] {
			t.tags = append(t.tags, tag)
		}
	}
	return t, !tagged || len(t.tags) > 0
}

func containerName(ct container.Summary) string {
	if n := canonicalName(ct.Names); n != "" {
		return n
	}
	return short(ct.ID)
}

func isRemovalInProgress(err error) bool {
	return err != nil && (containsFold(err.Error(), "removal of container") && containsFold(err.Error(), "already in progress"))
}
