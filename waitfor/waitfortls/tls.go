// Package waitfortls links crypto/tls into waitfor, so that https conditions
// work. Import it for its side effect:
//
//	import _ "github.com/dockhand/dockhand/waitfor/waitfortls"
//
// It is separate because crypto/tls adds about 2.5 MB to a static binary,
// which the waitfor entrypoint binary avoids by default.
package waitfortls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"

	"github.com/dockhand/dockhand/waitfor"
)

func init() { waitfor.RegisterTLS(Client) }

// Client performs a TLS handshake on conn with the given options. Files are
// read at every call: certificates written by another container while we
// wait are picked up.
func Client(ctx context.Context, conn net.Conn, opts waitfor.TLSOptions) (net.Conn, error) {
	cfg, err := Config(opts)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// Config builds the tls.Config for opts.
func Config(opts waitfor.TLSOptions) (*tls.Config, error) {
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
			return nil, waitfor.Permanent(errors.New("tls: a client certificate needs both CertFile and KeyFile"))
		}
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
