package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"quiet\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: boom\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"skip","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
# q
`
	var out bytes.Buffer
	passed, failed, skipped, ok := summarize(strings.NewReader(in), &out)
	if passed != 1 || failed != 1 || skipped != 1 || ok {
		t.Fatalf("got %d passed, %d failed, %d skipped, ok=%v", passed, failed, skipped, ok)
	}
	for _, want := range []string{"boom", "FAIL\tp", "# q"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "quiet") {
		t.Errorf("output of a passing test was printed:\n%s", out.String())
	}
}
