package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// WithSince shows only the log lines written at or after t (logs
// --since), as lifecycle.WithSince does for one container.
func WithSince(t time.Time) LogsOption {
	return &option{name: "WithSince", verbs: logs, logs: func(s *logsSettings) error {
		if t.IsZero() {
			return invalidf("compose: WithSince: zero time: want the time to show logs from")
		}
		s.since = t
		return nil
	}}
}

// WithTimestamps prefixes each log line, after the container's prefix,
// with its RFC 3339 timestamp (logs --timestamps), as
// lifecycle.WithTimestamps does.
func WithTimestamps() LogsOption {
	return &option{name: "WithTimestamps", verbs: logs, logs: func(s *logsSettings) error { s.timestamps = true; return nil }}
}

// lifecycleLogs is the lifecycle options of WithSince and WithTimestamps.
func (set *logsSettings) lifecycleLogs() []lifecycle.LogsOption {
	var o []lifecycle.LogsOption
	if !set.since.IsZero() {
		o = append(o, lifecycle.WithSince(set.since))
	}
	if set.timestamps {
		o = append(o, lifecycle.WithTimestamps())
	}
	return o
}

// ExecIndex is Exec in the service's container number index (exec
// --index): 1 is the first replica. A missing or stopped replica is an
// error naming it.
func (s *Stack) ExecIndex(ctx context.Context, service string, index int, cmd []string, opts ...lifecycle.ExecOption) (res *lifecycle.ExecResult, err error) {
	defer scrub(&err)
	if index < 1 {
		return nil, invalidf("compose %s: ExecIndex(%q, %d): want an index >= 1", s.p.Name, service, index)
	}
	if err := s.checkServices([]string{service}); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, false, false)
	if err != nil {
		return nil, err
	}
	for _, ct := range cts {
		if ct.Labels[LabelService] == service && number(ct) == index {
			return ct.Container().Exec(ctx, cmd, opts...)
		}
	}
	return nil, fmt.Errorf("compose %s: service %q has no running container number %d", s.p.Name, service, index)
}
