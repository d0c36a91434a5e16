package waitfor

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/internal/tail"
)

// TCP is ready when a TCP connection to addr ("host:port", "[::1]:5432")
// can be opened. The connection is closed at once.
func TCP(addr string) Condition { return dialCond{network: "tcp", addr: addr} }

// Unix is ready when a connection to the Unix socket at path can be opened.
func Unix(path string) Condition { return dialCond{network: "unix", addr: path} }

type dialCond struct{ network, addr string }

func (d dialCond) Check(ctx context.Context) error {
	conn, err := dial(ctx, d.network, d.addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (d dialCond) String() string {
	if d.network == "unix" {
		return "unix://" + d.addr
	}
	return "tcp://" + d.addr
}

var dialer net.Dialer

func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return conn, nil
}

// File is ready when path exists (a file, a directory or anything else).
func File(path string) Condition { return fileCond{path: path} }

// NonEmptyFile is ready when path is a regular file of at least one byte.
func NonEmptyFile(path string) Condition { return fileCond{path: path, nonEmpty: true} }

type fileCond struct {
	path     string
	nonEmpty bool
}

func (f fileCond) Check(ctx context.Context) error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	if f.nonEmpty {
		if !fi.Mode().IsRegular() {
			return errors.New(f.path + ": not a regular file")
		}
		if fi.Size() == 0 {
			return errors.New(f.path + ": empty")
		}
	}
	return nil
}

func (f fileCond) String() string {
	if f.nonEmpty {
		return "file://" + f.path + "?nonempty=1"
	}
	return "file://" + f.path
}

// Command is ready when the command exits with status 0, even if a
// background child it started still holds its output open. Its standard
// output and error are captured and the end of them is put into the error. The
// command is killed when the check times out. A command that cannot be found
// is a Permanent error. Its String, and the output in its errors, hide
// secrets the way internal/redact does: secret-named KEY=VALUE arguments,
// the passwords of URL arguments, password flags (-pSECRET, --password X,
// redis-cli -a X, ...).
func Command(name string, args ...string) Condition {
	return commandCond{name: name, args: args}
}

type commandCond struct {
	name string
	args []string
}

func (c commandCond) Check(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, c.name, c.args...)
	out := &tail.Buffer{Max: 512} // a chatty check stays bounded
	cmd.Stdout = out
	cmd.Stderr = out
	// A grandchild keeping the output pipe open must not block us.
	cmd.WaitDelay = 100 * time.Millisecond
	err := cmd.Run()
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		// ErrWaitDelay: it exited 0 and a background child it left still
		// holds the output open. It is ready.
		return nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		// The error quotes the name, which may be a whole command line.
		return Permanent(redact.Error(err))
	}
	// The output may echo the command line or the environment.
	text := redact.Values(out.String(), redact.ArgSecrets(append([]string{c.name}, c.args...))...)
	if text != "" {
		return errors.New(err.Error() + ": " + text)
	}
	return err
}

func (c commandCond) String() string {
	return "cmd:" + strings.Join(redact.Args(append([]string{c.name}, c.args...)), " ")
}

// DNS is ready when name resolves to at least one address.
func DNS(name string) Condition { return dnsCond(name) }

type dnsCond string

func (d dnsCond) Check(ctx context.Context) error {
	addrs, err := net.DefaultResolver.LookupHost(ctx, string(d))
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return errors.New("lookup " + string(d) + ": no addresses")
	}
	return nil
}

func (d dnsCond) String() string { return "dns://" + string(d) }

// Func makes a Condition of fn, described by desc (which must not contain
// secrets). fn returns nil when ready; it may return Permanent errors.
func Func(desc string, fn func(ctx context.Context) error) Condition {
	return funcCond{desc: desc, fn: fn}
}

type funcCond struct {
	desc string
	fn   func(ctx context.Context) error
}

func (f funcCond) Check(ctx context.Context) error { return f.fn(ctx) }
func (f funcCond) String() string                  { return f.desc }

// All is ready when every one of conds is ready; they are checked
// concurrently. Its error lists those that are not ready, and is Permanent
// when one of them failed permanently.
func All(conds ...Condition) Condition { return groupCond{all: true, conds: conds} }

// Any is ready when at least one of conds is ready; they are checked
// concurrently. Its error is Permanent only when every one of them failed
// permanently. Any() with no conditions is never ready.
func Any(conds ...Condition) Condition { return groupCond{conds: conds} }

type groupCond struct {
	all   bool
	conds []Condition
}

func (g groupCond) Check(ctx context.Context) error {
	if len(g.conds) == 0 {
		if g.all {
			return nil
		}
		return Permanent(errors.New("any(): no conditions"))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(g.conds))
	var wg sync.WaitGroup
	for i, c := range g.conds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Check(ctx)
			if errs[i] == nil && !g.all {
				cancel() // one is enough
			}
		}()
	}
	wg.Wait()

	ge := &groupError{}
	permanent := 0
	for i, err := range errs {
		if err == nil {
			if !g.all {
				return nil
			}
			continue
		}
		if IsPermanent(err) {
			permanent++
		}
		// The group decides below whether it is permanent as a whole; a
		// member's own mark must not leak through the chain.
		if pe, ok := err.(*permanentError); ok {
			err = pe.err
		}
		ge.names = append(ge.names, g.conds[i].String())
		ge.errs = append(ge.errs, err)
	}
	if len(ge.errs) == 0 {
		return nil
	}
	var err error = ge
	if (g.all && permanent > 0) || (!g.all && permanent == len(g.conds)) {
		return Permanent(err)
	}
	return err
}

func (g groupCond) String() string {
	names := make([]string, len(g.conds))
	for i, c := range g.conds {
		names[i] = c.String()
	}
	op := "any("
	if g.all {
		op = "all("
	}
	return op + strings.Join(names, ", ") + ")"
}

// Not is ready when cond is not ready: a port that was freed, a file that
// is gone. A cond that failed permanently counts as not ready, so Not of it is
// ready.
func Not(cond Condition) Condition { return notCond{c: cond} }

type notCond struct{ c Condition }

func (n notCond) Check(ctx context.Context) error {
	err := n.c.Check(ctx)
	if err == nil {
		return errors.New("still ready: " + n.c.String())
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !IsPermanent(err) {
		// cond did not get to an answer: that says nothing.
		return ctxErr
	}
	return nil
}

func (n notCond) String() string { return "not(" + n.c.String() + ")" }

// groupError lists the members of All/Any that are not ready, and keeps
// their errors reachable for errors.Is and errors.As.
type groupError struct {
	names []string
	errs  []error
}

func (e *groupError) Error() string {
	var b strings.Builder
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.names[i])
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *groupError) Unwrap() []error { return e.errs }
