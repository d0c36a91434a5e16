package lifecycle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"github.com/dockhand/dockhand/waitfor"
)

// Docker-aware conditions for package waitfor. Every one of them fails at
// once, with a waitfor.Permanent *ExitError carrying the exit code and the
// last log lines, when the container stops (exits, is OOM-killed or is
// removed) before the condition holds: waiting on longer could only end in
// a timeout.

// exitLogLines is how many log lines an *ExitError carries.
const exitLogLines = 10

// ExitError is the Permanent error of a wait on a container that stopped
// for good before the condition held. errors.As finds it in the error that
// waitfor.Wait returns.
type ExitError struct {
	Container string   // name, or short id
	Status    string   // "exited", "dead", or "removed" when it is gone
	ExitCode  int      // -1 when unknown (a container removed before we saw it exit)
	OOMKilled bool     // killed by the kernel for exceeding its memory limit
	Logs      []string // its last log lines (stdout and stderr), oldest first, secrets hidden

	want string // what the condition wanted, for Exited
}

func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString("container " + e.Container)
	switch {
	case e.OOMKilled:
		fmt.Fprintf(&b, " was OOM-killed (out of memory; exit code %d)", e.ExitCode)
	case e.Status == "removed" && e.ExitCode < 0:
		b.WriteString(" was removed")
	case e.Status == "removed":
		fmt.Fprintf(&b, " exited with code %d and was removed", e.ExitCode)
	case e.ExitCode == 137:
		b.WriteString(" exited with code 137 (SIGKILL; the engine saw no OOM kill)")
	default:
		fmt.Fprintf(&b, " exited with code %d", e.ExitCode)
	}
	if e.want != "" {
		b.WriteString(" (" + e.want + ")")
	}
	if len(e.Logs) == 0 {
		if e.Status != "removed" {
			b.WriteString("; its log is empty")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "; last %d log lines:", len(e.Logs))
	for _, l := range e.Logs {
		b.WriteString("\n\t" + l)
	}
	return b.String()
}

// stoppedStatus reports whether a container in state st has stopped for
// good: it cannot become healthy, log or listen any more. A created
// container has not started yet and a restarting one will run again.
func stoppedStatus(st *container.State) bool {
	if st == nil || st.Running || st.Restarting {
		return false
	}
	switch st.Status {
	case "exited", "dead", "removing", "removed":
		return true
	}
	return false
}

// inspectForWait inspects the container; a container that is gone is a
// Permanent error.
func (ct *Container) inspectForWait(ctx context.Context) (container.InspectResponse, error) {
	ins, err := ct.c.api.ContainerInspect(ctx, ct.id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return ins, waitfor.Permanent(&ExitError{Container: ct.String(), Status: "removed", ExitCode: -1})
		}
		return ins, ct.c.lookupErr(err, "inspect container %s", ct)
	}
	if ins.ContainerJSONBase == nil || ins.State == nil {
		return ins, fmt.Errorf("inspect container %s: no state in the engine's answer", ct)
	}
	return ins, nil
}

// exitErr describes a stopped container, with the end of its log.
func (ct *Container) exitErr(ctx context.Context, ins container.InspectResponse) *ExitError {
	st := ins.State
	e := &ExitError{Container: ct.String(), Status: string(st.Status), ExitCode: st.ExitCode, OOMKilled: st.OOMKilled}
	tty := ins.Config != nil && ins.Config.Tty
	e.Logs = ct.lastLogLines(ctx, tty, exitLogLines)
	// A log may print the environment or a connection URL; the error, its
	// %#v and its JSON all show these lines.
	for i, l := range e.Logs {
		e.Logs[i] = redactText(l)
	}
	return e
}

// stopped returns a Permanent *ExitError if the container stopped for good.
func (ct *Container) stopped(ctx context.Context, ins container.InspectResponse) error {
	if !stoppedStatus(ins.State) {
		return nil
	}
	if st := ins.State; st.ExitCode == 137 && !st.OOMKilled {
		// Killed. The engine may learn that it was for want of memory
		// (the oom event) only after the exit: ask again a moment later.
		if ended, err := time.Parse(time.RFC3339Nano, st.FinishedAt); err == nil {
			if wait := time.Until(ended.Add(oomGrace)); wait > 0 && sleep(ctx, wait) == nil {
				if again, err := ct.c.api.ContainerInspect(ctx, ct.id); err == nil && again.ContainerJSONBase != nil && stoppedStatus(again.State) {
					ins = again
				}
			}
		}
	}
	return waitfor.Permanent(ct.exitErr(ctx, ins))
}

// sleep pauses for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (ct *Container) condName(what string) string { return "container " + ct.String() + " " + what }

// ---------------------------------------------------------------------------
// Event-driven conditions: Healthy and Exited.

