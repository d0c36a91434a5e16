package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/dockhand/dockhand/waitfor"
)

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
