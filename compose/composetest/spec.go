package composetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// Healthcheck timing of a compose service's Spec: a test waits for its
// fixture, so the probe runs at once and then often, whatever interval
// the file asks for (the engine's default is 30 s).
const (
	probeInterval = 250 * time.Millisecond
	probeTimeout  = 10 * time.Second
)

// ServiceSpec returns the [dockhandtest.Spec] of service in the compose
// project that opts load ([compose.Load]: file discovery, .env and
// variable interpolation, profiles, extends, several files merged): pass
// it to [dockhandtest.Start] to share the service's container between
// tests and test processes, and have it removed after them, as any Spec.
//
// The Spec carries the service's image, entrypoint, command, user,
// environment (resolved, sorted, so that the shared container's key is
// the same at every load), tmpfs mounts and ports. Every port of ports:
// and of expose: is published on an ephemeral port of the host: a test
// runs on the host, and tests run in parallel, so a host port the file
// fixes (published:, host_ip:) is not used; ask
// [dockhandtest.Server.HostPort] where the container port is. The Spec's
// Name is the service's name, lowercased.
//
// Readiness comes from the service's healthcheck: its test (CMD or
// CMD-SHELL, the latter run by /bin/sh -c) runs in the container (docker
// exec) at once and then every interval, but at least every 250 ms, each
// run bounded by its timeout, at most 10 s; Start returns after the first
// run that passes, or fails after Spec.ReadyTimeout (retries and
// start_period do not apply: a fixture has no unhealthy state, only
// ready or not yet). No healthcheck, test NONE, disable: true, or a
// healthcheck without test: (one that retimes the image's): every port is
// ready, as for any Spec. A healthcheck in the image itself is run
// by the engine, and Start waits for it too ([lifecycle.Container.Ready]);
// disable: true does not turn it off.
//
// A key the Spec cannot carry fails with an error naming the service,
// the key and what to do instead, wrapping [lifecycle.ErrInvalid], before
// any engine call: mounts (volumes:, secrets:, configs:), other services
// (depends_on:, links:), networks other than the default one, resource
// limits and engine settings (cap_add:, privileged:, ulimits:, ...),
// build: without image:. A few keys are ignored, because the fixture owns
// what they set: container_name: (the container is named by its Spec's
// hash), restart: and stop_grace_period:/stop_signal: (the fixture starts
// and removes its container), labels: (the container carries Dockhand's
// ownership labels, not the service's), and build: beside image: (the
// fixture runs the image, it never builds: build it first, as docker
// compose build does). Load itself rejects the keys Dockhand's compose
// runner does not support, in any service of the project.
func ServiceSpec(ctx context.Context, service string, opts ...compose.LoadOption) (dockhandtest.Spec, error) {
	if service == "" {
		return dockhandtest.Spec{}, fmt.Errorf("%w: composetest.ServiceSpec: empty service name: want a service of the compose project", lifecycle.ErrInvalid)
	}
	p, err := compose.Load(ctx, opts...)
	if err != nil {
		return dockhandtest.Spec{}, err
	}
	svc, ok := p.Services[service]
	if !ok {
		if d, disabled := p.DisabledServices[service]; disabled {
			return dockhandtest.Spec{}, fmt.Errorf("%w: compose service %q is not enabled: it is in profiles %s; enable one with compose.WithProfiles",
				lifecycle.ErrInvalid, service, strings.Join(d.Profiles, ", "))
		}
		return dockhandtest.Spec{}, fmt.Errorf("%w: compose project %s has no service %q: want one of %s",
			lifecycle.ErrInvalid, p.Name, service, strings.Join(p.ServiceNames(), ", "))
	}
	return specOfService(svc)
}

