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

// BenchmarkLineWriter writes a 4 MiB log in 4 KiB pieces, as ordinary
// 80-byte lines and as one \r-only progress line that never ends, through
// the line writer and, side by side, through the writer it replaced
// (rescanning its whole buffer on each write): compare the ns/op of
// "capped" and "rescan" for each log.
func BenchmarkLineWriter(b *testing.B) {
	for _, bc := range []struct {
		name string
		unit string
	}{
		{"lines", strings.Repeat("x", 79) + "\n"},
		{"cr-only", strings.Repeat("x", 79) + "\r"},
	} {
		piece := []byte(strings.Repeat(bc.unit, 4<<10/len(bc.unit)))
		for _, w := range []struct {
			name string
			new  func() (io.Writer, func())
		}{
			{"capped", func() (io.Writer, func()) {
				lw := &lineWriter{w: io.Discard, mu: &sync.Mutex{}, prefix: "web-1  | "}
				return lw, func() { _ = lw.flush() }
			}},
			{"rescan", func() (io.Writer, func()) {
				lw := &rescanWriter{w: io.Discard, prefix: "web-1  | "}
				return lw, func() {}
			}},
		} {
			b.Run(bc.name+"/"+w.name, func(b *testing.B) {
				b.SetBytes(4 << 20)
				for b.Loop() {
					lw, flush := w.new()
					for n := 0; n < 4<<20; n += len(piece) {
						_, _ = lw.Write(piece)
					}
					flush()
				}
			})
		}
	}
}

// rescanWriter is the line writer as it was before lines were capped: it
// appended each write to its buffer and searched the buffer from its
// start, so a line that never ends made every write slower. Kept as the
// benchmark's baseline only.
type rescanWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *rescanWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.buf[:i]); err != nil {
			return len(p), err
		}
		l.buf = l.buf[i+1:]
	}
}
