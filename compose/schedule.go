package compose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// runner schedules one Up: a goroutine per service waits for exactly its
// own dependencies' conditions, then converges the service. There are no
// levels: a service starts the moment what it depends on allows it.
type runner struct {
	s        *Stack
	p        *types.Project
	set      *upSettings
	prog     *progress
	images   map[string]string // service -> image id
	existing map[string][]lifecycle.Summary
	deps     map[string][]string
	// startOnly starts existing containers and creates nothing (Start).
	startOnly bool

	mu    sync.Mutex
	state map[string]*svcState
}

type svcState struct {
	started chan struct{} // closed when the service's containers are started (or it failed)
	err     error         // set before started is closed; never after
	ids     []ctRef
	// recreated: converge replaced at least one existing container (set
	// before started is closed); dependents with depends_on.restart
	// restart their kept containers.
	recreated bool
	waits     map[string]*waitOnce // by depends_on condition
}

// ctRef is a container of a service: its handle and its name.
type ctRef struct {
	h    *lifecycle.Container
	name string
}

type waitOnce struct {
	once sync.Once
	err  error
}

func (r *runner) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.state = map[string]*svcState{}
	for name := range r.p.Services {
		r.state[name] = &svcState{started: make(chan struct{}), waits: map[string]*waitOnce{}}
	}
	var wg sync.WaitGroup
	errs := make([]error, 0)
	var emu sync.Mutex
	for _, name := range r.p.ServiceNames() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.service(ctx, name); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		return nil
	}
	// A root cause first: failures of dependants only repeat it.
	sort.SliceStable(errs, func(i, j int) bool {
		return !errors.Is(errs[i], errDependency) && errors.Is(errs[j], errDependency)
	})
	return errors.Join(errs...)
}

var errDependency = errors.New("dependency failed")

type depError struct {
	service, dep string
	err          error
}

func (e *depError) Error() string {
	return fmt.Sprintf("service %q not started: dependency %q failed: %v", e.service, e.dep, e.err)
}
func (e *depError) Unwrap() []error { return []error{errDependency, e.err} }

// service waits for the dependencies of one service, converges it and,
// with WithWait, waits for it to be ready.
func (r *runner) service(ctx context.Context, name string) (err error) {
	st := r.state[name]
	svc := r.p.Services[name]
	defer func() {
		if err == nil {
			return
		}
		select {
		case <-st.started:
			// Started, then failed its --wait: dependants already read
			// st.err, and any condition beyond started they wait for
			// themselves.
		default:
			st.err = err // written before the close, which publishes it
			close(st.started)
		}
	}()
	// Containers are created (or recreated) at once, in parallel with
	// everything else; only starting them waits for the dependencies, so
	// creation is off the critical path, as with the CLI.
	waitDeps := func() error {
		for _, d := range r.deps[name] {
			cond := svc.DependsOn[d]
			if err := r.waitDependency(ctx, d, cond.Condition); err != nil {
				if !cond.Required {
					r.prog.printf(" Service %s: optional dependency %s failed, going on: %v", name, d, err)
					continue
				}
				var de *depError
				if errors.As(err, &de) && de.service == d {
					err = de.err // report the root cause once, not a chain
				}
				return &depError{service: name, dep: d, err: err}
			}
		}
		return nil
	}
	refs, err := r.converge(ctx, svc, waitDeps)
	if err != nil {
		return err
	}
	st.ids = refs
	close(st.started)
	if !r.set.wait {
		return nil
	}
	oneShot := r.isOneShot(name)
	for _, ref := range refs {
		opts := []lifecycle.ReadyOption{lifecycle.WithFailUnhealthy()}
		if oneShot {
			opts = append(opts, lifecycle.WithExitZero())
		}
		if err := watch(ctx, ref.h.Ready(opts...)); err != nil {
			return r.failed(ctx, name, ref, err)
		}
		switch {
		case hasHealthcheck(svc):
			r.prog.event("Container", ref.name, "Healthy")
		case oneShot && exited(ctx, ref.h):
			r.prog.event("Container", ref.name, "Exited")
		default:
			r.prog.event("Container", ref.name, "Running")
		}
	}
	return nil
}

// exited reports whether the container has exited (for the progress line
// of a one-shot service that Ready let exit with code 0).
func exited(ctx context.Context, h *lifecycle.Container) bool {
	st, err := h.State(ctx)
	return err == nil && st.Status == "exited"
}

// isOneShot: a service others wait on to complete may exit 0 under --wait.
func (r *runner) isOneShot(name string) bool {
	for _, svc := range r.p.Services {
		if d, ok := svc.DependsOn[name]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
			return true
		}
	}
	return false
}

func hasHealthcheck(svc types.ServiceConfig) bool {
	return svc.HealthCheck != nil && !svc.HealthCheck.Disable && len(svc.HealthCheck.Test) > 0 && svc.HealthCheck.Test[0] != "NONE"
}

// waitDependency waits for service d to satisfy condition, sharing one
// wait among all the services that depend on d the same way.
func (r *runner) waitDependency(ctx context.Context, d, condition string) error {
	st := r.state[d]
	select {
	case <-st.started:
	case <-ctx.Done():
		return ctx.Err()
	}
	if st.err != nil {
		return st.err
	}
	if condition != types.ServiceConditionHealthy && condition != types.ServiceConditionCompletedSuccessfully {
		return nil // service_started: its containers are started
	}
	r.mu.Lock()
	w := st.waits[condition]
	if w == nil {
		w = &waitOnce{}
		st.waits[condition] = w
	}
	r.mu.Unlock()
	w.once.Do(func() {
		for _, ref := range st.ids {
			if err := watch(ctx, dependencyCondition(ref.h, condition)); err != nil {
				w.err = r.failed(ctx, d, ref, err)
				return
			}
			state := "Healthy"
			if condition == types.ServiceConditionCompletedSuccessfully {
				state = "Exited"
			}
			r.prog.event("Container", ref.name, state)
		}
	})
	return w.err
}

// failed names the service and, unless the error is an *ExitError that
// carries them, quotes the container's last log lines.
func (r *runner) failed(ctx context.Context, service string, ref ctRef, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	r.prog.event("Container", ref.name, "Error")
	if ee := (*lifecycle.ExitError)(nil); errors.As(err, &ee) {
		return fmt.Errorf("service %q: %w", service, err)
	}
	logs := r.s.lastLogs(ctx, ref.h, 10)
	if logs == "" {
		return fmt.Errorf("service %q: %w", service, err)
	}
	return fmt.Errorf("service %q: %w; last log lines:\n%s", service, err, logs)
}
