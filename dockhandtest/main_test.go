package dockhandtest_test

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }
