package lifecycle

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// pollFd is struct pollfd of poll(2).
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollIn   = 0x1
	pollNval = 0x20
)

// pollCopy copies the file f to w, waiting for input with ppoll(2) on f
// and on a pipe that stop writes to, and reading only what is there: it
// is never blocked in a read of f when stop is called, so stop waits for
// it to end. It reads f's descriptor directly, whether f is in blocking
// mode (a terminal on os.Stdin) or not.
func pollCopy(f *os.File, w halfCloser) (stop func(), ok bool) {
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, false
	}
	cancelR, cancelW := p[0], p[1]
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer syscall.Close(cancelR)
		buf := make([]byte, 32<<10)
		for {
			var n int
			var rerr error
			var cancelled bool
			cerr := sc.Control(func(fd uintptr) {
				fds := [2]pollFd{{fd: int32(fd), events: pollIn}, {fd: int32(cancelR), events: pollIn}}
				for {
					_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 2, 0, 0, 0, 0)
					if e == syscall.EINTR {
						continue
					}
					if e != 0 {
						rerr = e
						return
					}
					break
				}
				if fds[1].revents != 0 {
					cancelled = true
					return
				}
				if fds[0].revents&pollNval != 0 {
					rerr = syscall.EBADF
					return
				}
				n, rerr = syscall.Read(int(fd), buf)
				if errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EINTR) {
					n, rerr = 0, nil // someone else read it first: wait again
					return
				}
				if rerr == nil && n == 0 {
					rerr = errEOF
				}
			})
			if cancelled || cerr != nil {
				return
			}
			if n > 0 {
				if _, err := w.Write(buf[:n]); err != nil {
					return
				}
			}
			if rerr == errEOF {
				_ = w.CloseWrite()
			}
			if rerr != nil {
				return
			}
		}
	}()
	return func() {
		_, _ = syscall.Write(cancelW, []byte{0})
		<-done
		_ = syscall.Close(cancelW)
	}, true
}

var errEOF = errors.New("end of input")
