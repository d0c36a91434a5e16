package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A linked container is also listed under its link aliases, which the
// engine sorts before its own name; the canonical name has one slash.
func TestCanonicalName(t *testing.T) {
	assert.Equal(t, "proj-web-1", canonicalName([]string{"/proj-api-1/web", "/proj-web-1"}))
	assert.Equal(t, "proj-web-1", canonicalName([]string{"/proj-web-1", "/proj-api-1/web"}))
	assert.Equal(t, "", canonicalName(nil))
}
