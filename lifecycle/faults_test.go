package lifecycle_test

// Engine faults survived: the client talks to the real engine through
// testbench.FaultProxy, which injects 500s, dropped connections, cut
// streams and slow replies. Transient faults must not fail a call or a
// wait; persistent ones must fail it with an error that names the fault,
// and leave nothing behind either way (the leak check of
// testbench.Client runs after the proxy's rules are cleared).

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// faultClient returns a proxy and a client that reaches the engine through
// it. The proxy's rules are cleared before the leak check runs.
func faultClient(t *testing.T, opts ...lifecycle.ClientOption) (*testbench.FaultProxy, *lifecycle.Client) {
	t.Helper()
	p := testbench.NewFaultProxy(t)
	c := testbench.Client(t, append([]lifecycle.ClientOption{lifecycle.WithDockerHost(p.Host())}, opts...)...)
	t.Cleanup(func() {
		p.Clear()
		t.Logf("faults injected: %d", p.Injected())
	})
	return p, c
}

// tally counts, over a test, the faults injected into calls that
// nevertheless succeeded.
type tally struct {
	t        *testing.T
	p        *testbench.FaultProxy
	survived int
}

// survive runs fn under rules, which must inject at least one fault, and
// requires fn to succeed.
func (ty *tally) survive(name string, rules []testbench.Rule, fn func() error) {
	ty.t.Helper()
	ty.p.Clear()
	before := ty.p.Injected()
	ty.p.Inject(rules...)
	err := fn()
	ty.p.Clear()
	n := ty.p.Injected() - before
	require.NoError(ty.t, err, "%s: %d faults injected", name, n)
	require.Positive(ty.t, n, "%s: no fault was injected: the test proves nothing", name)
	ty.survived += n
	ty.t.Logf("%s: survived %d injected faults", name, n)
}

func (ty *tally) report() {
	ty.t.Logf("faults survived: %d", ty.survived)
}

// A read that fails once is retried; one that keeps failing fails naming
// the fault and the operation; a call that changes state is never retried.
func TestRetryIdempotentReads(t *testing.T) {
	p, c := faultClient(t, lifecycle.WithRetry(3))
	ctx := ctxFor(t, time.Minute)
	ty := &tally{t: t, p: p}
	defer ty.report()

	list := func() error { _, err := c.Containers(ctx, lifecycle.WithAll()); return err }
	calls := func() int { return p.Count("GET", "/containers/json") }

	n := calls()
	ty.survive("500 on a list", []testbench.Rule{{Method: "GET", Path: "/containers/json", Nth: 1, Action: testbench.Fail500}}, list)
	assert.Equal(t, n+2, calls(), "sent again once")

	n = calls()
	ty.survive("500 twice on a list", []testbench.Rule{{Method: "GET", Path: "/containers/json", First: 2, Action: testbench.Fail500}}, list)
	assert.Equal(t, n+3, calls())

	n = calls()
	ty.survive("dropped connection on a list", []testbench.Rule{{Method: "GET", Path: "/containers/json", Nth: 1, Action: testbench.DropBeforeHeader}}, list)
	assert.GreaterOrEqual(t, calls(), n+2)

	n = calls()
	ty.survive("slow list", []testbench.Rule{{Method: "GET", Path: "/containers/json", Nth: 1, Action: testbench.Delay, After: 500 * time.Millisecond}}, list)
	assert.Equal(t, n+1, calls(), "a slow reply is waited for, not sent again")

	// Persistent 500: the engine's message and the operation, after 3 attempts.
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/json", Action: testbench.Fail500, Message: "storage driver on fire"})
	n = calls()
	err := list()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "list containers")
	assert.Contains(t, err.Error(), "storage driver on fire")
	assert.Equal(t, n+3, calls(), "WithRetry(3): three attempts, no more")
	p.Clear()

	// Persistent dropped connections: unavailable, naming the attempts.
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/json", Action: testbench.DropBeforeHeader})
	n = calls()
	err = list()
	require.Error(t, err)
	assert.True(t, errors.Is(err, lifecycle.ErrUnavailable), "%v", err)
	assert.Contains(t, err.Error(), "list containers")
	assert.Contains(t, err.Error(), "EOF (failed 3 attempts)")
	// net/http itself sends a request again once when a kept-alive
	// connection turns out closed: three attempts, three or four calls.
	assert.GreaterOrEqual(t, calls(), n+3)
	assert.LessOrEqual(t, calls(), n+4)
	t.Logf("persistent drop: %v", err)
	p.Clear()

	// A POST is never sent twice: the network is not created, and no
	// second request reached the engine.
	p.Inject(testbench.Rule{Method: "POST", Path: "/networks/create", Nth: 1, Action: testbench.Fail500, Message: "injected create failure"})
	_, err = c.CreateNetwork(ctx, "dockhand-fault-"+c.Session())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "injected create failure")
	assert.Equal(t, 1, p.Count("POST", "/networks/create"))
	p.Clear()

	// The backoff ends with the context.
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/json", Action: testbench.Fail500})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = c.Containers(cctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	p.Clear()

	// New's ping (a HEAD) is an idempotent read too.
	pings := p.Count("HEAD", "/_ping")
	ty.survive("500 on New's ping", []testbench.Rule{{Method: "HEAD", Path: "/_ping", Nth: 1, Action: testbench.Fail500}}, func() error {
		c2, err := lifecycle.New(ctx, lifecycle.WithDockerHost(p.Host()))
		if err == nil {
			err = c2.Close()
		}
		return err
	})
	assert.Equal(t, pings+2, p.Count("HEAD", "/_ping"), "the HEAD was sent again")

	_, err = lifecycle.New(ctx, lifecycle.WithRetry(0))
	assert.True(t, errors.Is(err, lifecycle.ErrInvalid), "%v", err)
}

