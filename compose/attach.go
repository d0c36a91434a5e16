package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// WithAbortOnContainerExit makes Up stay attached after starting the
// services, as docker compose up --abort-on-container-exit does for a test
// runner: Up returns when the first container of the started services
// exits, after stopping all the others. It returns nil if that container
// exited with code 0, else an error wrapping its *lifecycle.ExitError
// (exit code, last log lines) and naming its service. A one-shot service
// (others depend on it with service_completed_successfully) is expected
// to exit and does not end Up (unlike CLI 2.40, which aborts when such a
// dependency exits 0, before its dependants have run). Up also returns when ctx ends, with
// ctx.Err(), leaving the containers running. WithExitCodeFrom picks the
// service whose exit decides the result.
func WithAbortOnContainerExit() UpOption {
	return &option{name: "WithAbortOnContainerExit", verbs: up, up: func(s *upSettings) error { s.abort = true; return nil }}
}

// WithExitCodeFrom is WithAbortOnContainerExit whose result is the exit of
// the named service's container rather than the first one to exit (up
// --exit-code-from): nil when it exited 0, else an error wrapping its
// *lifecycle.ExitError. If another container exits first, the service's
// container is stopped with the rest and its exit code (e.g. 143 for
// SIGTERM) is the result, as with the CLI. The service must be one Up
// starts.
func WithExitCodeFrom(service string) UpOption {
	return &option{name: "WithExitCodeFrom", verbs: up, up: func(s *upSettings) error {
		if service == "" {
			return invalidf("compose: WithExitCodeFrom: empty service name")
		}
		s.abort, s.exitCodeFrom = true, service
		return nil
	}}
}

// checkAttach fails, before any engine call, on an exit-code-from service
// that Up would not start (p is the project narrowed to what Up starts).
func (s *Stack) checkAttach(set *upSettings, p *types.Project) error {
	if set.exitCodeFrom == "" {
		return nil
	}
	if _, ok := p.Services[set.exitCodeFrom]; !ok {
		return invalidf("compose %s: WithExitCodeFrom(%q): not a service Up starts (it starts: %s)", s.p.Name, set.exitCodeFrom, strings.Join(p.ServiceNames(), ", "))
	}
	return nil
}

// exit is the end of one container that attached Up watched.
type exit struct {
	service string
	ref     ctRef
	err     error // nil for code 0, else wraps an *lifecycle.ExitError
}

// attached waits for the first container of the started services to exit,
// stops the rest and returns the result WithAbortOnContainerExit and
// WithExitCodeFrom describe.
func (r *runner) attached(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exits := make(chan exit)
	watched := 0
	var decider []ctRef
	for name, st := range r.state {
		if name == r.set.exitCodeFrom {
			decider = st.ids
		}
		if r.isOneShot(name) && name != r.set.exitCodeFrom {
			continue
		}
		for _, ref := range st.ids {
			watched++
			go func() {
				// Exited(0) follows the engine's die events: nil on code 0,
				// an *ExitError otherwise.
				err := watch(wctx, ref.h.Exited(0))
				select {
				case exits <- exit{service: name, ref: ref, err: err}:
				case <-wctx.Done():
				}
			}()
		}
	}
	if watched == 0 {
		return fmt.Errorf("compose %s: attached up: no container to watch", r.p.Name)
	}
	var first exit
	select {
	case first = <-exits:
	case <-ctx.Done():
		return ctx.Err()
	}
	if first.err != nil && !errors.As(first.err, new(*lifecycle.ExitError)) {
		// The watch itself failed (engine gone, ...): that is the result.
		return fmt.Errorf("compose %s: service %q: %w", r.p.Name, first.service, first.err)
	}
	cancel()
	r.prog.printf(" Container %s exited: aborting (stopping the other containers)", first.ref.name)
	if err := r.s.stopNamed(ctx, &cycleSettings{services: r.p.ServiceNames(), progress: r.set.progress, timeout: r.set.timeout}); err != nil {
		return err
	}
	result := first
	if r.set.exitCodeFrom != "" && first.service != r.set.exitCodeFrom {
		// Its container was stopped with the rest: its exit code now.
		result = exit{service: r.set.exitCodeFrom}
		for _, ref := range decider {
			result.ref = ref
			if err := watch(ctx, ref.h.Exited(0)); err != nil {
				result.err = err
				break
			}
		}
	}
	if result.err != nil {
		return fmt.Errorf("compose %s: service %q: %w", r.p.Name, result.service, result.err)
	}
	return nil
}
