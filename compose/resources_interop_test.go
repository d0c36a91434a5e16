package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// resourcesProject writes a stack whose networks and volume carry the
// settings that reach their config hash, among them ipam.options, which
// compose v2.40 leaves out of its hash and v5 keeps.
func resourcesProject(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  app:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "86400"]
    init: true
    networks: [front, back, pool]
    volumes: [data:/data]
networks:
  front:
    driver_opts:
      com.docker.network.driver.mtu: "1400"
    labels: {dev.example.tier: front}
    attachable: true
  back:
    internal: true
    ipam:
      config:
        - subnet: 10.231.8.0/24
      options:
        dev.example.pool: back
  pool:
    ipam:
      options:
        dev.example.pool: only
volumes:
  data:
    labels: {dev.example.keep: "yes"}
    driver_opts: {type: tmpfs, device: tmpfs, o: size=1m}
`), 0o644))
	return dir
}

// ipamOptions are the IPAM options the engine keeps for the project's
// network key.
func ipamOptions(t *testing.T, c *lifecycle.Client, project, key string) map[string]string {
	t.Helper()
	n, err := c.API().NetworkInspect(context.Background(), project+"_"+key, network.InspectOptions{})
	require.NoError(t, err)
	return n.IPAM.Options
}

// projectNetworks maps the project's networks (by compose key) to their
// ids, and returns the config-hash labels of the networks and volumes.
func projectNetworks(t *testing.T, c *lifecycle.Client, project string) (ids, hashes map[string]string) {
	t.Helper()
	ctx := context.Background()
	ids, hashes = map[string]string{}, map[string]string{}
	nets, err := c.Networks(ctx, lifecycle.WithFilter("label", LabelProject+"="+project))
	require.NoError(t, err)
	for _, n := range nets {
		ids[n.Labels[LabelNetwork]] = n.ID
		hashes["network "+n.Labels[LabelNetwork]] = n.Labels[LabelConfigHash]
	}
	vols, err := c.Volumes(ctx, lifecycle.WithFilter("label", LabelProject+"="+project))
	require.NoError(t, err)
	for _, v := range vols {
		hashes["volume "+v.Labels[LabelVolume]] = v.Labels[LabelConfigHash]
	}
	return ids, hashes
}

// TestNetworksAndVolumesKeptAcrossComposeCLIs checks, for each docker
// compose release, that the config hashes of networks and volumes let each
// side keep the other's: Up keeps the networks and volume v5 made, and
// those v2.40 made except the networks whose ipam.options v2.40 dropped
// (its hash leaves them out: Up accepts it only for a network that has
// the options, and recreates these with them); the CLI keeps those Up
// made, except that v2.40 recreates the networks with ipam.options, whose
// hash Up writes as v5 does. Up creates a network whose ipam has options only with those
// options, as v5 does (v2.40 drops them). A release that is not installed is skipped with the reason, and
// fails the test under CI=true.
func TestNetworksAndVolumesKeptAcrossComposeCLIs(t *testing.T) {
	releases := composeReleases()
	c := testbench.Client(t)
	env := stackEnv(t, c, false)
	dir := resourcesProject(t)
	for _, rel := range releases {
		t.Run("v"+rel.version, func(t *testing.T) {
			if rel.missing != "" {
				testbench.Unavailable(t, "compose CLI v%s: %s", rel.version, rel.missing)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			name := projectName(c, "reshash"+strings.SplitN(rel.version, ".", 2)[0])
			p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(env...))
			require.NoError(t, err)
			s := New(c, p)
			t.Cleanup(func() {
				_ = s.Down(context.Background(), WithRemoveVolumes(), WithGracePeriod(time.Second))
				noProjectLeft(t, c, name)
			})
			back := p.Networks["back"]
			v5, err := networkHash(back)
			require.NoError(t, err)
			legacy, err := legacyNetworkHash(back)
			require.NoError(t, err)
			require.NotEqual(t, v5, legacy, "the releases hash back differently (ipam.options)")

			// The CLI's resources: Up keeps them all.
			rel.run(t, dir, name, env, "up", "-d")
			cliIDs, cliHashes := projectNetworks(t, c, name)
			require.Len(t, cliHashes, 4, "front, back, pool and data: %v", cliHashes)
			if rel.version == LegacyComposeVersion {
				assert.Equal(t, legacy, cliHashes["network back"])
				assert.Empty(t, ipamOptions(t, c, name, "pool"), "v2.40 drops ipam.options without ipam.config")
			} else {
				assert.Equal(t, v5, cliHashes["network back"])
				assert.Equal(t, map[string]string{"dev.example.pool": "only"}, ipamOptions(t, c, name, "pool"))
			}
			require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)), "Up keeps a volume of the same configuration (else ErrConflict)")
			ids, hashes := projectNetworks(t, c, name)
			if rel.version == LegacyComposeVersion {
				// v2.40 made back and pool without the ipam.options the
				// file asks for: its hash counts only for a network that
				// has them, so Up recreates those two, with the options
				// and v5's hash, and keeps front.
				assert.Equal(t, cliIDs["front"], ids["front"], "Up kept front")
				assert.Equal(t, cliHashes["network front"], hashes["network front"])
				for _, key := range []string{"back", "pool"} {
					assert.NotEqual(t, cliIDs[key], ids[key], "Up recreates %s, which lacks its ipam.options", key)
					assert.Equal(t, mustHash(t, networkHash, p.Networks[key]), hashes["network "+key], "with v5's hash")
				}
				assert.Equal(t, map[string]string{"dev.example.pool": "only"}, ipamOptions(t, c, name, "pool"), "and the options")
				assert.Equal(t, map[string]string{"dev.example.pool": "back"}, ipamOptions(t, c, name, "back"), "and the options")
				assert.Equal(t, cliHashes["volume data"], hashes["volume data"], "Up kept the volume's label")
			} else {
				assert.Equal(t, cliIDs, ids, "Up recreated a network compose v%s made", rel.version)
				assert.Equal(t, cliHashes, hashes, "Up rewrote no label")
			}

			// Up's resources: the CLI keeps them, but v2.40 recreates back.
			require.NoError(t, s.Down(ctx, WithRemoveVolumes(), WithGracePeriod(time.Second)))
			require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
			ourIDs, ourHashes := projectNetworks(t, c, name)
			assert.Equal(t, v5, ourHashes["network back"], "Up writes v5's hash")
			assert.Equal(t, map[string]string{"dev.example.pool": "only"}, ipamOptions(t, c, name, "pool"), "as v5 does")
			rel.run(t, dir, name, env, "up", "-d")
			ids, _ = projectNetworks(t, c, name)
			assert.Equal(t, ourIDs["front"], ids["front"], "compose v%s kept front", rel.version)
			for _, key := range []string{"back", "pool"} {
				if rel.version == LegacyComposeVersion {
					assert.NotEqual(t, ourIDs[key], ids[key], "compose v2.40 recreates %s: its hash leaves out ipam.options", key)
				} else {
					assert.Equal(t, ourIDs[key], ids[key], "compose v%s kept %s", rel.version, key)
				}
			}
			_, hashes = projectNetworks(t, c, name)
			assert.Equal(t, ourHashes["volume data"], hashes["volume data"], "the volume is kept: both releases hash it alike")
			rel.run(t, dir, name, env, "down", "-v", "-t", "1")
			noProjectLeft(t, c, name)
		})
	}
}

// TestUpRecreatesLegacyNetworkWithoutIPAMOptions checks against the engine
// that Up accepts compose v2.40's config hash of a network (which leaves
// ipam.options out) only when the network has the options the file asks
// for: a network made as v2.40 makes it, without them, is recreated with
// them and v5's hash, while one that has them is kept with its label.
func TestUpRecreatesLegacyNetworkWithoutIPAMOptions(t *testing.T) {
	c := testbench.Client(t)
	env := stackEnv(t, c, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  app:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "86400"]
    init: true
    networks: [lacking, having]
networks:
  lacking:
    ipam:
      options:
        dev.example.pool: lacking
  having:
    ipam:
      options:
        dev.example.pool: having
`), 0o644))
	name := projectName(c, "legacynet")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(env...))
	require.NoError(t, err)
	s := New(c, p)
	t.Cleanup(func() {
		_ = s.Down(context.Background(), WithGracePeriod(time.Second))
		noProjectLeft(t, c, name)
	})

	// The networks as compose v2.40 leaves them: its hash and version
	// labels; "having" with the file's IPAM options (as if made with
	// them), "lacking" without (as v2.40 creates it).
	legacyIDs := map[string]string{}
	for _, key := range []string{"lacking", "having"} {
		nw := p.Networks[key]
		legacy, err := legacyNetworkHash(nw)
		require.NoError(t, err)
		require.NotEqual(t, mustHash(t, networkHash, nw), legacy, "v2.40 hashes %s differently", key)
		labels := map[string]string{LabelProject: name, LabelNetwork: key, LabelVersion: LegacyComposeVersion, LabelConfigHash: legacy}
		opts := []lifecycle.NetworkOption{lifecycle.WithLabels(labels)}
		if key == "having" {
			opts = append(opts, lifecycle.WithNetworkConfig(func(req *network.CreateOptions) {
				req.IPAM = &network.IPAM{Options: map[string]string{"dev.example.pool": "having"}}
			}))
		}
		n, err := c.CreateNetwork(ctx, name+"_"+key, opts...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.RemoveNetwork(context.Background(), n.ID) })
		legacyIDs[key] = n.ID
	}
	assert.Empty(t, ipamOptions(t, c, name, "lacking"))
	assert.Equal(t, map[string]string{"dev.example.pool": "having"}, ipamOptions(t, c, name, "having"))

	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	ids, hashes := projectNetworks(t, c, name)
	assert.Equal(t, legacyIDs["having"], ids["having"], "Up keeps the v2.40 network that has the file's IPAM options")
	assert.Equal(t, mustHash(t, legacyNetworkHash, p.Networks["having"]), hashes["network having"], "and its label")
	assert.NotEqual(t, legacyIDs["lacking"], ids["lacking"], "Up recreates the v2.40 network that lacks the file's IPAM options")
	assert.Equal(t, map[string]string{"dev.example.pool": "lacking"}, ipamOptions(t, c, name, "lacking"), "with them")
	assert.Equal(t, mustHash(t, networkHash, p.Networks["lacking"]), hashes["network lacking"], "and v5's hash")

	// The service is on both networks.
	ps, err := s.Ps(ctx)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	nets, err := c.Networks(ctx, lifecycle.WithFilter("label", LabelProject+"="+name))
	require.NoError(t, err)
	require.Len(t, nets, 2)
	for _, n := range nets {
		cts, err := c.Containers(ctx, lifecycle.WithFilter("network", n.ID))
		require.NoError(t, err)
		assert.Len(t, cts, 1, "the app container is on %s", n.Name)
	}
	// Up again keeps both as they are now.
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	again, _ := projectNetworks(t, c, name)
	assert.Equal(t, ids, again, "a second Up keeps both networks")
}
