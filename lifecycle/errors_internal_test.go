package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engineAnswer makes the SDK client turn an engine answer (HTTP status and
// message) into its error, exactly as it does for a real engine: a fake
// engine on 127.0.0.1 answers one POST /containers/x/start.
func engineAnswer(t *testing.T, status int, message string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
	}))
	t.Cleanup(srv.Close)
	api, err := client.NewClientWithOpts(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")), client.WithVersion("1.41"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	err = api.ContainerStart(context.Background(), "x", container.StartOptions{})
	require.Error(t, err)
	return err
}

// streamError is an error as a pull, push or build stream carries it.
func streamError(code int, message string) error {
	return &jsonmessage.JSONError{Code: code, Message: message}
}

// TestClassOf lists every engine message the text fallback
// (unclassifiedEngineError) recognises, as a Docker 20.10 engine sent it
// (recorded from the real engine: pulls and pushes against the in-process
// registry, ports taken by a container and by another process), and the
// failures it must leave alone.
func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func(t *testing.T) error
		want error // nil: unclassified
	}{
		// By type: the engine's HTTP status, through the SDK.
		{"404 no such container", func(t *testing.T) error { return engineAnswer(t, 404, "No such container: web") }, ErrNotFound},
		{"404 no such image (20.10 says it twice)", func(t *testing.T) error {
			return engineAnswer(t, 404, "no such image: dockhand.test/absent:1: No such image: dockhand.test/absent:1")
		}, ErrNotFound},
		{"404 registry repository unknown", func(t *testing.T) error {
			return engineAnswer(t, 404, "repository 127.0.0.1:32993/nope/missing not found: name unknown: Unknown name")
		}, ErrNotFound},
		{"409 name in use", func(t *testing.T) error {
			return engineAnswer(t, 409, `Conflict. The container name "/web" is already in use by container "de76b940a245". You have to remove (or rename) that container to be able to reuse that name.`)
		}, ErrConflict},
		{"409 image in use", func(t *testing.T) error {
			return engineAnswer(t, 409, "conflict: unable to delete 1e72bb07832d (cannot be forced) - image is being used by running container de76b940a245")
		}, ErrConflict},
		{"401", func(t *testing.T) error { return engineAnswer(t, 401, "anything") }, ErrUnauthorized},
		{"400 bad Dockerfile", func(t *testing.T) error {
			return engineAnswer(t, 400, "dockerfile parse error line 1: unknown instruction: FROBNICATE")
		}, ErrInvalid},
		{"503", func(t *testing.T) error { return engineAnswer(t, 503, "anything") }, ErrUnavailable},
		{"403 network with active endpoints is no registry refusal", func(t *testing.T) error {
			return engineAnswer(t, 403, "error while removing network: network n id 6bf4787bce8d has active endpoints")
		}, nil},
		// A class the engine gave wins over any text.
		{"404 that mentions a port", func(t *testing.T) error {
			return engineAnswer(t, 404, "network x not found: port is already allocated")
		}, ErrNotFound},
		{"400 that mentions credentials", func(t *testing.T) error {
			return engineAnswer(t, 400, "bad request: no basic auth credentials")
		}, ErrInvalid},

		// The fallback: what 20.10 sends as a 500 with only a message.
		{"500 pull, no credentials", func(t *testing.T) error {
			return engineAnswer(t, 500, `Head "http://127.0.0.1:44979/v2/team/app/manifests/1": no basic auth credentials`)
		}, ErrUnauthorized},
		{"500 pull, wrong credentials", func(t *testing.T) error { return engineAnswer(t, 500, "unauthorized") }, ErrUnauthorized},
		{"500 pull, wrong credentials, registry's JSON detail", func(t *testing.T) error {
			return engineAnswer(t, 500, "unauthorized: incorrect username or password")
		}, ErrUnauthorized},
		{"500 port allocated by a container", func(t *testing.T) error {
			return engineAnswer(t, 500, "driver failed programming external connectivity on endpoint x2 (38914549cab5): Bind for 127.0.0.1:32830 failed: port is already allocated")
		}, ErrConflict},
		{"500 port taken by another process", func(t *testing.T) error {
			return engineAnswer(t, 500, "driver failed programming external connectivity on endpoint y1 (6ae220bc7ba8): Error starting userland proxy: listen tcp4 127.0.0.1:35897: bind: address already in use")
		}, ErrConflict},
		// ... and in a stream, as an errorDetail with no code.
		{"stream push, no credentials", func(*testing.T) error { return streamError(0, "no basic auth credentials") }, ErrUnauthorized},
		{"stream push, wrong credentials", func(*testing.T) error { return streamError(0, "unauthorized") }, ErrUnauthorized},
		{"stream build FROM, no credentials", func(*testing.T) error {
			return streamError(0, `Head "http://127.0.0.1:44979/v2/team/x/manifests/1": no basic auth credentials`)
		}, ErrUnauthorized},

		// Left unclassified: no class fits, or the text is not one of the above.
		{"500 registry unreachable", func(t *testing.T) error {
			return engineAnswer(t, 500, `Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host`)
		}, nil},
		{"500 phrase not at the end", func(t *testing.T) error {
			return engineAnswer(t, 500, "port is already allocated, or so the plugin says")
		}, nil},
		{"500 unauthorized as a word inside", func(t *testing.T) error {
			return engineAnswer(t, 500, "plugin said: unauthorized")
		}, nil},
		{"stream build step failed (code is its exit status)", func(*testing.T) error {
			return streamError(1, "The command '/bin/sh -c false' returned a non-zero code: 1")
		}, nil},
		{"stream build FROM missing in registry", func(*testing.T) error {
			return streamError(0, "repository 127.0.0.1:32993/nope/x not found: name unknown: Unknown name")
		}, nil},
		{"stream push, nothing listening", func(*testing.T) error {
			return streamError(0, `Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`)
		}, nil},
		{"not an engine error", func(*testing.T) error { return errors.New("unauthorized") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			got := classOf(err)
			assert.Equal(t, tc.want, got, "class of %q", err)
			w := wrap(err, "op %s", "value")
			if tc.want != nil {
				assert.ErrorIs(t, w, tc.want)
			}
			assert.ErrorIs(t, w, err, "the engine's error stays reachable")
			assert.Equal(t, 1, strings.Count(w.Error(), "op value"), w.Error())
		})
	}
}

// TestClassOfKeepsEngineClass: a 403 keeps the engine's own class, and a
// stream error stays reachable with its code.
func TestClassOfKeepsEngineClass(t *testing.T) {
	w := wrap(engineAnswer(t, 403, "network n has active endpoints"), "remove network n")
	assert.True(t, cerrdefs.IsPermissionDenied(w), "%v", w)
	assert.NotErrorIs(t, w, ErrUnauthorized)

	var je *jsonmessage.JSONError
	require.ErrorAs(t, wrap(streamError(1, "The command '/bin/sh -c false' returned a non-zero code: 1"), "build ctx"), &je)
	assert.Equal(t, 1, je.Code)
}
