package testbench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v1.41/containers/json": "/containers/json",
		"/v1/_ping":              "/_ping",
		"/_ping":                 "/_ping",
		"/v1.41":                 "/v1.41",
		"/images/v1.41/json":     "/images/v1.41/json",
	} {
		assert.Equal(t, want, apiPath(in), in)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"", "/anything/at/all", true},
		{"/containers/*/json", "/containers/abc/json", true},
		{"/containers/*/json", "/containers/json", false},
		{"/containers/*/json", "/containers/a/b/json", false},
		{"/images/**/json", "/images/dockhand.test/busybox:1/json", true},
		{"/images/**", "/images/json", true},
		{"/events", "/events", true},
		{"/events", "/eventsx", false},
		{"/containers/*", "/containers/json", true},
		{"/a.b", "/axb", false}, // literal dot
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, globRegexp(tt.pattern).MatchString(tt.path), "%q ~ %q", tt.pattern, tt.path)
	}
}

// fakeEngine serves HTTP on a unix socket: /stream writes "0123456789"
// in ten flushed writes, /attach upgrades and echoes its input in upper
// case until the client half-closes, then writes "bye"; anything else
// answers {"path": path}.
func fakeEngine(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.41/stream":
			w.WriteHeader(http.StatusOK)
			for i := range 10 {
				fmt.Fprint(w, i)
				w.(http.Flusher).Flush()
				time.Sleep(5 * time.Millisecond)
			}
		case "/v1.41/attach":
			body, _ := io.ReadAll(r.Body)
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(brw, "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nbody=%s\n", body)
			_ = brw.Flush()
			in, _ := io.ReadAll(brw.Reader) // until the client's half-close
			fmt.Fprintf(conn, "%s\nbye", strings.ToUpper(string(in)))
		default:
			_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path})
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

