package compose

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

// treeOf lists the files and directories under root with their modes and
// contents, relative to root, in walk order.
func treeOf(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s %v", rel, info.Mode())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += " " + string(data)
		}
		out = append(out, entry)
		return nil
	}))
	return out
}

// treeIn lists dir in replica n of the service as treeOf does, with
// owners, through exec.
func treeIn(t *testing.T, s *Stack, service string, n int, dir string) string {
	t.Helper()
	res, err := s.ExecIndex(context.Background(), service, n, []string{"sh", "-c",
		`cd "$1" && find . | sort | while read -r f; do stat -c '%n %A %u:%g %s' "$f"; [ -f "$f" ] && cat "$f"; done`, "sh", dir})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s", res.Stderr)
	return string(res.Stdout)
}

func TestCopyToFrom(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: ${BUSYBOX_IMAGE}
    command: ["sleep", "86400"]
    init: true
    scale: 2
`), 0o644))
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "d", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "d", "top.txt"), []byte("top\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "d", "sub", "secret"), []byte("hi\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(src, "file.txt"), []byte("one file\n"), 0o640))
	name := projectName(c, "cp")
	env := stackEnv(t, c, false)
	p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithVariables(env...))
	require.NoError(t, err)
	s := New(c, p)
	downAtEnd(t, s)
	require.NoError(t, s.Up(ctx, WithGracePeriod(time.Second)))
	replica := func(n int) *lifecycle.Container { return mustHandle(t, c, fmt.Sprintf("%s-web-%d", name, n)) }

	// A directory into every replica.
	require.NoError(t, s.CopyTo(ctx, "web", filepath.Join(src, "d"), "/tmp"))
	for _, n := range []int{1, 2} {
		data, err := replica(n).ReadFile(ctx, "/tmp/d/sub/secret")
		require.NoError(t, err, "web-%d", n)
		assert.Equal(t, "hi\n", string(data), "web-%d", n)
	}
	// A file into replica 2 only.
	require.NoError(t, s.CopyTo(ctx, "web", filepath.Join(src, "file.txt"), "/tmp", WithIndex(2)))
	data, err := replica(2).ReadFile(ctx, "/tmp/file.txt")
	require.NoError(t, err)
	assert.Equal(t, "one file\n", string(data))
	_, err = replica(1).ReadFile(ctx, "/tmp/file.txt")
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "WithIndex(2) copies into web-2 only")

	// Round trips: the directory from the first replica, the file from the second.
	out := t.TempDir()
	require.NoError(t, s.CopyFrom(ctx, "web", "/tmp/d", out))
	assert.Equal(t, treeOf(t, filepath.Join(src, "d")), treeOf(t, filepath.Join(out, "d")))
	require.NoError(t, s.CopyFrom(ctx, "web", "/tmp/file.txt", out, WithIndex(2)))
	data, err = os.ReadFile(filepath.Join(out, "file.txt"))
	require.NoError(t, err)
	assert.Equal(t, "one file\n", string(data))
	err = s.CopyFrom(ctx, "web", "/tmp/file.txt", t.TempDir())
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "the first replica has no /tmp/file.txt")

	// Missing service or replica, bad input.
	err = s.CopyTo(ctx, "nope", src, "/tmp")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nope"`)
	err = s.CopyFrom(ctx, "web", "/tmp/d", out, WithIndex(3))
	require.ErrorIs(t, err, lifecycle.ErrNotFound)
	assert.Contains(t, err.Error(), `service "web" has no container number 3`)
	require.ErrorIs(t, s.CopyTo(ctx, "web", src, "/tmp", WithIndex(0)), lifecycle.ErrInvalid)
	err = s.CopyTo(ctx, "web", filepath.Join(dir, "missing"), "/tmp")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), filepath.Join(dir, "missing"))
	err = s.CopyTo(ctx, "web", src, "tmp")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	assert.Contains(t, err.Error(), `"tmp"`)
	require.ErrorIs(t, s.CopyFrom(ctx, "web", "/tmp/d", ""), lifecycle.ErrInvalid)
	require.ErrorIs(t, s.CopyFrom(ctx, "", "/tmp/d", out), lifecycle.ErrInvalid)

	// A one-off (Run) container gets the copy only WithOneOffs (cp --all),
	// and Images lists it (as the CLI's, which lists every container of
	// the project).
	runDone := make(chan error, 1)
	go func() { _, err := s.Run(ctx, "web", []string{"sleep", "120"}); runDone <- err }()
	var oneOff lifecycle.Summary
	require.Eventually(t, func() bool {
		cts, err := c.Containers(ctx, lifecycle.WithFilter("label", LabelProject+"="+name), lifecycle.WithFilter("label", LabelOneoff+"=True"))
		require.NoError(t, err)
		if len(cts) == 1 && cts[0].State == "running" {
			oneOff = cts[0]
			return true
		}
		return false
	}, time.Minute, 100*time.Millisecond)
	require.NoError(t, s.CopyTo(ctx, "web", filepath.Join(src, "file.txt"), "/"))
	_, err = oneOff.Container().ReadFile(ctx, "/file.txt")
	require.ErrorIs(t, err, lifecycle.ErrNotFound, "without WithOneOffs, not into the one-off container")
	require.NoError(t, s.CopyTo(ctx, "web", filepath.Join(src, "file.txt"), "/", WithOneOffs()))
	data, err = oneOff.Container().ReadFile(ctx, "/file.txt")
	require.NoError(t, err)
	assert.Equal(t, "one file\n", string(data))
	imgs, err := s.Images(ctx)
	require.NoError(t, err)
	var names []string
	for _, im := range imgs {
		names = append(names, im.ContainerName)
	}
	assert.Equal(t, []string{name + "-web-1", name + "-web-2", oneOff.Name}, names)
	require.NoError(t, oneOff.Container().Kill(ctx))
	require.NoError(t, <-runDone)

	// The same copies with docker compose cp give the same trees.
	for _, rel := range composeReleases() {
		t.Run("v"+rel.version, func(t *testing.T) {
			if rel.missing != "" {
				testbench.Unavailable(t, "compose CLI v%s: %s", rel.version, rel.missing)
			}
			tag := strings.ReplaceAll(rel.version, ".", "")
			// Into the service: every replica, as CopyTo.
			cliDir, libDir := "/tmp/cli"+tag, "/tmp/lib"+tag
			for _, n := range []int{1, 2} {
				_, err := s.ExecIndex(ctx, "web", n, []string{"mkdir", cliDir, libDir})
				require.NoError(t, err)
			}
			rel.run(t, dir, name, env, "cp", "src/d", "web:"+cliDir)
			require.NoError(t, s.CopyTo(ctx, "web", filepath.Join(src, "d"), libDir))
			for _, n := range []int{1, 2} {
				lib := treeIn(t, s, "web", n, libDir)
				assert.Contains(t, lib, "./d/sub/secret -rw------- 0:0 3\nhi\n")
				assert.Equal(t, treeIn(t, s, "web", n, cliDir), lib, "web-%d", n)
			}
			// Out of the service, into an existing directory.
			cliOut, libOut := t.TempDir(), t.TempDir()
			rel.run(t, dir, name, env, "cp", "web:/tmp/d", cliOut)
			require.NoError(t, s.CopyFrom(ctx, "web", "/tmp/d", libOut))
			assert.Equal(t, treeOf(t, cliOut), treeOf(t, libOut))
			rel.run(t, dir, name, env, "cp", "--index", "2", "web:/tmp/file.txt", cliOut)
			require.NoError(t, s.CopyFrom(ctx, "web", "/tmp/file.txt", libOut, WithIndex(2)))
			assert.Equal(t, treeOf(t, cliOut), treeOf(t, libOut))
			assert.Len(t, treeOf(t, libOut), 6, "., d, d/sub, d/sub/secret, d/top.txt, file.txt")
		})
	}
}

