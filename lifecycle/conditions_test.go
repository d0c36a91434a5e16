package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// runBox runs the busybox stand-in and removes it when the test ends.
func runBox(t *testing.T, c *lifecycle.Client, opts ...lifecycle.RunOption) *lifecycle.Container {
	t.Helper()
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(waitCtx(t, time.Minute), img, append([]lifecycle.RunOption{lifecycle.WithPull(lifecycle.PullNever)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })
	return ctr
}

// healthcheck gives the container a healthcheck running test every 100ms.
func healthcheck(test string) lifecycle.RunOption {
	return lifecycle.WithContainerConfig(func(cfg *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig) {
		cfg.Healthcheck = &container.HealthConfig{
			Test: []string{"CMD-SHELL", test}, Interval: 100 * time.Millisecond, Timeout: 2 * time.Second, Retries: 3,
		}
	})
}

// engineEvent returns the time the engine stamped on the first event of the
// container whose action is action, from a subscription of its own.
func engineEvent(t *testing.T, c *lifecycle.Client, id, action string) <-chan time.Time {
	t.Helper()
	ctx := waitCtx(t, time.Minute)
	f := filters.NewArgs(filters.Arg("container", id))
	msgs, errs := c.API().Events(ctx, events.ListOptions{Filters: f, Since: "0"})
	out := make(chan time.Time, 1)
	go func() {
		for {
			select {
			case m := <-msgs:
				if string(m.Action) == action {
					out <- time.Unix(0, m.TimeNano)
					return
				}
			case <-errs:
				return
			}
		}
	}()
	return out
}

func recv(t *testing.T, ch <-chan time.Time, what string) time.Time {
	t.Helper()
	select {
	case at := <-ch:
		return at
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s event", what)
		return time.Time{}
	}
}

func TestHealthyFollowsTheEventStream(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 1; touch /tmp/ok; exec sleep 300"), healthcheck("test -f /tmp/ok"))
	healthyAt := engineEvent(t, c, ctr.ID(), "health_status: healthy")
	lc, rl := loggedClient(t) // records how the wait ends
	watched, err := lc.Container(ctx, ctr.ID())
	require.NoError(t, err)
	rl.take()

	cond := watched.Healthy()
	assert.Equal(t, "container "+ctr.Name()+" healthy", cond.String())
	attempts := 0
	w := waitfor.Waiter{Timeout: 30 * time.Second, OnAttempt: func(waitfor.Attempt) { attempts++ }}
	start := time.Now()
	require.NoError(t, w.Wait(ctx, cond))
	returned := time.Now()
	at := recv(t, healthyAt, "health_status: healthy")
	lag := returned.Sub(at)
	t.Logf("healthy after %v; the wait returned %v after the engine's health_status event", returned.Sub(start), lag)
	assert.GreaterOrEqual(t, returned.Sub(start), 900*time.Millisecond, "it cannot be healthy before /tmp/ok exists")
	log := rl.take()
	assert.Contains(t, log, "event health_status: healthy", "%q", log)
	assert.Zero(t, count(log, "inspect running/healthy"), "the event, not an inspect, must end the wait: %q", log)
	assert.GreaterOrEqual(t, lag, time.Duration(0))
	assert.Equal(t, 1, attempts, "watched once, never polled")

	// Already healthy: at once, from the first inspect.
	require.NoError(t, w.Wait(ctx, watched.Healthy()))
	assert.Equal(t, []string{"inspect running/healthy"}, rl.take(), "one inspect, no event awaited")
	require.NoError(t, ctr.Healthy().Check(ctx))
}

func TestHealthyFailsAtOnceWhenTheContainerExits(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "echo starting up; sleep 0.1; echo 'fatal: cannot open /data' >&2; sleep 1; exit 3"),
		healthcheck("false"))
	diedAt := engineEvent(t, c, ctr.ID(), "die")
	lc, rl := loggedClient(t) // records how the wait ends
	watched, err := lc.Container(ctx, ctr.ID())
	require.NoError(t, err)
	w := waitfor.Waiter{Timeout: 30 * time.Second}
	start := time.Now()
	err = w.Wait(ctx, watched.Healthy())
	returned := time.Now()
	require.Error(t, err)
	died := recv(t, diedAt, "die")
	t.Logf("error after %v, %v after the die event: %v", returned.Sub(start), returned.Sub(died), err)
	assert.True(t, waitfor.IsPermanent(err))
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the exit, not the 30s timeout, ended the wait")
	// Noticed as it exited: the die event itself ends the wait. (The
	// engine keeps the container busy for 40-300 ms after sending it, so
	// an inspect then would wait; the safety poll would come much later.)
	log := rl.take()
	assert.Contains(t, log, "event die", "%q", log)
	assert.Zero(t, count(log, "inspect exited"), "the die event, not an inspect, must end the wait: %q", log)

	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.Equal(t, "exited", ee.Status)
	assert.False(t, ee.OOMKilled)
	assert.Equal(t, []string{"starting up", "fatal: cannot open /data"}, ee.Logs)
	assert.Contains(t, err.Error(), "container "+ctr.Name()+" exited with code 3; last 2 log lines:\n\tstarting up\n\tfatal: cannot open /data")

	// Polled, the same answer.
	err = ctr.Healthy().Check(ctx)
	assert.True(t, waitfor.IsPermanent(err))
	assert.ErrorAs(t, err, &ee)
}

