package testbench

import (
	"strings"
	"testing"
)

// InOrder checks that every marker occurs in s, each one's first
// occurrence after the previous one's, and fails t (naming the missing or
// misplaced marker and showing s) otherwise. Unlike comparing
// strings.Index results, it cannot pass when a marker is missing (Index
// -1 sorts before everything). It reports whether the check passed.
func InOrder(t testing.TB, s string, markers ...string) bool {
	t.Helper()
	prev := -1
	for i, m := range markers {
		at := strings.Index(s, m)
		if at < 0 {
			t.Errorf("%q not found in:\n%s", m, s)
			return false
		}
		if at <= prev {
			t.Errorf("%q (at byte %d) should come after %q (at byte %d) in:\n%s", m, at, markers[i-1], prev, s)
			return false
		}
		prev = at
	}
	return true
}
