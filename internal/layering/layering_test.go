// Package layering holds the test that keeps Dockhand's one engine layer
// one: only package lifecycle talks to the Docker engine about containers,
// networks and volumes (see DESIGN.md, "One engine layer").
package layering

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkClient is the Docker SDK's client package: the engine calls.
const sdkClient = "github.com/docker/docker/client"

// The rules, for every non-test Go file of the module:
//
//   - lifecycle/ is the engine layer: it may do anything.
//   - internal/bench/ is the one exception: the raw-SDK baseline the
//     benchmarks compare lifecycle and compose against must call the SDK
//     directly, or it would measure lifecycle twice.
//   - No other package imports the SDK client package.
//   - compose makes no SDK call at all: it never calls Client.API().
//   - No other package calls the SDK's Container*, Network* or Volume*
//     methods through Client.API() (directly, c.API().ContainerList, or by a
//     variable holding it); other calls for what lifecycle does not wrap
//     (an image inspect in an example) stay allowed.
func checkLayering(fsys fs.FS) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return fs.SkipDir
			}
			if p == "lifecycle" || p == "internal/bench" {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, checkFile(fset, p, f)...)
		return nil
	})
	sort.Strings(out)
	return out, err
}

func checkFile(fset *token.FileSet, p string, f *ast.File) []string {
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	for _, imp := range f.Imports {
		if ip, _ := strconv.Unquote(imp.Path.Value); ip == sdkClient {
			report(imp, "imports %s: only lifecycle talks to the engine", sdkClient)
		}
	}
	inCompose := path.Dir(p) == "compose" || strings.HasPrefix(p, "compose/")
	// Names of variables and fields that hold the SDK client: assigned
	// from an X.API() call (api := c.API(), s.api = c.API(), {api: c.API()}).
	holders := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, rhs := range n.Rhs {
				if isAPICall(rhs) && i < len(n.Lhs) {
					switch l := n.Lhs[i].(type) {
					case *ast.Ident:
						holders[l.Name] = true
					case *ast.SelectorExpr:
						holders[l.Sel.Name] = true
					}
				}
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok && isAPICall(n.Value) {
				holders[id.Name] = true
			}
		case *ast.ValueSpec:
			for i, v := range n.Values {
				if isAPICall(v) && i < len(n.Names) {
					holders[n.Names[i].Name] = true
				}
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if inCompose && isAPICall(n) {
				report(n, "compose calls Client.API(): compose makes no SDK call, it goes through lifecycle")
			}
		case *ast.SelectorExpr:
			m := n.Sel.Name
			if !strings.HasPrefix(m, "Container") && !strings.HasPrefix(m, "Network") && !strings.HasPrefix(m, "Volume") {
				return true
			}
			held := false
			switch x := n.X.(type) {
			case *ast.Ident:
				held = holders[x.Name]
			case *ast.SelectorExpr:
				held = holders[x.Sel.Name]
			}
			if isAPICall(n.X) || held {
				report(n, "calls the SDK's %s through Client.API(): containers, networks and volumes go through lifecycle", m)
			}
		}
		return true
	})
	return out
}

// isAPICall reports whether e is a call X.API() with no arguments.
func isAPICall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "API"
}

// TestOneEngineLayer fails when a package other than lifecycle (and the
// raw-SDK benchmark baseline under internal/bench) talks to the engine
// about containers, networks or volumes, or compose makes any SDK call.
func TestOneEngineLayer(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root")
	got, err := checkLayering(os.DirFS(root))
	require.NoError(t, err)
	assert.Empty(t, got, "one engine layer:\n%s", strings.Join(got, "\n"))
}

