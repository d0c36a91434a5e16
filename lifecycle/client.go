package lifecycle

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/docker/client"

	"github.com/dockhand/dockhand/internal/redact"
)

// DefaultHost is the engine address used when neither DOCKER_HOST nor a
// Docker context names another one.
const DefaultHost = client.DefaultDockerHost

// Client talks to one Docker engine. It is safe for concurrent use by many
// goroutines. Every resource it creates carries its session labels, so
// Cleanup can remove exactly what this Client made.
type Client struct {
	api     *client.Client
	host    string // hostname of this process (label)
	pid     int
	session string
	id      string // random id of this Client (LabelClient)
	persist bool   // WithPersistentSession
	labels  map[string]string
	logger  *slog.Logger
	addr    string // engine address, for error messages
	cfgDir  string
}

// ClientOption configures New.
type ClientOption func(*clientConfig) error

type clientConfig struct {
	host                   string
	tlsCA, tlsCert, tlsKey string
	tlsVerifySet           bool
	apiVersion             string
	dockerContext          string
	configDir              string
	session                string
	persistent             bool
	labels                 map[string]string
	logger                 *slog.Logger
	attempts               int // WithRetry
	extra                  []client.Opt
}

// WithDockerHost connects to the engine at host, as DOCKER_HOST does (unix:///var/run/docker.sock,
// tcp://10.0.0.5:2376, ...) instead of the one the environment names.
func WithDockerHost(host string) ClientOption {
	return func(c *clientConfig) error {
		if host == "" {
			return invalidf("invalid engine host %q: want unix:///path or tcp://host:port", host)
		}
		c.host = host
		return nil
	}
}

// WithTLS connects with TLS, verifying the engine with the CA file and
// presenting the client certificate and key (the files DOCKER_CERT_PATH
// holds as ca.pem, cert.pem and key.pem).
func WithTLS(caFile, certFile, keyFile string) ClientOption {
	return func(c *clientConfig) error {
		c.tlsCA, c.tlsCert, c.tlsKey, c.tlsVerifySet = caFile, certFile, keyFile, true
		return nil
	}
}

// WithAPIVersion pins the engine API version instead of negotiating it.
func WithAPIVersion(v string) ClientOption {
	return func(c *clientConfig) error { c.apiVersion = v; return nil }
}

// WithDockerContext uses the named Docker context (as `docker --context`).
func WithDockerContext(name string) ClientOption {
	return func(c *clientConfig) error { c.dockerContext = name; return nil }
}

// WithConfigDir reads the Docker CLI configuration (credentials, current
// context) from dir instead of DOCKER_CONFIG or ~/.docker.
func WithConfigDir(dir string) ClientOption {
	return func(c *clientConfig) error { c.configDir = dir; return nil }
}

// WithSession sets the session id recorded in the labels of everything
// the client creates (by default a random id per Client).
func WithSession(id string) ClientOption {
	return func(c *clientConfig) error {
		if id == "" {
			return invalidf("invalid session id %q: want a non-empty string", id)
		}
		c.session = id
		return nil
	}
}

// WithPersistentSession marks what the client creates as meant to outlive
// this process — a development stack started by a command that then exits,
// an example run with -keep: its resources carry no owner pid, so Sweep
// never removes them. Cleanup still removes them (with the same WithSession
// id from a later process, too).
func WithPersistentSession() ClientOption {
	return func(c *clientConfig) error { c.persistent = true; return nil }
}

// WithClientLabels adds labels to every resource the client creates.
func WithClientLabels(labels map[string]string) ClientOption {
	return func(c *clientConfig) error { c.labels = labels; return nil }
}

// WithLogger sends the client's logs to l (default: slog.Default()).
func WithLogger(l *slog.Logger) ClientOption {
	return func(c *clientConfig) error { c.logger = l; return nil }
}

// WithSDKOptions passes options through to the Docker SDK's client.
func WithSDKOptions(opts ...client.Opt) ClientOption {
	return func(c *clientConfig) error { c.extra = append(c.extra, opts...); return nil }
}

