package compose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
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
	sort.Slice(have, func(i, j int) bool { return number(have[i]) < number(have[j]) })
	keep := map[int]container.Summary{}
	var remove []container.Summary
	for _, ct := range have {
		n := number(ct)
		_, dup := keep[n]
		switch {
		case n < 1 || n > want || dup:
			remove = append(remove, ct)
		case r.set.forceRecreate || !configUnchanged(ct.Labels[LabelConfigHash], svc, hash) || (image != "" && ct.Labels[LabelImage] != image):
			remove = append(remove, ct)
		default:
			keep[n] = ct
		}
	}
	if r.startOnly {
		keep = map[int]container.Summary{}
		remove = nil
		want = len(have)
		for i, ct := range have {
			keep[i+1] = ct
		}
	}
	if svc.ContainerName != "" && want > 1 {
		return nil, fmt.Errorf("service %q: container_name %q cannot be used with %d replicas", svc.Name, svc.ContainerName, want)
	}
	for _, ct := range remove {
		if err := r.s.removeContainer(ctx, ct, r.set.timeout, r.prog); err != nil {
			return nil, fmt.Errorf("service %q: %w", svc.Name, err)
		}
	}
	refs := make([]ctRef, want)
	fresh := make([]bool, want)
	errs := make([]error, want)
	var wg sync.WaitGroup
	for n := 1; n <= want; n++ {
		if ct, ok := keep[n]; ok {
			refs[n-1] = ctRef{id: ct.ID, name: ctName(ct)}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[n-1], errs[n-1] = r.create(ctx, svc, n, hash, image)
			fresh[n-1] = errs[n-1] == nil
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := waitDeps(); err != nil {
		return nil, err
	}
	for n := 1; n <= want; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := refs[n-1]
			if ct, ok := keep[n]; ok && !fresh[n-1] {
				if ct.State == "running" {
					r.prog.event("Container", ref.name, "Running")
					return
				}
				// A one-shot service (others wait for it to complete) that
				// completed is done: it is not run again.
				if ct.State == "exited" && r.isOneShot(svc.Name) && exitCode(ct) == 0 {
					r.prog.event("Container", ref.name, "Exited")
					return
				}
			}
			if err := r.s.api.ContainerStart(ctx, ref.id, container.StartOptions{}); err != nil {
				errs[n-1] = r.failed(ctx, svc.Name, ref, fmt.Errorf("start %s: %w", ref.name, err))
				return
			}
			r.prog.event("Container", ref.name, "Started")
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return refs, nil
}

func exitCode(ct container.Summary) int {
	if m := exitRE.FindStringSubmatch(ct.Status); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return -1
}

func number(ct container.Summary) int {
	n, _ := strconv.Atoi(ct.Labels[LabelContainerNumber])
	return n
}

// containerLabels are the labels of replica n: the service's own, the
// CLI's, and Dockhand's session labels.
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
	return s.c.Labels(l)
}

// create creates replica n of svc (not started).
func (r *runner) create(ctx context.Context, svc types.ServiceConfig, n int, hash, image string) (ctRef, error) {
	labels := r.s.containerLabels(r.p, svc, n, hash, image, false)
	spec, err := toCreate(r.p, svc, n, labels, r.s.convertOptions(ctx, r.set.allInterfaces))
	if err != nil {
		return ctRef{}, err
	}
	name := containerName(r.p, svc, n)
	return r.s.createContainer(ctx, spec, name, r.prog)
}

func (s *Stack) convertOptions(ctx context.Context, allInterfaces bool) convertOptions {
	bindIP := ""
	if !allInterfaces {
		bindIP = s.c.PublishAddress(ctx)
	}
	return convertOptions{
		bindIP:                bindIP,
		apiVersion:            s.api.ClientVersion(),
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

// createContainer creates the container and connects its extra networks;
// on failure it removes what it created.
func (s *Stack) createContainer(ctx context.Context, spec *createSpec, name string, prog *progress) (ctRef, error) {
	resp, err := s.api.ContainerCreate(ctx, spec.cfg, spec.host, spec.net, spec.platform, name)
	if err != nil {
		return ctRef{}, fmt.Errorf("service %q: create container %s: %w", spec.cfg.Labels[LabelService], name, err)
	}
	for _, en := range spec.extra {
		if err := s.api.NetworkConnect(ctx, en.name, resp.ID, en.ep); err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = s.api.ContainerRemove(rctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			cancel()
			return ctRef{}, fmt.Errorf("service %q: container %s: connect network %s: %w", spec.cfg.Labels[LabelService], name, en.name, err)
		}
	}
	prog.event("Container", name, "Created")
	return ctRef{id: resp.ID, name: name}, nil
}

// removeContainer stops (with the timeout, else the container's own stop
// timeout) and removes a container with its anonymous volumes.
func (s *Stack) removeContainer(ctx context.Context, ct container.Summary, timeout *time.Duration, prog *progress) error {
	name := ctName(ct)
	if ct.State == "running" || ct.State == "restarting" || ct.State == "paused" {
		prog.event("Container", name, "Stopping")
		if err := s.api.ContainerStop(ctx, ct.ID, stopOptions(timeout)); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stop %s: %w", name, err)
		}
		prog.event("Container", name, "Stopped")
	}
	prog.event("Container", name, "Removing")
	err := s.api.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	// With Force, the engine's only conflict (409) is a removal already in
	// progress: someone else is removing it.
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	prog.event("Container", name, "Removed")
	return nil
}

func stopOptions(timeout *time.Duration) container.StopOptions {
	if timeout == nil {
		return container.StopOptions{}
	}
	secs := int(timeout.Round(time.Second) / time.Second)
	return container.StopOptions{Timeout: &secs}
}