// specOfService turns a loaded service into a Spec; see ServiceSpec.
func specOfService(svc types.ServiceConfig) (dockhandtest.Spec, error) {
	bad := func(key, why string) error {
		return fmt.Errorf("%w: compose service %q: %s: %s", lifecycle.ErrInvalid, svc.Name, key, why)
	}
	if key, why := firstUnsupportedKey(reflect.ValueOf(svc), ""); key != "" {
		return dockhandtest.Spec{}, bad(key, why)
	}
	// The values of carried keys a Spec cannot express.
	if svc.Image == "" {
		if svc.Build != nil {
			return dockhandtest.Spec{}, bad("build", "a fixture runs an image and never builds: give the service an image: and build it first (docker compose build)")
		}
		return dockhandtest.Spec{}, bad("image", "empty: want an image reference")
	}
	if svc.Entrypoint != nil && len(svc.Entrypoint) == 0 {
		return dockhandtest.Spec{}, bad("entrypoint", "an empty entrypoint (clearing the image's) cannot be expressed: give a program, or leave entrypoint: out for the image's")
	}
	if svc.Command != nil && len(svc.Command) == 0 {
		return dockhandtest.Spec{}, bad("command", "an empty command (clearing the image's) cannot be expressed: give a command, or leave command: out for the image's")
	}
	for name, n := range svc.Networks {
		if name != "default" || n != nil && !reflect.ValueOf(*n).IsZero() {
			return dockhandtest.Spec{}, bad("networks."+name, "a fixture runs on the engine's default network and is reached through its published ports: remove the service's networks:")
		}
	}
	if svc.Scale != nil && *svc.Scale != 1 {
		return dockhandtest.Spec{}, bad("scale", fmt.Sprintf("%d: a fixture runs one container: want 1 or no scale:", *svc.Scale))
	}
	switch svc.PullPolicy {
	case "", types.PullPolicyMissing, types.PullPolicyIfNotPresent:
	default:
		return dockhandtest.Spec{}, bad("pull_policy", fmt.Sprintf("%q: a fixture pulls its image only when it is missing: want missing, or no pull_policy:", svc.PullPolicy))
	}

	spec := dockhandtest.Spec{
		Name:       fixtureName(svc.Name),
		Image:      svc.Image,
		Entrypoint: slices.Clone([]string(svc.Entrypoint)),
		Cmd:        slices.Clone([]string(svc.Command)),
		User:       svc.User,
	}
	for k, v := range svc.Environment {
		if v != nil { // a variable named without a value and not set: not passed, as the CLI does
			spec.Env = append(spec.Env, k+"="+*v)
		}
	}
	sort.Strings(spec.Env)
	for i, p := range svc.Ports {
		if p.Target == 0 {
			return dockhandtest.Spec{}, bad(fmt.Sprintf("ports[%d]", i), "no container port: want a target port")
		}
		spec.Ports = append(spec.Ports, portSpec(strconv.FormatUint(uint64(p.Target), 10), p.Protocol))
	}
	for i, e := range svc.Expose {
		ports, err := exposedPorts(e)
		if err != nil {
			return dockhandtest.Spec{}, bad(fmt.Sprintf("expose[%d]", i), err.Error())
		}
		spec.Ports = append(spec.Ports, ports...)
	}
	sort.Strings(spec.Ports)
	spec.Ports = slices.Compact(spec.Ports)
	for i, t := range svc.Tmpfs {
		path, opts, _ := strings.Cut(t, ":")
		if !strings.HasPrefix(path, "/") {
			return dockhandtest.Spec{}, bad(fmt.Sprintf("tmpfs[%d]", i), fmt.Sprintf("%q: want an absolute container path, optionally with :options", t))
		}
		if spec.Tmpfs == nil {
			spec.Tmpfs = map[string]string{}
		}
		spec.Tmpfs[path] = opts
	}
	if hc := svc.HealthCheck; hc != nil && !hc.Disable && len(hc.Test) > 0 {
		ready, err := healthReady(hc)
		if err != nil {
			return dockhandtest.Spec{}, bad("healthcheck.test", err.Error())
		}
		spec.Ready = ready
	}
	return spec, nil
}

// fixtureName makes a compose service name a valid Spec name
// ([a-z0-9][a-z0-9_.-]*, which dockhandtest.Start checks), or "service".
func fixtureName(service string) string {
	n := strings.TrimLeft(strings.ToLower(service), "-_.")
	if n == "" || strings.IndexFunc(n, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return "service"
	}
	return n
}

func portSpec(port, protocol string) string {
	if protocol == "" || strings.EqualFold(protocol, "tcp") {
		return port
	}
	return port + "/" + strings.ToLower(protocol)
}

