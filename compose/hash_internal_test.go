package compose

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readGoldenHashes reads a hashes.golden file: "service hash" per line,
// # comments.
func readGoldenHashes(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		svc, hash, ok := strings.Cut(line, " ")
		require.True(t, ok, "%s: malformed line %q", path, line)
		require.Len(t, hash, 64, "%s: %s: not a SHA-256 in hex", path, svc)
		_, dup := out[svc]
		require.False(t, dup, "%s: service %s listed twice", path, svc)
		out[svc] = hash
	}
	require.NoError(t, sc.Err())
	return out
}

// TestServiceHashMatchesComposeCLIGolden pins the hashes to the
// com.docker.compose.config-hash labels each docker compose release wrote
// on the containers of each shape in testdata/hash (see generate.sh
// there): ServiceHash is v5's (what Up writes), legacyServiceHash v2.40's,
// and configUnchanged accepts both, so Up keeps a container either CLI
// made and each CLI keeps Up's (v5 checks its own hash). Pure: no engine.
func TestServiceHashMatchesComposeCLIGolden(t *testing.T) {
	releases := []struct {
		version string
		hash    func(types.ServiceConfig) (string, error)
	}{
		{ComposeVersion, ServiceHash},
		{LegacyComposeVersion, legacyServiceHash},
	}
	for _, rel := range releases {
		shapes, err := filepath.Glob("testdata/hash/*/hashes-v" + rel.version + ".golden")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(shapes), 6, "golden shapes of v%s in testdata/hash", rel.version)
		for _, golden := range shapes {
			dir := filepath.Dir(golden)
			t.Run("v"+rel.version+"/"+filepath.Base(dir), func(t *testing.T) {
				want := readGoldenHashes(t, golden)
				p, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName("dhhash-golden"), WithoutOSEnv())
				require.NoError(t, err)
				require.Len(t, p.Services, len(want), "every service of %s has a golden hash", dir)
				for name, svc := range p.Services {
					got, err := rel.hash(svc)
					require.NoError(t, err)
					assert.Equal(t, want[name], got, "v%s config hash of service %s in %s", rel.version, name, dir)
					current, err := ServiceHash(svc)
					require.NoError(t, err)
					assert.True(t, configUnchanged(want[name], svc, current), "v%s label of %s counts as unchanged", rel.version, name)
				}
			})
		}
	}
}

// TestConfigUnchangedRejectsOtherHashes pins that only the two releases'
// hashes of this very service count as unchanged.
func TestConfigUnchangedRejectsOtherHashes(t *testing.T) {
	p, err := Load(context.Background(), WithWorkingDir("testdata/hash/volumes"), WithProjectName("dhhash-other"), WithoutOSEnv())
	require.NoError(t, err)
	store, reader := p.Services["store"], p.Services["reader"]
	h, err := ServiceHash(store)
	require.NoError(t, err)
	legacy, err := legacyServiceHash(store)
	require.NoError(t, err)
	require.NotEqual(t, h, legacy, "the volumes shape is one where the two releases differ (create_host_path)")
	other, err := legacyServiceHash(reader)
	require.NoError(t, err)
	assert.False(t, configUnchanged(other, store, h), "another service's hash")
	assert.False(t, configUnchanged("", store, h), "no label")
	assert.True(t, configUnchanged(legacy, store, h))
}

// TestServiceHashDoesNotDependOnProjectName pins that the hash is the
// service's alone: the golden values were produced under another project
// name than the test loads them with.
func TestServiceHashDoesNotDependOnProjectName(t *testing.T) {
	load := func(name string) string {
		p, err := Load(context.Background(), WithWorkingDir("testdata/hash/health"), WithProjectName(name), WithoutOSEnv())
		require.NoError(t, err)
		h, err := ServiceHash(p.Services["db"])
		require.NoError(t, err)
		return h
	}
	assert.Equal(t, load("one"), load("two"))
}

