package waitfor

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dockhand/dockhand/internal/redact"
)

// HTTPCondition is ready when an HTTP request gets the expected status (and
// body). It speaks HTTP/1.1 itself (one request per connection, no
// redirects followed, no proxy) to keep binaries small. https needs the
// build without -tags waitfor_notls (see the package documentation).
type HTTPCondition struct {
	URL    string // http:// or https://; user:password@ sends Basic auth
	Method string // default GET
	Header map[string]string
	// Status is the expected status: "200", "2xx", "200-399", "200,204,3xx".
	// Empty means 2xx.
	Status string
	// BodyContains, when set, must be a substring of the response body.
	BodyContains string
	// BodyRegexp, when set, must match the response body.
	BodyRegexp *regexp.Regexp

	// TLS settings for https.
	CAFile             string // PEM file of CAs to trust (in addition to the system's)
	CertFile, KeyFile  string // PEM client certificate and key
	InsecureSkipVerify bool
	ServerName         string // default: the URL host
}

// HTTP returns a condition that is ready when a GET of url answers 2xx.
// Set fields of the result for other methods, statuses, headers and TLS.
func HTTP(url string) *HTTPCondition { return &HTTPCondition{URL: url} }

// String returns the URL with its secrets hidden (internal/redact: the
// userinfo's password, secret query values).
func (h HTTPCondition) String() string { return redact.URL(h.URL) }

// maxBody is how much of a response body is read for matching.
const maxBody = 1 << 20

// Validate reports a bad URL, method or Status. Check returns the same
// errors as Permanent ones.
func (h *HTTPCondition) Validate() error {
	_, err := h.parse()
	return err
}

func (h *HTTPCondition) parse() (*url.URL, error) {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("invalid URL " + strconv.Quote(redact.URL(h.URL)) + ": want http[s]://host[:port]/path")
	}
	if u.Port() != "" {
		if _, err := parsePort(u.Port()); err != nil {
			return nil, errors.New("invalid URL " + strconv.Quote(redact.URL(h.URL)) + ": bad port")
		}
	}
	if h.Method != "" && strings.ContainsAny(h.Method, " \t\r\n") {
		return nil, errors.New("invalid HTTP method " + strconv.Quote(h.Method))
	}
	for k, v := range h.Header {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("invalid HTTP header " + strconv.Quote(k))
		}
	}
	if _, err := parseStatus(h.Status); err != nil {
		return nil, err
	}
	return u, nil
}

