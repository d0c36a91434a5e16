package lifecycle

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/dockhand/dockhand/internal/redact"
)

// Option configures one call: Run, Exec, Pull, Build, Push, Logs, Stop,
// Remove, List, ... One option type serves every verb, so the same
// WithEnv works for Run and Exec; an option that means nothing to a verb
// is rejected with an error naming both.
type Option struct {
	name  string
	verbs string // space-separated verbs it applies to
	apply func(*settings) error
}

// settings is the union of every verb's knobs; each verb reads its own.
type settings struct {
	// run
	name, user, workdir, hostname string
	cmd, entrypoint               []string
	cmdSet, entrypointSet         bool
	env                           []string
	labels                        map[string]string
	init, autoRemove, tty         bool
	allInterfaces                 bool
	restart                       string
	ports                         []string
	volumes                       []string
	networks                      []netAttach
	hooks                         []func(*container.Config, *container.HostConfig, *network.NetworkingConfig)
	stdin                         io.Reader
	stdout, stderr                io.Writer
	pull                          PullPolicy
	platform                      string
	// images
	progress     io.Writer
	progressFunc func(Progress)
	auxFunc      func(jsonmessage.JSONMessage)
	auth         *Credentials
	dockerfile   string
	tags         []string
	buildArgs    map[string]*string
	target       string
	noCache      bool
	// stop / remove / logs / list
	timeout    *time.Duration
	signal     string
	force      bool
	rmVolumes  bool
	noPrune    bool
	follow     bool
	since      string
	tail       string
	timestamps bool
	all        bool
	filters    [][2]string
	driver     string
	driverOpts map[string]string
	internal   bool
	// read file / exec capture / copy from
	maxSize     int64 // 0: DefaultMaxSize
	keepSpecial bool
}

type netAttach struct {
	name    string
	aliases []string
}

func opt(name, verbs string, f func(*settings) error) Option {
	return Option{name: name, verbs: verbs, apply: f}
}

