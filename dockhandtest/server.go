package dockhandtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// Spec describes a service container: what makes it (which decides which
// container is shared) and when it is ready. Define a Spec to run any
// image with the same sharing and cleanup as NewPostgres and NewRedis.
type Spec struct {
	// Name is a short name for the container's name ("postgres").
	Name string
	// Image is the image reference.
	Image string
	// Entrypoint replaces the image's entrypoint when not empty.
	Entrypoint []string
	// Cmd replaces the image's command when not empty.
	Cmd []string
	// User runs the container's process as user (name, uid, uid:gid)
	// instead of the image's user, when not empty.
	User string
	// Env is the environment, "KEY=value".
	Env []string
	// Ports are the container ports to publish on the host ("5432").
	Ports []string
	// Tmpfs maps container paths to tmpfs mounts, with mount options
	// ("rw,size=1g"), for data that needs no durability.
	Tmpfs map[string]string
	// Healthcheck replaces the image's HEALTHCHECK when not nil, as
	// docker run --health-* does: Test [NONE] turns it off; an empty Test
	// keeps the image's test and replaces only the timings that are not
	// zero. Start waits until the container reports healthy, whichever
	// healthcheck it has (the engine runs the first check one Interval
	// after the start, 30 s by default: keep Interval short).
	// StartInterval needs API 1.44 (Engine 25): older engines refuse it.
	// Nil: the image's.
	Healthcheck *container.HealthConfig
	// KeepAlive keeps the container between runs: it is never removed by
	// Main or Sweep (it belongs to a persistent session), and the next
	// run with the same Spec finds it already up. Remove it with
	// lifecycle: a Client WithSession("dockhandtest-keepalive") and
	// WithPersistentSession, then Cleanup.
	KeepAlive bool
	// Ready returns the condition the server is ready on. Nil: every
	// port in Ports is ready (lifecycle.Container.PortReady).
	Ready func(s *Server) waitfor.Condition
	// ReadyTimeout bounds the wait for Ready (default 2 minutes).
	ReadyTimeout time.Duration
}

// Server is a running shared service container.
type Server struct {
	spec Spec
	key  string
	c    *lifecycle.Client
	ct   *lifecycle.Container
	hold *lifecycle.Hold
	kept bool // made by the keep-alive (persistent) client
}

// Container returns the container's handle.
func (s *Server) Container() *lifecycle.Container { return s.ct }

// Key returns the hash of the Spec that names the shared container.
func (s *Server) Key() string { return s.key }

// HostPort returns the host address ("127.0.0.1:49153") a container port
// is published on.
func (s *Server) HostPort(ctx context.Context, port string) (string, error) {
	return s.ct.HostPort(ctx, port)
}

// servers are this process's shared services, by key.
var servers struct {
	mu    sync.Mutex
	byKey map[string]*starting
}

type starting struct {
	done chan struct{}
	srv  *Server
	err  error
}

// Start returns the shared server of spec, starting it if no process has
// yet: every test, and every test process, asking for an equal spec gets
// the same container. No engine: t is skipped (failed under CI=true). If
// t fails, the container's last log lines go to t.Log when it ends.
func Start(t testing.TB, spec Spec) *Server {
	t.Helper()
	c := client(t)
	srv, err := start(t.Context(), c, spec)
	if err != nil {
		t.Fatalf("dockhandtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logTail(t, srv)
		}
	})
	return srv
}

// logTail writes the last lines of the server's log to t.
func logTail(t testing.TB, srv *Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines, err := srv.ct.LastLogLines(ctx, 30)
	if err != nil {
		t.Logf("dockhandtest: last log lines of %s: %v", srv.ct, err)
	}
	if len(lines) > 0 {
		t.Logf("dockhandtest: last %d log lines of %s:\n%s", len(lines), srv.ct, strings.Join(lines, "\n"))
	}
}

