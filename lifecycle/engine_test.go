package lifecycle_test

// Engine connection tests against the real engine: TLS through an in-test
// TLS front that proxies to the engine's unix socket, Docker contexts in a
// store laid out as the docker CLI writes it (checked against the CLI
// itself), and API version pinning and negotiation.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engineSocket is the real engine the proxies forward to.
const engineSocket = "/var/run/docker.sock"

// requireEngineSocket skips (fails under CI) when the engine's socket is absent.
func requireEngineSocket(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(engineSocket); err != nil {
		testbench.Unavailable(t, "no engine socket at %s: %v", engineSocket, err)
	}
}

// unsetenv removes k from the environment for the rest of the test and
// restores it afterwards (t.Setenv registers the restore).
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	require.NoError(t, os.Unsetenv(k))
}

// ---- certificates ----

type keyPair struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

var serial atomic.Int64

// newCert makes a certificate signed by parent (self-signed when parent is nil).
func newCert(t *testing.T, parent *keyPair, tmpl *x509.Certificate) *keyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = big.NewInt(serial.Add(1) + time.Now().UnixNano())
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return &keyPair{
		cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
}

func newCA(t *testing.T, name string) *keyPair {
	return newCert(t, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
}

func newClientCert(t *testing.T, ca *keyPair, name string) *keyPair {
	return newCert(t, ca, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// writeCertDir writes ca.pem, cert.pem and key.pem as DOCKER_CERT_PATH holds them.
func writeCertDir(t *testing.T, ca, client *keyPair) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca.certPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), client.certPEM, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), client.keyPEM, 0o600))
	return dir
}

// ---- proxies ----

// proxy forwards every accepted connection byte for byte to the engine's
// socket and counts what it saw.
type proxy struct {
	ln       net.Listener
	accepted atomic.Int64 // connections that reached the engine
	refused  atomic.Int64 // TLS handshakes that failed
	lastErr  atomic.Value // string: the last handshake error
	wg       sync.WaitGroup
	mu       sync.Mutex
	open     map[net.Conn]bool
}

// track records conn as open (or, with open false, as closed); it
// returns false once the proxy is shutting down.
func (p *proxy) track(conn net.Conn, open bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		return false
	}
	if open {
		p.open[conn] = true
	} else {
		delete(p.open, conn)
	}
	return true
}

// startProxy serves on ln until the test ends.
func startProxy(t *testing.T, ln net.Listener) *proxy {
	t.Helper()
	p := &proxy{ln: ln, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		// Close what clients left open (idle keep-alive connections).
		p.mu.Lock()
		for conn := range p.open {
			_ = conn.Close()
		}
		p.open = nil
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) serve(conn net.Conn) {
	defer conn.Close()
	if !p.track(conn, true) {
		return
	}
	defer p.track(conn, false)
	if tc, ok := conn.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			p.refused.Add(1)
			p.lastErr.Store(err.Error())
			return
		}
	}
	engine, err := net.Dial("unix", engineSocket)
	if err != nil {
		return
	}
	defer engine.Close()
	p.accepted.Add(1)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Pass the half-close on (hijacked attach/exec streams rely on it);
		// if dst cannot half-close, close it whole.
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
		done <- struct{}{}
	}
	go pipe(engine, conn)
	go pipe(conn, engine)
	<-done
	<-done
}

// tlsFront is a TLS listener on 127.0.0.1 that requires a client
// certificate signed by its CA, in front of the real engine.
type tlsFront struct {
	*proxy
	addr   string // 127.0.0.1:PORT
	ca     *keyPair
	client *keyPair // a client certificate the front accepts
}

