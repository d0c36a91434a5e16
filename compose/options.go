package compose

import (
	"fmt"
	"io"
	"strings"
	"time"

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
type UpOption interface{ applyUp(*settings) error }

// DownOption configures Stack.Down.
type DownOption interface{ applyDown(*settings) error }

// PsOption configures Stack.Ps.
type PsOption interface{ applyPs(*settings) error }

// LogsOption configures Stack.Logs.
type LogsOption interface{ applyLogs(*settings) error }

// StopOption configures Stack.Stop.
type StopOption interface{ applyStop(*settings) error }

// StartOption configures Stack.Start.
type StartOption interface{ applyStart(*settings) error }

// RestartOption configures Stack.Restart.
type RestartOption interface{ applyRestart(*settings) error }

// RunOption configures Stack.Run.
type RunOption interface{ applyRun(*settings) error }

// ProgressOption is WithProgress: it serves Up, Down, Stop, Start, Restart and Run.
type ProgressOption interface {
	UpOption
	DownOption
	StopOption
	StartOption
	RestartOption
	RunOption
}

// ServicesOption is WithServices: it serves Up, Ps, Logs, Stop, Start and Restart.
type ServicesOption interface {
	UpOption
	PsOption
	LogsOption
	StopOption
	StartOption
	RestartOption
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

// UpRunOption serves Up and Run (WithAllInterfaces).
type UpRunOption interface {
	UpOption
	RunOption
}

// settings holds what the options set; each verb reads its own fields.
type settings struct {
	wait          bool
	waitTimeout   time.Duration
	build         bool
	progress      io.Writer
	services      []string
	removeOrphans bool
	allInterfaces bool
	forceRecreate bool
	volumes       bool
	removeImages  bool
	timeout       *time.Duration
	all           bool
	follow        bool
	tail          int
	tailSet       bool
	stdout        io.Writer
	stderr        io.Writer
	env           []string
	noDeps        bool
}

type verb uint8

const (
	up verb = 1 << iota
	down
	ps
	logs
	stop
	start
	restart
	run
)

var verbNames = []string{"Up", "Down", "Ps", "Logs", "Stop", "Start", "Restart", "Run"}

// option is the one concrete type behind every option type: the verbs
// it serves, and what it sets. The With... functions return it as the
// interface of exactly those verbs.
type option struct {
	name  string
	verbs verb
	set   func(*settings) error
}

func opt(name string, verbs verb, f func(*settings) error) *option {
	return &option{name: name, verbs: verbs, set: f}
}

// apply sets s, or fails if the option does not serve v: reachable only
// by converting an option to another option type by assertion.
func (o *option) apply(v verb, s *settings) error {
	if o.verbs&v == 0 {
		name := ""
		for i, n := range verbNames {
			if v == 1<<i {
				name = n
			}
		}
		return invalidf("compose: %s: option %s does not apply", name, o.name)
	}
	return o.set(s)
}

func (o *option) applyUp(s *settings) error      { return o.apply(up, s) }
func (o *option) applyDown(s *settings) error    { return o.apply(down, s) }
func (o *option) applyPs(s *settings) error      { return o.apply(ps, s) }
func (o *option) applyLogs(s *settings) error    { return o.apply(logs, s) }
func (o *option) applyStop(s *settings) error    { return o.apply(stop, s) }
func (o *option) applyStart(s *settings) error   { return o.apply(start, s) }
func (o *option) applyRestart(s *settings) error { return o.apply(restart, s) }
func (o *option) applyRun(s *settings) error     { return o.apply(run, s) }

// applyOpts builds a verb's settings from its options; a nil option is
// an error wrapping lifecycle.ErrInvalid.
func applyOpts[O any](name string, opts []O, apply func(O, *settings) error) (*settings, error) {
	s := &settings{}
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

type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return lifecycle.ErrInvalid }

// WithWait makes Up return only when every started service is running,
// or healthy if it has a healthcheck (docker compose up --wait). A
// service that exits, or becomes unhealthy, fails Up; a one-shot service
// (others depend on it with service_completed_successfully) may exit 0.
func WithWait() UpOption {
	return opt("WithWait", up, func(s *settings) error { s.wait = true; return nil })
}

// WithWaitTimeout bounds the whole of Up, waiting included
// (--wait-timeout); reaching it is a failure. It implies WithWait.
func WithWaitTimeout(d time.Duration) UpOption {
	return opt("WithWaitTimeout", up, func(s *settings) error {
		if d <= 0 {
			return invalidf("compose: WithWaitTimeout(%v): want a positive duration", d)
		}
		s.wait, s.waitTimeout = true, d
		return nil
	})
}

// WithBuild builds the images of services with a build: section even if
// they exist (up --build). Without it they are built only when missing.
func WithBuild() UpOption {
	return opt("WithBuild", up, func(s *settings) error { s.build = true; return nil })
}

// WithProgress writes one line per step and per service state change
// (pulling, building, created, started, healthy, stopped, removed...).
func WithProgress(w io.Writer) ProgressOption {
	return opt("WithProgress", up|down|stop|start|restart|run, func(s *settings) error { s.progress = w; return nil })
}

// WithServices narrows the verb to these services. For Up, their
// dependencies are started too, as with docker compose up svc.
func WithServices(names ...string) ServicesOption {
	return opt("WithServices", up|ps|logs|stop|start|restart, func(s *settings) error {
		for _, n := range names {
			if n == "" {
				return invalidf("compose: WithServices: empty service name")
			}
		}
		s.services = append(s.services, names...)
		return nil
	})
}

// WithRemoveOrphans removes containers of the project whose service is no
// longer in the compose files (--remove-orphans).
func WithRemoveOrphans() UpDownOption {
	return opt("WithRemoveOrphans", up|down, func(s *settings) error { s.removeOrphans = true; return nil })
}

// WithAllInterfaces publishes ports that give no host IP on all
// interfaces (0.0.0.0), as docker compose does. By default Dockhand binds
// them to 127.0.0.1 only.
func WithAllInterfaces() UpRunOption {
	return opt("WithAllInterfaces", up|run, func(s *settings) error { s.allInterfaces = true; return nil })
}

// WithForceRecreate recreates containers even if their configuration did
// not change (--force-recreate).
func WithForceRecreate() UpOption {
	return opt("WithForceRecreate", up, func(s *settings) error { s.forceRecreate = true; return nil })
}

// WithRemoveVolumes makes Down remove the project's named volumes too
// (down -v), as lifecycle.WithRemoveVolumes does for a container's (rm -v).
func WithRemoveVolumes() DownOption {
	return opt("WithRemoveVolumes", down, func(s *settings) error { s.volumes = true; return nil })
}

// WithRemoveImages makes Down remove the images Up built for the project
// (down --rmi local).
func WithRemoveImages() DownOption {
	return opt("WithRemoveImages", down, func(s *settings) error { s.removeImages = true; return nil })
}

// WithGracePeriod is how long a container gets to stop after its stop
// signal before it is killed (-t), as lifecycle.WithGracePeriod. Default:
// the service's stop_grace_period, else 10s.
func WithGracePeriod(d time.Duration) GracePeriodOption {
	return opt("WithGracePeriod", up|down|stop|restart, func(s *settings) error {
		if d < 0 {
			return invalidf("compose: WithGracePeriod(%v): want a duration >= 0", d)
		}
		s.timeout = &d
		return nil
	})
}

// WithAll lists stopped containers too (ps -a).
func WithAll() PsOption {
	return opt("WithAll", ps, func(s *settings) error { s.all = true; return nil })
}

// WithFollow keeps streaming logs until ctx ends (logs -f).
func WithFollow() LogsOption {
	return opt("WithFollow", logs, func(s *settings) error { s.follow = true; return nil })
}

// WithTail shows only the last n lines of each container (logs --tail).
func WithTail(n int) LogsOption {
	return opt("WithTail", logs, func(s *settings) error {
		if n < 0 {
			return invalidf("compose: WithTail(%d): want n >= 0", n)
		}
		s.tail, s.tailSet = n, true
		return nil
	})
}

// WithStdout sends a one-off container's standard output to w.
func WithStdout(w io.Writer) RunOption {
	return opt("WithStdout", run, func(s *settings) error { s.stdout = w; return nil })
}

// WithStderr sends a one-off container's standard error (Run), or the
// standard error in the logs of the stack's containers (Logs), to w, as
// lifecycle.WithStderr does.
func WithStderr(w io.Writer) StderrOption {
	return opt("WithStderr", run|logs, func(s *settings) error { s.stderr = w; return nil })
}

// WithEnv adds KEY=VALUE variables to the environment of a one-off
// container (run -e), as lifecycle.WithEnv does for Run. Variables for
// interpolating the compose files are WithVariables.
func WithEnv(kv ...string) RunOption {
	return opt("WithEnv", run, func(s *settings) error {
		if err := checkEnv("WithEnv", kv); err != nil {
			return err
		}
		s.env = append(s.env, kv...)
		return nil
	})
}

// WithNoDeps makes Run skip starting the service's dependencies (run --no-deps).
func WithNoDeps() RunOption {
	return opt("WithNoDeps", run, func(s *settings) error { s.noDeps = true; return nil })
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
