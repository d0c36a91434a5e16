package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/dockhand/dockhand/lifecycle"
)

// Up creates what the project needs and starts its services, as docker
// compose up -d: it pulls missing images and builds services with build:,
// creates the project's networks and named volumes, then creates and
// starts each service's containers as soon as its depends_on conditions
// hold (service_started, service_healthy, service_completed_successfully;
// required: false dependencies may be missing or fail). Independent
// services start in parallel.
//
// Up is idempotent: a container whose configuration hash
// (com.docker.compose.config-hash, see ServiceHash) and image are
// unchanged is kept as it is; a changed service is recreated; a stopped
// one is started again.
//
// With WithWait, Up returns when every service is running, or healthy if
// it has a healthcheck. A service that fails to start, exits, or becomes
// unhealthy fails Up with an error naming it and quoting its last log
// lines; only a service others depend on with
// service_completed_successfully may exit, with code 0. Up does not undo
// what it did on failure: Down removes it all.
//
// Ports without a host IP are published on 127.0.0.1 only, unlike the
// CLI (0.0.0.0); WithAllInterfaces restores the CLI's behaviour.
func (s *Stack) Up(ctx context.Context, opts ...UpOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Up", opts, UpOption.applyUp)
	if err != nil {
		return err
	}
	p, deps, err := s.plan(set.services)
	if err != nil {
		return err
	}
	if set.waitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, set.waitTimeout)
		defer cancel()
	}
	prog := newProgress(set.progress)
	images, err := s.ensureImages(ctx, p, set.build, prog)
	if err != nil {
		return timeoutErr(ctx, set, err)
	}
	if err := s.ensureNetworks(ctx, p, prog); err != nil {
		return timeoutErr(ctx, set, err)
	}
	if err := s.ensureVolumes(ctx, p, prog); err != nil {
		return timeoutErr(ctx, set, err)
	}
	existing, err := s.containers(ctx, true, false)
	if err != nil {
		return err
	}
	byService := map[string][]container.Summary{}
	for _, ct := range existing {
		svc := ct.Labels[LabelService]
		if !s.knownService(svc) {
			if set.removeOrphans {
				if err := s.removeContainer(ctx, ct, set.timeout, prog); err != nil {
					return err
				}
			} else {
				prog.printf(" Found orphan container %s for service %q: remove it with WithRemoveOrphans", ctName(ct), svc)
			}
			continue
		}
		byService[svc] = append(byService[svc], ct)
	}
	r := &runner{s: s, p: p, set: set, prog: prog, images: images, existing: byService, deps: deps}
	err = r.run(ctx)
	return timeoutErr(ctx, set, err)
}

func timeoutErr(ctx context.Context, set *upSettings, err error) error {
	if err != nil && set.waitTimeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (wait timeout %v reached)", err, set.waitTimeout)
	}
	return err
}

// runner schedules one Up: a goroutine per service waits for exactly its
// own dependencies' conditions, then converges the service. There are no
// levels: a service starts the moment what it depends on allows it.
type runner struct {
	s        *Stack
	p        *types.Project
	set      *upSettings
	prog     *progress
	images   map[string]string // service -> image id
	existing map[string][]container.Summary
	deps     map[string][]string
	// startOnly starts existing containers and creates nothing (Start).
	startOnly bool

	mu    sync.Mutex
	state map[string]*svcState
}

type svcState struct {
	started chan struct{} // closed when the service's containers are started (or it failed)
	err     error         // set before started is closed; never after
	ids     []ctRef
	waits   map[goal]*waitOnce
}

type ctRef struct{ id, name string }

type waitOnce struct {
	once sync.Once
	err  error
}

func (r *runner) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.state = map[string]*svcState{}
	for name := range r.p.Services {
		r.state[name] = &svcState{started: make(chan struct{}), waits: map[goal]*waitOnce{}}
	}
	var wg sync.WaitGroup
	errs := make([]error, 0)
	var emu sync.Mutex
	for _, name := range r.p.ServiceNames() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.service(ctx, name); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		return nil
	}
	// A root cause first: failures of dependants only repeat it.
	sort.SliceStable(errs, func(i, j int) bool {
		return !errors.Is(errs[i], errDependency) && errors.Is(errs[j], errDependency)
	})
	return errors.Join(errs...)
}

