package compose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// WithSince shows only the log lines written at or after t (logs
// --since), as lifecycle.WithSince does for one container.
func WithSince(t time.Time) LogsOption {
	return &option{name: "WithSince", verbs: logs, logs: func(s *logsSettings) error {
		if t.IsZero() {
			return invalidf("compose: WithSince: zero time: want the time to show logs from")
		}
		s.since = t
		return nil
	}}
}

// WithTimestamps prefixes each log line, after the container's prefix,
// with its RFC 3339 timestamp (logs --timestamps), as
// lifecycle.WithTimestamps does.
func WithTimestamps() LogsOption {
	return &option{name: "WithTimestamps", verbs: logs, logs: func(s *logsSettings) error { s.timestamps = true; return nil }}
}

// lifecycleLogs is the lifecycle options of WithSince and WithTimestamps.
func (set *logsSettings) lifecycleLogs() []lifecycle.LogsOption {
	var o []lifecycle.LogsOption
	if !set.since.IsZero() {
		o = append(o, lifecycle.WithSince(set.since))
	}
	if set.timestamps {
		o = append(o, lifecycle.WithTimestamps())
	}
	return o
}

// ExecIndex is Exec in the service's container number index (exec
// --index): 1 is the first replica. A missing or stopped replica is an
// error naming it.
func (s *Stack) ExecIndex(ctx context.Context, service string, index int, cmd []string, opts ...lifecycle.ExecOption) (res *lifecycle.ExecResult, err error) {
	defer scrub(&err)
	if index < 1 {
		return nil, invalidf("compose %s: ExecIndex(%q, %d): want an index >= 1", s.p.Name, service, index)
	}
	if err := s.checkNamed("exec", []string{service}); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return nil, err
	}
	for _, ct := range cts {
		if ct.Labels[LabelService] == service && number(ct) == index {
			return ct.Container().Exec(ctx, cmd, opts...)
		}
	}
	return nil, fmt.Errorf("compose %s: service %q has no running container number %d", s.p.Name, service, index)
}

type killSettings struct {
	services []string
	signal   string
}

// WithSignal is the signal Kill sends (kill -s), as lifecycle.WithSignal:
// a name ("SIGHUP", "HUP") or number. Default: SIGKILL.
func WithSignal(sig string) KillOption {
	return &option{name: "WithSignal", verbs: kill, kill: func(s *killSettings) error {
		if sig == "" {
			return invalidf("compose: WithSignal: empty signal: want a name (SIGHUP) or number")
		}
		s.signal = sig
		return nil
	}}
}

// Kill sends SIGKILL, or the WithSignal signal, to the stack's running
// containers (WithServices: those services'), as docker compose kill.
// One-off (Run) containers are left alone.
func (s *Stack) Kill(ctx context.Context, opts ...KillOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Kill", opts, KillOption.applyKill)
	if err != nil {
		return err
	}
	var ko []lifecycle.KillOption
	if set.signal != "" {
		ko = append(ko, lifecycle.WithSignal(set.signal))
	}
	return s.eachRunning(ctx, "kill", set.services, func(ct *lifecycle.Container) error { return ct.Kill(ctx, ko...) })
}

// Pause pauses the stack's running containers (WithServices: those
// services'), as docker compose pause.
func (s *Stack) Pause(ctx context.Context, opts ...PauseOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Pause", opts, PauseOption.applyPause)
	if err != nil {
		return err
	}
	return s.eachRunning(ctx, "pause", set.services, func(ct *lifecycle.Container) error { return ct.Pause(ctx) })
}

// Unpause resumes the stack's paused containers (WithServices: those
// services'), as docker compose unpause.
func (s *Stack) Unpause(ctx context.Context, opts ...PauseOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Unpause", opts, PauseOption.applyUnpause)
	if err != nil {
		return err
	}
	return s.eachRunning(ctx, "unpause", set.services, func(ct *lifecycle.Container) error { return ct.Unpause(ctx) })
}

