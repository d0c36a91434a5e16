// Command testsum reads `go test -json` on stdin, prints what plain `go test`
// would (every package's result line, and the full output of failed tests),
// and ends with a count: "N passed, N failed, N skipped". scripts/test uses
// it so that the count is the run's closing line (with TESTSUM_FILE set, the
// count line is also written to that file).
//
//	go test -json ./... | go run ./internal/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	passed, failed, skipped, ok := summarize(os.Stdin, os.Stdout)
	line := fmt.Sprintf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	fmt.Print(line)
	if f := os.Getenv("TESTSUM_FILE"); f != "" { // for a caller that prints it again last
		_ = os.WriteFile(f, []byte(line), 0o644)
	}
	if failed > 0 || !ok {
		os.Exit(1)
	}
}

// summarize copies the interesting output and counts test results. ok is
// false when a package failed without a failing test (build error, panic
// in TestMain, timeout).
func summarize(r io.Reader, w io.Writer) (passed, failed, skipped int, ok bool) {
	ok = true
	out := map[string][]string{} // package/test -> output lines, kept until the result is known
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(w, sc.Text()) // not JSON: a build error printed by go itself
			continue
		}
		key := e.Package + "/" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			ok = false
		case "output":
			if e.Test == "" && (strings.HasPrefix(e.Output, "ok ") || strings.HasPrefix(e.Output, "FAIL") ||
				strings.HasPrefix(e.Output, "?") || strings.HasPrefix(e.Output, "---") || strings.HasPrefix(e.Output, "panic")) {
				fmt.Fprint(w, e.Output)
				continue
			}
			out[key] = append(out[key], e.Output)
		case "pass", "skip", "fail":
			if e.Test == "" { // the package's own result
				if e.Action == "fail" {
					for _, l := range out[key] {
						fmt.Fprint(w, l)
					}
					ok = false
				}
				delete(out, key)
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "skip":
				skipped++
			case "fail":
				failed++
				for _, l := range out[key] {
					fmt.Fprint(w, l)
				}
			}
			delete(out, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(w, "testsum:", err)
		ok = false
	}
	return passed, failed, skipped, ok
}
