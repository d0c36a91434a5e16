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
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// healthInterval caps a compose healthcheck's interval: a test waits
// for its fixture, and the engine runs the first check one interval
// after the start (30 s by default; engines before 25, API 1.44, have no
// start_interval).
const healthInterval = 250 * time.Millisecond

// ServiceSpec returns the [dockhandtest.Spec] of service in the compose
// project that opts load ([compose.Load]: file discovery, .env and
// variable interpolation, profiles, extends, several files merged): pass
// it to [dockhandtest.Start] to share the service's container between
// tests and test processes, and have it removed after them, as any Spec.
//
// A service that its profiles disable is enabled by naming it, as docker
// compose up service does ([compose.EnableServices]).
//
// The Spec carries the service's image, entrypoint, command (command: []
// or "" is the image's, as for the engine), user, environment (resolved,
// sorted, so that the shared container's key is the same at every load),
// tmpfs mounts, ports and healthcheck. Every port of ports:
// and of expose: is published on an ephemeral port of the host: a test
// runs on the host, and tests run in parallel, so a host port the file
// fixes (published:, host_ip:) is not used; ask
// [dockhandtest.Server.HostPort] where the container port is. The Spec's
// Name is the service's name, lowercased.
//
// Readiness is the engine's healthcheck, as with docker compose up
// --wait: the service's healthcheck: replaces the image's HEALTHCHECK
// (Spec.Healthcheck) and, when it has a test, Start returns once the
// container reports healthy, or fails after Spec.ReadyTimeout (unhealthy
// does not end the wait: a later check may pass). The
// engine runs the test as docker compose has it run: CMD runs the
// program, CMD-SHELL the image's shell (/bin/sh -c). timeout:, retries:
// and start_period: are passed on as they are; interval: is capped at
// 250 ms, and at start_interval: when set, and is 250 ms when not given,
// because the engine runs the first check one interval after the start
// (30 s by default) and engines before 25 (API 1.44) have no
// start_interval. disable: true or test: [NONE] turns the image's
// healthcheck off: the ports are then the readiness, as for any Spec
// without Ready (every port ready). A healthcheck: without test: keeps
// the image's test with the file's timings (interval capped as above),
// and the ports are waited for too. Without healthcheck: the image's
// HEALTHCHECK, if it has one, runs with its own timings, and Start waits
// for it and for the ports.
//
// A key the Spec cannot carry fails with an error naming the service,
// the key and what to do instead, wrapping [lifecycle.ErrInvalid], before
// any engine call: mounts (volumes:, secrets:, configs:), other services
// (depends_on:, links:), networks other than the default one, resource
// limits and engine settings (cap_add:, privileged: true, ulimits:,
// ...), build: without image:, a pull_policy: other than missing or
// if_not_present (a fixture pulls a missing image: never, always and
// build cannot be honoured). A key set to its default counts as left
// out (init: false, read_only: false, deploy: {}). A few keys are
// ignored, because the fixture owns what they set: container_name: (the container is named by its Spec's
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
	if _, disabled := p.DisabledServices[service]; disabled {
		// Named, it is enabled, as docker compose up service does.
		if p, err = compose.EnableServices(p, service); err != nil {
			return dockhandtest.Spec{}, err
		}
	}
	svc, ok := p.Services[service]
	if !ok {
		all := p.ServiceNames()
		for d := range p.DisabledServices {
			all = append(all, d)
		}
		sort.Strings(all)
		return dockhandtest.Spec{}, fmt.Errorf("%w: compose project %s has no service %q: want one of %s",
			lifecycle.ErrInvalid, p.Name, service, strings.Join(all, ", "))
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
	case types.PullPolicyNever:
		return dockhandtest.Spec{}, bad("pull_policy", fmt.Sprintf("%q: a fixture pulls its image when it is missing (dockhandtest.Start has no way not to): build or pull the image first and leave pull_policy: out, or use missing", svc.PullPolicy))
	default:
		return dockhandtest.Spec{}, bad("pull_policy", fmt.Sprintf("%q: a fixture pulls its image only when it is missing: want missing, or no pull_policy:", svc.PullPolicy))
	}

	spec := dockhandtest.Spec{
		Name:       fixtureName(svc.Name),
		Image:      svc.Image,
		Entrypoint: slices.Clone([]string(svc.Entrypoint)),
		User:       svc.User,
	}
	if len(svc.Command) > 0 { // command: [] or "" is the image's, as for the engine
		spec.Cmd = slices.Clone([]string(svc.Command))
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
	if hc := svc.HealthCheck; hc != nil {
		health, err := healthConfig(hc)
		if err != nil {
			return dockhandtest.Spec{}, bad("healthcheck.test", err.Error())
		}
		spec.Healthcheck = health
		if t := health.Test; len(t) > 0 && t[0] != "NONE" {
			// Start waits for healthy anyway (Container.Ready); saying it
			// here keeps the ports out of readiness (expose: may name
			// ports nothing listens on) and names the wait in its error.
			spec.Ready = func(s *dockhandtest.Server) waitfor.Condition { return s.Container().Healthy() }
		}
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

// healthConfig is the engine's healthcheck of a compose healthcheck, as
// docker compose makes it (disable: true is test NONE; an absent test
// keeps the image's), with its interval capped at healthInterval (and at
// start_interval, which replaces the interval at the start on the
// engines that know it).
func healthConfig(hc *types.HealthCheckConfig) (*container.HealthConfig, error) {
	if hc.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	out := &container.HealthConfig{Test: slices.Clone([]string(hc.Test)), Interval: healthInterval}
	if len(hc.Test) > 0 {
		switch hc.Test[0] {
		case "NONE":
			return &container.HealthConfig{Test: []string{"NONE"}}, nil
		case "CMD":
			if len(hc.Test) < 2 || hc.Test[1] == "" {
				return nil, errors.New("CMD with no program: want [CMD, program, args...]")
			}
		case "CMD-SHELL": // passed as it is: the engine runs [shell..., test[1:]...]
			if len(hc.Test) < 2 || strings.TrimSpace(hc.Test[1]) == "" {
				return nil, errors.New("CMD-SHELL with no command: want [CMD-SHELL, command line]")
			}
		default:
			return nil, fmt.Errorf("%q: want CMD, CMD-SHELL or NONE first", hc.Test[0])
		}
	}
	for _, d := range []*types.Duration{hc.Interval, hc.StartInterval} {
		if d != nil && *d > 0 {
			out.Interval = max(min(out.Interval, time.Duration(*d)), time.Millisecond)
		}
	}
	if hc.Timeout != nil {
		out.Timeout = time.Duration(*hc.Timeout)
	}
	if hc.StartPeriod != nil {
		out.StartPeriod = time.Duration(*hc.StartPeriod)
	}
	if hc.Retries != nil {
		out.Retries = int(*hc.Retries)
	}
	return out, nil
}
