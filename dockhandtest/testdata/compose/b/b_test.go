package b

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/testdata/compose/child"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }

func TestComposeShared(t *testing.T) { child.Run(t, "b") }
