package lifecycle

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/docker/docker/api/types/mount"
)

// Bind mounts name paths on the engine host. When the client does not share
// the engine host's file system (a tcp:// or ssh:// engine, or a client in a
// container of its engine), a bind mount of a client path mounts whatever
// the engine host has there, if anything: the first Run with a bind mount
// logs one warning per client saying so, and a create the engine refuses
// says whose path it was and what to do instead (CopyTo, a volume).

// foreignFS reports whether the engine host's paths are not this process's.
func (c *Client) foreignFS(ctx context.Context) bool {
	switch c.route(ctx).kind {
	case routeTCP, routeSSH, routeContainer:
		return true
	}
	return false
}

func bindSources(mounts []mount.Mount) []string {
	var src []string
	for _, m := range mounts {
		if m.Type == mount.TypeBind {
			src = append(src, m.Source)
		}
	}
	return src
}

// warnRemoteBinds logs, once per client, that bind mounts on this engine
// name paths on the engine host.
func (c *Client) warnRemoteBinds(ctx context.Context, mounts []mount.Mount) {
	src := bindSources(mounts)
	if len(src) == 0 || !c.foreignFS(ctx) {
		return
	}
	c.ports.bindWarn.Do(func() {
		c.logger.Warn("bind mounts name paths on the engine host, not on this machine: to give a container files from here, use CopyTo or a volume",
			"engine", c.addr, "paths", src, "client", c.route(ctx).kind.String())
	})
}

// bindMountErr explains a refused create whose bind mounts name paths the
// engine host may not have. It keeps the engine's error class.
func (c *Client) bindMountErr(ctx context.Context, err error, mounts []mount.Mount) error {
	src := bindSources(mounts)
	if err == nil || len(src) == 0 || !c.foreignFS(ctx) {
		return err
	}
	return fmt.Errorf("%w (bind mount source %s is a path on the engine host %s, not on this machine; copy files into the container with CopyTo, or use a volume)",
		err, strings.Join(src, ", "), c.addr)
}

// contextUpload counts the bytes of a build context sent to an engine
// whose file system is not the client's, and says so in the progress
// (the context is always uploaded; there it is worth knowing).
//
// Read runs on http.Transport's body-writing goroutine, which may still
// run when ImageBuild returns: the count is atomic.
type contextUpload struct {
	r io.Reader
	n atomic.Int64
}

func (u *contextUpload) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n.Add(int64(n))
	return n, err
}

// sent is the number of bytes read so far.
func (u *contextUpload) sent() int64 { return u.n.Load() }

// sayUpload reports the context upload to the build's progress.
func (c *Client) sayUpload(s *imageSettings, msg string, n int64) {
	p := Progress{Status: msg, Current: n, Total: n}
	if s.progress != nil {
		fmt.Fprintln(s.progress, msg)
	}
	if s.progressFunc != nil {
		s.progressFunc(p)
	}
}
