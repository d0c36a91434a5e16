package compose

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/lifecycle"
)

// Options are typed by verb, as lifecycle's are: Up takes UpOption
// values, Down DownOption values, and so on, so an option given to a verb
// it means nothing to does not compile. An option that serves several
// verbs satisfies each of their types (WithProgress returns a
// ProgressOption, which is an UpOption, a DownOption, ...). The option
// types have unexported methods: build them with the With... functions.

// UpOption configures Stack.Up.
type UpOption interface{ applyUp(*upSettings) error }

// DownOption configures Stack.Down.
type DownOption interface{ applyDown(*downSettings) error }

// PsOption configures Stack.Ps.
type PsOption interface{ applyPs(*psSettings) error }

// LogsOption configures Stack.Logs.
type LogsOption interface{ applyLogs(*logsSettings) error }

// StopOption configures Stack.Stop.
type StopOption interface{ applyStop(*cycleSettings) error }

// StartOption configures Stack.Start.
type StartOption interface{ applyStart(*cycleSettings) error }

// RestartOption configures Stack.Restart.
type RestartOption interface{ applyRestart(*cycleSettings) error }

// RunOption configures Stack.Run.
type RunOption interface{ applyRun(*runSettings) error }

// KillOption configures Stack.Kill.
type KillOption interface{ applyKill(*killSettings) error }

// PauseOption configures Stack.Pause and Stack.Unpause.
type PauseOption interface {
	applyPause(*cycleSettings) error
	applyUnpause(*cycleSettings) error
}

// BuildOption configures Stack.Build.
type BuildOption interface{ applyBuild(*cycleSettings) error }

// TopOption configures Stack.Top.
type TopOption interface{ applyTop(*cycleSettings) error }

// WaitOption configures Stack.Wait.
type WaitOption interface{ applyWait(*cycleSettings) error }

// LsOption configures Ls.
type LsOption interface{ applyLs(*lsSettings) error }

// ConfigOption configures Stack.Config.
type ConfigOption interface{ applyConfig(*configSettings) error }

// PullOption configures Stack.Pull.
type PullOption interface{ applyPull(*pullSettings) error }

// ImagesOption configures Stack.Images.
type ImagesOption interface{ applyImages(*cycleSettings) error }

// CopyToOption configures Stack.CopyTo.
type CopyToOption interface{ applyCopyTo(*copySettings) error }

// CopyFromOption configures Stack.CopyFrom.
type CopyFromOption interface{ applyCopyFrom(*copySettings) error }

// CopyOption is WithIndex: it serves CopyTo and CopyFrom.
type CopyOption interface {
	CopyToOption
	CopyFromOption
}

// AllOption is WithAll: it serves Ps and Ls.
type AllOption interface {
	PsOption
	LsOption
}

// ProgressOption is WithProgress: it serves Up, Down, Stop, Start,
// Restart, Run, Build and Pull.
type ProgressOption interface {
	UpOption
	DownOption
	StopOption
	StartOption
	RestartOption
	RunOption
	BuildOption
	PullOption
}

// ServicesOption is WithServices: it serves Up, Ps, Logs, Stop, Start,
// Restart, Kill, Pause, Unpause, Build, Top, Wait, Config, Pull and Images.
type ServicesOption interface {
	UpOption
	PsOption
	LogsOption
	StopOption
	StartOption
	RestartOption
	KillOption
	PauseOption
	BuildOption
	TopOption
	WaitOption
	ConfigOption
	PullOption
	ImagesOption
}

// UpPullOption serves Up and Pull (WithPull).
type UpPullOption interface {
	UpOption
	PullOption
}

// GracePeriodOption is WithGracePeriod: it serves Up, Down, Stop and Restart.
type GracePeriodOption interface {
	UpOption
	DownOption
	StopOption
	RestartOption
}

// StderrOption is WithStderr: it serves Run and Logs.
type StderrOption interface {
	RunOption
	LogsOption
}

// UpDownOption serves Up and Down (WithRemoveOrphans).
type UpDownOption interface {
	UpOption
	DownOption
}

