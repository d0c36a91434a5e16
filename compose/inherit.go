package compose

import (
	"context"
	"errors"
	"path"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dockhand/dockhand/lifecycle"
)

// labelInheritedVolumes lists (comma-separated) the anonymous volumes a
// recreated container took over from the container it replaced. The
// engine removes a container's anonymous volumes with it only when it
// created them for that container; these it mounts by name, so whoever
// removes the container removes them (see removeContainer).
const labelInheritedVolumes = "dev.dockhand.compose.inherited-volumes"

// inheritVolumes makes spec, the new container of a recreate, mount the
// anonymous volumes of old, as the CLI does: a volume of old (one the
// engine created for an image VOLUME or a service volume without a source,
// or one old itself inherited) is mounted at the same target unless the
// new configuration mounts something else there. It returns the names of
// the volumes taken over, sorted.
func inheritVolumes(spec *createSpec, old container.InspectResponse) []string {
	hc := spec.host
	taken := map[string]bool{} // targets the new configuration mounts
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) >= 2 {
			taken[path.Clean(parts[1])] = true
		}
	}
	anon := map[string]int{} // target -> index in hc.Mounts of a mount without source
	for i, m := range hc.Mounts {
		t := path.Clean(m.Target)
		if m.Type == mount.TypeVolume && m.Source == "" {
			anon[t] = i
			continue
		}
		taken[t] = true
	}
	for t := range hc.Tmpfs {
		taken[path.Clean(t)] = true
	}
	named := map[string]bool{} // volumes old mounted by a name its config gave
	if old.HostConfig != nil {
		for _, m := range old.HostConfig.Mounts {
			if m.Type == mount.TypeVolume && m.Source != "" {
				named[m.Source] = true
			}
		}
		for _, b := range old.HostConfig.Binds {
			if src, _, ok := strings.Cut(b, ":"); ok && !strings.HasPrefix(src, "/") {
				named[src] = true
			}
		}
	}
	inherited := map[string]bool{}
	if old.Config != nil {
		for _, v := range strings.Split(old.Config.Labels[labelInheritedVolumes], ",") {
			if v != "" {
				inherited[v] = true
			}
		}
	}
	var names []string
	for _, m := range old.Mounts {
		if m.Type != mount.TypeVolume || m.Name == "" {
			continue
		}
		if named[m.Name] && !inherited[m.Name] {
			continue // a named volume of old's configuration, not anonymous
		}
		t := path.Clean(m.Destination)
		if taken[t] {
			continue
		}
		if i, ok := anon[t]; ok {
			hc.Mounts[i].Source = m.Name
		} else {
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Name, Target: m.Destination})
		}
		taken[t] = true
		names = append(names, m.Name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		spec.cfg.Labels[labelInheritedVolumes] = strings.Join(names, ",")
	}
	return names
}

// replaceLabel is the value of com.docker.compose.replace on the new
// container of a recreate: the replaced container's name without the
// project prefix, as the CLI writes it ("web-1").
func replaceLabel(project, name string) string {
	name = strings.TrimPrefix(name, "/")
	for _, sep := range []string{"-", "_"} {
		if rest, ok := strings.CutPrefix(name, project+sep); ok {
			return rest
		}
	}
	return name
}

// removeInheritedVolumes removes the anonymous volumes a removed container
// had taken over (listed in its labelInheritedVolumes label, which only a
// recreate by this package writes). A volume still in use (by another
// container) or already gone is left alone.
func (s *Stack) removeInheritedVolumes(ctx context.Context, ct lifecycle.Summary) error {
	var errs []error
	for _, v := range strings.Split(ct.Labels[labelInheritedVolumes], ",") {
		if v == "" {
			continue
		}
		err := s.c.RemoveVolume(ctx, v)
		if err != nil && !errors.Is(err, lifecycle.ErrNotFound) && !errors.Is(err, lifecycle.ErrConflict) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