func startTLSFront(t *testing.T) *tlsFront {
	t.Helper()
	requireEngineSocket(t)
	ca := newCA(t, "dockhand test CA")
	server := newCert(t, ca, &x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	serverPair, err := tls.X509KeyPair(server.certPEM, server.keyPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverPair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	require.NoError(t, err)
	return &tlsFront{proxy: startProxy(t, ln), addr: ln.Addr().String(), ca: ca, client: newClientCert(t, ca, "dockhand test client")}
}

// startUnixProxy listens on a fresh unix socket and forwards to the engine.
func startUnixProxy(t *testing.T) (*proxy, string) {
	t.Helper()
	requireEngineSocket(t)
	// Unix socket paths are limited to ~108 bytes: keep it short.
	dir, err := os.MkdirTemp("", "dh-sock")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "engine.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	return startProxy(t, ln), sock
}

// ---- TLS ----

// newChecked connects with lifecycle.New (a failure fails the test, never
// skips it) and fails the test if the client's session leaves anything.
func newChecked(t *testing.T, ctx context.Context, opts ...lifecycle.ClientOption) *lifecycle.Client {
	t.Helper()
	c, err := lifecycle.New(ctx, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { testbench.NoLeaks(t, c) })
	return c
}

// runThrough runs, execs in and removes a busybox container with c, which
// is connected through a proxy.
func runThrough(t *testing.T, ctx context.Context, c *lifecycle.Client, img string) {
	t.Helper()
	ctr, err := c.Run(ctx, img, lifecycle.WithCmd("sleep", "60"), lifecycle.WithPull(lifecycle.PullNever))
	require.NoError(t, err)
	defer ctr.Remove(context.Background(), lifecycle.WithForce())
	// A hijacked stream (exec attach) through the proxy, with stdin half-closed.
	res, err := ctr.Exec(ctx, []string{"sh", "-c", "read l; echo got $l"}, lifecycle.WithStdin(strings.NewReader("via-proxy\n")))
	require.NoError(t, err)
	assert.Equal(t, "got via-proxy\n", string(res.Stdout))
	require.NoError(t, ctr.Remove(ctx, lifecycle.WithForce()))
	_, err = ctr.State(ctx)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
}

func TestTLSFromEnvironment(t *testing.T) {
	front := startTLSFront(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, testbench.Client(t))

	t.Setenv("DOCKER_HOST", "tcp://"+front.addr)
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", writeCertDir(t, front.ca, front.client))
	unsetenv(t, "DOCKER_CONTEXT")

	c := newChecked(t, ctx)
	assert.Equal(t, "tcp://"+front.addr, c.Host())
	runThrough(t, ctx, c, img)
	assert.Positive(t, front.accepted.Load(), "the client went through the TLS front")
	assert.Zero(t, front.refused.Load(), "no handshake failed")
}

func TestTLSUntrustedClientCertRefused(t *testing.T) {
	front := startTLSFront(t)
	ctx := ctxFor(t, time.Minute)
	// The client trusts the front's CA, but holds a certificate the front
	// does not: signed by another CA that claims the same name, so the TLS
	// client does present it and the front's verification refuses it.
	other := newCA(t, front.ca.cert.Subject.CommonName)
	t.Setenv("DOCKER_HOST", "tcp://"+front.addr)
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", writeCertDir(t, front.ca, newClientCert(t, other, "intruder")))
	unsetenv(t, "DOCKER_CONTEXT")

	c, err := lifecycle.New(ctx)
	if c != nil {
		_ = c.Close()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), front.addr, "the error names the engine address")
	assert.ErrorIs(t, err, lifecycle.ErrUnauthorized, "a refused certificate is not an engine that is down: %v", err)
	assert.Zero(t, front.accepted.Load(), "nothing reached the engine")
	// The client may hear the alert before the front's goroutine records it.
	require.Eventually(t, func() bool { return front.refused.Load() == 1 }, 5*time.Second, 5*time.Millisecond,
		"the front refused the handshake")
	msg, _ := front.lastErr.Load().(string)
	assert.Contains(t, msg, "certificate signed by unknown authority", "the front verified and refused the presented certificate")
	t.Logf("front: %s; client: %v", msg, err)

	// A self-signed certificate (which the TLS client does not even
	// present, as no acceptable CA signed it) fares no better through WithTLS.
	dir := writeCertDir(t, front.ca, newCA(t, "self-signed"))
	_, err = lifecycle.New(ctx, lifecycle.WithDockerHost("tcp://"+front.addr),
		lifecycle.WithTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), front.addr)
	assert.Zero(t, front.accepted.Load())
	require.Eventually(t, func() bool { return front.refused.Load() == 2 }, 5*time.Second, 5*time.Millisecond)
	msg, _ = front.lastErr.Load().(string)
	assert.Contains(t, msg, "didn't provide a certificate")
	t.Logf("front: %s; client: %v", msg, err)
}

