package compose

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// A service may name another service's container: network_mode, ipc and
// pid "service:NAME", volumes_from "NAME[:MODE]". As the CLI does, these
// are resolved to the other service's first container (by canonical name
// as a string, so proj-db-10 comes before proj-db-2) before the config
// hash is computed and the container created, so the hash and the
// container record "container:ID", and a recreated dependency changes the
// hash of those that share its namespaces. volumes_from is hashed in the
// CLI's form: the bare container ID for a service, the bare name for
// "container:NAME", the mode dropped; toCreate puts the mode back for the
// engine (volumesFrom). The dependency must exist by then: compose-go
// adds an implicit depends_on for each reference.

// hasServiceRefs reports whether svc names another service's container
// (links: too): its containers are created once those exist.
func hasServiceRefs(svc types.ServiceConfig) bool {
	if len(svc.Links) > 0 {
		return true
	}
	for _, m := range []string{svc.NetworkMode, svc.Ipc, svc.Pid} {
		if strings.HasPrefix(m, "service:") {
			return true
		}
	}
	// container:NAME needs no other service but is resolved too.
	return len(svc.VolumesFrom) > 0
}

// resolveServiceRefs returns svc with its service references replaced by
// container references; the project's service is not changed.
func (s *Stack) resolveServiceRefs(ctx context.Context, svc types.ServiceConfig) (types.ServiceConfig, error) {
	if !hasServiceRefs(svc) {
		return svc, nil
	}
	cts, err := s.containers(ctx, true, false)
	if err != nil {
		return svc, err
	}
	first := func(key, service string) (string, error) {
		of := serviceContainers(cts, service)
		if len(of) == 0 {
			return "", invalidf("compose: service %q: %s: service %q has no container", svc.Name, key, service)
		}
		return firstByName(of).ID, nil
	}
	for _, f := range []struct {
		key string
		v   *string
	}{{"network_mode", &svc.NetworkMode}, {"ipc", &svc.Ipc}, {"pid", &svc.Pid}} {
		if ref, ok := strings.CutPrefix(*f.v, "service:"); ok {
			id, err := first(f.key, ref)
			if err != nil {
				return svc, err
			}
			*f.v = "container:" + id
		}
	}
	if len(svc.VolumesFrom) > 0 {
		svc.VolumesFrom = slices.Clone(svc.VolumesFrom)
		for i, vf := range svc.VolumesFrom {
			if name, ok := strings.CutPrefix(vf, "container:"); ok {
				svc.VolumesFrom[i], _, _ = strings.Cut(name, ":")
				continue
			}
			ref, _, _ := strings.Cut(vf, ":")
			id, err := first("volumes_from", ref)
			if err != nil {
				return svc, err
			}
			svc.VolumesFrom[i] = id
		}
	}
	return svc, nil
}

// firstByName is the container the CLI picks for a service reference: the
// first by canonical name as a string (proj-db-10 before proj-db-2). cts
// is not empty.
func firstByName(cts []lifecycle.Summary) lifecycle.Summary {
	first := cts[0]
	for _, ct := range cts[1:] {
		if ctName(ct) < ctName(first) {
			first = ct
		}
	}
	return first
}

// serviceContainers are a service's containers (not one-off) by number.
func serviceContainers(cts []lifecycle.Summary, service string) []lifecycle.Summary {
	var out []lifecycle.Summary
	for _, ct := range cts {
		if ct.Labels[LabelService] == service && ct.Labels[LabelOneoff] != "True" {
			out = append(out, ct)
		}
	}
	sort.Slice(out, func(i, j int) bool { return number(out[i]) < number(out[j]) })
	return out
}

// linksFunc lists, for links:, the names of a service's containers.
func (s *Stack) linksFunc(ctx context.Context) func(service string) ([]string, error) {
	return func(service string) ([]string, error) {
		cts, err := s.containers(ctx, true, false)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, ct := range serviceContainers(cts, service) {
			names = append(names, ctName(ct))
		}
		return names, nil
	}
}

// links are the engine's links for links: and external_links:, as the
// CLI writes them: each container of a linked service under the alias,
// SERVICE-N and PROJECT-SERVICE-N; an external container under its alias.
func links(p *types.Project, svc types.ServiceConfig, n int, o convertOptions) ([]string, error) {
	var out []string
	for _, l := range svc.Links {
		service, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = service
		}
		if o.serviceContainerNames == nil {
			return nil, fmt.Errorf("service %s: links %s: no container lookup", svc.Name, l)
		}
		names, err := o.serviceContainerNames(service)
		if err != nil {
			return nil, fmt.Errorf("service %s: links %s: %w", svc.Name, l, err)
		}
		for _, name := range names {
			out = append(out, name+":"+alias,
				fmt.Sprintf("%s:%s-%d", name, service, n),
				fmt.Sprintf("%s:%s-%s-%d", name, p.Name, service, n))
		}
	}
	for _, l := range svc.ExternalLinks {
		name, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = name
		}
		out = append(out, name+":"+alias)
	}
	return out, nil
}
