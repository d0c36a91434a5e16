package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// Up creates what the project needs and starts its services, as docker
// compose up -d: it pulls missing images and builds services with build:,
// creates the project's networks and named volumes, then creates and
// starts each service's containers as soon as its depends_on conditions
// hold (service_started, service_healthy, service_completed_successfully;
// required: false dependencies may be missing or fail). Independent
// services start in parallel.
//
// Up is idempotent: a container whose configuration hash
// (com.docker.compose.config-hash, see ServiceHash) and image are
// unchanged is kept as it is; a changed service is recreated; a stopped
// one is started again.
//
// With WithWait, Up returns when every service is running, or healthy if
// it has a healthcheck. A service that fails to start, exits, or becomes
// unhealthy fails Up with an error naming it and quoting its last log
// lines; only a service others depend on with
// service_completed_successfully may exit, with code 0. Up does not undo
// what it did on failure: Down removes it all.
//
// Ports without a host IP are published on the client's bind address
// (127.0.0.1 for a local engine), unlike the CLI (0.0.0.0);
// WithAllInterfaces restores the CLI's behaviour. A failure wraps
// lifecycle's error classes and, for a container that exited or is
// unhealthy, a *lifecycle.ExitError, and names the service.
//
// A changed container is recreated as the CLI does it: the old one is
// stopped and renamed out of the way, the new one created under the name,
// then the old one removed.
//
// WithServices may name a service its profile disables, as docker compose
// up svc may (v2.40.3 and v5.6.0 alike): its profiles are enabled, and Up
// starts it and its dependencies, those of the same profiles included,
// and no other service of those profiles. A required dependency still
// disabled (of another profile) is an error wrapping lifecycle.ErrInvalid,
// even with WithNoDeps, unless it is named too. The stack's project is
// left as it is.
func (s *Stack) Up(ctx context.Context, opts ...UpOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Up", opts, UpOption.applyUp)
	if err != nil {
		return err
	}
	return s.up(ctx, set, nil)
}

// up is Up from the project base (nil: the stack's, with the named
// services enabled; see planUp).
func (s *Stack) up(ctx context.Context, set *upSettings, base *types.Project) error {
	p, deps, err := s.planUp(set, base)
	if err != nil {
		return err
	}
	if err := s.checkAttach(set, p); err != nil {
		return err
	}
	if err := checkKeys(p); err != nil {
		return err
	}
	if err := precheck(p, convertOptions{apiVersion: s.c.APIVersion()}); err != nil {
		return err
	}
	if set.waitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, set.waitTimeout)
		defer cancel()
	}
	prog := newProgress(set.progress)
	images, err := s.ensureImages(ctx, p, set.build, prog)
	if err != nil {
		return timeoutErr(ctx, set, err)
	}
	if err := s.ensureNetworks(ctx, p, prog); err != nil {
		return timeoutErr(ctx, set, err)
	}
	if err := s.ensureVolumes(ctx, p, prog, set.recreateVolumes, set.timeout); err != nil {
		return timeoutErr(ctx, set, err)
	}
	existing, err := s.containers(ctx, true, false)
	if err != nil {
		return err
	}
	byService := map[string][]lifecycle.Summary{}
	for _, ct := range existing {
		svc := ct.Labels[LabelService]
		if !s.knownService(svc) {
			if set.removeOrphans {
				if err := s.removeContainer(ctx, ct, set.timeout, false, prog); err != nil {
					return err
				}
			} else {
				prog.printf(" Found orphan container %s for service %q: remove it with WithRemoveOrphans", ctName(ct), svc)
			}
			continue
		}
		byService[svc] = append(byService[svc], ct)
	}
	r := &runner{s: s, p: p, set: set, prog: prog, images: images, existing: byService, deps: deps}
	err = r.run(ctx)
	if err == nil && set.abort {
		return r.attached(ctx)
	}
	return timeoutErr(ctx, set, err)
}

func timeoutErr(ctx context.Context, set *upSettings, err error) error {
	if err != nil && set.waitTimeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (wait timeout %v reached)", err, set.waitTimeout)
	}
	return err
}
