package waitfor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/waitfor"
)

func TestHTTPStatusRanges(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/warming":
			if hits.Add(1) < 3 {
				http.Error(w, "warming up", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	var attempts int
	w := waitfor.Waiter{Timeout: 5 * time.Second, OnAttempt: func(a waitfor.Attempt) {
		attempts = a.N
		if a.Err != nil {
			assert.Equal(t, "status 503, want 2xx", a.Err.Error())
		}
	}}
	require.NoError(t, w.Wait(ctx, waitfor.HTTP(srv.URL+"/warming")))
	assert.Equal(t, 3, attempts)

	for _, tc := range []struct {
		path, status string
		ready        bool
	}{
		{"/redirect", "", false},
		{"/redirect", "3xx", true},
		{"/redirect", "302", true},
		{"/redirect", "200-299,301", false},
		{"/redirect", "200-399", true},
		{"/missing", "", false},
		{"/missing", "404", true},
		{"/missing", "200,4xx", true},
	} {
		h := waitfor.HTTP(srv.URL + tc.path)
		h.Status = tc.status
		err := h.Check(ctx)
		if tc.ready {
			assert.NoError(t, err, "%s %s", tc.path, tc.status)
		} else {
			assert.Error(t, err, "%s %s", tc.path, tc.status)
		}
	}

	h := waitfor.HTTP(srv.URL)
	h.Status = "2xy"
	err := h.Check(ctx)
	assert.True(t, waitfor.IsPermanent(err))
	assert.Contains(t, err.Error(), `invalid HTTP status "2xy"`)
	assert.Error(t, h.Validate())
}

func TestHTTPBodyMethodHeadersAuth(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if r.Method != http.MethodPost || r.Header.Get("X-Probe") != "yes" || user != "admin" || pass != "s3cret" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !ready.Load() {
			_, _ = w.Write([]byte(`{"status":"starting"}`))
			return
		}
		// Flushing forces a chunked body.
		_, _ = w.Write([]byte(`{"status":`))
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte(`"UP","checks":[]}`))
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://admin:s3cret@", 1)

	h := waitfor.HTTP(u + "/health")
	h.Method = "POST"
	h.Header = map[string]string{"X-Probe": "yes"}
	h.BodyRegexp = regexp.MustCompile(`"status"\s*:\s*"UP"`)
	assert.NotContains(t, h.String(), "s3cret")
	assert.Contains(t, h.String(), "admin:xxxxx@")

	err := h.Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "body does not match")
	assert.NotContains(t, err.Error(), "s3cret")

	time.AfterFunc(30*time.Millisecond, func() { ready.Store(true) })
	require.NoError(t, (&waitfor.Waiter{Timeout: 5 * time.Second}).Wait(context.Background(), h))

	h2 := *h
	h2.BodyRegexp = nil
	h2.BodyContains = `"checks":[]`
	require.NoError(t, h2.Check(context.Background()))
	h2.BodyContains = "DOWN"
	require.Error(t, h2.Check(context.Background()))
}

// pki is a throw-away CA with a server and a client certificate.
type pki struct {
	caFile, certFile, keyFile string
	server                    tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "waitfor test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		require.NoError(t, err)
		return der, k
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth)
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth)
	cliKeyDER, err := x509.MarshalECPrivateKey(cliKey)
	require.NoError(t, err)

	p := pki{
		caFile:   writePEM("ca.pem", "CERTIFICATE", caDER),
		certFile: writePEM("client.pem", "CERTIFICATE", cliDER),
		keyFile:  writePEM("client-key.pem", "EC PRIVATE KEY", cliKeyDER),
		server:   tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey},
		pool:     x509.NewCertPool(),
	}
	p.pool.AddCert(caCert)
	return p
}

func TestHTTPSWithCAFileAndClientCert(t *testing.T) {
	p := newPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	h := waitfor.HTTP(srv.URL)
	h.BodyContains = "hello localhost"
	err := h.Check(ctx)
	require.Error(t, err, "the server certificate is signed by an unknown CA")
	assert.False(t, waitfor.IsPermanent(err))

	h.CAFile = p.caFile
	require.Error(t, h.Check(ctx), "no client certificate")

	h.CertFile, h.KeyFile = p.certFile, p.keyFile
	require.NoError(t, h.Check(ctx))

	// By name, with the CA file.
	h.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	require.NoError(t, h.Check(ctx))

	// Skip-verify without the CA file.
	h.CAFile = ""
	h.InsecureSkipVerify = true
	require.NoError(t, h.Check(ctx))

	h.KeyFile = ""
	assert.True(t, waitfor.IsPermanent(h.Check(ctx)))

	c, err := waitfor.ParseTarget(srv.URL + "/x")
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/x", c.String())
}

func TestHTTPSWithoutTLSLinkedIn(t *testing.T) {
	waitfor.RegisterTLS(nil)
	defer waitfor.RegisterTLS(waitfor.StdTLSClient)
	assert.False(t, waitfor.TLSAvailable())

	h := waitfor.HTTP("https://127.0.0.1:1/")
	err := h.Check(context.Background())
	assert.True(t, waitfor.IsPermanent(err))
	assert.Contains(t, err.Error(), "waitfor_notls")
	_, err = waitfor.ParseTarget("https://db/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `invalid target "https://db/"`)
}

func TestHTTPNotAnHTTPServer(t *testing.T) {
	addr := listen(t, func(_ int, c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH\r\n")) })
	err := waitfor.HTTP("http://" + addr).Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not an HTTP response")

	eof := listen(t, func(int, net.Conn) {})
	err = waitfor.HTTP("http://" + eof).Check(context.Background())
	require.Error(t, err)
	assert.False(t, waitfor.IsPermanent(err))
}
