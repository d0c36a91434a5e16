package lifecycle

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Container is a handle on one container, as *exec.Cmd is on a process:
// Client.Run and Client.Container make one. Its methods are safe for
// concurrent use. A Container made any other way (new(Container), a zero
// value) is not a handle: its methods return an error wrapping ErrInvalid.
type Container struct {
	id    string
	image string
	c     *Client
	// publishes tells that this handle created the container with port
	// bindings, so a failed start may be the bind address (see bindErr).
	publishes bool

	mu   sync.Mutex // guards name (Rename)
	name string
}

// ID returns the container's full id.
func (ct *Container) ID() string {
	if ct == nil {
		return ""
	}
	return ct.id
}

// Name returns the container's name, without the leading slash.
func (ct *Container) Name() string {
	if ct == nil {
		return ""
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.name
}

// Image returns the image the container was run from, as given to Run
// (or as the engine records it, for Client.Container).
func (ct *Container) Image() string {
	if ct == nil {
		return ""
	}
	return ct.image
}

// valid fails unless ct is a handle from Run or Container.
func (ct *Container) valid(verb string) error {
	if ct == nil || ct.c == nil || ct.id == "" {
		return invalidf("%s: not a container handle: get one from Client.Run or Client.Container", verb)
	}
	return nil
}

// RunError is the error of a Run (or Create) that created the container
// but failed after that: it could not connect a network, start the
// container, or attach to its streams, or the streams failed while it ran
// in the foreground. Run removed the container before returning (a failed
// Run leaves nothing behind); Removed says whether that removal succeeded.
type RunError struct {
	Image       string
	ContainerID string
	Started     bool  // the container had started
	Removed     bool  // Run removed it again
	Err         error // the cause

	verb string // "create" for Create; "run" otherwise
}

func (e *RunError) Error() string {
	what := "created"
	if e.Started {
		what = "started"
	}
	gone := "removed"
	if !e.Removed {
		gone = "could not be removed"
	}
	return fmt.Sprintf("%s %s: container %s was %s, then failed (it %s): %v", firstNonEmpty(e.verb, "run"), e.Image, short(e.ContainerID), what, gone, e.Err)
}

// Unwrap returns the cause.
func (e *RunError) Unwrap() error { return e.Err }

// State is what docker inspect says about a container's process.
type State struct {
	Status     string // created, running, paused, restarting, removing, exited, dead
	Running    bool
	ExitCode   int
	OOMKilled  bool
	Health     string // "", starting, healthy, unhealthy
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Summary is one line of a container listing (docker ps).
type Summary struct {
	ID       string
	Name     string
	Image    string
	Command  string
	State    string // created, running, restarting, paused, exited, dead, ...
	Status   string // "Up 3 seconds", "Exited (0) 2 minutes ago"
	Health   string // "", starting, healthy, unhealthy (read from Status)
	ExitCode int    // of an exited container (read from Status); -1 otherwise
	Labels   map[string]string
	Ports    []string // published "127.0.0.1:8080->80/tcp", exposed "80/tcp"
	Created  time.Time

	c *Client // of the listing, for Container
}

// Container returns a handle on the listed container, without asking the
// engine again. A Summary not made by Client.Containers gives a handle
// whose methods fail with ErrInvalid.
func (s Summary) Container() *Container {
	return &Container{id: s.ID, name: s.Name, image: s.Image, c: s.c}
}

var exitStatusRE = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// statusDetails reads the health and exit code docker ps shows in a status.
func statusDetails(status string) (health string, code int) {
	code = -1
	if m := exitStatusRE.FindStringSubmatch(status); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	switch {
	case strings.Contains(status, "(healthy)"):
		health = "healthy"
	case strings.Contains(status, "(unhealthy)"):
		health = "unhealthy"
	case strings.Contains(status, "(health: starting)"):
		health = "starting"
	}
	return health, code
}

// Run creates and starts a container from image (docker run), pulling the
// image first if it is missing (see WithPull). By default it runs detached
// and returns once the container has started.
//
// With WithStdin, WithStdout or WithStderr it attaches first and returns
// when the container exits, as docker run in the foreground and as
// exec.Cmd.Run: a non-zero exit is an *ExitError (exit code, OOM kill,
// last log lines), returned with the handle, and the container is kept
// (unless WithAutoRemove) for its logs and files.
//
// If anything fails after the container was created (a network connect,
// the start, the attach, the streams), Run removes the container and
// returns a *RunError saying so; a named volume Run created for it (and
// only such a one) is removed too, also when the create itself fails: a
// failed Run leaves nothing behind.
func (c *Client) Run(ctx context.Context, image string, opts ...RunOption) (*Container, error) {
	if c == nil || c.api == nil {
		return nil, invalidf("run %s: not a client: get one from New", image)
	}
	s, err := applyOpts("Run", opts, RunOption.applyRun)
	if err != nil {
		return nil, err
	}
	ctr, fail, err := c.create(ctx, "run", image, s)
	if err != nil {
		return nil, err
	}
	foreground := s.io.stdin != nil || s.io.stdout != nil || s.io.stderr != nil
	if !foreground {
		if err := c.api.ContainerStart(ctx, ctr.id, container.StartOptions{}); err != nil {
			return fail(c.bindErr(ctx, c.opErr(err, "start container"), ctr.publishes), false)
		}
		c.logger.Debug("container started", "id", short(ctr.id), "name", ctr.name, "image", image)
		return ctr, nil
	}
	started := false
	code, err := ctr.attachAndStart(ctx, &s.io, s.autoRemove, &started)
	if err != nil {
		return fail(c.bindErr(ctx, err, !started && ctr.publishes), started)
	}
	if code != 0 {
		e := &ExitError{Container: ctr.String(), Status: "exited", ExitCode: code}
		if ins, err := c.api.ContainerInspect(ctx, ctr.id); err == nil && ins.ContainerJSONBase != nil && ins.State != nil {
			e = ctr.exitErr(ctx, ins)
		} else if s.autoRemove {
			e.Status = "removed"
		}
		return ctr, e
	}
	return ctr, nil
}

// Create creates a container from image without starting it (docker
// create), pulling the image first if it is missing (see WithPull); Start
// starts it. It takes Run's options, except the streams of a foreground
// run (WithStdin, WithStdout, WithStderr: use Run for those). Every
// network it names (WithNetwork, or the endpoints a WithContainerConfig
// function adds) is connected, with its aliases, before Create returns.
//
// If anything fails after the container was created (a network connect),
// Create removes it and returns a *RunError; the named volumes it created
// go too, also when the create itself fails: a failed Create leaves
// nothing behind.
func (c *Client) Create(ctx context.Context, image string, opts ...RunOption) (*Container, error) {
	if c == nil || c.api == nil {
		return nil, invalidf("create %s: not a client: get one from New", image)
	}
	s, err := applyOpts("Create", opts, RunOption.applyRun)
	if err != nil {
		return nil, err
	}
	if s.io.stdin != nil || s.io.stdout != nil || s.io.stderr != nil {
		return nil, invalidf("create %s: WithStdin, WithStdout and WithStderr run a container in the foreground: use Run, or Create then Start and Logs", image)
	}
	ct, _, err := c.create(ctx, "create", image, s)
	return ct, err
}

// failFunc removes the container of a failed Run or Create and returns
// the *RunError that says so.
type failFunc func(err error, started bool) (*Container, error)

// create is the part of Run and Create up to the start: check the
// options, ensure the image and the volumes, create the container and
// connect its extra networks.
func (c *Client) create(ctx context.Context, verb, image string, s *runSettings) (*Container, failFunc, error) {
	named, err := parseRef(image)
	if err != nil {
		return nil, nil, err
	}
	cfg, hc, nc, extraNets, err := c.containerConfig(ctx, image, s)
	if err != nil {
		return nil, nil, err
	}
	if err := c.ensureImage(ctx, image, named, s); err != nil {
		return nil, nil, err
	}
	made, err := c.ensureVolumes(ctx, hc.Mounts)
	if err != nil {
		return nil, nil, err
	}
	c.warnRemoteBinds(ctx, hc.Mounts)
	resp, err := c.api.ContainerCreate(ctx, cfg, hc, nc, createPlatform(s.image.platform), s.name)
	if err != nil {
		c.removeMadeVolumes(ctx, verb, made)
		return nil, nil, c.bindMountErr(ctx, c.opErr(err, "%s %s: create container", verb, image), hc.Mounts)
	}
	ctr := &Container{id: resp.ID, name: s.name, image: image, c: c, publishes: len(hc.PortBindings) > 0}
	// fail removes the container, then the volumes made for it, and says
	// so: a failed Run leaves nothing behind.
	fail := func(err error, started bool) (*Container, error) {
		defer c.removeMadeVolumes(ctx, verb, made)
		// Undo on a context of its own: ctx may be what failed.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		rerr := c.api.ContainerRemove(cctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		removed := rerr == nil || cerrdefs.IsNotFound(rerr)
		if !removed {
			c.logger.Warn(verb+": could not remove the container of a failed "+verb, "id", short(resp.ID), "error", rerr)
		}
		return nil, &RunError{Image: image, ContainerID: resp.ID, Started: started, Removed: removed, Err: err, verb: verb}
	}
	if ctr.name == "" {
		if ins, err := c.api.ContainerInspect(ctx, resp.ID); err == nil {
			ctr.name = strings.TrimPrefix(ins.Name, "/")
		}
	}
	for _, n := range extraNets {
		if err := c.api.NetworkConnect(ctx, n.name, resp.ID, n.endpoint()); err != nil {
			_, err := fail(c.opErr(err, "connect network %s", n.name), false)
			return nil, nil, err
		}
	}
	return ctr, fail, nil
}

// createPlatform is the platform of WithPlatform ("os/arch[/variant]") for
// the engine's create, which then runs the image's variant for it (as
// docker run --platform); nil without one.
func createPlatform(p string) *ocispec.Platform {
	if p == "" {
		return nil
	}
	parts := strings.SplitN(p, "/", 3)
	pl := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		pl.Architecture = parts[1]
	}
	if len(parts) > 2 {
		pl.Variant = parts[2]
	}
	return pl
}

// containerConfig turns settings into the engine's create request.
func (c *Client) containerConfig(ctx context.Context, image string, s *runSettings) (*container.Config, *container.HostConfig, *network.NetworkingConfig, []netAttach, error) {
	exposed, bindings, err := portSet(s.ports, "")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var mounts []mount.Mount
	for _, v := range s.volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		mounts = append(mounts, m)
	}
	cfg := &container.Config{
		Image: image, Env: s.proc.env, User: s.proc.user, WorkingDir: s.proc.workdir, Hostname: s.hostname,
		Labels: maps.Clone(s.labels), ExposedPorts: exposed, Tty: s.io.tty,
		OpenStdin: s.io.stdin != nil, StdinOnce: s.io.stdin != nil, AttachStdin: s.io.stdin != nil,
		AttachStdout: s.io.stdout != nil, AttachStderr: s.io.stderr != nil,
	}
	if s.cmdSet {
		cfg.Cmd = s.cmd
	}
	if s.entrypointSet {
		cfg.Entrypoint = s.entrypoint
		if len(s.entrypoint) == 0 {
			cfg.Entrypoint = []string{""} // clear the image's entrypoint
		}
	}
	hc := &container.HostConfig{PortBindings: bindings, Mounts: mounts, AutoRemove: s.autoRemove}
	if s.init {
		t := true
		hc.Init = &t
	}
	if s.restart != "" {
		rp, err := parseRestart(s.restart)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if s.autoRemove && rp.Name != "no" {
			return nil, nil, nil, nil, invalidf("invalid options: restart policy %q conflicts with WithAutoRemove", s.restart)
		}
		hc.RestartPolicy = rp
	}
	nc := &network.NetworkingConfig{}
	var order []string // the networks in the order they were named
	if len(s.networks) > 0 {
		hc.NetworkMode = container.NetworkMode(s.networks[0].name)
		nc.EndpointsConfig = map[string]*network.EndpointSettings{}
		for _, n := range s.networks {
			nc.EndpointsConfig[n.name] = n.endpoint()
			order = append(order, n.name)
		}
	}
	for _, h := range s.hooks {
		h(cfg, hc, nc)
	}
	// What the hooks did, lifecycle completes: the ownership labels are
	// ours to write (a hook may add labels but not drop or change these),
	// and a port binding without a host address gets the client's.
	cfg.Labels = c.sessionLabels(cfg.Labels)
	if !s.allInterfaces {
		ip := c.bindAddress(ctx)
		for p, bs := range hc.PortBindings {
			for i := range bs {
				if bs[i].HostIP == "" {
					bs[i].HostIP = ip
				}
			}
			hc.PortBindings[p] = bs
		}
	}
	extra := splitNetworks(hc, nc, order, c.api.ClientVersion())
	if len(nc.EndpointsConfig) == 0 {
		nc = nil
	}
	return cfg, hc, nc, extra, nil
}

