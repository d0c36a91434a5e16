package main

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// stopSignals end waitfor before the command runs, with exit code 128+n as
// a shell reports a process killed by signal n: SIGHUP 129, SIGINT 130,
// SIGQUIT 131, SIGTERM 143 (docker stop). As PID 1 of a container waitfor
// gets no default action for them from the kernel, so it must act itself.
//
// signal.Notify enables them one by one, and the first one waits for the
// runtime to start its signal thread: SIGTERM, the one a container gets,
// comes first.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT}

// interrupts turns a stop signal into an exit with 128+n. catchSignals is
// the first thing main does, before the arguments are parsed, so that no
// signal finds the Go runtime's default (exit 2 as PID 1, a goroutine dump
// for SIGQUIT). What no Go program can cover is the runtime's own start-up
// before main, and signal.Notify's enabling of the four signals.
type interrupts struct {
	ch chan os.Signal
	// mu is held by the exit on a signal and by the exec of the command:
	// only one of them happens.
	mu     sync.Mutex
	got    atomic.Value // the signal taken from ch, set before mu is asked for
	log    *logger      // nil until run has read its flags
	reaper *reaper      // nil until checks can start children
}

func catchSignals() *interrupts {
	in := &interrupts{ch: make(chan os.Signal, len(stopSignals))}
	signal.Notify(in.ch, stopSignals...)
	go func() {
		sig := <-in.ch
		in.got.Store(sig) // an exec holding mu sees it and exits instead
		in.mu.Lock()      // an exec under way goes first; if it fails, exit here
		in.exit(sig)
	}()
	return in
}

// use makes the exit on a signal log with log and kill the checks of r.
func (in *interrupts) use(log *logger, r *reaper) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.log, in.reaper = log, r
}

// exit kills the running checks, logs and exits with 128+n. in.mu is held.
func (in *interrupts) exit(sig os.Signal) {
	if in.reaper != nil {
		in.reaper.killAll()
	}
	log := in.log
	if log == nil {
		log = &logger{w: os.Stderr}
	}
	log.log(lvlWarn, "interrupted while waiting", "signal", sig.String())
	os.Exit(signalExitCode(sig))
}

func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// exec replaces waitfor with the command, unless a stop signal has
// arrived: then it exits with 128+n. The signals stay caught up to the
// execve, which resets them to their defaults for the command. It returns
// only when the exec failed.
//
// A signal that reaches the Go runtime in the last microseconds before the
// execve is lost with the old program image; a process cannot hand a
// caught signal over across execve.
func (in *interrupts) exec(path string, argv, env []string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	select {
	case sig := <-in.ch:
		in.exit(sig)
	default:
	}
	if sig, ok := in.got.Load().(os.Signal); ok {
		in.exit(sig) // taken from ch by the goroutine, which waits for mu
	}
	return syscall.Exec(path, argv, env)
}
