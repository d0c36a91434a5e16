package compose

import (
	"context"
	"fmt"

	"github.com/dockhand/dockhand/lifecycle"
)

// serviceContainer returns a handle on the lowest-numbered running
// replica of a service.
func (s *Stack) serviceContainer(ctx context.Context, verb, service string) (*lifecycle.Container, error) {
	if err := s.checkNamed(verb, []string{service}); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return nil, err
	}
	best := -1
	for i, ct := range cts {
		if ct.Labels[LabelService] != service {
			continue
		}
		if best < 0 || number(ct) < number(cts[best]) {
			best = i
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("compose %s: service %q has no running container", s.p.Name, service)
	}
	return cts[best].Container(), nil
}

// Exec runs cmd in the service's first running container (docker
// compose exec); lifecycle's Exec options apply.
func (s *Stack) Exec(ctx context.Context, service string, cmd []string, opts ...lifecycle.ExecOption) (*lifecycle.ExecResult, error) {
	ct, err := s.serviceContainer(ctx, "exec", service)
	if err != nil {
		return nil, err
	}
	return ct.Exec(ctx, cmd, opts...)
}

// Port returns the host address ("127.0.0.1:49153") the service's first
// container publishes port ("5432", "53/udp") on (docker compose port).
func (s *Stack) Port(ctx context.Context, service, port string) (string, error) {
	ct, err := s.serviceContainer(ctx, "port", service)
	if err != nil {
		return "", err
	}
	return ct.HostPort(ctx, port)
}