// splitNetworks takes out of nc the endpoints an engine speaking API
// version v cannot take at create (before 1.44: any but the network of
// hc.NetworkMode), to be connected before the start: those named in
// order first, in that order, then the others by name.
func splitNetworks(hc *container.HostConfig, nc *network.NetworkingConfig, order []string, v string) []netAttach {
	if len(nc.EndpointsConfig) <= 1 || versions.GreaterThanOrEqualTo(v, "1.44") {
		return nil
	}
	primary := string(hc.NetworkMode)
	var rest []string
	for name := range nc.EndpointsConfig {
		if name != primary && !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	var extra []netAttach
	for _, name := range append(slices.Clone(order), rest...) {
		ep, ok := nc.EndpointsConfig[name]
		if !ok || name == primary {
			continue
		}
		extra = append(extra, netAttach{name: name, ep: ep})
		delete(nc.EndpointsConfig, name)
	}
	return extra
}

// ensureImage applies the pull policy.
func (c *Client) ensureImage(ctx context.Context, image string, named reference.Named, s *runSettings) error {
	if s.pull == PullAlways {
		return c.pull(ctx, named, &s.image)
	}
	_, err := c.api.ImageInspect(ctx, image)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return c.opErr(err, "run %s: inspect image", image)
	}
	if s.pull == PullNever {
		return &classified{msg: fmt.Sprintf("run %s: image not present and pull policy is never", image), class: ErrNotFound, cause: err, quiet: true}
	}
	return c.pull(ctx, named, &s.image)
}