var errDependency = errors.New("dependency failed")

type depError struct {
	service, dep string
	err          error
}

func (e *depError) Error() string {
	return fmt.Sprintf("service %q not started: dependency %q failed: %v", e.service, e.dep, e.err)
}
func (e *depError) Unwrap() []error { return []error{errDependency, e.err} }

// service waits for the dependencies of one service, converges it and,
// with WithWait, waits for it to be ready.
func (r *runner) service(ctx context.Context, name string) (err error) {
	st := r.state[name]
	svc := r.p.Services[name]
	defer func() {
		if err == nil {
			return
		}
		select {
		case <-st.started:
			// Started, then failed its --wait: dependants already read
			// st.err, and any condition beyond started they wait for
			// themselves.
		default:
			st.err = err // written before the close, which publishes it
			close(st.started)
		}
	}()
	// Containers are created (or recreated) at once, in parallel with
	// everything else; only starting them waits for the dependencies, so
	// creation is off the critical path, as with the CLI.
	waitDeps := func() error {
		for _, d := range r.deps[name] {
			cond := svc.DependsOn[d]
			if err := r.waitDependency(ctx, d, cond.Condition); err != nil {
				if !cond.Required {
					r.prog.printf(" Service %s: optional dependency %s failed, going on: %v", name, d, err)
					continue
				}
				var de *depError
				if errors.As(err, &de) && de.service == d {
					err = de.err // report the root cause once, not a chain
				}
				return &depError{service: name, dep: d, err: err}
			}
		}
		return nil
	}
	refs, err := r.converge(ctx, svc, waitDeps)
	if err != nil {
		return err
	}
	st.ids = refs
	close(st.started)
	if !r.set.wait {
		return nil
	}
	for _, ref := range refs {
		ins, err := waitFor(ctx, r.s.c, ref.id, ref.name, goalReady, r.isOneShot(name))
		if err != nil {
			return r.failed(ctx, name, ref, err)
		}
		switch {
		case hasHealthcheck(svc):
			r.prog.event("Container", ref.name, "Healthy")
		case ins.State != nil && ins.State.Status == "exited":
			r.prog.event("Container", ref.name, "Exited")
		default:
			r.prog.event("Container", ref.name, "Running")
		}
	}
	return nil
}

// isOneShot: a service others wait on to complete may exit 0 under --wait.
func (r *runner) isOneShot(name string) bool {
	for _, svc := range r.p.Services {
		if d, ok := svc.DependsOn[name]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
			return true
		}
	}
	return false
}

func hasHealthcheck(svc types.ServiceConfig) bool {
	return svc.HealthCheck != nil && !svc.HealthCheck.Disable && len(svc.HealthCheck.Test) > 0 && svc.HealthCheck.Test[0] != "NONE"
}

// waitDependency waits for service d to satisfy condition, sharing one
// wait among all the services that depend on d the same way.
func (r *runner) waitDependency(ctx context.Context, d, condition string) error {
	st := r.state[d]
	select {
	case <-st.started:
	case <-ctx.Done():
		return ctx.Err()
	}
	if st.err != nil {
		return st.err
	}
	var g goal
	switch condition {
	case types.ServiceConditionHealthy:
		g = goalHealthy
	case types.ServiceConditionCompletedSuccessfully:
		g = goalCompleted
	default:
		return nil
	}
	r.mu.Lock()
	w := st.waits[g]
	if w == nil {
		w = &waitOnce{}
		st.waits[g] = w
	}
	r.mu.Unlock()
	w.once.Do(func() {
		for _, ref := range st.ids {
			if _, err := waitFor(ctx, r.s.c, ref.id, ref.name, g, false); err != nil {
				w.err = r.failed(ctx, d, ref, err)
				return
			}
			state := "Healthy"
			if g == goalCompleted {
				state = "Exited"
			}
			r.prog.event("Container", ref.name, state)
		}
	})
	return w.err
}

