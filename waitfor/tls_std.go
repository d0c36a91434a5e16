//go:build !waitfor_notls

package waitfor

// The standard library's TLS for https conditions. A build with
// -tags waitfor_notls leaves it out: crypto/tls adds about 2.5 MB to a
// static binary, which the waitfor entrypoint binary (cmd/waitfor) avoids.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
)

func init() { RegisterTLS(stdTLSClient) }

// stdTLSClient performs a TLS handshake on conn with the given options. Files are
// read at every call: certificates written by another container while we
// wait are picked up.
func stdTLSClient(ctx context.Context, conn net.Conn, opts TLSOptions) (net.Conn, error) {
	cfg, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// tlsConfig builds the tls.Config for opts.
func tlsConfig(opts TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         opts.ServerName,
		InsecureSkipVerify: opts.InsecureSkipVerify, //nolint:gosec // asked for explicitly
		MinVersion:         tls.VersionTLS12,
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("tls: no certificate found in CA file " + opts.CAFile)
		}
		cfg.RootCAs = pool
	}
	if opts.CertFile != "" || opts.KeyFile != "" {
		if opts.CertFile == "" || opts.KeyFile == "" {
			return nil, Permanent(errors.New("tls: a client certificate needs both CertFile and KeyFile"))
		}
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