// start returns the process's server for spec, starting it once.
func start(ctx context.Context, c *lifecycle.Client, spec Spec) (*Server, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	key, err := specKey(ctx, c, spec)
	stage("key (image inspect)", t0)
	if err != nil {
		return nil, err
	}
	servers.mu.Lock()
	if servers.byKey == nil {
		servers.byKey = map[string]*starting{}
	}
	st, ok := servers.byKey[key]
	if !ok {
		st = &starting{done: make(chan struct{})}
		servers.byKey[key] = st
	}
	servers.mu.Unlock()
	if !ok {
		st.srv, st.err = acquire(ctx, c, spec, key)
		if st.err != nil {
			servers.mu.Lock()
			delete(servers.byKey, key) // a later test may try again
			servers.mu.Unlock()
		}
		close(st.done)
	}
	<-st.done
	return st.srv, st.err
}

func (s Spec) check() error {
	if s.Image == "" {
		return fmt.Errorf("%w: spec %q: empty Image: want an image reference", lifecycle.ErrInvalid, s.Name)
	}
	if s.Name != "" && !validName(s.Name) {
		return fmt.Errorf("%w: spec name %q: want [a-z0-9][a-z0-9_.-]*", lifecycle.ErrInvalid, s.Name)
	}
	for _, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("%w: spec %q: env entry %d has no KEY=: want KEY=value", lifecycle.ErrInvalid, s.Name, slices.Index(s.Env, e))
		}
	}
	if len(s.Entrypoint) > 0 && s.Entrypoint[0] == "" {
		return fmt.Errorf("%w: spec %q: Entrypoint with an empty program name: want a program, or no Entrypoint for the image's", lifecycle.ErrInvalid, s.Name)
	}
	if s.ReadyTimeout < 0 {
		return fmt.Errorf("%w: spec %q: negative ReadyTimeout %s", lifecycle.ErrInvalid, s.Name, s.ReadyTimeout)
	}
	if field, why := checkHealthcheck(s.Healthcheck); field != "" {
		return fmt.Errorf("%w: spec %q: Healthcheck.%s: %s", lifecycle.ErrInvalid, s.Name, field, why)
	}
	return nil
}

// checkHealthcheck returns the field of hc the engine would refuse, at
// create or only when the first check runs, and why; "" when none.
func checkHealthcheck(hc *container.HealthConfig) (field, why string) {
	if hc == nil {
		return "", ""
	}
	if len(hc.Test) > 0 {
		switch hc.Test[0] {
		case "NONE":
		case "CMD":
			if len(hc.Test) < 2 || hc.Test[1] == "" {
				return "Test", fmt.Sprintf("%q has no program: want [CMD, program, args...]", hc.Test)
			}
		case "CMD-SHELL":
			if len(hc.Test) < 2 || strings.TrimSpace(hc.Test[1]) == "" {
				return "Test", fmt.Sprintf("%q: want [CMD-SHELL, command line]", hc.Test)
			}
		default:
			return "Test", fmt.Sprintf("%q: want CMD, CMD-SHELL or NONE first, or no Test for the image's", hc.Test)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", hc.Interval}, {"Timeout", hc.Timeout}, {"StartPeriod", hc.StartPeriod}, {"StartInterval", hc.StartInterval}} {
		if d.v != 0 && d.v < time.Millisecond {
			return d.name, fmt.Sprintf("%s: want 0 (the image's) or at least 1ms", d.v)
		}
	}
	if hc.Retries < 0 {
		return "Retries", fmt.Sprintf("%d: want 0 (the image's) or more", hc.Retries)
	}
	return "", ""
}

func validName(n string) bool {
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return false
		}
	}
	return n != ""
}

// specKey is "dockhandtest-<name>-<hash>": the hash of the image's id and
// of everything else that makes the container. It is the container's
// name and the key its holders hold.
func specKey(ctx context.Context, c *lifecycle.Client, spec Spec) (string, error) {
	// One image lookup per spec and process: every further test pays
	// nothing for it.
	id, _ := json.Marshal(struct {
		Image, Name, User           string
		Entrypoint, Cmd, Env, Ports []string
		Tmpfs                       map[string]string
		Healthcheck                 *container.HealthConfig
		KeepAlive                   bool
		Tag                         string
	}{spec.Image, spec.Name, spec.User, spec.Entrypoint, spec.Cmd, spec.Env, spec.Ports, spec.Tmpfs, spec.Healthcheck, spec.KeepAlive, keepAliveTag(spec)})
	keys.mu.Lock()
	defer keys.mu.Unlock()
	if k, ok := keys.bySpec[string(id)]; ok {
		return k, nil
	}
	k, err := makeKey(ctx, c, spec)
	if err != nil {
		return "", err
	}
	if keys.bySpec == nil {
		keys.bySpec = map[string]string{}
	}
	keys.bySpec[string(id)] = k
	return k, nil
}

