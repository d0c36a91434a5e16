package lifecycle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/waitfor"
)

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
