package lifecycle_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// requestLog is a transport that records, in the order the client sees
// them, what each container inspect answered ("inspect running/healthy",
// "inspect exited") and each event read from an event stream ("event die",
// "event health_status: healthy"). Tests use it to tell how a wait ended
// (by an event, or by an inspect) without looking at a clock.
type requestLog struct {
	base    http.RoundTripper
	mu      sync.Mutex
	entries []string
}

func (rl *requestLog) add(e string) {
	rl.mu.Lock()
	rl.entries = append(rl.entries, e)
	rl.mu.Unlock()
}

// take returns the entries recorded since the last take.
func (rl *requestLog) take() []string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := rl.entries
	rl.entries = nil
	return out
}

func (rl *requestLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rl.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	p := req.URL.Path
	switch {
	case req.Method == http.MethodGet && inspectPath.MatchString(p):
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return resp, nil
		}
		var ins struct {
			State *struct {
				Status string
				Health *struct{ Status string }
			}
		}
		e := "inspect ?"
		if json.Unmarshal(body, &ins) == nil && ins.State != nil {
			e = "inspect " + ins.State.Status
			if ins.State.Health != nil {
				e += "/" + ins.State.Health.Status
			}
		}
		rl.add(e)
	case strings.HasSuffix(p, "/events"):
		pr, pw := io.Pipe()
		body := resp.Body
		go func() {
			// Each event is one JSON line; record it before passing it
			// on, so a wait that returns on it has been recorded
			// reading it (a tee would hand it over first, and record it
			// after the wait's caller had taken the log).
			sc := bufio.NewScanner(body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				var m struct{ Action string }
				if json.Unmarshal(sc.Bytes(), &m) == nil && m.Action != "" {
					rl.add("event " + m.Action)
				}
				if _, err := pw.Write(append(sc.Bytes(), '\n')); err != nil {
					return
				}
			}
			pw.CloseWithError(sc.Err())
		}()
		resp.Body = &pipeBody{PipeReader: pr, orig: body}
	}
	return resp, nil
}

var inspectPath = regexp.MustCompile(`^(/v[0-9.]+)?/containers/[^/]+/json$`)

type pipeBody struct {
	*io.PipeReader
	orig io.Closer
}

func (b *pipeBody) Close() error {
	_ = b.orig.Close()
	return b.PipeReader.Close()
}

// loggedClient is a client whose inspects and events are recorded.
func loggedClient(t *testing.T) (*lifecycle.Client, *requestLog) {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = lifecycle.DefaultHost
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		testbench.Unavailable(t, "recording engine requests needs a unix socket engine, not %s", host)
	}
	rl := &requestLog{base: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	c := testbench.Client(t, lifecycle.WithDockerHost(host), lifecycle.WithSDKOptions(client.WithHTTPClient(&http.Client{Transport: rl})))
	return c, rl
}

// count returns how many entries have the prefix.
func count(entries []string, prefix string) int {
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// The log the wait tests rely on records what they read from it.
func TestRequestLogRecordsInspectsAndEvents(t *testing.T) {
	c, rl := loggedClient(t)
	ctx := waitCtx(t, time.Minute)
	ctr := runBox(t, c, lifecycle.WithCmd("sh", "-c", "sleep 0.5; exit 3"))
	rl.take()
	require.NoError(t, (&waitfor.Waiter{Timeout: 30 * time.Second}).Wait(ctx, ctr.Exited(3)))
	_, err := ctr.State(ctx)
	require.NoError(t, err)
	log := rl.take()
	t.Logf("%q", log)
	assert.Contains(t, log, "event die", "%q", log)
	assert.Equal(t, "inspect exited", log[len(log)-1], "%q", log)
	assert.Contains(t, log[:len(log)-1], "inspect running", "%q", log)
}