var keys struct {
	mu     sync.Mutex
	bySpec map[string]string
}

func makeKey(ctx context.Context, c *lifecycle.Client, spec Spec) (string, error) {
	img, err := imageOf(ctx, c, spec.Image)
	if err != nil {
		return "", err
	}
	return keyOf(img.ID, spec), nil
}

// keyOf is the key of spec on the image with id imageID.
func keyOf(imageID string, spec Spec) string {
	// Entrypoint, User and Healthcheck are left out when empty: the key
	// of a spec without them is the one earlier versions gave it.
	b, _ := json.Marshal(struct {
		V               int
		ImageID         string
		Entrypoint      []string `json:",omitempty"`
		User            string   `json:",omitempty"`
		Cmd, Env, Ports []string
		Tmpfs           map[string]string
		Healthcheck     *container.HealthConfig `json:",omitempty"`
		KeepAlive       bool
		Tag             string `json:",omitempty"`
	}{1, imageID, spec.Entrypoint, spec.User, spec.Cmd, spec.Env, spec.Ports, spec.Tmpfs, spec.Healthcheck, spec.KeepAlive, keepAliveTag(spec)})
	sum := sha256.Sum256(b)
	name := spec.Name
	if name == "" {
		name = "service"
	}
	return "dockhandtest-" + name + "-" + hex.EncodeToString(sum[:6])
}

// keepAliveTag is the tests' tag of a KeepAlive spec (testhook).
func keepAliveTag(spec Spec) string {
	if spec.KeepAlive {
		return testhook.KeepAliveTag
	}
	return ""
}

// acquire holds key, then finds or makes the container named key and
// waits until it is ready.
func acquire(ctx context.Context, c *lifecycle.Client, spec Spec, key string) (*Server, error) {
	if spec.KeepAlive {
		// Persistent: neither Main nor Sweep removes it, so there is no
		// last holder to count.
		return find(ctx, c, spec, key)
	}
	// Hold first: a last holder that releases after this cannot miss us.
	t0 := time.Now()
	hold, err := c.Hold(ctx, key)
	stage("hold (volume create)", t0)
	if err != nil {
		return nil, err
	}
	// Should this process end without releasing it (no Main), its
	// watchdog does.
	watchHold(key, hold.Name())
	srv, err := find(ctx, c, spec, key)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		last, rerr := hold.Release(rctx)
		if rerr == nil && last {
			// No one else holds the key: a container left under it (one
			// we made that never became ready) would stay with no holder.
			if ct, cerr := c.Container(rctx, key); cerr == nil {
				_, _ = c.RemoveShared(rctx, key, ct.ID()) // checks LabelShared=key
			}
		}
		if rerr == nil {
			watchRelease(hold.Name())
		}
		return nil, err
	}
	srv.hold = hold
	watchServer(hold.Name(), srv.ct.ID())
	return srv, nil
}

