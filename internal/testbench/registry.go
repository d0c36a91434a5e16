package testbench

import (
	"crypto/subtle"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is an OCI registry served by the test process on
// 127.0.0.1:<random port>. The engine treats 127.0.0.0/8 as an insecure
// registry, so it pulls and pushes over plain HTTP.
type Registry struct {
	Host     string // "127.0.0.1:PORT", the prefix of image references
	Username string // empty: no authentication
	Password string
}

// StartRegistry starts a registry for the test's lifetime. With a
// username, every request needs HTTP basic auth with those credentials.
func StartRegistry(t testing.TB, username, password string) *Registry {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if username != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(username)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="dockhand-test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &Registry{Host: ln.Addr().String(), Username: username, Password: password}
}