// ensureVolumes creates missing named volumes with our labels, so the
// engine does not create them unlabelled behind our back.
//
// It returns the names of the volumes it created, for the caller to remove
// if the create fails after it; on its own failure it removes them itself.
func (c *Client) ensureVolumes(ctx context.Context, mounts []mount.Mount) (made []string, err error) {
	defer func() {
		if err != nil {
			c.removeMadeVolumes(ctx, "create", made)
			made = nil
		}
	}()
	for _, m := range mounts {
		if m.Type != mount.TypeVolume || m.Source == "" || slices.Contains(made, m.Source) {
			continue
		}
		if _, err := c.api.VolumeInspect(ctx, m.Source); err == nil {
			continue
		} else if !cerrdefs.IsNotFound(err) {
			return made, c.opErr(err, "inspect volume %s", m.Source)
		}
		if _, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: m.Source, Labels: c.sessionLabels(nil)}); err != nil {
			return made, c.opErr(err, "create volume %s", m.Source)
		}
		made = append(made, m.Source)
	}
	return made, nil
}

// removeMadeVolumes removes the named volumes ensureVolumes created for a
// Run or Create that then failed: only those, and only if no container
// uses them (the engine refuses to remove a volume in use: that one is
// kept, and logged). It runs on a context of its own: ctx may be what
// failed.
func (c *Client) removeMadeVolumes(ctx context.Context, verb string, made []string) {
	if len(made) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, name := range made {
		if err := c.api.VolumeRemove(cctx, name, false); err != nil && !cerrdefs.IsNotFound(err) {
			c.logger.Warn(verb+": could not remove a volume made for a failed "+verb, "volume", name, "error", err)
		}
	}
}