// Check sends one request and checks the answer.
func (h *HTTPCondition) Check(ctx context.Context) error {
	u, err := h.parse()
	if err != nil {
		return Permanent(err)
	}
	want, _ := parseStatus(h.Status)
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	upgrade := tlsClient.Load()
	if u.Scheme == "https" && upgrade == nil {
		return Permanent(errors.New("https: TLS support not linked in (this binary was built with -tags waitfor_notls)"))
	}
	conn, err := dial(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	if u.Scheme == "https" {
		serverName := h.ServerName
		if serverName == "" {
			serverName = host
		}
		tconn, err := (*upgrade)(ctx, conn, TLSOptions{
			ServerName: serverName, CAFile: h.CAFile, CertFile: h.CertFile, KeyFile: h.KeyFile,
			InsecureSkipVerify: h.InsecureSkipVerify,
		})
		if err != nil {
			return err
		}
		conn = tconn
	}

	method := h.Method
	if method == "" {
		method = "GET"
	}
	var req strings.Builder
	req.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	hasHeader := func(name string) bool {
		for k := range h.Header {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	if !hasHeader("User-Agent") {
		req.WriteString("User-Agent: dockhand-waitfor\r\n")
	}
	if u.User != nil && !hasHeader("Authorization") {
		pw, _ := u.User.Password()
		req.WriteString("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)) + "\r\n")
	}
	for k, v := range h.Header {
		req.WriteString(k + ": " + v + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return err
	}

	r := bufio.NewReader(conn)
	tp := textproto.NewReader(r)
	var status int
	var header textproto.MIMEHeader
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return readErr("reading status line", err)
		}
		proto, rest, _ := strings.Cut(line, " ")
		code, _, _ := strings.Cut(rest, " ")
		status, err = strconv.Atoi(code)
		if !strings.HasPrefix(proto, "HTTP/") || err != nil || status < 100 || status > 999 {
			return errors.New("not an HTTP response: " + strconv.Quote(truncate(line, 80)))
		}
		header, err = tp.ReadMIMEHeader()
		if err != nil {
			return readErr("reading headers", err)
		}
		if status >= 200 || status == 101 {
			break
		}
		// 1xx interim response: the real one follows.
	}
	if !want.match(status) {
		return errors.New("status " + strconv.Itoa(status) + ", want " + want.String())
	}
	if h.BodyContains == "" && h.BodyRegexp == nil {
		return nil
	}
	body, err := readBody(r, header, method)
	if err != nil {
		return readErr("reading body", err)
	}
	if h.BodyContains != "" && !strings.Contains(string(body), h.BodyContains) {
		return errors.New("status " + strconv.Itoa(status) + " but body does not contain " + strconv.Quote(truncate(h.BodyContains, 80)))
	}
	if h.BodyRegexp != nil && !h.BodyRegexp.Match(body) {
		return errors.New("status " + strconv.Itoa(status) + " but body does not match " + strconv.Quote(truncate(h.BodyRegexp.String(), 80)))
	}
	return nil
}

func readErr(what string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &wrapError{msg: what + ": " + err.Error(), err: err}
}

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

func readBody(r *bufio.Reader, header textproto.MIMEHeader, method string) ([]byte, error) {
	if method == "HEAD" {
		return nil, nil
	}
	if strings.EqualFold(strings.TrimSpace(header.Get("Transfer-Encoding")), "chunked") {
		return readChunked(r)
	}
	if cl := header.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		if err != nil || n < 0 {
			return nil, errors.New("bad Content-Length " + strconv.Quote(truncate(cl, 40)))
		}
		buf := make([]byte, min(n, maxBody))
		_, err = io.ReadFull(r, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(r, maxBody))
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseUint(strings.TrimSpace(line), 16, 63)
		if err != nil {
			return nil, errors.New("bad chunk size")
		}
		if n == 0 {
			return body, nil
		}
		take := min(int(n), maxBody-len(body))
		chunk := make([]byte, take)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, err
		}
		body = append(body, chunk...)
		if len(body) >= maxBody {
			return body, nil
		}
		if _, err := r.Discard(int(n) - take + 2); err != nil { // rest + CRLF
			return nil, err
		}
	}
}

// statusSet is a list of inclusive status ranges.
type statusSet [][2]int

func parseStatus(s string) (statusSet, error) {
	if strings.TrimSpace(s) == "" {
		return statusSet{{200, 299}}, nil
	}
	bad := errors.New("invalid HTTP status " + strconv.Quote(truncate(s, 40)) + `: want a code, a class or a range, such as "200", "2xx", "200-399", "200,204"`)
	var set statusSet
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		switch {
		case len(part) == 3 && part[1:] == "xx" && part[0] >= '1' && part[0] <= '9':
			c := int(part[0]-'0') * 100
			set = append(set, [2]int{c, c + 99})
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			lo, err1 := parseCode(a)
			hi, err2 := parseCode(b)
			if err1 != nil || err2 != nil || lo > hi {
				return nil, bad
			}
			set = append(set, [2]int{lo, hi})
		default:
			c, err := parseCode(part)
			if err != nil {
				return nil, bad
			}
			set = append(set, [2]int{c, c})
		}
	}
	return set, nil
}

func parseCode(s string) (int, error) {
	c, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || c < 100 || c > 999 {
		return 0, errors.New("bad code")
	}
	return c, nil
}

func (s statusSet) match(code int) bool {
	for _, r := range s {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

func (s statusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		switch {
		case r[0] == r[1]:
			parts[i] = strconv.Itoa(r[0])
		case r[0]%100 == 0 && r[1] == r[0]+99:
			parts[i] = strconv.Itoa(r[0]/100) + "xx"
		default:
			parts[i] = strconv.Itoa(r[0]) + "-" + strconv.Itoa(r[1])
		}
	}
	return strings.Join(parts, ",")
}

// TLSOptions are the TLS settings of one https check, passed to the function
// registered with RegisterTLS.
type TLSOptions struct {
	ServerName         string
	CAFile             string
	CertFile, KeyFile  string
	InsecureSkipVerify bool
}

// TLSClientFunc performs a TLS client handshake on conn, bounded by ctx, and
// returns the encrypted connection.
type TLSClientFunc func(ctx context.Context, conn net.Conn, opts TLSOptions) (net.Conn, error)

var tlsClient atomic.Pointer[TLSClientFunc]

// RegisterTLS sets the TLS implementation used for https conditions. The
// standard library's crypto/tls is registered unless the build uses
// -tags waitfor_notls; call this only to provide another implementation.
func RegisterTLS(f TLSClientFunc) {
	if f == nil {
		tlsClient.Store(nil)
		return
	}
	tlsClient.Store(&f)
}

// TLSAvailable reports whether a TLS implementation is registered, so that
// https conditions can work.
func TLSAvailable() bool { return tlsClient.Load() != nil }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
