package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
)

// Container is a handle on one container, as *exec.Cmd is on a process.
// Its methods are safe for concurrent use.
type Container struct {
	ID    string
	Name  string
	Image string
	c     *Client
}

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
	ID      string
	Name    string
	Image   string
	Command string
	State   string // running, exited, ...
	Status  string // "Up 3 seconds", "Exited (0) 2 minutes ago"
	Labels  map[string]string
	Ports   []string // "127.0.0.1:8080->80/tcp"
	Created time.Time
}

// Run creates and starts a container from image (docker run), pulling the
// image first if it is missing (see WithPull). By default it runs detached
// and returns once the container has started. With WithStdin, WithStdout
// or WithStderr it attaches first and returns when the container exits,
// as docker run in the foreground. If anything fails after the container
// was created, the container is removed: a failed Run leaves nothing behind.
func (c *Client) Run(ctx context.Context, image string, opts ...RunOption) (*Container, error) {
	s, err := applyOpts("Run", opts, RunOption.applyRun)
	if err != nil {
		return nil, err
	}
	named, err := parseRef(image)
	if err != nil {
		return nil, err
	}
	cfg, hc, nc, extraNets, err := c.containerConfig(image, s)
	if err != nil {
		return nil, err
	}
	if err := c.ensureImage(ctx, image, named, s); err != nil {
		return nil, err
	}
	if err := c.ensureVolumes(ctx, hc.Mounts); err != nil {
		return nil, err
	}
	resp, err := c.api.ContainerCreate(ctx, cfg, hc, nc, nil, s.name)
	if err != nil {
		return nil, c.opErr(err, "run %s: create container", image)
	}
	ctr := &Container{ID: resp.ID, Name: s.name, Image: image, c: c}
	ok := false
	defer func() {
		if !ok {
			// Undo on a context of its own: ctx may be what failed.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = c.api.ContainerRemove(cctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}()
	if ctr.Name == "" {
		if ins, err := c.api.ContainerInspect(ctx, resp.ID); err == nil {
			ctr.Name = strings.TrimPrefix(ins.Name, "/")
		}
	}
	for _, n := range extraNets {
		if err := c.api.NetworkConnect(ctx, n.name, resp.ID, &network.EndpointSettings{Aliases: n.aliases}); err != nil {
			return nil, c.opErr(err, "run %s: connect network %s", image, n.name)
		}
	}
	foreground := s.io.stdin != nil || s.io.stdout != nil || s.io.stderr != nil
	if !foreground {
		if err := c.api.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			return nil, c.opErr(err, "run %s: start container", image)
		}
		ok = true
		c.logger.Debug("container started", "id", short(resp.ID), "name", ctr.Name, "image", image)
		return ctr, nil
	}
	if err := ctr.attachAndStart(ctx, &s.io); err != nil {
		if errors.Is(err, errStarted) {
			ok = true // the container ran; only the streams failed
			return ctr, err
		}
		return nil, err
	}
	ok = true
	return ctr, nil
}

var errStarted = errors.New("container started")

// containerConfig turns settings into the engine's create request.
func (c *Client) containerConfig(image string, s *runSettings) (*container.Config, *container.HostConfig, *network.NetworkingConfig, []netAttach, error) {
	hostIP := "127.0.0.1"
	if s.allInterfaces {
		hostIP = ""
	}
	exposed, bindings, err := portSet(s.ports, hostIP)
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
		Labels: c.sessionLabels(s.labels), ExposedPorts: exposed, Tty: s.io.tty,
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
	var nc *network.NetworkingConfig
	var extra []netAttach
	if len(s.networks) > 0 {
		first := s.networks[0]
		hc.NetworkMode = container.NetworkMode(first.name)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			first.name: {Aliases: first.aliases},
		}}
		// API 1.41 takes one network at create; the rest connect before start.
		extra = s.networks[1:]
	}
	for _, h := range s.hooks {
		if nc == nil {
			nc = &network.NetworkingConfig{}
		}
		h(cfg, hc, nc)
	}
	return cfg, hc, nc, extra, nil
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
		return &classified{msg: fmt.Sprintf("run %s: image not present and pull policy is never", image), class: ErrNotFound, cause: err}
	}
	return c.pull(ctx, named, &s.image)
}

// ensureVolumes creates missing named volumes with our labels, so the
// engine does not create them unlabelled behind our back.
func (c *Client) ensureVolumes(ctx context.Context, mounts []mount.Mount) error {
	for _, m := range mounts {
		if m.Type != mount.TypeVolume || m.Source == "" {
			continue
		}
		if _, err := c.api.VolumeInspect(ctx, m.Source); err == nil {
			continue
		} else if !cerrdefs.IsNotFound(err) {
			return c.opErr(err, "inspect volume %s", m.Source)
		}
		if _, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: m.Source, Labels: c.sessionLabels(nil)}); err != nil {
			return c.opErr(err, "create volume %s", m.Source)
		}
	}
	return nil
}

