package lifecycle

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTailLines(t *testing.T) {
	long := strings.Repeat("x", 10)
	for _, tc := range []struct {
		name   string
		n      int
		writes []string
		want   []string
	}{
		{"empty", 3, nil, nil},
		{"fewer than n", 3, []string{"a\nb\n"}, []string{"a", "b"}},
		{"last n kept", 2, []string{"a\nb\nc\nd\n"}, []string{"c", "d"}},
		{"unfinished last line", 2, []string{"a\nb\nc"}, []string{"b", "c"}},
		{"line split across writes", 3, []string{"a", "b\ncd", "e\n"}, []string{"ab", "cde"}},
		{"crlf", 3, []string{"a\r\nb\r\n"}, []string{"a", "b"}},
		{"empty lines kept", 3, []string{"a\n\nb\n"}, []string{"a", "", "b"}},
		{"long line cut", 2, []string{long + "\nok\n"}, []string{"xxxx...", "ok"}},
		{"long line cut across writes", 2, []string{"xx", "xx", "xx\n"}, []string{"xxxx..."}},
		{"exactly max", 2, []string{"xxxx\n"}, []string{"xxxx"}},
		{"cr-only progress bar", 2, []string{strings.Repeat("50%\r", 100)}, []string{"50%\r..."}},
		{"ring wraps twice", 2, []string{"1\n2\n3\n4\n5\n"}, []string{"4", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTailLines(tc.n, 4)
			total := 0
			for _, w := range tc.writes {
				n, err := tl.Write([]byte(w))
				assert.NoError(t, err)
				assert.Equal(t, len(w), n)
				total += len(w)
			}
			assert.Equal(t, tc.want, tl.lines())
			assert.Equal(t, total, tl.scanned, "each byte is looked at once")
		})
	}
}

// A 50 MiB line without a newline, written in 32 KiB pieces as the
// engine's stream delivers it, is read once and costs max bytes.
func TestTailLinesGiantLine(t *testing.T) {
	tl := newTailLines(10, maxShownLine)
	chunk := bytes.Repeat([]byte("progress 42%\r"), 32<<10/13)
	total := 0
	for total < 50<<20 {
		_, _ = tl.Write(chunk)
		total += len(chunk)
	}
	assert.Equal(t, total, tl.scanned)
	assert.LessOrEqual(t, cap(tl.cur), 2*maxShownLine, "the unfinished line's buffer stays small")
	lines := tl.lines()
	if assert.Len(t, lines, 1) {
		assert.Len(t, lines[0], maxShownLine+3)
	}
}