// UpRunOption serves Up and Run (WithAllInterfaces, WithNoDeps).
type UpRunOption interface {
	UpOption
	RunOption
}

// Each verb's own settings. Stop, Start and Restart (stop then start)
// share one.

type upSettings struct {
	services      []string
	progress      io.Writer
	wait          bool
	waitTimeout   time.Duration
	build         bool
	removeOrphans bool
	allInterfaces bool
	forceRecreate bool
	timeout       *time.Duration
	// recreateVolumes: a project volume whose configuration changed is
	// removed and created again (WithRecreateVolumes).
	recreateVolumes bool
	abort           bool   // WithAbortOnContainerExit (attach.go)
	exitCodeFrom    string // WithExitCodeFrom
	noDeps          bool   // WithNoDeps (upflags.go)
	scale           map[string]int
	pull            string
	noRecreate      bool
	noBuild         bool
}

type downSettings struct {
	progress      io.Writer
	removeOrphans bool
	volumes       bool
	removeImages  bool
	timeout       *time.Duration
}

type psSettings struct {
	services []string
	all      bool
}

type logsSettings struct {
	services   []string
	follow     bool
	tail       int
	tailSet    bool
	stderr     io.Writer
	since      time.Time // WithSince (verbs.go)
	timestamps bool
}

// cycleSettings serves Stop, Start and Restart.
type cycleSettings struct {
	services []string
	progress io.Writer
	timeout  *time.Duration
}

type runSettings struct {
	progress      io.Writer
	allInterfaces bool
	stdout        io.Writer
	stderr        io.Writer
	env           []string
	noDeps        bool
	// runflags.go
	entrypoint    []string
	entrypointSet bool
	user          string
	workdir       string
	volumes       []types.ServiceVolumeConfig
	servicePorts  bool
}

type verb uint32

const (
	up verb = 1 << iota
	down
	ps
	logs
	stop
	start
	restart
	run
	kill
	pause
	unpause
	ls
	build
	top
	waitVerb
	configVerb
	pull
	images
	copyTo
	copyFrom
)

var verbNames = []string{"Up", "Down", "Ps", "Logs", "Stop", "Start", "Restart", "Run", "Kill", "Pause", "Unpause", "Ls", "Build", "Top", "Wait",
	"Config", "Pull", "Images", "CopyTo", "CopyFrom"}

// option is the one concrete type behind every option type: the verbs it
// serves, and a setter per settings struct. The With... functions return
// it as the interface of exactly those verbs.
type option struct {
	name  string
	verbs verb
	up    func(*upSettings) error
	down  func(*downSettings) error
	ps    func(*psSettings) error
	logs  func(*logsSettings) error
	cycle func(*cycleSettings) error
	run   func(*runSettings) error
	kill  func(*killSettings) error   // verbs.go
	ls    func(*lsSettings) error     // ls.go
	cfg   func(*configSettings) error // config.go
	pull  func(*pullSettings) error   // pull.go
	cp    func(*copySettings) error   // cp.go
}

// set calls f, or fails if the option does not serve v: reachable only by
// converting an option to another option type by assertion.
func set[S any](o *option, v verb, f func(*S) error, s *S) error {
	if o.verbs&v == 0 || f == nil {
		name := ""
		for i, n := range verbNames {
			if v == 1<<i {
				name = n
			}
		}
		return invalidf("compose: %s: option %s does not apply", name, o.name)
	}
	return f(s)
}

