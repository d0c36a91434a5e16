package compose

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLineWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"whole lines", 0, []string{"a\nb\n"}, "p | a\np | b\n"},
		{"split across writes", 0, []string{"he", "llo\nwo", "rld\n"}, "p | hello\np | world\n"},
		{"unfinished last line flushed", 0, []string{"a\nb"}, "p | a\np | b\n"},
		{"empty line", 0, []string{"\n"}, "p | \n"},
		{"long line cut", 4, []string{"abcdefgh\nok\n"}, "p | abcd [... 4 more bytes of this line dropped]\np | ok\n"},
		{"long line cut across writes", 4, []string{"ab", "cdef", "gh\n"}, "p | abcd [... 4 more bytes of this line dropped]\n"},
		{"exactly max", 4, []string{"abcd\n"}, "p | abcd\n"},
		{"cr-only progress flushed cut", 4, []string{"10%\r20%\r30%\r"}, "p | 10%\r [... 8 more bytes of this line dropped]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			lw := &lineWriter{w: &out, mu: &sync.Mutex{}, prefix: "p | ", max: tc.max}
			total := 0
			for _, w := range tc.writes {
				n, err := lw.Write([]byte(w))
				assert.NoError(t, err)
				assert.Equal(t, len(w), n)
				total += len(w)
			}
			assert.NoError(t, lw.flush())
			assert.Equal(t, tc.want, out.String())
			assert.Equal(t, total, lw.scanned, "each byte is looked at once")
		})
	}
}

// A line that never ends, written in small pieces, is scanned once (the
// old writer searched its whole buffer again on every write: quadratic)
// and kept to maxLogLine bytes.
func TestLineWriterNoRescan(t *testing.T) {
	var out bytes.Buffer
	lw := &lineWriter{w: &out, mu: &sync.Mutex{}, prefix: "p | "}
	piece := []byte("downloading 42%\r")
	total := 0
	for total < 8<<20 {
		_, _ = lw.Write(piece)
		total += len(piece)
	}
	assert.Equal(t, total, lw.scanned)
	assert.LessOrEqual(t, cap(lw.line), 2*maxLogLine)
	assert.Zero(t, out.Len(), "nothing is written before the line ends")
	assert.NoError(t, lw.flush())
	line := strings.TrimSuffix(out.String(), "\n")
	assert.NotContains(t, line, "\n")
	assert.Equal(t, len("p | ")+maxLogLine+len(fmt.Sprintf(" [... %d more bytes of this line dropped]", total-maxLogLine)), len(line))
}

// BenchmarkLineWriter writes a 4 MiB log in 4 KiB pieces: ordinary
// 80-byte lines, and one \r-only progress line that never ends.
func BenchmarkLineWriter(b *testing.B) {
	for _, bc := range []struct {
		name string
		unit string
	}{
		{"lines", strings.Repeat("x", 79) + "\n"},
		{"cr-only", strings.Repeat("x", 79) + "\r"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			piece := []byte(strings.Repeat(bc.unit, 4<<10/len(bc.unit)))
			b.SetBytes(4 << 20)
			for b.Loop() {
				lw := &lineWriter{w: io.Discard, mu: &sync.Mutex{}, prefix: "web-1  | "}
				for n := 0; n < 4<<20; n += len(piece) {
					_, _ = lw.Write(piece)
				}
				_ = lw.flush()
			}
		})
	}
}
