// Package tail keeps the end of a command's output, for quoting it in an
// error: bounded however much the command writes, and never starting with
// a partial line (cut in the middle of a secret, what is left of it could
// no longer be recognised to be hidden). Standard library only: the
// waitfor binary uses it.
package tail

import (
	"strings"
	"sync"
)

// Buffer keeps the last Max bytes written to it. It is safe for
// concurrent writes (a command's stdout and stderr).
type Buffer struct {
	Max int

	mu        sync.Mutex
	b         []byte
	truncated bool
}

func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.Max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
		t.truncated = true
	}
	return len(p), nil
}

// String returns what was kept, trimmed. When the start was dropped, the
// first (partial) line is dropped too and "..." stands in front.
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.b)
	if t.truncated {
		_, s, _ = strings.Cut(s, "\n")
	}
	s = strings.TrimSpace(s)
	if t.truncated {
		s = "..." + s
	}
	return s
}