func TestTLSWithOptions(t *testing.T) {
	front := startTLSFront(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testbench.BusyboxImage(t, testbench.Client(t))
	// The environment points elsewhere: the options win.
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	unsetenv(t, "DOCKER_TLS_VERIFY")
	unsetenv(t, "DOCKER_CERT_PATH")
	dir := writeCertDir(t, front.ca, front.client)

	c := newChecked(t, ctx, lifecycle.WithDockerHost("tcp://"+front.addr),
		lifecycle.WithTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")))
	runThrough(t, ctx, c, img)
	assert.Positive(t, front.accepted.Load())
	assert.Zero(t, front.refused.Load())

	// Without TLS, the front is not an engine.
	_, err := lifecycle.New(ctx, lifecycle.WithDockerHost("tcp://"+front.addr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), front.addr)
}

// ---- Docker contexts ----

// writeContext stores a context named name with a docker endpoint at host,
// laid out as the docker CLI stores it.
func writeContext(t *testing.T, cfgDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(cfgDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	meta := map[string]any{
		"Name":     name,
		"Metadata": map[string]any{},
		"Endpoints": map[string]any{
			"docker": map[string]any{"Host": host, "SkipTLSVerify": false},
		},
	}
	b, err := json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o644))
}

func TestDockerContexts(t *testing.T) {
	p, sock := startUnixProxy(t)
	cfg := t.TempDir()
	writeContext(t, cfg, "x", "unix://"+sock)
	unsetenv(t, "DOCKER_HOST")
	unsetenv(t, "DOCKER_CONTEXT")
	unsetenv(t, "DOCKER_TLS_VERIFY")
	unsetenv(t, "DOCKER_CERT_PATH")

	// through checks that connecting with opts went through the proxy.
	through := func(t *testing.T, opts ...lifecycle.ClientOption) {
		t.Helper()
		ctx := ctxFor(t, 30*time.Second)
		before := p.accepted.Load()
		c := newChecked(t, ctx, append([]lifecycle.ClientOption{lifecycle.WithConfigDir(cfg)}, opts...)...)
		assert.Equal(t, "unix://"+sock, c.Host())
		_, err := c.Containers(ctx)
		require.NoError(t, err)
		assert.Greater(t, p.accepted.Load(), before, "connections through the context's endpoint")
	}

	t.Run("DOCKER_CONTEXT", func(t *testing.T) {
		t.Setenv("DOCKER_CONTEXT", "x")
		through(t)
	})
	t.Run("currentContext in config.json", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"x"}`), 0o600))
		defer os.Remove(filepath.Join(cfg, "config.json"))
		through(t)
	})
	t.Run("WithDockerContext", func(t *testing.T) {
		// An explicit context wins over DOCKER_HOST, as `docker --context` does.
		t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
		through(t, lifecycle.WithDockerContext("x"))
	})
	t.Run("DOCKER_HOST wins over DOCKER_CONTEXT", func(t *testing.T) {
		// As with the CLI: DOCKER_HOST beats DOCKER_CONTEXT and config.json.
		t.Setenv("DOCKER_CONTEXT", "x")
		t.Setenv("DOCKER_HOST", "unix://"+engineSocket)
		ctx := ctxFor(t, 30*time.Second)
		before := p.accepted.Load()
		c := newChecked(t, ctx, lifecycle.WithConfigDir(cfg))
		assert.Equal(t, "unix://"+engineSocket, c.Host())
		assert.Equal(t, before, p.accepted.Load())
	})
	t.Run("unknown context", func(t *testing.T) {
		ctx := ctxFor(t, 30*time.Second)
		t.Setenv("DOCKER_CONTEXT", "no-such-ctx")
		_, err := lifecycle.New(ctx, lifecycle.WithConfigDir(cfg))
		require.Error(t, err)
		assert.ErrorIs(t, err, lifecycle.ErrNotFound)
		assert.Contains(t, err.Error(), `"no-such-ctx"`)
		unsetenv(t, "DOCKER_CONTEXT")
		_, err = lifecycle.New(ctx, lifecycle.WithConfigDir(cfg), lifecycle.WithDockerContext("other-missing"))
		require.Error(t, err)
		assert.ErrorIs(t, err, lifecycle.ErrNotFound)
		assert.Contains(t, err.Error(), `"other-missing"`)
	})
	t.Run("the docker CLI reads our store", func(t *testing.T) {
		docker, err := exec.LookPath("docker")
		if err != nil {
			testbench.Unavailable(t, "no docker CLI: %v", err)
		}
		ctx := ctxFor(t, 30*time.Second)
		out, err := exec.CommandContext(ctx, docker, "--config", cfg, "context", "ls",
			"--format", "{{.Name}} {{.DockerEndpoint}}").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, strings.Split(strings.TrimSpace(string(out)), "\n"), "x unix://"+sock, "docker context ls output:\n%s", out)
		// And the CLI, pointed at the context, goes through the same proxy.
		before := p.accepted.Load()
		out, err = exec.CommandContext(ctx, docker, "--config", cfg, "--context", "x",
			"version", "--format", "{{.Server.APIVersion}}").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Greater(t, p.accepted.Load(), before)
	})
}

// ---- API version ----

func TestAPIVersion(t *testing.T) {
	ctx := ctxFor(t, 30*time.Second)
	probe := testbench.Client(t)
	sv, err := probe.API().ServerVersion(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, sv.APIVersion)

	t.Run("DOCKER_API_VERSION pins", func(t *testing.T) {
		for _, v := range []string{"1.41", "1.40"} {
			t.Setenv("DOCKER_API_VERSION", v)
			c := newChecked(t, ctx)
			assert.Equal(t, v, c.APIVersion())
			// Requests really use it: the engine answers on /v1.40/... too.
			_, err := c.Containers(ctx)
			require.NoError(t, err)
		}
	})
	t.Run("WithAPIVersion pins", func(t *testing.T) {
		unsetenv(t, "DOCKER_API_VERSION")
		c := newChecked(t, ctx, lifecycle.WithAPIVersion("1.40"))
		assert.Equal(t, "1.40", c.APIVersion())
	})
	t.Run("negotiated", func(t *testing.T) {
		unsetenv(t, "DOCKER_API_VERSION")
		c := newChecked(t, ctx)
		v := c.APIVersion()
		require.NotEmpty(t, v)
		assert.True(t, versions.LessThanOrEqualTo(v, sv.APIVersion), "negotiated %s must not exceed the engine's %s", v, sv.APIVersion)
		if sv.APIVersion == "1.41" {
			assert.Equal(t, "1.41", v, "the SDK is newer than the engine, so the engine's version is taken")
		}
	})
}
