package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/lifecycle"
)

// lastLogs returns a container's last n log lines (stdout and stderr),
// each indented as a quote, read by lifecycle's one capped reader.
func (s *Stack) lastLogs(ctx context.Context, ct *lifecycle.Container, n int) string {
	lines, _ := ct.LastLogLines(ctx, n)
	for i := range lines {
		lines[i] = "  | " + redact.Text(lines[i]) // a log may print the environment
	}
	return strings.Join(lines, "\n")
}

// Logs writes the logs of the stack's containers to w, each line prefixed
// with the container's short name padded as the CLI does ("web-1  | "):
// standard output, and standard error too unless WithStderr sends it
// elsewhere (prefixed the same way), as lifecycle's Container.Logs does.
// WithServices narrows, WithTail(n) keeps each container's last n lines,
// WithFollow streams until ctx ends or every container stops.
func (s *Stack) Logs(ctx context.Context, w io.Writer, opts ...LogsOption) (err error) {
	defer scrub(&err)
	set, err := applyOpts("Logs", opts, LogsOption.applyLogs)
	if err != nil {
		return err
	}
	if err := s.checkNamed("logs", set.services); err != nil {
		return err
	}
	cts, err := s.containers(ctx, true, false)
	if err != nil {
		return err
	}
	want := toSet(set.services)
	type target struct{ id, prefix string }
	var targets []target
	width := 0
	for _, ct := range cts {
		if len(want) > 0 && !want[ct.Labels[LabelService]] {
			continue
		}
		short := strings.TrimPrefix(ctName(ct), s.p.Name+"-")
		width = max(width, len(short))
		targets = append(targets, target{id: ct.ID, prefix: short})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].prefix < targets[j].prefix })
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lineWriter{w: w, mu: &mu, prefix: fmt.Sprintf("%-*s  | ", width, t.prefix)}
			ct, err := s.c.Container(ctx, t.id)
			if err == nil {
				lopts := set.lifecycleLogs()
				if set.follow {
					lopts = append(lopts, lifecycle.WithFollow())
				}
				if set.tailSet {
					lopts = append(lopts, lifecycle.WithTail(set.tail))
				}
				var ew *lineWriter
				if set.stderr != nil {
					ew = &lineWriter{w: set.stderr, mu: &mu, prefix: lw.prefix}
					lopts = append(lopts, lifecycle.WithStderr(ew))
				}
				err = ct.Logs(ctx, lw, lopts...)
				if ferr := lw.flush(); err == nil {
					err = ferr
				}
				if ew != nil {
					if ferr := ew.flush(); err == nil {
						err = ferr
					}
				}
			}
			if err != nil && ctx.Err() == nil {
				errs[i] = err // "logs of CONTAINER: ..." from lifecycle
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if set.follow {
		return ctx.Err()
	}
	return nil
}

// maxLogLine is the longest line Logs writes. The rest of a longer line
// (a progress bar that redraws itself with \r and never ends its line,
// say) is dropped and counted: a line costs at most this much memory.
const maxLogLine = 64 << 10

// lineWriter writes whole lines, each with a prefix, under a shared lock.
// It looks at each byte written to it once, and keeps at most max bytes of
// a line that has not ended yet.
type lineWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	max    int // bytes of a line kept; maxLogLine when 0

	line    []byte // the current line's first bytes
	dropped int    // bytes of the current line past max
	out     []byte // reused to build a line with its prefix
	scanned int    // bytes searched for a newline (for tests)
}

func (l *lineWriter) limit() int {
	if l.max > 0 {
		return l.max
	}
	return maxLogLine
}

// keep adds part of the current line, up to the limit.
func (l *lineWriter) keep(p []byte) {
	room := max(0, l.limit()-len(l.line))
	k := min(room, len(p))
	l.line = append(l.line, p[:k]...)
	l.dropped += len(p) - k
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for done := 0; done < len(p); {
		rest := p[done:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			l.scanned += len(rest)
			l.keep(rest)
			break
		}
		l.scanned += i + 1
		l.keep(rest[:i])
		done += i + 1
		if err := l.emit(); err != nil {
			return done, err
		}
	}
	return len(p), nil
}

// emit writes the current line with its prefix, and a note of how much of
// it was dropped.
func (l *lineWriter) emit() error {
	l.out = append(append(l.out[:0], l.prefix...), l.line...)
	if l.dropped > 0 {
		l.out = fmt.Appendf(l.out, " [... %d more bytes of this line dropped]", l.dropped)
	}
	l.out = append(l.out, '\n')
	l.line, l.dropped = l.line[:0], 0
	if cap(l.line) > 4<<10 {
		l.line = nil // do not hold on to a giant line's buffer
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(l.out)
	if cap(l.out) > 4<<10 {
		l.out = nil
	}
	return err
}

// flush writes the unfinished last line, if any.
func (l *lineWriter) flush() error {
	if len(l.line) == 0 && l.dropped == 0 {
		return nil
	}
	return l.emit()
}
