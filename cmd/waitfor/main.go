// Command waitfor waits until services are ready, then runs a command in
// its place. It is meant as a container entrypoint:
//
//	waitfor [flags] TARGET... [-- COMMAND ARGS...]
//	waitfor [flags] -- COMMAND ARGS...     (no targets: runs the command at once)
//
//	ENTRYPOINT ["/waitfor", "postgres://app:secret@db:5432/app", "http://api:8080/healthz", "--"]
//	CMD ["/app/server"]
//
// Targets (see waitfor.ParseTarget):
//
//	host:port, tcp://host:port        a TCP port accepts connections
//	http://host[:port]/path           answers 2xx (see -status)
//	unix:///run/app.sock              a Unix socket accepts connections
//	file:///ready[?nonempty=1]        a file exists (and is not empty)
//	postgres://user:pass@db:5432/app  PostgreSQL accepts connections (like pg_isready)
//	redis://:pass@cache:6379          Redis answers PING with PONG
//	mysql://user:pass@db:3306/app     MySQL sends its handshake
//	dns://name                        a name resolves
//
// Commands as targets: -cmd 'pg_isready -h db' (repeatable) is ready when it
// exits 0. The string is split into words like a shell would (quotes and
// backslashes), without running a shell. A check that exits 0 is ready even
// when a background child it started still holds its output open; a check
// that runs longer than -attempt-timeout is killed with its process group.
//
// The small build leaves out https:// targets: crypto/tls would nearly double
// the size of the binary. Build it as
//
//	CGO_ENABLED=0 go build -tags waitfor_notls -trimpath -ldflags="-s -w" ./cmd/waitfor   # ~2.9 MB, no https
//	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" ./cmd/waitfor                       # ~5.3 MB, with https
//
// Every flag can also be set by an environment variable, so that a
// Dockerfile or a compose file can configure it without a shell; flags win:
//
//	-timeout          WAITFOR_TIMEOUT          overall limit (default 60s, 0 = forever; "15" means 15s)
//	-attempt-timeout  WAITFOR_ATTEMPT_TIMEOUT  limit of one check (default 1s)
//	-interval         WAITFOR_INTERVAL         longest pause between checks (default 20ms)
//	-status           WAITFOR_STATUS           expected HTTP status: 200, 2xx, 200-399, 200,204 (default 2xx)
//	-strict           WAITFOR_STRICT           do not run the command when the wait failed
//	-quiet            WAITFOR_QUIET            log only errors
//	-json             WAITFOR_JSON             log JSON lines instead of text
//	-v                WAITFOR_VERBOSE          log every failed check
//	-cmd              WAITFOR_CMD              a command target
//	                  WAITFOR_TARGETS          targets, separated by spaces or commas
//
// After the wait, the command replaces waitfor (execve): it keeps waitfor's
// PID (PID 1 in a container), receives the signals sent to the container, and
// its exit code is the container's. Without targets it is exec'd at once, so
// an image can keep waitfor as its entrypoint whether or not targets are set.
// Like wait-for-it, when the wait times out the command is still run, after
// an error is logged; with -strict it is not and waitfor exits 1.
//
// As PID 1 while it waits, waitfor does what an init does: it reaps the
// zombies of orphaned processes (the background jobs of -cmd checks are
// re-parented to it), and it reaps those left just before the exec, so the
// command inherits none. It handles SIGHUP, SIGINT, SIGQUIT and SIGTERM from
// the first statement of main on, before it reads its arguments: each ends
// the wait with exit code 128+n, and kills the checks still running.
//
// Exit codes: 0 ready (no command given); 1 the wait failed (timed out, or a
// check failed for good); 2 usage error; 126 the command cannot be run; 127
// the command was not found; 129, 130, 131 and 143 interrupted by SIGHUP,
// SIGINT, SIGQUIT or SIGTERM while waiting. Passwords in targets are never
// printed.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/waitfor"
)

const usageText = `Usage: waitfor [flags] TARGET... [-- COMMAND ARGS...]
       waitfor [flags] -- COMMAND ARGS...

Waits until every TARGET is ready, then replaces itself with COMMAND (at once
when no TARGET is given). As PID 1 it reaps orphaned processes while waiting.

Targets:
  host:port, tcp://host:port        a TCP port accepts connections ([::1]:5432 for IPv6)
  http://host[:port]/path           answers 2xx (see -status); https unless built with -tags waitfor_notls
  unix:///run/app.sock              a Unix socket accepts connections
  file:///ready[?nonempty=1]        a file exists (and is not empty)
  postgres://user:pass@db:5432/app  PostgreSQL accepts connections (like pg_isready)
  redis://:pass@cache:6379          Redis answers PING with PONG (not LOADING)
  mysql://user:pass@db:3306/app     MySQL sends its handshake
  dns://name                        the name resolves
  -cmd 'COMMAND ARGS'               the command exits 0 (split like a shell, not run by one;
                                    a background child it leaves running does not matter)

Flags (each can be set by the environment variable shown; a flag wins):
`