func find(ctx context.Context, c *lifecycle.Client, spec Spec, key string) (*Server, error) {
	timeout := spec.ReadyTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	var lastErr error
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		t0 := time.Now()
		ct, err := c.Container(ctx, key)
		stage("container lookup", t0)
		made := false
		switch {
		case errors.Is(err, lifecycle.ErrNotFound):
			t0 = time.Now()
			ct, err = run(ctx, c, spec, key)
			stage("run (create+start)", t0)
			made = err == nil
			if errors.Is(err, lifecycle.ErrConflict) {
				lastErr = err
				continue // another process made it first: use theirs
			}
			if err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			ok, err := usable(ctx, c, ct, spec, key)
			if err != nil {
				return nil, err
			}
			if !ok {
				lastErr = fmt.Errorf("container %s is not usable yet", key)
				continue
			}
		}
		srv := &Server{spec: spec, key: key, c: c, ct: ct, kept: spec.KeepAlive}
		ready := spec.Ready
		if ready == nil {
			ready = portsReady
		}
		w := waitfor.Waiter{Timeout: timeout, MaxInterval: 50 * time.Millisecond}
		// ct.Ready fails at once, with the last log lines, when the
		// container exits: a bad image, command or environment is not
		// waited for until the timeout.
		t0 = time.Now()
		err = w.Wait(ctx, waitfor.All(ct.Ready(), ready(srv)))
		stage("ready", t0)
		if err != nil {
			var exit *lifecycle.ExitError
			if made || ctx.Err() != nil || errors.As(err, &exit) && exit.Status != "removed" && exit.ExitCode != 137 {
				// Ours and it failed (never retried), or it exited by
				// itself: the same spec fails the same way again.
				return nil, notReady(ctx, ct, key, err)
			}
			st, serr := ct.State(ctx)
			if serr != nil || !st.Running {
				lastErr = err // removed (or stopped) under us: look again
				continue
			}
			return nil, notReady(ctx, ct, key, err)
		}
		if !spec.KeepAlive {
			// A last holder that released meanwhile renames the container
			// before it counts the holders (lifecycle.RemoveShared): one
			// that lost its name is going, or left to its old holders.
			now, err := c.Container(ctx, ct.ID())
			if err != nil || now.Name() != key {
				lastErr = fmt.Errorf("container %s lost its name %s while we waited", ct.ID(), key)
				continue
			}
		}
		return srv, nil
	}
	return nil, fmt.Errorf("%s: gave up finding or making the shared container: %w", key, lastErr)
}

// notReady is the error of a container that did not become ready, with
// its last log lines (whether it still runs or not).
func notReady(ctx context.Context, ct *lifecycle.Container, key string, err error) error {
	var exit *lifecycle.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("%s not ready: %w", key, err) // carries the log lines
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	lines, _ := ct.LastLogLines(lctx, 20)
	return fmt.Errorf("%s not ready: %w\nlast log lines:\n%s", key, err, strings.Join(lines, "\n"))
}

// usable decides about a container that already has the name: true when
// it is running and may be used; false (after removing it, when it is
// ours and dead or left over) to look again.
func usable(ctx context.Context, c *lifecycle.Client, ct *lifecycle.Container, spec Spec, key string) (bool, error) {
	ins, err := ct.Inspect(ctx)
	if errors.Is(err, lifecycle.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	shared, err := c.IsShared(ctx, key, ct.ID())
	if err != nil {
		return false, err
	}
	if ins.Config == nil || !shared {
		return false, fmt.Errorf("%w: container name %s is taken by a container that is not a dockhandtest service (no %s=%s label, or Dockhand labels only inherited from its image): remove or rename it", lifecycle.ErrConflict, key, lifecycle.LabelShared, key)
	}
	st, err := ct.State(ctx)
	if err != nil {
		return false, nil
	}
	if spec.KeepAlive {
		switch st.Status {
		case "running":
			return true, nil
		case "created", "restarting", "removing":
			return false, nil // being made or removed by another process
		}
	} else {
		live, err := c.Holders(ctx, key)
		if err != nil {
			return false, err
		}
		switch {
		case len(live) > 1 && st.Status == "running":
			return true, nil // another live process holds it
		case len(live) > 1 && (st.Status == "created" || st.Status == "restarting" || st.Status == "removing"):
			return false, nil // being made or removed by another process
		}
		// Only we hold it: a leftover of a run that died without
		// releasing it (its data may be anything, it may never have
		// started). Start afresh, unless the process that made it still
		// lives: its holds may have been pruned (docker volume prune),
		// never its server.
		if st.Status == "running" {
			gone, err := c.OwnerGone(ctx, ct.ID())
			if err != nil {
				return false, err
			}
			if !gone {
				return true, nil
			}
		}
	}
	// exited, dead, paused or left over: ours (labelled with our key),
	// and no use to anyone.
	if err := ct.Remove(ctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes()); err != nil && !errors.Is(err, lifecycle.ErrNotFound) && !errors.Is(err, lifecycle.ErrConflict) {
		return false, err
	}
	return false, nil
}

// keepClient is the persistent client that makes KeepAlive containers.
var keepClient struct {
	once sync.Once
	c    *lifecycle.Client
	err  error
}

func run(ctx context.Context, c *lifecycle.Client, spec Spec, key string) (*lifecycle.Container, error) {
	if spec.KeepAlive {
		keepClient.once.Do(func() {
			keepClient.c, keepClient.err = lifecycle.New(ctx, lifecycle.WithSession("dockhandtest-keepalive"), lifecycle.WithPersistentSession())
		})
		if keepClient.err != nil {
			return nil, keepClient.err
		}
		c = keepClient.c
	}
	opts := []lifecycle.RunOption{
		lifecycle.WithName(key),
		lifecycle.WithLabels(map[string]string{lifecycle.LabelShared: key}),
	}
	if len(spec.Entrypoint) > 0 {
		opts = append(opts, lifecycle.WithEntrypoint(spec.Entrypoint...))
	}
	if len(spec.Cmd) > 0 {
		opts = append(opts, lifecycle.WithCmd(spec.Cmd...))
	}
	if spec.User != "" {
		opts = append(opts, lifecycle.WithUser(spec.User))
	}
	if len(spec.Env) > 0 {
		opts = append(opts, lifecycle.WithEnv(spec.Env...))
	}
	if len(spec.Ports) > 0 {
		opts = append(opts, lifecycle.WithPorts(spec.Ports...))
	}
	if len(spec.Tmpfs) > 0 {
		tmpfs := maps.Clone(spec.Tmpfs)
		opts = append(opts, lifecycle.WithContainerConfig(func(_ *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig) {
			if hc.Tmpfs == nil {
				hc.Tmpfs = map[string]string{}
			}
			maps.Copy(hc.Tmpfs, tmpfs)
		}))
	}
	if spec.Healthcheck != nil {
		health := *spec.Healthcheck
		health.Test = slices.Clone(health.Test)
		opts = append(opts, lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
			cfg.Healthcheck = &health
		}))
	}
	return c.Run(ctx, spec.Image, opts...)
}

