package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/dockhand/dockhand/internal/redact"
)

// The classes of error the library returns. Every error from this package
// wraps one of these (or the engine's own classified error), so callers can
// test with errors.Is, or with the containerd/errdefs helpers the Docker SDK
// itself uses (cerrdefs.IsNotFound, cerrdefs.IsConflict, ...).
var (
	// ErrInvalid marks bad input, rejected before any engine call.
	ErrInvalid = cerrdefs.ErrInvalidArgument
	// ErrNotFound marks a missing image, container, network or volume.
	ErrNotFound = cerrdefs.ErrNotFound
	// ErrConflict marks a name in use, an image used by a container, a port already allocated, ...
	ErrConflict = cerrdefs.ErrConflict
	// ErrUnauthorized marks a registry refusing the credentials.
	ErrUnauthorized = cerrdefs.ErrUnauthenticated
	// ErrUnavailable marks an engine that cannot be reached.
	ErrUnavailable = cerrdefs.ErrUnavailable
	// ErrTooLarge marks data over a size limit (ReadFile's WithMaxSize).
	ErrTooLarge = errors.New("too large")
)

// invalidf returns an ErrInvalid error with a message naming the bad value.
func invalidf(format string, args ...any) error {
	return &classified{msg: fmt.Sprintf(format, args...), class: ErrInvalid}
}

// classified carries a message and a class without printing the class name
// twice. With quiet set, the message says all the cause would (the engine
// restating the same value): the cause is not printed, only unwrapped.
type classified struct {
	msg   string
	class error
	cause error
	quiet bool
}

func (e *classified) Error() string {
	if e.cause != nil && !e.quiet {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *classified) Unwrap() []error {
	if e.cause != nil {
		return []error{e.class, e.cause}
	}
	return []error{e.class}
}

// lookupErr wraps the error of an engine call that acts on exactly one
// object, named in the message (inspect, stop, kill, remove, wait; not
// start, whose 404 may be a missing network): a 404 then means that object
// is missing,
// and the message says so once ("container web: not found") instead of
// adding the engine's own "No such container: web".
func (c *Client) lookupErr(err error, format string, args ...any) error {
	if cerrdefs.IsNotFound(err) {
		return &classified{msg: fmt.Sprintf(format, args...) + ": not found", class: ErrNotFound, cause: err, quiet: true}
	}
	return c.opErr(err, format, args...)
}

// wrap adds the operation to an engine error and makes sure the engine's
// class stays reachable with errors.Is (see classOf).
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	class := classOf(err) // before the message is scrubbed
	// The engine's message may quote a command line, an environment or a
	// file: it is shown scrubbed; errors.Is and errors.As still see err.
	err = redact.Error(err)
	if class != nil && !errors.Is(err, class) {
		return &classified{msg: msg, class: class, cause: err}
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// classOf returns the class of an engine error, by type: the SDK turns
// the engine's HTTP status into a containerd errdefs class (404 not
// found, 409 conflict, 401 unauthorized, 400 invalid, 503 unavailable).
// A 403 (a network with active endpoints, a predefined network) keeps its
// own class, cerrdefs.ErrPermissionDenied: no engine sends a registry's
// refusal as 403. What the engine sends with no class at all — a 500, or
// an error inside a pull, push or build stream — is classified by
// unclassifiedEngineError, the one place that reads an engine message.
func classOf(err error) error {
	switch {
	case cerrdefs.IsNotFound(err):
		return ErrNotFound
	case cerrdefs.IsConflict(err):
		return ErrConflict
	case cerrdefs.IsUnauthorized(err):
		return ErrUnauthorized
	case cerrdefs.IsInvalidArgument(err):
		return ErrInvalid
	case cerrdefs.IsUnavailable(err):
		return ErrUnavailable
	}
	return unclassifiedEngineError(err)
}

// unclassifiedEngineError classifies the engine failures that arrive with
// no structure to classify them by. Docker 20.10 (API 1.41) answers them
// with a 500 and only a message, or sends them in a pull/push/build stream
// as an errorDetail with no code (a stream's code is only ever a build
// step's exit status); current engines do the same (moby's
// translatePullError maps a registry's 401 to Unknown). It reads the
// engine's own message (not our wrapping, not the SDK's "Error response
// from daemon" prefix) and recognises exactly these, each seen from a
// real 20.10 engine (errors_internal_test.go lists them):
//
//   - ErrUnauthorized, a registry refusing the credentials: the message
//     ends in ": no basic auth credentials" or is "no basic auth
//     credentials" (none were given: the engine quotes Go's
//     registry-client error), or is the registry's UNAUTHORIZED error
//     code as the engine prints it, "unauthorized" or
//     "unauthorized: <the registry's detail>" (wrong ones).
//   - ErrConflict, a host port already taken: "... port is already
//     allocated" (another container has it) or "...: bind: address
//     already in use" (another process listens on it).
//
// Anything else stays unclassified: a wrong class is worse than none.
func unclassifiedEngineError(err error) error {
	var je *jsonmessage.JSONError
	if !errors.As(err, &je) && !cerrdefs.IsInternal(err) && !cerrdefs.IsUnknown(err) {
		return nil // the engine gave it a class: none of ours fits
	}
	msg := engineMessage(err)
	switch {
	case msg == "no basic auth credentials", strings.HasSuffix(msg, ": no basic auth credentials"),
		msg == "unauthorized", strings.HasPrefix(msg, "unauthorized: "):
		return ErrUnauthorized
	case strings.HasSuffix(msg, ": port is already allocated"), strings.HasSuffix(msg, ": bind: address already in use"):
		return ErrConflict
	}
	return nil
}

// engineMessage is the engine's own message in err: a stream's
// errorDetail message, or the innermost error under the SDK's wrapping
// ("Error response from daemon: ...").
func engineMessage(err error) string {
	var je *jsonmessage.JSONError
	if errors.As(err, &je) {
		return je.Message
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}