const usageTail = `  WAITFOR_TARGETS
    	targets, separated by spaces or commas (added to the arguments)

Without -strict, the command runs even when the wait timed out (like wait-for-it).
Exit codes: 0 ready, 1 wait failed, 2 usage error, 126 command not executable,
127 command not found, 128+n signal n while waiting (129 SIGHUP, 130 SIGINT,
131 SIGQUIT, 143 SIGTERM); otherwise the command's own.

Examples:
  waitfor -timeout 30s postgres://app:secret@db:5432/app http://api:8080/healthz -- /app/server
  waitfor -- /app/server      (no targets, e.g. WAITFOR_TARGETS unset: runs /app/server at once)
`

type config struct {
	timeout, attemptTimeout, interval durationFlag
	status                            string
	strict, quiet, json, verbose      bool
	cmds                              listFlag
	targets                           []string
	command                           []string
}

func main() {
	// First: from here on a stop signal exits 128+n (see catchSignals).
	in := catchSignals()
	if os.Getenv("GOMAXPROCS") == "" {
		// Checks are tiny and I/O bound; one P saves the scheduler's
		// cross-thread wake-ups at every attempt (about 15% of the CPU time
		// of a wait). The exec'd command does not inherit this.
		runtime.GOMAXPROCS(1)
	}
	os.Exit(run(in, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// usageError is a mistake in the arguments or environment: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(parts ...string) error { return &usageError{msg: strings.Join(parts, "")} }

func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("waitfor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.timeout = durationFlag(60 * time.Second)
	c.attemptTimeout = durationFlag(waitfor.DefaultAttemptTimeout)
	c.interval = durationFlag(waitfor.DefaultMaxInterval)
	fs.Var(&c.timeout, "timeout", "overall `duration` limit, 0 = forever; a bare number is seconds (WAITFOR_TIMEOUT)")
	fs.Var(&c.attemptTimeout, "attempt-timeout", "`duration` limit of one check (WAITFOR_ATTEMPT_TIMEOUT)")
	fs.Var(&c.interval, "interval", "longest `pause` between two checks (WAITFOR_INTERVAL)")
	fs.StringVar(&c.status, "status", "", "expected HTTP `status`: 200, 2xx, 200-399, 200,204 (WAITFOR_STATUS; default 2xx)")
	fs.BoolVar(&c.strict, "strict", false, "do not run the command when the wait failed; exit 1 (WAITFOR_STRICT)")
	fs.BoolVar(&c.quiet, "quiet", false, "log errors only (WAITFOR_QUIET)")
	fs.BoolVar(&c.json, "json", false, "log JSON lines (WAITFOR_JSON)")
	fs.BoolVar(&c.verbose, "v", false, "log every failed check (WAITFOR_VERBOSE)")
	fs.Var(&c.cmds, "cmd", "`command` target, ready when it exits 0; repeatable (WAITFOR_CMD)")
	fs.Usage = func() {} // the flag package calls it on errors too; see printUsage
	return fs
}

func printUsage(out io.Writer) {
	fs := newFlagSet(&config{})
	_, _ = io.WriteString(out, usageText)
	fs.SetOutput(out)
	fs.PrintDefaults()
	_, _ = io.WriteString(out, usageTail)
}

var envFlags = []struct{ env, flag string }{
	{"WAITFOR_TIMEOUT", "timeout"},
	{"WAITFOR_ATTEMPT_TIMEOUT", "attempt-timeout"},
	{"WAITFOR_INTERVAL", "interval"},
	{"WAITFOR_STATUS", "status"},
	{"WAITFOR_STRICT", "strict"},
	{"WAITFOR_QUIET", "quiet"},
	{"WAITFOR_JSON", "json"},
	{"WAITFOR_VERBOSE", "v"},
	{"WAITFOR_CMD", "cmd"},
}

// parseArgs reads the environment, then the arguments.
func parseArgs(args []string, getenv func(string) string) (*config, error) {
	c := &config{}
	fs := newFlagSet(c)
	for _, ef := range envFlags {
		v := strings.TrimSpace(getenv(ef.env))
		if v == "" {
			continue
		}
		if isBoolFlag(fs, ef.flag) {
			v = normalizeBool(v)
		}
		if err := fs.Set(ef.flag, v); err != nil {
			return nil, usagef("invalid ", ef.env, "=", strconv.Quote(truncate(v, 60)), ": ", flagErr(err))
		}
	}
	c.targets = append(c.targets, splitTargets(getenv("WAITFOR_TARGETS"))...)

	for i, a := range args {
		if a == "--" {
			c.command = args[i+1:]
			if len(c.command) == 0 {
				return nil, usagef("no command after --")
			}
			args = args[:i]
			break
		}
	}
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef(flagErr(err))
		}
		args = fs.Args()
		if len(args) > 0 {
			c.targets = append(c.targets, args[0])
			args = args[1:]
		}
	}
	if c.status != "" {
		if err := (&waitfor.HTTPCondition{URL: "http://localhost", Status: c.status}).Validate(); err != nil {
			return nil, usagef("invalid -status: ", err.Error())
		}
	}
	if c.interval <= 0 {
		return nil, usagef("invalid -interval ", time.Duration(c.interval).String(), ": must be positive")
	}
	if c.attemptTimeout <= 0 {
		return nil, usagef("invalid -attempt-timeout ", time.Duration(c.attemptTimeout).String(), ": must be positive")
	}
	if c.timeout < 0 {
		return nil, usagef("invalid -timeout ", time.Duration(c.timeout).String(), ": must not be negative")
	}
	if len(c.targets) == 0 && len(c.cmds) == 0 && len(c.command) == 0 {
		return nil, usagef("no target and no command given (targets as arguments, -cmd or WAITFOR_TARGETS; or just -- COMMAND)")
	}
	return c, nil
}

func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func normalizeBool(v string) string {
	switch strings.ToLower(v) {
	case "yes", "y", "on":
		return "true"
	case "no", "n", "off":
		return "false"
	}
	return v
}

// flagErr returns the flag package's message; it names the flag and value.
func flagErr(err error) string {
	msg := err.Error()
	// "invalid value "x" for flag -timeout: parse error" is clear enough;
	// drop the flag package's Go-ish parse error details.
	return strings.Replace(msg, ": parse error", ": not a valid value", 1)
}

// run runs waitfor; in is where stop signals are caught (see catchSignals).
func run(in *interrupts, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return 0
	}
	log := &logger{w: stderr, json: c != nil && c.json}
	if c == nil && getenv("WAITFOR_JSON") != "" {
		b, _ := strconv.ParseBool(normalizeBool(getenv("WAITFOR_JSON")))
		log.json = b
	}
	if err != nil {
		// A flag error quotes the flag, which may be -psecret.
		// One argument is one value, spaces and all: what Args hides in
		// the arguments is hidden in the message, whole and in pieces.
		log.log(lvlError, "usage error: "+redact.Values(err.Error(), redact.ArgSecrets(args)...)+" (waitfor -h for help)")
		return 2
	}
	log.quiet, log.verbose = c.quiet, c.verbose
	in.use(log, nil)

	conds := make([]waitfor.Condition, 0, len(c.targets)+len(c.cmds))
	var cmds [][]string
	for _, t := range c.targets {
		cond, err := waitfor.ParseTarget(t)
		if err != nil {
			log.log(lvlError, "usage error: "+err.Error()+" (waitfor -h for help)")
			return 2
		}
		if h, ok := cond.(*waitfor.HTTPCondition); ok && c.status != "" {
			h.Status = c.status
		}
		conds = append(conds, cond)
	}
	for _, s := range c.cmds {
		words, err := splitWords(s)
		if err != nil || len(words) == 0 {
			// Only the program's name is echoed: the rest may hold a secret
			// that, unparsed, cannot be told apart to be redacted.
			prog, _, _ := strings.Cut(strings.TrimSpace(s), " ")
			log.log(lvlError, "usage error: invalid -cmd starting with "+strconv.Quote(truncate(redact.Text(prog), 40))+
				": want a command and its arguments, quoted like in a shell (unbalanced quote or trailing backslash?)")
			return 2
		}
		cmds = append(cmds, words)
	}

	// Find the command first: a typo should not cost the whole timeout.
	var path string
	if len(c.command) > 0 {
		path, err = exec.LookPath(c.command[0])
		if err != nil {
			code := 127
			if errors.Is(err, os.ErrPermission) {
				code = 126
			}
			log.log(lvlError, "cannot run the command", "command", redact.Args(c.command[:1])[0],
				"error", redact.Values(err.Error(), redact.ArgSecrets(c.command[:1])...))
			return code
		}
	}

	if len(conds)+len(cmds) == 0 {
		// Nothing to wait for: run the command at once.
		return execCommand(in, log, path, c.command)
	}

	// Reap children (as PID 1, the orphans of forking -cmd checks) while
	// waiting; the -cmd checks get their exit status from the reaper.
	r := startReaper()
	in.use(log, r)
	for _, words := range cmds {
		conds = append(conds, newCommandCheck(r, words))
	}

	names := make([]string, len(conds))
	for i, cond := range conds {
		names[i] = cond.String()
	}
	timeoutText := "none"
	if c.timeout > 0 {
		timeoutText = time.Duration(c.timeout).String()
	}
	log.log(lvlInfo, "waiting", "targets", strings.Join(names, " "), "timeout", timeoutText)

	w := waitfor.Waiter{
		Timeout:        time.Duration(c.timeout),
		AttemptTimeout: time.Duration(c.attemptTimeout),
		MaxInterval:    time.Duration(c.interval),
		OnAttempt: func(a waitfor.Attempt) {
			if a.Err == nil {
				log.log(lvlInfo, "ready", "target", a.Condition.String(), "attempts", a.N, "elapsed", a.Elapsed)
			} else if log.verbose {
				log.log(lvlDebug, "not ready", "target", a.Condition.String(), "attempt", a.N, "elapsed", a.Elapsed, "error", a.Err.Error())
			}
		},
	}
	err = w.Wait(context.Background(), conds...)
	r.stop()
	if err != nil {
		var werr *waitfor.Error
		reason := err.Error()
		if errors.As(err, &werr) {
			reason = "gave up"
			if errors.Is(err, context.DeadlineExceeded) {
				reason = "timed out after " + time.Duration(c.timeout).String()
			}
			for _, p := range werr.Pending {
				lastErr := ""
				if p.LastErr != nil {
					lastErr = p.LastErr.Error()
				}
				log.log(lvlError, "not ready", "target", p.Condition, "attempts", p.Attempts, "error", lastErr)
			}
		}
		if c.strict || len(c.command) == 0 {
			log.log(lvlError, reason)
			return 1
		}
		log.log(lvlWarn, reason+"; running the command anyway (use -strict to exit 1 instead)")
	}
	if len(c.command) == 0 {
		return 0
	}
	return execCommand(in, log, path, c.command)
}

