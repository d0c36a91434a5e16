package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
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
func (s *Stack) Run(ctx context.Context, service string, cmd []string, opts ...RunOption) (code int, err error) {
	defer scrub(&err)
	set, err := applyOpts("Run", opts, RunOption.applyRun)
	if err != nil {
		return -1, err
	}
	if err := s.checkServices([]string{service}); err != nil {
		return -1, err
	}
	if _, err := validateGraph(s.p); err != nil {
		return -1, err
	}
	svc := s.p.Services[service]
	if !set.noDeps && len(svc.DependsOn) > 0 {
		var deps []string
		for d := range svc.DependsOn {
			if _, ok := s.p.Services[d]; ok {
				deps = append(deps, d)
			}
		}
		if len(deps) > 0 {
			upOpts := []UpOption{WithServices(deps...)}
			if set.progress != nil {
				upOpts = append(upOpts, WithProgress(set.progress))
			}
			if set.allInterfaces {
				upOpts = append(upOpts, WithAllInterfaces())
			}
			if err := s.Up(ctx, upOpts...); err != nil {
				return -1, err
			}
		}
	}
	prog := newProgress(set.progress)
	one := svc
	one.Ports = nil
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
	p := s.p
	images, err := s.ensureImages(ctx, withOnly(p, one), false, prog)
	if err != nil {
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
	spec, err := toCreate(p, one, 0, labels, s.convertOptions(ctx, set.allInterfaces))
	if err != nil {
		return -1, err
	}
	spec.cfg.AttachStdout, spec.cfg.AttachStderr = true, true
	name := fmt.Sprintf("%s-%s-run-%s", p.Name, service, slug[:12])
	ref, err := s.createContainer(ctx, spec, name, prog)
	if err != nil {
		return -1, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = s.api.ContainerRemove(rctx, ref.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		prog.event("Container", name, "Removed")
	}()
	hj, err := s.api.ContainerAttach(ctx, ref.id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return -1, fmt.Errorf("run %s: attach: %w", service, err)
	}
	defer hj.Close()
	waitC, waitErr := s.api.ContainerWait(ctx, ref.id, container.WaitConditionNextExit)
	copied := make(chan error, 1)
	stdout, stderr := set.stdout, set.stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	go func() {
		var err error
		if spec.cfg.Tty {
			_, err = io.Copy(stdout, hj.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, hj.Reader)
		}
		copied <- err
	}()
	if err := s.api.ContainerStart(ctx, ref.id, container.StartOptions{}); err != nil {
		return -1, fmt.Errorf("run %s: start: %w", service, err)
	}
	prog.event("Container", name, "Started")
	select {
	case res := <-waitC:
		select {
		case <-copied: // the output ends when the container does
		case <-ctx.Done(): // the exit code stands; the output may be cut short
		}
		if res.Error != nil {
			return -1, fmt.Errorf("run %s: %s", service, res.Error.Message)
		}
		return int(res.StatusCode), nil
	case err := <-waitErr:
		return -1, fmt.Errorf("run %s: wait: %w", service, err)
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}
