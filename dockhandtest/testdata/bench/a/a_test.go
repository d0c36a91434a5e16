// Package a is one of the four packages of 16 parallel tests that
// dockhandtest's benchmark runs at once (bench_test.go).
package a

import (
	"testing"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/dockhandtest/testdata/bench/child"
)

func TestMain(m *testing.M) { dockhandtest.Main(m) }

func TestParallel(t *testing.T) { child.Parallel(t) }
