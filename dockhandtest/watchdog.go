package dockhandtest

// The watchdog releases this process's holds when it ends without Main
// (or Release): no TestMain, a panic, os.Exit, a test timeout, SIGKILL.
//
// At its first hold, the test process starts the watchdog: the test
// binary itself, run again with watchdogEnv set, which this package's
// init recognises before any test code runs. The watchdog has the read
// end of a pipe whose write end only the test process has; the test
// process tells it, one line at a time, what it holds:
//
//	dockhandtest-watchdog <token> <pid>   first: the handshake
//	hold <key> <hold name>                after Client.Hold
//	server <hold name> <container id>     once the server of that hold is found
//	release <hold name>                   after the process released it itself
//
// When the test process ends, however it ends, the kernel closes the
// write end, and the watchdog reads EOF. It then releases each hold not
// released (lifecycle.Client.ReleaseHold) and, where it was the last,
// removes the shared container (lifecycle.Client.RemoveShared: it renames,
// counts the holders again and keeps the container for any live holder).
// With Main, every hold was released already: the watchdog exits without
// a word to the engine. The watchdog runs in a session of its own (a
// Ctrl-C to the terminal's process group does not reach it), with
// standard input and output on /dev/null (go test waits for whoever holds
// the test's output, and must not wait for it), and gives up after
// watchdogTimeout.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/lifecycle"
)

const (
	// watchdogEnv, set to the handshake token, makes the test binary the
	// watchdog of the process that started it.
	watchdogEnv = "DOCKHANDTEST_WATCHDOG"
	// watchdogLogEnv names a file the watchdog appends what it does to
	// (testhook.WatchdogLog).
	watchdogLogEnv = "DOCKHANDTEST_WATCHDOG_LOG"
	// watchdogTimeout bounds the watchdog's work after its process ended.
	watchdogTimeout = 2 * time.Minute
	// watchdogWriteTimeout bounds a line's write: a watchdog that stopped
	// reading is given up, never waited for.
	watchdogWriteTimeout = 5 * time.Second
	watchdogHello        = "dockhandtest-watchdog"
)

// init turns a test binary started as a watchdog into one: it never
// returns then. In every other process it only reads one environment
// variable.
func init() {
	if token := os.Getenv(watchdogEnv); token != "" {
		os.Exit(watchdogMain(token))
	}
}

// watchdog is this process's side: the write end of the pipe.
var watchdog struct {
	mu      sync.Mutex
	started bool     // tried to start it
	w       *os.File // nil when it could not start or was given up
}

// watchHold tells the watchdog that this process holds key with the
// hold named name, starting the watchdog at the first hold. A watchdog
// that cannot start or stopped reading is given up: the process then
// releases only through Main or Release, as without a watchdog.
func watchHold(key, name string) {
	if testhook.NoWatchdog {
		return
	}
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if !watchdog.started {
		watchdog.started = true
		w, err := startWatchdog()
		if err != nil {
			if !errors.Is(err, errNoWatchdog) {
				fmt.Fprintf(os.Stderr, "dockhandtest: no watchdog (shared services stay after this process unless Main or Release releases them): %v\n", err)
			}
			return
		}
		watchdog.w = w
	}
	tellLocked("hold %s %s", key, name)
}

// watchServer tells the watchdog the container the hold named name is for.
func watchServer(name, id string) { tell("server %s %s", name, id) }

// watchRelease tells the watchdog that this process released the hold
// named name itself.
func watchRelease(name string) { tell("release %s", name) }

func tell(format string, args ...any) {
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	tellLocked(format, args...)
}

func tellLocked(format string, args ...any) {
	if watchdog.w == nil {
		return
	}
	_ = watchdog.w.SetWriteDeadline(time.Now().Add(watchdogWriteTimeout))
	if _, err := fmt.Fprintf(watchdog.w, format+"\n", args...); err != nil {
		_ = watchdog.w.Close()
		watchdog.w = nil
	}
}

// errNoWatchdog is startWatchdog's error where there is none (not Unix).
var errNoWatchdog = errors.New("no watchdog on this platform")

// watchdogEnviron is the watchdog's environment: this process's, less
// what would make it write coverage data, plus the token and, for the
// tests, the log file.
func watchdogEnviron(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GOCOVERDIR" || k == watchdogEnv || k == watchdogLogEnv {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, watchdogEnv+"="+token)
	if testhook.WatchdogLog != "" {
		env = append(env, watchdogLogEnv+"="+testhook.WatchdogLog)
	}
	return env
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// watchdogMain is the watchdog: it reads the pipe on file descriptor 3
// until its process ends, then releases what it still holds. It returns
// the exit code.
func watchdogMain(token string) int {
	_ = os.Unsetenv(watchdogEnv)
	of := "?" // the watched process's pid, once the handshake names it
	logf := watchdogLogger(&of)
	r, err := watchdogPipe()
	if err != nil {
		// Started by hand, or the variable leaked into a test run: fail
		// loudly rather than pass without running a test.
		fmt.Fprintf(os.Stderr, "dockhandtest: %s is set, but this process is no watchdog: %v\n", watchdogEnv, err)
		return 2
	}
	holds, err := readWatch(r, token, &of)
	_ = r.Close()
	if err != nil {
		logf("not a watchdog: %v", err)
		fmt.Fprintf(os.Stderr, "dockhandtest: %s is set, but this process is no watchdog: %v\n", watchdogEnv, err)
		return 2
	}
	n := releaseHeld(holds, logf)
	logf("done: %d hold(s) released", n)
	return 0
}

// watchdogLogger returns the logger of what the watchdog does: to the
// file the tests name, else nowhere.
func watchdogLogger(of *string) func(format string, args ...any) {
	path := os.Getenv(watchdogLogEnv)
	if path == "" {
		return func(string, ...any) {}
	}
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		defer f.Close()
		fmt.Fprintf(f, "watchdog of %s: %s\n", *of, fmt.Sprintf(format, args...))
	}
}

// held is a hold the watchdog's process made and has not released.
type held struct {
	key, name, id string
}

// readWatch reads the lines of the watched process until EOF (its end)
// and returns the holds it did not release, in the order it made them;
// pid gets the process's pid from the handshake.
func readWatch(r io.Reader, token string, pid *string) ([]held, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, fmt.Errorf("no handshake: %v", sc.Err())
	}
	f := strings.Fields(sc.Text())
	if len(f) != 3 || f[0] != watchdogHello || f[1] != token {
		return nil, errors.New("wrong handshake")
	}
	*pid = f[2]
	var order []string
	byName := map[string]*held{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "hold":
			if byName[f[2]] == nil {
				order = append(order, f[2])
			}
			byName[f[2]] = &held{key: f[1], name: f[2]}
		case len(f) == 3 && f[0] == "server":
			if h := byName[f[1]]; h != nil {
				h.id = f[2]
			}
		case len(f) == 2 && f[0] == "release":
			delete(byName, f[1])
		}
	}
	// EOF, or a read error: either way the writer is gone or unusable.
	var out []held
	for _, name := range order {
		if h := byName[name]; h != nil {
			out = append(out, *h)
		}
	}
	return out, nil
}

// releaseHeld releases the holds of the process that ended and, where it
// was the last holder, removes the shared container. It returns how many
// holds it released.
func releaseHeld(holds []held, logf func(string, ...any)) int {
	if len(holds) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), watchdogTimeout)
	defer cancel()
	c, err := lifecycle.New(ctx)
	if err != nil {
		logf("no engine: %v", err)
		return 0
	}
	defer c.Close()
	n := 0
	for _, h := range holds {
		last, err := c.ReleaseHold(ctx, h.key, h.name)
		if err != nil {
			logf("release %s: %v", h.name, err)
			continue
		}
		n++
		logf("released %s (last: %v)", h.name, last)
		if !last {
			continue
		}
		id := h.id
		if id == "" {
			// It ended before it found its server: whatever is under the
			// key now has no other holder (RemoveShared checks it is a
			// shared container of the key, and counts again).
			ct, err := c.Container(ctx, h.key)
			if err != nil {
				logf("no container %s: %v", h.key, err)
				continue
			}
			id = ct.ID()
		}
		removed, err := c.RemoveShared(ctx, h.key, id)
		logf("remove %s %s: removed %v, error %v", h.key, id, removed, err)
	}
	return n
}
