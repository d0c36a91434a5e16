package lifecycle

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/dockhand/dockhand/internal/redact"
)

// Options are typed by verb: Run takes RunOption values, Exec ExecOption
// values, and so on, so an option that means nothing to a verb does not
// compile. An option that serves several verbs has a type that satisfies
// each of their option types: WithEnv returns a ProcessOption, which is
// both a RunOption and an ExecOption. The option types have unexported
// methods: build them with the With... functions only.

// RunOption configures Client.Run.
type RunOption interface{ applyRun(*runSettings) error }

// ExecOption configures Container.Exec.
type ExecOption interface{ applyExec(*execSettings) error }

// PullOption configures Client.Pull.
type PullOption interface{ applyPull(*imageSettings) error }

// PushOption configures Client.Push.
type PushOption interface{ applyPush(*imageSettings) error }

// BuildOption configures Client.Build.
type BuildOption interface{ applyBuild(*buildSettings) error }

// LogsOption configures Container.Logs.
type LogsOption interface{ applyLogs(*logsSettings) error }

// StopOption configures Container.Stop.
type StopOption interface{ applyStop(*stopSettings) error }

// KillOption configures Container.Kill.
type KillOption interface{ applyKill(*killSettings) error }

// RemoveOption configures Container.Remove.
type RemoveOption interface{ applyRemove(*removeSettings) error }

// RemoveImageOption configures Client.RemoveImage.
type RemoveImageOption interface {
	applyRemoveImage(*removeImageSettings) error
}

// RemoveVolumeOption configures Client.RemoveVolume.
type RemoveVolumeOption interface {
	applyRemoveVolume(*removeVolumeSettings) error
}

// ListOption configures the container listing (docker ps).
type ListOption interface{ applyList(*listSettings) error }

// VolumeOption configures Client.CreateVolume.
type VolumeOption interface{ applyVolume(*createSettings) error }

// NetworkOption configures Client.CreateNetwork.
type NetworkOption interface{ applyNetwork(*createSettings) error }

// ReadFileOption configures Container.ReadFile.
type ReadFileOption interface{ applyReadFile(*readFileSettings) error }

// CopyFromOption configures Container.CopyFrom.
type CopyFromOption interface{ applyCopyFrom(*copyFromSettings) error }

// HealthyOption configures the Container.Healthy condition.
type HealthyOption interface{ applyHealthy(*condSettings) error }

// ReadyOption configures the Container.Ready condition.
type ReadyOption interface{ applyReady(*condSettings) error }

// UnhealthyOption is WithFailUnhealthy: it serves Healthy and Ready.
type UnhealthyOption interface {
	HealthyOption
	ReadyOption
}

// ProcessOption configures the process of a container (Run) or of a
// command in it (Exec): WithEnv, WithUser, WithWorkdir, WithTTY,
// WithStdin, WithStdout.
type ProcessOption interface {
	RunOption
	ExecOption
}

// StderrOption is WithStderr: it serves Run, Exec and Logs.
type StderrOption interface {
	RunOption
	ExecOption
	LogsOption
}

// LabelOption is WithLabels: it serves Run, Build, CreateVolume and CreateNetwork.
type LabelOption interface {
	RunOption
	BuildOption
	VolumeOption
	NetworkOption
}

// PlatformOption is WithPlatform: it serves Run, Pull and Build.
type PlatformOption interface {
	RunOption
	PullOption
	BuildOption
}

// ProgressOption reports image transfers (WithProgress,
// WithProgressFunc): it serves Run (when it pulls), Pull, Push and Build.
type ProgressOption interface {
	RunOption
	PullOption
	PushOption
	BuildOption
}

// AuthOption is WithAuth: it serves Run (when it pulls), Pull and Push.
type AuthOption interface {
	RunOption
	PullOption
	PushOption
}

// ForceOption is WithForce: it serves Remove, RemoveImage and RemoveVolume.
type ForceOption interface {
	RemoveOption
	RemoveImageOption
	RemoveVolumeOption
}

// SignalOption is WithSignal: it serves Stop and Kill.
type SignalOption interface {
	StopOption
	KillOption
}

// FilterOption is WithFilter: it narrows the listing of containers,
// volumes (Volumes) and networks (Networks).
type FilterOption interface {
	ListOption
	applyFilter(*filterSettings) error
}

