package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/dockhand/dockhand/lifecycle"
)

// Stop stops the stack's containers (WithServices: those services'),
// dependants first, without removing them (docker compose stop).
func (s *Stack) Stop(ctx context.Context, opts ...StopOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Stop", opts, StopOption.applyStop)
	if err != nil {
		return err
	}
	return s.stop(ctx, "stop", set)
}

func (s *Stack) stop(ctx context.Context, verb string, set *cycleSettings) error {
	if err := s.checkNamed(verb, set.services); err != nil {
		return err
	}
	return s.stopNamed(ctx, set)
}

// stopNamed is stop for services already checked: Up's, which may include
// services a profile disables in the stack's project and naming enabled
// (WithAbortOnContainerExit stops them).
func (s *Stack) stopNamed(ctx context.Context, set *cycleSettings) error {
	prog := newProgress(set.progress)
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return err
	}
	want := toSet(set.services)
	byService := map[string][]lifecycle.Summary{}
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if s.knownService(svc) && (len(want) == 0 || want[svc]) {
			byService[svc] = append(byService[svc], ct)
		}
	}
	errs := s.inReverseOrder(byService, func(ct lifecycle.Summary) error {
		prog.event("Container", ctName(ct), "Stopping")
		if err := ct.Container().Stop(ctx, stopOptions(set.timeout)...); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			return err
		}
		prog.event("Container", ctName(ct), "Stopped")
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("compose %s: stop: %w", s.p.Name, err)
	}
	return nil
}

// Start starts the stack's existing containers (WithServices: those
// services' and their dependencies'), honouring depends_on conditions as
// Up does (docker compose start). It creates nothing.
func (s *Stack) Start(ctx context.Context, opts ...StartOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Start", opts, StartOption.applyStart)
	if err != nil {
		return err
	}
	return s.start(ctx, "start", set)
}

func (s *Stack) start(ctx context.Context, verb string, set *cycleSettings) error {
	p, deps, err := s.plan(verb, set.services)
	if err != nil {
		return err
	}
	cts, err := s.containers(ctx, true, false)
	if err != nil {
		return err
	}
	byService := map[string][]lifecycle.Summary{}
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if _, ok := p.Services[svc]; ok {
			byService[svc] = append(byService[svc], ct)
		}
	}
	for _, name := range p.ServiceNames() {
		if len(byService[name]) == 0 {
			return fmt.Errorf("compose %s: start: service %q has no container: use Up", s.p.Name, name)
		}
	}
	r := &runner{s: s, p: p, set: &upSettings{progress: set.progress}, prog: newProgress(set.progress), existing: byService, deps: deps, startOnly: true}
	return r.run(ctx)
}

// Restart stops then starts the stack's containers (WithServices: those
// services'), in dependency order (docker compose restart).
func (s *Stack) Restart(ctx context.Context, opts ...RestartOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Restart", opts, RestartOption.applyRestart)
	if err != nil {
		return err
	}
	// Check all before stopping anything: start enables a named
	// service its profile disables, and fails on what it cannot start.
	if _, err := s.enabled("restart", set.services); err != nil {
		return err
	}
	if err := s.stop(ctx, "restart", set); err != nil {
		return err
	}
	return s.start(ctx, "restart", &cycleSettings{services: set.services, progress: set.progress})
}
