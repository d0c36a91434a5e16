package lifecycle

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRouteDoesNotHoldCallersHostage: while the first caller's in-container
// detection waits on the engine, another caller whose ctx ends gets the
// local route at once instead of waiting for the first (the lock is not
// held across the engine call); once the engine answers, the route is
// decided for everyone and the engine is not asked again.
func TestRouteDoesNotHoldCallersHostage(t *testing.T) {
	withOwnAddrs(t, "192.0.2.44/24") // a non-loopback address: detection asks the engine
	release := make(chan struct{})
	asked := make(chan struct{}, 10)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/networks") {
			calls.Add(1)
			asked <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, "[]")
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before srv.Close: a failed test does not hang
	api, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	require.NoError(t, err)
	local := portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}
	c := &Client{api: api, ports: &routeState{route: local}, unixEngine: true,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	first := make(chan portRoute)
	go func() { first <- c.route(context.Background()) }()
	<-asked // the first caller is in the engine call

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	second := make(chan portRoute)
	go func() { second <- c.route(ctx) }()
	select {
	case r := <-second:
		assert.Equal(t, local, r)
	case <-time.After(time.Minute): // a hang guard, not a speed bound
		t.Fatal("a caller with an ended ctx waits for another caller's engine call")
	}

	unblock()
	assert.Equal(t, local, <-first)
	assert.Equal(t, local, c.route(context.Background()))
	assert.Equal(t, int32(1), calls.Load(), "decided once")
}
