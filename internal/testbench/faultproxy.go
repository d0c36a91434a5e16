package testbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Action is what a FaultProxy rule does to a call it fires on.
type Action int

const (
	// Fail500 answers 500 Internal Server Error with the engine's JSON
	// error body {"message": Rule.Message}; the engine never sees the call.
	Fail500 Action = iota + 1
	// DropBeforeHeader closes the client's connection without an answer;
	// the engine never sees the call.
	DropBeforeHeader
	// DropAfterHeader forwards the call, sends the engine's response
	// header, then closes the connection before any of the body.
	DropAfterHeader
	// CutStream forwards the call and Rule.AfterBytes bytes of the
	// response body (or, when AfterBytes is 0, whatever comes within
	// Rule.After), then closes the connection mid-stream.
	CutStream
	// Delay holds the call for Rule.After before forwarding it.
	Delay
)

func (a Action) String() string {
	switch a {
	case Fail500:
		return "500"
	case DropBeforeHeader:
		return "drop before header"
	case DropAfterHeader:
		return "drop after header"
	case CutStream:
		return "cut stream"
	case Delay:
		return "delay"
	}
	return "none"
}

// Rule says which calls a FaultProxy disturbs, and how. A call matches a
// rule when its method and path match; among the calls that match, the
// rule fires on the Nth one only (Nth > 0), on the first First ones
// (First > 0), or on every one (both 0). Every rule counts the calls that
// match it; the first rule (in the order injected) that fires on a call
// acts on it. On an upgraded call (attach, exec start) only Fail500,
// DropBeforeHeader and Delay act; the others let it through.
type Rule struct {
	Method string // "GET", "POST", ...; "" matches any
	// Path is matched against the request path with the API version
	// prefix (/v1.41) removed: "*" matches within one path segment, "**"
	// across segments ("/containers/*/json", "/images/**"). "" matches any.
	Path  string
	Nth   int
	First int

	Action     Action
	Message    string        // Fail500: the error message (default "injected fault")
	AfterBytes int           // CutStream: body bytes forwarded before the cut
	After      time.Duration // CutStream (AfterBytes 0): time before the cut; Delay: the delay
}

// Call is one request the proxy received.
type Call struct {
	Method string
	Path   string // without the API version prefix
	Fault  Action // the fault injected into it; 0 for none
	Status int    // the status sent to the client; 0 when none was
}

// FaultProxy is an HTTP proxy on 127.0.0.1 in front of the engine's unix
// socket that injects faults into the calls that match its rules. A client
// reaches it with lifecycle.WithDockerHost(p.Host()). Upgraded connections
// (attach, exec start) are piped as raw bytes in both directions.
type FaultProxy struct {
	ln   net.Listener
	srv  *http.Server
	sock string
	tr   *http.Transport

	mu       sync.Mutex
	rules    []*ruleState
	calls    []Call
	injected int
	raw      map[net.Conn]struct{} // hijacked connections, closed by Close
	closed   bool
	pipes    sync.WaitGroup
}

type ruleState struct {
	Rule
	re *regexp.Regexp
	n  int // matching calls so far
}

// NewFaultProxy starts a proxy in front of the engine the environment
// names (DOCKER_HOST when it is unix://, else /var/run/docker.sock) and
// stops it when the test ends. With no unix socket to forward to, the test
// is skipped (failed under CI).
func NewFaultProxy(t testing.TB) *FaultProxy {
	t.Helper()
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		p, ok := strings.CutPrefix(h, "unix://")
		if !ok {
			Unavailable(t, "fault proxy: DOCKER_HOST=%s is not a unix socket", h)
		}
		sock = p
	}
	if _, err := os.Stat(sock); err != nil {
		Unavailable(t, "fault proxy: no engine socket: %v", err)
	}
	p, err := StartFaultProxy(sock)
	if err != nil {
		t.Fatalf("fault proxy: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// StartFaultProxy starts a proxy forwarding to the unix socket at sock.
// Close stops it.
func StartFaultProxy(sock string) (*FaultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{ln: ln, sock: sock, raw: map[net.Conn]struct{}{}}
	p.tr = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 8,
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Host is the address a client uses to reach the engine through the
// proxy: "tcp://127.0.0.1:PORT".
func (p *FaultProxy) Host() string { return "tcp://" + p.ln.Addr().String() }

// Inject adds rules, after those already there. A Path that is not a valid
// pattern panics.
func (p *FaultProxy) Inject(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r, re: globRegexp(r.Path)})
	}
}

// Clear removes every rule: from now on calls pass through untouched.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Calls returns the calls received so far, oldest first.
func (p *FaultProxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count returns how many calls received so far match method ("" for any)
// and the path pattern (as in Rule.Path).
func (p *FaultProxy) Count(method, path string) int {
	re := globRegexp(path)
	n := 0
	for _, c := range p.Calls() {
		if (method == "" || method == c.Method) && re.MatchString(c.Path) {
			n++
		}
	}
	return n
}

// Injected returns how many faults the proxy has injected.
func (p *FaultProxy) Injected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected
}

