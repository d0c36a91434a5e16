package compose

// Up with wait survives engine faults: the stack is brought up through
// testbench.FaultProxy, which injects 500s, dropped connections, cut
// event streams and slow replies into the calls to the real engine.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// faultStack loads testdata/faults (a cache with a healthcheck, and a
// service depending on it service_healthy) for a client that reaches the
// engine through a fault proxy. The stack is taken down and checked for
// leftovers when the test ends, after the proxy's rules are cleared.
func faultStack(t *testing.T, what string, opts ...lifecycle.ClientOption) (*testbench.FaultProxy, *Stack) {
	t.Helper()
	p := testbench.NewFaultProxy(t)
	c := testbench.Client(t, append([]lifecycle.ClientOption{lifecycle.WithDockerHost(p.Host())}, opts...)...)
	env := []string{
		"BUSYBOX_IMAGE=" + testbench.BusyboxImage(t, c),
		"REDIS_IMAGE=" + testbench.RequireImage(t, c, testbench.Redis),
	}
	proj, err := Load(context.Background(), WithFiles("testdata/faults/compose.yaml"), WithProjectName(projectName(c, what)), WithVariables(env...))
	require.NoError(t, err)
	s := New(c, proj)
	downAtEnd(t, s)
	t.Cleanup(func() { p.Clear(); t.Logf("faults injected: %d", p.Injected()) }) // runs before the Down above
	return p, s
}

// upSurvives brings the stack up with wait under rules, which must inject
// at least one fault, requires it to succeed with both services up, then
// takes it down. It returns the number of faults injected.
func upSurvives(t *testing.T, p *testbench.FaultProxy, s *Stack, name string, rules ...testbench.Rule) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := p.Injected()
	events := p.Count("GET", "/events")
	p.Inject(rules...)
	err := s.Up(ctx, WithWait())
	p.Clear()
	n := p.Injected() - before
	require.NoError(t, err, "%s: %d faults injected", name, n)
	require.Positive(t, n, "%s: no fault was injected: the test proves nothing", name)
	for _, r := range rules {
		if r.Path == "/events" && r.Action == testbench.CutStream {
			assert.Greater(t, p.Count("GET", "/events")-events, n, "%s: subscribed again after each cut", name)
		}
	}
	ps, err := s.Ps(ctx)
	require.NoError(t, err)
	got := map[string]string{}
	for _, sc := range ps {
		got[sc.Service] = sc.State + "/" + sc.Health
	}
	assert.Equal(t, map[string]string{"cache": "running/healthy", "app": "running/"}, got, name)
	require.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithGracePeriod(2*time.Second)))
	noProjectLeft(t, s.c, s.p.Name)
	t.Logf("%s: Up survived %d injected faults", name, n)
	return n
}

func TestUpWaitSurvivesFaults(t *testing.T) {
	p, s := faultStack(t, "faults")
	survived := 0
	defer func() { t.Logf("faults survived: %d", survived) }()

	survived += upSurvives(t, p, s, "500 on the first container inspect",
		testbench.Rule{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500})
	// The cache takes a second or more to become healthy: the streams
	// are cut while Up waits on them.
	survived += upSurvives(t, p, s, "event streams cut mid-wait",
		testbench.Rule{Method: "GET", Path: "/events", First: 2, Action: testbench.CutStream, After: 300 * time.Millisecond})
	survived += upSurvives(t, p, s, "event stream cut mid-event",
		testbench.Rule{Method: "GET", Path: "/events", Nth: 1, Action: testbench.CutStream, AfterBytes: 10})
	survived += upSurvives(t, p, s, "dropped connections on the lists",
		testbench.Rule{Method: "GET", Path: "/containers/json", Nth: 1, Action: testbench.DropBeforeHeader},
		testbench.Rule{Method: "GET", Path: "/networks", Nth: 1, Action: testbench.DropBeforeHeader})
	survived += upSurvives(t, p, s, "slow inspect and subscription",
		testbench.Rule{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond},
		testbench.Rule{Method: "GET", Path: "/events", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond})

	// Persistent: every container inspect fails. Up fails naming the
	// fault, before its wait timeout; Down (at the end) leaves nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/*/json", Action: testbench.Fail500, Message: "inspect broken for good"})
	err := s.Up(ctx, WithWait(), WithWaitTimeout(90*time.Second))
	p.Clear()
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "gave up on the fault, not on the timeout: %v", err)
	assert.Contains(t, err.Error(), `service "cache"`)
	assert.Contains(t, err.Error(), "inspect broken for good")
	assert.Contains(t, err.Error(), "inspections failed in a row")
	// app fails too: either its dependency's wait gave up on the same
	// fault, or (lifecycle's Healthy takes the engine's health_status
	// event as proof, without an inspect) it started and its own wait did.
	assert.Contains(t, err.Error(), `service "app"`)
	require.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithGracePeriod(2*time.Second)))
	noProjectLeft(t, s.c, s.p.Name)
}

// With the client's own retries off, compose's wait itself must ride out
// a failed inspect and a failed subscription.
func TestUpWaitRecoversWithoutClientRetry(t *testing.T) {
	p, s := faultStack(t, "faults1", lifecycle.WithRetry(1))
	n := upSurvives(t, p, s, "no client retry: 500 on an inspect and on a subscription",
		testbench.Rule{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500},
		testbench.Rule{Method: "GET", Path: "/events", Nth: 1, Action: testbench.Fail500})
	t.Logf("faults survived: %d", n)
}
