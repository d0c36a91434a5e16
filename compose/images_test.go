package compose

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServiceImageShortID pins ShortID to the IMAGE ID column of docker
// compose images (12 characters, no algorithm) and checks that it is safe
// on ids shorter than that, where slicing the id would panic. Pure.
func TestServiceImageShortID(t *testing.T) {
	full := "sha256:1a8ad8c11040aa1c8ea0b5cbd8bd3f3bb4a4a0ec3f2e1b1c1f5e0d2a3b4c5d6e"
	for _, tc := range []struct{ id, want string }{
		{full, "1a8ad8c11040"},
		{"1a8ad8c11040aa1c8ea0", "1a8ad8c11040"},
		{"sha256:1a8ad8", "1a8ad8"},
		{"sha256:", ""},
		{"abc", "abc"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, ServiceImage{ImageID: tc.id}.ShortID(), "%q", tc.id)
	}
}
