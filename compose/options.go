package compose

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dockhand/dockhand/internal/redact"
)

// Option configures one Stack verb (Up, Down, Ps, Logs, Stop, Start,
// Restart, Run). One type serves all verbs, like lifecycle.Option; an
// option given to a verb it means nothing to is an error naming both.
type Option struct {
	name  string
	verbs string
	apply func(*settings) error
}

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

func opt(name, verbs string, f func(*settings) error) Option {
	return Option{name: name, verbs: verbs, apply: f}
}

func applyOpts(verb string, opts []Option) (*settings, error) {
	s := &settings{}
	for _, o := range opts {
		if o.apply == nil {
			return nil, fmt.Errorf("compose: %s: zero Option value: build options with the With... functions", verb)
		}
		if !strings.Contains(" "+o.verbs+" ", " "+verb+" ") {
			return nil, fmt.Errorf("compose: %s: option %s does not apply (it applies to %s)", verb, o.name, strings.ReplaceAll(o.verbs, " ", ", "))
		}
		if err := o.apply(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// WithWait makes Up return only when every started service is running,
// or healthy if it has a healthcheck (docker compose up --wait). A
// service that exits, or becomes unhealthy, fails Up; a one-shot service
// (others depend on it with service_completed_successfully) may exit 0.
func WithWait() Option {
	return opt("WithWait", "Up", func(s *settings) error { s.wait = true; return nil })
}

// WithWaitTimeout bounds the whole of Up, waiting included
// (--wait-timeout); reaching it is a failure. It implies WithWait.
func WithWaitTimeout(d time.Duration) Option {
	return opt("WithWaitTimeout", "Up", func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("compose: WithWaitTimeout(%v): want a positive duration", d)
		}
		s.wait, s.waitTimeout = true, d
		return nil
	})
}

// WithBuild builds the images of services with a build: section even if
// they exist (up --build). Without it they are built only when missing.
func WithBuild() Option {
	return opt("WithBuild", "Up", func(s *settings) error { s.build = true; return nil })
}

// WithProgress writes one line per step and per service state change
// (pulling, building, created, started, healthy, stopped, removed...).
func WithProgress(w io.Writer) Option {
	return opt("WithProgress", "Up Down Stop Start Restart Run", func(s *settings) error { s.progress = w; return nil })
}

// WithServices narrows the verb to these services. For Up, their
// dependencies are started too, as with docker compose up svc.
func WithServices(names ...string) Option {
	return opt("WithServices", "Up Ps Logs Stop Start Restart", func(s *settings) error {
		for _, n := range names {
			if n == "" {
				return fmt.Errorf("compose: WithServices: empty service name")
			}
		}
		s.services = append(s.services, names...)
		return nil
	})
}

// WithRemoveOrphans removes containers of the project whose service is no
// longer in the compose files (--remove-orphans).
func WithRemoveOrphans() Option {
	return opt("WithRemoveOrphans", "Up Down", func(s *settings) error { s.removeOrphans = true; return nil })
}

// WithAllInterfaces publishes ports that give no host IP on all
// interfaces (0.0.0.0), as docker compose does. By default Dockhand binds
// them to 127.0.0.1 only.
func WithAllInterfaces() Option {
	return opt("WithAllInterfaces", "Up Run", func(s *settings) error { s.allInterfaces = true; return nil })
}

// WithForceRecreate recreates containers even if their configuration did
// not change (--force-recreate).
func WithForceRecreate() Option {
	return opt("WithForceRecreate", "Up", func(s *settings) error { s.forceRecreate = true; return nil })
}

// WithVolumes makes Down remove the project's named volumes too (down -v).
func WithVolumes() Option {
	return opt("WithVolumes", "Down", func(s *settings) error { s.volumes = true; return nil })
}

// WithRemoveImages makes Down remove the images Up built for the project
// (down --rmi local).
func WithRemoveImages() Option {
	return opt("WithRemoveImages", "Down", func(s *settings) error { s.removeImages = true; return nil })
}

// WithTimeout is how long a container gets to stop after its stop signal
// before it is killed (-t). Default: the service's stop_grace_period, else 10s.
func WithTimeout(d time.Duration) Option {
	return opt("WithTimeout", "Up Down Stop Restart", func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("compose: WithTimeout(%v): want a duration >= 0", d)
		}
		s.timeout = &d
		return nil
	})
}

// WithAll lists stopped containers too (ps -a).
func WithAll() Option {
	return opt("WithAll", "Ps", func(s *settings) error { s.all = true; return nil })
}

// WithFollow keeps streaming logs until ctx ends (logs -f).
func WithFollow() Option {
	return opt("WithFollow", "Logs", func(s *settings) error { s.follow = true; return nil })
}

// WithTail shows only the last n lines of each container (logs --tail).
func WithTail(n int) Option {
	return opt("WithTail", "Logs", func(s *settings) error {
		if n < 0 {
			return fmt.Errorf("compose: WithTail(%d): want n >= 0", n)
		}
		s.tail, s.tailSet = n, true
		return nil
	})
}

// WithStdout sends a one-off container's standard output to w.
func WithStdout(w io.Writer) Option {
	return opt("WithStdout", "Run", func(s *settings) error { s.stdout = w; return nil })
}

// WithStderr sends a one-off container's standard error to w.
func WithStderr(w io.Writer) Option {
	return opt("WithStderr", "Run", func(s *settings) error { s.stderr = w; return nil })
}

// WithRunEnv adds KEY=VALUE variables to a one-off container (run -e).
func WithRunEnv(kv ...string) Option {
	return opt("WithRunEnv", "Run", func(s *settings) error {
		if err := checkEnv("WithRunEnv", kv); err != nil {
			return err
		}
		s.env = append(s.env, kv...)
		return nil
	})
}

// WithNoDeps makes Run skip starting the service's dependencies (run --no-deps).
func WithNoDeps() Option {
	return opt("WithNoDeps", "Run", func(s *settings) error { s.noDeps = true; return nil })
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
			return fmt.Errorf("compose: %s: invalid variable %q: want KEY=VALUE", fn, e)
		case !ok:
			return fmt.Errorf("compose: %s: variable %d has no '=': want KEY=VALUE", fn, i+1)
		case k == "":
			return fmt.Errorf("compose: %s: variable %d (=...) has an empty name: want KEY=VALUE", fn, i+1)
		case strings.ContainsAny(k, " \t\r\n") && redact.EnvKey(e) != "":
			return fmt.Errorf("compose: %s: variable %d: name %q holds white space: want KEY=VALUE", fn, i+1, k)
		case strings.ContainsAny(k, " \t\r\n"):
			return fmt.Errorf("compose: %s: variable %d: the name before '=' holds white space: want KEY=VALUE", fn, i+1)
		}
	}
	return nil
}
