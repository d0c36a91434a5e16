package lifecycle

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// The one reader of a container's last log lines, for error messages: an
// *ExitError of a wait, a failed compose service. Whatever the container
// logged, it holds at most n lines of at most maxShownLine bytes each.
const (
	// maxShownLine is how much of a log line an error message quotes.
	maxShownLine = 300
	// lastLogsTimeout bounds the read: the error it decorates matters more.
	lastLogsTimeout = 5 * time.Second
)

// LastLogLines returns up to n of the container's last log lines (stdout
// and stderr, as docker logs --tail n), oldest first, for quoting in a
// message: a line longer than 300 bytes is cut there and ends in "...",
// and a trailing \r of a \r\n line end is dropped. However much the
// container logged, it keeps at most n such lines in memory. The engine
// counts a line as its log messages, one per 16 KiB of it with the json-file
// driver, so a long line may leave fewer than n lines. The read
// gives up after 5 s; the lines read by then are returned with the error.
func (ct *Container) LastLogLines(ctx context.Context, n int) ([]string, error) {
	if err := ct.valid("last log lines"); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, invalidf("last log lines of %s: invalid count %d: want n >= 0", ct, n)
	}
	ins, err := ct.c.api.ContainerInspect(ctx, ct.id)
	if err != nil {
		return nil, ct.c.opErr(err, "last log lines of %s", ct)
	}
	return ct.readLastLines(ctx, ins.Config != nil && ins.Config.Tty, n)
}

// lastLogLines is LastLogLines for a container whose TTY setting is known
// (from an inspect the caller made), ignoring errors: nil if the log cannot
// be read.
func (ct *Container) lastLogLines(ctx context.Context, tty bool, n int) []string {
	if ctx.Err() != nil {
		return nil
	}
	lines, _ := ct.readLastLines(ctx, tty, n)
	return lines
}

func (ct *Container) readLastLines(ctx context.Context, tty bool, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, lastLogsTimeout)
	defer cancel()
	rc, err := ct.c.api.ContainerLogs(ctx, ct.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return nil, ct.c.opErr(err, "last log lines of %s", ct)
	}
	defer rc.Close()
	t := newTailLines(n, maxShownLine)
	if tty {
		_, err = io.Copy(t, rc)
	} else {
		_, err = stdcopy.StdCopy(t, t, rc)
	}
	if err != nil {
		return t.lines(), ct.c.opErr(err, "last log lines of %s", ct)
	}
	return t.lines(), nil
}

// tailLines is a writer that keeps the last n lines written to it, each
// cut to its first max bytes. It looks at every byte once and holds at
// most n*(max+3) bytes, however long the lines are.
type tailLines struct {
	n, max  int
	ring    []string // the last complete lines, oldest at ring[next] once full
	next    int
	full    bool
	cur     []byte // the line being written, up to max bytes
	cut     bool   // the line being written is longer than max
	scanned int    // bytes searched for a newline (for tests)
}

func newTailLines(n, max int) *tailLines {
	return &tailLines{n: n, max: max, ring: make([]string, n)}
}

func (t *tailLines) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		part := rest
		if i >= 0 {
			part = rest[:i]
			rest = rest[i+1:]
			t.scanned += i + 1
		} else {
			rest = nil
			t.scanned += len(part)
		}
		room := max(0, t.max-len(t.cur))
		if len(part) > room {
			t.cut = true
		}
		t.cur = append(t.cur, part[:min(room, len(part))]...)
		if i >= 0 {
			t.end()
		}
	}
	return len(p), nil
}

// end completes the current line.
func (t *tailLines) end() {
	line := t.cur
	if !t.cut {
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	s := string(line)
	if t.cut {
		s += "..."
	}
	t.cur, t.cut = t.cur[:0], false
	if t.n == 0 {
		return
	}
	t.ring[t.next] = s
	t.next++
	if t.next == t.n {
		t.next, t.full = 0, true
	}
}

// lines returns the kept lines, oldest first, with an unfinished last line.
func (t *tailLines) lines() []string {
	if len(t.cur) > 0 || t.cut {
		t.end()
	}
	var out []string
	if t.full {
		out = append(out, t.ring[t.next:]...)
	}
	out = append(out, t.ring[:t.next]...)
	if len(out) == 0 {
		return nil
	}
	return out
}
