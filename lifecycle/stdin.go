package lifecycle

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// The standard input of Run and Exec is the caller's reader, often its
// terminal. Its copy to the container must end with the call: a goroutine
// left reading would swallow whatever the person types next, meant for
// the program that called us.

// halfCloser is the write side of an attached connection.
type halfCloser interface {
	io.Writer
	CloseWrite() error
}

// copyStdin copies r to w in a goroutine until r ends (then it closes w's
// write side, so the process sees end of input) or stop is called. After
// stop returns, no Read of r begins. It also waits for the goroutine to
// end, which it does at once, except for a plain io.Reader blocked in a
// Read that cannot be interrupted: that Read's data, whenever it comes,
// is dropped and the goroutine ends. Readers that can be interrupted are
// *os.File on Linux (terminals, pipes and files: the copy waits for them
// with ppoll and never blocks in read) and readers with SetReadDeadline
// (net.Conn), whose deadline is set to interrupt the Read and cleared
// again. Close the connection before calling stop, so that a blocked
// write to it ends too.
func copyStdin(r io.Reader, w halfCloser) (stop func()) {
	if f, ok := r.(*os.File); ok {
		if stop, ok := pollCopy(f, w); ok {
			return stop
		}
	}
	c := &stdinCopy{r: r, w: w, done: make(chan struct{})}
	go c.run()
	return c.stop
}

type stdinCopy struct {
	r    io.Reader
	w    halfCloser
	done chan struct{}

	mu      sync.Mutex
	stopped bool // no Read may begin
	reading bool // a Read is in progress
}

func (c *stdinCopy) run() {
	defer close(c.done)
	buf := make([]byte, 32<<10)
	for {
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			return
		}
		c.reading = true
		c.mu.Unlock()
		n, err := c.r.Read(buf)
		c.mu.Lock()
		c.reading = false
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			return // read after the call ended: not ours to send
		}
		if n > 0 {
			if _, werr := c.w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			_ = c.w.CloseWrite()
		}
		if err != nil {
			return
		}
	}
}

type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

func (c *stdinCopy) stop() {
	c.mu.Lock()
	c.stopped = true
	reading := c.reading
	c.mu.Unlock()
	if !reading {
		<-c.done
		return
	}
	if d, ok := c.r.(readDeadliner); ok && d.SetReadDeadline(time.Now()) == nil {
		<-c.done
		_ = d.SetReadDeadline(time.Time{})
	}
}
