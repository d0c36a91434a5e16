package compose_test

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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// typeCheck type-checks body as the body of a function with s
// (*compose.Stack), ctx and w in scope, against the compiled compose
// package, and returns the checker's first error.
func typeCheck(t *testing.T, exports map[string]string, body string) error {
	t.Helper()
	src := `package snippet

import (
	"context"
	"io"
	"time"

	"github.com/dockhand/dockhand/compose"
)

var _ = time.Second

func f(ctx context.Context, s *compose.Stack, w io.Writer) {
	` + body + `
}
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "snippet.go", src, 0)
	require.NoError(t, err, body)
	lookup := func(path string) (io.ReadCloser, error) {
		p, ok := exports[path]
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

func exportData(t *testing.T) map[string]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command checks what compiles")
	out, err := exec.Command(gobin, "list", "-export", "-deps", "-json=ImportPath,Export",
		"context", "io", "time", "github.com/dockhand/dockhand/compose").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	exports := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath, Export string }
		require.NoError(t, dec.Decode(&p))
		if p.Export != "" {
			exports[p.ImportPath] = p.Export
		}
	}
	require.Contains(t, exports, "github.com/dockhand/dockhand/compose")
	return exports
}

// TestOptionTypes proves that a compose option given to a verb it does
// not serve is a compile error, while each multi-verb option compiles
// with every verb it serves.
func TestOptionTypes(t *testing.T) {
	exports := exportData(t)
	good := []string{
		`_ = s.Up(ctx, compose.WithWait(), compose.WithWaitTimeout(time.Second), compose.WithBuild(), compose.WithProgress(w),
			compose.WithServices("a"), compose.WithRemoveOrphans(), compose.WithAllInterfaces(), compose.WithForceRecreate(),
			compose.WithGracePeriod(time.Second))`,
		`_ = s.Down(ctx, compose.WithProgress(w), compose.WithRemoveOrphans(), compose.WithRemoveVolumes(), compose.WithRemoveImages(),
			compose.WithGracePeriod(time.Second))`,
		`_, _ = s.Ps(ctx, compose.WithServices("a"), compose.WithAll())`,
		`_ = s.Logs(ctx, w, compose.WithServices("a"), compose.WithFollow(), compose.WithTail(1), compose.WithStderr(w))`,
		`_ = s.Stop(ctx, compose.WithServices("a"), compose.WithProgress(w), compose.WithGracePeriod(time.Second))`,
		`_ = s.Start(ctx, compose.WithServices("a"), compose.WithProgress(w))`,
		`_ = s.Restart(ctx, compose.WithServices("a"), compose.WithProgress(w), compose.WithGracePeriod(time.Second))`,
		`_, _ = s.Run(ctx, "a", nil, compose.WithProgress(w), compose.WithAllInterfaces(), compose.WithStdout(w), compose.WithStderr(w),
			compose.WithEnv("A=1"), compose.WithNoDeps())`,
		`_, _ = compose.Load(ctx, compose.WithVariables("A=1"), compose.WithVariablesMap(nil))`,
	}
	for _, body := range good {
		assert.NoError(t, typeCheck(t, exports, body), "must compile:\n%s", body)
	}
	// Each of these compiled, and failed at run time, when one Option
	// type served every verb.
	bad := map[string]string{
		`_ = s.Down(ctx, compose.WithWait())`:                       "DownOption",
		`_, _ = s.Ps(ctx, compose.WithFollow())`:                    "PsOption",
		`_ = s.Logs(ctx, w, compose.WithAll())`:                     "LogsOption",
		`_ = s.Start(ctx, compose.WithGracePeriod(time.Second))`:    "StartOption",
		`_ = s.Up(ctx, compose.WithRemoveVolumes())`:                "UpOption",
		`_, _ = s.Run(ctx, "a", nil, compose.WithServices("b"))`:    "RunOption",
		`_ = s.Restart(ctx, compose.WithRemoveOrphans())`:           "RestartOption",
		`_ = s.Stop(ctx, compose.WithEnv("A=1"))`:                   "StopOption",
		`_, _ = compose.Load(ctx, compose.WithEnv("A=1"))`:          "LoadOption",
		`_, _ = s.Run(ctx, "a", nil, compose.WithVariables("A=1"))`: "RunOption",
	}
	for body, want := range bad {
		err := typeCheck(t, exports, body)
		if assert.Error(t, err, "must not compile:\n%s", body) {
			assert.Contains(t, err.Error(), want, body)
		}
	}
}