// failed names the service and quotes the container's last log lines.
func (r *runner) failed(ctx context.Context, service string, ref ctRef, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("service %q: %w", service, err)
	}
	r.prog.event("Container", ref.name, "Error")
	logs := r.s.lastLogs(ctx, ref.id, 10)
	if logs == "" {
		return fmt.Errorf("service %q: %w", service, err)
	}
	return fmt.Errorf("service %q: %w; last log lines:\n%s", service, err, logs)
}

// converge makes the service's containers match its configuration and
// starts them; it returns them in number order.
func (r *runner) converge(ctx context.Context, svc types.ServiceConfig, waitDeps func() error) ([]ctRef, error) {
	if strings.HasPrefix(svc.NetworkMode, "service:") {
		// Its container needs the other service's container id at create.
		if err := waitDeps(); err != nil {
			return nil, err
		}
		waitDeps = func() error { return nil }
	}
	want := replicas(svc)
	hash, err := ServiceHash(svc)
	if err != nil {
		return nil, fmt.Errorf("service %q: config hash: %w", svc.Name, err)
	}
	image := r.images[svc.Name]
	have := r.existing[svc.Name]
	sort.Slice(have, func(i, j int) bool { return number(have[i]) < number(have[j]) })
	keep := map[int]container.Summary{}
	var remove []container.Summary
	for _, ct := range have {
		n := number(ct)
		_, dup := keep[n]
		switch {
		case n < 1 || n > want || dup:
			remove = append(remove, ct)
		case r.set.forceRecreate || ct.Labels[LabelConfigHash] != hash || (image != "" && ct.Labels[LabelImage] != image):
			remove = append(remove, ct)
		default:
			keep[n] = ct
		}
	}
	if r.startOnly {
		keep = map[int]container.Summary{}
		remove = nil
		want = len(have)
		for i, ct := range have {
			keep[i+1] = ct
		}
	}
	if svc.ContainerName != "" && want > 1 {
		return nil, fmt.Errorf("service %q: container_name %q cannot be used with %d replicas", svc.Name, svc.ContainerName, want)
	}
	for _, ct := range remove {
		if err := r.s.removeContainer(ctx, ct, r.set.timeout, r.prog); err != nil {
			return nil, fmt.Errorf("service %q: %w", svc.Name, err)
		}
	}
	refs := make([]ctRef, want)
	fresh := make([]bool, want)
	errs := make([]error, want)
	var wg sync.WaitGroup
	for n := 1; n <= want; n++ {
		if ct, ok := keep[n]; ok {
			refs[n-1] = ctRef{id: ct.ID, name: ctName(ct)}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[n-1], errs[n-1] = r.create(ctx, svc, n, hash, image)
			fresh[n-1] = errs[n-1] == nil
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := waitDeps(); err != nil {
		return nil, err
	}
	for n := 1; n <= want; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := refs[n-1]
			if ct, ok := keep[n]; ok && !fresh[n-1] {
				if ct.State == "running" {
					r.prog.event("Container", ref.name, "Running")
					return
				}
				// A one-shot service (others wait for it to complete) that
				// completed is done: it is not run again.
				if ct.State == "exited" && r.isOneShot(svc.Name) && exitCode(ct) == 0 {
					r.prog.event("Container", ref.name, "Exited")
					return
				}
			}
			if err := r.s.api.ContainerStart(ctx, ref.id, container.StartOptions{}); err != nil {
				errs[n-1] = r.failed(ctx, svc.Name, ref, fmt.Errorf("start %s: %w", ref.name, err))
				return
			}
			r.prog.event("Container", ref.name, "Started")
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return refs, nil
}

func exitCode(ct container.Summary) int {
	if m := exitRE.FindStringSubmatch(ct.Status); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return -1
}

func number(ct container.Summary) int {
	n, _ := strconv.Atoi(ct.Labels[LabelContainerNumber])
	return n
}

// containerLabels are the labels of replica n: the service's own, the
// CLI's, and Dockhand's session labels.
func (s *Stack) containerLabels(p *types.Project, svc types.ServiceConfig, n int, hash, image string, oneoff bool) map[string]string {
	l := map[string]string{}
	for k, v := range svc.Labels {
		l[k] = v
	}
	custom := svc.CustomLabels
	if custom == nil {
		custom = cliLabels(p, svc.Name, nil)
	}
	for k, v := range custom {
		l[k] = v
	}
	l[LabelProject] = p.Name
	l[LabelService] = svc.Name
	l[LabelConfigHash] = hash
	if image != "" {
		l[LabelImage] = image
	}
	var ds []string
	for d, cfg := range svc.DependsOn {
		ds = append(ds, fmt.Sprintf("%s:%s:%t", d, cfg.Condition, cfg.Restart))
	}
	sort.Strings(ds)
	l[LabelDependsOn] = strings.Join(ds, ",")
	if oneoff {
		l[LabelOneoff] = "True"
	} else {
		l[LabelOneoff] = "False"
		l[LabelContainerNumber] = strconv.Itoa(n)
	}
	return s.c.Labels(l)
}

// create creates replica n of svc (not started).
func (r *runner) create(ctx context.Context, svc types.ServiceConfig, n int, hash, image string) (ctRef, error) {
	labels := r.s.containerLabels(r.p, svc, n, hash, image, false)
	spec, err := toCreate(r.p, svc, n, labels, r.s.convertOptions(ctx, r.set.allInterfaces))
	if err != nil {
		return ctRef{}, err
	}
	name := containerName(r.p, svc, n)
	return r.s.createContainer(ctx, spec, name, r.prog)
}

func (s *Stack) convertOptions(ctx context.Context, allInterfaces bool) convertOptions {
	return convertOptions{
		allInterfaces: allInterfaces,
		apiVersion:    s.api.ClientVersion(),
		networkContainer: func(service string) (string, error) {
			cts, err := s.containers(ctx, false, false)
			if err != nil {
				return "", err
			}
			for _, ct := range cts {
				if ct.Labels[LabelService] == service {
					return ct.ID, nil
				}
			}
			return "", fmt.Errorf("no running container of service %q", service)
		},
	}
}

// createContainer creates the container and connects its extra networks;
// on failure it removes what it created.
func (s *Stack) createContainer(ctx context.Context, spec *createSpec, name string, prog *progress) (ctRef, error) {
	resp, err := s.api.ContainerCreate(ctx, spec.cfg, spec.host, spec.net, nil, name)
	if err != nil {
		return ctRef{}, fmt.Errorf("service %q: create container %s: %w", spec.cfg.Labels[LabelService], name, err)
	}
	for _, en := range spec.extra {
		if err := s.api.NetworkConnect(ctx, en.name, resp.ID, en.ep); err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = s.api.ContainerRemove(rctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			cancel()
			return ctRef{}, fmt.Errorf("service %q: container %s: connect network %s: %w", spec.cfg.Labels[LabelService], name, en.name, err)
		}
	}
	prog.event("Container", name, "Created")
	return ctRef{id: resp.ID, name: name}, nil
}

// removeContainer stops (with the timeout, else the container's own stop
// timeout) and removes a container with its anonymous volumes.
func (s *Stack) removeContainer(ctx context.Context, ct container.Summary, timeout *time.Duration, prog *progress) error {
	name := ctName(ct)
	if ct.State == "running" || ct.State == "restarting" || ct.State == "paused" {
		prog.event("Container", name, "Stopping")
		if err := s.api.ContainerStop(ctx, ct.ID, stopOptions(timeout)); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stop %s: %w", name, err)
		}
		prog.event("Container", name, "Stopped")
	}
	prog.event("Container", name, "Removing")
	err := s.api.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	// With Force, the engine's only conflict (409) is a removal already in
	// progress: someone else is removing it.
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	prog.event("Container", name, "Removed")
	return nil
}

func stopOptions(timeout *time.Duration) container.StopOptions {
	if timeout == nil {
		return container.StopOptions{}
	}
	secs := int(timeout.Round(time.Second) / time.Second)
	return container.StopOptions{Timeout: &secs}
}

// ensureImages pulls missing images and builds services with build:
// (always with WithBuild, else when the image is missing); it returns
// each service's image id for the com.docker.compose.image label.
func (s *Stack) ensureImages(ctx context.Context, p *types.Project, build bool, prog *progress) (map[string]string, error) {
	ids := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	type job struct {
		image string
		svcs  []types.ServiceConfig
	}
	jobs := map[string]*job{}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		img := imageName(p, svc)
		if jobs[img] == nil {
			jobs[img] = &job{image: img}
		}
		jobs[img].svcs = append(jobs[img].svcs, svc)
	}
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.ensureImage(ctx, p, j.image, j.svcs, build, prog)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for _, svc := range j.svcs {
				ids[svc.Name] = id
			}
		}()
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