// safetyInterval is how often an event-driven wait inspects the container
// anyway, in case an event was lost (a dropped stream, a remote engine whose
// clock is ahead of ours). It plays no part in how soon a wait notices a
// change: the events do that.
const safetyInterval = 2 * time.Second

// decideFunc judges an inspect result: done is true when the wait is over,
// with err nil (ready) or Permanent. When done is false, err says why the
// condition does not hold yet.
type decideFunc func(ctx context.Context, ins container.InspectResponse) (done bool, err error)

// checkOnce is the polled form of an event-driven condition: one inspect,
// judged by decide.
func (ct *Container) checkOnce(ctx context.Context, decide decideFunc) error {
	ins, err := ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	_, err = decide(ctx, ins)
	return err
}

// watchEvents waits on the engine's event stream. It subscribes to the
// container's events named in actions, then inspects the container and
// calls decide; after that it calls decide again after each such event
// (and every safetyInterval). fast, when not nil, may end the wait on an
// event alone, without inspecting.
func (ct *Container) watchEvents(ctx context.Context, actions []string, decide decideFunc, fast func(events.Message) bool) error {
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("container", ct.id))
	for _, a := range actions {
		f.Add("event", a)
	}
	// The engine flushes the response headers of /events a moment before it
	// registers the subscriber; asking for the events since now makes it
	// replay whatever happened in between from its buffer.
	start := time.Now()
	since := start
	dieCode := -1 // from the die event, for a container removed before we inspect it
	var lastErr error
	var sawOOM bool
	var died bool         // a live die event was seen
	var grace *time.Timer // waiting for the oom event of a container killed with 137
	var graceOver bool

	var seen *container.InspectResponse // the last inspect
	var inspectFails int                // failed inspections in a row
	var recheck *time.Timer             // inspect again after a failed inspection
	defer func() {
		if recheck != nil {
			recheck.Stop()
		}
	}()
	check := func() (bool, error) {
		ins, err := ct.inspectForWait(ctx)
		if err == nil {
			inspectFails = 0
			seen = &ins
			return decide(ctx, ins)
		}
		if ee := (*ExitError)(nil); errors.As(err, &ee) && dieCode >= 0 {
			// Gone (auto-removed) after exiting: judge what the die event said.
			return decide(ctx, container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
				State: &container.State{Status: "removed", ExitCode: dieCode, OOMKilled: sawOOM},
			}})
		}
		if waitfor.IsPermanent(err) || ctx.Err() != nil {
			return waitfor.IsPermanent(err), err
		}
		// The engine failed (the client has retried the call already):
		// look again soon, and give up if it keeps failing.
		inspectFails++
		if inspectFails >= maxEngineFailures {
			return true, waitfor.Permanent(fmt.Errorf("%w (%d inspections failed in a row)", err, inspectFails))
		}
		if recheck != nil {
			recheck.Stop()
		}
		recheck = time.NewTimer(engineRetryPause << (inspectFails - 1))
		return false, err
	}

	safety := time.NewTicker(safetyInterval)
	defer safety.Stop()
	backoff := 20 * time.Millisecond
	var streamFails int // subscriptions in a row that failed before any event
	for {
		sctx, cancel := context.WithCancel(ctx)
		subscribed := time.Now()
		var got bool // an event came on this subscription
		var streamErr error
		msgs, errs := ct.c.api.Events(sctx, events.ListOptions{Since: unixNano(since), Filters: f})
		done, err := check()
	stream:
		for {
			if done {
				cancel()
				return err
			}
			if err != nil {
				lastErr = err
			}
			done, err = false, nil // a case that does not judge leaves these so
			select {
			case <-ctx.Done():
				cancel()
				return notReady(ctx, lastErr)
			case m := <-msgs:
				got = true
				if t := time.Unix(0, m.TimeNano); t.After(since) {
					since = t
				}
				live := m.TimeNano >= start.UnixNano() // not replayed from before the wait began
				switch {
				case m.Action == events.ActionDie:
					if code, err := strconv.Atoi(m.Actor.Attributes["exitCode"]); err == nil {
						dieCode = code
					}
					died = died || live
				case m.Action == events.ActionOOM:
					sawOOM = true
				}
				// A live event may settle it at once.
				if fast != nil && live && fast(m) {
					cancel()
					return nil
				}
				if died && dieCode == 137 && !sawOOM && grace == nil {
					// Killed: by the kernel for want of memory? Its
					// oom event can come after die (and the engine
					// sets OOMKilled only then): wait a moment for it.
					grace = time.NewTimer(oomGrace)
					defer grace.Stop()
					continue
				}
				if grace != nil && !graceOver && m.Action != events.ActionOOM {
					continue // let the grace period run out
				}
				if ins, ok := diedForGood(died, seen, dieCode, sawOOM); ok {
					// The engine holds the container for a while
					// after sending die (40-300 ms here): an inspect
					// would wait for it, so judge from the event.
					done, err = decide(ctx, ins)
				} else {
					done, err = check()
				}
				backoff = 20 * time.Millisecond
			case <-graceC(grace):
				// No oom event: killed by someone else (docker kill, a
				// stop timeout), unless the engine says otherwise.
				graceOver = true
				done, err = check()
			case <-graceC(recheck):
				recheck = nil
				done, err = check()
			case <-safety.C:
				done, err = check()
			case err := <-errs:
				// The stream ended (engine restarted, connection
				// dropped): subscribe again from the last event seen,
				// so the engine replays what we missed, and inspect
				// again.
				if ctx.Err() == nil && err != nil {
					streamErr = fmt.Errorf("event stream of the engine: %w", err)
					lastErr = streamErr
				}
				break stream
			}
		}
		cancel()
		if got || time.Since(subscribed) >= safetyInterval {
			streamFails, backoff = 0, 20*time.Millisecond
		}
		if streamErr != nil {
			streamFails++
			ct.c.logger.Debug("event stream failed, subscribing again", "container", ct.String(), "failures", streamFails, "err", streamErr)
			if streamFails >= maxEngineFailures {
				return waitfor.Permanent(fmt.Errorf("%w (%d subscriptions failed in a row)", streamErr, streamFails))
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return notReady(ctx, lastErr)
		case <-t.C:
		}
		backoff = min(backoff*2, time.Second)
	}
}

