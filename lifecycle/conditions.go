package lifecycle

import (
	"context"

	"github.com/dockhand/dockhand/waitfor"
)

// Docker-aware conditions for package waitfor. Every one of them fails at
// once, with a waitfor.Permanent *ExitError carrying the exit code and the
// last log lines, when the container stops (exits, is OOM-killed or is
// removed) before the condition holds: waiting on longer could only end in
// a timeout.

func (ct *Container) condName(what string) string { return "container " + ct.String() + " " + what }

// invalidCond is the condition of a Container that is not a handle: it
// fails at once.
type invalidCond struct{ err error }

func (c invalidCond) String() string              { return "invalid container condition" }
func (c invalidCond) Check(context.Context) error { return waitfor.Permanent(c.err) }
