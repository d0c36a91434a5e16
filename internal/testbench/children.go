package testbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

// CtxFor returns a context that ends after d, or when the test ends.
func CtxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// RandomName returns prefix followed by 8 random hex digits: a migrations
// version, tag or variable value no other test run uses.
func RandomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// GoTool returns the path of the go command, which tests use to build and
// run child test processes; without one the test is skipped (failed under
// CI).
func GoTool(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "no go command to run the child test packages: not in PATH, nor %s", p)
	}
	return p
}

// ChildServer is the shared server a child test process reported with
// PrintServer.
type ChildServer struct {
	Pkg string // the child's package, one word
	ID  string // the server's container id
	Key string // the server's key (Server.Key)
}

// serverLine is the line PrintServer writes.
var serverLine = regexp.MustCompile(`(?m)^SERVER (\w+) ([0-9a-f]{64}) (\S+)$`)

// PrintServer writes, on standard output, the line by which a child test
// process tells the test that started it which shared server it got:
// "SERVER <pkg> <container id> <key>". ServersIn reads it back.
func PrintServer(pkg, id, key string) {
	fmt.Printf("SERVER %s %s %s\n", pkg, id, key)
}

// ServersIn returns the servers that the lines PrintServer wrote in out
// (the output of child processes) name, in their order.
func ServersIn(out string) []ChildServer {
	var list []ChildServer
	for _, m := range serverLine.FindAllStringSubmatch(out, -1) {
		list = append(list, ChildServer{Pkg: m[1], ID: m[2], Key: m[3]})
	}
	return list
}

// Barrier makes n child processes wait for each other: it writes a file
// named name in dir, then waits until dir holds n files. It fails t when
// ctx ends first, naming the files there are.
func Barrier(ctx context.Context, t testing.TB, dir, name string, n int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(names) >= n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("barrier: %d of %d: only %s", len(names), n, strings.Join(names, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NothingLeft asserts that neither the shared server of key (its
// container, lifecycle.LabelShared) nor any hold on it is on the engine.
func NothingLeft(t testing.TB, c *lifecycle.Client, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cts, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelShared+"="+key))
	require.NoError(t, err)
	var names []string
	for _, s := range cts {
		names = append(names, s.Name)
	}
	assert.Empty(t, names, "shared container %s left", key)
	assert.Empty(t, HoldsLeft(t, c, key), "holders of %s left", key)
}

// HoldsLeft lists the names of the holds on the shared server of key
// (lifecycle.LabelHolds) on the engine, whoever's, live or not: volumes,
// and networks (as earlier versions made them).
func HoldsLeft(t testing.TB, c *lifecycle.Client, key string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := lifecycle.WithFilter("label", lifecycle.LabelHolds+"="+key)
	vols, err := c.Volumes(ctx, f)
	require.NoError(t, err)
	var names []string
	for _, v := range vols {
		names = append(names, v.Name)
	}
	nets, err := c.Networks(ctx, f)
	require.NoError(t, err)
	for _, n := range nets {
		names = append(names, n.Name)
	}
	return names
}