// execCommand replaces waitfor with the command at path; it returns only
// when that failed, with exit code 126 or 127.
func execCommand(in *interrupts, log *logger, path string, argv []string) int {
	log.log(lvlInfo, "exec", "command", path)
	err := in.exec(path, argv, os.Environ())
	code := 127
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOEXEC) {
		code = 126
	}
	log.log(lvlError, "cannot run the command", "command", redact.Args([]string{path})[0],
		"error", redact.Values(err.Error(), redact.ArgSecrets([]string{path})...))
	return code
}

// durationFlag is a time.Duration flag that also takes a bare number of
// seconds, like wait-for-it's -t 15.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eEnNiI") {
		*d = durationFlag(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 30s, 1m30s or 500ms")
	}
	*d = durationFlag(v)
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// splitWords splits s into words like a POSIX shell would, with single and
// double quotes and backslashes, without expansions.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case ch == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// splitTargets splits WAITFOR_TARGETS at commas and white space, except
// inside a URL's userinfo: a password may hold either ("postgres://app:a,b
// c@db/app"), and a piece cut out of it must not become a target of its
// own, shown in an error. After a URL piece with no '@', the pieces up to
// the next one with an '@' (and no "://") belong to it.
func splitTargets(s string) []string {
	type span struct{ start, end int }
	var pieces []span
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || strings.IndexByte(", \t\n", s[i]) >= 0 {
			if start >= 0 {
				pieces = append(pieces, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	var out []string
	for i := 0; i < len(pieces); i++ {
		p := s[pieces[i].start:pieces[i].end]
		if strings.Contains(p, "://") && !strings.Contains(p, "@") {
			for j := i + 1; j < len(pieces); j++ {
				q := s[pieces[j].start:pieces[j].end]
				if strings.Contains(q, "://") {
					break
				}
				if strings.Contains(q, "@") {
					p, i = s[pieces[i].start:pieces[j].end], j // the separators were the password's
					break
				}
			}
		}
		out = append(out, p)
	}
	return out
}
