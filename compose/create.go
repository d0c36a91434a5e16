package compose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/lifecycle"
)

// converge makes the service's containers match its configuration and
// starts them; it returns them in number order.
func (r *runner) converge(ctx context.Context, svc types.ServiceConfig, waitDeps func() error) ([]ctRef, error) {
	if hasServiceRefs(svc) {
		// Its container needs the other service's container id at create,
		// and the hash is of the resolved references (see refs.go).
		if err := waitDeps(); err != nil {
			return nil, err
		}
		waitDeps = func() error { return nil }
		var err error
		if svc, err = r.s.resolveServiceRefs(ctx, svc); err != nil {
			return nil, err
		}
	}
	want := replicas(svc)
	hash, err := ServiceHash(svc)
	if err != nil {
		return nil, fmt.Errorf("service %q: config hash: %w", svc.Name, err)
	}
	image := r.images[svc.Name]
	have := r.existing[svc.Name]
	if svc.ContainerName != "" && want > 1 {
		return nil, fmt.Errorf("service %q: container_name %q cannot be used with %d replicas", svc.Name, svc.ContainerName, want)
	}
	slots, remove := r.plan(svc, have, want, hash, image)
	for _, ct := range remove {
		if err := r.s.removeContainer(ctx, ct, r.set.timeout, false, r.prog); err != nil {
			return nil, fmt.Errorf("service %q: %w", svc.Name, err)
		}
	}
	refs := make([]ctRef, len(slots))
	fresh := make([]bool, len(slots))
	errs := make([]error, len(slots))
	var wg sync.WaitGroup
	for i, sl := range slots {
		if sl.old != nil && !sl.recreate {
			refs[i] = ctRef{h: sl.old.Container(), name: ctName(*sl.old)}
			continue
		}
		wg.Go(func() {
			if sl.old != nil {
				refs[i], errs[i] = r.recreate(ctx, svc, sl.n, hash, image, *sl.old)
			} else {
				refs[i], errs[i] = r.create(ctx, svc, sl.n, hash, image, nil)
			}
			fresh[i] = errs[i] == nil
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if st := r.state[svc.Name]; st != nil {
		for i, sl := range slots {
			if sl.recreate && fresh[i] {
				st.recreated = true
			}
		}
	}
	if err := waitDeps(); err != nil {
		return nil, err
	}
	restart := r.restartDeps(svc)
	for i, sl := range slots {
		wg.Go(func() {
			ref := refs[i]
			if ct := sl.old; ct != nil && !fresh[i] {
				if ct.State == "running" && restart != "" && linksTo(svc, restart) {
					// A legacy link binds to the linked container, not to
					// its name: the engine cannot start a container linked
					// to the one just replaced. Recreate it, so its links
					// name the new container.
					nref, err := r.recreate(ctx, svc, sl.n, hash, image, *ct)
					if err != nil {
						errs[i] = fmt.Errorf("service %q: recreate after %s was recreated: %w", svc.Name, restart, err)
						return
					}
					ref, refs[i] = nref, nref
				} else if ct.State == "running" && restart != "" {
					// depends_on.restart: the dependency was recreated.
					r.prog.event("Container", ref.name, "Restarting")
					if err := ref.h.Stop(ctx, stopOptions(r.set.timeout)...); err != nil {
						errs[i] = fmt.Errorf("service %q: restart after %s was recreated: %w", svc.Name, restart, err)
						return
					}
				} else if ct.State == "running" {
					r.prog.event("Container", ref.name, "Running")
					return
				}
				// A one-shot service (others wait for it to complete) that
				// completed is done: it is not run again.
				if ct.State == "exited" && r.isOneShot(svc.Name) && ct.ExitCode == 0 {
					r.prog.event("Container", ref.name, "Exited")
					return
				}
			}
			if err := ref.h.Start(ctx); err != nil {
				errs[i] = r.failed(ctx, svc.Name, ref, err)
				return
			}
			r.prog.event("Container", ref.name, "Started")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return refs, nil
}

// linksTo reports whether svc has a legacy link (links:) to service dep.
func linksTo(svc types.ServiceConfig, dep string) bool {
	for _, l := range svc.Links {
		if name, _, _ := strings.Cut(l, ":"); name == dep {
			return true
		}
	}
	return false
}

// restartDeps names a dependency of svc with depends_on.restart that this
// Up recreated ("" when none): svc's kept running containers restart, as
// the CLI does. Read after the dependencies started.
func (r *runner) restartDeps(svc types.ServiceConfig) string {
	for _, d := range sortedKeys(svc.DependsOn) {
		if !svc.DependsOn[d].Restart {
			continue
		}
		if st := r.state[d]; st != nil && st.recreated {
			return d
		}
	}
	return ""
}

// slot is one replica converge wants: an existing container (kept or to
// recreate) or a new one of number n.
type slot struct {
	n        int
	old      *lifecycle.Summary
	recreate bool
}

// plan picks the replicas of svc as the CLI does: of the containers it
// has (with a valid, unique number) it keeps the lowest-numbered want and
// removes the rest (scaling down removes the highest numbers); missing
// replicas get numbers after the highest one in use, so a gap left by a
// removed container is not refilled. A kept container whose configuration
// or image changed is recreated under its number.
func (r *runner) plan(svc types.ServiceConfig, have []lifecycle.Summary, want int, hash, image string) ([]slot, []lifecycle.Summary) {
	have = slices.Clone(have)
	sort.SliceStable(have, func(i, j int) bool { return number(have[i]) < number(have[j]) })
	if r.startOnly {
		slots := make([]slot, len(have))
		for i := range have {
			slots[i] = slot{n: number(have[i]), old: &have[i]}
		}
		return slots, nil
	}
	var slots []slot
	var remove []lifecycle.Summary
	seen := map[int]bool{}
	highest := 0
	for i, ct := range have {
		n := number(ct)
		highest = max(highest, n)
		if n < 1 || seen[n] || len(slots) == want {
			remove = append(remove, ct)
			continue
		}
		seen[n] = true
		changed := !r.set.noRecreate && (r.set.forceRecreate || !configUnchanged(ct.Labels[LabelConfigHash], svc, hash) || (image != "" && ct.Labels[LabelImage] != image))
		slots = append(slots, slot{n: n, old: &have[i], recreate: changed})
	}
	for len(slots) < want {
		highest++
		slots = append(slots, slot{n: highest})
	}
	return slots, remove
}

func number(ct lifecycle.Summary) int {
	n, _ := strconv.Atoi(ct.Labels[LabelContainerNumber])
	return n
}

// containerLabels are the labels of replica n: the service's own and the
// CLI's. lifecycle adds Dockhand's ownership labels when it creates the
// container.
func (s *Stack) containerLabels(p *types.Project, svc types.ServiceConfig, n int, hash, image string, oneoff bool) map[string]string {
	l := map[string]string{}
	for k, v := range svc.Labels {
		l[k] = v
	}
	custom := svc.CustomLabels
	if custom == nil {
		custom = cliLabels(p, svc.Name, nil)
	}
	for k, v := range custom {
		l[k] = v
	}
	l[LabelProject] = p.Name
	l[LabelService] = svc.Name
	l[LabelConfigHash] = hash
	if image != "" {
		l[LabelImage] = image
	}
	var ds []string
	for d, cfg := range svc.DependsOn {
		ds = append(ds, fmt.Sprintf("%s:%s:%t", d, cfg.Condition, cfg.Restart))
	}
	sort.Strings(ds)
	l[LabelDependsOn] = strings.Join(ds, ",")
	if oneoff {
		l[LabelOneoff] = "True"
	} else {
		l[LabelOneoff] = "False"
		l[LabelContainerNumber] = strconv.Itoa(n)
	}
	return l
}

// create creates replica n of svc (not started). When it replaces old (a
// recreate), it takes over old's anonymous volumes and records the
// replacement in com.docker.compose.replace, as the CLI does.
func (r *runner) create(ctx context.Context, svc types.ServiceConfig, n int, hash, image string, old *container.InspectResponse) (ctRef, error) {
	labels := r.s.containerLabels(r.p, svc, n, hash, image, false)
	if old != nil {
		labels[LabelReplace] = replaceLabel(r.p.Name, old.Name)
	}
	spec, err := toCreate(r.p, svc, n, labels, r.s.convertOptions(ctx))
	if err != nil {
		return ctRef{}, err
	}
	if old != nil {
		inheritVolumes(spec, *old)
	}
	name := containerName(r.p, svc, n)
	return r.s.createContainer(ctx, spec, name, r.set.allInterfaces, r.prog)
}

// recreate replaces old, replica n of svc, as the CLI does: it stops old,
// renames it out of the way (<short id>_<name>), creates the new container
// under the name, inheriting old's anonymous volumes, then removes old
// (whose anonymous volumes the engine keeps: the new container uses them).
// If the create fails, old gets its name back.
func (r *runner) recreate(ctx context.Context, svc types.ServiceConfig, n int, hash, image string, old lifecycle.Summary) (ctRef, error) {
	name := ctName(old)
	h := old.Container()
	r.prog.event("Container", name, "Recreate")
	ins, err := h.Inspect(ctx)
	if err != nil {
		return ctRef{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	if old.State == "running" || old.State == "restarting" || old.State == "paused" {
		if err := h.Stop(ctx, stopOptions(r.set.timeout)...); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			return ctRef{}, fmt.Errorf("service %q: %w", svc.Name, err)
		}
	}
	if err := h.Rename(ctx, old.ID[:12]+"_"+name); err != nil {
		return ctRef{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	ref, err := r.create(ctx, svc, n, hash, image, &ins)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := h.Rename(rctx, name); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return ctRef{}, err
	}
	if err := h.Remove(ctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes()); err != nil &&
		!errors.Is(err, lifecycle.ErrNotFound) && !errors.Is(err, lifecycle.ErrConflict) {
		return ref, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	r.prog.event("Container", name, "Recreated")
	return ref, nil
}

func (s *Stack) convertOptions(ctx context.Context) convertOptions {
	return convertOptions{
		apiVersion:            s.c.APIVersion(),
		serviceContainerNames: s.linksFunc(ctx),
		networkContainer: func(service string) (string, error) {
			cts, err := s.containers(ctx, false, false)
			if err != nil {
				return "", err
			}
			for _, ct := range cts {
				if ct.Labels[LabelService] == service {
					return ct.ID, nil
				}
			}
			return "", fmt.Errorf("no running container of service %q", service)
		},
	}
}

// createContainer creates the container through lifecycle (which labels
// it as ours, gives ports without a host address the client's bind
// address unless allInterfaces, and connects the extra networks before it
// returns); on failure lifecycle removes what it created.
func (s *Stack) createContainer(ctx context.Context, spec *createSpec, name string, allInterfaces bool, prog *progress) (ctRef, error) {
	ct, err := s.c.Create(ctx, spec.cfg.Image, s.createOptions(spec, name, allInterfaces)...)
	if err != nil {
		return ctRef{}, fmt.Errorf("service %q: create container %s: %w", spec.cfg.Labels[LabelService], name, err)
	}
	prog.event("Container", name, "Created")
	return ctRef{h: ct, name: name}, nil
}

// createOptions hands the converted service to lifecycle: its labels by
// WithLabels, the rest as the raw configuration.
func (s *Stack) createOptions(spec *createSpec, name string, allInterfaces bool) []lifecycle.RunOption {
	opts := []lifecycle.RunOption{
		lifecycle.WithName(name),
		lifecycle.WithPull(lifecycle.PullNever), // Up pulled and built what it runs
		lifecycle.WithLabels(spec.cfg.Labels),
		lifecycle.WithContainerConfig(func(cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) {
			// lifecycle's own: the labels of WithLabels, and the
			// streams of a foreground Run.
			keep := *cfg
			*cfg = *spec.cfg
			cfg.Labels = keep.Labels
			cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr = keep.AttachStdin, keep.AttachStdout, keep.AttachStderr
			if keep.OpenStdin {
				cfg.OpenStdin, cfg.StdinOnce = true, keep.StdinOnce
			}
			*hc = *spec.host
			if spec.net != nil {
				*nc = *spec.net
			}
			for _, en := range spec.extra {
				if nc.EndpointsConfig == nil {
					nc.EndpointsConfig = map[string]*network.EndpointSettings{}
				}
				nc.EndpointsConfig[en.name] = en.ep
			}
		}),
	}
	if allInterfaces {
		opts = append(opts, lifecycle.WithAllInterfaces())
	}
	if pl := spec.platform; pl != nil {
		opts = append(opts, lifecycle.WithPlatform(strings.TrimSuffix(pl.OS+"/"+pl.Architecture+"/"+pl.Variant, "/")))
	}
	return opts
}

// removeContainer stops (with the timeout, else the container's own stop
// timeout) and removes a container; its anonymous volumes (those the
// engine made for it and those it inherited on a recreate) go with it only
// when volumes is set (down -v). As the CLI, only Down passes it: a
// scale-down, an orphan removed by Up or a container removed to recreate a
// volume keeps its anonymous volumes.
func (s *Stack) removeContainer(ctx context.Context, ct lifecycle.Summary, timeout *time.Duration, volumes bool, prog *progress) error {
	name := ctName(ct)
	h := ct.Container()
	if ct.State == "running" || ct.State == "restarting" || ct.State == "paused" {
		prog.event("Container", name, "Stopping")
		if err := h.Stop(ctx, stopOptions(timeout)...); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			return err
		}
		prog.event("Container", name, "Stopped")
	}
	prog.event("Container", name, "Removing")
	rm := []lifecycle.RemoveOption{lifecycle.WithForce()}
	if volumes {
		rm = append(rm, lifecycle.WithRemoveVolumes())
	}
	err := h.Remove(ctx, rm...)
	// With Force, the engine's only conflict (409) is a removal already in
	// progress: someone else is removing it.
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) && !errors.Is(err, lifecycle.ErrConflict) {
		return err
	}
	if volumes {
		if err := s.removeInheritedVolumes(ctx, ct); err != nil {
			return err
		}
	}
	prog.event("Container", name, "Removed")
	return nil
}

// stopOptions is the grace period of a stop: lifecycle's rule (whole
// seconds, rounded up), or the container's own when timeout is nil.
func stopOptions(timeout *time.Duration) []lifecycle.StopOption {
	if timeout == nil {
		return nil
	}
	return []lifecycle.StopOption{lifecycle.WithGracePeriod(*timeout)}
}