func (s *Stack) ensureImage(ctx context.Context, p *types.Project, image string, svcs []types.ServiceConfig, build bool, prog *progress) (string, error) {
	var builder *types.ServiceConfig
	policy := ""
	for i := range svcs {
		if svcs[i].Build != nil && builder == nil {
			builder = &svcs[i]
		}
		if svcs[i].PullPolicy != "" {
			policy = svcs[i].PullPolicy
		}
	}
	have, err := s.c.InspectImage(ctx, image)
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return "", fmt.Errorf("service %q: %w", svcs[0].Name, err) // lifecycle names the image
	}
	missing := err != nil
	switch {
	case builder != nil && (build || missing || policy == types.PullPolicyBuild || policy == types.PullPolicyAlways):
		return s.build(ctx, p, *builder, image, prog)
	case policy == types.PullPolicyAlways || (missing && policy != types.PullPolicyNever):
		if !missing || policy == types.PullPolicyAlways {
			prog.event("Image", image, "Pulling")
		} else {
			prog.event("Image", image, "Pulling (missing)")
		}
		if err := s.c.Pull(ctx, image); err != nil {
			return "", fmt.Errorf("service %q: %w", svcs[0].Name, err) // "pull IMAGE: ..." from lifecycle
		}
		prog.event("Image", image, "Pulled")
		img, err := s.c.InspectImage(ctx, image)
		if err != nil {
			return "", fmt.Errorf("service %q: %w", svcs[0].Name, err)
		}
		return img.ID, nil
	case missing:
		return "", fmt.Errorf("service %q: image %s is missing and pull_policy is never", svcs[0].Name, image)
	}
	return have.ID, nil
}

