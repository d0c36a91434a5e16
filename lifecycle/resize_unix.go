//go:build unix

package lifecycle

import (
	"os"
	"os/signal"
	"syscall"
)

// watchSize calls changed on every SIGWINCH (the terminal was resized)
// until stop is called.
func watchSize(_ *os.File, changed func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				changed()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
