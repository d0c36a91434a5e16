package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/internal/tail"
	"github.com/dockhand/dockhand/waitfor"
)

// reaper collects the exit status of every child of this process, so that
// waitfor, as PID 1 of a container, leaves no zombies: the orphans of a
// forking -cmd check (a shell's background jobs) are re-parented to PID 1,
// and nobody else would wait for them.
//
// Reaping with wait4(-1) takes the status of any child, including the
// command checks'. So checks are not started with os/exec (whose Wait would
// find its child already reaped): reaper.start starts them, and reap routes
// each status to the check waiting for that pid. Orphans' statuses are
// dropped. Starting a child and reaping hold the same lock, so a status is
// never read before its pid is registered, and a pid is signalled only while
// it is still unreaped (it cannot have been reused).
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus // running checks, by pid
	sigchld chan os.Signal
	done    chan struct{}
	stopped bool
}

// startReaper reaps the zombies already there and then every child that
// exits (on SIGCHLD), until stop.
func startReaper() *reaper {
	r := &reaper{
		waiting: map[int]chan syscall.WaitStatus{},
		sigchld: make(chan os.Signal, 1),
		done:    make(chan struct{}),
	}
	signal.Notify(r.sigchld, syscall.SIGCHLD)
	r.reap()
	go func() {
		for {
			select {
			case <-r.sigchld:
				// SIGCHLDs coalesce: reap collects every child that has
				// exited, not one per signal.
				r.reap()
			case <-r.done:
				return
			}
		}
	}()
	return r
}

// reap collects every exited child without blocking.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD: no children; 0: none has exited
		}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws // buffered
		}
	}
}

// stop ends the reaping on SIGCHLD and reaps the zombies left, just before
// the command is exec'd: it should not inherit them.
func (r *reaper) stop() {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		signal.Stop(r.sigchld)
		close(r.done)
	}
	r.mu.Unlock()
	r.reap()
}

// start starts argv[0] at path as a child in a process group of its own,
// with stdin from /dev/null and stdout and stderr to out, and returns its
// pid and the channel that receives its exit status.
func (r *reaper) start(path string, argv []string, out *os.File) (int, <-chan syscall.WaitStatus, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = null.Close() }()
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{null.Fd(), out.Fd(), out.Fd()},
		// Its own process group: a timed-out check is killed with its
		// children (sh -c 'pg_isready ...' leaves no pg_isready behind).
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return 0, nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	ch := make(chan syscall.WaitStatus, 1)
	r.waiting[pid] = ch
	return pid, ch, nil
}

// kill sends SIGKILL to the process group of the check pid, if it has not
// been reaped yet.
func (r *reaper) kill(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiting[pid]; ok {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// killAll kills the process groups of the checks still running (waitfor
// is about to exit on a signal).
func (r *reaper) killAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid := range r.waiting {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// outputDelay bounds how long a failed check's output is read after it
// exited: a background child may hold the pipe open (as os/exec's
// WaitDelay).
const outputDelay = 100 * time.Millisecond

// commandCheck is a -cmd target: ready when the command exits 0. It is run
// as a child collected by the reaper (see reaper). It does not wait for the
// end of its output once it exited 0: a background child it left holding
// stdout open does not make it "not ready". Its String is that of
// waitfor.Command, which hides secrets.
type commandCheck struct {
	waitfor.Condition // for String
	argv              []string
	r                 *reaper
}

func newCommandCheck(r *reaper, argv []string) *commandCheck {
	return &commandCheck{Condition: waitfor.Command(argv[0], argv[1:]...), argv: argv, r: r}
}

// Check runs the command once.
func (c *commandCheck) Check(ctx context.Context) error {
	path, err := exec.LookPath(c.argv[0])
	if err != nil {
		// The error quotes the name, which may be a whole command line.
		return waitfor.Permanent(redact.Error(err))
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	pid, status, err := c.r.start(path, c.argv, pw)
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return waitfor.Permanent(redact.Error(err))
		}
		return redact.Error(err)
	}
	out := &tail.Buffer{Max: 512}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, pr)
		close(copied)
	}()
	var ws syscall.WaitStatus
	select {
	case ws = <-status:
	case <-ctx.Done():
		c.r.kill(pid)
		ws = <-status
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		_ = pr.Close()
		return nil
	}
	select {
	case <-copied:
	case <-time.After(outputDelay):
	}
	_ = pr.Close()
	<-copied
	msg := "exit status " + strconv.Itoa(ws.ExitStatus())
	if ws.Signaled() {
		msg = "signal: " + ws.Signal().String()
	}
	// The output may echo the command line or the environment: the same
	// scrubbing as waitfor.Command's.
	if text := redact.Values(out.String(), redact.ArgSecrets(c.argv)...); text != "" {
		msg += ": " + text
	}
	if ctx.Err() != nil {
		return &checkError{msg: msg, err: ctx.Err()}
	}
	return errors.New(msg)
}

// checkError is a check cut short by its context; errors.Is finds the
// context's error.
type checkError struct {
	msg string
	err error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.err }