func TestRunSurvivesFaults(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ty := &tally{t: t, p: p}
	defer ty.report()

	run := func(opts ...lifecycle.RunOption) func() error {
		return func() error {
			ct, err := c.Run(ctx, img, append([]lifecycle.RunOption{lifecycle.WithCmd("sleep", "600"), lifecycle.WithInit(),
				lifecycle.WithPull(lifecycle.PullNever)}, opts...)...)
			if err != nil {
				return err
			}
			defer ct.Remove(context.Background(), lifecycle.WithForce())
			if ct.Name() == "" {
				return errors.New("no name: the container inspect after create was not retried")
			}
			st, err := ct.State(ctx)
			if err == nil && !st.Running {
				err = errors.New("not running: " + st.Status)
			}
			return err
		}
	}
	ty.survive("500 on the first image and container inspects", []testbench.Rule{
		{Method: "GET", Path: "/images/**/json", Nth: 1, Action: testbench.Fail500},
		{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500},
	}, run())
	ty.survive("dropped connections on the inspects", []testbench.Rule{
		{Method: "GET", Path: "/images/**/json", Nth: 1, Action: testbench.DropBeforeHeader},
		{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.DropBeforeHeader},
	}, run())
	ty.survive("slow create and start", []testbench.Rule{
		{Method: "POST", Path: "/containers/create", Action: testbench.Delay, After: 300 * time.Millisecond},
		{Method: "POST", Path: "/containers/*/start", Action: testbench.Delay, After: 300 * time.Millisecond},
	}, run())

	// A foreground run streams through the proxy's raw pipe (attach).
	var out bytes.Buffer
	ty.survive("slow attach of a foreground run", []testbench.Rule{
		{Method: "POST", Path: "/containers/*/attach", Action: testbench.Delay, After: 200 * time.Millisecond},
	}, func() error {
		ct, err := c.Run(ctx, img, lifecycle.WithCmd("echo", "through the proxy"), lifecycle.WithStdout(&out),
			lifecycle.WithPull(lifecycle.PullNever))
		if ct != nil {
			defer ct.Remove(context.Background(), lifecycle.WithForce())
		}
		return err
	})
	assert.Equal(t, "through the proxy\n", out.String())

	// exec start is upgraded too: its output comes through the raw pipe.
	box := runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sleep", "600"))
	var res *lifecycle.ExecResult
	ty.survive("slow exec start, 500 on the first exec inspect", []testbench.Rule{
		{Method: "POST", Path: "/exec/*/start", Action: testbench.Delay, After: 200 * time.Millisecond},
		{Method: "GET", Path: "/exec/*/json", Nth: 1, Action: testbench.Fail500},
	}, func() error {
		var err error
		res, err = box.Exec(ctx, []string{"sh", "-c", "echo out; echo err >&2; exit 3"})
		return err
	})
	assert.Equal(t, "out\n", string(res.Stdout))
	assert.Equal(t, "err\n", string(res.Stderr))
	assert.Equal(t, 3, res.ExitCode)
	require.NoError(t, box.Remove(ctx, lifecycle.WithForce()))

	// Persistent: every image inspect fails. Run names the fault and
	// creates nothing (the leak check at the end proves it).
	p.Inject(testbench.Rule{Method: "GET", Path: "/images/**/json", Action: testbench.Fail500, Message: "image store unavailable"})
	_, err := c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPull(lifecycle.PullNever))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inspect image")
	assert.Contains(t, err.Error(), "image store unavailable")
	p.Clear()

	// Persistent on start (a POST: never retried): the container Run
	// created is removed.
	starts := p.Count("POST", "/containers/*/start")
	p.Inject(testbench.Rule{Method: "POST", Path: "/containers/*/start", Action: testbench.Fail500, Message: "cannot start: injected"})
	_, err = c.Run(ctx, img, lifecycle.WithCmd("true"), lifecycle.WithPull(lifecycle.PullNever))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "start container")
	assert.Contains(t, err.Error(), "cannot start: injected")
	assert.Equal(t, starts+1, p.Count("POST", "/containers/*/start"), "a POST is sent once")
	p.Clear()
	left, err := c.Containers(ctx, lifecycle.WithAll(), lifecycle.WithFilter("label", lifecycle.LabelSession+"="+c.Session()))
	require.NoError(t, err)
	assert.Empty(t, left, "a failed Run leaves nothing")
}

