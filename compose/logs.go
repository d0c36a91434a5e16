package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/lifecycle"
)

// lastLogs returns a container's last n log lines (stdout and stderr),
// each indented as a quote, read by lifecycle's one capped reader.
func (s *Stack) lastLogs(ctx context.Context, id string, n int) string {
	ct, err := s.c.Container(ctx, id)
	if err != nil {
		return ""
	}
	lines, _ := ct.LastLogLines(ctx, n)
	for i := range lines {
		lines[i] = "  | " + redact.Text(lines[i]) // a log may print the environment
	}
	return strings.Join(lines, "\n")
}

// Logs writes the logs of the stack's containers to w, each line prefixed
// with the container's short name padded as the CLI does ("web-1  | "):
// standard output, and standard error too unless WithStderr sends it
// elsewhere (prefixed the same way), as lifecycle's Container.Logs does.
// WithServices narrows, WithTail(n) keeps each container's last n lines,
// WithFollow streams until ctx ends or every container stops.
func (s *Stack) Logs(ctx context.Context, w io.Writer, opts ...LogsOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Logs", opts, LogsOption.applyLogs)
	if err != nil {
		return err
	}
	if err := s.checkServices(set.services); err != nil {
		return err
	}
	cts, err := s.containers(ctx, true, false)
	if err != nil {
		return err
	}
	want := toSet(set.services)
	type target struct{ id, prefix string }
	var targets []target
	width := 0
	for _, ct := range cts {
		if len(want) > 0 && !want[ct.Labels[LabelService]] {
			continue
		}
		short := strings.TrimPrefix(ctName(ct), s.p.Name+"-")
		width = max(width, len(short))
		targets = append(targets, target{id: ct.ID, prefix: short})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].prefix < targets[j].prefix })
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lineWriter{w: w, mu: &mu, prefix: fmt.Sprintf("%-*s  | ", width, t.prefix)}
			ct, err := s.c.Container(ctx, t.id)
			if err == nil {
				var lopts []lifecycle.LogsOption
				if set.follow {
					lopts = append(lopts, lifecycle.WithFollow())
				}
				if set.tailSet {
					lopts = append(lopts, lifecycle.WithTail(set.tail))
				}
				var ew *lineWriter
				if set.stderr != nil {
					ew = &lineWriter{w: set.stderr, mu: &mu, prefix: lw.prefix}
					lopts = append(lopts, lifecycle.WithStderr(ew))
				}
				err = ct.Logs(ctx, lw, lopts...)
				if ferr := lw.flush(); err == nil {
					err = ferr
				}
				if ew != nil {
					if ferr := ew.flush(); err == nil {
						err = ferr
					}
				}
			}
			if err != nil && ctx.Err() == nil {
				errs[i] = err // "logs of CONTAINER: ..." from lifecycle
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if set.follow {
		return ctx.Err()
	}
	return nil
}

// maxLogLine is the longest line Logs writes. The rest of a longer line
// (a progress bar that redraws itself with \r and never ends its line,
// say) is dropped and counted: a line costs at most this much memory.
const maxLogLine = 64 << 10

// lineWriter writes whole lines, each with a prefix, under a shared lock.
// It looks at each byte written to it once, and keeps at most max bytes of
// a line that has not ended yet.
type lineWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	max    int // bytes of a line kept; maxLogLine when 0

	line    []byte // the current line's first bytes
	dropped int    // bytes of the current line past max
	out     []byte // reused to build a line with its prefix
	scanned int    // bytes searched for a newline (for tests)
}

func (l *lineWriter) limit() int {
	if l.max > 0 {
		return l.max
	}
	return maxLogLine
}

// keep adds part of the current line, up to the limit.
func (l *lineWriter) keep(p []byte) {
	room := max(0, l.limit()-len(l.line))
	k := min(room, len(p))
	l.line = append(l.line, p[:k]...)
	l.dropped += len(p) - k
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for done := 0; done < len(p); {
		rest := p[done:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			l.scanned += len(rest)
			l.keep(rest)
			break
		}
		l.scanned += i + 1
		l.keep(rest[:i])
		done += i + 1
		if err := l.emit(); err != nil {
			return done, err
		}
	}
	return len(p), nil
}

// emit writes the current line with its prefix, and a note of how much of
// it was dropped.
func (l *lineWriter) emit() error {
	l.out = append(append(l.out[:0], l.prefix...), l.line...)
	if l.dropped > 0 {
		l.out = fmt.Appendf(l.out, " [... %d more bytes of this line dropped]", l.dropped)
	}
	l.out = append(l.out, '\n')
	l.line, l.dropped = l.line[:0], 0
	if cap(l.line) > 4<<10 {
		l.line = nil // do not hold on to a giant line's buffer
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(l.out)
	if cap(l.out) > 4<<10 {
		l.out = nil
	}
	return err
}

// flush writes the unfinished last line, if any.
func (l *lineWriter) flush() error {
	if len(l.line) == 0 && l.dropped == 0 {
		return nil
	}
	return l.emit()
}

// serviceContainer returns a handle on the lowest-numbered running
// replica of a service.
func (s *Stack) serviceContainer(ctx context.Context, service string) (*lifecycle.Container, error) {
	if err := s.checkServices([]string{service}); err != nil {
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
	return s.c.Container(ctx, cts[best].ID)
}

// Exec runs cmd in the service's first running container (docker
// compose exec); lifecycle's Exec options apply.
func (s *Stack) Exec(ctx context.Context, service string, cmd []string, opts ...lifecycle.ExecOption) (*lifecycle.ExecResult, error) {
	ct, err := s.serviceContainer(ctx, service)
	if err != nil {
		return nil, err
	}
	return ct.Exec(ctx, cmd, opts...)
}

// Port returns the host address ("127.0.0.1:49153") the service's first
// container publishes port ("5432", "53/udp") on (docker compose port).
func (s *Stack) Port(ctx context.Context, service, port string) (string, error) {
	ct, err := s.serviceContainer(ctx, service)
	if err != nil {
		return "", err
	}
	return ct.HostPort(ctx, port)
}

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
