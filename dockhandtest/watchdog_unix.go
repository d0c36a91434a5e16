//go:build unix

package dockhandtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// startWatchdog starts the watchdog (see watchdog.go) and returns the
// write end of its pipe, the handshake written.
func startWatchdog() (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the test binary: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	token := newToken()
	// The arguments only matter should the binary not be the watchdog
	// after all: then it runs no test.
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = watchdogEnviron(token)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{r} // file descriptor 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	go func() { _ = cmd.Wait() }() // reap it, should it end first
	if _, err := fmt.Fprintf(w, "%s %s %d\n", watchdogHello, token, os.Getpid()); err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

// watchdogPipe is the watchdog's end of the pipe: file descriptor 3,
// which must be a pipe.
func watchdogPipe() (*os.File, error) {
	f := os.NewFile(3, "dockhandtest-watchdog")
	if f == nil {
		return nil, errors.New("no file descriptor 3")
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("file descriptor 3: %w", err)
	}
	if st.Mode()&os.ModeNamedPipe == 0 {
		return nil, errors.New("file descriptor 3 is not a pipe")
	}
	return f, nil
}