// Container returns a handle on an existing container, by name or id.
func (c *Client) Container(ctx context.Context, nameOrID string) (*Container, error) {
	if nameOrID == "" {
		return nil, invalidf("invalid container %q: want a container name or id", nameOrID)
	}
	ins, err := c.api.ContainerInspect(ctx, nameOrID)
	if err != nil {
		return nil, c.lookupErr(err, "container %s", nameOrID)
	}
	return &Container{id: ins.ID, name: strings.TrimPrefix(ins.Name, "/"), image: ins.Config.Image, c: c}, nil
}

// Containers lists containers as docker ps does: running ones, or all with
// WithAll, narrowed by WithFilter("label", "k=v"), ("name", n), ("status", s), ...
// Summary.Container turns a line into a handle.
func (c *Client) Containers(ctx context.Context, opts ...ListOption) ([]Summary, error) {
	s, err := applyOpts("Containers", opts, ListOption.applyList)
	if err != nil {
		return nil, err
	}
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: s.all, Filters: filterArgs(&s.filterSettings)})
	if err != nil {
		return nil, c.opErr(err, "list containers")
	}
	out := make([]Summary, 0, len(list))
	for _, l := range list {
		sm := Summary{ID: l.ID, Image: l.Image, Command: l.Command, State: l.State, Status: l.Status,
			Labels: l.Labels, Created: time.Unix(l.Created, 0), c: c}
		sm.Health, sm.ExitCode = statusDetails(l.Status)
		sm.Name = canonicalName(l.Names)
		for _, p := range l.Ports {
			if p.PublicPort != 0 {
				sm.Ports = append(sm.Ports, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(p.IP, fmt.Sprint(p.PublicPort)), p.PrivatePort, p.Type))
			} else {
				sm.Ports = append(sm.Ports, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			}
		}
		out = append(out, sm)
	}
	return out, nil
}

