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
	if err := ct.valid("write file"); err != nil {
		return err
	}
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
	if err := ct.c.api.CopyToContainer(ctx, ct.id, path.Dir(name), &buf, container.CopyToContainerOptions{}); err != nil {
		return ct.c.opErr(err, "write %s in %s", name, ct)
	}
	return nil
}

// DefaultMaxSize is how many bytes ReadFile reads, and Exec captures of
// each output stream, unless WithMaxSize says otherwise.
const DefaultMaxSize = 32 << 20

// WithMaxSize sets how many bytes ReadFile reads (a larger file is an
// ErrTooLarge error) and Exec captures of each of stdout and stderr in its
// ExecResult (the rest is dropped and ExecResult.Truncated set). The
// default is DefaultMaxSize.
func WithMaxSize(n int64) MaxSizeOption {
	check := func() error {
		if n <= 0 {
			return invalidf("invalid size limit %d: want > 0 bytes", n)
		}
		return nil
	}
	return &option{name: "WithMaxSize",
		readFile: func(s *readFileSettings) error { s.maxSize = n; return check() },
		exec:     func(s *execSettings) error { s.maxSize = n; return check() }}
}

// sizeLimit is n, or DefaultMaxSize when n is 0.
func sizeLimit(n int64) int64 {
	if n > 0 {
		return n
	}
	return DefaultMaxSize
}

// ReadFile reads the file name from the container (as os.ReadFile). A
// file larger than DefaultMaxSize (or WithMaxSize) is not read: the error
// (ErrTooLarge) names the file, its size and the limit.
func (ct *Container) ReadFile(ctx context.Context, name string, opts ...ReadFileOption) ([]byte, error) {
	if err := ct.valid("read file"); err != nil {
		return nil, err
	}
	s, err := applyOpts("ReadFile", opts, ReadFileOption.applyReadFile)
	if err != nil {
		return nil, err
	}
	limit := sizeLimit(s.maxSize)
	rc, st, err := ct.c.api.CopyFromContainer(ctx, ct.id, name)
	if err != nil {
		return nil, ct.c.opErr(err, "read %s in %s", name, ct)
	}
	defer rc.Close()
	if st.Mode.IsDir() {
		return nil, invalidf("read %s in %s: is a directory (use CopyFrom)", name, ct)
	}
	tooLarge := func(size int64) error {
		return &classified{class: ErrTooLarge, msg: fmt.Sprintf(
			"read %s in %s: the file is %d bytes, over the limit of %d bytes (raise it with WithMaxSize)", name, ct, size, limit)}
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", name, ct, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > limit {
			return nil, tooLarge(h.Size)
		}
		data, err := io.ReadAll(io.LimitReader(tr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", name, ct, err)
		}
		if int64(len(data)) > limit {
			return nil, tooLarge(h.Size)
		}
		return data, nil
	}
}

// CopyTo copies the host file or directory src into the container's
// directory dst (docker cp SRC CONTAINER:DST, dst must exist).
func (ct *Container) CopyTo(ctx context.Context, src, dst string) error {
	if err := ct.valid("copy to"); err != nil {
		return err
	}
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
	if err := ct.c.api.CopyToContainer(ctx, ct.id, dst, rc, container.CopyToContainerOptions{}); err != nil {
		return ct.c.opErr(err, "copy %s to %s:%s", src, ct, dst)
	}
	return nil
}

// WithSpecialFiles makes CopyFrom keep what it drops by default from an
// archive that an untrusted image controls: setuid, setgid and sticky
// bits, device nodes, fifos, extended attributes, and symbolic links that
// point outside the destination (absolute ones included). The archive is
// then unpacked as docker cp does (which still refuses entries that would
// be written outside dst). Device nodes need the privileges to create them.
func WithSpecialFiles() CopyFromOption {
	return &option{name: "WithSpecialFiles", copyFrom: func(s *copyFromSettings) error { s.keepSpecial = true; return nil }}
}

// CopyFrom copies the container's file or directory src into the host
// directory dst (docker cp CONTAINER:SRC DST), creating dst if needed.
//
// Images under test are not trusted, so by default it writes nothing
// outside dst and nothing a host could be attacked with: an entry whose
// name leaves dst ("../x", "/x"), lies under a symbolic link, or is a
// symbolic link pointing outside dst (an absolute one, "../../etc") fails
// the copy with ErrInvalid; setuid, setgid and sticky bits are cleared;
// device nodes and fifos are skipped; extended attributes and owners are
// not set. WithSpecialFiles keeps them.
func (ct *Container) CopyFrom(ctx context.Context, src, dst string, opts ...CopyFromOption) error {
	if err := ct.valid("copy from"); err != nil {
		return err
	}
	s, err := applyOpts("CopyFrom", opts, CopyFromOption.applyCopyFrom)
	if err != nil {
		return err
	}
	rc, _, err := ct.c.api.CopyFromContainer(ctx, ct.id, src)
	if err != nil {
		return ct.c.opErr(err, "copy %s:%s", ct, src)
	}
	defer rc.Close()
	if s.keepSpecial {
		if err = os.MkdirAll(dst, 0o755); err == nil {
			err = archive.Untar(rc, dst, &archive.TarOptions{NoLchown: true})
		}
	} else {
		err = untarSafe(rc, dst, func(name string, typ byte) {
			ct.c.logger.Debug("copy from container: special file skipped", "container", ct.String(), "entry", name, "type", string(typ))
		})
	}
	if err != nil {
		return fmt.Errorf("copy %s:%s to %s: %w", ct, src, dst, err)
	}
	return nil
}