// maxEngineFailures is how many engine calls in a row (each already
// retried by the client, see WithRetry) may fail before a wait gives up
// with the engine's error instead of waiting for its context to end:
// inspections of the container, subscriptions to its events or log.
const maxEngineFailures = 4

// engineRetryPause is the pause after a wait's first failed engine call;
// it doubles after each further one.
const engineRetryPause = 100 * time.Millisecond

// oomGrace is how long a wait gives the oom event of a container that died
// with 137 (SIGKILL) to arrive: the engine may send it after die.
const oomGrace = 300 * time.Millisecond

func graceC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// diedForGood returns the state of a container that a live die event
// says has stopped for good: one with no restart policy. Otherwise, only
// an inspect can tell.
func diedForGood(died bool, seen *container.InspectResponse, code int, oom bool) (container.InspectResponse, bool) {
	if !died || seen == nil || code < 0 {
		return container.InspectResponse{}, false
	}
	if hc := seen.HostConfig; hc == nil || (hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != container.RestartPolicyDisabled) {
		return container.InspectResponse{}, false
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{
			State:      &container.State{Status: "exited", ExitCode: code, OOMKilled: oom},
			HostConfig: seen.HostConfig,
		},
		Config: seen.Config,
	}, true
}

// notReady is what a Watch returns when ctx ends: the context's error,
// with the last reason the condition did not hold.
func notReady(ctx context.Context, last error) error {
	if last == nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w (%w)", last, ctx.Err())
}

