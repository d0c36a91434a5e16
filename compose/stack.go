package compose

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
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
	if err := s.checkNamed("ps", set.services); err != nil {
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

// serviceList joins sorted service names for an error message.
func serviceList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkNamed fails on a name that is no service of the project, enabled
// or disabled by its profile, with an error wrapping lifecycle.ErrInvalid
// that names the verb and the service and lists the project's services.
// Every verb taking service names takes one its profile disables, as the
// docker compose CLI does (its ToProject enables each named service):
// up, run, pull, build, start and restart enable it (see enabled); the
// others act on its containers, found by their labels.
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

// EnableServices returns p with the named services enabled, as docker
// compose up, run and pull enable the services named on their command
// line (and Stack.Up with WithServices, Stack.Run and Stack.Pull do): a
// service a profile disables is enabled with the profiles it is in,
// which enables the other services of those profiles too, and its
// environment (env_file) is resolved as Load resolves that of the
// services it enabled. A required dependency that stays disabled
// (another profile) or is undefined, and a name that is no service of
// p, fail with an error wrapping lifecycle.ErrInvalid naming it, and so
// does a key Dockhand does not support in a service enabled now, as Load
// fails on one in the services it enabled. p is never changed: the
// result is p itself when no named service is disabled, else a copy.
// Use it to hand one service of a project to code that takes the
// enabled services only (p.Services), as composetest.ServiceSpec does.
func EnableServices(p *types.Project, services ...string) (*types.Project, error) {
	if p == nil {
		return nil, invalidf("compose: EnableServices: nil project: want one from Load")
	}
	// enabled reads the project only: a Stack without a client is enough.
	on, err := (&Stack{p: p}).enabled("enable", services)
	if err != nil || on == p {
		return on, err
	}
	// What Load checks of the enabled services, for those enabled now.
	if err := checkKeys(on); err != nil {
		return nil, err
	}
	return on, nil
}

// enabled returns the project with the named services enabled, as
// docker compose up, run, start, restart, build and pull --include-deps
// (v2.40.3 and v5.6.0 alike) treat the services they are given: each named service a profile disables has its profiles
// enabled (compose-go's WithServicesEnabled), which enables every service
// of those profiles; the verb then narrows to the named services and
// their dependencies, so only those run. A required dependency that is
// still disabled (another profile) or undefined is an ErrInvalid error
// naming it, as the CLI fails ("no such service"), even for WithNoDeps.
// The environment of the newly enabled services the verb may run (the
// named ones and their dependencies) is resolved as Load resolves that of
// the enabled ones. The result is s.p itself when no named service is
// disabled; the stack's project is never changed. A name that is no
// service at all is an ErrInvalid error.
func (s *Stack) enabled(verb string, names []string) (*types.Project, error) {
	if err := s.checkNamed(verb, names); err != nil {
		return nil, err
	}
	var off []string
	for _, n := range names {
		if _, ok := s.p.DisabledServices[n]; ok {
			off = append(off, n)
		}
	}
	if len(off) == 0 {
		return s.p, nil
	}
	p, err := s.p.WithServicesEnabled(off...)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %s: %w", s.p.Name, verb, err)
	}
	// The services the verb may run: the named ones and, through
	// required or present dependencies, what they depend on.
	reach := map[string]bool{}
	var walk func(name string) error
	walk = func(name string) error {
		if reach[name] {
			return nil
		}
		reach[name] = true
		svc := p.Services[name]
		for _, d := range slices.Sorted(maps.Keys(svc.DependsOn)) {
			if _, ok := p.Services[d]; ok {
				if err := walk(d); err != nil {
					return err
				}
				continue
			}
			if !svc.DependsOn[d].Required {
				continue // as the CLI: an optional dependency may be absent
			}
			if dis, ok := p.DisabledServices[d]; ok {
				return invalidf("compose %s: %s: service %q depends on %q, which is disabled: none of its profiles (%s) is enabled: name %q too, or enable one of its profiles with WithProfiles",
					s.p.Name, verb, name, d, strings.Join(dis.Profiles, ", "), d)
			}
			return invalidf("compose %s: %s: service %q depends on undefined service %q", s.p.Name, verb, name, d)
		}
		return nil
	}
	for _, n := range names {
		if err := walk(n); err != nil {
			return nil, err
		}
	}
	// Load resolved the environment (env_file) of the services it
	// enabled; that of the services enabled now is resolved here, only
	// for those that may run (as the CLI resolves after narrowing).
	fresh := &types.Project{Name: p.Name, WorkingDir: p.WorkingDir, Environment: p.Environment, Services: types.Services{}}
	for name := range reach {
		if _, was := s.p.Services[name]; !was {
			fresh.Services[name] = p.Services[name]
		}
	}
	resolved, err := resolveEnv(fresh)
	if err != nil {
		return nil, invalidWrapf(err, "compose %s: %s: environment of a service its profile disabled", s.p.Name, verb)
	}
	maps.Copy(p.Services, resolved.Services)
	return p, nil
}

// resolveEnv returns p with its services' env_file entries read and
// merged into their environment, as Load does (the OS environment left
// out: p.Environment holds what the project was loaded with); a value
// compose-go's error quotes is hidden.
func resolveEnv(p *types.Project) (*types.Project, error) {
	resolved, err := p.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, scrubLoadErr(err, loadConfig{noOSEnv: true}, p.Environment)
	}
	return resolved, nil
}

// plan checks the named services, enables those a profile disables (see
// enabled) and returns the project narrowed to them and their
// dependencies (the whole project when none is named), with its
// dependency lists (see validateGraph).
func (s *Stack) plan(verb string, services []string) (*types.Project, map[string][]string, error) {
	p, err := s.enabled(verb, services)
	if err != nil {
		return nil, nil, err
	}
	return narrow(p, services)
}

// narrow is p narrowed to the named services (known to be enabled in p)
// and their dependencies, the whole of p when none is named, with its
// dependency lists (see validateGraph).
func narrow(p *types.Project, services []string) (*types.Project, map[string][]string, error) {
	if len(services) > 0 {
		var err error
		name := p.Name
		if p, err = p.WithSelectedServices(services); err != nil {
			return nil, nil, fmt.Errorf("compose %s: %w", name, err)
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
