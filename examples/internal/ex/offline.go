package ex

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dockhand/dockhand/lifecycle"
)

// StandIns is the command that builds the offline stand-in images
// (dockhand.test/busybox:1, dockhand.test/postgres:15, ...), run from the
// repository root.
const StandIns = "scripts/test-images"

// The offline stand-ins of the public images the examples use by default.
const (
	Busybox = "dockhand.test/busybox:1" // busybox:1.37 and bash:5.2 (it has bash too)
	Redis   = "dockhand.test/redis:7"   // redis:7-alpine
)

// ErrNoRegistry marks an error whose cause is that no registry could be
// reached (errors.Is).
var ErrNoRegistry = errors.New("no registry could be reached")

// Offline says how an example runs without a registry. Main puts it into
// the error when a pull fails because no registry can be reached.
type Offline struct {
	// Command runs the example on the stand-in images, from the repository
	// root, e.g. "go run ./examples/run -image dockhand.test/busybox:1".
	Command string
	// Images are the images the example pulls when they are missing (the
	// values of its image flags). The error names those not on the engine.
	Images []string
}

// NoRegistryError is the error of an example that could not pull an
// image because no registry could be reached. It names the images and
// says what to run instead; errors.Is(err, ErrNoRegistry) holds, and the
// engine's error stays reachable with errors.Is and errors.As.
type NoRegistryError struct {
	Images  []string // the images that could not be pulled (empty: unknown)
	Command string   // the example's command on the stand-ins
	Err     error    // the engine's error
}

func (e *NoRegistryError) Error() string {
	var b strings.Builder
	if len(e.Images) > 0 {
		fmt.Fprintf(&b, "cannot pull %s: ", strings.Join(e.Images, ", "))
	}
	b.WriteString("no registry could be reached:\n")
	for _, line := range strings.Split(strings.TrimSpace(e.Err.Error()), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("To run without a registry, build the offline stand-in images once and use them:\n")
	b.WriteString("    " + StandIns + " && " + e.Command)
	return b.String()
}

func (e *NoRegistryError) Unwrap() []error { return []error{ErrNoRegistry, e.Err} }

// NoRegistry returns err as a *NoRegistryError when RegistryUnreachable
// says no registry could be reached, naming those of images that are not
// on the engine c (the ones a pull was for); otherwise it returns err as
// it is. command is the example's command line on the stand-in images.
func NoRegistry(ctx context.Context, c *lifecycle.Client, err error, command string, images ...string) error {
	if !RegistryUnreachable(err) {
		return err
	}
	var nr *NoRegistryError
	if errors.As(err, &nr) {
		return err
	}
	nr = &NoRegistryError{Command: command, Err: err}
	ctx, cancel := Later(ctx)
	defer cancel()
	seen := map[string]bool{}
	for _, img := range images {
		if img == "" || seen[img] {
			continue
		}
		seen[img] = true
		if _, ierr := c.InspectImage(ctx, img); errors.Is(ierr, lifecycle.ErrNotFound) {
			nr.Images = append(nr.Images, img)
		}
	}
	return nr
}

// registryURL finds the URL of a registry's API (https://HOST/v2/...) in
// the engine's text; netFailure finds one of Go's network errors after it.
var (
	registryURL = regexp.MustCompile(`(?i)\bhttps?://[^/\s"]+/v2/`)
	netFailure  = regexp.MustCompile(`(?i)dial tcp|no such host|i/o timeout|connection refused|connection reset by peer|` +
		`network is unreachable|no route to host|server misbehaving|temporary failure in name resolution|` +
		`tls handshake timeout|client\.timeout exceeded|proxyconnect|request canceled while waiting for connection`)
)

// RegistryUnreachable reports whether err says that the engine could not
// reach a registry: a name that does not resolve (no DNS, or a name such
// as dockhand.test that no registry has), a refused or timed-out
// connection, a proxy in the way. An engine that cannot be reached, a
// missing image and refused credentials are not this.
//
// This is the one place where the examples read an error's text, and why:
// the engine, not this process, talks to the registry, and it reports a
// network failure on the way there only as text, in the HTTP error of the
// pull request, in a message of the pull or build stream, or in a build's
// output. The Docker SDK gives that text no class, so lifecycle's class
// cannot tell it from a missing image (it says ErrNotFound for "no such
// host"). The text is stable, though: the engine quotes Go's own net and
// net/http errors after the URL of the registry's API, as in
//
//	Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host
//
// so a line with a registry API URL (http[s]://HOST/v2/...) followed by
// such a network error is what this looks for. The engine's own API
// (/v1.41/...) never matches.
func RegistryUnreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNoRegistry) {
		return true
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if loc := registryURL.FindStringIndex(line); loc != nil && netFailure.MatchString(line[loc[1]:]) {
			return true
		}
	}
	return false
}
