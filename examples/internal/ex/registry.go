package ex

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dockhand/dockhand/lifecycle"
)

// Registry is an OCI registry served by this program on 127.0.0.1 (a
// random port), with go-containerregistry's registry package. It keeps the
// layers in a temporary directory that Close removes. The engine talks
// plain HTTP to registries on the loopback, so it pushes there and pulls
// from there without any setup, as long as it runs on this machine.
type Registry struct {
	Addr string // "127.0.0.1:PORT": the first part of the image names it serves
	srv  *http.Server
	dir  string

	mu     sync.Mutex
	served []string // "GET /v2/...", in order
}

// StartRegistry starts a Registry; Close stops it.
func StartRegistry() (*Registry, error) {
	dir, err := os.MkdirTemp("", "dockhand-examples-registry-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r := &Registry{Addr: ln.Addr().String(), dir: dir}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(registry.NewDiskBlobHandler(dir)))
	r.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.served = append(r.served, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Served returns the requests the registry has answered, as "METHOD
// /path", in order.
func (r *Registry) Served() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.served...)
}

// Close stops the registry and deletes what was pushed to it.
func (r *Registry) Close() error {
	err := r.srv.Close()
	return errors.Join(err, os.RemoveAll(r.dir))
}

// StandIn reports whether image is named under the reserved .test domain
// (RFC 6761), as the offline stand-ins dockhand.test/... are: no registry
// serves such a name, so the image exists only where it was built.
func StandIn(image string) bool {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return false
	}
	domain, _, _ := strings.Cut(reference.Domain(named), ":")
	return strings.HasSuffix(domain, ".test")
}

// Pull pulls image as `docker pull` does, printing the engine's progress,
// and it works without a registry too.
//
// An image that is only on this machine (a stand-in such as
// dockhand.test/busybox:1, or any image here whose registry cannot be
// reached) is served from a Registry inside this program: the local copy
// is pushed there as repo, that name is removed again, and the engine
// pulls 127.0.0.1:PORT/repo from the registry. So the pull really happens:
// the engine asks the registry which image that name is, and downloads
// what it does not have yet (nothing: it has the local copy). Pull prints
// the requests the registry answered, and returns that name as pulled;
// done removes it (a name only: the image stays, under its own name) and
// stops the registry.
//
// When the engine cannot reach this program's registry (an engine on
// another machine, where 127.0.0.1 is its own loopback), Pull says that it
// uses the local copy, and returns image. In every other case pulled is
// image and done does nothing. done is never nil, not even with an error.
// A missing image whose registry cannot be reached is an error that
// RegistryUnreachable recognizes.
func Pull(ctx context.Context, c *lifecycle.Client, image, repo string) (pulled string, done func(), err error) {
	nothing := func() {}
	_, err = c.InspectImage(ctx, image)
	local := err == nil
	if err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
		return "", nothing, err
	}
	if !local || !StandIn(image) {
		err := c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout))
		if err == nil {
			return image, nothing, nil
		}
		if !local || !RegistryUnreachable(err) {
			return "", nothing, err
		}
		Say("the registry of %s cannot be reached, but the image is on this machine:", image)
		Say("  %s", firstUnreachable(err))
	} else {
		Say("%s is a stand-in that exists on this machine only (no registry serves the .test domain)", image)
	}
	Say("so a registry inside this program serves your local copy, and the engine pulls it from there")

	reg, err := StartRegistry()
	if err != nil {
		return "", nothing, err
	}
	ref := reg.Addr + "/" + repo
	var once sync.Once
	done = func() {
		once.Do(func() {
			ctx, cancel := Later(ctx)
			defer cancel()
			if err := c.RemoveImage(ctx, ref); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
				Say("could not remove %s: %v", ref, err)
			}
			_ = reg.Close()
		})
	}
	Say("registry listening on %s (same as: docker run -d -p 127.0.0.1:5000:5000 registry:2)", reg.Addr)
	if err := c.Tag(ctx, image, ref); err != nil {
		done()
		return "", nothing, err
	}
	if err := c.Push(ctx, ref); err != nil {
		done()
		if ctx.Err() != nil {
			return "", nothing, err
		}
		Say("the engine cannot reach a registry on this machine (is it on another one?):")
		Say("  %v", err)
		Say("so nothing is pulled: the local copy of %s is used as it is", image)
		return image, nothing, nil
	}
	if err := c.RemoveImage(ctx, ref); err != nil {
		done()
		return "", nothing, err
	}
	Say("pushed your copy there, and removed the name %s again, so that the engine must pull it", ref)
	Say("  (same as: docker tag %s %s && docker push %s && docker rmi %s)", image, ref, ref, ref)
	Say("same as: docker pull %s", ref)
	before := len(reg.Served())
	if err := c.Pull(ctx, ref, lifecycle.WithProgress(os.Stdout)); err != nil {
		done()
		return "", nothing, err
	}
	Say("the registry answered the engine's pull: %s", strings.Join(reg.Served()[before:], ", "))
	Say("(the registry told the engine which image that name is; the engine has all of it already, in your copy,")
	Say(" so nothing more was downloaded: a pull fetches only what is missing)")
	return ref, done, nil
}

// firstUnreachable returns the line of err that says a registry could not
// be reached (see RegistryUnreachable), or err's first line.
func firstUnreachable(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, line := range lines {
		if RegistryUnreachable(errors.New(line)) {
			return line
		}
	}
	return lines[0]
}
