package lifecycle

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// untarSafe unpacks a tar stream into the directory dst (created if
// missing) without trusting it: every write goes through an os.Root on
// dst, so nothing is written outside it; names that leave dst, entries
// under a symbolic link and symbolic links whose target leaves dst are
// refused (ErrInvalid); permission bits are kept but setuid, setgid and
// sticky bits are not; owners and extended attributes are not set; device
// nodes and fifos are skipped (skipped is told of each).
func untarSafe(r io.Reader, dst string, skipped func(name string, typ byte)) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name, err := entryName(h.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		if err := parentsAreDirs(root, name); err != nil {
			return err
		}
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		perm := fs.FileMode(h.Mode) & fs.ModePerm // no setuid, setgid, sticky
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			if err := root.Chmod(name, perm|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := removeNonDir(root, name); err != nil {
				return err
			}
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			// The umask may have narrowed it.
			if err := root.Chmod(name, perm); err != nil {
				return err
			}
			if !h.ModTime.IsZero() {
				_ = root.Chtimes(name, h.ModTime, h.ModTime)
			}
		case tar.TypeSymlink:
			if err := linkInside(name, h.Linkname); err != nil {
				return err
			}
			if err := removeNonDir(root, name); err != nil {
				return err
			}
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			target, err := entryName(h.Linkname)
			if err != nil || target == "." {
				return invalidf("archive entry %q: hard link to %q outside the destination", h.Name, h.Linkname)
			}
			if err := removeNonDir(root, name); err != nil {
				return err
			}
			if err := root.Link(target, name); err != nil {
				return err
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			if skipped != nil {
				skipped(name, h.Typeflag)
			}
		case tar.TypeXGlobalHeader:
		default:
			if skipped != nil {
				skipped(name, h.Typeflag)
			}
		}
	}
}

// entryName cleans an archive entry's name into a path relative to the
// destination, refusing one that leaves it.
func entryName(raw string) (string, error) {
	if strings.HasPrefix(raw, "/") {
		return "", invalidf("archive entry %q: absolute name, would be written outside the destination", raw)
	}
	name := path.Clean(raw)
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", invalidf("archive entry %q: would be written outside the destination", raw)
	}
	return name, nil
}

// parentsAreDirs refuses an entry whose parent directories, where they
// exist, are not directories: an archive made by the engine never puts an
// entry under a symbolic link, and one that does tries to redirect it.
func parentsAreDirs(root *os.Root, name string) error {
	dir := path.Dir(name)
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // created as a directory below
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return invalidf("archive entry %q: lies under %q, which is not a directory (%s)", name, p, fi.Mode().Type())
		}
	}
	return nil
}

// linkInside refuses a symbolic link at name whose target leaves the
// destination: an absolute target, too many "..", or a ".." after a name
// (which may itself be a link, so "..", read lexically, proves nothing).
func linkInside(name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") {
		return invalidf("archive entry %q: symbolic link to %q points outside the destination", name, target)
	}
	depth := strings.Count(name, "/") // directories above the link
	seenName := false
	for _, el := range strings.Split(target, "/") {
		switch el {
		case "", ".":
		case "..":
			if seenName {
				return invalidf("archive entry %q: symbolic link to %q: \"..\" after a name may leave the destination", name, target)
			}
			depth--
			if depth < 0 {
				return invalidf("archive entry %q: symbolic link to %q points outside the destination", name, target)
			}
		default:
			seenName = true
		}
	}
	return nil
}

// removeNonDir removes what is at name unless it is a directory, so that a
// later entry replaces an earlier one (as tar does) instead of writing
// through it if it is a link.
func removeNonDir(root *os.Root, name string) error {
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("archive entry %q: a directory is in the way", name)
	}
	return root.Remove(name)
}