// canonicalName picks the container's own name from the engine's list of
// names. A linked container is also listed under each link alias
// ("/proj-api-1/web"), and the engine may put an alias first; the canonical
// name is the one with exactly one slash, as the compose CLI picks it. It
// returns "" when names is empty.
func canonicalName(names []string) string {
	for _, n := range names {
		if strings.Count(n, "/") == 1 {
			return strings.TrimPrefix(n, "/")
		}
	}
	if len(names) > 0 {
		return strings.TrimPrefix(names[0], "/")
	}
	return ""
}

// String returns the container's name, or its short id.
func (ct *Container) String() string {
	if ct == nil {
		return "<nil>"
	}
	if n := ct.Name(); n != "" {
		return n
	}
	return short(ct.id)
}

// Inspect returns the engine's full view of the container.
func (ct *Container) Inspect(ctx context.Context) (container.InspectResponse, error) {
	if err := ct.valid("inspect"); err != nil {
		return container.InspectResponse{}, err
	}
	ins, err := ct.c.api.ContainerInspect(ctx, ct.id)
	if err != nil {
		return ins, ct.c.lookupErr(err, "inspect container %s", ct)
	}
	return ins, nil
}

// State returns the container's current state.
func (ct *Container) State(ctx context.Context) (State, error) {
	ins, err := ct.Inspect(ctx)
	if err != nil {
		return State{}, err
	}
	return stateOf(ins), nil
}

