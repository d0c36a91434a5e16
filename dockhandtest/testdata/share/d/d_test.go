package d

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/testdata/share/child"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }

func TestShared(t *testing.T) { child.Run(t, "d") }
