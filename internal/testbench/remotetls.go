package testbench

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The tcp bench also serves the engine over TLS on HostIP:2376 (socat with
// OpenSSL, client certificates required), with a CA, a server and a client
// certificate made for the run: the files a Docker context or
// DOCKER_CERT_PATH names (ca.pem, cert.pem, key.pem) are in TLSDir.

// TLSHost is the engine's TLS endpoint (tcp://HostIP:2376) of a tcp bench.
func (b *RemoteBench) TLSHost() string { return "tcp://" + b.HostIP + ":2376" }

// RemoteTLSDir is, in a child of a tcp bench, the directory holding the
// client's ca.pem, cert.pem and key.pem for TLSHost.
func RemoteTLSDir() string { return os.Getenv("DOCKHAND_REMOTE_TLS_DIR") }

// RemoteTLSHost is, in a child of a tcp bench, the engine's TLS endpoint.
func RemoteTLSHost() string { return os.Getenv("DOCKHAND_REMOTE_TLS_HOST") }

type pemPair struct{ cert, key []byte }

func makeCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, pemPair{}, err
	}
	return cert, key, pemPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}, nil
}

// tlsEndpoint makes the certificates and starts socat with TLS on 2376.
func (b *RemoteBench) tlsEndpoint(sock string) error {
	ca, caKey, caPEM, err := makeCert(nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "dockhand bench CA"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	if err != nil {
		return err
	}
	_, _, server, err := makeCert(ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: b.HostIP},
		IPAddresses: []net.IP{net.ParseIP(b.HostIP)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return err
	}
	_, _, client, err := makeCert(ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "dockhand bench client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return err
	}
	srv, cli := filepath.Join(b.dir, "tls-server"), filepath.Join(b.dir, "tls-client")
	for dir, files := range map[string]map[string][]byte{
		srv: {"ca.pem": caPEM.cert, "cert.pem": server.cert, "key.pem": server.key},
		cli: {"ca.pem": caPEM.cert, "cert.pem": client.cert, "key.pem": client.key},
	} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				return err
			}
		}
	}
	listen := fmt.Sprintf("OPENSSL-LISTEN:2376,bind=%s,range=%s/32,reuseaddr,fork,cert=%s,key=%s,cafile=%s,verify=1", b.HostIP, b.ClientIP,
		filepath.Join(srv, "cert.pem"), filepath.Join(srv, "key.pem"), filepath.Join(srv, "ca.pem"))
	if err := b.start("socat", listen, "UNIX-CONNECT:"+sock); err != nil {
		return err
	}
	if err := waitListen(b.HostIP + ":2376"); err != nil {
		return err
	}
	b.env = append(b.env, "DOCKHAND_REMOTE_TLS_DIR="+cli, "DOCKHAND_REMOTE_TLS_HOST="+b.TLSHost())
	return nil
}
