package compose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// cliImage is one entry of docker compose images --format json.
type cliImage struct {
	ID, ContainerName, Repository, Tag, Platform string
	Size                                         int64
	Created                                      *time.Time
}

// TestImages checks Images on a stack Up started, with replicas, a
// stopped container and a built image, and that both docker compose
// releases list the same containers, ids, repositories, tags, platforms
// and sizes.
func TestImages(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+bb+"\nRUN echo built > /built\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: `+bb+`
    command: ["sleep", "86400"]
    init: true
    scale: 2
  job:
    image: `+bb+`
    command: ["true"]
  built:
    build: .
    command: ["sleep", "86400"]
    init: true
`), 0o644))
	name := projectName(c, "images")
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	job := mustHandle(t, c, name+"-job-1")
	_, err = job.Wait(ctx)
	require.NoError(t, err)

	imgs, err := s.Images(ctx)
	require.NoError(t, err)
	bbImg, err := c.InspectImage(ctx, bb)
	require.NoError(t, err)
	builtImg, err := c.InspectImage(ctx, name+"-built")
	require.NoError(t, err)
	bbRepo, bbTag, _ := strings.Cut(bb, ":")
	var got []string
	for _, im := range imgs {
		got = append(got, im.ContainerName+" "+im.Service)
		want := bbImg
		if im.Service == "built" {
			want = builtImg
			assert.Equal(t, name+"-built", im.Repository)
			assert.Equal(t, "latest", im.Tag)
		} else {
			assert.Equal(t, bbRepo, im.Repository, im.ContainerName)
			assert.Equal(t, bbTag, im.Tag, im.ContainerName)
		}
		assert.Equal(t, want.ID, im.ImageID, im.ContainerName)
		assert.Equal(t, want.Size, im.Size, im.ContainerName)
		assert.Equal(t, "linux/", im.Platform[:6], im.ContainerName)
		assert.False(t, im.Created.IsZero(), im.ContainerName)
	}
	assert.Equal(t, []string{name + "-built-1 built", name + "-job-1 job", name + "-web-1 web", name + "-web-2 web"}, got,
		"every container, the stopped one too, by container name")
	assert.NotEqual(t, bbImg.ID, builtImg.ID)

	webOnly, err := s.Images(ctx, WithServices("web"))
	require.NoError(t, err)
	require.Len(t, webOnly, 2)
	assert.Equal(t, imgs[2:], webOnly)
	_, err = s.Images(ctx, WithServices("nope"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nope"`)
	_, err = s.Images(ctx, nil)
	require.ErrorIs(t, err, lifecycle.ErrInvalid)

	for _, rel := range composeReleases() {
		t.Run("v"+rel.version, func(t *testing.T) {
			if rel.missing != "" {
				testbench.Unavailable(t, "compose CLI v%s: %s", rel.version, rel.missing)
			}
			out := rel.run(t, dir, name, nil, "images", "--format", "json")
			var cli []cliImage
			require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &cli), out)
			sort.Slice(cli, func(i, j int) bool { return cli[i].ContainerName < cli[j].ContainerName })
			require.Len(t, cli, len(imgs), out)
			for i, im := range imgs {
				assert.Equal(t, cliImage{ID: im.ImageID, ContainerName: im.ContainerName, Repository: im.Repository, Tag: im.Tag,
					Platform: im.Platform, Size: im.Size}, cliImage{ID: cli[i].ID, ContainerName: cli[i].ContainerName,
					Repository: cli[i].Repository, Tag: cli[i].Tag, Platform: cli[i].Platform, Size: cli[i].Size})
				if cli[i].Created != nil { // v5 only
					assert.True(t, im.Created.Equal(*cli[i].Created), "%s: created %v, CLI %v", im.ContainerName, im.Created, *cli[i].Created)
				}
			}
		})
	}
}