// apply runs opts for verb, rejecting options that do not belong to it.
func apply(verb string, opts []Option) (*settings, error) {
	s := &settings{}
	for _, o := range opts {
		if o.apply == nil {
			return nil, invalidf("%s: zero Option value: build options with the With... functions", verb)
		}
		if !strings.Contains(" "+o.verbs+" ", " "+verb+" ") {
			return nil, invalidf("%s: option %s does not apply (it applies to %s)", verb, o.name, strings.ReplaceAll(o.verbs, " ", ", "))
		}
		if err := o.apply(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// WithName names the container (docker run --name) or the network/volume.
func WithName(name string) Option {
	return opt("WithName", "Run", func(s *settings) error {
		if !validName(name) {
			return invalidf("invalid container name %q: want [a-zA-Z0-9][a-zA-Z0-9_.-]*", name)
		}
		s.name = name
		return nil
	})
}

// WithCmd sets the command (the arguments after the image in docker run).
func WithCmd(args ...string) Option {
	return opt("WithCmd", "Run", func(s *settings) error {
		if len(args) == 0 || args[0] == "" {
			return invalidf("invalid command %q: want a non-empty command", redact.Args(args))
		}
		s.cmd, s.cmdSet = args, true
		return nil
	})
}

// WithEntrypoint overrides the image's entrypoint (docker run --entrypoint).
// WithEntrypoint() with no arguments clears it.
func WithEntrypoint(args ...string) Option {
	return opt("WithEntrypoint", "Run", func(s *settings) error {
		if len(args) > 0 && args[0] == "" {
			return invalidf("invalid entrypoint %q: want a non-empty program name", redact.Args(args))
		}
		s.entrypoint, s.entrypointSet = args, true
		return nil
	})
}

// WithEnv adds environment variables in KEY=VALUE form.
func WithEnv(kv ...string) Option {
	return opt("WithEnv", "Run Exec", func(s *settings) error {
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
func WithUser(user string) Option {
	return opt("WithUser", "Run Exec", func(s *settings) error { s.user = user; return nil })
}

// WithWorkdir sets the working directory; it must be absolute.
func WithWorkdir(dir string) Option {
	return opt("WithWorkdir", "Run Exec", func(s *settings) error {
		if !strings.HasPrefix(dir, "/") {
			return invalidf("invalid working directory %q: want an absolute path", dir)
		}
		s.workdir = dir
		return nil
	})
}

// WithLabels adds labels to the container, image, network or volume.
// Dockhand's own dev.dockhand.* labels are always added too.
func WithLabels(labels map[string]string) Option {
	return opt("WithLabels", "Run Build CreateNetwork CreateVolume", func(s *settings) error {
		for k := range labels {
			if k == "" {
				return invalidf("invalid label: empty key")
			}
		}
		if s.labels == nil {
			s.labels = map[string]string{}
		}
		for k, v := range labels {
			s.labels[k] = v
		}
		return nil
	})
}

// WithInit runs an init process as PID 1 that reaps zombies and forwards signals (docker run --init).
func WithInit() Option {
	return opt("WithInit", "Run", func(s *settings) error { s.init = true; return nil })
}

// WithAutoRemove makes the engine remove the container when it exits (docker run --rm).
func WithAutoRemove() Option {
	return opt("WithAutoRemove", "Run", func(s *settings) error { s.autoRemove = true; return nil })
}

// WithRestart sets the restart policy: "no", "always", "unless-stopped",
// "on-failure" or "on-failure:N".
func WithRestart(policy string) Option {
	return opt("WithRestart", "Run", func(s *settings) error {
		if _, err := parseRestart(policy); err != nil {
			return err
		}
		s.restart = policy
		return nil
	})
}

// WithTTY allocates a pseudo-terminal (docker run -t, docker exec -t).
func WithTTY() Option {
	return opt("WithTTY", "Run Exec", func(s *settings) error { s.tty = true; return nil })
}

// WithStdin attaches r to the container's or exec's standard input (-i).
// When r is a terminal and WithTTY is set, it is put in raw mode for the
// session and restored afterwards.
func WithStdin(r io.Reader) Option {
	return opt("WithStdin", "Run Exec", func(s *settings) error { s.stdin = r; return nil })
}

// WithStdout sends standard output to w. For Run, setting any of
// WithStdin/WithStdout/WithStderr runs in the foreground: Run returns when
// the container exits, as docker run without -d.
func WithStdout(w io.Writer) Option {
	return opt("WithStdout", "Run Exec Logs", func(s *settings) error { s.stdout = w; return nil })
}

// WithStderr sends standard error to w (demultiplexed from standard output).
func WithStderr(w io.Writer) Option {
	return opt("WithStderr", "Run Exec Logs", func(s *settings) error { s.stderr = w; return nil })
}

// WithPorts publishes container ports: "8080:80", "80" (a random host
// port), "127.0.0.1:8080:80", "5353:53/udp", "8000-8001:80-81". A spec with
// no host address binds to 127.0.0.1 only, so a development database is
// not opened to the whole network by accident; see WithAllInterfaces.
func WithPorts(specs ...string) Option {
	return opt("WithPorts", "Run", func(s *settings) error {
		for _, p := range specs {
			if _, err := parsePorts(p, "127.0.0.1"); err != nil {
				return err
			}
		}
		s.ports = append(s.ports, specs...)
		return nil
	})
}

// WithAllInterfaces publishes ports whose spec has no host address on all
// interfaces (0.0.0.0), as the docker CLI does, instead of 127.0.0.1.
func WithAllInterfaces() Option {
	return opt("WithAllInterfaces", "Run", func(s *settings) error { s.allInterfaces = true; return nil })
}

// WithVolumes mounts volumes in docker run -v form: "name:/path[:ro]" for
// a named volume (created, labelled, if missing), "/host/path:/path[:ro]"
// or "./rel:/path" for a bind mount, "/path" for an anonymous volume.
func WithVolumes(specs ...string) Option {
	return opt("WithVolumes", "Run", func(s *settings) error {
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
func WithNetwork(name string, aliases ...string) Option {
	return opt("WithNetwork", "Run", func(s *settings) error {
		if name == "" {
			return invalidf("invalid network name %q: want a network name or id", name)
		}
		s.networks = append(s.networks, netAttach{name: name, aliases: aliases})
		return nil
	})
}

// WithHostname sets the container's host name.
func WithHostname(h string) Option {
	return opt("WithHostname", "Run", func(s *settings) error { s.hostname = h; return nil })
}

// WithContainerConfig hands the raw engine configuration to f just before
// the container is created: the escape hatch for what this package does not wrap.
func WithContainerConfig(f func(*container.Config, *container.HostConfig, *network.NetworkingConfig)) Option {
	return opt("WithContainerConfig", "Run", func(s *settings) error { s.hooks = append(s.hooks, f); return nil })
}

// WithPull sets when Run pulls the image (default PullMissing).
func WithPull(p PullPolicy) Option {
	return opt("WithPull", "Run", func(s *settings) error {
		if p < PullMissing || p > PullNever {
			return invalidf("invalid pull policy %d: want PullMissing, PullAlways or PullNever", int(p))
		}
		s.pull = p
		return nil
	})
}

// WithPlatform selects the image platform, e.g. "linux/arm64".
func WithPlatform(p string) Option {
	return opt("WithPlatform", "Run Pull Build", func(s *settings) error {
		if strings.Count(p, "/") < 1 {
			return invalidf("invalid platform %q: want os/arch[/variant]", p)
		}
		s.platform = p
		return nil
	})
}

// WithProgress renders pull, push and build progress to w: like the docker
// CLI (updating in place) when w is a terminal, as plain lines otherwise.
func WithProgress(w io.Writer) Option {
	return opt("WithProgress", "Run Pull Push Build", func(s *settings) error { s.progress = w; return nil })
}

// WithProgressFunc calls f for every progress message of a pull, push or build.
func WithProgressFunc(f func(Progress)) Option {
	return opt("WithProgressFunc", "Run Pull Push Build", func(s *settings) error { s.progressFunc = f; return nil })
}

// WithAuth uses these registry credentials instead of the docker config's.
func WithAuth(username, password string) Option {
	return opt("WithAuth", "Run Pull Push", func(s *settings) error {
		s.auth = &Credentials{Username: username, Password: password}
		return nil
	})
}

// WithDockerfile names the Dockerfile, relative to the build context (default "Dockerfile").
func WithDockerfile(path string) Option {
	return opt("WithDockerfile", "Build", func(s *settings) error { s.dockerfile = path; return nil })
}

// WithTags tags the built image.
func WithTags(refs ...string) Option {
	return opt("WithTags", "Build", func(s *settings) error {
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
func WithBuildArgs(kv ...string) Option {
	return opt("WithBuildArgs", "Build", func(s *settings) error {
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
func WithTarget(stage string) Option {
	return opt("WithTarget", "Build", func(s *settings) error { s.target = stage; return nil })
}

// WithNoCache builds without the layer cache.
func WithNoCache() Option {
	return opt("WithNoCache", "Build", func(s *settings) error { s.noCache = true; return nil })
}

// WithTimeout sets the grace period of Stop before the container is killed
// (default: the container's own, normally 10 s).
func WithTimeout(d time.Duration) Option {
	return opt("WithTimeout", "Stop", func(s *settings) error {
		if d < 0 {
			return invalidf("invalid stop timeout %s: want >= 0", d)
		}
		s.timeout = &d
		return nil
	})
}

// WithSignal sets the signal Stop sends first (default: the image's STOPSIGNAL or SIGTERM).
func WithSignal(sig string) Option {
	return opt("WithSignal", "Stop", func(s *settings) error { s.signal = sig; return nil })
}

// WithForce removes a running container (killing it), an image still
// tagged elsewhere or used by a stopped container, or a volume in use.
func WithForce() Option {
	return opt("WithForce", "Remove RemoveImage RemoveVolume", func(s *settings) error { s.force = true; return nil })
}

// WithRemoveVolumes removes the container's anonymous volumes with it (docker rm -v).
func WithRemoveVolumes() Option {
	return opt("WithRemoveVolumes", "Remove", func(s *settings) error { s.rmVolumes = true; return nil })
}

// WithNoPrune keeps untagged parent images when removing an image (docker rmi --no-prune).
func WithNoPrune() Option {
	return opt("WithNoPrune", "RemoveImage", func(s *settings) error { s.noPrune = true; return nil })
}

// WithFollow keeps streaming new log lines until the container stops or ctx ends.
func WithFollow() Option {
	return opt("WithFollow", "Logs", func(s *settings) error { s.follow = true; return nil })
}

// WithSince shows logs since t.
func WithSince(t time.Time) Option {
	return opt("WithSince", "Logs", func(s *settings) error { s.since = unixNano(t); return nil })
}

// WithTail shows only the last n lines of the logs.
func WithTail(n int) Option {
	return opt("WithTail", "Logs", func(s *settings) error {
		if n < 0 {
			return invalidf("invalid tail %d: want >= 0", n)
		}
		s.tail = fmt.Sprint(n)
		return nil
	})
}

// WithTimestamps prefixes each log line with its RFC 3339 timestamp.
func WithTimestamps() Option {
	return opt("WithTimestamps", "Logs", func(s *settings) error { s.timestamps = true; return nil })
}

// WithAll lists stopped containers too (docker ps -a).
func WithAll() Option {
	return opt("WithAll", "List", func(s *settings) error { s.all = true; return nil })
}

// WithFilter adds a filter as docker ps --filter does: "label", "name",
// "status", "ancestor", "network", "volume", "id", ...
func WithFilter(key, value string) Option {
	return opt("WithFilter", "List ListVolumes ListNetworks", func(s *settings) error {
		if key == "" {
			return invalidf("invalid filter %q=%q: want a filter name such as label, name or status", key, value)
		}
		if key == "status" && !validStatus(value) {
			return invalidf("invalid status filter %q: want created, restarting, running, removing, paused, exited or dead", value)
		}
		s.filters = append(s.filters, [2]string{key, value})
		return nil
	})
}

// WithDriver sets the network or volume driver.
func WithDriver(name string) Option {
	return opt("WithDriver", "CreateNetwork CreateVolume", func(s *settings) error { s.driver = name; return nil })
}

// WithDriverOpts sets driver options of a network or volume.
func WithDriverOpts(o map[string]string) Option {
	return opt("WithDriverOpts", "CreateNetwork CreateVolume", func(s *settings) error { s.driverOpts = o; return nil })
}

// WithInternal makes a network with no route to the outside.
func WithInternal() Option {
	return opt("WithInternal", "CreateNetwork", func(s *settings) error { s.internal = true; return nil })
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
