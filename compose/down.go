package compose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/dockhand/dockhand/lifecycle"
)

// Down stops and removes the project's containers, dependants before
// their dependencies, then its networks (docker compose down). It finds
// containers by the com.docker.compose.project label, so it also takes
// down a stack that docker compose started. Volumes, the anonymous ones
// of its containers and the project's named ones, go only with
// WithRemoveVolumes (down -v); images Up built only with WithRemoveImages; containers
// of services no longer in the project and one-off containers (Run) only
// with WithRemoveOrphans (which, unlike the CLI, also removes running
// one-offs). A network still used by a container left is kept.
// WithGracePeriod overrides each container's stop grace period.
func (s *Stack) Down(ctx context.Context, opts ...DownOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Down", opts, DownOption.applyDown)
	if err != nil {
		return err
	}
	prog := newProgress(set.progress)
	cts, err := s.containers(ctx, true, true)
	if err != nil {
		return err
	}
	var errs []error
	byService := map[string][]lifecycle.Summary{}
	var loose []lifecycle.Summary // one-off and orphan containers
	orphans := 0
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		switch {
		case ct.Labels[LabelOneoff] == "True" && !set.removeOrphans:
			// As the CLI: one-off containers (Run) stay, running or not,
			// unless orphans are removed.
			orphans++
			prog.printf(" Left one-off container %s of service %q: remove it with WithRemoveOrphans", ctName(ct), svc)
			continue
		case !s.knownService(svc):
			if !set.removeOrphans {
				orphans++
				prog.printf(" Found orphan container %s for service %q: remove it with WithRemoveOrphans", ctName(ct), svc)
				continue
			}
			loose = append(loose, ct)
		case ct.Labels[LabelOneoff] == "True":
			loose = append(loose, ct)
		default:
			byService[svc] = append(byService[svc], ct)
		}
	}
	remove := func(ct lifecycle.Summary) error { return s.removeContainer(ctx, ct, set.timeout, set.volumes, prog) }
	errs = append(errs, eachParallel(loose, remove)...)
	errs = append(errs, s.inReverseOrder(byService, remove)...)
	errs = append(errs, s.removeNetworks(ctx, prog, orphans > 0)...)
	if set.volumes {
		errs = append(errs, s.removeVolumes(ctx, prog)...)
	}
	if set.removeImages {
		errs = append(errs, s.removeImages(ctx, prog)...)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("compose %s: down: %w", s.p.Name, err)
	}
	return nil
}

// eachParallel runs f on every container at once and returns the errors.
func eachParallel(cts []lifecycle.Summary, f func(lifecycle.Summary) error) []error {
	errs := make([]error, len(cts))
	var wg sync.WaitGroup
	for i, ct := range cts {
		wg.Go(func() { errs[i] = f(ct) })
	}
	wg.Wait()
	return errs
}

// allDeps is the dependency map over every service the project knows,
// disabled ones included, ignoring unknown names (Down must work even on
// a project that would not start).
func (s *Stack) allDeps() map[string][]string {
	deps := map[string][]string{}
	add := func(svcs types.Services) {
		for name, svc := range svcs {
			for d := range svc.DependsOn {
				if s.knownService(d) {
					deps[name] = append(deps[name], d)
				}
			}
		}
	}
	add(s.p.Services)
	add(s.p.DisabledServices)
	return deps
}

// inReverseOrder runs f on each service's containers, in parallel, once
// every service depending on it is done. A cycle cannot block it:
// services left waiting on one another are handled together at the end.
func (s *Stack) inReverseOrder(byService map[string][]lifecycle.Summary, f func(lifecycle.Summary) error) []error {
	deps := s.allDeps()
	users := dependents(deps)
	var errs []error
	pending := map[string]bool{}
	for name := range byService {
		pending[name] = true
	}
	for len(pending) > 0 {
		var ready []string
		for name := range pending {
			ok := true
			for _, u := range users[name] {
				if pending[u] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, name)
			}
		}
		if len(ready) == 0 { // a cycle: take the rest at once
			for name := range pending {
				ready = append(ready, name)
			}
		}
		sort.Strings(ready)
		var batch []lifecycle.Summary
		for _, name := range ready {
			batch = append(batch, byService[name]...)
			delete(pending, name)
		}
		errs = append(errs, eachParallel(batch, f)...)
	}
	return errs
}

// removeNetworks removes the project's networks (found by label, plus the
// declared non-external ones by name).
func (s *Stack) removeNetworks(ctx context.Context, prog *progress, orphansLeft bool) []error {
	list, err := s.c.Networks(ctx, lifecycle.WithFilter("label", LabelProject+"="+s.p.Name))
	if err != nil {
		return []error{err}
	}
	names := map[string]string{}
	for _, n := range list {
		names[n.Name] = n.ID
	}
	for _, nw := range s.p.Networks {
		if nw.Name != "" && !bool(nw.External) {
			if _, ok := names[nw.Name]; !ok {
				if ins, err := s.c.Network(ctx, nw.Name); err == nil && ins.Labels[LabelProject] == s.p.Name {
					names[nw.Name] = ins.ID
				}
			}
		}
	}
	var errs []error
	for name, id := range names {
		prog.event("Network", name, "Removing")
		err := s.c.RemoveNetwork(ctx, id)
		switch {
		case err == nil || errors.Is(err, lifecycle.ErrNotFound):
			prog.event("Network", name, "Removed")
		case orphansLeft && cerrdefs.IsPermissionDenied(err):
			// 403: the engine refuses to remove a network with active
			// endpoints (a project network is never a predefined one).
			prog.printf(" Network %s  Resource is still in use (orphan containers)", name)
		default:
			errs = append(errs, err)
		}
	}
	return errs
}

func (s *Stack) removeVolumes(ctx context.Context, prog *progress) []error {
	list, err := s.c.Volumes(ctx, lifecycle.WithFilter("label", LabelProject+"="+s.p.Name))
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, v := range list {
		prog.event("Volume", v.Name, "Removing")
		if err := s.c.RemoveVolume(ctx, v.Name); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		prog.event("Volume", v.Name, "Removed")
	}
	return errs
}

// removeImages removes the images built under the default name
// project-service (down --rmi local).
func (s *Stack) removeImages(ctx context.Context, prog *progress) []error {
	var errs []error
	seen := map[string]bool{}
	for _, svcs := range []types.Services{s.p.Services, s.p.DisabledServices} {
		for _, svc := range svcs {
			if svc.Build == nil || svc.Image != "" {
				continue
			}
			img := imageName(s.p, svc)
			if seen[img] {
				continue
			}
			seen[img] = true
			err := s.c.RemoveImage(ctx, img, lifecycle.WithForce())
			if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
				errs = append(errs, err)
				continue
			}
			if err == nil {
				prog.event("Image", img, "Removed")
			}
		}
	}
	return errs
}