// TestServiceHashFieldsThatChangeIt pins which edits make Up recreate a
// container (a different hash) and which the hash ignores, as the CLI's
// does (build, pull_policy, scale, deploy.replicas, depends_on, profiles).
func TestServiceHashFieldsThatChangeIt(t *testing.T) {
	fresh := func() types.ServiceConfig {
		p, err := Load(context.Background(), WithWorkingDir("testdata/hash/command"), WithProjectName("dhhash-fields"), WithoutOSEnv())
		require.NoError(t, err)
		return p.Services["redis"]
	}
	base, err := ServiceHash(fresh())
	require.NoError(t, err)
	two := 2
	cases := []struct {
		name    string
		edit    func(s *types.ServiceConfig)
		changes bool
	}{
		{"command", func(s *types.ServiceConfig) { s.Command = types.ShellCommand{"1"} }, true},
		{"entrypoint", func(s *types.ServiceConfig) { s.Entrypoint = types.ShellCommand{"sh"} }, true},
		{"image", func(s *types.ServiceConfig) { s.Image = "dockhand.test/busybox:2" }, true},
		{"environment", func(s *types.ServiceConfig) { v := "1"; s.Environment = types.MappingWithEquals{"A": &v} }, true},
		{"label", func(s *types.ServiceConfig) { s.Labels = types.Labels{"other": "x"} }, true},
		{"port", func(s *types.ServiceConfig) {
			s.Ports = append(s.Ports, types.ServicePortConfig{Target: 80, Protocol: "tcp"})
		}, true},
		{"restart", func(s *types.ServiceConfig) { s.Restart = "always" }, true},
		{"scale", func(s *types.ServiceConfig) { s.Scale = &two }, false},
		{"deploy.replicas", func(s *types.ServiceConfig) {
			s.Deploy = &types.DeployConfig{Replicas: &two, Resources: s.Deploy.Resources}
		}, false},
		{"deploy.resources", func(s *types.ServiceConfig) {
			s.Deploy = &types.DeployConfig{Resources: types.Resources{Limits: &types.Resource{MemoryBytes: 1 << 20}}}
		}, true},
		{"depends_on", func(s *types.ServiceConfig) {
			s.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionHealthy, Required: true}}
		}, false},
		{"profiles", func(s *types.ServiceConfig) { s.Profiles = []string{"debug"} }, false},
		{"pull_policy", func(s *types.ServiceConfig) { s.PullPolicy = types.PullPolicyAlways }, false},
		{"build", func(s *types.ServiceConfig) { s.Build = &types.BuildConfig{Context: "/src"} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fresh()
			tc.edit(&s)
			got, err := ServiceHash(s)
			require.NoError(t, err)
			if tc.changes {
				assert.NotEqual(t, base, got, "changing %s must change the hash (Up recreates)", tc.name)
			} else {
				assert.Equal(t, base, got, "changing %s must not change the hash", tc.name)
			}
		})
	}
}

// readGoldenResources reads a resources golden file: "network KEY HASH"
// and "volume KEY HASH" lines, # comments; it returns kind -> key -> hash.
func readGoldenResources(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]map[string]string{"network": {}, "volume": {}}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		require.Len(t, f, 3, "%s: malformed line %q", path, line)
		kind, key, hash := f[0], f[1], f[2]
		require.Contains(t, out, kind, "%s: %q: kind is network or volume", path, line)
		require.Len(t, hash, 64, "%s: %s %s: not a SHA-256 in hex", path, kind, key)
		_, dup := out[kind][key]
		require.False(t, dup, "%s: %s %s listed twice", path, kind, key)
		out[kind][key] = hash
	}
	return out
}