// healthyLater runs a container that becomes healthy about a second after
// it starts.
func healthyLater(t *testing.T, c *lifecycle.Client) *lifecycle.Container {
	return runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 600"),
		healthcheck("test -f /tmp/ready"))
}

func TestHealthySurvivesFaults(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, 3*time.Minute)
	w := waitfor.Waiter{Timeout: time.Minute}
	ty := &tally{t: t, p: p}
	defer ty.report()

	events := func() int { return p.Count("GET", "/events") }
	for _, tc := range []struct {
		name  string
		rules []testbench.Rule
	}{
		{"500 on the first inspect", []testbench.Rule{{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500}}},
		// Cut inside the first event (health_status): the next
		// subscription must replay it.
		{"event stream cut mid-event", []testbench.Rule{{Method: "GET", Path: "/events", Nth: 1, Action: testbench.CutStream, AfterBytes: 10}}},
		{"event stream cut twice before any event", []testbench.Rule{{Method: "GET", Path: "/events", First: 2, Action: testbench.CutStream, After: 200 * time.Millisecond}}},
		{"dropped connection on the first inspect", []testbench.Rule{{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.DropBeforeHeader}}},
		{"dropped event subscription after its header", []testbench.Rule{{Method: "GET", Path: "/events", Nth: 1, Action: testbench.DropAfterHeader}}},
		{"slow inspect and subscription", []testbench.Rule{
			{Method: "GET", Path: "/containers/*/json", First: 2, Action: testbench.Delay, After: 300 * time.Millisecond},
			{Method: "GET", Path: "/events", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond},
		}},
	} {
		ct := healthyLater(t, c)
		n := events()
		ty.survive(tc.name, tc.rules, func() error { return w.Wait(ctx, ct.Healthy()) })
		if tc.rules[0].Path == "/events" && tc.rules[0].Action != testbench.Delay {
			assert.Greater(t, events()-n, 1, "%s: subscribed again", tc.name)
		}
		st, err := ct.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, "healthy", st.Health, tc.name)
		require.NoError(t, ct.Remove(ctx, lifecycle.WithForce()))
	}

	// The wait's own recovery, with the client's retries off: a failed
	// inspect and a failed subscription are tried again by the wait.
	pr, cr := faultClient(t, lifecycle.WithRetry(1))
	tr := &tally{t: t, p: pr}
	ct := healthyLater(t, cr)
	tr.survive("no client retry: 500 on an inspect and on a subscription", []testbench.Rule{
		{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500},
		{Method: "GET", Path: "/events", Nth: 1, Action: testbench.Fail500},
	}, func() error { return w.Wait(ctx, ct.Healthy()) })
	ty.survived += tr.survived

	// Persistent: every inspect fails. The wait gives up before its
	// timeout, naming the fault.
	sick := runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sleep", "600"), healthcheck("false"))
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/*/json", Action: testbench.Fail500, Message: "inspect broken for good"})
	err := w.Wait(ctx, sick.Healthy())
	p.Clear()
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "gave up on the fault, not on the timeout: %v", err)
	assert.Contains(t, err.Error(), "inspect container "+sick.Name())
	assert.Contains(t, err.Error(), "inspect broken for good")
	assert.Contains(t, err.Error(), "inspections failed in a row")

	// Persistent: every subscription fails.
	p.Inject(testbench.Rule{Method: "GET", Path: "/events", Action: testbench.Fail500, Message: "no events today"})
	err = w.Wait(ctx, sick.Healthy())
	p.Clear()
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "gave up on the fault, not on the timeout: %v", err)
	assert.Contains(t, err.Error(), "event stream of the engine")
	assert.Contains(t, err.Error(), "no events today")
	assert.Contains(t, err.Error(), "subscriptions failed in a row")
}

func TestLogLineSurvivesFaults(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, 3*time.Minute)
	w := waitfor.Waiter{Timeout: time.Minute}
	ty := &tally{t: t, p: p}
	defer ty.report()
	re := regexp.MustCompile(`^line \d$`)

	logs := func() int { return p.Count("GET", "/containers/*/logs") }
	for _, tc := range []struct {
		name  string
		rules []testbench.Rule
	}{
		{"500 on the first inspect and log read", []testbench.Rule{
			{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500},
			{Method: "GET", Path: "/containers/*/logs", Nth: 1, Action: testbench.Fail500},
		}},
		// Cut inside the first message: the next read resumes after the
		// last message read.
		{"log stream cut mid-message", []testbench.Rule{{Method: "GET", Path: "/containers/*/logs", First: 2, Action: testbench.CutStream, AfterBytes: 60}}},
		{"dropped connection on the first log read", []testbench.Rule{{Method: "GET", Path: "/containers/*/logs", Nth: 1, Action: testbench.DropBeforeHeader}}},
		{"slow log read", []testbench.Rule{{Method: "GET", Path: "/containers/*/logs", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond}}},
	} {
		ct := runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sh", "-c",
			"for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done; exec sleep 600"))
		n := logs()
		ty.survive(tc.name, tc.rules, func() error { return w.Wait(ctx, ct.LogLine(re, 5)) })
		if tc.rules[0].Action == testbench.CutStream {
			assert.Greater(t, logs()-n, 2, "%s: read again after the cuts", tc.name)
		}
		require.NoError(t, ct.Remove(ctx, lifecycle.WithForce()))
	}

	// Persistent: every log read fails.
	ct := runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sh", "-c", "echo line 1; exec sleep 600"))
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/*/logs", Action: testbench.Fail500, Message: "log driver jammed"})
	err := w.Wait(ctx, ct.LogLine(re, 1))
	p.Clear()
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "gave up on the fault, not on the timeout: %v", err)
	assert.Contains(t, err.Error(), "logs of "+ct.Name())
	assert.Contains(t, err.Error(), "log driver jammed")
	assert.Contains(t, err.Error(), "engine calls failed in a row")
}

func TestExitedSurvivesFaults(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, 3*time.Minute)
	w := waitfor.Waiter{Timeout: time.Minute}
	ty := &tally{t: t, p: p}
	defer ty.report()

	for _, tc := range []struct {
		name  string
		rules []testbench.Rule
	}{
		{"500 on the first inspect", []testbench.Rule{{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.Fail500}}},
		{"event stream cut mid-event", []testbench.Rule{{Method: "GET", Path: "/events", Nth: 1, Action: testbench.CutStream, AfterBytes: 10}}},
		{"dropped connection on the first inspect", []testbench.Rule{{Method: "GET", Path: "/containers/*/json", Nth: 1, Action: testbench.DropBeforeHeader}}},
		{"slow subscription", []testbench.Rule{{Method: "GET", Path: "/events", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond}}},
	} {
		ct := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 1; exit 4"))
		ty.survive(tc.name, tc.rules, func() error { return w.Wait(ctx, ct.Exited(4)) })
		st, err := ct.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, 4, st.ExitCode)
		require.NoError(t, ct.Remove(ctx, lifecycle.WithForce()))
	}

	// Persistent: every inspect fails.
	ct := runBox(t, c, lifecycle.WithInit(), lifecycle.WithCmd("sleep", "600"))
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/*/json", Action: testbench.Fail500, Message: "inspect broken for good"})
	err := w.Wait(ctx, ct.Exited(0))
	p.Clear()
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "gave up on the fault, not on the timeout: %v", err)
	assert.Contains(t, err.Error(), "inspect broken for good")
}

func TestSweepSurvivesFaults(t *testing.T) {
	p, c := faultClient(t)
	ctx := ctxFor(t, 3*time.Minute)
	img := testbench.BusyboxImage(t, c)
	ty := &tally{t: t, p: p}
	defer ty.report()

	child := startSweepChild(t, childOpts{img: img})
	child.kill()
	defer func() { // whatever happens, the child's resources go
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p.Clear()
		_, _ = c.Sweep(cctx)
	}()

	// Persistent: every container list fails. Sweep names the fault
	// and removes nothing: when in doubt, keep.
	p.Inject(testbench.Rule{Method: "GET", Path: "/containers/json", Action: testbench.Fail500, Message: "list broken for good"})
	_, err := c.Sweep(ctx)
	p.Clear()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sweep: list containers")
	assert.Contains(t, err.Error(), "list broken for good")
	assert.Equal(t, child.resources(), labelled(t, ctx, c, child.session), "nothing removed on a failed sweep")

	ty.survive("500, dropped connection and slow reply on the lists", []testbench.Rule{
		{Method: "GET", Path: "/containers/json", Nth: 1, Action: testbench.Fail500},
		{Method: "GET", Path: "/networks", Nth: 1, Action: testbench.DropBeforeHeader},
		{Method: "GET", Path: "/volumes", Nth: 1, Action: testbench.Delay, After: 300 * time.Millisecond},
		{Method: "GET", Path: "/images/json", Nth: 1, Action: testbench.Fail500},
	}, func() error {
		_, err := c.Sweep(ctx)
		return err
	})
	// What Sweep returned is not checked: another test process's Sweep
	// may remove the dead child first. What counts is that it is gone.
	assert.True(t, labelled(t, ctx, c, child.session).Empty(), "the dead session's resources are gone")
}
