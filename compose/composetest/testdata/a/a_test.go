package a

import (
	"testing"

	"github.com/dockhand/dockhand/compose/composetest/testdata/child"
	"github.com/dockhand/dockhand/dockhandtest"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }

func TestComposeShared(t *testing.T) { child.Run(t, "a") }
