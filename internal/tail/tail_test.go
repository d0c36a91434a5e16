package tail

import (
	"strings"
	"testing"
)

func TestBuffer(t *testing.T) {
	for _, tc := range []struct {
		max  int
		in   []string
		want string
	}{
		{64, []string{"PGPASSWORD=Kq7vZx9wLm3p\nnot ready\n"}, "PGPASSWORD=Kq7vZx9wLm3p\nnot ready"},
		// Cut in the first line: that line goes, whole.
		{24, []string{"PGPASSWORD=Kq7vZx9wLm3p\nnot ready\n"}, "...not ready"},
		// Many small writes, bounded.
		{16, []string{strings.Repeat("spam\n", 1000), "last\n"}, "...spam\nspam\nlast"},
		// One long line with no newline in the tail: nothing partial is shown.
		{8, []string{strings.Repeat("x", 100)}, "..."},
	} {
		b := &Buffer{Max: tc.max}
		for _, s := range tc.in {
			_, _ = b.Write([]byte(s))
		}
		if got := b.String(); got != tc.want {
			t.Errorf("max %d, %q: got %q, want %q", tc.max, tc.in, got, tc.want)
		}
		if len(b.b) > tc.max {
			t.Errorf("kept %d bytes, more than %d", len(b.b), tc.max)
		}
	}
}
