package lifecycle

import (
	"os"
	"time"

	"github.com/moby/term"
)

// followSize resizes the remote TTY to the terminal f now, and again
// whenever the terminal's size changes (watchSize: SIGWINCH on Unix, a
// poll elsewhere), until stop is called.
func followSize(f *os.File, resize func(h, w uint) error) (stop func()) {
	set := func() {
		if ws, err := term.GetWinsize(f.Fd()); err == nil && ws.Height > 0 {
			_ = resize(uint(ws.Height), uint(ws.Width))
		}
	}
	// The process may need a moment to start before it can be resized.
	go func() { time.Sleep(50 * time.Millisecond); set() }()
	set()
	return watchSize(f, set)
}
