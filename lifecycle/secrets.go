package lifecycle

import (
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/dockhand/dockhand/internal/redact"
)

// Secrets never appear in errors, logs, %v, %#v, JSON or slog output: every
// type that may hold one shows only a description made by internal/redact,
// the one rule for URLs, command lines and environments.

// redactArgs hides the secrets of a command line (password flags, secret
// KEY=VALUE words, URL passwords) for an error or a description.
func redactArgs(args []string) []string { return redact.Args(args) }

// GoString, MarshalJSON and LogValue of the ExecSucceeds condition show its
// String, in which the command line is redacted; the struct would show the
// command as given.
func (e execCond) GoString() string {
	return "lifecycle.ExecSucceeds(" + strconv.Quote(e.String()) + ")"
}
func (e execCond) MarshalJSON() ([]byte, error) { return json.Marshal(e.String()) }
func (e execCond) LogValue() slog.Value         { return slog.StringValue(e.String()) }

// progName is cmd[0] for an error message, redacted: a whole command line
// passed as one word ("mysqladmin ping -psecret") shows no password.
func progName(cmd []string) string { return redact.Text(cmd[0]) }

// redactOutput hides secrets in the output of cmd: what redact.Args hides
// in cmd (whole, and its pieces, which a program may quote) and whatever
// else looks like a secret.
func redactOutput(s string, cmd []string) string { return redact.Values(s, redact.ArgSecrets(cmd)...) }

// redactText hides what looks like a secret (internal/redact) in free text:
// a log line or a healthcheck's output shown in an error.
func redactText(s string) string { return redact.Text(s) }

// An option may hold a secret (WithEnv, WithAuth, WithCmd, WithBuildArgs):
// it shows only its name.

// String is the option's name, such as "WithEnv"; never its arguments.
func (o *option) String() string { return "lifecycle." + o.name + "(...)" }

// GoString is used by %#v: the name, never the arguments.
func (o *option) GoString() string { return o.String() }

// MarshalJSON encodes the name as a JSON string.
func (o *option) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// LogValue makes log/slog print the name.
func (o *option) LogValue() slog.Value { return slog.StringValue(o.String()) }