// DriverOption serves CreateVolume and CreateNetwork (WithDriver, WithDriverOpts).
type DriverOption interface {
	VolumeOption
	NetworkOption
}

// MaxSizeOption is WithMaxSize: it serves ReadFile and Exec.
type MaxSizeOption interface {
	ReadFileOption
	ExecOption
}

// Each verb's own settings; shared parts are structs of their own.

type procSettings struct {
	env           []string
	user, workdir string
}

type ioSettings struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	tty            bool
}

// imageSettings serves Pull, Push, and the image side of Run and Build.
type imageSettings struct {
	platform     string
	progress     io.Writer
	progressFunc func(Progress)
	auth         *Credentials
}

type runSettings struct {
	proc                  procSettings
	io                    ioSettings
	image                 imageSettings
	name, hostname        string
	cmd, entrypoint       []string
	cmdSet, entrypointSet bool
	labels                map[string]string
	init, autoRemove      bool
	allInterfaces         bool
	restart               string
	ports                 []string
	volumes               []string
	networks              []netAttach
	hooks                 []func(*container.Config, *container.HostConfig, *network.NetworkingConfig)
	pull                  PullPolicy
}

type execSettings struct {
	proc    procSettings
	io      ioSettings
	maxSize int64 // 0: DefaultMaxSize
}

type buildSettings struct {
	image      imageSettings
	labels     map[string]string
	dockerfile string
	tags       []string
	buildArgs  map[string]*string
	target     string
	noCache    bool
}

type logsSettings struct {
	stderr     io.Writer
	follow     bool
	since      string
	tail       string
	timestamps bool
}

type stopSettings struct {
	grace  *time.Duration
	signal string
}

type killSettings struct{ signal string }

type removeSettings struct{ force, rmVolumes bool }

type removeImageSettings struct{ force bool }

type removeVolumeSettings struct{ force bool }

type filterSettings struct{ filters [][2]string }

type listSettings struct {
	filterSettings
	all bool
}

type createSettings struct {
	labels     map[string]string
	driver     string
	driverOpts map[string]string
	internal   bool
	netHooks   []func(*network.CreateOptions)
}

// condSettings serves the conditions Healthy and Ready.
type condSettings struct {
	failUnhealthy bool // WithFailUnhealthy
	exitZero      bool // WithExitZero
}

type readFileSettings struct{ maxSize int64 }

type copyFromSettings struct{ keepSpecial bool }

// netAttach is a network to connect: by WithNetwork (name and aliases) or
// the endpoint a WithContainerConfig function put in the networking config.
type netAttach struct {
	name    string
	aliases []string
	ep      *network.EndpointSettings
}

func (n netAttach) endpoint() *network.EndpointSettings {
	if n.ep != nil {
		return n.ep
	}
	return &network.EndpointSettings{Aliases: n.aliases}
}

// option is the one concrete type behind every option type: a name (all
// that String shows) and one setter per verb it serves. The With...
// functions return it as the interface of exactly the verbs it serves.
type option struct {
	name         string
	run          func(*runSettings) error
	exec         func(*execSettings) error
	pull         func(*imageSettings) error
	push         func(*imageSettings) error
	build        func(*buildSettings) error
	logs         func(*logsSettings) error
	stop         func(*stopSettings) error
	kill         func(*killSettings) error
	remove       func(*removeSettings) error
	removeImage  func(*removeImageSettings) error
	removeVolume func(*removeVolumeSettings) error
	filter       func(*filterSettings) error
	list         func(*listSettings) error
	volume       func(*createSettings) error
	network      func(*createSettings) error
	readFile     func(*readFileSettings) error
	copyFrom     func(*copyFromSettings) error
	healthy      func(*condSettings) error
	ready        func(*condSettings) error
}

// set calls f, or fails if the option does not serve verb: reachable only
// by converting an option to another option type by assertion.
func set[S any](o *option, verb string, f func(*S) error, s *S) error {
	if f == nil {
		return invalidf("%s: option %s does not apply", verb, o.name)
	}
	return f(s)
}

