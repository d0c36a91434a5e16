package dockhandtest

import (
	"context"
	"testing"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// The stand-in images of scripts/test-images, for this package's internal
// tests: internal/testbench builds on this package (its Client and leak
// check are this package's), so they cannot import it.
const (
	standInPostgres = "dockhand.test/postgres:15"
	standInRedis    = "dockhand.test/redis:7"
)

// requireStandIn skips the test (fails it under CI=true) when the stand-in
// image is missing.
func requireStandIn(t *testing.T, c *lifecycle.Client, image string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.InspectImage(ctx, image); err != nil {
		Unavailable(t, "image %s missing: run scripts/test-images (%v)", image, err)
	}
	return image
}
