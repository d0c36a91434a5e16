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
// side keep the other's: Up keeps the networks and volume the CLI made
// (v2.40's hash of a network with ipam.options is not v5's, and Up
// accepts both), and the CLI keeps those Up made, except that v2.40
// recreates the networks with ipam.options, whose hash Up writes as v5
// does. Up creates a network whose ipam has options only with those
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
			assert.Equal(t, cliIDs, ids, "Up recreated a network compose v%s made", rel.version)
			assert.Equal(t, cliHashes, hashes, "Up rewrote no label")

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