func (o *option) applyRun(s *runSettings) error   { return set(o, "Run", o.run, s) }
func (o *option) applyExec(s *execSettings) error { return set(o, "Exec", o.exec, s) }
func (o *option) applyPull(s *imageSettings) error {
	return set(o, "Pull", o.pull, s)
}
func (o *option) applyPush(s *imageSettings) error {
	return set(o, "Push", o.push, s)
}
func (o *option) applyBuild(s *buildSettings) error { return set(o, "Build", o.build, s) }
func (o *option) applyLogs(s *logsSettings) error   { return set(o, "Logs", o.logs, s) }
func (o *option) applyStop(s *stopSettings) error   { return set(o, "Stop", o.stop, s) }
func (o *option) applyKill(s *killSettings) error   { return set(o, "Kill", o.kill, s) }
func (o *option) applyRemove(s *removeSettings) error {
	return set(o, "Remove", o.remove, s)
}
func (o *option) applyRemoveImage(s *removeImageSettings) error {
	return set(o, "RemoveImage", o.removeImage, s)
}
func (o *option) applyRemoveVolume(s *removeVolumeSettings) error {
	return set(o, "RemoveVolume", o.removeVolume, s)
}
func (o *option) applyFilter(s *filterSettings) error { return set(o, "Volumes/Networks", o.filter, s) }
func (o *option) applyList(s *listSettings) error     { return set(o, "Containers", o.list, s) }
func (o *option) applyVolume(s *createSettings) error {
	return set(o, "CreateVolume", o.volume, s)
}
func (o *option) applyNetwork(s *createSettings) error {
	return set(o, "CreateNetwork", o.network, s)
}
func (o *option) applyReadFile(s *readFileSettings) error {
	return set(o, "ReadFile", o.readFile, s)
}
func (o *option) applyCopyFrom(s *copyFromSettings) error {
	return set(o, "CopyFrom", o.copyFrom, s)
}

func (o *option) applyHealthy(s *condSettings) error {
	return set(o, "Healthy", o.healthy, s)
}
func (o *option) applyReady(s *condSettings) error { return set(o, "Ready", o.ready, s) }