func TestHealthyWithoutHealthcheckFailsAtOnce(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sleep", "300"))
	lc, rl := loggedClient(t)
	watched, err := lc.Container(ctx, ctr.ID())
	require.NoError(t, err)
	rl.take()
	err = (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, watched.Healthy())
	require.Error(t, err)
	assert.Equal(t, []string{"inspect running"}, rl.take(), "at once: from the first inspect, no event awaited")
	assert.True(t, waitfor.IsPermanent(err))
	assert.Contains(t, err.Error(), "container "+ctr.Name()+" has no healthcheck")
}

func TestHealthyOOMKilled(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	if info, err := c.API().Info(ctx); err == nil && !info.MemoryLimit {
		testbench.Unavailable(t, "the engine cannot limit memory here (no memory cgroup): nothing would be OOM-killed")
	}
	// The pause lets the engine register for the cgroup's OOM
	// notifications before the allocation begins.
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "echo allocating; sleep 1; exec tail /dev/zero"),
		healthcheck("false"),
		lifecycle.WithContainerConfig(func(_ *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig) {
			hc.Resources.Memory = 8 << 20
			hc.Resources.MemorySwap = 8 << 20
		}))
	// Watched (events) and polled (Listening has only Check), both.
	for _, cond := range []waitfor.Condition{ctr.Healthy(), ctr.Listening("80")} {
		err := (&waitfor.Waiter{Timeout: 45 * time.Second}).Wait(ctx, cond)
		require.Error(t, err)
		t.Log(err)
		var ee *lifecycle.ExitError
		require.ErrorAs(t, err, &ee, "want an exit, got %v", err)
		assert.True(t, waitfor.IsPermanent(err))
		assert.Equal(t, 137, ee.ExitCode)
		assert.Contains(t, ee.Logs, "allocating")
		if engineSawOOM(t, ctx, ctr) {
			assert.True(t, ee.OOMKilled)
			assert.Contains(t, err.Error(), "OOM-killed")
		} else {
			assert.False(t, ee.OOMKilled)
			assert.Contains(t, err.Error(), "exited with code 137 (SIGKILL; the engine saw no OOM kill)")
		}
	}
}

// engineSawOOM reports whether the engine, given time, flagged the
// container as OOM-killed. Docker 20.10 on cgroup v1 now and then misses
// an OOM kill (no oom event, OOMKilled false, exit code 137); the
// conditions can only report what the engine knows.
func engineSawOOM(t *testing.T, ctx context.Context, ctr *lifecycle.Container) bool {
	time.Sleep(time.Second)
	st, err := ctr.State(ctx)
	require.NoError(t, err)
	if !st.OOMKilled {
		t.Logf("the engine missed this OOM kill: exit code %d, OOMKilled false", st.ExitCode)
	}
	return st.OOMKilled
}

// TestPolledConditionsNoticeOOMKills polls a container as it is OOM-killed.
func TestPolledConditionsNoticeOOMKills(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	if info, err := c.API().Info(ctx); err == nil && !info.MemoryLimit {
		testbench.Unavailable(t, "the engine cannot limit memory here (no memory cgroup): nothing would be OOM-killed")
	}
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 1; exec tail /dev/zero"),
		lifecycle.WithContainerConfig(func(_ *container.Config, hc *container.HostConfig, _ *network.NetworkingConfig) {
			hc.Resources.Memory = 8 << 20
			hc.Resources.MemorySwap = 8 << 20
		}))
	err := (&waitfor.Waiter{Timeout: 45 * time.Second}).Wait(ctx, ctr.Listening("80"))
	require.Error(t, err)
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee, "want an exit, got %v", err)
	assert.Equal(t, engineSawOOM(t, ctx, ctr), ee.OOMKilled, "%v", err)
}