func startProxy(t *testing.T) (*FaultProxy, string) {
	t.Helper()
	p, err := StartFaultProxy(fakeEngine(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p, "http://" + strings.TrimPrefix(p.Host(), "tcp://")
}

func get(t *testing.T, url string) (int, string, error) {
	t.Helper()
	// A fresh connection per call: a dropped one must not poison the next.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestFaultProxyOccurrences(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want []int // status of calls 1..5 to GET /v1.41/containers/x/json
	}{
		{"nth", Rule{Method: "GET", Path: "/containers/*/json", Nth: 2, Action: Fail500}, []int{200, 500, 200, 200, 200}},
		{"first", Rule{Path: "/containers/*/json", First: 3, Action: Fail500}, []int{500, 500, 500, 200, 200}},
		{"every", Rule{Path: "/containers/**", Action: Fail500}, []int{500, 500, 500, 500, 500}},
		{"other method", Rule{Method: "POST", Path: "/containers/*/json", Action: Fail500}, []int{200, 200, 200, 200, 200}},
		{"other path", Rule{Path: "/images/*/json", Action: Fail500}, []int{200, 200, 200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, base := startProxy(t)
			p.Inject(tt.rule)
			var got []int
			injected := 0
			for range tt.want {
				code, _, err := get(t, base+"/v1.41/containers/x/json")
				require.NoError(t, err)
				got = append(got, code)
				if code == 500 {
					injected++
				}
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, injected, p.Injected())
			assert.Equal(t, len(tt.want), p.Count("GET", "/containers/x/json"))
			calls := p.Calls()
			require.Len(t, calls, len(tt.want))
			for i, c := range calls {
				assert.Equal(t, got[i], c.Status, "call %d", i+1)
				assert.Equal(t, got[i] == 500, c.Fault == Fail500, "call %d", i+1)
			}
		})
	}
}

func TestFaultProxyFirstFiringRuleActs(t *testing.T) {
	p, base := startProxy(t)
	p.Inject(
		Rule{Path: "/a", Nth: 2, Action: Fail500, Message: "first rule"},
		Rule{Path: "/a", Action: Fail500, Message: "second rule"},
	)
	_, body1, err := get(t, base+"/v1.41/a")
	require.NoError(t, err)
	_, body2, err := get(t, base+"/v1.41/a")
	require.NoError(t, err)
	assert.Contains(t, body1, "second rule")
	assert.Contains(t, body2, "first rule")
	p.Clear()
	code, body, err := get(t, base+"/v1.41/a")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"path":"/v1.41/a"`) // forwarded with its version prefix
}

func TestFaultProxyFail500Body(t *testing.T) {
	p, base := startProxy(t)
	p.Inject(Rule{Path: "/x", Action: Fail500, Message: `disk "full"`}, Rule{Path: "/y", Action: Fail500})
	code, body, err := get(t, base+"/v1.41/x")
	require.NoError(t, err)
	assert.Equal(t, 500, code)
	var m struct{ Message string }
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	assert.Equal(t, `disk "full"`, m.Message)
	_, body, err = get(t, base+"/v1.41/y")
	require.NoError(t, err)
	assert.Contains(t, body, "injected fault")
}

func TestFaultProxyDrops(t *testing.T) {
	p, base := startProxy(t)
	p.Inject(Rule{Path: "/before", Action: DropBeforeHeader}, Rule{Path: "/stream", Action: DropAfterHeader})

	_, _, err := get(t, base+"/v1.41/before")
	require.Error(t, err, "no answer at all")

	code, body, err := get(t, base+"/v1.41/stream")
	assert.Equal(t, 200, code, "the header arrived")
	require.Error(t, err, "the body was cut")
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	assert.Empty(t, body)
	assert.Equal(t, 2, p.Injected())
	assert.Equal(t, []Call{{Method: "GET", Path: "/before", Fault: DropBeforeHeader},
		{Method: "GET", Path: "/stream", Fault: DropAfterHeader, Status: 200}}, p.Calls())
}

func TestFaultProxyCutStream(t *testing.T) {
	p, base := startProxy(t)
	p.Inject(Rule{Path: "/stream", Nth: 1, Action: CutStream, AfterBytes: 4})
	code, body, err := get(t, base+"/v1.41/stream")
	assert.Equal(t, 200, code)
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	assert.Equal(t, "0123", body)

	// The rule fired on the first call only.
	_, body, err = get(t, base+"/v1.41/stream")
	require.NoError(t, err)
	assert.Equal(t, "0123456789", body)

	// Cut on time: the stream takes 10 x 5 ms; cut it after 12 ms.
	p.Inject(Rule{Path: "/stream", Action: CutStream, After: 12 * time.Millisecond})
	_, body, err = get(t, base+"/v1.41/stream")
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	assert.True(t, strings.HasPrefix("0123456789", body) && len(body) < 10, "got %q", body)
}

func TestFaultProxyDelay(t *testing.T) {
	p, base := startProxy(t)
	p.Inject(Rule{Path: "/slow", Action: Delay, After: 150 * time.Millisecond})
	start := time.Now()
	code, body, err := get(t, base+"/v1.41/slow")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "/v1.41/slow")
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond) // a lower bound only
}

func TestFaultProxyUpgrade(t *testing.T) {
	p, base := startProxy(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	req, err := http.NewRequest("POST", base+"/v1.41/attach", strings.NewReader(`{"stream":true}`))
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	require.NoError(t, req.Write(conn))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "body={\"stream\":true}\n", line)

	_, err = conn.Write([]byte("hello, engine"))
	require.NoError(t, err)
	require.NoError(t, conn.(*net.TCPConn).CloseWrite()) // stdin at EOF: the half-close must pass through
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "HELLO, ENGINE\nbye", string(rest), "the engine's answer after the half-close still arrives")
	assert.Equal(t, []Call{{Method: "POST", Path: "/attach", Status: http.StatusSwitchingProtocols}}, p.Calls())
}
