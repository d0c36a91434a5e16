package compose

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

// TestCopyToBadSourceWrapsCause checks that CopyTo's error for a source it
// cannot stat is ErrInvalid, names the source, and wraps the cause, so
// that errors.Is sees fs.ErrNotExist. Pure: it fails before any engine
// call (the stack has no client).
func TestCopyToBadSourceWrapsCause(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web:\n    image: busybox\n"), 0o644))
	p, err := Load(context.Background(), WithoutOSEnv(), WithWorkingDir(dir), WithProjectName("cpsrc"))
	require.NoError(t, err)
	missing := filepath.Join(dir, "missing")
	err = New(nil, p).CopyTo(context.Background(), "web", missing, "/tmp")
	require.ErrorIs(t, err, lifecycle.ErrInvalid)
	require.ErrorIs(t, err, fs.ErrNotExist, "the stat error is wrapped")
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, missing, pe.Path)
	assert.Contains(t, err.Error(), `compose cpsrc: CopyTo("web"): invalid source "`+missing+`": stat `+missing+`: no such file or directory`)
}