func (o *option) applyUp(s *upSettings) error         { return set(o, up, o.up, s) }
func (o *option) applyDown(s *downSettings) error     { return set(o, down, o.down, s) }
func (o *option) applyPs(s *psSettings) error         { return set(o, ps, o.ps, s) }
func (o *option) applyLogs(s *logsSettings) error     { return set(o, logs, o.logs, s) }
func (o *option) applyStop(s *cycleSettings) error    { return set(o, stop, o.cycle, s) }
func (o *option) applyStart(s *cycleSettings) error   { return set(o, start, o.cycle, s) }
func (o *option) applyRestart(s *cycleSettings) error { return set(o, restart, o.cycle, s) }
func (o *option) applyRun(s *runSettings) error       { return set(o, run, o.run, s) }
func (o *option) applyKill(s *killSettings) error     { return set(o, kill, o.kill, s) }
func (o *option) applyPause(s *cycleSettings) error   { return set(o, pause, o.cycle, s) }
func (o *option) applyUnpause(s *cycleSettings) error { return set(o, unpause, o.cycle, s) }
func (o *option) applyLs(s *lsSettings) error         { return set(o, ls, o.ls, s) }
func (o *option) applyBuild(s *cycleSettings) error   { return set(o, build, o.cycle, s) }
func (o *option) applyTop(s *cycleSettings) error     { return set(o, top, o.cycle, s) }
func (o *option) applyWait(s *cycleSettings) error    { return set(o, waitVerb, o.cycle, s) }
func (o *option) applyConfig(s *configSettings) error { return set(o, configVerb, o.cfg, s) }
func (o *option) applyPull(s *pullSettings) error     { return set(o, pull, o.pull, s) }
func (o *option) applyImages(s *cycleSettings) error  { return set(o, images, o.cycle, s) }
func (o *option) applyCopyTo(s *copySettings) error   { return set(o, copyTo, o.cp, s) }
func (o *option) applyCopyFrom(s *copySettings) error { return set(o, copyFrom, o.cp, s) }

// applyOpts builds a verb's settings from its options; a nil option is
// an error wrapping lifecycle.ErrInvalid.
func applyOpts[O any, S any](name string, opts []O, apply func(O, *S) error) (*S, error) {
	s := new(S)
	for i, o := range opts {
		if p, ok := any(o).(*option); any(o) == nil || ok && p == nil {
			return nil, invalidf("compose: %s: option #%d is nil: build options with the With... functions", name, i+1)
		}
		if err := apply(o, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// invalidf is an error wrapping lifecycle.ErrInvalid: a bad argument.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// invalidWrapf is invalidf for a bad argument found by an error, cause:
// the message ends with ": " and the cause's, and errors.Is and errors.As
// see both lifecycle.ErrInvalid and the cause.
func invalidWrapf(cause error, format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...) + ": " + cause.Error(), cause: cause}
}

type invalidError struct {
	msg   string
	cause error // nil, or what showed the argument bad
}

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{lifecycle.ErrInvalid}
	}
	return []error{lifecycle.ErrInvalid, e.cause}
}

// WithWait makes Up return only when every started service is running,
// or healthy if it has a healthcheck (docker compose up --wait). A
// service that exits, or becomes unhealthy, fails Up; a one-shot service
// (others depend on it with service_completed_successfully) may exit 0.
func WithWait() UpOption {
	return &option{name: "WithWait", verbs: up, up: func(s *upSettings) error { s.wait = true; return nil }}
}

// WithWaitTimeout bounds the whole of Up, waiting included
// (--wait-timeout); reaching it is a failure. It implies WithWait.
func WithWaitTimeout(d time.Duration) UpOption {
	return &option{name: "WithWaitTimeout", verbs: up, up: func(s *upSettings) error {
		if d <= 0 {
			return invalidf("compose: WithWaitTimeout(%v): want a positive duration", d)
		}
		s.wait, s.waitTimeout = true, d
		return nil
	}}
}

// WithBuild builds the images of services with a build: section even if
// they exist (up --build). Without it they are built only when missing.
func WithBuild() UpOption {
	return &option{name: "WithBuild", verbs: up, up: func(s *upSettings) error { s.build = true; return nil }}
}

// WithProgress writes one line per step and per service state change
// (pulling, building, created, started, healthy, stopped, removed...).
func WithProgress(w io.Writer) ProgressOption {
	return &option{name: "WithProgress", verbs: up | down | stop | start | restart | run | build | pull,
		up:    func(s *upSettings) error { s.progress = w; return nil },
		pull:  func(s *pullSettings) error { s.progress = w; return nil },
		down:  func(s *downSettings) error { s.progress = w; return nil },
		cycle: func(s *cycleSettings) error { s.progress = w; return nil },
		run:   func(s *runSettings) error { s.progress = w; return nil }}
}

