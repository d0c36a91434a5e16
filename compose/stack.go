package compose

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// Stack is a loaded compose project bound to an engine. Its methods are
// safe for concurrent use, though running Up and Down of one project at
// the same time makes little sense.
type Stack struct {
	c *lifecycle.Client
	p *types.Project
}

// New binds a loaded project (see Load) to the engine c talks to.
func New(c *lifecycle.Client, p *types.Project) *Stack {
	return &Stack{c: c, p: p}
}

// Project returns the project the stack was made from.
func (s *Stack) Project() *types.Project { return s.p }

// Name returns the project name (the com.docker.compose.project label).
func (s *Stack) Name() string { return s.p.Name }

// ServiceContainer is one container of the stack, as docker compose ps shows it.
type ServiceContainer struct {
	Service  string
	Number   int // com.docker.compose.container-number; 0 for one-off containers
	Name     string
	ID       string
	State    string // created, running, exited, ...
	Health   string // "", starting, healthy, unhealthy
	ExitCode int
	Ports    []string // "127.0.0.1:5432->5432/tcp"
}

// Ps lists the stack's running containers (WithAll: stopped ones too),
// sorted by service and number. One-off containers are not listed.
// WithServices narrows the list.
func (s *Stack) Ps(ctx context.Context, opts ...PsOption) ([]ServiceContainer, error) {
	set, err := applyOpts("Ps", opts, PsOption.applyPs)
	if err != nil {
		return nil, err
	}
	if err := s.checkServices(set.services); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, set.all, false)
	if err != nil {
		return nil, err
	}
	want := toSet(set.services)
	var out []ServiceContainer
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if len(want) > 0 && !want[svc] {
			continue
		}
		sc := ServiceContainer{Service: svc, Number: number(ct), ID: ct.ID, State: ct.State, Name: ctName(ct), Health: ct.Health,
			ExitCode: max(ct.ExitCode, 0)}
		for _, p := range ct.Ports {
			if strings.Contains(p, "->") { // published, not only exposed
				sc.Ports = append(sc.Ports, p)
			}
		}
		sort.Strings(sc.Ports)
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}

func ctName(ct lifecycle.Summary) string {
	if ct.Name != "" {
		return ct.Name
	}
	return ct.ID[:12]
}

// containers lists the project's containers by its label, as the CLI
// finds them: those Up started and those docker compose started alike.
func (s *Stack) containers(ctx context.Context, all, oneoff bool) ([]lifecycle.Summary, error) {
	opts := []lifecycle.ListOption{lifecycle.WithFilter("label", LabelProject+"="+s.p.Name)}
	if !oneoff {
		opts = append(opts, lifecycle.WithFilter("label", LabelOneoff+"=False"))
	}
	if all {
		opts = append(opts, lifecycle.WithAll())
	}
	cts, err := s.c.Containers(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", s.p.Name, err)
	}
	return cts, nil
}

// checkServices fails on a name that is not a service of the project.
func (s *Stack) checkServices(names []string) error {
	for _, n := range names {
		if _, ok := s.p.Services[n]; ok {
			continue
		}
		if _, ok := s.p.DisabledServices[n]; ok {
			return fmt.Errorf("compose %s: service %q is disabled (its profile is not enabled)", s.p.Name, n)
		}
		return fmt.Errorf("compose %s: no such service: %q (services: %s)", s.p.Name, n, strings.Join(s.p.ServiceNames(), ", "))
	}
	return nil
}

// checkNamed fails on a name that is no service of the project, enabled
// or disabled by its profile: the verbs that take a disabled service when
// named, as the docker compose CLI does (pull enables it; images and cp
// look only at the project's containers).
func (s *Stack) checkNamed(verb string, names []string) error {
	for _, n := range names {
		if s.knownService(n) {
			continue
		}
		all := s.p.ServiceNames()
		for d := range s.p.DisabledServices {
			all = append(all, d)
		}
		sort.Strings(all)
		return invalidf("compose %s: %s: no such service: %q (services: %s)", s.p.Name, verb, n, strings.Join(all, ", "))
	}
	return nil
}

// plan checks the named services and returns the project narrowed to them
// and their dependencies (the whole project when none is named), with its
// dependency lists (see validateGraph).
func (s *Stack) plan(services []string) (*types.Project, map[string][]string, error) {
	if err := s.checkServices(services); err != nil {
		return nil, nil, err
	}
	p := s.p
	if len(services) > 0 {
		var err error
		if p, err = p.WithSelectedServices(services); err != nil {
			return nil, nil, fmt.Errorf("compose %s: %w", s.p.Name, err)
		}
	}
	deps, err := validateGraph(p)
	if err != nil {
		return nil, nil, err
	}
	return p, deps, nil
}

// knownService reports whether a container of this service belongs to the
// project (enabled or disabled by a profile) rather than being an orphan.
func (s *Stack) knownService(name string) bool {
	if _, ok := s.p.Services[name]; ok {
		return true
	}
	_, ok := s.p.DisabledServices[name]
	return ok
}

func toSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// progress writes one line per event; safe for concurrent use.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	last map[string]string // resource -> last state reported
}

func newProgress(w io.Writer) *progress { return &progress{w: w, last: map[string]string{}} }

func (p *progress) printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// event reports a resource's state change: " Container p-web-1  Started".
// A state already reported for the resource is not repeated.
func (p *progress) event(kind, name, state string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	key := kind + " " + name
	if p.last[key] == state {
		p.mu.Unlock()
		return
	}
	p.last[key] = state
	p.mu.Unlock()
	p.printf(" %s %s  %s", kind, name, state)
}