// applyOpts builds a verb's settings from its options; a nil option is
// an ErrInvalid error.
func applyOpts[O any, S any](verb string, opts []O, apply func(O, *S) error) (*S, error) {
	s := new(S)
	for i, o := range opts {
		if any(o) == nil {
			return nil, invalidf("%s: option #%d is nil: build options with the With... functions", verb, i+1)
		}
		if p, ok := any(o).(*option); ok && p == nil {
			return nil, invalidf("%s: option #%d is nil: build options with the With... functions", verb, i+1)
		}
		if err := apply(o, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// processOpt is an option of the process (Run and Exec).
func processOpt(name string, f func(*procSettings) error) ProcessOption {
	return &option{name: name,
		run:  func(s *runSettings) error { return f(&s.proc) },
		exec: func(s *execSettings) error { return f(&s.proc) }}
}

// ioOpt is an option of the process's streams (Run and Exec).
func ioOpt(name string, f func(*ioSettings) error) *option {
	return &option{name: name,
		run:  func(s *runSettings) error { return f(&s.io) },
		exec: func(s *execSettings) error { return f(&s.io) }}
}

func runOpt(name string, f func(*runSettings) error) RunOption {
	return &option{name: name, run: f}
}

func buildOpt(name string, f func(*buildSettings) error) BuildOption {
	return &option{name: name, build: f}
}

func logsOpt(name string, f func(*logsSettings) error) LogsOption {
	return &option{name: name, logs: f}
}

// WithName names the container (docker run --name).
func WithName(name string) RunOption {
	return runOpt("WithName", func(s *runSettings) error {
		if !validName(name) {
			return invalidf("invalid container name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
		}
		s.name = name
		return nil
	})
}

// WithCmd sets the command (the arguments after the image in docker run).
func WithCmd(args ...string) RunOption {
	return runOpt("WithCmd", func(s *runSettings) error {
		if len(args) == 0 || args[0] == "" {
			return invalidf("invalid command %q: want a non-empty command", redact.Args(args))
		}
		s.cmd, s.cmdSet = args, true
		return nil
	})
}

// WithEntrypoint overrides the image's entrypoint (docker run --entrypoint).
// WithEntrypoint() with no arguments clears it.
func WithEntrypoint(args ...string) RunOption {
	return runOpt("WithEntrypoint", func(s *runSettings) error {
		if len(args) > 0 && args[0] == "" {
			return invalidf("invalid entrypoint %q: want a non-empty program name", redact.Args(args))
		}
		s.entrypoint, s.entrypointSet = args, true
		return nil
	})
}

// WithEnv adds environment variables in KEY=VALUE form to the container
// (Run) or the command (Exec).
func WithEnv(kv ...string) ProcessOption {
	return processOpt("WithEnv", func(s *procSettings) error {
		for i, e := range kv {
			if err := checkEnvEntry("environment variable", i, e); err != nil {
				return err
			}
		}
		s.env = append(s.env, kv...)
		return nil
	})
}

// WithUser runs as user (name, uid, uid:gid).
func WithUser(user string) ProcessOption {
	return processOpt("WithUser", func(s *procSettings) error { s.user = user; return nil })
}

// WithWorkdir sets the working directory; it must be absolute.
func WithWorkdir(dir string) ProcessOption {
	return processOpt("WithWorkdir", func(s *procSettings) error {
		if !strings.HasPrefix(dir, "/") {
			return invalidf("invalid working directory %q: want an absolute path", dir)
		}
		s.workdir = dir
		return nil
	})
}

// WithLabels adds labels to the container, image, network or volume.
// Dockhand's own dev.dockhand.* labels are always added too.
func WithLabels(labels map[string]string) LabelOption {
	add := func(dst *map[string]string) error {
		for k := range labels {
			if k == "" {
				return invalidf("invalid label: empty key")
			}
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		for k, v := range labels {
			(*dst)[k] = v
		}
		return nil
	}
	return &option{name: "WithLabels",
		run:     func(s *runSettings) error { return add(&s.labels) },
		build:   func(s *buildSettings) error { return add(&s.labels) },
		volume:  func(s *createSettings) error { return add(&s.labels) },
		network: func(s *createSettings) error { return add(&s.labels) }}
}

// WithInit runs an init process as PID 1 that reaps zombies and forwards signals (docker run --init).
func WithInit() RunOption {
	return runOpt("WithInit", func(s *runSettings) error { s.init = true; return nil })
}

// WithAutoRemove makes the engine remove the container when it exits (docker run --rm).
func WithAutoRemove() RunOption {
	return runOpt("WithAutoRemove", func(s *runSettings) error { s.autoRemove = true; return nil })
}

// WithRestart sets the restart policy: "no", "always", "unless-stopped",
// "on-failure" or "on-failure:N".
func WithRestart(policy string) RunOption {
	return runOpt("WithRestart", func(s *runSettings) error {
		if _, err := parseRestart(policy); err != nil {
			return err
		}
		s.restart = policy
		return nil
	})
}

// WithTTY allocates a pseudo-terminal (docker run -t, docker exec -t).
func WithTTY() ProcessOption {
	return ioOpt("WithTTY", func(s *ioSettings) error { s.tty = true; return nil })
}

// WithStdin attaches r to the container's or exec's standard input (-i).
// When r is a terminal and WithTTY is set, it is put in raw mode for the
// session and restored afterwards.
func WithStdin(r io.Reader) ProcessOption {
	return ioOpt("WithStdin", func(s *ioSettings) error { s.stdin = r; return nil })
}

// WithStdout sends standard output to w. For Run, setting any of
// WithStdin/WithStdout/WithStderr runs in the foreground: Run returns when
// the container exits, as docker run without -d.
func WithStdout(w io.Writer) ProcessOption {
	return ioOpt("WithStdout", func(s *ioSettings) error { s.stdout = w; return nil })
}

// WithStderr sends standard error to w (demultiplexed from standard
// output), for Run, Exec and Logs.
func WithStderr(w io.Writer) StderrOption {
	o := ioOpt("WithStderr", func(s *ioSettings) error { s.stderr = w; return nil })
	o.logs = func(s *logsSettings) error { s.stderr = w; return nil }
	return o
}

// WithPorts publishes container ports: "8080:80", "80" (a random host
// port), "127.0.0.1:8080:80", "5353:53/udp", "8000-8001:80-81". A spec with
// no host address binds to the client's bind address (127.0.0.1 for a local
// engine), so a development database is not opened to the whole network by
// accident; see WithAllInterfaces. The same rule applies to every port
// binding without a host address, also those a WithContainerConfig
// function sets.
func WithPorts(specs ...string) RunOption {
	return runOpt("WithPorts", func(s *runSettings) error {
		for _, p := range specs {
			if _, err := parsePorts(p, ""); err != nil {
				return err
			}
		}
		s.ports = append(s.ports, specs...)
		return nil
	})
}

// WithAllInterfaces publishes ports whose spec (or binding) has no host
// address on all interfaces (0.0.0.0), as the docker CLI does, instead of
// the client's bind address.
func WithAllInterfaces() RunOption {
	return runOpt("WithAllInterfaces", func(s *runSettings) error { s.allInterfaces = true; return nil })
}

// WithVolumes mounts volumes in docker run -v form: "name:/path[:ro]" for
// a named volume (created, labelled, if missing), "/host/path:/path[:ro]"
// or "./rel:/path" for a bind mount, "/path" for an anonymous volume.
func WithVolumes(specs ...string) RunOption {
	return runOpt("WithVolumes", func(s *runSettings) error {
		for _, v := range specs {
			if _, err := parseVolume(v); err != nil {
				return err
			}
		}
		s.volumes = append(s.volumes, specs...)
		return nil
	})
}

// WithNetwork connects the container to a network, with optional aliases
// other containers on it can use as host names.
func WithNetwork(name string, aliases ...string) RunOption {
	return runOpt("WithNetwork", func(s *runSettings) error {
		if name == "" {
			return invalidf("invalid network name %q: want a network name or id", name)
		}
		s.networks = append(s.networks, netAttach{name: name, aliases: aliases})
		return nil
	})
}

// WithHostname sets the container's host name.
func WithHostname(h string) RunOption {
	return runOpt("WithHostname", func(s *runSettings) error { s.hostname = h; return nil })
}

// WithContainerConfig hands the raw engine configuration to f just before
// the container is created: the escape hatch for what this package does not
// wrap. f may add endpoints to the networking config: those the engine
// cannot take at create (API < 1.44: all but the one of
// HostConfig.NetworkMode) are connected before the start. After f, the
// ownership labels are set again over whatever f left in Config.Labels,
// and port bindings without a host address get the client's bind address
// (see WithPorts).
func WithContainerConfig(f func(*container.Config, *container.HostConfig, *network.NetworkingConfig)) RunOption {
	return runOpt("WithContainerConfig", func(s *runSettings) error { s.hooks = append(s.hooks, f); return nil })
}

// WithPull sets when Run pulls the image (default PullMissing).
func WithPull(p PullPolicy) RunOption {
	return runOpt("WithPull", func(s *runSettings) error {
		if p < PullMissing || p > PullNever {
			return invalidf("invalid pull policy %d: want PullMissing, PullAlways or PullNever", int(p))
		}
		s.pull = p
		return nil
	})
}

// imageOpt is an option of image transfers: Run (when it pulls), Pull,
// Push and Build; the returned interface says which of them it serves.
func imageOpt(name string, f func(*imageSettings) error) *option {
	return &option{name: name, pull: f, push: f,
		run:   func(s *runSettings) error { return f(&s.image) },
		build: func(s *buildSettings) error { return f(&s.image) }}
}

// WithPlatform selects the image platform, e.g. "linux/arm64": what Pull
// and Build fetch or make, and for Run and Create also the platform the
// engine creates the container for (docker run --platform): an image of
// another platform fails the create with ErrNotFound.
func WithPlatform(p string) PlatformOption {
	o := imageOpt("WithPlatform", func(s *imageSettings) error {
		if strings.Count(p, "/") < 1 {
			return invalidf("invalid platform %q: want os/arch[/variant]", p)
		}
		s.platform = p
		return nil
	})
	o.push = nil
	return o
}

// WithProgress renders pull, push and build progress to w: like the docker
// CLI (updating in place) when w is a terminal, as plain lines otherwise.
func WithProgress(w io.Writer) ProgressOption {
	return imageOpt("WithProgress", func(s *imageSettings) error { s.progress = w; return nil })
}

// WithProgressFunc calls f for every progress message of a pull, push or build.
func WithProgressFunc(f func(Progress)) ProgressOption {
	return imageOpt("WithProgressFunc", func(s *imageSettings) error { s.progressFunc = f; return nil })
}

// WithAuth uses these registry credentials instead of the docker config's.
func WithAuth(username, password string) AuthOption {
	o := imageOpt("WithAuth", func(s *imageSettings) error {
		s.auth = &Credentials{Username: username, Password: password}
		return nil
	})
	o.build = nil
	return o
}

// WithDockerfile names the Dockerfile, relative to the build context (default "Dockerfile").
func WithDockerfile(path string) BuildOption {
	return buildOpt("WithDockerfile", func(s *buildSettings) error { s.dockerfile = path; return nil })
}

// WithTags tags the built image.
func WithTags(refs ...string) BuildOption {
	return buildOpt("WithTags", func(s *buildSettings) error {
		for _, r := range refs {
			if _, err := parseRef(r); err != nil {
				return err
			}
		}
		s.tags = append(s.tags, refs...)
		return nil
	})
}

// WithBuildArgs sets build arguments in KEY=VALUE form (docker build --build-arg).
func WithBuildArgs(kv ...string) BuildOption {
	return buildOpt("WithBuildArgs", func(s *buildSettings) error {
		if s.buildArgs == nil {
			s.buildArgs = map[string]*string{}
		}
		for i, e := range kv {
			if err := checkEnvEntry("build argument", i, e); err != nil {
				return err
			}
			k, v, _ := strings.Cut(e, "=")
			s.buildArgs[k] = &v
		}
		return nil
	})
}

// WithTarget builds the named stage of a multi-stage Dockerfile.
func WithTarget(stage string) BuildOption {
	return buildOpt("WithTarget", func(s *buildSettings) error { s.target = stage; return nil })
}

// WithNoCache builds without the layer cache.
func WithNoCache() BuildOption {
	return buildOpt("WithNoCache", func(s *buildSettings) error { s.noCache = true; return nil })
}

// WithGracePeriod sets how long Stop waits after the stop signal before it
// kills the container (docker stop --time; default: the container's own,
// normally 10 s). The engine counts whole seconds: d is rounded up.
func WithGracePeriod(d time.Duration) StopOption {
	return &option{name: "WithGracePeriod", stop: func(s *stopSettings) error {
		if d < 0 {
			return invalidf("invalid grace period %s: want >= 0", d)
		}
		s.grace = &d
		return nil
	}}
}

// WithSignal sets the signal Stop sends first (default: the image's
// STOPSIGNAL or SIGTERM) or Kill sends (default SIGKILL): a name such as
// "SIGHUP" or "HUP", or a number.
func WithSignal(sig string) SignalOption {
	return &option{name: "WithSignal",
		stop: func(s *stopSettings) error { s.signal = sig; return nil },
		kill: func(s *killSettings) error { s.signal = sig; return nil }}
}

// WithForce removes a running container (killing it), an image still
// tagged elsewhere or used by a stopped container, or a volume in use.
func WithForce() ForceOption {
	return &option{name: "WithForce",
		remove:       func(s *removeSettings) error { s.force = true; return nil },
		removeImage:  func(s *removeImageSettings) error { s.force = true; return nil },
		removeVolume: func(s *removeVolumeSettings) error { s.force = true; return nil }}
}

// WithRemoveVolumes removes the container's anonymous volumes with it (docker rm -v).
func WithRemoveVolumes() RemoveOption {
	return &option{name: "WithRemoveVolumes", remove: func(s *removeSettings) error { s.rmVolumes = true; return nil }}
}

// WithFollow keeps streaming new log lines until the container stops or ctx ends.
func WithFollow() LogsOption {
	return logsOpt("WithFollow", func(s *logsSettings) error { s.follow = true; return nil })
}

// WithSince shows logs since t.
func WithSince(t time.Time) LogsOption {
	return logsOpt("WithSince", func(s *logsSettings) error { s.since = unixNano(t); return nil })
}

// WithTail shows only the last n lines of the logs.
func WithTail(n int) LogsOption {
	return logsOpt("WithTail", func(s *logsSettings) error {
		if n < 0 {
			return invalidf("invalid tail %d: want >= 0", n)
		}
		s.tail = fmt.Sprint(n)
		return nil
	})
}

// WithTimestamps prefixes each log line with its RFC 3339 timestamp.
func WithTimestamps() LogsOption {
	return logsOpt("WithTimestamps", func(s *logsSettings) error { s.timestamps = true; return nil })
}

// WithAll lists stopped containers too (docker ps -a).
func WithAll() ListOption {
	return &option{name: "WithAll", list: func(s *listSettings) error { s.all = true; return nil }}
}

// WithFilter adds a filter as docker ps --filter does: "label", "name",
// "status", "ancestor", "network", "volume", "id", ... It narrows the
// listing of containers, volumes and networks.
func WithFilter(key, value string) FilterOption {
	f := func(s *filterSettings) error {
		if key == "" {
			return invalidf("invalid filter %q=%q: want a filter name such as label, name or status", key, value)
		}
		if key == "status" && !validStatus(value) {
			return invalidf("invalid status filter %q: want created, restarting, running, removing, paused, exited or dead", value)
		}
		s.filters = append(s.filters, [2]string{key, value})
		return nil
	}
	return &option{name: "WithFilter", filter: f, list: func(s *listSettings) error { return f(&s.filterSettings) }}
}

// WithDriver sets the network or volume driver.
func WithDriver(name string) DriverOption {
	f := func(s *createSettings) error { s.driver = name; return nil }
	return &option{name: "WithDriver", volume: f, network: f}
}

// WithDriverOpts sets driver options of a network or volume.
func WithDriverOpts(o map[string]string) DriverOption {
	f := func(s *createSettings) error { s.driverOpts = o; return nil }
	return &option{name: "WithDriverOpts", volume: f, network: f}
}

// WithInternal makes a network with no route to the outside.
func WithInternal() NetworkOption {
	return &option{name: "WithInternal", network: func(s *createSettings) error { s.internal = true; return nil }}
}

// WithFailUnhealthy makes the Healthy and Ready conditions fail at once
// (a Permanent *ExitError with Status "unhealthy") when the container's
// healthcheck reports unhealthy, as docker compose does for service_healthy
// and up --wait, instead of waiting for a later check to pass.
func WithFailUnhealthy() UnhealthyOption {
	f := func(s *condSettings) error { s.failUnhealthy = true; return nil }
	return &option{name: "WithFailUnhealthy", healthy: f, ready: f}
}

// WithExitZero makes the Ready condition hold for a container that exited
// with code 0: a one-shot job that did its work (docker compose up --wait
// accepts that of a service others wait on to complete).
func WithExitZero() ReadyOption {
	return &option{name: "WithExitZero", ready: func(s *condSettings) error { s.exitZero = true; return nil }}
}

// WithNetworkConfig hands the raw create request of a network to f just
// before CreateNetwork sends it (IPAM, IPv6, attachable, ...): the escape
// hatch for what this package does not wrap. The ownership labels are set
// again over whatever f left in Labels.
func WithNetworkConfig(f func(*network.CreateOptions)) NetworkOption {
	return &option{name: "WithNetworkConfig", network: func(s *createSettings) error {
		if f == nil {
			return invalidf("invalid WithNetworkConfig: the function is nil")
		}
		s.netHooks = append(s.netHooks, f)
		return nil
	}}
}

func validStatus(s string) bool {
	switch s {
	case "created", "restarting", "running", "removing", "paused", "exited", "dead":
		return true
	}
	return false
}

func validName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i == 0 && !alnum || !alnum && r != '_' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

// checkEnvEntry checks the KEY=VALUE entry number i (from 0) of a list.
// Its error names the key, never the value: an entry without '=' is given
// by position only unless it has the shape of a name, since all of it may
// be a value.
func checkEnvEntry(what string, i int, e string) error {
	k, _, ok := strings.Cut(e, "=")
	name := redact.EnvKey(e) // "" unless it looks like a name
	switch {
	case !ok && name != "":
		return invalidf("invalid %s %q: no '=' (want KEY=VALUE)", what, name)
	case !ok:
		return invalidf("invalid %s #%d: no '=' (want KEY=VALUE)", what, i+1)
	case k == "":
		return invalidf("invalid %s #%d: empty name (want KEY=VALUE)", what, i+1)
	case strings.ContainsAny(k, " \t\r\n") && name != "":
		return invalidf("invalid %s #%d: name %q holds white space (want KEY=VALUE)", what, i+1, name)
	case strings.ContainsAny(k, " \t\r\n"):
		return invalidf("invalid %s #%d: the name before '=' holds white space (want KEY=VALUE)", what, i+1)
	}
	return nil
}

func filterArgs(s *filterSettings) filters.Args {
	f := filters.NewArgs()
	for _, kv := range s.filters {
		f.Add(kv[0], kv[1])
	}
	return f
}