func portsReady(s *Server) waitfor.Condition {
	var conds []waitfor.Condition
	for _, p := range s.spec.Ports {
		conds = append(conds, s.ct.PortReady(p))
	}
	return waitfor.All(conds...)
}

// Main runs the tests (m.Run), then releases the shared services this
// process holds: the last holder of a service removes its container
// (unless KeepAlive). It exits with the tests' code. Call it from
// TestMain. Without it, the process's watchdog releases them when the
// process ends (see the package documentation).
func Main(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Release(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dockhandtest:", err)
	}
	cancel()
	os.Exit(code)
}

// Release releases every service this process holds; the last holder of
// a service removes its container (unless KeepAlive). Main calls it; call
// it yourself from a TestMain that cannot use Main. Tests of this process
// that ask for a service afterwards start or find it again.
func Release(ctx context.Context) error {
	servers.mu.Lock()
	list := servers.byKey
	servers.byKey = nil
	servers.mu.Unlock()
	// Forget the connections and image lookups too: the next test starts
	// as a new process would.
	pgServers.mu.Lock()
	for _, pg := range pgServers.byKey {
		pg.released.Store(true)
		pg.admin.Close()
	}
	pgServers.byKey = nil
	pgServers.mu.Unlock()
	releaseMariaDB()
	keys.mu.Lock()
	keys.bySpec = nil
	keys.mu.Unlock()
	initialised.mu.Lock() // the image may be removed between uses (docker rmi)
	initialised.byID = nil
	initialised.mu.Unlock()
	images.mu.Lock()
	images.byRef = nil
	images.mu.Unlock()
	var errs []error
	for _, st := range list {
		<-st.done
		if st.srv == nil {
			continue
		}
		if err := st.srv.release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) release(ctx context.Context) error {
	if s.hold == nil {
		return nil // KeepAlive
	}
	last, err := s.hold.Release(ctx)
	if err == nil && last && !s.kept {
		// Rename, count again, remove: a holder that came after our count
		// keeps it (lifecycle.RemoveShared).
		_, err = s.c.RemoveShared(ctx, s.key, s.ct.ID())
		if errors.Is(err, lifecycle.ErrConflict) {
			err = nil // being removed
		}
	}
	if err == nil {
		watchRelease(s.hold.Name()) // nothing left for the watchdog to do
	}
	return err
}