func unixNano(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// Healthy is ready when the container's healthcheck reports it healthy.
// As a Watcher it follows the engine's event stream (health_status events)
// instead of polling, so it returns within milliseconds of the engine
// recording the change; it returns at once if the container already is
// healthy. It fails at once (waitfor.Permanent) if the container has no
// healthcheck, or exits, is OOM-killed or is removed while waiting.
func (ct *Container) Healthy() waitfor.Condition {
	if err := ct.valid("healthy"); err != nil {
		return invalidCond{err}
	}
	return healthyCond{ct}
}

// invalidCond is the condition of a Container that is not a handle: it
// fails at once.
type invalidCond struct{ err error }

func (c invalidCond) String() string              { return "invalid container condition" }
func (c invalidCond) Check(context.Context) error { return waitfor.Permanent(c.err) }

type healthyCond struct{ ct *Container }

func (h healthyCond) String() string { return h.ct.condName("healthy") }

func (h healthyCond) Check(ctx context.Context) error { return h.ct.checkOnce(ctx, h.decide) }

func (h healthyCond) Watch(ctx context.Context) error {
	return h.ct.watchEvents(ctx, []string{"health_status", "die", "oom", "destroy"}, h.decide,
		func(m events.Message) bool { return string(m.Action) == "health_status: healthy" })
}

func (h healthyCond) decide(ctx context.Context, ins container.InspectResponse) (bool, error) {
	if stoppedStatus(ins.State) {
		return true, h.ct.stopped(ctx, ins)
	}
	if !hasHealthcheck(ins) {
		return true, waitfor.Permanent(fmt.Errorf("container %s has no healthcheck (give the image a HEALTHCHECK, or set Config.Healthcheck with WithContainerConfig)", h.ct))
	}
	hs := ins.State.Health
	switch {
	case hs != nil && hs.Status == container.Healthy:
		return true, nil
	case !ins.State.Running:
		return false, fmt.Errorf("container %s is %s", h.ct, ins.State.Status)
	case hs == nil:
		return false, fmt.Errorf("container %s has no health status yet", h.ct)
	}
	msg := fmt.Sprintf("health status %s", hs.Status)
	if hs.FailingStreak > 0 {
		msg += fmt.Sprintf(", %d failed checks in a row", hs.FailingStreak)
	}
	if n := len(hs.Log); n > 0 {
		last := hs.Log[n-1]
		out := redactText(strings.TrimSpace(last.Output))
		if len(out) > 200 {
			out = out[:200] + "..."
		}
		msg += fmt.Sprintf(", last check exited %d", last.ExitCode)
		if out != "" {
			msg += ": " + out
		}
	}
	return false, errors.New(msg)
}

// hasHealthcheck reports whether the container (or its image, whose config
// the engine merges into Config) has a healthcheck.
func hasHealthcheck(ins container.InspectResponse) bool {
	if ins.State != nil && ins.State.Health != nil {
		return true
	}
	hc := ins.Config
	if hc == nil || hc.Healthcheck == nil || len(hc.Healthcheck.Test) == 0 {
		return false
	}
	return hc.Healthcheck.Test[0] != "NONE"
}

// Exited is ready when the container has exited with the given code; any
// code will do when code is -1. It fails at once (waitfor.Permanent, an
// *ExitError) when the container exits with another code, or is
// OOM-killed (unless code is 137, the code of a SIGKILL). As a Watcher it
// follows the engine's die events.
func (ct *Container) Exited(code int) waitfor.Condition {
	if err := ct.valid("exited"); err != nil {
		return invalidCond{err}
	}
	return exitedCond{ct, code}
}

type exitedCond struct {
	ct   *Container
	code int
}

func (e exitedCond) String() string {
	if e.code < 0 {
		return e.ct.condName("exited")
	}
	return e.ct.condName("exited with code " + strconv.Itoa(e.code))
}

func (e exitedCond) Check(ctx context.Context) error { return e.ct.checkOnce(ctx, e.decide) }

func (e exitedCond) Watch(ctx context.Context) error {
	return e.ct.watchEvents(ctx, []string{"die", "oom", "destroy"}, e.decide, nil)
}

func (e exitedCond) decide(ctx context.Context, ins container.InspectResponse) (bool, error) {
	st := ins.State
	if !stoppedStatus(st) {
		return false, fmt.Errorf("container %s is %s", e.ct, st.Status)
	}
	if st.OOMKilled && e.code != 137 {
		return true, e.ct.stopped(ctx, ins)
	}
	if e.code < 0 || st.ExitCode == e.code {
		return true, nil
	}
	ee := e.ct.exitErr(ctx, ins)
	ee.want = "want " + strconv.Itoa(e.code)
	return true, waitfor.Permanent(ee)
}

// ---------------------------------------------------------------------------
// LogLine.

// LogLine is ready once the container's log (stdout and stderr, from its
// very beginning) holds n lines matching re. It reads every log byte once:
// as a Watcher it follows the log on one stream; polled with Check (inside
// waitfor.All, say) each call asks only for the messages since the last one
// it saw, by timestamp. Lines longer than 64 KiB are matched on their
// first 64 KiB.
func (ct *Container) LogLine(re *regexp.Regexp, n int) waitfor.Condition {
	if err := ct.valid("log line"); err != nil {
		return invalidCond{err}
	}
	l := &logLineCond{ct: ct, re: re, n: n, lock: make(chan struct{}, 1)}
	return l
}

type logLineCond struct {
	ct   *Container
	re   *regexp.Regexp
	n    int
	lock chan struct{} // one slot: a mutex that waiting for respects ctx

	// Guarded by lock: how far the log has been read.
	found   int       // matching lines so far
	last    time.Time // timestamp of the last message read
	atLast  int       // messages read with exactly that timestamp
	partial [4][]byte // unfinished line per stream (partial log messages)
}

const maxLine = 64 << 10

func (l *logLineCond) String() string {
	expr := "<nil>"
	if l.re != nil {
		expr = l.re.String()
	}
	return l.ct.condName(fmt.Sprintf("log line #%d matching %q", l.n, expr))
}

func (l *logLineCond) valid() error {
	if l.re == nil {
		return waitfor.Permanent(invalidf("%s: no regular expression", l))
	}
	if l.n < 1 {
		return waitfor.Permanent(invalidf("%s: invalid count %d: want n >= 1", l, l.n))
	}
	return nil
}

func (l *logLineCond) acquire(ctx context.Context) error {
	select {
	case l.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *logLineCond) release() { <-l.lock }

func (l *logLineCond) progress() error {
	return fmt.Errorf("%d of %d matching lines so far", l.found, l.n)
}

func (l *logLineCond) Check(ctx context.Context) error {
	if err := l.valid(); err != nil {
		return err
	}
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	if l.found >= l.n {
		return nil
	}
	// Inspect first: if the container had stopped by then, the log read
	// next is complete.
	ins, err := l.ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	if err := l.read(ctx, ins.Config != nil && ins.Config.Tty, false); err != nil && l.found < l.n {
		return err
	}
	if l.found >= l.n {
		return nil
	}
	if err := l.ct.stopped(ctx, ins); err != nil {
		return err
	}
	return l.progress()
}

func (l *logLineCond) Watch(ctx context.Context) error {
	if err := l.valid(); err != nil {
		return err
	}
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	var lastErr error
	var fails int // engine calls in a row that failed with no progress
	pause := 10 * time.Millisecond
	for {
		if l.found >= l.n {
			return nil
		}
		if fails >= maxEngineFailures {
			return waitfor.Permanent(fmt.Errorf("%w (%d engine calls failed in a row)", lastErr, fails))
		}
		ins, err := l.ct.inspectForWait(ctx)
		if err != nil {
			if waitfor.IsPermanent(err) {
				return err
			}
			if ctx.Err() == nil {
				fails++
			}
			lastErr = err
		} else {
			// Follow a running container: the stream then ends only
			// when it stops. A created one has no log to follow yet.
			before := l.found
			lastSeen := l.last
			err = l.read(ctx, ins.Config != nil && ins.Config.Tty, ins.State.Running)
			if l.found >= l.n {
				return nil
			}
			if ctx.Err() != nil {
				return notReady(ctx, l.progress())
			}
			progressed := l.found != before || !l.last.Equal(lastSeen)
			if err != nil {
				if waitfor.IsPermanent(err) {
					return err
				}
				// A cut stream: the next read resumes after the last
				// message read.
				lastErr = err
				if progressed {
					fails = 0
				} else {
					fails++
				}
			} else {
				fails = 0
				lastErr = l.progress()
			}
			if stoppedStatus(ins.State) {
				// Stopped before the read began: the log is complete.
				return l.ct.stopped(ctx, ins)
			}
			if progressed {
				pause = 10 * time.Millisecond
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return notReady(ctx, lastErr)
		case <-t.C:
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

// read reads the log messages after the last one read (all of them the
// first time), following the log if follow is set, and counts the
// matching lines. It stops as soon as the n-th one is found.
//
// Asked for the messages since a time, the json-file driver of the engine
// scans the file from its start, which takes a while on a large log. So a
// read that does not follow asks for the last 256 messages since then; if
// they do not reach back to the last one read, it asks again for 8 times
// more, and at last for all of them. The engine reads tails from the end of
// the file.
func (l *logLineCond) read(ctx context.Context, tty, follow bool) error {
	if follow || l.last.IsZero() {
		return l.readTail(ctx, tty, follow, 0)
	}
	for tail := 256; ; tail *= 8 {
		if tail > 1<<15 {
			tail = 0
		}
		err := l.readTail(ctx, tty, false, tail)
		if !errors.Is(err, errGap) {
			return err
		}
	}
}

var (
	errFound = errors.New("found")
	errGap   = errors.New("the tail does not reach the last message read")
	errStop  = errors.New("stop reading")
)

func (l *logLineCond) readTail(ctx context.Context, tty, follow bool, tail int) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: follow}
	if !l.last.IsZero() {
		// The engine includes messages stamped exactly "since": those
		// already read are skipped below.
		opts.Since = unixNano(l.last)
	}
	if tail > 0 {
		opts.Tail = strconv.Itoa(tail)
	}
	rc, err := l.ct.c.api.ContainerLogs(ctx, l.ct.id, opts)
	if err != nil {
		if strings.Contains(err.Error(), "does not support reading") {
			// The "none" logging driver, or a remote one (syslog, ...).
			return waitfor.Permanent(l.ct.c.opErr(err, "logs of %s", l.ct))
		}
		return l.ct.c.opErr(err, "logs of %s", l.ct)
	}
	defer rc.Close()
	skip := l.atLast
	first := true
	var stop error
	msg := func(stream int, payload []byte) bool {
		ts, text, ok := splitTimestamp(payload)
		if !ok {
			return false // not a log message: ignore it
		}
		if first && tail > 0 && ts.After(l.last) {
			// The tail begins after the last message read: some
			// between them may be missing. Read nothing of it.
			stop = errGap
			return true
		}
		first = false
		switch {
		case ts.Before(l.last):
			return false
		case ts.Equal(l.last):
			if skip > 0 {
				skip--
				return false
			}
			l.atLast++
		default:
			l.last, l.atLast = ts, 1
		}
		if l.consume(stream, text) {
			stop = errFound
			return true
		}
		return false
	}
	// A read that may stop at its first message reads little ahead.
	var r io.Reader = rc
	if tail > 0 {
		r = bufio.NewReaderSize(rc, 4<<10)
	}
	if tty {
		err = readRawMessages(r, msg)
	} else {
		err = readFramedMessages(r, msg)
	}
	switch {
	case errors.Is(err, errStop) && stop == errFound:
		return nil
	case errors.Is(err, errStop):
		return stop
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("logs of %s: %w", l.ct, err)
	}
	return err
}

// consume adds a message's text to its stream's line and counts the line
// when it is complete. It reports whether the n-th match was found.
func (l *logLineCond) consume(stream int, text []byte) bool {
	if stream < 0 || stream >= len(l.partial) {
		stream = 1
	}
	complete := len(text) > 0 && text[len(text)-1] == '\n'
	if complete {
		text = text[:len(text)-1]
	}
	line := text
	if p := l.partial[stream]; len(p) > 0 {
		room := max(0, maxLine-len(p))
		p = append(p, text[:min(len(text), room)]...)
		line = p
		l.partial[stream] = p
	}
	if !complete {
		if l.partial[stream] == nil {
			l.partial[stream] = append([]byte(nil), text[:min(len(text), maxLine)]...)
		}
		return false
	}
	l.partial[stream] = nil
	line = bytes.TrimSuffix(line, []byte("\r"))
	if l.re.Match(line) {
		l.found++
	}
	return l.found >= l.n
}

// splitTimestamp splits "2024-05-01T10:00:00.123456789Z text" (the engine's
// Timestamps form).
func splitTimestamp(p []byte) (time.Time, []byte, bool) {
	i := bytes.IndexByte(p, ' ')
	if i < 0 {
		i = len(p)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(p[:i]))
	if err != nil {
		return time.Time{}, nil, false
	}
	if i < len(p) {
		i++
	}
	return ts, p[i:], true
}

// readFramedMessages reads the multiplexed stream of a container without a
// TTY: an 8-byte header (stream, 0, 0, 0, big-endian size) per message.
// msg returning true stops the read with errStop.
func readFramedMessages(r io.Reader, msg func(stream int, payload []byte) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[4:]))
		if size > 16<<20 {
			return fmt.Errorf("log frame of %d bytes: not a log stream", size)
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		if hdr[0] == byte(stdcopy.Systemerr) {
			return errors.New(strings.TrimSpace(string(buf)))
		}
		if msg(int(hdr[0]), buf) {
			return errStop
		}
	}
}

// readRawMessages reads the log stream of a container with a TTY: lines,
// each beginning with its timestamp.
func readRawMessages(r io.Reader, msg func(stream int, payload []byte) bool) error {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A giant line: count it on its first maxLine bytes.
			rest := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			line = append(rest, '\n')
		}
		if len(line) > 0 && msg(1, line) {
			return errStop
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// ---------------------------------------------------------------------------
// ExecSucceeds.

// ExecSucceeds is ready when cmd, run in the container (docker exec),
// exits 0. A command that does not exist in the image fails at once. An
// attempt that outlives its context (waitfor's AttemptTimeout) is killed
// as Exec describes: on a local engine, nothing of it stays running.
func (ct *Container) ExecSucceeds(cmd ...string) waitfor.Condition {
	if err := ct.valid("exec succeeds"); err != nil {
		return invalidCond{err}
	}
	return execCond{ct: ct, cmd: append([]string(nil), cmd...)}
}

type execCond struct {
	ct  *Container
	cmd []string
}

func (e execCond) String() string {
	return e.ct.condName("exec " + strings.Join(redactArgs(e.cmd), " "))
}

func (e execCond) Check(ctx context.Context) error {
	if len(e.cmd) == 0 || e.cmd[0] == "" {
		return waitfor.Permanent(invalidf("%s: no command", e))
	}
	ins, err := e.ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	if err := e.ct.stopped(ctx, ins); err != nil {
		return err
	}
	if !ins.State.Running {
		return fmt.Errorf("container %s is %s", e.ct, ins.State.Status)
	}
	// Exec kills the command if the attempt's ctx ends first, so a hung
	// attempt does not stay behind in the container. Its output is only
	// quoted: a little of it is enough.
	res, err := e.ct.Exec(ctx, e.cmd, WithMaxSize(64<<10))
	if err != nil {
		if isNoSuchCommand(err.Error()) {
			return waitfor.Permanent(err)
		}
		return err
	}
	if res.ExitCode == 0 {
		return nil
	}
	stdout, stderr := string(res.Stdout), string(res.Stderr)
	if res.Truncated {
		// A capture cut in the middle of a secret leaves a piece that
		// could not be recognised: drop each stream's partial last line.
		stdout, stderr = wholeLines(stdout), wholeLines(stderr)
	}
	out := redactOutput(strings.TrimSpace(stdout+"\n"+stderr), e.cmd) // it may echo the command
	if (res.ExitCode == 126 || res.ExitCode == 127) && isNoSuchCommand(out) {
		return waitfor.Permanent(fmt.Errorf("exec %q in %s: %s", progName(e.cmd), e.ct, out))
	}
	if len(out) > 300 {
		out = "..." + out[len(out)-300:]
	}
	if out != "" {
		return fmt.Errorf("exit code %d: %s", res.ExitCode, out)
	}
	return fmt.Errorf("exit code %d", res.ExitCode)
}

// wholeLines drops what follows the last newline of s.
func wholeLines(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}

func isNoSuchCommand(s string) bool {
	return strings.Contains(s, "executable file not found") || strings.Contains(s, "no such file or directory") && strings.Contains(s, "exec")
}

// ---------------------------------------------------------------------------
// Listening and PortReady.

// Listening is ready when a process listens on port ("5432", "5432/tcp",
// "53/udp": a bound UDP socket) inside the container's network namespace,
// on any address, loopback included. It needs nothing in the image, not
// even a shell: when the engine runs on this host it reads the socket
// tables of the container's namespace from /proc/<pid>/net/tcp and tcp6
// (udp, udp6) of the container's main process, checking by its cgroup that
// the pid is that container's. Otherwise (a remote engine, a Docker
// Desktop VM) it runs `cat /proc/net/tcp /proc/net/tcp6` in the container,
// which needs a cat there. (docker cp cannot help: the engine copies from
// the container's filesystem, where /proc is an empty mount point.)
func (ct *Container) Listening(port string) waitfor.Condition {
	if err := ct.valid("listening"); err != nil {
		return invalidCond{err}
	}
	p, err := normPort(port)
	return listenCond{ct: ct, port: p, portErr: err, raw: port}
}

type listenCond struct {
	ct      *Container
	port    nat.Port
	portErr error
	raw     string
}

func (l listenCond) String() string {
	if l.portErr != nil {
		return l.ct.condName("listening on " + l.raw)
	}
	return l.ct.condName("listening on " + string(l.port))
}

func (l listenCond) Check(ctx context.Context) error {
	if l.portErr != nil {
		return waitfor.Permanent(l.portErr)
	}
	ins, err := l.ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	_, err = l.ct.listening(ctx, ins, l.port, false)
	return err
}

// listening checks that something listens on p inside the container (on a
// non-loopback address when reachable is set: one the engine can forward a
// published port to). It returns how the sockets were read.
func (ct *Container) listening(ctx context.Context, ins container.InspectResponse, p nat.Port, reachable bool) (string, error) {
	if err := ct.stopped(ctx, ins); err != nil {
		return "", err
	}
	if !ins.State.Running || ins.State.Pid == 0 {
		return "", fmt.Errorf("container %s is %s", ct, ins.State.Status)
	}
	socks, how, err := ct.sockets(ctx, ins.State.Pid, p.Proto())
	if err != nil {
		return how, err
	}
	port := p.Int()
	loopbackOnly := false
	for _, s := range socks {
		if s.port != port || !s.listening {
			continue
		}
		if reachable && s.addr.IsLoopback() {
			loopbackOnly = true
			continue
		}
		return how, nil
	}
	if loopbackOnly {
		return how, fmt.Errorf("%s is only listened on on a loopback address inside container %s: a published port cannot reach it", p, ct)
	}
	return how, fmt.Errorf("nothing listens on %s inside container %s yet", p, ct)
}

type socket struct {
	addr      netip.Addr
	port      int
	listening bool // TCP LISTEN, or a bound, unconnected UDP socket
}

// sockets returns the container's sockets of proto (tcp, udp), from the
// host's /proc when the engine is local, else through exec.
func (ct *Container) sockets(ctx context.Context, pid int, proto string) ([]socket, string, error) {
	if proto != "tcp" && proto != "udp" {
		return nil, "", waitfor.Permanent(invalidf("container %s: cannot tell whether %s ports listen (tcp and udp only)", ct, proto))
	}
	files := []string{"/proc/net/" + proto, "/proc/net/" + proto + "6"}
	if data, ok := hostProcNet(pid, ct.id, proto); ok {
		return parseProcNet(data, proto), "host /proc", nil
	}
	res, err := ct.Exec(ctx, append([]string{"cat"}, files...))
	if err != nil {
		if isNoSuchCommand(err.Error()) {
			return nil, "exec", waitfor.Permanent(noSocketView(ct, err))
		}
		return nil, "exec", err
	}
	// tcp6 is missing when the kernel has no IPv6: cat then exits 1 but
	// prints tcp.
	if !bytes.Contains(res.Stdout, []byte("local_address")) {
		// The engine reports an exec that could not start on stdout.
		out := strings.TrimSpace(string(res.Stdout) + "\n" + string(res.Stderr))
		if (res.ExitCode == 126 || res.ExitCode == 127) && isNoSuchCommand(out) {
			return nil, "exec", waitfor.Permanent(noSocketView(ct, errors.New(out)))
		}
		return nil, "exec", fmt.Errorf("cat %s in container %s: exit code %d: %s", strings.Join(files, " "), ct, res.ExitCode, out)
	}
	return parseProcNet(res.Stdout, proto), "exec cat", nil
}

func noSocketView(ct *Container, err error) error {
	return fmt.Errorf("cannot see the sockets of container %s: its process is not visible in this host's /proc (is the engine remote?) and the image has no cat: %w", ct, err)
}

// hostProcNet reads /proc/<pid>/net/<proto>{,6} on this host, if pid is the
// container's process here: the engine may run elsewhere (a VM, another
// PID namespace), where the pid means another process or nothing.
func hostProcNet(pid int, id, proto string) ([]byte, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	cg, err := os.ReadFile(dir + "/cgroup")
	if err != nil || !bytes.Contains(cg, []byte(id)) {
		return nil, false
	}
	data, err := os.ReadFile(dir + "/net/" + proto)
	if err != nil {
		return nil, false
	}
	if v6, err := os.ReadFile(dir + "/net/" + proto + "6"); err == nil {
		data = append(data, v6...)
	}
	// The pid may have been reused between the two reads.
	if cg2, err := os.ReadFile(dir + "/cgroup"); err != nil || !bytes.Equal(cg, cg2) {
		return nil, false
	}
	return data, true
}

// parseProcNet parses the kernel's socket tables (/proc/net/tcp, tcp6,
// udp, udp6; several may be concatenated):
//
//	sl  local_address rem_address   st ...
//	 0: 0100007F:1F90 00000000:0000 0A ...
//
// Addresses are hex words in host byte order; st 0A is TCP LISTEN and 07
// (TCP_CLOSE) an unconnected UDP socket.
func parseProcNet(data []byte, proto string) []socket {
	var out []socket
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		addr, port, ok := parseHexAddr(f[1])
		if !ok {
			continue
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			continue
		}
		var listening bool
		if proto == "udp" {
			_, rport, ok := parseHexAddr(f[2])
			listening = ok && st == 0x07 && rport == 0
		} else {
			listening = st == 0x0A
		}
		out = append(out, socket{addr: addr, port: port, listening: listening})
	}
	return out
}

func parseHexAddr(s string) (netip.Addr, int, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, false
	}
	// Each 32-bit word is printed as a number in host byte order.
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		w := binary.BigEndian.Uint32(raw[i:])
		binary.NativeEndian.PutUint32(b[i:], w)
	}
	if len(raw) == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), int(port), true
	}
	return netip.AddrFrom16(b).Unmap(), int(port), true
}

