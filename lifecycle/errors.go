package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

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

// classified carries a message and a class without printing the class name twice.
type classified struct {
	msg   string
	class error
	cause error
}

func (e *classified) Error() string {
	if e.cause != nil {
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

// wrap adds the operation to an engine error and makes sure the engine's
// class stays reachable with errors.Is. Engine messages that the SDK leaves
// unclassified (registry auth failures, ports already allocated on old
// engines) are classified from their text.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	class := classOf(err) // from the engine's own text, before it is scrubbed
	// The engine's message may quote a command line, an environment or a
	// file: it is shown scrubbed; errors.Is and errors.As still see err.
	err = redact.Error(err)
	if class != nil && !errors.Is(err, class) {
		return &classified{msg: msg, class: class, cause: err}
	}
	return fmt.Errorf("%s: %w", msg, err)
}

func classOf(err error) error {
	switch {
	case cerrdefs.IsNotFound(err):
		return ErrNotFound
	case cerrdefs.IsConflict(err):
		return ErrConflict
	case cerrdefs.IsUnauthorized(err) || cerrdefs.IsPermissionDenied(err):
		return ErrUnauthorized
	case cerrdefs.IsInvalidArgument(err):
		return ErrInvalid
	case cerrdefs.IsUnavailable(err):
		return ErrUnavailable
	}
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "unauthorized"), strings.Contains(s, "authentication required"),
		strings.Contains(s, "no basic auth credentials"), strings.Contains(s, "access denied"):
		return ErrUnauthorized
	case strings.Contains(s, "port is already allocated"), strings.Contains(s, "address already in use"),
		strings.Contains(s, "is already in use"), strings.Contains(s, "is using its referenced image"),
		strings.Contains(s, "image is being used"), strings.Contains(s, "image is referenced in multiple repositories"):
		return ErrConflict
	case strings.Contains(s, "manifest unknown"), strings.Contains(s, "not found"), strings.Contains(s, "no such"):
		return ErrNotFound
	}
	return nil
}