func TestLogLineThirdMatch(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c",
		"echo booting; echo 'ready 1'; sleep 0.3; echo 'ready 2' >&2; echo 'not ready'; sleep 0.3; echo 'ready 3'; "+
			"while [ ! -f /tmp/go4 ]; do sleep 0.02; done; echo 'ready 4'; exec sleep 300"))
	re := regexp.MustCompile(`^ready \d`)
	cond := ctr.LogLine(re, 3)
	assert.Equal(t, `container `+ctr.Name()+` log line #3 matching "^ready \\d"`, cond.String())
	start := time.Now()
	require.NoError(t, (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, cond))
	elapsed := time.Since(start)
	t.Logf("3rd line after %v", elapsed)
	assert.GreaterOrEqual(t, elapsed, 450*time.Millisecond, "the 3rd line comes ~0.6s after start")
	// The 4th line waits for /tmp/go4, written only now: the wait ended
	// on the 3rd.
	require.NoError(t, cond.Check(ctx), "ready stays ready")
	require.NoError(t, ctr.WriteFile(ctx, "/tmp/go4", nil, 0o644))

	// Polled through Check (waitfor.All polls its members), and counting
	// stdout and stderr together.
	require.NoError(t, (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, waitfor.All(ctr.LogLine(re, 4))))
	err := ctr.LogLine(re, 5).Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "4 of 5 matching lines so far")

	// Bad arguments are permanent errors, not panics.
	assert.True(t, waitfor.IsPermanent(ctr.LogLine(re, 0).Check(ctx)))
	assert.True(t, waitfor.IsPermanent(ctr.LogLine(nil, 1).Check(ctx)))
}

func TestLogLineFailsWhenTheContainerExits(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "echo ready; echo ready; sleep 0.5; echo 'giving up' >&2; exit 1"))
	err := (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, ctr.LogLine(regexp.MustCompile("ready"), 3))
	require.Error(t, err)
	assert.True(t, waitfor.IsPermanent(err))
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode)
	assert.Equal(t, []string{"ready", "ready", "giving up"}, ee.Logs)
}

// logCounter counts the requests for container logs and the bytes of their answers.
type logCounter struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls []url.Values
	bytes atomic.Int64
}

func (lc *logCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := lc.base.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/logs") {
		lc.mu.Lock()
		lc.calls = append(lc.calls, req.URL.Query())
		lc.mu.Unlock()
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &lc.bytes}
	}
	return resp, err
}

