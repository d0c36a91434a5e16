//go:build !unix

package lifecycle

import (
	"os"
	"time"

	"github.com/moby/term"
)

// sizePoll is how often the console size is read where no signal tells
// of a resize (Windows has no SIGWINCH).
const sizePoll = 250 * time.Millisecond

// watchSize reads the console size every sizePoll and calls changed when
// it differs from the last one read, until stop is called.
func watchSize(f *os.File, changed func()) (stop func()) {
	size := func() (h, w uint16) {
		if ws, err := term.GetWinsize(f.Fd()); err == nil {
			return ws.Height, ws.Width
		}
		return 0, 0
	}
	lastH, lastW := size()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(sizePoll)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if h, w := size(); h != lastH || w != lastW {
					lastH, lastW = h, w
					changed()
				}
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}