func (s *Stack) build(ctx context.Context, p *types.Project, svc types.ServiceConfig, image string, prog *progress) (string, error) {
	b := svc.Build
	prog.event("Image", image, "Building")
	dir := b.Context
	if dir == "" {
		dir = "."
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(p.WorkingDir, dir)
	}
	// build.tags go to the build itself, so they are recorded as its own
	// tags and Cleanup removes them with the image.
	opts := []lifecycle.BuildOption{lifecycle.WithTags(append([]string{image}, b.Tags...)...)}
	if b.Dockerfile != "" {
		opts = append(opts, lifecycle.WithDockerfile(b.Dockerfile))
	}
	if b.DockerfileInline != "" {
		return "", fmt.Errorf("service %q: build.dockerfile_inline is not supported", svc.Name)
	}
	var args []string
	for k, v := range b.Args {
		if v != nil {
			args = append(args, k+"="+*v)
		}
	}
	if len(args) > 0 {
		opts = append(opts, lifecycle.WithBuildArgs(args...))
	}
	if b.Target != "" {
		opts = append(opts, lifecycle.WithTarget(b.Target))
	}
	if b.NoCache {
		opts = append(opts, lifecycle.WithNoCache())
	}
	labels := map[string]string{LabelProject: p.Name, LabelService: svc.Name}
	for k, v := range b.Labels {
		labels[k] = v
	}
	opts = append(opts, lifecycle.WithLabels(labels))
	if svc.Platform != "" {
		opts = append(opts, lifecycle.WithPlatform(svc.Platform))
	}
	id, err := s.c.Build(ctx, dir, opts...)
	if err != nil {
		return "", fmt.Errorf("service %q: %w", svc.Name, err) // "build DIR: ..." from lifecycle
	}
	prog.event("Image", image, "Built")
	return id, nil
}

