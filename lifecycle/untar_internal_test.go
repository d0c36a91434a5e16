package lifecycle

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type entry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
	pax        map[string]string
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body)), PAXRecords: e.pax}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if e.pax != nil {
			h.Format = tar.FormatPAX
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return &buf
}

func reg(name, body string) entry { return entry{name: name, typ: tar.TypeReg, body: body} }
func sym(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }

// TestUntarSafeRefuses feeds archives an untrusted image could produce and
// checks that each is refused (ErrInvalid) and that nothing is written
// beside the destination.
func TestUntarSafeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
	}{
		{"dot-dot name", []entry{reg("../evil", "x")}},
		{"dot-dot inside name", []entry{dir("a"), reg("a/../../evil", "x")}},
		{"absolute name", []entry{reg("/evil", "x")}},
		{"absolute symlink", []entry{sym("l", "/etc/passwd")}},
		{"symlink out by dot-dot", []entry{dir("a"), sym("a/l", "../../evil")}},
		{"symlink dot-dot after a name", []entry{sym("d", "."), sym("l", "d/..")}},
		{"file through a symlink to outside", []entry{sym("s", "."), reg("s/f", "x")}},
		{"file under a symlink inside", []entry{dir("d"), sym("s", "d"), reg("s/f", "x")}},
		{"hard link to outside", []entry{{name: "h", typ: tar.TypeLink, link: "../evil"}}},
		{"hard link to absolute", []entry{{name: "h", typ: tar.TypeLink, link: "/etc/passwd"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dst := filepath.Join(base, "dst")
			err := untarSafe(tarOf(t, tc.entries...), dst, nil)
			assert.ErrorIs(t, err, ErrInvalid)
			left, rerr := os.ReadDir(base)
			require.NoError(t, rerr)
			if assert.Len(t, left, 1, "nothing beside dst") {
				assert.Equal(t, "dst", left[0].Name())
			}
			_, serr := os.Lstat("/evil")
			assert.ErrorIs(t, serr, fs.ErrNotExist)
		})
	}
}

func TestUntarSafeKeepsOrdinaryTrees(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "dst")
	var skipped []string
	err := untarSafe(tarOf(t,
		dir("d"),
		reg("d/f", "hello"),
		sym("d/rel", "f"),
		sym("d/up", "../d/f"),
		entry{name: "d/hard", typ: tar.TypeLink, link: "d/f"},
		reg("nodir/g", "implicit parent"),
		entry{name: "suid", typ: tar.TypeReg, mode: 0o4755 | 0o2000, body: "#!/bin/sh"},
		entry{name: "sticky", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "dev", typ: tar.TypeChar, mode: 0o666},
		entry{name: "blk", typ: tar.TypeBlock, mode: 0o666},
		entry{name: "fifo", typ: tar.TypeFifo, mode: 0o644},
		entry{name: "x", typ: tar.TypeReg, body: "with xattr", pax: map[string]string{"SCHILY.xattr.user.evil": "1"}},
		sym("replaced", "d/f"),
		reg("replaced", "new"),
	), dst, func(name string, _ byte) { skipped = append(skipped, name) })
	require.NoError(t, err)

	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dst, p))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "hello", read("d/f"))
	assert.Equal(t, "hello", read("d/rel"))
	assert.Equal(t, "hello", read("d/up"))
	assert.Equal(t, "hello", read("d/hard"))
	assert.Equal(t, "implicit parent", read("nodir/g"))
	assert.Equal(t, "new", read("replaced"))
	assert.Equal(t, "hello", read("d/f"), "the replaced link's target is untouched")
	fi, err := os.Lstat(filepath.Join(dst, "replaced"))
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular())

	fi, err = os.Stat(filepath.Join(dst, "suid"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), fi.Mode(), "setuid and setgid bits dropped")
	fi, err = os.Stat(filepath.Join(dst, "sticky"))
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|0o777, fi.Mode(), "sticky bit dropped")

	assert.ElementsMatch(t, []string{"dev", "blk", "fifo"}, skipped)
	for _, n := range []string{"dev", "blk", "fifo"} {
		_, err := os.Lstat(filepath.Join(dst, n))
		assert.ErrorIs(t, err, fs.ErrNotExist, n)
	}
	sz, err := xattrListSize(filepath.Join(dst, "x"))
	if err == nil {
		assert.Zero(t, sz, "no extended attributes set")
	}
	assert.Equal(t, "with xattr", read("x"))
}