// WithServices narrows the verb to these services. For Up and Start,
// their dependencies are started too, as with docker compose up svc; for
// Pull only with WithIncludeDeps. Every verb takes a service its profile
// disables, as the CLI does: Up, Start, Restart, Build, Pull and Config
// enable it (a dependency they need that is still disabled is an error
// wrapping lifecycle.ErrInvalid naming it); the others act on its
// containers. A name that is no service of the project is an error
// wrapping lifecycle.ErrInvalid.
func WithServices(names ...string) ServicesOption {
	add := func(dst *[]string) error {
		for _, n := range names {
			if n == "" {
				return invalidf("compose: WithServices: empty service name")
			}
		}
		*dst = append(*dst, names...)
		return nil
	}
	return &option{name: "WithServices", verbs: up | ps | logs | stop | start | restart | kill | pause | unpause | build | top | waitVerb | configVerb | pull | images,
		up:    func(s *upSettings) error { return add(&s.services) },
		pull:  func(s *pullSettings) error { return add(&s.services) },
		ps:    func(s *psSettings) error { return add(&s.services) },
		logs:  func(s *logsSettings) error { return add(&s.services) },
		cycle: func(s *cycleSettings) error { return add(&s.services) },
		kill:  func(s *killSettings) error { return add(&s.services) },
		cfg:   func(s *configSettings) error { return add(&s.services) }}
}

// WithRemoveOrphans removes containers of the project whose service is no
// longer in the compose files (--remove-orphans).
func WithRemoveOrphans() UpDownOption {
	return &option{name: "WithRemoveOrphans", verbs: up | down,
		up:   func(s *upSettings) error { s.removeOrphans = true; return nil },
		down: func(s *downSettings) error { s.removeOrphans = true; return nil }}
}

// WithAllInterfaces publishes ports that give no host IP on all
// interfaces (0.0.0.0), as docker compose does (lifecycle's
// WithAllInterfaces). By default lifecycle binds them to the client's bind
// address, 127.0.0.1 for a local engine.
func WithAllInterfaces() UpRunOption {
	return &option{name: "WithAllInterfaces", verbs: up | run,
		up:  func(s *upSettings) error { s.allInterfaces = true; return nil },
		run: func(s *runSettings) error { s.allInterfaces = true; return nil }}
}

// WithForceRecreate recreates containers even if their configuration did
// not change (--force-recreate).
func WithForceRecreate() UpOption {
	return &option{name: "WithForceRecreate", verbs: up, up: func(s *upSettings) error { s.forceRecreate = true; return nil }}
}

// WithRemoveVolumes makes Down remove volumes too (down -v): the
// anonymous volumes of the containers it removes, as
// lifecycle.WithRemoveVolumes does for one container (rm -v), and the
// project's named volumes. Without it Down keeps every volume.
func WithRemoveVolumes() DownOption {
	return &option{name: "WithRemoveVolumes", verbs: down, down: func(s *downSettings) error { s.volumes = true; return nil }}
}

// WithRemoveImages makes Down remove the images Up built for the project
// (down --rmi local).
func WithRemoveImages() DownOption {
	return &option{name: "WithRemoveImages", verbs: down, down: func(s *downSettings) error { s.removeImages = true; return nil }}
}

// WithGracePeriod is how long a container gets to stop after its stop
// signal before it is killed (-t), as lifecycle.WithGracePeriod. Default:
// the service's stop_grace_period, else 10s.
func WithGracePeriod(d time.Duration) GracePeriodOption {
	check := func() error {
		if d < 0 {
			return invalidf("compose: WithGracePeriod(%v): want a duration >= 0", d)
		}
		return nil
	}
	return &option{name: "WithGracePeriod", verbs: up | down | stop | restart,
		up:    func(s *upSettings) error { s.timeout = &d; return check() },
		down:  func(s *downSettings) error { s.timeout = &d; return check() },
		cycle: func(s *cycleSettings) error { s.timeout = &d; return check() }}
}

