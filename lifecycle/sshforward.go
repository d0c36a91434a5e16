package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/cli/cli/connhelper/commandconn"
	"github.com/docker/cli/cli/connhelper/ssh"

	"github.com/dockhand/dockhand/internal/redact"
)

// sshForward serves ssh:// engines. The engine API goes through the docker
// CLI's connection helper (`ssh … docker system dial-stdio`), and published
// ports stay on the remote loopback: each one the client asks for gets a
// local listener on 127.0.0.1 whose connections are carried over SSH
// (`ssh -W 127.0.0.1:PORT`), one ssh per connection. All of them share one
// SSH connection (OpenSSH's ControlMaster, in a directory of this client),
// so a forwarded connection costs a process start and a channel, not a
// handshake.
type sshForward struct {
	spec    *ssh.Spec
	dir     string   // holds the control socket
	flags   []string // ssh flags shared by the API and the forwards
	logger  *slog.Logger
	mu      sync.Mutex
	ls      map[string]net.Listener // remote target -> local listener
	closed  bool
	cancels []func()
}

// newSSHForward prepares an ssh:// engine: the SDK dialer and the forwarder.
func newSSHForward(host string, logger *slog.Logger) (*sshForward, *connhelper.ConnectionHelper, error) {
	u, err := url.Parse(host)
	shown := redact.URL(host) // for messages: a URL may hold a password
	if err != nil {
		return nil, nil, invalidf("invalid engine host %q: want ssh://[user@]host[:port]", shown)
	}
	sp, err := ssh.NewSpec(u)
	if err != nil {
		return nil, nil, invalidf("invalid engine host %q: %v", shown, redact.Error(err))
	}
	dir, err := os.MkdirTemp("", "dockhand-ssh-")
	if err != nil {
		return nil, nil, fmt.Errorf("ssh engine %s: control directory: %w", shown, err)
	}
	f := &sshForward{spec: sp, dir: dir, logger: logger, ls: map[string]net.Listener{},
		flags: []string{"-o", "ControlMaster=auto", "-o", "ControlPath=" + filepath.Join(dir, "c"), "-o", "ControlPersist=30", "-o", "BatchMode=yes"}}
	h, err := connhelper.GetConnectionHelperWithSSHOpts(host, f.flags)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, invalidf("invalid engine host %q: %v", shown, redact.Error(err))
	}
	return f, h, nil
}

// dial opens one connection to target ("127.0.0.1:5432") on the remote
// host, over SSH.
func (f *sshForward) dial(ctx context.Context, target string) (net.Conn, error) {
	args := append(append([]string{}, f.flags...), "-T", "-W", target)
	args = append(args, f.spec.Args()...)
	return commandconn.New(ctx, "ssh", args...)
}

// local returns the local address forwarding to target on the remote host,
// starting its listener at the first call.
func (f *sshForward) local(target string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return "", &classified{msg: "ssh forward to " + target + ": the client is closed", class: ErrUnavailable}
	}
	if l, ok := f.ls[target]; ok {
		return l.Addr().String(), nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("ssh forward to %s: %w", target, err)
	}
	f.ls[target] = l
	ctx, cancel := context.WithCancel(context.Background())
	f.cancels = append(f.cancels, cancel)
	go f.serve(ctx, l, target)
	f.logger.Debug("forwarding over ssh", "local", l.Addr().String(), "remote", target)
	return l.Addr().String(), nil
}

func (f *sshForward) serve(ctx context.Context, l net.Listener, target string) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			remote, err := f.dial(ctx, target)
			if err != nil {
				f.logger.Debug("ssh forward failed", "remote", target, "err", err)
				return
			}
			defer remote.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(remote, conn); closeWrite(remote); done <- struct{}{} }()
			go func() { _, _ = io.Copy(conn, remote); closeWrite(conn); done <- struct{}{} }()
			select {
			case <-done:
				<-done
			case <-ctx.Done():
			}
		}()
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// close stops the listeners and the shared SSH connection.
func (f *sshForward) close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	var errs []error
	for _, l := range f.ls {
		errs = append(errs, l.Close())
	}
	for _, c := range f.cancels {
		c()
	}
	f.mu.Unlock()
	// End the control master; it is gone already when nothing used it.
	args := append(append([]string{}, f.flags...), "-O", "exit")
	args = append(args, f.spec.Args()...)
	// Bounded: a wedged master must not hang Close (it exits by itself
	// after its idle time anyway).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = exec.CommandContext(ctx, "ssh", args...).Run()
	errs = append(errs, os.RemoveAll(f.dir))
	return errors.Join(errs...)
}
