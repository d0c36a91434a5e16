package dockhandtest

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
)

// A Spec's key names its shared container in every process, this
// version's and earlier ones': a field a Spec leaves out must not change
// it. The keys below are those the version before Healthcheck gave.
func TestKeyStable(t *testing.T) {
	const id = "sha256:0123456789abcdef"
	web := Spec{Name: "web", Cmd: []string{"sleep", "300"}, Env: []string{"A=1"}, Ports: []string{"8080"}}
	pg := Spec{Name: "pg", User: "postgres", Entrypoint: []string{"sh", "-c"}, Tmpfs: map[string]string{"/data": "rw"}}
	assert.Equal(t, "dockhandtest-web-e92f03f5d6ea", keyOf(id, web))
	assert.Equal(t, "dockhandtest-pg-204714f557bf", keyOf(id, pg))

	// A healthcheck makes another container; each setting of it too.
	seen := map[string]bool{keyOf(id, web): true}
	for _, hc := range []*container.HealthConfig{
		{Test: []string{"NONE"}},
		{Test: []string{"CMD", "true"}},
		{Test: []string{"CMD", "true"}, Interval: 250 * time.Millisecond},
		{Interval: 250 * time.Millisecond},
	} {
		s := web
		s.Healthcheck = hc
		k := keyOf(id, s)
		assert.False(t, seen[k], "%+v: a key of its own", hc)
		seen[k] = true
	}
}