// PortReady is ready when the container's published port answers on the
// host. A successful dial proves nothing by itself: Docker's userland
// proxy (docker-proxy) accepts connections on the host port before
// anything listens in the container, and closes them once it fails to
// reach the container. So PortReady requires, in this order:
//
//  1. the port is published (a host port is bound);
//  2. a process listens on it inside the container, on an address the
//     engine can forward to, i.e. not loopback only (as Listening);
//  3. for tcp, a connection to the host port opens and is not closed or
//     reset within 20 ms: the proxy closes at once the connections it
//     cannot forward.
//
// udp ports get steps 1 and 2 only: UDP has no handshake to test.
func (ct *Container) PortReady(port string) waitfor.Condition {
	if err := ct.valid("port ready"); err != nil {
		return invalidCond{err}
	}
	p, err := normPort(port)
	return portReadyCond{listenCond{ct: ct, port: p, portErr: err, raw: port}}
}

type portReadyCond struct{ l listenCond }

// proxyWindow is how long a fresh connection to the host port must stay
// open: docker-proxy closes the ones it cannot forward within a
// millisecond or so.
const proxyWindow = 20 * time.Millisecond

func (p portReadyCond) String() string {
	name := p.l.raw
	if p.l.portErr == nil {
		name = string(p.l.port)
	}
	return p.l.ct.condName("port " + name + " ready on the host")
}

func (p portReadyCond) Check(ctx context.Context) error {
	if p.l.portErr != nil {
		return waitfor.Permanent(p.l.portErr)
	}
	ct := p.l.ct
	ins, err := ct.inspectForWait(ctx)
	if err != nil {
		return err
	}
	if err := ct.stopped(ctx, ins); err != nil {
		return err
	}
	if ins.HostConfig != nil && len(ins.HostConfig.PortBindings[p.l.port]) == 0 && !ins.HostConfig.PublishAllPorts {
		return waitfor.Permanent(invalidf("container %s does not publish port %s", ct, p.l.port))
	}
	addr, err := hostPortOf(ins, p.l.port, ct.String())
	if err != nil {
		return err
	}
	if _, err := ct.listening(ctx, ins, p.l.port, true); err != nil {
		return err
	}
	if p.l.port.Proto() != "tcp" {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(proxyWindow))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		return nil // the server spoke first
	case errors.As(err, &ne) && ne.Timeout():
		return nil // still open: forwarded
	default:
		return fmt.Errorf("connection to %s (port %s of container %s) closed at once: %w", addr, p.l.port, ct, err)
	}
}
