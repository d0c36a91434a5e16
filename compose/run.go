package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/lifecycle"
)

// withOnly is a shallow copy of p holding only svc.
func withOnly(p *types.Project, svc types.ServiceConfig) *types.Project {
	cp := *p
	cp.Services = types.Services{svc.Name: svc}
	return &cp
}

// Run runs a one-off container of the service with cmd (the service's
// command when cmd is empty), as docker compose run --rm: it starts the
// service's dependencies first (unless WithNoDeps), labels the container
// com.docker.compose.oneoff=True, streams its output to WithStdout and
// WithStderr, waits for it to exit, removes it and returns its exit code.
// Its ports are not published (as the CLI without --service-ports).
//
// The service may be one its profile disables, as with docker compose run
// svc: it is enabled with its profiles, and its dependencies (those of
// the same profiles included) are started as for Up with WithServices.
// A required dependency still disabled is an error wrapping
// lifecycle.ErrInvalid, even with WithNoDeps.
func (s *Stack) Run(ctx context.Context, service string, cmd []string, opts ...RunOption) (code int, err error) {
	defer scrub(&err)
	set, err := applyOpts("Run", opts, RunOption.applyRun)
	if err != nil {
		return -1, err
	}
	if service == "" {
		return -1, invalidf("compose %s: run: empty service name", s.p.Name)
	}
	// As docker compose run svc: a service its profile disables is
	// enabled by naming it; the service and its dependencies must be
	// there, even with WithNoDeps.
	p, err := s.enabled("run", []string{service})
	if err != nil {
		return -1, err
	}
	if _, _, err := narrow(p, []string{service}); err != nil {
		return -1, err
	}
	svc := p.Services[service]
	if probe := svc; s.applyRunFlags(&probe, set) != nil {
		return -1, s.applyRunFlags(&probe, set) // bad input before any engine call
	}
	if !set.noDeps && len(svc.DependsOn) > 0 {
		var deps []string
		for d := range svc.DependsOn {
			if _, ok := p.Services[d]; ok {
				deps = append(deps, d)
			}
		}
		if len(deps) > 0 {
			sort.Strings(deps)
			up := &upSettings{services: deps, progress: set.progress, allInterfaces: set.allInterfaces}
			if err := s.up(ctx, up, p); err != nil {
				return -1, err
			}
		}
	}
	prog := newProgress(set.progress)
	one := svc
	if !set.servicePorts {
		one.Ports = nil
	}
	if err := s.applyRunFlags(&one, set); err != nil {
		return -1, err
	}
	one.ContainerName = ""
	one.Restart = ""
	if len(cmd) > 0 {
		one.Command = cmd
	}
	if len(set.env) > 0 {
		// A copy: the project's service must not change.
		env := make(types.MappingWithEquals, len(one.Environment)+len(set.env))
		maps.Copy(env, one.Environment)
		for _, e := range set.env {
			k, v, _ := strings.Cut(e, "=")
			env[k] = &v
		}
		one.Environment = env
	}
	images, err := s.ensureImages(ctx, withOnly(p, one), false, prog)
	if err != nil {
		return -1, err
	}
	// Its networks and volumes, as the CLI creates them (Up did, when
	// there were dependencies to start).
	if err := s.ensureNetworks(ctx, p, prog); err != nil {
		return -1, err
	}
	if err := s.ensureVolumes(ctx, p, prog, false, nil); err != nil {
		return -1, err
	}
	hash, err := ServiceHash(one)
	if err != nil {
		return -1, err
	}
	slugb := make([]byte, 32)
	_, _ = rand.Read(slugb)
	slug := hex.EncodeToString(slugb)
	labels := s.containerLabels(p, one, 0, hash, images[service], true)
	labels[LabelSlug] = slug
	spec, err := toCreate(p, one, 0, labels, s.convertOptions(ctx))
	if err != nil {
		return -1, err
	}
	name := fmt.Sprintf("%s-%s-run-%s", p.Name, service, slug[:12])
	stdout, stderr := set.stdout, set.stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// lifecycle's foreground run: attach, start, stream until the exit.
	runOpts := append(s.createOptions(spec, name, set.allInterfaces), lifecycle.WithStdout(stdout), lifecycle.WithStderr(stderr))
	if spec.cfg.Tty {
		runOpts = append(runOpts, lifecycle.WithTTY())
	}
	prog.event("Container", name, "Starting")
	ct, err := s.c.Run(ctx, spec.cfg.Image, runOpts...)
	if ct != nil {
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if rerr := ct.Remove(rctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes()); rerr == nil || errors.Is(rerr, lifecycle.ErrNotFound) {
				prog.event("Container", name, "Removed")
			}
		}()
	}
	var ee *lifecycle.ExitError
	switch {
	case err == nil:
		prog.event("Container", name, "Exited")
		return 0, nil
	case ct != nil && errors.As(err, &ee):
		prog.event("Container", name, "Exited")
		return ee.ExitCode, nil
	}
	return -1, fmt.Errorf("run %s: %w", service, err)
}
