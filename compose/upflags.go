package compose

import (
	"fmt"
	"maps"
	"slices"

	"github.com/dockhand/dockhand/lifecycle"

	"github.com/compose-spec/compose-go/v2/types"
)

// WithScale runs n containers of the service (up --scale service=n),
// overriding its scale and deploy.replicas; 0 removes its containers.
// Scaling down removes the highest numbers.
func WithScale(service string, n int) UpOption {
	return &option{name: "WithScale", verbs: up, up: func(s *upSettings) error {
		if service == "" {
			return invalidf("compose: WithScale(%q, %d): empty service name", service, n)
		}
		if n < 0 {
			return invalidf("compose: WithScale(%q, %d): want n >= 0", service, n)
		}
		if s.scale == nil {
			s.scale = map[string]int{}
		}
		s.scale[service] = n
		return nil
	}}
}

// WithPull overrides every service's pull_policy (up --pull, pull
// --policy), with lifecycle's policies, the same ones lifecycle's Run
// takes: lifecycle.PullAlways, lifecycle.PullMissing or lifecycle.PullNever
// (a missing image then fails Up). Services with a build: section are built
// as their policy says without it. Pull takes PullAlways or PullMissing
// (its default is the services' pull_policy, pulling those without one).
func WithPull(policy lifecycle.PullPolicy) UpPullOption {
	name := ""
	switch policy {
	case lifecycle.PullAlways:
		name = types.PullPolicyAlways
	case lifecycle.PullMissing:
		name = types.PullPolicyMissing
	case lifecycle.PullNever:
		name = types.PullPolicyNever
	}
	return &option{name: "WithPull", verbs: up | pull,
		up: func(s *upSettings) error {
			if name == "" {
				return invalidf("compose: WithPull(%d): want lifecycle.PullAlways, PullMissing or PullNever", int(policy))
			}
			s.pull = name
			return nil
		},
		pull: func(s *pullSettings) error {
			if name == "" || policy == lifecycle.PullNever {
				return invalidf("compose: Pull: WithPull(%d): want lifecycle.PullAlways or PullMissing", int(policy))
			}
			s.policy = name
			return nil
		}}
}

// WithNoRecreate keeps existing containers even if their configuration or
// image changed (up --no-recreate); missing ones are still created and
// stopped ones started. It cannot be combined with WithForceRecreate.
func WithNoRecreate() UpOption {
	return &option{name: "WithNoRecreate", verbs: up, up: func(s *upSettings) error { s.noRecreate = true; return nil }}
}

// WithNoBuild never builds images (up --no-build): a service with a
// build: section uses its image if present, else Up pulls it as for a
// service without build:, which fails for an image that only a build makes.
func WithNoBuild() UpOption {
	return &option{name: "WithNoBuild", verbs: up, up: func(s *upSettings) error { s.noBuild = true; return nil }}
}

// planUp is plan with Up's project-changing options applied, to a copy:
// WithNoDeps, WithScale, WithPull, WithNoBuild. None of what they change is
// in the config hash (see trimHashFields), so they recreate nothing. base
// is the project Up works from: nil for the stack's own, with the named
// services a profile disables enabled as docker compose up svc does (see
// enabled); Run passes the project it enabled.
func (s *Stack) planUp(set *upSettings, base *types.Project) (*types.Project, map[string][]string, error) {
	if set.noRecreate && set.forceRecreate {
		return nil, nil, invalidf("compose %s: Up: WithNoRecreate and WithForceRecreate exclude each other", s.p.Name)
	}
	if set.build && set.noBuild {
		return nil, nil, invalidf("compose %s: Up: WithBuild and WithNoBuild exclude each other", s.p.Name)
	}
	if base == nil {
		var err error
		if base, err = s.enabled("up", set.services); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(set.scale)) {
		if _, ok := base.Services[name]; ok {
			continue
		}
		if _, ok := base.DisabledServices[name]; ok {
			return nil, nil, invalidf("compose %s: WithScale(%q, %d): the service is disabled: none of its profiles is enabled: name it with WithServices, or enable one of its profiles with WithProfiles (enabled services: %s)",
				s.p.Name, name, set.scale[name], serviceList(base.ServiceNames()))
		}
		return nil, nil, invalidf("compose %s: WithScale(%q, %d): no such service (services: %s)", s.p.Name, name, set.scale[name], serviceList(base.ServiceNames()))
	}
	if !set.noDeps || len(set.services) == 0 {
		if set.scale == nil && set.pull == "" && !set.noBuild {
			return narrow(base, set.services)
		}
		p, _, err := narrow(base, set.services)
		if err != nil {
			return nil, nil, err
		}
		return s.transform(p, set)
	}
	p, err := base.WithSelectedServices(set.services, types.IgnoreDependencies)
	if err != nil {
		return nil, nil, fmt.Errorf("compose %s: %w", s.p.Name, err)
	}
	return s.transform(p, set)
}

func (s *Stack) transform(p *types.Project, set *upSettings) (*types.Project, map[string][]string, error) {
	sel := p
	p, err := sel.WithServicesTransform(func(name string, svc types.ServiceConfig) (types.ServiceConfig, error) {
		if set.noDeps && len(svc.DependsOn) > 0 {
			kept := types.DependsOnConfig{}
			for d, cfg := range svc.DependsOn {
				if _, ok := sel.Services[d]; ok {
					kept[d] = cfg
				}
			}
			svc.DependsOn = kept
		}
		if n, ok := set.scale[name]; ok {
			svc.Scale = &n
			if svc.Deploy != nil && svc.Deploy.Replicas != nil {
				d := *svc.Deploy
				d.Replicas = &n
				svc.Deploy = &d
			}
		}
		if set.pull != "" {
			svc.PullPolicy = set.pull
		}
		if set.noBuild {
			svc.Build = nil
		}
		return svc, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("compose %s: %w", s.p.Name, err)
	}
	deps, err := validateGraph(p)
	if err != nil {
		return nil, nil, err
	}
	return p, deps, nil
}