// New connects to the engine named by the options or, by default, by the
// environment as the docker CLI reads it: DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH, DOCKER_API_VERSION, DOCKER_CONTEXT and the current
// context of the CLI configuration. It pings the engine and negotiates the
// API version, so an unreachable engine is reported here, naming the
// address that was tried. Idempotent reads that fail on their connection
// or with a 5xx answer are retried (see WithRetry); an option from
// WithSDKOptions that replaces the SDK's HTTP client turns that off.
func New(ctx context.Context, opts ...ClientOption) (*Client, error) {
	cfg := clientConfig{}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	ep, err := resolveEndpoint(&cfg)
	if err != nil {
		return nil, err
	}
	// Our own http.Client, so that its transport can be wrapped below:
	// the SDK keeps this pointer and sends every call through it.
	hc := &http.Client{Transport: &http.Transport{}, CheckRedirect: client.CheckRedirect}
	sdkOpts := []client.Opt{client.WithHTTPClient(hc), client.WithHost(ep.host)}
	if ep.tls {
		sdkOpts = append(sdkOpts, client.WithTLSClientConfig(ep.ca, ep.cert, ep.key))
	}
	if v := firstNonEmpty(cfg.apiVersion, os.Getenv("DOCKER_API_VERSION")); v != "" {
		sdkOpts = append(sdkOpts, client.WithVersion(v))
	} else {
		sdkOpts = append(sdkOpts, client.WithAPIVersionNegotiation())
	}
	sdkOpts = append(sdkOpts, cfg.extra...)
	api, err := client.NewClientWithOpts(sdkOpts...)
	if err != nil {
		return nil, invalidf("engine %s: %v", redact.URL(ep.host), redact.Error(err))
	}
	if cfg.attempts == 0 {
		cfg.attempts = defaultAttempts
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.Default()
	}
	hc.Transport = &retryTransport{next: hc.Transport, attempts: cfg.attempts, backoff: retryBackoff, logger: logger}
	c := &Client{
		api:     api,
		host:    hostname(),
		pid:     os.Getpid(),
		session: firstNonEmpty(cfg.session, newSessionID()),
		id:      newSessionID(),
		persist: cfg.persistent,
		labels:  cfg.labels,
		logger:  logger,
		addr:    redact.URL(ep.host),
		cfgDir:  cfg.configDir,
	}
	ping, err := api.Ping(ctx)
	if err != nil {
		_ = api.Close()
		return nil, c.engineErr(err)
	}
	if cfg.apiVersion == "" && os.Getenv("DOCKER_API_VERSION") == "" {
		api.NegotiateAPIVersionPing(ping) // from the ping above: no second round trip
	}
	c.logger.Debug("connected to engine", "host", redact.URL(ep.host), "api", api.ClientVersion(), "session", c.session)
	return c, nil
}

// engineErr explains a connection failure: which address, and what to do.
func (c *Client) engineErr(err error) error {
	if isTLSRefusal(err) {
		return &classified{
			msg: fmt.Sprintf("the Docker engine at %s refused the TLS handshake (check DOCKER_CERT_PATH: "+
				"ca.pem must sign the engine's certificate, cert.pem/key.pem must be a client certificate it trusts)", c.addr),
			class: ErrUnauthorized, cause: err,
		}
	}
	if client.IsErrConnectionFailed(err) || errors.Is(err, context.DeadlineExceeded) || isDialError(err) {
		return &classified{
			msg: fmt.Sprintf("cannot reach the Docker engine at %s (is dockerd running? "+
				"set DOCKER_HOST or a Docker context to use another engine)", c.addr),
			class: ErrUnavailable, cause: err,
		}
	}
	return wrap(err, "engine %s", c.addr)
}

// isTLSRefusal reports a failed TLS handshake: an untrusted or missing
// certificate on either side.
func isTLSRefusal(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "remote error: tls:") || strings.Contains(s, "tls: failed to verify certificate")
}

func isDialError(err error) bool {
	var op interface{ Timeout() bool }
	return errors.As(err, &op)
}

