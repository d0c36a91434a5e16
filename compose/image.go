package compose

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// ensureImages pulls missing images and builds services with build:
// (always with WithBuild, else when the image is missing); it returns
// each service's image id for the com.docker.compose.image label.
func (s *Stack) ensureImages(ctx context.Context, p *types.Project, build bool, prog *progress) (map[string]string, error) {
	ids := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	type job struct {
		image string
		svcs  []types.ServiceConfig
	}
	jobs := map[string]*job{}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		img := imageName(p, svc)
		if jobs[img] == nil {
			jobs[img] = &job{image: img}
		}
		jobs[img].svcs = append(jobs[img].svcs, svc)
	}
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.ensureImage(ctx, p, j.image, j.svcs, build, prog)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for _, svc := range j.svcs {
				ids[svc.Name] = id
			}
		}()
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

func (s *Stack) ensureImage(ctx context.Context, p *types.Project, image string, svcs []types.ServiceConfig, build bool, prog *progress) (string, error) {
	var builder *types.ServiceConfig
	policy := ""
	for i := range svcs {
		if svcs[i].Build != nil && builder == nil {
			builder = &svcs[i]
		}
		if svcs[i].PullPolicy != "" {
			policy = svcs[i].PullPolicy
		}
	}
	have, err := s.c.InspectImage(ctx, image)
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return "", fmt.Errorf("service %q: %w", svcs[0].Name, err) // lifecycle names the image
	}
	missing := err != nil
	switch {
	case builder != nil && (build || missing || policy == types.PullPolicyBuild || policy == types.PullPolicyAlways):
		return s.build(ctx, p, *builder, image, prog)
	case policy == types.PullPolicyAlways || (missing && policy != types.PullPolicyNever):
		if !missing || policy == types.PullPolicyAlways {
			prog.event("Image", image, "Pulling")
		} else {
			prog.event("Image", image, "Pulling (missing)")
		}
		var pull []lifecycle.PullOption
		if pl := svcs[0].Platform; pl != "" {
			pull = append(pull, lifecycle.WithPlatform(pl)) // platform: pulls that variant
		}
		if err := s.c.Pull(ctx, image, pull...); err != nil {
			return "", fmt.Errorf("service %q: %w", svcs[0].Name, err) // "pull IMAGE: ..." from lifecycle
		}
		prog.event("Image", image, "Pulled")
		img, err := s.c.InspectImage(ctx, image)
		if err != nil {
			return "", fmt.Errorf("service %q: %w", svcs[0].Name, err)
		}
		return img.ID, nil
	case missing:
		return "", fmt.Errorf("service %q: image %s is missing and pull_policy is never", svcs[0].Name, image)
	}
	return have.ID, nil
}

func (s *Stack) build(ctx context.Context, p *types.Project, svc types.ServiceConfig, image string, prog *progress) (string, error) {
	b := svc.Build
	prog.event("Image", image, "Building")
	dir := b.Context
	if dir == "" {
		dir = "."
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(p.WorkingDir, dir)
	}
	// build.tags go to the build itself, so they are recorded as its own
	// tags and Cleanup removes them with the image.
	opts := []lifecycle.BuildOption{lifecycle.WithTags(append([]string{image}, b.Tags...)...)}
	if b.Dockerfile != "" {
		opts = append(opts, lifecycle.WithDockerfile(b.Dockerfile))
	}
	if b.DockerfileInline != "" {
		return "", fmt.Errorf("service %q: build.dockerfile_inline is not supported", svc.Name)
	}
	var args []string
	for k, v := range b.Args {
		if v != nil {
			args = append(args, k+"="+*v)
		}
	}
	if len(args) > 0 {
		opts = append(opts, lifecycle.WithBuildArgs(args...))
	}
	if b.Target != "" {
		opts = append(opts, lifecycle.WithTarget(b.Target))
	}
	if b.NoCache {
		opts = append(opts, lifecycle.WithNoCache())
	}
	labels := map[string]string{LabelProject: p.Name, LabelService: svc.Name}
	for k, v := range b.Labels {
		labels[k] = v
	}
	opts = append(opts, lifecycle.WithLabels(labels))
	if svc.Platform != "" {
		opts = append(opts, lifecycle.WithPlatform(svc.Platform))
	}
	id, err := s.c.Build(ctx, dir, opts...)
	if err != nil {
		return "", fmt.Errorf("service %q: %w", svc.Name, err) // "build DIR: ..." from lifecycle
	}
	prog.event("Image", image, "Built")
	return id, nil
}
