package redact

import (
	"strconv"
	"unicode/utf8"
)

// Error wraps err so that its message is Values(err.Error(), secrets...):
// the text of an error from another library (which may quote a file, an
// environment or a command line) shows no secret, while errors.Is and
// errors.As still see err and its chain. %#v and JSON show the same
// scrubbed text. Error(nil) is nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &scrubbed{msg: Values(err.Error(), secrets...), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string    { return e.msg }
func (e *scrubbed) Unwrap() error    { return e.err }
func (e *scrubbed) GoString() string { return "redact.Error(" + strconv.Quote(e.msg) + ")" }

// MarshalJSON encodes the scrubbed message as a JSON string.
func (e *scrubbed) MarshalJSON() ([]byte, error) { return JSON(e.msg), nil }

const hexDigits = "0123456789abcdef"

// JSON returns s encoded as a JSON string, for MarshalJSON methods of
// packages that do not import encoding/json. Invalid UTF-8 becomes U+FFFD;
// '<', '>' and '&' are kept as they are.
func JSON(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// ErrorMessage wraps err with msg, a message the caller has already
// scrubbed, in the type Error returns: msg is what Error(), %v, %#v and JSON
// show; errors.Is and errors.As still see err. ErrorMessage(nil, msg) is nil.
func ErrorMessage(err error, msg string) error {
	if err == nil {
		return nil
	}
	return &scrubbed{msg: msg, err: err}
}