// Container returns a handle on an existing container, by name or id.
func (c *Client) Container(ctx context.Context, nameOrID string) (*Container, error) {
	if nameOrID == "" {
		return nil, invalidf("invalid container %q: want a container name or id", nameOrID)
	}
	ins, err := c.api.ContainerInspect(ctx, nameOrID)
	if err != nil {
		return nil, c.opErr(err, "container %s", nameOrID)
	}
	return &Container{ID: ins.ID, Name: strings.TrimPrefix(ins.Name, "/"), Image: ins.Config.Image, c: c}, nil
}

// List lists containers as docker ps does: running ones, or all with
// WithAll, narrowed by WithFilter("label", "k=v"), ("name", n), ("status", s), ...
func (c *Client) List(ctx context.Context, opts ...ListOption) ([]Summary, error) {
	s, err := applyOpts("List", opts, ListOption.applyList)
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
			Labels: l.Labels, Created: time.Unix(l.Created, 0)}
		if len(l.Names) > 0 {
			sm.Name = strings.TrimPrefix(l.Names[0], "/")
		}
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

// String returns the container's name, or its short id.
func (ct *Container) String() string {
	if ct.Name != "" {
		return ct.Name
	}
	return short(ct.ID)
}

// Inspect returns the engine's full view of the container.
func (ct *Container) Inspect(ctx context.Context) (container.InspectResponse, error) {
	ins, err := ct.c.api.ContainerInspect(ctx, ct.ID)
	if err != nil {
		return ins, ct.c.opErr(err, "inspect container %s", ct)
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
	if err := ct.c.api.ContainerStart(ctx, ct.ID, container.StartOptions{}); err != nil {
		return ct.c.opErr(err, "start container %s", ct)
	}
	return nil
}

// Stop stops the container: the stop signal, then SIGKILL after the grace
// period (WithTimeout; the container's own default is 10 s).
func (ct *Container) Stop(ctx context.Context, opts ...StopOption) error {
	s, err := applyOpts("Stop", opts, StopOption.applyStop)
	if err != nil {
		return err
	}
	so := container.StopOptions{Signal: s.signal}
	if s.timeout != nil {
		secs := int((*s.timeout + time.Second - 1) / time.Second)
		so.Timeout = &secs
	}
	if err := ct.c.api.ContainerStop(ctx, ct.ID, so); err != nil {
		return ct.c.opErr(err, "stop container %s", ct)
	}
	return nil
}

// Kill sends a signal ("SIGKILL" if empty) to the container's main process.
func (ct *Container) Kill(ctx context.Context, signal string) error {
	if err := ct.c.api.ContainerKill(ctx, ct.ID, firstNonEmpty(signal, "SIGKILL")); err != nil {
		return ct.c.opErr(err, "kill container %s", ct)
	}
	return nil
}

// Remove removes the container (docker rm); WithForce kills it first if it
// is running, WithRemoveVolumes removes its anonymous volumes too.
func (ct *Container) Remove(ctx context.Context, opts ...RemoveOption) error {
	s, err := applyOpts("Remove", opts, RemoveOption.applyRemove)
	if err != nil {
		return err
	}
	if err := ct.c.api.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: s.force, RemoveVolumes: s.rmVolumes}); err != nil {
		return ct.c.opErr(err, "remove container %s", ct)
	}
	return nil
}

// Wait waits until the container is not running and returns its exit code.
func (ct *Container) Wait(ctx context.Context) (int, error) {
	ch, errCh := ct.c.api.ContainerWait(ctx, ct.ID, container.WaitConditionNotRunning)
	select {
	case r := <-ch:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), fmt.Errorf("wait for container %s: %s", ct, r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-errCh:
		return -1, ct.c.opErr(err, "wait for container %s", ct)
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
	return hostPortOf(ins, p, ct.String())
}

func hostPortOf(ins container.InspectResponse, p nat.Port, name string) (string, error) {
	if ins.NetworkSettings != nil {
		for _, b := range ins.NetworkSettings.Ports[p] {
			if b.HostPort == "" {
				continue
			}
			ip := b.HostIP
			if ip == "" || ip == "0.0.0.0" {
				ip = "127.0.0.1"
			} else if ip == "::" {
				ip = "::1"
			}
			if strings.Contains(ip, ":") && b.HostIP != "::" {
				continue // prefer the IPv4 binding; IPv6 ones are listed separately
			}
			return net.JoinHostPort(ip, b.HostPort), nil
		}
	}
	return "", &classified{msg: fmt.Sprintf("container %s: port %s is not published (is the container running?)", name, p), class: ErrNotFound}
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