// The check finds each kind of violation planted in a small tree, and
// allows what the rules allow.
func TestLayeringCheckFindsPlantedViolations(t *testing.T) {
	const pkgHead = "package x\n\nimport \"github.com/dockhand/dockhand/lifecycle\"\n\nvar c *lifecycle.Client\n\n"
	cases := []struct {
		name, file, src string
		want            []string // substrings of the violations, in order
	}{
		{"compose imports the SDK client", "compose/bad.go",
			"package compose\n\nimport _ \"github.com/docker/docker/client\"\n",
			[]string{"compose/bad.go:3:8: imports github.com/docker/docker/client"}},
		{"compose calls API at all", "compose/bad.go",
			pkgHead + "func f() { _ = c.API().ClientVersion() }\n",
			[]string{"compose/bad.go:7:16: compose calls Client.API()"}},
		{"compose lists containers through API", "compose/bad.go",
			pkgHead + "func f() { _, _ = c.API().ContainerList(nil, x) }\n",
			[]string{"calls the SDK's ContainerList", "compose calls Client.API()"}},
		{"an example keeps the SDK client and removes a network", "examples/x/main.go",
			pkgHead + "func f() { api := c.API(); _ = api.NetworkRemove(nil, \"n\") }\n",
			[]string{"examples/x/main.go:7:32: calls the SDK's NetworkRemove"}},
		{"a var holding the client creates a volume", "cmd/x/main.go",
			pkgHead + "var api = c.API()\n\nfunc f() { _, _ = api.VolumeCreate(nil, o) }\n",
			[]string{"calls the SDK's VolumeCreate"}},
		{"a struct field holding the client stops a container", "examples/x/main.go",
			pkgHead + "type s struct{ api any }\n\nfunc f() { v := &s{api: c.API()}; _ = v.api.ContainerStop(nil, \"x\") }\n",
			[]string{"calls the SDK's ContainerStop"}},
		{"another package imports the SDK client", "internal/testbench/x.go",
			"package testbench\n\nimport \"github.com/docker/docker/client\"\n\nvar _ client.Opt\n",
			[]string{"internal/testbench/x.go:3:8: imports github.com/docker/docker/client"}},
		{"an example inspects an image through API: allowed", "examples/x/main.go",
			pkgHead + "func f() { _, _ = c.API().ImageInspect(nil, \"i\") }\n", nil},
		{"lifecycle may do anything", "lifecycle/x.go",
			"package lifecycle\n\nimport \"github.com/docker/docker/client\"\n\nvar api *client.Client\n\nfunc f() { api.ContainerList(nil, x) }\n", nil},
		{"the benchmark baseline may call the SDK", "internal/bench/cyclebench/main.go",
			pkgHead + "func f() { _, _ = c.API().ContainerList(nil, x) }\n", nil},
		{"a test may call the SDK", "compose/x_test.go",
			pkgHead + "func f() { _, _ = c.API().ContainerList(nil, x) }\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"go.mod": {Data: []byte("module m\n")}, tc.file: {Data: []byte(tc.src)}}
			got, err := checkLayering(fsys)
			require.NoError(t, err)
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}

// composeDeps returns the packages of deps that are Dockhand's compose
// (or a package under it) or compose-go.
func composeDeps(deps []string) []string {
	var out []string
	for _, p := range deps {
		if p == "github.com/dockhand/dockhand/compose" || strings.HasPrefix(p, "github.com/dockhand/dockhand/compose/") ||
			p == "github.com/compose-spec/compose-go" || strings.HasPrefix(p, "github.com/compose-spec/compose-go/") {
			out = append(out, p)
		}
	}
	return out
}

// The testing package imports lifecycle and waitfor, never compose or
// compose-go (DESIGN.md, "Layers"): a test build that uses no compose
// file must not build them. Compose fixtures live in compose/composetest.
func TestDockhandtestImportsNoCompose(t *testing.T) {
	assert.Equal(t, []string{"github.com/dockhand/dockhand/compose", "github.com/dockhand/dockhand/compose/composetest", "github.com/compose-spec/compose-go/v2/types"},
		composeDeps([]string{"github.com/dockhand/dockhand/lifecycle", "github.com/dockhand/dockhand/compose", "github.com/dockhand/dockhand/composer",
			"github.com/dockhand/dockhand/compose/composetest", "github.com/compose-spec/compose-go/v2/types"}), "the check finds planted imports")
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/dockhand/dockhand/dockhandtest").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	require.Contains(t, strings.Fields(string(out)), "github.com/dockhand/dockhand/lifecycle", "the listing is dockhandtest's dependencies")
	assert.Empty(t, composeDeps(strings.Fields(string(out))), "dockhandtest imports compose or compose-go (directly or not): move that code to compose/composetest")
}