// Close releases the client's connections. It does not remove anything:
// call Cleanup first for that.
func (c *Client) Close() error { return c.api.Close() }

// API returns the Docker SDK client underneath, for what this package does not wrap.
func (c *Client) API() *client.Client { return c.api }

// bindIP is the host address a published port binds to when its spec
// names none: the one place that decides it (see WithPorts).
func (c *Client) bindIP() string { return "127.0.0.1" }

// Session returns the session id recorded on every resource the client creates.
func (c *Client) Session() string { return c.session }

// Host returns the engine address the client is connected to, with any
// password in it hidden (it is meant for messages).
func (c *Client) Host() string { return c.addr }

// APIVersion returns the negotiated engine API version.
func (c *Client) APIVersion() string { return c.api.ClientVersion() }

type endpoint struct {
	host          string
	tls           bool
	ca, cert, key string
}

func resolveEndpoint(cfg *clientConfig) (endpoint, error) {
	if cfg.host != "" {
		ep := endpoint{host: cfg.host}
		if cfg.tlsVerifySet {
			ep.tls, ep.ca, ep.cert, ep.key = true, cfg.tlsCA, cfg.tlsCert, cfg.tlsKey
		}
		return ep, nil
	}
	// An explicit context wins over DOCKER_HOST, as with `docker --context`.
	if cfg.dockerContext == "" {
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			ep := endpoint{host: h}
			if os.Getenv("DOCKER_TLS_VERIFY") != "" || cfg.tlsVerifySet {
				if cfg.tlsVerifySet {
					ep.ca, ep.cert, ep.key = cfg.tlsCA, cfg.tlsCert, cfg.tlsKey
				} else {
					dir := os.Getenv("DOCKER_CERT_PATH")
					if dir == "" {
						dir = configDir(cfg.configDir)
					}
					ep.ca, ep.cert, ep.key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
				}
				ep.tls = true
			}
			return ep, nil
		}
	}
	name := cfg.dockerContext
	if name == "" {
		name = os.Getenv("DOCKER_CONTEXT")
	}
	if name == "" {
		if f, err := config.Load(configDir(cfg.configDir)); err == nil {
			name = f.CurrentContext
		}
	}
	if name == "" || name == "default" {
		return endpoint{host: DefaultHost}, nil
	}
	return readContext(configDir(cfg.configDir), name)
}

// configDir is where the docker CLI keeps config.json and contexts.
func configDir(dir string) string {
	if dir != "" {
		return dir
	}
	// config.Dir() reads DOCKER_CONFIG once per process; read it each time.
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	return config.Dir()
}

// readContext reads a Docker context as the CLI stores it: metadata under
// contexts/meta/<sha256(name)>/meta.json, TLS material under
// contexts/tls/<sha256(name)>/docker/.
func readContext(dir, name string) (endpoint, error) {
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	f, err := os.Open(filepath.Join(dir, "contexts", "meta", id, "meta.json"))
	if err != nil {
		return endpoint{}, &classified{
			msg:   fmt.Sprintf("docker context %q not found in %s (see `docker context ls`)", name, filepath.Join(dir, "contexts")),
			class: ErrNotFound, cause: err,
		}
	}
	defer f.Close()
	var meta struct {
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&meta); err != nil {
		return endpoint{}, invalidf("docker context %q: malformed meta.json: %v", name, err)
	}
	d, ok := meta.Endpoints["docker"]
	if !ok || d.Host == "" {
		return endpoint{}, invalidf("docker context %q has no docker endpoint", name)
	}
	ep := endpoint{host: d.Host}
	tlsDir := filepath.Join(dir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tlsDir, "cert.pem")); err == nil {
		ep.tls = true
		ep.cert, ep.key = filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")
		if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err == nil && !d.SkipTLSVerify {
			ep.ca = filepath.Join(tlsDir, "ca.pem")
		}
	}
	return ep, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func isConnErr(err error) bool {
	return client.IsErrConnectionFailed(err)
}
