package compose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// validateGraph checks depends_on before any engine call: every required
// dependency names a service of the project, and there is no cycle.
// It returns the services' dependency lists restricted to services that
// will run (optional dependencies on absent services are dropped).
func validateGraph(p *types.Project) (map[string][]string, error) {
	deps := map[string][]string{}
	for name, svc := range p.Services {
		for d, cfg := range svc.DependsOn {
			if _, ok := p.Services[d]; !ok {
				if !cfg.Required {
					continue
				}
				if _, off := p.DisabledServices[d]; off {
					return nil, fmt.Errorf("compose %s: service %q depends on %q, which is disabled (enable its profile)", p.Name, name, d)
				}
				return nil, fmt.Errorf("compose %s: service %q depends on undefined service %q", p.Name, name, d)
			}
			deps[name] = append(deps[name], d)
		}
		sort.Strings(deps[name])
	}
	// Depth-first search, colouring nodes; a grey node met again closes a cycle.
	const (
		white = iota
		grey
		black
	)
	colour := map[string]int{}
	var stack []string
	var visit func(n string) error
	visit = func(n string) error {
		colour[n] = grey
		stack = append(stack, n)
		for _, d := range deps[n] {
			switch colour[d] {
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cycle := append(append([]string{}, stack[i:]...), d)
				return fmt.Errorf("compose %s: dependency cycle: %s", p.Name, strings.Join(cycle, " -> "))
			case white:
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		colour[n] = black
		return nil
	}
	names := p.ServiceNames() // sorted
	for _, n := range names {
		if colour[n] == white {
			if err := visit(n); err != nil {
				return nil, err
			}
		}
	}
	return deps, nil
}

// dependents inverts a dependency map.
func dependents(deps map[string][]string) map[string][]string {
	out := map[string][]string{}
	for n, ds := range deps {
		for _, d := range ds {
			out[d] = append(out[d], n)
		}
	}
	return out
}