func stateOf(ins container.InspectResponse) State {
	st := ins.State
	if st == nil {
		return State{}
	}
	s := State{Status: string(st.Status), Running: st.Running, ExitCode: st.ExitCode, OOMKilled: st.OOMKilled, Error: st.Error}
	if st.Health != nil {
		s.Health = string(st.Health.Status)
	}
	s.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
	s.FinishedAt, _ = time.Parse(time.RFC3339Nano, st.FinishedAt)
	return s
}

// Start starts a stopped container.
func (ct *Container) Start(ctx context.Context) error {
	if err := ct.valid("start"); err != nil {
		return err
	}
	if err := ct.c.api.ContainerStart(ctx, ct.id, container.StartOptions{}); err != nil {
		return ct.c.bindErr(ctx, ct.c.opErr(err, "start container %s", ct), ct.publishes)
	}
	return nil
}

// Stop stops the container (docker stop): the stop signal (WithSignal;
// the image's STOPSIGNAL or SIGTERM), then SIGKILL after the grace period
// (WithGracePeriod; the container's own default is 10 s).
func (ct *Container) Stop(ctx context.Context, opts ...StopOption) error {
	if err := ct.valid("stop"); err != nil {
		return err
	}
	s, err := applyOpts("Stop", opts, StopOption.applyStop)
	if err != nil {
		return err
	}
	so := container.StopOptions{Signal: s.signal}
	if s.grace != nil {
		secs := int((*s.grace + time.Second - 1) / time.Second)
		so.Timeout = &secs
	}
	if s.signal != "" && versions.LessThan(ct.c.api.ClientVersion(), "1.42") {
		// Before API 1.42 the engine's stop takes no signal: send it, give
		// the grace period, then stop (SIGKILL at once).
		return ct.stopWith(ctx, s)
	}
	if err := ct.c.api.ContainerStop(ctx, ct.id, so); err != nil {
		return ct.c.lookupErr(err, "stop container %s", ct)
	}
	return nil
}

// stopWith stops with a signal on engines whose stop cannot send one.
func (ct *Container) stopWith(ctx context.Context, s *stopSettings) error {
	grace := 10 * time.Second
	if s.grace != nil {
		grace = *s.grace
	}
	if err := ct.c.api.ContainerKill(ctx, ct.id, s.signal); err != nil {
		if cerrdefs.IsConflict(err) { // not running: nothing to stop
			return nil
		}
		return ct.c.opErr(err, "stop container %s: send %s", ct, s.signal)
	}
	wctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	ch, errCh := ct.c.api.ContainerWait(wctx, ct.id, container.WaitConditionNotRunning)
	select {
	case <-ch:
		return nil
	case <-errCh:
		if ctx.Err() != nil {
			return fmt.Errorf("stop container %s: %w", ct, ctx.Err())
		}
	}
	zero := 0
	if err := ct.c.api.ContainerStop(ctx, ct.id, container.StopOptions{Timeout: &zero}); err != nil {
		return ct.c.opErr(err, "stop container %s", ct)
	}
	return nil
}

// Rename renames the container (docker rename); Name and String return
// the new name afterwards.
func (ct *Container) Rename(ctx context.Context, name string) error {
	if err := ct.valid("rename"); err != nil {
		return err
	}
	if !validName(name) {
		return invalidf("rename container %s: invalid name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", ct, name)
	}
	if err := ct.c.api.ContainerRename(ctx, ct.id, name); err != nil {
		return ct.c.lookupErr(err, "rename container %s to %s", ct, name)
	}
	ct.mu.Lock()
	ct.name = name
	ct.mu.Unlock()
	return nil
}

// Kill sends a signal to the container's main process (docker kill):
// SIGKILL, or the one WithSignal names.
func (ct *Container) Kill(ctx context.Context, opts ...KillOption) error {
	if err := ct.valid("kill"); err != nil {
		return err
	}
	s, err := applyOpts("Kill", opts, KillOption.applyKill)
	if err != nil {
		return err
	}
	if err := ct.c.api.ContainerKill(ctx, ct.id, firstNonEmpty(s.signal, "SIGKILL")); err != nil {
		return ct.c.lookupErr(err, "kill container %s", ct)
	}
	return nil
}