// WithAll lists stopped containers too (ps -a), or stacks with no
// running container (ls -a).
func WithAll() AllOption {
	return &option{name: "WithAll", verbs: ps | ls,
		ps: func(s *psSettings) error { s.all = true; return nil },
		ls: func(s *lsSettings) error { s.all = true; return nil }}
}

// WithFollow keeps streaming logs until ctx ends (logs -f).
func WithFollow() LogsOption {
	return &option{name: "WithFollow", verbs: logs, logs: func(s *logsSettings) error { s.follow = true; return nil }}
}

// WithTail shows only the last n lines of each container (logs --tail).
func WithTail(n int) LogsOption {
	return &option{name: "WithTail", verbs: logs, logs: func(s *logsSettings) error {
		if n < 0 {
			return invalidf("compose: WithTail(%d): want n >= 0", n)
		}
		s.tail, s.tailSet = n, true
		return nil
	}}
}

// WithStdout sends a one-off container's standard output to w.
func WithStdout(w io.Writer) RunOption {
	return &option{name: "WithStdout", verbs: run, run: func(s *runSettings) error { s.stdout = w; return nil }}
}

// WithStderr sends a one-off container's standard error (Run), or the
// standard error in the logs of the stack's containers (Logs), to w, as
// lifecycle.WithStderr does.
func WithStderr(w io.Writer) StderrOption {
	return &option{name: "WithStderr", verbs: run | logs,
		run:  func(s *runSettings) error { s.stderr = w; return nil },
		logs: func(s *logsSettings) error { s.stderr = w; return nil }}
}

// WithEnv adds KEY=VALUE variables to the environment of a one-off
// container (run -e), as lifecycle.WithEnv does for Run. Variables for
// interpolating the compose files are WithVariables.
func WithEnv(kv ...string) RunOption {
	return &option{name: "WithEnv", verbs: run, run: func(s *runSettings) error {
		if err := checkEnv("WithEnv", kv); err != nil {
			return err
		}
		s.env = append(s.env, kv...)
		return nil
	}}
}

// WithNoDeps skips the dependencies of the services: Up starts only the
// services named by WithServices (up --no-deps svc), not waiting for their
// depends_on conditions; Run starts none of the service's dependencies
// (run --no-deps).
func WithNoDeps() UpRunOption {
	return &option{name: "WithNoDeps", verbs: up | run,
		up:  func(s *upSettings) error { s.noDeps = true; return nil },
		run: func(s *runSettings) error { s.noDeps = true; return nil }}
}

// checkEnv fails on a variable that is not KEY=VALUE. The error names
// the key, never the value: an entry with no '=' is quoted only when it
// has the shape of a name; otherwise, and for an empty name, it is given by
// position only, since all of it may be a value, which may be a secret.
func checkEnv(fn string, kv []string) error {
	for i, e := range kv {
		k, _, ok := strings.Cut(e, "=")
		switch {
		case !ok && redact.EnvKey(e) != "":
			return invalidf("compose: %s: invalid variable %q: want KEY=VALUE", fn, e)
		case !ok:
			return invalidf("compose: %s: variable %d has no '=': want KEY=VALUE", fn, i+1)
		case k == "":
			return invalidf("compose: %s: variable %d (=...) has an empty name: want KEY=VALUE", fn, i+1)
		case strings.ContainsAny(k, " \t\r\n") && redact.EnvKey(e) != "":
			return invalidf("compose: %s: variable %d: name %q holds white space: want KEY=VALUE", fn, i+1, k)
		case strings.ContainsAny(k, " \t\r\n"):
			return invalidf("compose: %s: variable %d: the name before '=' holds white space: want KEY=VALUE", fn, i+1)
		}
	}
	return nil
}

// WithRecreateVolumes lets Up remove and recreate a project volume whose
// configuration changed since it was created (the CLI asks before doing
// so), together with the project's containers that use it: the volume's
// data is lost. Without it such a volume makes Up fail, saying what
// changed.
func WithRecreateVolumes() UpOption {
	return &option{name: "WithRecreateVolumes", verbs: up, up: func(s *upSettings) error { s.recreateVolumes = true; return nil }}
}
