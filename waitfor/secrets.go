package waitfor

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/dockhand/dockhand/internal/redact"
)

// The types below may hold a password (in a URL, a field or a command
// line). Each shows only its String, which hides it, in %v, %#v, JSON and
// log/slog output: a struct printed field by field would show it.

// GoString is used by %#v: the String, never the fields.
func (h HTTPCondition) GoString() string { return goString("waitfor.HTTPCondition", h.String()) }

// MarshalJSON encodes the String as a JSON string.
func (h HTTPCondition) MarshalJSON() ([]byte, error) { return redact.JSON(h.String()), nil }

// LogValue makes log/slog print the String.
func (h HTTPCondition) LogValue() slog.Value { return slog.StringValue(h.String()) }

// GoString is used by %#v: the String, never the fields.
func (r RedisCondition) GoString() string { return goString("waitfor.RedisCondition", r.String()) }

// MarshalJSON encodes the String as a JSON string.
func (r RedisCondition) MarshalJSON() ([]byte, error) { return redact.JSON(r.String()), nil }

// LogValue makes log/slog print the String.
func (r RedisCondition) LogValue() slog.Value { return slog.StringValue(r.String()) }

// GoString is used by %#v: the String, never the fields.
func (p PostgresCondition) GoString() string {
	return goString("waitfor.PostgresCondition", p.String())
}

// MarshalJSON encodes the String as a JSON string.
func (p PostgresCondition) MarshalJSON() ([]byte, error) { return redact.JSON(p.String()), nil }

// LogValue makes log/slog print the String.
func (p PostgresCondition) LogValue() slog.Value { return slog.StringValue(p.String()) }

// GoString is used by %#v: the String, never the fields.
func (m MySQLCondition) GoString() string { return goString("waitfor.MySQLCondition", m.String()) }

// MarshalJSON encodes the String as a JSON string.
func (m MySQLCondition) MarshalJSON() ([]byte, error) { return redact.JSON(m.String()), nil }

// LogValue makes log/slog print the String.
func (m MySQLCondition) LogValue() slog.Value { return slog.StringValue(m.String()) }

func (c commandCond) GoString() string                 { return goString("waitfor.Command", c.String()) }
func (c commandCond) MarshalJSON() ([]byte, error)     { return redact.JSON(c.String()), nil }
func (c commandCond) LogValue() slog.Value             { return slog.StringValue(c.String()) }
func (g groupCond) GoString() string                   { return goString("waitfor.group", g.String()) }
func (g groupCond) MarshalJSON() ([]byte, error)       { return redact.JSON(g.String()), nil }
func (g groupCond) LogValue() slog.Value               { return slog.StringValue(g.String()) }
func (n notCond) GoString() string                     { return goString("waitfor.Not", n.String()) }
func (n notCond) MarshalJSON() ([]byte, error)         { return redact.JSON(n.String()), nil }
func (n notCond) LogValue() slog.Value                 { return slog.StringValue(n.String()) }
func (e *permanentError) GoString() string             { return goString("waitfor.Permanent", e.Error()) }
func (e *permanentError) MarshalJSON() ([]byte, error) { return redact.JSON(e.Error()), nil }

// String describes the attempt: "CONDITION: attempt N ready" or
// "CONDITION: attempt N: ERROR".
func (a Attempt) String() string {
	s := condString(a.Condition) + ": attempt " + strconv.Itoa(a.N)
	if a.Err == nil {
		return s + " ready"
	}
	return s + ": " + a.Err.Error()
}

// GoString is used by %#v: the String, never the fields.
func (a Attempt) GoString() string { return goString("waitfor.Attempt", a.String()) }

// MarshalJSON encodes the attempt as {"condition", "attempt", "error",
// "elapsed_ms"}, the condition by its String.
func (a Attempt) MarshalJSON() ([]byte, error) {
	b := []byte(`{"condition":`)
	b = append(b, redact.JSON(condString(a.Condition))...)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(a.N), 10)
	if a.Err != nil {
		b = append(b, `,"error":`...)
		b = append(b, redact.JSON(a.Err.Error())...)
	}
	b = append(b, `,"elapsed_ms":`...)
	b = strconv.AppendFloat(b, float64(a.Elapsed)/float64(time.Millisecond), 'f', 3, 64)
	return append(b, '}'), nil
}

// LogValue makes log/slog print the attempt as a group of condition,
// attempt, error and elapsed.
func (a Attempt) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("condition", condString(a.Condition)), slog.Int("attempt", a.N)}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	return slog.GroupValue(append(attrs, slog.Duration("elapsed", a.Elapsed))...)
}

// String is "CONDITION (N attempts, last error: ...)".
func (p Pending) String() string {
	s := p.Condition + " (" + strconv.Itoa(p.Attempts) + " attempts"
	if p.LastErr != nil {
		s += ", last error: " + p.LastErr.Error()
	}
	return s + ")"
}

// GoString is used by %#v: the String, never the fields.
func (p Pending) GoString() string { return goString("waitfor.Pending", p.String()) }

// MarshalJSON encodes {"condition", "attempts", "last_error"}.
func (p Pending) MarshalJSON() ([]byte, error) {
	b := []byte(`{"condition":`)
	b = append(b, redact.JSON(p.Condition)...)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(p.Attempts), 10)
	if p.LastErr != nil {
		b = append(b, `,"last_error":`...)
		b = append(b, redact.JSON(p.LastErr.Error())...)
	}
	return append(b, '}'), nil
}

// LogValue makes log/slog print the String.
func (p Pending) LogValue() slog.Value { return slog.StringValue(p.String()) }

// GoString is used by %#v: the message, never the fields.
func (e *Error) GoString() string { return goString("&waitfor.Error", e.Error()) }

// MarshalJSON encodes the message as a JSON string.
func (e *Error) MarshalJSON() ([]byte, error) { return redact.JSON(e.Error()), nil }

// LogValue makes log/slog print the message.
func (e *Error) LogValue() slog.Value { return slog.StringValue(e.Error()) }

func goString(typ, s string) string { return typ + "(" + strconv.Quote(s) + ")" }

func condString(c Condition) string {
	if c == nil {
		return "<nil>"
	}
	return c.String()
}
