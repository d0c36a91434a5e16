package waitfor_test

import (
	"sync/atomic"
	"time"

	"github.com/dockhand/dockhand/waitfor"
)

// afterEvent counts the failed attempts a Waiter reports once an event
// (a listener opened, a port freed) has happened: with the event in the
// past, only an attempt already under way may still fail, so a condition
// that notices the change at its next attempt has at most one. It proves
// "noticed soon" by counting, not by a clock (how soon is measured by
// BenchmarkNotice).
type afterEvent struct {
	happened atomic.Bool
	failed   atomic.Int64
}

// OnAttempt is for Waiter.OnAttempt.
func (a *afterEvent) OnAttempt(at waitfor.Attempt) {
	if at.Err != nil && a.happened.Load() {
		a.failed.Add(1)
	}
}

// watch marks the event as happened when ch delivers, and passes the
// value on.
func (a *afterEvent) watch(ch <-chan time.Time) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		v := <-ch
		a.happened.Store(true)
		out <- v
	}()
	return out
}