// TestResourceHashMatchesComposeCLIGolden pins the network and volume
// hashes to the com.docker.compose.config-hash labels each docker compose
// release wrote on the networks and volumes of each shape in testdata/hash
// (see generate.sh there; it brings each shape up as project
// dhhash-<shape>, and the hash covers the resource's name): networkHash and
// volumeHash are v5's (what Up writes), legacyNetworkHash v2.40's, and
// networkUnchanged accepts both, so Up keeps a network either CLI made.
// Every network and volume of the project is listed: a shape whose file
// Up would create more of fails. Pure: no engine.
func TestResourceHashMatchesComposeCLIGolden(t *testing.T) {
	releases := []struct {
		version string
		network func(types.NetworkConfig) (string, error)
	}{
		{ComposeVersion, networkHash},
		{LegacyComposeVersion, legacyNetworkHash},
	}
	for _, rel := range releases {
		goldens, err := filepath.Glob("testdata/hash/*/resources-v" + rel.version + ".golden")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(goldens), 8, "resource goldens of v%s in testdata/hash", rel.version)
		var networks, volumes int
		for _, golden := range goldens {
			dir := filepath.Dir(golden)
			t.Run("v"+rel.version+"/"+filepath.Base(dir), func(t *testing.T) {
				want := readGoldenResources(t, golden)
				p, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName("dhhash-"+filepath.Base(dir)), WithoutOSEnv())
				require.NoError(t, err)
				got := map[string]map[string]string{"network": {}, "volume": {}}
				for key, n := range p.Networks {
					if bool(n.External) {
						continue
					}
					h, err := rel.network(n)
					require.NoError(t, err)
					got["network"][key] = h
					current, err := networkHash(n)
					require.NoError(t, err)
					// The release's network as the engine keeps it: v2.40
					// creates it without ipam.options, so Up keeps it only
					// when the file asks for none.
					have := n.Ipam.Options
					if rel.version == LegacyComposeVersion {
						have = nil
					}
					assert.Equal(t, rel.version != LegacyComposeVersion || len(n.Ipam.Options) == 0,
						networkUnchanged(want["network"][key], n, current, have), "v%s label of network %s counts as unchanged (unless v2.40 dropped its ipam.options)", rel.version, key)
					assert.True(t, networkUnchanged(want["network"][key], n, current, n.Ipam.Options), "v%s label of network %s, with the file's ipam.options on the engine", rel.version, key)
				}
				for key, v := range p.Volumes {
					if bool(v.External) {
						continue
					}
					h, err := volumeHash(v)
					require.NoError(t, err)
					got["volume"][key] = h
				}
				assert.Equal(t, want, got, "v%s config hashes of the networks and volumes of %s", rel.version, dir)
				networks += len(want["network"])
				volumes += len(want["volume"])
			})
		}
		assert.GreaterOrEqual(t, networks, 10, "v%s: networks in the goldens", rel.version)
		assert.GreaterOrEqual(t, volumes, 7, "v%s: volumes in the goldens", rel.version)
	}
}

// TestNetworkUnchangedRejectsOtherHashes pins that only the two releases'
// hashes of this very network count as unchanged, that they differ where
// the releases differ (ipam.options, which v2.40 leaves out), and that
// v2.40's hash counts only when the network on the engine has the
// options the file asks for: v2.40 creates it without them.
func TestNetworkUnchangedRejectsOtherHashes(t *testing.T) {
	p, err := Load(context.Background(), WithWorkingDir("testdata/hash/networks"), WithProjectName("dhhash-networks"), WithoutOSEnv())
	require.NoError(t, err)
	back, front := p.Networks["back"], p.Networks["front"]
	opts := back.Ipam.Options
	require.Equal(t, types.Options{"dev.example.pool": "back"}, opts)
	h, err := networkHash(back)
	require.NoError(t, err)
	legacy, err := legacyNetworkHash(back)
	require.NoError(t, err)
	require.NotEqual(t, h, legacy, "back has ipam.options, which v2.40 does not hash")
	other, err := networkHash(front)
	require.NoError(t, err)
	assert.False(t, networkUnchanged(other, back, h, opts), "another network's hash")
	assert.False(t, networkUnchanged("", back, h, opts), "no label")
	assert.True(t, networkUnchanged(legacy, back, h, opts), "v2.40's hash of a network with the file's options")
	assert.False(t, networkUnchanged(legacy, back, h, nil), "v2.40's hash of a network without the options the file asks for")
	assert.False(t, networkUnchanged(legacy, back, h, map[string]string{"dev.example.pool": "other"}), "other options")
	assert.False(t, networkUnchanged(legacy, back, h, map[string]string{"dev.example.pool": "back", "more": "x"}), "more options")
	assert.True(t, networkUnchanged(h, back, h, opts))
	assert.True(t, networkUnchanged(h, back, h, nil), "v5's hash covers the options: the engine's are not compared")
	fh, err := networkHash(front)
	require.NoError(t, err)
	fl, err := legacyNetworkHash(front)
	require.NoError(t, err)
	assert.Equal(t, fh, fl, "without ipam.options both releases hash a network alike")
	assert.True(t, networkUnchanged(fl, front, fh, nil))
	assert.True(t, networkUnchanged(fl, front, fh, map[string]string{}), "no options and empty options are alike")

	// The name is part of the hash: the same network in another project
	// is another network.
	q, err := Load(context.Background(), WithWorkingDir("testdata/hash/networks"), WithProjectName("dhhash-other"), WithoutOSEnv())
	require.NoError(t, err)
	assert.False(t, networkUnchanged(h, q.Networks["back"], mustHash(t, networkHash, q.Networks["back"]), opts))
}

func mustHash[T any](t *testing.T, f func(T) (string, error), v T) string {
	t.Helper()
	h, err := f(v)
	require.NoError(t, err)
	return h
}
