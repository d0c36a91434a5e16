package waitfor_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freeAddr returns a loopback address on which nothing listens (right now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// serve accepts connections on l until the test ends, running handle for
// each in its own goroutine.
func serve(t *testing.T, l net.Listener, handle func(n int, c net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(n, c)
			}()
		}
	}()
}

// listen opens a loopback listener served by handle.
func listen(t *testing.T, handle func(n int, c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, l, handle)
	return l.Addr().String()
}

// openLater starts listening on addr after delay and sends the time it did
// on the returned channel.
func openLater(t *testing.T, network, addr string, delay time.Duration) <-chan time.Time {
	t.Helper()
	opened := make(chan time.Time, 1)
	done := make(chan struct{})
	var l net.Listener
	var mu sync.Mutex
	t.Cleanup(func() {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		if l != nil {
			_ = l.Close()
		}
	})
	go func() {
		select {
		case <-time.After(delay):
		case <-done:
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var err error
		l, err = net.Listen(network, addr)
		if err != nil {
			t.Errorf("listen %s: %v", addr, err)
			return
		}
		opened <- time.Now()
		go func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}(l)
	}()
	return opened
}

// hung accepts connections and never answers.
func hung(t *testing.T) string {
	t.Helper()
	block := make(chan struct{})
	addr := listen(t, func(_ int, c net.Conn) {
		select {
		case <-block:
		case <-time.After(5 * time.Second):
		}
	})
	t.Cleanup(func() { close(block) }) // runs before listen's cleanup
	return addr
}

// killBackground kills the background "sleep" whose pid a test command wrote
// to pidFile, if that pid is still a sleep.
func killBackground(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return // it never started
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "sleep" {
		return // already gone
	}
	p, err := os.FindProcess(pid)
	require.NoError(t, err)
	require.NoError(t, p.Kill())
}