// Remove removes the container (docker rm); WithForce kills it first if it
// is running, WithRemoveVolumes removes its anonymous volumes too.
func (ct *Container) Remove(ctx context.Context, opts ...RemoveOption) error {
	if err := ct.valid("remove"); err != nil {
		return err
	}
	s, err := applyOpts("Remove", opts, RemoveOption.applyRemove)
	if err != nil {
		return err
	}
	if err := ct.c.api.ContainerRemove(ctx, ct.id, container.RemoveOptions{Force: s.force, RemoveVolumes: s.rmVolumes}); err != nil {
		return ct.c.lookupErr(err, "remove container %s", ct)
	}
	return nil
}

// Wait waits until the container is not running and returns its exit code.
func (ct *Container) Wait(ctx context.Context) (int, error) {
	if err := ct.valid("wait"); err != nil {
		return -1, err
	}
	ch, errCh := ct.c.api.ContainerWait(ctx, ct.id, container.WaitConditionNotRunning)
	select {
	case r := <-ch:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), fmt.Errorf("wait for container %s: %s", ct, r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-errCh:
		return -1, ct.c.lookupErr(err, "wait for container %s", ct)
	}
}

// HostPort returns the host address ("127.0.0.1:49153") that a container
// port ("80", "80/tcp", "53/udp") is published on.
func (ct *Container) HostPort(ctx context.Context, port string) (string, error) {
	p, err := normPort(port)
	if err != nil {
		return "", err
	}
	ins, err := ct.Inspect(ctx)
	if err != nil {
		return "", err
	}
	return ct.c.hostPortOf(ctx, ins, p, ct.String())
}

// hostPortOf is the address this client dials for port p of a container,
// from its inspection (see reachAddress).
func (c *Client) hostPortOf(ctx context.Context, ins container.InspectResponse, p nat.Port, name string) (string, error) {
	if ins.NetworkSettings != nil {
		for _, b := range ins.NetworkSettings.Ports[p] {
			if b.HostPort == "" {
				continue
			}
			if skipBinding(b.HostIP, c.route(ctx).bind) {
				continue
			}
			return c.reachAddress(ctx, b.HostIP, b.HostPort)
		}
	}
	return "", &classified{msg: fmt.Sprintf("container %s: port %s is not published (is the container running?)", name, p), class: ErrNotFound}
}

// skipBinding says whether hostPortOf passes over a binding to hostIP:
// an IPv6 one other than :: (the IPv4 binding of the same port is
// preferred), unless it is the address the route binds to (an engine
// reached over IPv6).
func skipBinding(hostIP, bind string) bool {
	if !strings.Contains(hostIP, ":") || hostIP == "::" {
		return false
	}
	a, b := net.ParseIP(hostIP), net.ParseIP(bind)
	return a == nil || b == nil || !a.Equal(b)
}

// IP returns the container's address on the named network (or its first
// network when name is empty).
func (ct *Container) IP(ctx context.Context, networkName string) (string, error) {
	ins, err := ct.Inspect(ctx)
	if err != nil {
		return "", err
	}
	if ins.NetworkSettings != nil {
		for n, ep := range ins.NetworkSettings.Networks {
			if (networkName == "" || n == networkName) && ep.IPAddress != "" {
				return ep.IPAddress, nil
			}
		}
	}
	return "", &classified{msg: fmt.Sprintf("container %s has no address on network %q", ct, networkName), class: ErrNotFound}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// isTerminal reports whether r is a terminal (for raw mode).
func isTerminal(r any) (*os.File, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return nil, false
	}
	st, err := f.Stat()
	if err != nil {
		return nil, false
	}
	return f, st.Mode()&os.ModeCharDevice != 0
}