// eachRunning calls f on each running (or paused) container of the named
// services (all when none), skipping those already in the state f makes
// and those that stopped since they were listed.
func (s *Stack) eachRunning(ctx context.Context, verb string, services []string, f func(*lifecycle.Container) error) error {
	if err := s.checkNamed(verb, services); err != nil {
		return err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return err
	}
	want := toSet(services)
	var errs []error
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if !s.knownService(svc) || len(want) > 0 && !want[svc] {
			continue
		}
		paused := ct.State == "paused"
		if verb == "unpause" && !paused || verb == "pause" && paused {
			continue
		}
		err := f(ct.Container())
		if err == nil || errors.Is(err, lifecycle.ErrNotFound) {
			continue
		}
		// Listed running, stopped since (the list can lag behind exits).
		if st, serr := ct.Container().State(ctx); errors.Is(err, lifecycle.ErrConflict) && serr == nil && !st.Running {
			continue
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("compose %s: %s: %w", s.p.Name, verb, err)
	}
	return nil
}

// Build builds the images of the services with a build: section
// (WithServices: those of the named services), even if they exist, as
// docker compose build does; Up then uses them. A named service without
// build: is an error. A named service its profile disables is built, as
// with the CLI.
func (s *Stack) Build(ctx context.Context, opts ...BuildOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Build", opts, BuildOption.applyBuild)
	if err != nil {
		return err
	}
	p, err := s.enabled("build", set.services)
	if err != nil {
		return err
	}
	names := set.services
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	prog := newProgress(set.progress)
	for _, name := range names {
		svc := p.Services[name]
		if svc.Build == nil {
			if len(set.services) > 0 {
				return invalidf("compose %s: Build: service %q has no build: section", s.p.Name, name)
			}
			continue
		}
		if _, err := s.build(ctx, p, svc, imageName(p, svc), prog); err != nil {
			return err
		}
	}
	return nil
}

// ServiceProcesses is the processes of one container of the stack (Top).
type ServiceProcesses struct {
	Service   string
	Number    int
	Name      string
	Titles    []string   // ps's column titles (lifecycle.Processes)
	Processes [][]string // a row per process
}

// Top lists the processes of the stack's running containers (WithServices:
// those services'), sorted by service and number, as docker compose top.
func (s *Stack) Top(ctx context.Context, opts ...TopOption) (_ []ServiceProcesses, err error) {
	defer scrub(&err)
	set, err := applyOpts("Top", opts, TopOption.applyTop)
	if err != nil {
		return nil, err
	}
	if err := s.checkNamed("top", set.services); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return nil, err
	}
	want := toSet(set.services)
	var out []ServiceProcesses
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if !s.knownService(svc) || len(want) > 0 && !want[svc] {
			continue
		}
		procs, err := ct.Container().Top(ctx)
		if err != nil {
			return nil, fmt.Errorf("compose %s: top: %w", s.p.Name, err)
		}
		out = append(out, ServiceProcesses{Service: svc, Number: number(ct), Name: ctName(ct), Titles: procs.Titles, Processes: procs.Processes})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}

// Wait blocks until the first of the stack's containers (WithServices:
// those services') stops, and returns its exit code, as docker compose
// wait does. Containers already stopped are not waited for; with none
// running, Wait fails.
func (s *Stack) Wait(ctx context.Context, opts ...WaitOption) (code int, err error) {
	defer scrub(&err)
	set, err := applyOpts("Wait", opts, WaitOption.applyWait)
	if err != nil {
		return -1, err
	}
	if err := s.checkNamed("wait", set.services); err != nil {
		return -1, err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return -1, err
	}
	want := toSet(set.services)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		code int
		err  error
	}
	results := make(chan result, len(cts))
	n := 0
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if !s.knownService(svc) || len(want) > 0 && !want[svc] {
			continue
		}
		n++
		go func() {
			code, err := ct.Container().Wait(wctx)
			results <- result{code, err}
		}()
	}
	if n == 0 {
		return -1, fmt.Errorf("compose %s: wait: no running container to wait for", s.p.Name)
	}
	r := <-results
	if r.err != nil {
		return -1, fmt.Errorf("compose %s: wait: %w", s.p.Name, r.err)
	}
	return r.code, nil
}
