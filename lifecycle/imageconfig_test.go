package lifecycle_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
)

// InspectImage reports what a container of the image runs and where it
// gets anonymous volumes: the postgres stand-in declares its data
// directory, as the official image does.
func TestInspectImageConfig(t *testing.T) {
	c := testbench.Client(t)
	testbench.RequireImage(t, c, testbench.Postgres)
	ctx := ctxFor(t, time.Minute)
	img, err := c.InspectImage(ctx, testbench.Postgres)
	require.NoError(t, err)
	assert.Equal(t, []string{"docker-entrypoint.sh"}, img.Entrypoint)
	assert.Equal(t, []string{"postgres"}, img.Cmd)
	assert.Equal(t, []string{"/var/lib/postgresql/data"}, img.Volumes)
	img, err = c.InspectImage(ctx, testbench.Busybox)
	require.NoError(t, err)
	assert.Empty(t, img.Volumes, "busybox declares no volume")
}
