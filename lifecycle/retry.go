package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Idempotent reads are retried in one place: the HTTP transport under the
// Docker SDK client (New installs it). A GET or HEAD — an inspect, a list,
// the version, a ping, the subscription to the event stream or to a log —
// that fails on its connection (refused, reset, closed before an answer)
// or with a 500, 502, 503 or 504 is sent again, up to the client's attempt
// count, with a short doubling backoff that ends early when the request's
// context does. Nothing else is ever sent twice: not a POST, PUT or
// DELETE (they change state), not an upgraded connection (attach, exec
// start), and never a response whose body the caller has begun to read —
// the transport's job ends when the response header arrives, so a stream
// cut later is the caller's to resume (the event-driven waits subscribe
// again from the last event they saw).

const (
	// defaultAttempts is how many times an idempotent read is tried.
	defaultAttempts = 4
	// retryBackoff is the pause before the first retry; it doubles after.
	retryBackoff = 50 * time.Millisecond
)

// WithRetry sets how many times the client tries an idempotent engine
// read (inspect, list, version, ping, subscribing to events or logs) that
// fails on its connection or with a 5xx answer: 4 by default, 1 for no
// retry. Calls that change state are never retried.
func WithRetry(attempts int) ClientOption {
	return func(c *clientConfig) error {
		if attempts < 1 {
			return invalidf("invalid retry attempts %d: want 1 or more", attempts)
		}
		c.attempts = attempts
		return nil
	}
}

// retryTransport retries idempotent requests; see above.
type retryTransport struct {
	next     http.RoundTripper
	attempts int
	backoff  time.Duration
	logger   *slog.Logger
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !retryable(req) {
		return t.next.RoundTrip(req)
	}
	ctx := req.Context()
	pause := t.backoff
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		var fault string
		switch {
		case err != nil:
			if ctx.Err() != nil || !transientConnErr(err) {
				return nil, err
			}
			fault = err.Error()
		case transientStatus(resp.StatusCode):
			fault = resp.Status
		default:
			return resp, nil
		}
		if attempt >= t.attempts {
			if err != nil {
				return nil, &retriedError{attempts: attempt, err: err}
			}
			// The engine's answer carries its own message: pass it on.
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		// The path only: a query may carry filters with label values.
		t.logger.Debug("engine read failed, retrying", "method", req.Method, "path", req.URL.Path,
			"attempt", attempt, "fault", fault)
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
		pause *= 2
	}
}

// retryable: GET and HEAD without a body, not an upgrade.
func retryable(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	return req.Header.Get("Upgrade") == "" && req.Header.Get("Connection") == ""
}

func transientStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transientConnErr reports a failure of the connection itself, one that
// another attempt may not meet: refused (the engine restarting), reset or
// closed before the answer. A TLS refusal is not one.
func transientConnErr(err error) bool {
	if isTLSRefusal(err) {
		return false
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// retriedError is a connection failure that outlasted every attempt.
type retriedError struct {
	attempts int
	err      error
}

func (e *retriedError) Error() string {
	return fmt.Sprintf("%v (failed %d attempts)", e.err, e.attempts)
}

func (e *retriedError) Unwrap() error { return e.err }

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
