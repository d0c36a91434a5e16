package testbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

func TestServersInReadsOnlyServerLines(t *testing.T) {
	id1, id2 := strings.Repeat("ab", 32), strings.Repeat("0f", 32)
	out := "=== RUN   TestShared\n" +
		"SERVER a " + id1 + " dockhandtest-web-0123456789ab\n" +
		"    x_test.go:9: SERVER b " + id2 + " not at the start of a line\n" +
		"SERVER c " + id1[:63] + " an id one digit short\n" +
		"SERVER nomain " + id2 + " dockhandtest-db-ba9876543210\n" +
		"--- PASS: TestShared (0.01s)\n"
	assert.Equal(t, []ChildServer{
		{Pkg: "a", ID: id1, Key: "dockhandtest-web-0123456789ab"},
		{Pkg: "nomain", ID: id2, Key: "dockhandtest-db-ba9876543210"},
	}, ServersIn(out))
	assert.Empty(t, ServersIn("no server here\n"))
}

func TestRandomNameIsPrefixedAndFresh(t *testing.T) {
	a, b := RandomName("share-"), RandomName("share-")
	assert.Regexp(t, `^share-[0-9a-f]{8}$`, a)
	assert.NotEqual(t, a, b)
}

// stopper is a testing.TB whose Fatalf records the message and ends the
// calling goroutine, as testing.T's does.
type stopper struct {
	testing.TB
	fatal string
}

func (s *stopper) Helper() {}
func (s *stopper) Fatalf(format string, args ...any) {
	s.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runStopper runs f with s on a goroutine of its own and waits for it.
func runStopper(s *stopper, f func(tb testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(s)
	}()
	<-done
}

func TestBarrierWaitsForAll(t *testing.T) {
	dir := t.TempDir()
	ctx := CtxFor(t, 10*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Barrier(ctx, t, dir, "a", 2)
	}()
	select {
	case <-done:
		t.Fatal("the barrier let one of two through")
	case <-time.After(100 * time.Millisecond):
	}
	Barrier(ctx, t, dir, "b", 2)
	<-done
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	assert.Len(t, names, 2)
}

func TestBarrierFailsWhenTheContextEnds(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &stopper{TB: t}
	runStopper(s, func(tb testing.TB) { Barrier(ctx, tb, dir, "a", 4) })
	assert.Contains(t, s.fatal, "barrier: 1 of 4: only "+filepath.Join(dir, "a"))

	s = &stopper{TB: t}
	runStopper(s, func(tb testing.TB) { Barrier(ctx, tb, filepath.Join(dir, "missing"), "a", 4) })
	assert.Contains(t, s.fatal, "barrier: ")
	assert.Contains(t, s.fatal, "missing")
}

// HoldsLeft and NothingLeft see holds of a key whoever made them; once
// they are gone, NothingLeft passes.
func TestNothingLeftSeesHolds(t *testing.T) {
	c := Client(t)
	ctx := CtxFor(t, time.Minute)
	key := RandomName("dockhandtest-holds-")
	labels := lifecycle.WithLabels(map[string]string{lifecycle.LabelHolds: key})
	vol, err := c.CreateVolume(ctx, RandomName("dh-hold-test-"), labels)
	require.NoError(t, err)
	net, err := c.CreateNetwork(ctx, RandomName("dh-hold-test-"), labels)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{vol.Name, net.Name}, HoldsLeft(t, c, key))
	assert.Empty(t, HoldsLeft(t, c, RandomName("dockhandtest-holds-")), "another key's")

	r := &recorder{TB: t}
	NothingLeft(r, c, key)
	require.Len(t, r.errs, 1, "%s", r.errs)
	assert.Contains(t, r.errs[0], "holders of "+key+" left")
	assert.Contains(t, r.errs[0], vol.Name)

	require.NoError(t, c.RemoveVolume(ctx, vol.Name))
	require.NoError(t, c.RemoveNetwork(ctx, net.Name))
	NothingLeft(t, c, key)
}

func TestGoToolFindsTheGoCommand(t *testing.T) {
	p := GoTool(t)
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.False(t, st.IsDir())
}
