package dockhandtest

import (
	"context"
	"testing"

	"github.com/dockhand/dockhand/lifecycle"
)

// KeyOf returns the key spec's server has (for the tests).
func KeyOf(t testing.TB, c *lifecycle.Client, spec Spec) string {
	t.Helper()
	k, err := makeKey(context.Background(), c, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