// exposedPorts parses an expose: entry: "3000", "3000/udp", "3000-3002".
func exposedPorts(e string) ([]string, error) {
	ports, proto, _ := strings.Cut(e, "/")
	lo, hi, isRange := strings.Cut(ports, "-")
	if !isRange {
		hi = lo
	}
	from, err1 := strconv.ParseUint(lo, 10, 16)
	to, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || from == 0 || to < from || to-from >= 100 {
		return nil, fmt.Errorf("%q: want a port, port/protocol or a range of at most 100 ports (3000-3005)", e)
	}
	var out []string
	for p := from; p <= to; p++ {
		out = append(out, portSpec(strconv.FormatUint(p, 10), proto))
	}
	return out, nil
}

// healthReady is the readiness of a healthcheck with a test.
func healthReady(hc *types.HealthCheckConfig) (func(*dockhandtest.Server) waitfor.Condition, error) {
	var argv []string
	switch hc.Test[0] {
	case "NONE":
		return nil, nil
	case "CMD":
		if len(hc.Test) < 2 || hc.Test[1] == "" {
			return nil, errors.New("CMD with no program: want [CMD, program, args...]")
		}
		argv = slices.Clone(hc.Test[1:])
	case "CMD-SHELL":
		line := strings.Join(hc.Test[1:], " ")
		if strings.TrimSpace(line) == "" {
			return nil, errors.New("CMD-SHELL with no command: want [CMD-SHELL, command line]")
		}
		argv = []string{"/bin/sh", "-c", line}
	default:
		return nil, fmt.Errorf("%q: want CMD, CMD-SHELL or NONE first", hc.Test[0])
	}
	interval := probeInterval
	for _, d := range []*types.Duration{hc.Interval, hc.StartInterval} {
		if d != nil && *d > 0 {
			interval = min(interval, time.Duration(*d))
		}
	}
	timeout := probeTimeout
	if hc.Timeout != nil && *hc.Timeout > 0 {
		timeout = min(timeout, time.Duration(*hc.Timeout))
	}
	return func(s *dockhandtest.Server) waitfor.Condition {
		return &healthProbe{cond: s.Container().ExecSucceeds(argv...), interval: interval, timeout: timeout}
	}, nil
}

// healthProbe runs a healthcheck's test, as the engine does: one run at
// a time, the next one interval after the last began, each bounded by
// timeout. A run outlives the Check that began it when it takes longer
// than the wait's attempt (1 s): the next Check waits for the same run,
// so a test that takes a few seconds still passes.
type healthProbe struct {
	cond              waitfor.Condition
	interval, timeout time.Duration

	mu      sync.Mutex
	running chan struct{} // closed when the run in flight ends; nil: none
	last    time.Time     // when the last run began
	err     error         // the last run's result
	passed  bool
}

func (h *healthProbe) String() string {
	return "healthcheck: " + h.cond.String()
}

func (h *healthProbe) Check(ctx context.Context) error {
	h.mu.Lock()
	if h.passed {
		h.mu.Unlock()
		return nil
	}
	done := h.running
	if done == nil {
		if wait := h.interval - time.Since(h.last); !h.last.IsZero() && wait > 0 {
			err := h.err
			h.mu.Unlock()
			return err // the last run's failure, until the next one
		}
		done = make(chan struct{})
		h.running, h.last = done, time.Now()
		// Its own deadline, not the attempt's: see healthProbe.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
		go func() {
			defer cancel()
			err := h.cond.Check(rctx)
			if err != nil && rctx.Err() != nil && !waitfor.IsPermanent(err) {
				err = fmt.Errorf("healthcheck timed out after %s (its timeout, at most %s): %w", h.timeout, probeTimeout, err)
			}
			h.mu.Lock()
			h.err, h.passed, h.running = err, err == nil, nil
			h.mu.Unlock()
			close(done)
		}()
	}
	h.mu.Unlock()
	select {
	case <-done:
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.passed {
			return nil
		}
		return h.err
	case <-ctx.Done():
		return fmt.Errorf("healthcheck still running: %w", ctx.Err())
	}
}