// ensureNetworks creates the project's networks (labelled as the CLI
// does) and checks that external ones exist.
func (s *Stack) ensureNetworks(ctx context.Context, p *types.Project, prog *progress) error {
	for _, key := range p.NetworkNames() {
		nw := p.Networks[key]
		name := nw.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		if bool(nw.External) {
			if _, err := s.api.NetworkInspect(ctx, name, network.InspectOptions{}); err != nil {
				return fmt.Errorf("compose %s: external network %q not found: %w", p.Name, name, err)
			}
			continue
		}
		list, err := s.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
		if err != nil {
			return fmt.Errorf("compose %s: network %s: %w", p.Name, name, err)
		}
		found := false
		for _, n := range list {
			if n.Name == name {
				found = true
			}
		}
		if found {
			continue
		}
		h, _ := networkHash(nw)
		req := network.CreateOptions{
			Driver: nw.Driver, Options: nw.DriverOpts, Internal: nw.Internal, Attachable: nw.Attachable,
			Labels: s.resourceLabels(p, nw.Labels, LabelNetwork, key, h), EnableIPv6: nw.EnableIPv6,
		}
		if nw.Ipam.Driver != "" || len(nw.Ipam.Config) > 0 {
			req.IPAM = &network.IPAM{Driver: nw.Ipam.Driver, Options: nw.Ipam.Options}
			for _, pool := range nw.Ipam.Config {
				req.IPAM.Config = append(req.IPAM.Config, network.IPAMConfig{
					Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange, AuxAddress: pool.AuxiliaryAddresses,
				})
			}
		}
		prog.event("Network", name, "Creating")
		if _, err := s.api.NetworkCreate(ctx, name, req); err != nil && !cerrdefs.IsConflict(err) {
			return fmt.Errorf("compose %s: create network %s: %w", p.Name, name, err)
		}
		prog.event("Network", name, "Created")
	}
	return nil
}

// ensureVolumes creates the project's named volumes and checks that
// external ones exist.
func (s *Stack) ensureVolumes(ctx context.Context, p *types.Project, prog *progress) error {
	for _, key := range p.VolumeNames() {
		v := p.Volumes[key]
		name := v.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		_, err := s.api.VolumeInspect(ctx, name)
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("compose %s: volume %s: %w", p.Name, name, err)
		}
		if bool(v.External) {
			return fmt.Errorf("compose %s: external volume %q not found", p.Name, name)
		}
		h, _ := volumeHash(v)
		labels := s.resourceLabels(p, v.Labels, LabelVolume, key, h)
		prog.event("Volume", name, "Creating")
		if _, err := s.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			return fmt.Errorf("compose %s: create volume %s: %w", p.Name, name, err)
		}
		prog.event("Volume", name, "Created")
	}
	return nil
}

// resourceLabels are the labels of a network or volume the project
// creates: its own, the CLI's (kind is LabelNetwork or LabelVolume, key
// the name in the compose file; hash, when not empty, the config hash)
// and Dockhand's session labels.
func (s *Stack) resourceLabels(p *types.Project, own types.Labels, kind, key, hash string) map[string]string {
	labels := maps.Clone(map[string]string(own))
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelProject] = p.Name
	labels[kind] = key
	labels[LabelVersion] = ComposeVersion
	if hash != "" {
		labels[LabelConfigHash] = hash
	}
	return s.c.Labels(labels)
}
