package testbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Snippets type-checks Go snippets against the compiled packages of this
// module, to prove that a misuse of an API does not compile.
type Snippets struct {
	pkg     string            // the package under test's import path
	params  string            // the snippet function's parameters
	exports map[string]string // import path → export data file
}

// NewSnippets prepares checks of function bodies that have params (such as
// "ctx context.Context, c *lifecycle.Client, w io.Writer") in scope, with
// context, io, time and the package pkg imported. It asks the go command
// for the compiled export data once.
func NewSnippets(t testing.TB, pkg, params string) *Snippets {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command checks what compiles: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-export", "-deps", "-json=ImportPath,Export",
		"context", "io", "time", pkg).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	s := &Snippets{pkg: pkg, params: params, exports: map[string]string{}}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Export != "" {
			s.exports[p.ImportPath] = p.Export
		}
	}
	if _, ok := s.exports[pkg]; !ok {
		t.Fatalf("no export data for %s", pkg)
	}
	return s
}

// Check type-checks body as the body of the snippet function and returns
// the checker's first error (nil: it compiles).
func (s *Snippets) Check(body string) error {
	src := `package snippet

import (
	"context"
	"io"
	"time"

	"` + s.pkg + `"
)

var (
	_ = time.Second
	_ context.Context
	_ io.Writer
)

func f(` + s.params + `) {
	` + body + `
}
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "snippet.go", src, 0)
	if err != nil {
		return fmt.Errorf("snippet does not parse: %w", err)
	}
	lookup := func(path string) (io.ReadCloser, error) {
		p, ok := s.exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(p)
	}
	var first error
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "gc", lookup),
		Error: func(err error) {
			if first == nil {
				first = err
			}
		},
	}
	_, _ = conf.Check("snippet", fset, []*ast.File{file}, nil)
	return first
}