func (lc *logCounter) snapshot() ([]url.Values, int64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return append([]url.Values(nil), lc.calls...), lc.bytes.Load()
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingClient is a client whose log requests are counted.
func countingClient(t *testing.T) (*lifecycle.Client, *logCounter) {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = lifecycle.DefaultHost
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Skipf("counting log bytes needs a unix socket engine, not %s", host)
	}
	lc := &logCounter{base: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	c := testbench.Client(t, lifecycle.WithDockerHost(host), lifecycle.WithSDKOptions(client.WithHTTPClient(&http.Client{Transport: lc})))
	return c, lc
}

// TestLogLineReadsOnlyNewBytes counts what the engine sends: after ~4 MB of
// log, a wait for the 3rd "ready" reads the log once, whether it follows
// it (Watch) or is polled through Check tens of times.
func TestLogLineReadsOnlyNewBytes(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, 2*time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c",
		`awk 'BEGIN { for (i = 0; i < 50000; i++) print "filler line " i " padding padding padding" }'; `+
			`for i in 1 2 3; do while [ ! -f /tmp/go$i ]; do sleep 0.02; done; echo ready; done; exec sleep 300`))
	re := regexp.MustCompile(`^ready$`)

	// Two more clients on the same container, each counting its own log traffic.
	watchC, watchCount := countingClient(t)
	pollC, pollCount := countingClient(t)
	watched, err := watchC.Container(ctx, ctr.ID())
	require.NoError(t, err)
	polled, err := pollC.Container(ctx, ctr.ID())
	require.NoError(t, err)

	// Once the filler is all there, so that every read but the first has
	// something to start from.
	require.NoError(t, (&waitfor.Waiter{Timeout: time.Minute}).Wait(ctx, ctr.LogLine(regexp.MustCompile(`^filler line 49999 `), 1)))

	var wg sync.WaitGroup
	var watchErr, pollErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		watchErr = (&waitfor.Waiter{Timeout: time.Minute}).Wait(ctx, watched.LogLine(re, 3))
	}()
	go func() {
		defer wg.Done()
		// waitfor.All polls Check; a 5ms cap makes it poll often. The
		// first check reads the whole 4 MB log: on a loaded machine that
		// can take longer than the default 1 s attempt timeout, and a cut
		// first read would make the next one a long catch-up, not a tail.
		pollErr = (&waitfor.Waiter{Timeout: time.Minute, AttemptTimeout: 30 * time.Second, MaxInterval: 5 * time.Millisecond}).
			Wait(ctx, waitfor.All(polled.LogLine(re, 3)))
	}()
	// Both read the filler first; then the readies trickle in, each one
	// only after the polled condition has read the log twice more, so the
	// polled reads after the first are many small ones, however slow the
	// machine.
	for i := 1; i <= 3; i++ {
		calls, _ := pollCount.snapshot()
		for n := len(calls); len(calls) < n+2; calls, _ = pollCount.snapshot() {
			require.NoError(t, sleepCtx(ctx, 10*time.Millisecond), "polled reads stopped")
		}
		require.NoError(t, ctr.WriteFile(ctx, fmt.Sprintf("/tmp/go%d", i), nil, 0o644))
	}
	wg.Wait()
	require.NoError(t, watchErr)
	require.NoError(t, pollErr)

	// The whole log, once, with timestamps as the conditions ask for it.
	rc, err := c.API().ContainerLogs(ctx, ctr.ID(), container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	require.NoError(t, err)
	full, err := io.Copy(io.Discard, rc)
	rc.Close()
	require.NoError(t, err)
	require.Greater(t, full, int64(3<<20))

	wCalls, wBytes := watchCount.snapshot()
	pCalls, pBytes := pollCount.snapshot()
	t.Logf("full log %d bytes; watch: %d log request(s), %d bytes; polled: %d log requests, %d bytes (re-reading would have been ~%d bytes)",
		full, len(wCalls), wBytes, len(pCalls), pBytes, int64(len(pCalls))*full)
	require.NotEmpty(t, wCalls)
	assert.Len(t, wCalls, 1, "one followed stream")
	assert.Equal(t, "1", wCalls[0].Get("follow"))
	assert.LessOrEqual(t, wBytes, full)

	assert.GreaterOrEqual(t, len(pCalls), 7, "polled at least twice before each ready, and once after the last")
	// Each byte once, plus per call the last message read before (the
	// engine's "since" includes it) and a little read-ahead when a tail
	// did not reach back to it and was asked for again, larger.
	assert.LessOrEqual(t, pBytes, full+full/50, "about each byte once")
	assert.Empty(t, pCalls[0].Get("since"), "the first read starts at the beginning")
	tails := 0
	for i, q := range pCalls[1:] {
		assert.NotEmpty(t, q.Get("since"), "call %d must ask only for new messages", i+2)
		assert.Empty(t, q.Get("follow"))
		if q.Get("tail") != "" {
			tails++
		}
	}
	// Tails suffice (a few messages arrive between two checks): the
	// engine need not scan the whole file on every check.
	t.Logf("%d of %d polled reads asked for a tail", tails, len(pCalls)-1)
	assert.Equal(t, len(pCalls)-1, tails)
}

