package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/mount"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fakeLookup(ctx context.Context, name string) ([]net.IP, error) {
	switch name {
	case "docker": // a CI job's Docker-in-Docker service
		return []net.IP{net.ParseIP("fd00::5"), net.ParseIP("172.18.0.3")}, nil
	case "box.lan":
		return []net.IP{net.ParseIP("192.168.1.20")}, nil
	case "self":
		return []net.IP{net.ParseIP("127.0.1.1")}, nil
	}
	return nil, errors.New("no such host")
}

// withOwnAddrs makes isOwnAddress see cidrs as this machine's addresses
// for the test (not parallel: a package variable).
func withOwnAddrs(t *testing.T, cidrs ...string) {
	t.Helper()
	var addrs []net.Addr
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		require.NoError(t, err)
		n.IP = ip
		addrs = append(addrs, n)
	}
	old := interfaceAddrs
	interfaceAddrs = func() ([]net.Addr, error) { return addrs, nil }
	t.Cleanup(func() { interfaceAddrs = old })
}

func TestDecideRoute(t *testing.T) {
	cases := []struct {
		host, override string
		want           portRoute
	}{
		{"unix:///var/run/docker.sock", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"npipe:////./pipe/docker_engine", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://127.0.0.1:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://localhost:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://[::1]:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://self:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://10.200.0.1:2375", "", portRoute{routeTCP, "10.200.0.1", "10.200.0.1"}},
		{"tcp://docker:2376", "", portRoute{routeTCP, "172.18.0.3", "172.18.0.3"}}, // IPv4 preferred
		{"https://box.lan:2376", "", portRoute{routeTCP, "192.168.1.20", "192.168.1.20"}},
		{"ssh://dev@box.lan", "", portRoute{routeSSH, "127.0.0.1", ""}},
		{"ssh://dev@box.lan:2222", "", portRoute{routeSSH, "127.0.0.1", ""}},
		// The override wins over every rule: reached there, bound there when it is the engine's.
		{"tcp://10.200.0.1:2375", "203.0.113.7", portRoute{routeOverride, "203.0.113.7", "203.0.113.7"}},
		{"unix:///var/run/docker.sock", "box.lan", portRoute{routeOverride, "192.168.1.20", "box.lan"}},
		{"unix:///var/run/docker.sock", "127.0.0.1", portRoute{routeOverride, "127.0.0.1", "127.0.0.1"}},
		// A loopback override of an ssh:// engine is its remote loopback:
		// reached through the SSH forward, not at this machine's loopback.
		{"ssh://dev@box.lan", "localhost", portRoute{routeSSH, "127.0.0.1", ""}},
		{"ssh://dev@box.lan", "127.0.0.1", portRoute{routeSSH, "127.0.0.1", ""}},
		{"ssh://dev@box.lan", "203.0.113.7", portRoute{routeOverride, "203.0.113.7", "203.0.113.7"}},
		// An unspecified engine address is this machine: never bind all interfaces.
		{"tcp://0.0.0.0:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://[::]:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		// One of this machine's own addresses (see ownAddrs) is a local engine.
		{"tcp://192.0.2.44:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
		{"tcp://[2001:db8::44]:2375", "", portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}},
	}
	withOwnAddrs(t, "192.0.2.44/24", "2001:db8::44/64")
	for _, tc := range cases {
		t.Run(tc.host+"|"+tc.override, func(t *testing.T) {
			got, err := decideRoute(context.Background(), tc.host, tc.override, fakeLookup)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecideRouteBadInput(t *testing.T) {
	cases := []struct{ host, override, want string }{
		{"bogus", "", `invalid engine host "bogus"`},
		{"fd://", "", `unknown scheme "fd"`},
		{"tcp://:2375", "", `no host name`},
		{"tcp://nowhere.invalid:2375", "", `cannot resolve "nowhere.invalid"`},
		{"unix:///var/run/docker.sock", "tcp://10.0.0.1:80", `invalid host override "tcp://10.0.0.1:80"`},
		{"unix:///var/run/docker.sock", "10.0.0.1:80", `invalid host override "10.0.0.1:80"`},
		{"unix:///var/run/docker.sock", "nowhere.invalid", `host override "nowhere.invalid": cannot resolve`},
		{"unix:///var/run/docker.sock", "0.0.0.0", `invalid host override "0.0.0.0": an unspecified address`},
		{"tcp://10.200.0.1:2375", "::", `invalid host override "::": an unspecified address`},
	}
	for _, tc := range cases {
		t.Run(tc.host+"|"+tc.override, func(t *testing.T) {
			_, err := decideRoute(context.Background(), tc.host, tc.override, fakeLookup)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := decideRoute(context.Background(), "bogus", "", fakeLookup)
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = decideRoute(context.Background(), "tcp://nowhere.invalid:2375", "", fakeLookup)
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorIs(t, WithHostOverride("http://x")(&clientConfig{}), ErrInvalid)
	for _, h := range []string{"tcp://dev:s3cr%2Ft@nowhere.invalid:2375", "fd://dev:s3cr%2Ft@x", "ssh://dev:s3cr%2Ft@x"} {
		_, err = decideRoute(context.Background(), h, "", fakeLookup)
		if err == nil {
			_, _, err = newSSHForward(h, slog.Default())
		}
		require.Error(t, err, h)
		assert.NotContains(t, err.Error(), "s3cr", "a password in the engine URL stays out of errors")
	}
}

func TestReachAddress(t *testing.T) {
	routes := map[string]portRoute{
		"local":    {routeLocal, "127.0.0.1", "127.0.0.1"},
		"tcp":      {routeTCP, "10.200.0.1", "10.200.0.1"},
		"override": {routeOverride, "10.200.0.1", "engine.example"},
	}
	cases := []struct {
		route, hostIP, want, err string
	}{
		{"local", "127.0.0.1", "127.0.0.1:4000", ""},
		{"local", "0.0.0.0", "127.0.0.1:4000", ""},
		{"local", "", "127.0.0.1:4000", ""},
		{"local", "::", "[::1]:4000", ""},
		{"local", "192.168.1.5", "192.168.1.5:4000", ""}, // the spec named it
		{"tcp", "10.200.0.1", "10.200.0.1:4000", ""},
		{"tcp", "0.0.0.0", "10.200.0.1:4000", ""}, // WithAllInterfaces: reached where the engine is
		{"tcp", "::", "10.200.0.1:4000", ""},
		{"tcp", "127.0.0.1", "", "loopback address 127.0.0.1 of the engine host"},
		{"override", "10.200.0.1", "engine.example:4000", ""},
		{"override", "0.0.0.0", "engine.example:4000", ""},
	}
	for _, tc := range cases {
		t.Run(tc.route+"|"+tc.hostIP, func(t *testing.T) {
			c := &Client{ports: &routeState{route: routes[tc.route]}, addr: "tcp://10.200.0.1:2375"}
			got, err := c.reachAddress(context.Background(), tc.hostIP, "4000")
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorContains(t, err, tc.err)
				assert.ErrorIs(t, err, ErrUnavailable)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, routes[tc.route].bind, c.bindAddress(context.Background()))
		})
	}
}

func TestBindErrNamesTheWayOut(t *testing.T) {
	boom := &classified{msg: "start container: listen tcp 10.200.0.1:4000: bind: cannot assign requested address", class: ErrInvalid}
	c := &Client{ports: &routeState{route: portRoute{routeTCP, "10.200.0.1", "10.200.0.1"}}}
	err := c.bindErr(context.Background(), boom, true)
	assert.ErrorIs(t, err, ErrInvalid, "the engine's class is kept")
	assert.ErrorContains(t, err, "WithAllInterfaces")
	assert.ErrorContains(t, err, HostOverrideEnv)
	assert.Same(t, error(boom), c.bindErr(context.Background(), boom, false), "no ports, nothing to explain")
	local := &Client{ports: &routeState{route: portRoute{routeLocal, "127.0.0.1", "127.0.0.1"}}}
	assert.Same(t, error(boom), local.bindErr(context.Background(), boom, true))
}

func TestBindMountHintsOnlyWhereTheEngineHostIsAnotherFileSystem(t *testing.T) {
	boom := &classified{msg: "create container: bind source path does not exist: /src", class: ErrInvalid}
	binds := []mount.Mount{{Type: mount.TypeBind, Source: "/src", Target: "/data"}}
	vols := []mount.Mount{{Type: mount.TypeVolume, Source: "data", Target: "/data"}}
	for _, k := range []routeKind{routeLocal, routeOverride, routeTCP, routeSSH, routeContainer} {
		t.Run(k.String(), func(t *testing.T) {
			var logs bytes.Buffer
			c := &Client{ports: &routeState{route: portRoute{kind: k}}, addr: "engine", logger: slog.New(slog.NewTextHandler(&logs, nil))}
			foreign := k == routeTCP || k == routeSSH || k == routeContainer
			err := c.bindMountErr(context.Background(), boom, binds)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Equal(t, foreign, strings.Contains(err.Error(), "bind mount source /src is a path on the engine host engine"), err.Error())
			assert.Same(t, error(boom), c.bindMountErr(context.Background(), boom, vols), "a volume is not a path")
			for i := 0; i < 3; i++ {
				c.warnRemoteBinds(context.Background(), vols)
				c.warnRemoteBinds(context.Background(), binds)
			}
			want := 0
			if foreign {
				want = 1
			}
			assert.Equal(t, want, strings.Count(logs.String(), "CopyTo"), logs.String())
		})
	}
}

// TestSkipBinding: hostPortOf prefers the IPv4 binding of a port but keeps
// an IPv6 one that is the route's bind address (a tcp:// engine reached
// over IPv6), so such a port is found.
func TestSkipBinding(t *testing.T) {
	cases := []struct {
		hostIP, bind string
		skip         bool
	}{
		{"0.0.0.0", "127.0.0.1", false},
		{"127.0.0.1", "127.0.0.1", false},
		{"", "127.0.0.1", false},
		{"::", "127.0.0.1", false},
		{"::1", "127.0.0.1", true},
		{"2001:db8::7", "10.200.0.1", true},
		{"2001:db8::7", "2001:db8::7", false},
		{"2001:db8:0::7", "2001:db8::7", false}, // the same address, spelled otherwise
		{"2001:db8::8", "2001:db8::7", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.skip, skipBinding(tc.hostIP, tc.bind), "binding %q, route bind %q", tc.hostIP, tc.bind)
	}
}

// TestContextUploadCountIsRaceFree: the count is written by the reader
// goroutine (http.Transport's) while the caller reads it (go test -race).
func TestContextUploadCountIsRaceFree(t *testing.T) {
	u := &contextUpload{r: bytes.NewReader(make([]byte, 1<<16))}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			if _, err := u.Read(buf); err != nil {
				return
			}
		}
	}()
	for seen := int64(0); seen < 1<<16; {
		select {
		case <-done:
			seen = 1 << 16
		default:
			seen = u.sent() // read while the goroutine writes
		}
	}
	<-done
	assert.Equal(t, int64(1<<16), u.sent())
}
