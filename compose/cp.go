package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/dockhand/dockhand/lifecycle"
)

type copySettings struct {
	index   int  // WithIndex; 0: all replicas (CopyTo), the first (CopyFrom)
	oneOffs bool // WithOneOffs
}

// WithIndex picks the service's container number n (cp --index): 1 is the
// first replica. Without it CopyTo copies into every replica and CopyFrom
// from the first.
func WithIndex(n int) CopyOption {
	return &option{name: "WithIndex", verbs: copyTo | copyFrom, cp: func(s *copySettings) error {
		if n < 1 {
			return invalidf("compose: WithIndex(%d): want a container number >= 1", n)
		}
		s.index = n
		return nil
	}}
}

// WithOneOffs makes CopyTo copy into the service's one-off containers
// (those Run made) too (cp --all).
func WithOneOffs() CopyToOption {
	return &option{name: "WithOneOffs", verbs: copyTo, cp: func(s *copySettings) error { s.oneOffs = true; return nil }}
}

// CopyTo copies the host file or directory src into the directory dst
// (which must exist) of each container of the service, running or
// stopped, at the same time: every replica, or with WithIndex the one with
// that number. It is lifecycle's Container.CopyTo for each, and docker
// compose cp SRC SERVICE:DST where DST is a directory. As with the CLI,
// the service may be one its profile disables in the stack's project (its
// containers come from an Up with the profile enabled).
func (s *Stack) CopyTo(ctx context.Context, service, src, dst string, opts ...CopyToOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("CopyTo", opts, CopyToOption.applyCopyTo)
	if err != nil {
		return err
	}
	if _, err := os.Stat(src); err != nil {
		return invalidWrapf(err, "compose %s: CopyTo(%q): invalid source %q", s.p.Name, service, src)
	}
	if !strings.HasPrefix(dst, "/") {
		return invalidf("compose %s: CopyTo(%q): invalid destination %q: want an absolute directory path in the container", s.p.Name, service, dst)
	}
	cts, err := s.copyTargets(ctx, "CopyTo", service, set)
	if err != nil {
		return err
	}
	errs := make([]error, len(cts))
	var wg sync.WaitGroup
	for i, ct := range cts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ct.Container().CopyTo(ctx, src, dst)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("compose %s: cp: service %q: %w", s.p.Name, service, err)
	}
	return nil
}

// CopyFrom copies the file or directory src of the service's first
// container (with WithIndex, the one with that number), running or
// stopped, into the host directory dst, creating it if needed. It is
// lifecycle's Container.CopyFrom, with its protections against what an
// untrusted image could put in the archive, and docker compose cp
// SERVICE:SRC DST where DST is a directory. The service may be one its
// profile disables, as for CopyTo.
func (s *Stack) CopyFrom(ctx context.Context, service, src, dst string, opts ...CopyFromOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("CopyFrom", opts, CopyFromOption.applyCopyFrom)
	if err != nil {
		return err
	}
	if src == "" {
		return invalidf("compose %s: CopyFrom(%q): empty source: want a path in the container", s.p.Name, service)
	}
	if dst == "" {
		return invalidf("compose %s: CopyFrom(%q): empty destination: want a host directory", s.p.Name, service)
	}
	cts, err := s.copyTargets(ctx, "CopyFrom", service, set)
	if err != nil {
		return err
	}
	if err := cts[0].Container().CopyFrom(ctx, src, dst); err != nil {
		return fmt.Errorf("compose %s: cp: service %q: %w", s.p.Name, service, err)
	}
	return nil
}

// copyTargets is the service's containers a copy goes to or comes from,
// sorted by number, one-offs last: the one WithIndex names, else all.
func (s *Stack) copyTargets(ctx context.Context, verb, service string, set *copySettings) ([]lifecycle.Summary, error) {
	if service == "" {
		return nil, invalidf("compose %s: %s: empty service name", s.p.Name, verb)
	}
	// As docker compose cp: any container of the service, even one its
	// profile disables in this stack's project.
	if err := s.checkNamed(verb, []string{service}); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, true, set.oneOffs)
	if err != nil {
		return nil, err
	}
	var out []lifecycle.Summary
	for _, ct := range cts {
		if ct.Labels[LabelService] != service {
			continue
		}
		oneOff := ct.Labels[LabelOneoff] == "True"
		if set.index > 0 && (oneOff || number(ct) != set.index) {
			continue
		}
		out = append(out, ct)
	}
	sort.Slice(out, func(i, j int) bool {
		oi, oj := out[i].Labels[LabelOneoff] == "True", out[j].Labels[LabelOneoff] == "True"
		if oi != oj {
			return oj
		}
		if number(out[i]) != number(out[j]) {
			return number(out[i]) < number(out[j])
		}
		return ctName(out[i]) < ctName(out[j])
	})
	switch {
	case len(out) == 0 && set.index > 0:
		return nil, fmt.Errorf("compose %s: service %q has no container number %d: %w", s.p.Name, service, set.index, lifecycle.ErrNotFound)
	case len(out) == 0:
		return nil, fmt.Errorf("compose %s: service %q has no container: %w", s.p.Name, service, lifecycle.ErrNotFound)
	}
	return out, nil
}