// Close stops the proxy and closes every connection through it.
func (p *FaultProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.raw {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.srv.Close()
	p.pipes.Wait()
	p.tr.CloseIdleConnections()
	return err
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+(\.[0-9]+)*/`)

// apiPath strips the API version prefix: /v1.41/containers/json -> /containers/json.
func apiPath(p string) string {
	if loc := versionPrefix.FindStringIndex(p); loc != nil {
		return p[loc[1]-1:]
	}
	return p
}

// globRegexp compiles a path pattern: "*" within a segment, "**" across.
func globRegexp(pattern string) *regexp.Regexp {
	if pattern == "" {
		return regexp.MustCompile(`^`)
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i += 2
		case pattern[i] == '*':
			b.WriteString("[^/]*")
			i++
		default:
			j := i
			for j < len(pattern) && pattern[j] != '*' {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i:j]))
			i = j
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// match counts the call against every rule and returns the rule that
// fires on it, if any, recording the call. The returned index locates the
// call's record for setStatus.
func (p *FaultProxy) match(method, path string) (*Rule, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var fired *Rule
	for _, r := range p.rules {
		if (r.Method != "" && r.Method != method) || !r.re.MatchString(path) {
			continue
		}
		r.n++
		fires := (r.Nth > 0 && r.n == r.Nth) || (r.First > 0 && r.n <= r.First) || (r.Nth == 0 && r.First == 0)
		if fires && fired == nil {
			rule := r.Rule
			fired = &rule
		}
	}
	c := Call{Method: method, Path: path}
	if fired != nil {
		c.Fault = fired.Action
		p.injected++
	}
	p.calls = append(p.calls, c)
	return fired, len(p.calls) - 1
}

func (p *FaultProxy) setStatus(i, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[i].Status = status
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	path := apiPath(r.URL.Path)
	rule, idx := p.match(r.Method, path)
	action := Action(0)
	if rule != nil {
		action = rule.Action
	}
	switch action {
	case Fail500:
		msg := rule.Message
		if msg == "" {
			msg = "injected fault"
		}
		body, _ := json.Marshal(map[string]string{"message": msg})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(append(body, '\n'))
		p.setStatus(idx, http.StatusInternalServerError)
		return
	case DropBeforeHeader:
		p.drop(w)
		return
	case Delay:
		t := time.NewTimer(rule.After)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if isUpgrade(r.Header) {
		p.pipeUpgrade(w, r, idx)
		return
	}
	p.forward(w, r, idx, rule)
}

// drop closes the client's connection at once.
func (p *FaultProxy) drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without an answer
}

func (p *FaultProxy) forward(w http.ResponseWriter, r *http.Request, idx int, rule *Rule) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = "http"
	out.URL.Host = "docker"
	out.Host = "docker"
	if r.ContentLength == 0 {
		out.Body = nil
	}
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"message":%q}`, "fault proxy: "+err.Error()), http.StatusBadGateway)
		p.setStatus(idx, http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	p.setStatus(idx, resp.StatusCode)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	if rule != nil && rule.Action == DropAfterHeader {
		p.drop(w)
		return
	}
	limit := -1
	if rule != nil && rule.Action == CutStream {
		if rule.AfterBytes > 0 {
			limit = rule.AfterBytes
		} else {
			// Cut on time: closing the engine's body ends the read below.
			t := time.AfterFunc(rule.After, func() { _ = resp.Body.Close() })
			defer t.Stop()
			limit = 1 << 62
		}
	}
	buf := make([]byte, 32<<10)
	for {
		chunk := buf
		if limit >= 0 && limit < len(chunk) {
			chunk = chunk[:limit]
		}
		if limit == 0 {
			break
		}
		n, err := resp.Body.Read(chunk)
		if n > 0 {
			if _, werr := w.Write(chunk[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			if limit >= 0 {
				limit -= n
			}
		}
		if err != nil {
			if limit < 0 {
				return // the engine's body ended (or the client went away)
			}
			break
		}
	}
	p.drop(w) // CutStream: mid-stream
}

func isUpgrade(h http.Header) bool {
	for _, v := range h.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// pipeUpgrade forwards an upgraded call (attach, exec start): it sends the
// request to the engine on a connection of its own and then pipes raw
// bytes both ways, passing on half-closes (stdin at EOF).
func (p *FaultProxy) pipeUpgrade(w http.ResponseWriter, r *http.Request, idx int) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	up, err := net.Dial("unix", p.sock)
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"message":%q}`, "fault proxy: "+err.Error()), http.StatusBadGateway)
		p.setStatus(idx, http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if !p.track(conn, up) { // counts the pipe in p.pipes
		return
	}
	p.setStatus(idx, http.StatusSwitchingProtocols)
	out := r.Clone(context.Background())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.TransferEncoding = nil
	if err := out.Write(up); err != nil {
		p.untrack(conn, up)
		p.pipes.Done()
		return
	}
	done := make(chan struct{}, 2)
	go func() { // client -> engine
		_, _ = io.Copy(up, brw.Reader)
		closeWrite(up)
		done <- struct{}{}
	}()
	go func() { // engine -> client
		_, _ = io.Copy(conn, up)
		closeWrite(conn)
		done <- struct{}{}
	}()
	go func() {
		defer p.pipes.Done()
		<-done
		<-done
		p.untrack(conn, up)
	}()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// track registers the raw connections of one pipe for Close, and the pipe
// in p.pipes (under p.mu, so never after Close began waiting); false
// (closing them) if the proxy is already closed.
func (p *FaultProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.raw[c] = struct{}{}
	}
	p.pipes.Add(1)
	return true
}

func (p *FaultProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.raw, c)
	}
}
