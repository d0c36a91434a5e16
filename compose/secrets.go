package compose

import (
	"encoding/json"
	"log/slog"

	"github.com/dockhand/dockhand/internal/redact"
)

// An option may hold a secret (WithEnv): it shows only its name.

// String is the option's name, such as "WithEnv"; never its arguments.
func (o *option) String() string { return "compose." + o.name + "(...)" }

// GoString is used by %#v: the name, never the arguments.
func (o *option) GoString() string { return o.String() }

// MarshalJSON encodes the name as a JSON string.
func (o *option) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// LogValue makes log/slog print the name.
func (o *option) LogValue() slog.Value { return slog.StringValue(o.String()) }

// scrub hides secrets in the error a Stack verb returns: engine and
// runtime errors can quote a service's command line or environment
// ("exec: \"psql postgres://app:pw@db\": not found"). errors.Is and
// errors.As still see the cause.
func scrub(err *error) {
	if *err != nil {
		*err = redact.Error(*err)
	}
}