// TestImagesAndCopyNameDisabledService checks that Images, CopyTo and
// CopyFrom take a service its profile disables in the stack's project
// when it is named, as docker compose images svc and cp svc:... do (they
// look only at the project's containers): its containers, started by an
// Up with the profile enabled, are listed and copied to and from. A name
// that is no service at all is still an ErrInvalid error.
func TestImagesAndCopyNameDisabledService(t *testing.T) {
	c := testbench.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bb := testbench.BusyboxImage(t, c)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`services:
  web:
    image: `+bb+`
    command: ["sleep", "86400"]
    init: true
  tool:
    image: `+bb+`
    command: ["sleep", "86400"]
    init: true
    profiles: [tools]
`), 0o644))
	name := projectName(c, "cpprofile")
	load := func(profiles ...string) *Stack {
		p, err := Load(ctx, WithWorkingDir(dir), WithProjectName(name), WithProfiles(profiles...))
		require.NoError(t, err)
		return New(c, p)
	}
	withTools, s := load("tools"), load()
	require.Contains(t, s.Project().DisabledServices, "tool")
	t.Cleanup(func() {
		assert.NoError(t, withTools.Down(context.Background(), WithGracePeriod(time.Second)))
		noProjectLeft(t, c, name)
	})
	require.NoError(t, withTools.Up(ctx, WithGracePeriod(time.Second)))

	imgs, err := s.Images(ctx, WithServices("tool"))
	require.NoError(t, err, "images of a service its profile disables")
	require.Len(t, imgs, 1)
	assert.Equal(t, name+"-tool-1", imgs[0].ContainerName)
	assert.Equal(t, "tool", imgs[0].Service)
	bbImg, err := c.InspectImage(ctx, bb)
	require.NoError(t, err)
	assert.Equal(t, bbImg.ID, imgs[0].ImageID)
	assert.Equal(t, strings.TrimPrefix(bbImg.ID, "sha256:")[:12], imgs[0].ShortID(), "the CLI's IMAGE ID column")

	src := filepath.Join(t.TempDir(), "note.txt")
	require.NoError(t, os.WriteFile(src, []byte("to the tool\n"), 0o644))
	require.NoError(t, s.CopyTo(ctx, "tool", src, "/tmp"), "cp into a service its profile disables")
	res, err := withTools.Exec(ctx, "tool", []string{"cat", "/tmp/note.txt"})
	require.NoError(t, err)
	assert.Equal(t, "to the tool\n", string(res.Stdout))
	out := t.TempDir()
	require.NoError(t, s.CopyFrom(ctx, "tool", "/tmp/note.txt", out, WithIndex(1)), "cp from a service its profile disables")
	got, err := os.ReadFile(filepath.Join(out, "note.txt"))
	require.NoError(t, err)
	assert.Equal(t, "to the tool\n", string(got))

	// Still bad input: a name that is no service, before any engine call.
	for _, err := range []error{
		func() error { _, err := s.Images(ctx, WithServices("nope")); return err }(),
		s.CopyTo(ctx, "nope", src, "/tmp"),
		s.CopyFrom(ctx, "nope", "/tmp/note.txt", out),
	} {
		require.ErrorIs(t, err, lifecycle.ErrInvalid)
		assert.Contains(t, err.Error(), `no such service: "nope" (services: tool, web)`)
	}
}