func TestPortReadyIsNotFooledByTheProxy(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithPorts("80"), lifecycle.WithCmd("sh", "-c",
		"mkdir /www && echo hello > /www/index.html && sleep 1 && exec httpd -f -p 80 -h /www"))
	started := time.Now()
	addr, err := ctr.HostPort(ctx, "80")
	require.NoError(t, err)
	cond := ctr.PortReady("80")
	assert.Equal(t, "container "+ctr.Name()+" port 80/tcp ready on the host", cond.String())

	var wg sync.WaitGroup
	var naiveAt, readyAt time.Time
	var naiveErr, readyErr error
	var getErr error
	var body []byte
	var fooled error
	wg.Add(2)
	go func() {
		defer wg.Done()
		naiveErr = (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, waitfor.TCP(addr))
		naiveAt = time.Now()
		// What the naive wait calls ready: docker-proxy accepted, then
		// hangs up as it cannot reach the server.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			fooled = err
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, fooled = conn.Read(make([]byte, 1))
	}()
	go func() {
		defer wg.Done()
		readyErr = (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, cond)
		readyAt = time.Now()
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			getErr = err
			return
		}
		defer resp.Body.Close()
		body, getErr = io.ReadAll(resp.Body)
	}()
	wg.Wait()
	require.NoError(t, naiveErr)
	require.NoError(t, readyErr)
	t.Logf("naive TCP dial ready after %v (read then: %v); PortReady after %v", naiveAt.Sub(started), fooled, readyAt.Sub(started))
	if naiveAt.Sub(started) >= 900*time.Millisecond {
		// An engine run with --userland-proxy=false forwards with
		// iptables alone: a dial is refused until the server listens.
		t.Log("no userland proxy on this engine: the naive dial was not fooled")
	} else {
		assert.ErrorIs(t, fooled, io.EOF, "docker-proxy accepted before the server listened, then hung up: nothing was there")
	}
	assert.GreaterOrEqual(t, readyAt.Sub(started), 900*time.Millisecond, "PortReady waits for the server")
	require.NoError(t, getErr, "the server answers right after PortReady")
	assert.Equal(t, "hello\n", string(body))
}

func TestPortReadyWantsAReachableListener(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	// The server listens on the container's loopback only: the published
	// port can never reach it, though something listens.
	ctr := runBox(t, c, lifecycle.WithPorts("80"), lifecycle.WithCmd("httpd", "-f", "-p", "127.0.0.1:80", "-h", "/"))
	addr, err := ctr.HostPort(ctx, "80")
	require.NoError(t, err)
	require.NoError(t, (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(ctx, ctr.Listening("80")))
	require.NoError(t, waitfor.TCP(addr).Check(ctx), "the proxy accepts anyway")

	err = (&waitfor.Waiter{Timeout: 500 * time.Millisecond}).Wait(ctx, ctr.PortReady("80"))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "loopback")

	// A port that is not published can never be ready.
	err = ctr.PortReady("81").Check(ctx)
	assert.True(t, waitfor.IsPermanent(err))
	assert.Contains(t, err.Error(), "does not publish port 81/tcp")
}

func TestListening(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 0.5; exec nc -ll -p 7000 -e cat"))
	cond := ctr.Listening("7000")
	assert.Equal(t, "container "+ctr.Name()+" listening on 7000/tcp", cond.String())
	start := time.Now()
	require.NoError(t, (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(ctx, cond))
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)

	err := (&waitfor.Waiter{Timeout: 200 * time.Millisecond}).Wait(ctx, ctr.Listening("7001"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing listens on 7001/tcp inside container "+ctr.Name())
	assert.True(t, waitfor.IsPermanent(ctr.Listening("http").Check(ctx)), "a bad port is a permanent error")
}

func TestListeningUDP(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	// udhcpd binds UDP port 67; busybox's nc has no UDP.
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "mkdir -p /var/lib/misc && touch /var/lib/misc/udhcpd.leases && "+
		"printf 'interface eth0\\nstart 10.255.0.10\\nend 10.255.0.20\\n' > /tmp/u.conf && sleep 0.3 && exec udhcpd -f /tmp/u.conf"))
	require.NoError(t, (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(ctx, ctr.Listening("67/udp")))
	assert.Error(t, ctr.Listening("67").Check(ctx), "nothing on 67/tcp")
}

// TestListeningWithoutAShell builds an image of nothing but a static
// busybox, with no shell and no cat on its PATH: Listening must still see
// the socket, as it reads the container's socket table from the host.
func TestListeningWithoutAShell(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, 2*time.Minute)
	box := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	dockerfile := "FROM " + box + " AS b\nFROM scratch\nCOPY --from=b /bin/busybox /busybox\n" +
		`ENTRYPOINT ["/busybox", "httpd", "-f", "-p", "7000", "-h", "/"]` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	id, err := c.Build(ctx, dir, lifecycle.WithProgress(io.Discard))
	require.NoError(t, err)
	require.NotEmpty(t, id)
	t.Cleanup(func() { _ = c.RemoveImage(context.Background(), id, lifecycle.WithForce()) })

	ctr, err := c.Run(ctx, id, lifecycle.WithPull(lifecycle.PullNever))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })

	// No cat (nor sh) in there: an exec-based check could not work.
	res, err := ctr.Exec(ctx, []string{"cat", "/proc/net/tcp"})
	if err == nil {
		assert.NotZero(t, res.ExitCode, "cat must not exist in the scratch image")
	}
	require.NoError(t, (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(ctx, ctr.Listening("7000")))
	err = (&waitfor.Waiter{Timeout: 200 * time.Millisecond}).Wait(ctx, ctr.Listening("7001"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing listens on 7001/tcp")
}

func TestExited(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	w := waitfor.Waiter{Timeout: 30 * time.Second}

	ok := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 0.5; exit 0"))
	assert.Equal(t, "container "+ok.Name()+" exited with code 0", ok.Exited(0).String())
	assert.Equal(t, "container "+ok.Name()+" exited", ok.Exited(-1).String())
	assert.Error(t, ok.Exited(0).Check(ctx), "still running")
	start := time.Now()
	require.NoError(t, w.Wait(ctx, ok.Exited(0)))
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)
	require.NoError(t, w.Wait(ctx, ok.Exited(-1)))
	require.NoError(t, ok.Exited(0).Check(ctx))

	bad := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 0.3; echo 'no config file' >&2; exit 3"))
	err := w.Wait(ctx, bad.Exited(0))
	require.Error(t, err)
	assert.True(t, waitfor.IsPermanent(err))
	var ee *lifecycle.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode)
	assert.Contains(t, err.Error(), "exited with code 3 (want 0); last 1 log lines:\n\tno config file")
	require.NoError(t, w.Wait(ctx, bad.Exited(3)))
	require.NoError(t, w.Wait(ctx, bad.Exited(-1)))

	// Removed as soon as it exits: the code comes from the die event.
	img := testbench.BusyboxImage(t, c)
	gone, err := c.Run(ctx, img, lifecycle.WithAutoRemove(), lifecycle.WithCmd("sh", "-c", "sleep 0.5; exit 5"))
	require.NoError(t, err)
	require.NoError(t, w.Wait(ctx, gone.Exited(5)))
	_, _ = gone.Wait(ctx)
}

