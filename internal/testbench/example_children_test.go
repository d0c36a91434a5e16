package testbench_test

import (
	"fmt"
	"strings"

	"github.com/dockhand/dockhand/internal/testbench"
)

// A child test process reports its server with PrintServer; the test
// that ran it reads the servers back from its output with ServersIn.
func ExampleServersIn() {
	id := strings.Repeat("ab", 32)
	testbench.PrintServer("a", id, "dockhandtest-web-0123456789ab")
	out := "=== RUN   TestShared\n" +
		"SERVER a " + id + " dockhandtest-web-0123456789ab\n" +
		"--- PASS: TestShared (0.40s)\n"
	for _, s := range testbench.ServersIn(out) {
		fmt.Println(s.Pkg, s.ID == id, s.Key)
	}
	// Output:
	// SERVER a abababababababababababababababababababababababababababababababab dockhandtest-web-0123456789ab
	// a true dockhandtest-web-0123456789ab
}
