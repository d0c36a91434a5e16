package lifecycle

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sink is the attached connection's write side.
type sink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *sink) CloseWrite() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// gatedReader hands out one chunk per release; it records Reads begun
// after the test marked the call as returned.
type gatedReader struct {
	gate      chan string
	entered   chan struct{}
	returned  atomic.Bool
	lateReads atomic.Int32
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.returned.Load() {
		g.lateReads.Add(1)
	}
	g.entered <- struct{}{}
	s, ok := <-g.gate
	if !ok {
		return 0, io.EOF
	}
	return copy(p, s), nil
}

// A plain reader blocked in Read when the call ends: stop does not wait
// for it, no Read begins afterwards, and what that Read returns is not
// sent.
func TestStdinCopyStopsPlainReader(t *testing.T) {
	g := &gatedReader{gate: make(chan string), entered: make(chan struct{}, 10)}
	var w sink
	c := &stdinCopy{r: g, w: &w, done: make(chan struct{})}
	go c.run()
	<-g.entered
	g.gate <- "one"
	<-g.entered // blocked in its second Read
	c.stop()
	g.returned.Store(true)
	g.gate <- "late"
	<-c.done
	assert.Equal(t, "one", w.String(), "data read after the call ended is dropped")
	assert.Zero(t, g.lateReads.Load(), "no Read begins after stop")
	assert.False(t, w.closed)
}

// A reader at its end closes the write side, as docker does on EOF.
func TestStdinCopyEOF(t *testing.T) {
	var w sink
	stop := copyStdin(io.MultiReader(bytes.NewReader([]byte("all of it"))), &w)
	until(func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.closed
	})
	stop()
	assert.Equal(t, "all of it", w.String())
}

// A reader with a read deadline (a net.Conn) is interrupted: stop waits
// for the copy to end, and the reader is usable again afterwards.
func TestStdinCopyDeadlineReader(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var w sink
	stop := copyStdin(a, &w)
	_, err := b.Write([]byte("x"))
	require.NoError(t, err)
	until(func() bool { return w.String() == "x" })
	stop() // returns: the blocked Read was interrupted
	go func() { _, _ = b.Write([]byte("next")) }()
	got := make([]byte, 4)
	_, err = io.ReadFull(a, got)
	require.NoError(t, err)
	assert.Equal(t, "next", string(got), "the deadline was cleared and nothing else reads a")
	assert.Equal(t, "x", w.String())
}

// until waits for cond; the test's own timeout bounds it.
func until(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