func TestExecSucceeds(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sleep", "300"))
	cond := ctr.ExecSucceeds("test", "-f", "/tmp/ok")
	assert.Equal(t, "container "+ctr.Name()+" exec test -f /tmp/ok", cond.String())
	err := cond.Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit code 1")
	// The file appears after the second failed attempt: the wait goes on
	// until an attempt finds it.
	var seen []error
	w := waitfor.Waiter{Timeout: 10 * time.Second, OnAttempt: func(a waitfor.Attempt) {
		seen = append(seen, a.Err)
		if len(seen) == 2 {
			assert.NoError(t, ctr.WriteFile(ctx, "/tmp/ok", nil, 0o644))
		}
	}}
	require.NoError(t, w.Wait(ctx, cond))
	require.Len(t, seen, 3, "ready at the first attempt after the file appeared")
	assert.ErrorContains(t, seen[0], "exit code 1")
	assert.ErrorContains(t, seen[1], "exit code 1")

	attempts := 0
	err = (&waitfor.Waiter{Timeout: 10 * time.Second, OnAttempt: func(waitfor.Attempt) { attempts++ }}).Wait(ctx, ctr.ExecSucceeds("no-such-tool", "--ping"))
	require.Error(t, err)
	assert.True(t, waitfor.IsPermanent(err), "%v", err)
	assert.Equal(t, 1, attempts, "a missing program fails the first attempt for good")
	assert.Contains(t, err.Error(), "no-such-tool")

	assert.Equal(t, "container "+ctr.Name()+" exec env PGPASSWORD=xxxxx pg_isready",
		ctr.ExecSucceeds("env", "PGPASSWORD=hunter2", "pg_isready").String(), "no secrets in descriptions")
}

func TestConditionsFailWhenTheContainerIsGone(t *testing.T) {
	c := testbench.Client(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sleep", "300"))
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	for _, cond := range []waitfor.Condition{
		ctr.Healthy(), ctr.Exited(-1), ctr.LogLine(regexp.MustCompile("x"), 1),
		ctr.Listening("80"), ctr.PortReady("80"), ctr.ExecSucceeds("true"),
	} {
		err := (&waitfor.Waiter{Timeout: 10 * time.Second}).Wait(ctx, cond)
		require.Error(t, err, cond.String())
		assert.True(t, waitfor.IsPermanent(err), "%s: %v", cond, err)
		var ee *lifecycle.ExitError
		if assert.True(t, errors.As(err, &ee), "%s: %v", cond, err) {
			assert.Equal(t, "removed", ee.Status)
		}
	}
}

// sleepCtx sleeps for d, or returns ctx's error when it ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
