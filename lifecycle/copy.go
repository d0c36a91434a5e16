package lifecycle

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/moby/go-archive"
)

// WriteFile writes data to the file name inside the container, creating
// or replacing it with permissions perm (as os.WriteFile). The directory
// must exist. It works on stopped containers and images without a shell.
func (ct *Container) WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	if !strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return invalidf("write file in %s: invalid path %q: want an absolute file path", ct, name)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path.Base(name), Mode: int64(perm.Perm()), Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := ct.c.api.CopyToContainer(ctx, ct.ID, path.Dir(name), &buf, container.CopyToContainerOptions{}); err != nil {
		return ct.c.opErr(err, "write %s in %s", name, ct)
	}
	return nil
}

// ReadFile reads the file name from the container (as os.ReadFile).
func (ct *Container) ReadFile(ctx context.Context, name string) ([]byte, error) {
	rc, st, err := ct.c.api.CopyFromContainer(ctx, ct.ID, name)
	if err != nil {
		return nil, ct.c.opErr(err, "read %s in %s", name, ct)
	}
	defer rc.Close()
	if st.Mode.IsDir() {
		return nil, invalidf("read %s in %s: is a directory (use CopyFrom)", name, ct)
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", name, ct, err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}

// CopyTo copies the host file or directory src into the container's
// directory dst (docker cp SRC CONTAINER:DST, dst must exist).
func (ct *Container) CopyTo(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return invalidf("copy to %s: invalid source %q: %v", ct, src, err)
	}
	if !strings.HasPrefix(dst, "/") {
		return invalidf("copy to %s: invalid destination %q: want an absolute directory path", ct, dst)
	}
	info, err := archive.CopyInfoSourcePath(src, false)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, ct, err)
	}
	rc, err := archive.TarResource(info)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, ct, err)
	}
	defer rc.Close()
	if err := ct.c.api.CopyToContainer(ctx, ct.ID, dst, rc, container.CopyToContainerOptions{}); err != nil {
		return ct.c.opErr(err, "copy %s to %s:%s", src, ct, dst)
	}
	return nil
}

// CopyFrom copies the container's file or directory src into the host
// directory dst (docker cp CONTAINER:SRC DST).
func (ct *Container) CopyFrom(ctx context.Context, src, dst string) error {
	rc, _, err := ct.c.api.CopyFromContainer(ctx, ct.ID, src)
	if err != nil {
		return ct.c.opErr(err, "copy %s:%s", ct, src)
	}
	defer rc.Close()
	if err := archive.Untar(rc, dst, &archive.TarOptions{NoLchown: true}); err != nil {
		return fmt.Errorf("copy %s:%s to %s: %w", ct, src, dst, err)
	}
	return nil
}
