package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

type pullSettings struct {
	services        []string
	progress        io.Writer
	ignoreFailures  bool
	ignoreBuildable bool
	includeDeps     bool
	policy          string // WithPull: overrides the services' pull_policy
}

// WithIgnorePullFailures makes Pull pull what it can and return no error
// for the images it could not pull (pull --ignore-pull-failures); the
// progress writer still shows them.
func WithIgnorePullFailures() PullOption {
	return &option{name: "WithIgnorePullFailures", verbs: pull, pull: func(s *pullSettings) error { s.ignoreFailures = true; return nil }}
}

// WithIgnoreBuildable makes Pull skip the services with a build: section,
// whose image a build can make (pull --ignore-buildable).
func WithIgnoreBuildable() PullOption {
	return &option{name: "WithIgnoreBuildable", verbs: pull, pull: func(s *pullSettings) error { s.ignoreBuildable = true; return nil }}
}

// WithIncludeDeps makes Pull pull the images of the dependencies
// (depends_on, ...) of the WithServices services too (pull --include-deps).
func WithIncludeDeps() PullOption {
	return &option{name: "WithIncludeDeps", verbs: pull, pull: func(s *pullSettings) error { s.includeDeps = true; return nil }}
}

// Pull pulls the images of the stack's services (WithServices: of those
// services only, WithIncludeDeps: and their dependencies), as docker
// compose pull does: through lifecycle's Pull, with the docker CLI's
// credentials and the service's platform:, each image once even if
// several services use it, all at the same time.
//
// As the CLI, it skips a service with no image: (build: only), one whose
// pull_policy is never or build, one whose pull_policy is missing (or
// if_not_present) when its image is present and tagged other than
// latest, and with WithIgnoreBuildable one with a build: section.
// WithPull(lifecycle.PullAlways or PullMissing) overrides every service's
// pull_policy (pull --policy). A service its profile disables is pulled
// when WithServices names it, as docker compose pull svc does; with
// WithIncludeDeps, a dependency it requires that is still disabled (of
// another profile) is an error wrapping lifecycle.ErrInvalid naming it,
// as for Up. A service with both build: and image: is pulled; its failure is an error like any
// other unless WithIgnorePullFailures.
//
// The error joins one error per image that could not be pulled, each
// naming the service and the image; all pulls run to their end (the CLI
// stops the others at the first failure of a service without build:).
func (s *Stack) Pull(ctx context.Context, opts ...PullOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Pull", opts, PullOption.applyPull)
	if err != nil {
		return err
	}
	p := s.p
	if len(set.services) > 0 {
		// As the CLI: naming a service its profile disables enables it
		// (and what its profiles enable), then the project is narrowed.
		deps := types.IgnoreDependencies
		if set.includeDeps {
			// The dependencies are pulled: enabled checks them as Up
			// does (one still disabled is an ErrInvalid error naming it).
			deps = types.IncludeDependencies
			if p, err = s.enabled("pull", set.services); err != nil {
				return err
			}
		} else {
			if err := s.checkNamed("pull", set.services); err != nil {
				return err
			}
			if p, err = p.WithServicesEnabled(set.services...); err != nil {
				return fmt.Errorf("compose %s: pull: %w", s.p.Name, err)
			}
		}
		if p, err = p.WithSelectedServices(set.services, deps); err != nil {
			return invalidWrapf(err, "compose %s: pull", s.p.Name)
		}
	}
	prog := newProgress(set.progress)
	type job struct {
		image string
		svc   types.ServiceConfig
	}
	var jobs []job
	pulling := map[string]string{} // image -> the service that pulls it
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		policy := svc.PullPolicy
		if set.policy != "" && svc.Image != "" {
			policy = set.policy
		}
		skip := ""
		switch {
		case svc.Image == "":
			skip = "Skipped - No image to be pulled"
		case policy == types.PullPolicyNever || policy == types.PullPolicyBuild:
			skip = "Skipped"
		case (policy == types.PullPolicyMissing || policy == types.PullPolicyIfNotPresent) && s.presentNotLatest(ctx, svc.Image):
			skip = "Skipped - Image is already present locally"
		case svc.Build != nil && set.ignoreBuildable:
			skip = "Skipped - Image can be built"
		case pulling[svc.Image] != "":
			skip = "Skipped - Image is already being pulled by " + pulling[svc.Image]
		}
		if skip != "" {
			prog.event("Service", name, skip)
			continue
		}
		pulling[svc.Image] = name
		jobs = append(jobs, job{svc.Image, svc})
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var po []lifecycle.PullOption
			if j.svc.Platform != "" {
				po = append(po, lifecycle.WithPlatform(j.svc.Platform))
			}
			prog.event("Image", j.image, "Pulling")
			if err := s.c.Pull(ctx, j.image, po...); err != nil {
				prog.event("Image", j.image, "Error")
				errs[i] = fmt.Errorf("service %q: %w", j.svc.Name, err) // "pull IMAGE: ..." from lifecycle
				return
			}
			prog.event("Image", j.image, "Pulled")
		}()
	}
	wg.Wait()
	var mustBuild []string
	for i, err := range errs {
		if err != nil && jobs[i].svc.Build != nil {
			mustBuild = append(mustBuild, strconv.Quote(jobs[i].svc.Name))
		}
	}
	if len(mustBuild) > 0 {
		prog.printf("WARNING: Some service image(s) must be built from source: Build(ctx, WithServices(%s))", strings.Join(mustBuild, ", "))
	}
	if err := errors.Join(errs...); err != nil && !set.ignoreFailures {
		return fmt.Errorf("compose %s: pull: %w", s.p.Name, err)
	}
	return nil
}

// presentNotLatest reports whether image is on the engine under a tag
// other than latest, the CLI's test for skipping a pull_policy: missing
// service: an image named without a tag, or by digest, is pulled anyway.
func (s *Stack) presentNotLatest(ctx context.Context, image string) bool {
	if strings.Contains(image, "@") {
		return false
	}
	tag := ""
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		tag = image[i+1:]
	}
	if tag == "" || tag == "latest" {
		return false
	}
	_, err := s.c.InspectImage(ctx, image)
	return err == nil
}
