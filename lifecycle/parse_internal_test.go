package lifecycle

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireInvalid checks err is an ErrInvalid that quotes the input.
func requireInvalid(t *testing.T, err error, input, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid, "bad input is classified as ErrInvalid")
	assert.Contains(t, err.Error(), strconv.Quote(input), "the error quotes the input")
	assert.Contains(t, err.Error(), want)
}

func TestParsePortsFillsDefaultHostAddressAndKeepsExplicitOnes(t *testing.T) {
	bind := func(ip, port string) nat.PortBinding { return nat.PortBinding{HostIP: ip, HostPort: port} }
	cases := []struct {
		spec, defaultIP string
		want            []nat.PortMapping
	}{
		{"80", "127.0.0.1", []nat.PortMapping{{Port: "80/tcp", Binding: bind("127.0.0.1", "")}}},
		{"80/udp", "127.0.0.1", []nat.PortMapping{{Port: "80/udp", Binding: bind("127.0.0.1", "")}}},
		{"80/sctp", "127.0.0.1", []nat.PortMapping{{Port: "80/sctp", Binding: bind("127.0.0.1", "")}}},
		{"8080:80", "127.0.0.1", []nat.PortMapping{{Port: "80/tcp", Binding: bind("127.0.0.1", "8080")}}},
		{"127.0.0.1::80", "10.0.0.1", []nat.PortMapping{{Port: "80/tcp", Binding: bind("127.0.0.1", "")}}},
		{"0.0.0.0:8080:80/udp", "127.0.0.1", []nat.PortMapping{{Port: "80/udp", Binding: bind("0.0.0.0", "8080")}}},
		{"[::1]:8080:80", "127.0.0.1", []nat.PortMapping{{Port: "80/tcp", Binding: bind("::1", "8080")}}},
		{"80", "", []nat.PortMapping{{Port: "80/tcp", Binding: bind("", "")}}},
		{"8000-8001:80-81", "127.0.0.1", []nat.PortMapping{
			{Port: "80/tcp", Binding: bind("127.0.0.1", "8000")},
			{Port: "81/tcp", Binding: bind("127.0.0.1", "8001")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.spec+"@"+tc.defaultIP, func(t *testing.T) {
			got, err := parsePorts(tc.spec, tc.defaultIP)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParsePortsRejectsBadSpecsQuotingThem(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"", "want [host-ip:]"},
		{"   ", "want [host-ip:]"},
		{"80/tcp/udp", "want [host-ip:]"},
		{"80/icmp", `unknown protocol "icmp"`},
		{"80:80:80", `host address "80" is not an IP address`},
		{"80:80:80:tcp", `is not an IP address`},
		{"localhost:8080:80", `host address "localhost" is not an IP address`},
		{"0", "container port must be 1-65535"},
		{"http", "want [host-ip:]"},
		{"70000", "want [host-ip:]"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parsePorts(tc.spec, "127.0.0.1")
			requireInvalid(t, err, tc.spec, tc.want)
		})
	}
}

func TestPortSetMergesBindingsOfOnePort(t *testing.T) {
	exposed, bindings, err := portSet([]string{"80", "8080:80", "53/udp"}, "127.0.0.1")
	require.NoError(t, err)
	assert.Equal(t, nat.PortSet{"80/tcp": {}, "53/udp": {}}, exposed)
	assert.Equal(t, nat.PortMap{
		"80/tcp": {{HostIP: "127.0.0.1"}, {HostIP: "127.0.0.1", HostPort: "8080"}},
		"53/udp": {{HostIP: "127.0.0.1"}},
	}, bindings)

	_, _, err = portSet([]string{"80", "nope"}, "127.0.0.1")
	requireInvalid(t, err, "nope", "invalid port spec")
}

func TestNormPortDefaultsToTCPAndChecksRange(t *testing.T) {
	good := map[string]nat.Port{"80": "80/tcp", "80/udp": "80/udp", "080": "80/tcp", "65535/sctp": "65535/sctp", "1/tcp": "1/tcp",
		"80/": "80/tcp", // as nat.SplitProtoPort reads it
	}
	for in, want := range good {
		got, err := normPort(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "65536", "-1", "x", "80/icmp", "80/tcp/udp"} {
		_, err := normPort(in)
		requireInvalid(t, err, in, "want port[/tcp|udp|sctp]")
	}
}

func TestParseVolumeTellsNamedVolumesFromBindMounts(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	cases := []struct {
		spec string
		want mount.Mount
	}{
		{"/data", mount.Mount{Type: mount.TypeVolume, Target: "/data"}},
		{"cache:/data", mount.Mount{Type: mount.TypeVolume, Source: "cache", Target: "/data"}},
		{"my_vol.1-x:/data:ro", mount.Mount{Type: mount.TypeVolume, Source: "my_vol.1-x", Target: "/data", ReadOnly: true}},
		{"cache:/data:readonly", mount.Mount{Type: mount.TypeVolume, Source: "cache", Target: "/data", ReadOnly: true}},
		{"cache:/data:rw", mount.Mount{Type: mount.TypeVolume, Source: "cache", Target: "/data"}},
		{"cache:/data:ro,z", mount.Mount{Type: mount.TypeVolume, Source: "cache", Target: "/data", ReadOnly: true}},
		{"cache:/data:", mount.Mount{Type: mount.TypeVolume, Source: "cache", Target: "/data"}},
		{"/srv/app:/app", mount.Mount{Type: mount.TypeBind, Source: "/srv/app", Target: "/app"}},
		{"/srv/x/../app/:/app:ro", mount.Mount{Type: mount.TypeBind, Source: "/srv/app", Target: "/app", ReadOnly: true}},
		{"./conf:/conf", mount.Mount{Type: mount.TypeBind, Source: filepath.Join(wd, "conf"), Target: "/conf"}},
		{"..:/up", mount.Mount{Type: mount.TypeBind, Source: filepath.Dir(wd), Target: "/up"}},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := parseVolume(tc.spec)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseVolumeRejectsBadSpecsQuotingThem(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"", "must be absolute"},
		{"data", `container path "data" must be absolute`},
		{"cache:data", `container path "data" must be absolute`},
		{":/data", "empty source"},
		{"cache:/data:rx", `unknown mode "rx"`},
		{"bad name:/data", `volume name "bad name" must match`},
		{"_cache:/data", `volume name "_cache" must match`},
		{"~/x:/data", `volume name "~/x" must match`},
		{"a:/b:ro:extra", "want name:/path[:ro]"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parseVolume(tc.spec)
			requireInvalid(t, err, tc.spec, tc.want)
		})
	}
}

func TestParseRestartAcceptsDockerRunPolicies(t *testing.T) {
	cases := []struct {
		in   string
		want container.RestartPolicy
	}{
		{"no", container.RestartPolicy{Name: container.RestartPolicyDisabled}},
		{"always", container.RestartPolicy{Name: container.RestartPolicyAlways}},
		{"unless-stopped", container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}},
		{"on-failure", container.RestartPolicy{Name: container.RestartPolicyOnFailure}},
		{"on-failure:0", container.RestartPolicy{Name: container.RestartPolicyOnFailure}},
		{"on-failure:5", container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 5}},
	}
	for _, tc := range cases {
		got, err := parseRestart(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseRestartRejectsBadPoliciesQuotingThem(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "want no, always"},
		{"sometimes", "want no, always"},
		{"Always", "want no, always"},
		{"always:3", "only on-failure takes a retry count"},
		{"no:1", "only on-failure takes a retry count"},
		{"on-failure:-1", `retry count "-1" must be a number >= 0`},
		{"on-failure:x", `retry count "x" must be a number >= 0`},
		{"on-failure:", `retry count "" must be a number >= 0`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := parseRestart(tc.in)
			requireInvalid(t, err, tc.in, tc.want)
		})
	}
}

func TestParseRefNormalisesAsTheCLIDoes(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := map[string]string{
		"busybox":                   "docker.io/library/busybox:latest",
		"postgres:17-alpine":        "docker.io/library/postgres:17-alpine",
		"someone/app:1":             "docker.io/someone/app:1",
		"localhost:5000/a/b":        "localhost:5000/a/b:latest",
		"127.0.0.1:5000/app:dev":    "127.0.0.1:5000/app:dev",
		"dockhand.test/busybox:1":   "dockhand.test/busybox:1",
		"busybox@" + digest:         "docker.io/library/busybox@" + digest,
		"ghcr.io/o/r:tag@" + digest: "ghcr.io/o/r:tag@" + digest,
	}
	for in, want := range cases {
		got, err := parseRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got.String(), in)
	}
	for _, in := range []string{"", "Busybox", "a b", "busybox:", "busybox@sha256:abc", ":tag"} {
		_, err := parseRef(in)
		requireInvalid(t, err, in, "want [registry/]name[:tag][@digest]")
		var c *classified
		require.True(t, errors.As(err, &c), in)
		assert.NotNil(t, c.cause, "%q: the parser's error is kept as the cause", in)
	}
}
