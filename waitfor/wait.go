package waitfor

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Condition is one thing to wait for.
type Condition interface {
	// Check reports whether the condition holds now: nil means ready, an
	// error says why it is not (yet). Check must respect ctx.
	Check(ctx context.Context) error
	// String is a short description with secrets redacted, such as
	// "postgres://app:xxxxx@db:5432/app".
	String() string
}

// Watcher is an optional interface for conditions that can wait without
// polling (for example on an event stream). Wait calls Watch once instead of
// polling Check; Watch returns nil when ready, or an error. Watch is not
// bounded by Waiter.AttemptTimeout, only by the overall context.
type Watcher interface {
	Condition
	Watch(ctx context.Context) error
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as final: the condition can never become ready (a
// container exited, a command does not exist, ...). Wait stops at once and
// returns it wrapped in an *Error; errors.Is and errors.As still see err.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Defaults used by a zero Waiter.
const (
	DefaultAttemptTimeout = time.Second
	DefaultMinInterval    = time.Millisecond
	DefaultMaxInterval    = 20 * time.Millisecond
)

// Waiter waits for conditions with configurable timing. The zero value uses
// the defaults; a Waiter may be used concurrently once configured. Waiter is
// to Wait what http.Client is to http.Get.
type Waiter struct {
	// Timeout is the overall budget of one Wait call; 0 means only ctx
	// limits it.
	Timeout time.Duration
	// AttemptTimeout bounds each Check call (default 1s), so that a hung
	// dial or a server that never answers cannot eat the whole budget.
	AttemptTimeout time.Duration
	// MinInterval is the first pause between two checks (default 1ms).
	MinInterval time.Duration
	// MaxInterval caps the pause (default 20ms). The pause doubles after
	// every failed check, minus up to 10% jitter, so it never exceeds
	// MaxInterval: a ready condition is noticed within about MaxInterval.
	MaxInterval time.Duration
	// OnAttempt, when set, is called after each Check (and after Watch) of
	// any condition. Calls are serialized, never concurrent.
	OnAttempt func(Attempt)
}

// Attempt describes one finished Check, for logging.
type Attempt struct {
	Condition Condition
	N         int           // 1 for the first check of this condition
	Err       error         // nil: the condition is ready
	Elapsed   time.Duration // since the Wait call started
}

// Error is returned when a wait fails. It lists every condition that was not
// ready, with its number of checks and its last error.
type Error struct {
	Pending []Pending
	// Err is why the wait stopped: ctx.Err() (context.DeadlineExceeded
	// when Waiter.Timeout ran out) or the Permanent error of a condition.
	Err error
}

// Pending is a condition that was not ready when a wait failed.
type Pending struct {
	Condition string
	Attempts  int
	LastErr   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("waitfor: ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("not ready")
	}
	for i, p := range e.Pending {
		if i == 0 {
			b.WriteString("; still waiting for ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Condition)
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(p.Attempts))
		if p.Attempts == 1 {
			b.WriteString(" attempt")
		} else {
			b.WriteString(" attempts")
		}
		if p.LastErr != nil && p.LastErr != e.Err { // a permanent cause is printed once, above
			b.WriteString(", last error: ")
			b.WriteString(p.LastErr.Error())
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns Err, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// Wait waits with default timing until every condition is ready. The
// conditions are waited on concurrently. It returns nil, or an *Error.
func Wait(ctx context.Context, conds ...Condition) error {
	var w Waiter
	return w.Wait(ctx, conds...)
}

type condState struct {
	attempts int
	lastErr  error
	ready    bool
}

// Wait waits until every condition is ready, checking them concurrently. It
// returns nil, or an *Error when ctx ends, Timeout runs out or a condition
// fails permanently.
func (w *Waiter) Wait(ctx context.Context, conds ...Condition) error {
	start := time.Now()
	if w.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.Timeout)
		defer cancel()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var hookMu sync.Mutex
	report := func(a Attempt) {
		if w.OnAttempt == nil {
			return
		}
		hookMu.Lock()
		defer hookMu.Unlock()
		w.OnAttempt(a)
	}

	states := make([]condState, len(conds))
	var wg sync.WaitGroup
	for i, c := range conds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.waitOne(ctx, cancel, start, c, &states[i], report)
		}()
	}
	wg.Wait()

	werr := &Error{}
	for i, s := range states {
		if !s.ready {
			werr.Pending = append(werr.Pending, Pending{Condition: conds[i].String(), Attempts: s.attempts, LastErr: s.lastErr})
		}
	}
	if len(werr.Pending) == 0 {
		return nil
	}
	if cause := context.Cause(ctx); IsPermanent(cause) {
		werr.Err = cause
	} else {
		werr.Err = ctx.Err()
	}
	return werr
}

func (w *Waiter) waitOne(ctx context.Context, stop context.CancelCauseFunc, start time.Time, c Condition, s *condState, report func(Attempt)) {
	deadline, hasDeadline := ctx.Deadline()
	ended := func() bool {
		return ctx.Err() != nil || (hasDeadline && !time.Now().Before(deadline))
	}
	record := func(err error) {
		s.attempts++
		// A check cut short by the end of the whole wait says less than
		// the error before it: keep that one.
		if err == nil || s.lastErr == nil || !ended() {
			s.lastErr = err
		}
		s.ready = err == nil
		report(Attempt{Condition: c, N: s.attempts, Err: err, Elapsed: time.Since(start)})
		if IsPermanent(err) {
			stop(err)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if wt, ok := c.(Watcher); ok {
		record(wt.Watch(ctx))
		return
	}

	attemptTimeout := or(w.AttemptTimeout, DefaultAttemptTimeout)
	maxInterval := or(w.MaxInterval, DefaultMaxInterval)
	interval := min(or(w.MinInterval, DefaultMinInterval), maxInterval)
	var timer *time.Timer
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := c.Check(actx)
		if err != nil && !ended() && (actx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)) {
			err = &attemptTimeoutError{d: attemptTimeout, err: err}
		}
		cancel()
		record(err)
		if err == nil || IsPermanent(err) || ctx.Err() != nil {
			return
		}
		// Pause for interval minus up to 10% jitter, then double it.
		d := interval - time.Duration(rand.Int64N(int64(interval/10)+1))
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		interval = min(interval*2, maxInterval)
	}
}

type attemptTimeoutError struct {
	d   time.Duration
	err error
}

func (e *attemptTimeoutError) Error() string {
	return "no answer within " + e.d.String() + " (attempt timeout): " + e.err.Error()
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
