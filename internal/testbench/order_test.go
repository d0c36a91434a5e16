package testbench

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestInOrderFailsOnAMissingOrMisplacedMarker(t *testing.T) {
	const out = "db Started\ndb Healthy\napp Started\n"
	cases := []struct {
		name    string
		markers []string
		ok      bool
		msg     string
	}{
		{"in order", []string{"db Started", "db Healthy", "app Started"}, true, ""},
		{"one marker present", []string{"app Started"}, true, ""},
		{"no markers", nil, true, ""},
		{"reversed", []string{"app Started", "db Healthy"}, false, `"db Healthy" (at byte 11) should come after "app Started" (at byte 22)`},
		{"first missing", []string{"migrate Exited", "app Started"}, false, `"migrate Exited" not found`},
		{"second missing", []string{"db Healthy", "web Started"}, false, `"web Started" not found`},
		{"the same marker twice", []string{"db Healthy", "db Healthy"}, false, "should come after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			assert.Equal(t, tc.ok, InOrder(r, out, tc.markers...))
			if tc.ok {
				assert.Empty(t, r.errs)
				return
			}
			if assert.Len(t, r.errs, 1) {
				assert.Contains(t, r.errs[0], tc.msg)
				assert.Contains(t, r.errs[0], out, "the failure shows the text searched")
			}
		})
	}
}
