package dockhandtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// The initialised image holds its cluster as one tar file, seedTar, of
// the directory seedDir: a start extracts it into its data directory and
// runs PostgreSQL on dir/pgdata. One file because the engine's storage
// can be slow per file (fuse-overlayfs here): extracting the 28 MB tar
// took 54 ms where copying the cluster's 971 files took 540 ms, and
// running PostgreSQL on the cluster in the image's layer made every
// CREATE DATABASE copy files up through it (clones 3–6 times slower than
// on tmpfs).
//
// Everything of ours is under /dockhandtest, outside every directory the
// official images declare as a VOLUME (/var/lib/postgresql/data up to
// 17, /var/lib/postgresql from 18 on): what is written under a declared
// volume goes to the container's anonymous volume, which a commit leaves
// out. A server's data directory is tmpfsDir, a tmpfs of its own (a
// tmpfs on a directory the image has takes that directory's mode, 0700
// in the stand-in, but is owned by root, where the server runs as
// postgres), or, when durable, volumeDir: inside the volume both official
// layouts declare, as the image's own first start would keep it (with an
// image that declares neither, in the container's layer).
const (
	seedDir   = "/dockhandtest/pgdata"
	seedTar   = "/dockhandtest/pgdata.tar"
	tmpfsDir  = "/dockhandtest/run"
	volumeDir = "/var/lib/postgresql/data"
)

// WithInitdb starts each new PostgreSQL server the way its image's own
// first start does: the entrypoint runs initdb in an empty data
// directory (on tmpfs unless WithDurability), then the scripts in
// /docker-entrypoint-initdb.d, which takes about two seconds. The
// default starts from the initialised image instead (see NewPostgres),
// where initdb and those scripts ran once, when the image was made, with
// the image's environment then. Choose WithInitdb for an image that is
// not an official postgres image (or one whose entrypoint, a
// docker-entrypoint.sh, behaves differently), for first-start work that
// must run at every start, or to leave no image behind.
func WithInitdb() PostgresOption {
	return pgOpt(func(s *pgSettings) error { s.initdb = true; return nil })
}

// serverSpec returns the Spec NewPostgres starts for spec (a
// PostgresSpec): on the initialised image unless initdb, and, unless
// durable (spec has tmpfs mounts), with a tmpfs at every directory the
// image declares as a volume, so no data goes to an anonymous volume.
func serverSpec(ctx context.Context, c *lifecycle.Client, spec Spec, initdb bool) (Spec, error) {
	img, err := imageOf(ctx, c, spec.Image)
	if err != nil {
		return spec, err
	}
	if !initdb {
		if spec, err = initialisedSpec(ctx, c, spec, img); err != nil {
			return spec, err
		}
	}
	if len(spec.Tmpfs) > 0 { // not durable: no data on disk
		tmpfs := maps.Clone(spec.Tmpfs)
		for _, v := range img.Volumes {
			if _, ok := tmpfs[v]; !ok {
				tmpfs[v] = "rw"
			}
		}
		spec.Tmpfs = tmpfs
	}
	return spec, nil
}

// initialisedSpec returns spec on the initialised image of img (spec's
// image), making the image first if no run has.
func initialisedSpec(ctx context.Context, c *lifecycle.Client, spec Spec, img *lifecycle.Image) (Spec, error) {
	if len(spec.Cmd) == 0 || spec.Cmd[0] != "postgres" {
		return spec, fmt.Errorf("%w: initialised image of %s: command %q: want postgres and its flags", lifecycle.ErrInvalid, spec.Image, spec.Cmd)
	}
	if err := canInitialise(spec.Image, img); err != nil {
		return spec, err
	}
	ref, err := initialisedImage(ctx, c, spec, img)
	if err != nil {
		return spec, err
	}
	// The image's entrypoint is not run: its first-start work is done,
	// and its ownership checks and change of user took most of a start.
	out := spec
	out.Image = ref
	dir := volumeDir
	if len(spec.Tmpfs) > 0 { // not durable: the cluster in memory
		dir = tmpfsDir
		out.Tmpfs = maps.Clone(spec.Tmpfs)
		out.Tmpfs[tmpfsDir] = "rw,mode=1777"
	}
	out.Env = append(append([]string{}, spec.Env...), "PGDATA="+dir+"/pgdata")
	out.User = "postgres"
	// A restart of a durable server keeps its cluster: only a data
	// directory without one gets the seed.
	// The seed is extracted beside and renamed into place: a durable
	// server killed while it extracted does not restart on half a
	// cluster.
	out.Entrypoint = []string{"sh", "-c", `set -e; mkdir -p ` + dir + `; cd ` + dir + `; if [ ! -d pgdata ]; then ` +
		`rm -rf .seed; mkdir .seed; tar -xf ` + seedTar + ` -C .seed; mv .seed/pgdata pgdata; rmdir .seed; fi; exec postgres -D ` + dir + `/pgdata "$@"`, "sh"}
	out.Cmd = append([]string{"-c", "listen_addresses=*"}, spec.Cmd[1:]...)
	return out, nil
}

// canInitialise rejects an image the initialised image cannot be made
// of: one without the official images' entrypoint (which runs initdb in
// PGDATA), or one that declares a volume where the seed is written.
func canInitialise(ref string, img *lifecycle.Image) error {
	const ourDir = "/dockhandtest"
	if len(img.Entrypoint) == 0 || path.Base(img.Entrypoint[0]) != "docker-entrypoint.sh" {
		return fmt.Errorf("%w: image %s: entrypoint %q: the initialised image is made by the official postgres images' docker-entrypoint.sh; use WithInitdb for this image", lifecycle.ErrInvalid, ref, img.Entrypoint)
	}
	for _, v := range img.Volumes {
		if v = path.Clean(v); v == "/" || v == ourDir || strings.HasPrefix(ourDir, v+"/") || strings.HasPrefix(v, ourDir+"/") {
			return fmt.Errorf("%w: image %s declares the volume %s, where the initialised image's cluster would be written (%s) and lost; use WithInitdb for this image", lifecycle.ErrInvalid, ref, v, ourDir)
		}
	}
	return nil
}

// initialised holds this process's initialised images: each made (or
// found) once, by the first test that asks; others asking for the same
// one wait for it, and tests asking for other images do not.
var initialised struct {
	mu   sync.Mutex
	byID map[string]*making
}

type making struct {
	done chan struct{}
	ref  string
	err  error
}

// initialisedImage returns the reference of the initialised image of
// img (spec's image), making it if no run has.
func initialisedImage(ctx context.Context, c *lifecycle.Client, spec Spec, img *lifecycle.Image) (string, error) {
	id := img.ID + "\n" + strings.Join(spec.Env, "\n") + "\n" + testhook.InitialisedTag
	initialised.mu.Lock()
	if initialised.byID == nil {
		initialised.byID = map[string]*making{}
	}
	m, ok := initialised.byID[id]
	if !ok {
		m = &making{done: make(chan struct{})}
		initialised.byID[id] = m
	}
	initialised.mu.Unlock()
	if !ok {
		func() {
			defer close(m.done)
			m.ref = initialisedRef(img, spec)
			m.err = makeInitialised(ctx, c, spec, img, m.ref)
			if m.err != nil {
				initialised.mu.Lock()
				if initialised.byID[id] == m {
					delete(initialised.byID, id) // a later test may try again
				}
				initialised.mu.Unlock()
			}
		}()
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		return "", fmt.Errorf("initialised image of %s: %w", spec.Image, ctx.Err())
	}
	return m.ref, m.err
}

// initialisedRef is the reference of the initialised image of img and
// spec.Env: dockhandtest-initialised/postgres:<hash>.
func initialisedRef(img *lifecycle.Image, spec Spec) string {
	// initdbVersion is part of the hash: an image made with other initdb
	// settings or layout by an older version is not reused.
	seed := initdbVersion + "\n" + img.ID + "\n" + strings.Join(spec.Env, "\n")
	if testhook.InitialisedTag != "" {
		seed += "\n" + testhook.InitialisedTag
	}
	sum := sha256.Sum256([]byte(seed))
	return "dockhandtest-initialised/postgres:" + hex.EncodeToString(sum[:6])
}

// initdbVersion names the settings and layout makeInitialised makes
// (v4: the cluster as a tar file outside the image's volumes).
const initdbVersion = "v4 --wal-segsize=1 tar /dockhandtest"

// images caches this process's image lookups (Release forgets them: an
// image may be removed or replaced between uses).
var images struct {
	mu    sync.Mutex
	byRef map[string]*lifecycle.Image
}

// imageOf inspects the image ref, pulling it first if it is missing.
func imageOf(ctx context.Context, c *lifecycle.Client, ref string) (*lifecycle.Image, error) {
	images.mu.Lock()
	img, ok := images.byRef[ref]
	images.mu.Unlock()
	if ok {
		return img, nil
	}
	img, err := c.InspectImage(ctx, ref)
	if errors.Is(err, lifecycle.ErrNotFound) {
		if perr := c.Pull(ctx, ref); perr != nil {
			return nil, fmt.Errorf("image %s: %w", ref, perr)
		}
		img, err = c.InspectImage(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	images.mu.Lock()
	if images.byRef == nil {
		images.byRef = map[string]*lifecycle.Image{}
	}
	images.byRef[ref] = img
	images.mu.Unlock()
	return img, nil
}

// committed, when not nil, learns the reference and the id of each
// image makeInitialised commits (for the tests).
var committed func(ref, id string)

// makeInitialised makes the initialised image ref of img unless it
// exists: it initialises a cluster in a container of img (the image's
// entrypoint runs initdb and the initdb.d scripts), stops it cleanly,
// packs the cluster into seedTar, and commits the container as ref.
//
// The engine is the lock, as for the servers: the maker container's name
// is derived from ref, so one process makes the image while others that
// need it wait for that container to go, then use the image. A maker
// whose process is gone (killed while it made the image) is removed and
// the image made again.
func makeInitialised(ctx context.Context, c *lifecycle.Client, spec Spec, img *lifecycle.Image, ref string) error {
	_, tag, _ := strings.Cut(ref, ":")
	name := "dockhandtest-initialising-" + tag
	for {
		if _, err := c.InspectImage(ctx, ref); err == nil {
			return nil // made, by this process or another
		} else if !errors.Is(err, lifecycle.ErrNotFound) {
			return fmt.Errorf("initialise %s from %s: %w", ref, spec.Image, err)
		}
		err := initialise(ctx, c, spec, img, ref, name)
		if !errors.Is(err, lifecycle.ErrConflict) {
			return err
		}
		// Another process makes it: wait until its maker is gone.
		if err := waitMaker(ctx, c, name); err != nil {
			return fmt.Errorf("initialise %s from %s: waiting for %s: %w", ref, spec.Image, name, err)
		}
	}
}

// waitMaker waits until the container name is gone, removing it if the
// process that made it is gone.
func waitMaker(ctx context.Context, c *lifecycle.Client, name string) error {
	for {
		ct, err := c.Container(ctx, name)
		if errors.Is(err, lifecycle.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if gone, err := c.OwnerGone(ctx, ct.ID()); err != nil {
			return err
		} else if gone {
			if err := ct.Remove(ctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes()); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
				return err
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// initialise runs the maker container name (an error wrapping
// ErrConflict if another process runs it) and commits it as ref.
func initialise(ctx context.Context, c *lifecycle.Client, spec Spec, img *lifecycle.Image, ref, name string) error {
	env := append(append([]string{}, spec.Env...), "PGDATA="+seedDir)
	if !slices.ContainsFunc(spec.Env, func(e string) bool { return strings.HasPrefix(e, "POSTGRES_INITDB_ARGS=") }) {
		// 1 MB WAL segments: the cluster every start extracts is 23 MB
		// instead of 39 MB (the 16 MB segment was 40% of it).
		env = append(env, "POSTGRES_INITDB_ARGS=--wal-segsize=1")
	}
	// The shell runs the image's entrypoint (initdb, the initdb.d
	// scripts, then the server) as a child; the stop signal (SIGINT for
	// the postgres images, or SIGTERM) makes it shut the server down
	// (fast: SIGINT). Once the server is gone, and only if it shut down
	// cleanly, it packs the cluster and removes the directory, so the
	// committed layer holds only the tar.
	script := `trap 'kill -INT "$pid"' INT TERM; "$@" & pid=$!; wait "$pid"; wait "$pid"; set -e; ` +
		`pg_controldata ` + seedDir + ` | grep -q 'state: *shut down$'; ` +
		`cd ` + path.Dir(seedDir) + `; tar -cf ` + seedTar + ` ` + path.Base(seedDir) + `; rm -rf ` + seedDir
	// Root, whatever the image's user: only root can make /dockhandtest,
	// and the entrypoint changes to postgres itself.
	ct, err := c.Run(ctx, img.ID, lifecycle.WithName(name), lifecycle.WithUser("0"), lifecycle.WithEnv(env...),
		lifecycle.WithEntrypoint("sh", "-c", script, "sh"), lifecycle.WithCmd(append(slices.Clone(img.Entrypoint), "postgres")...))
	if errors.Is(err, lifecycle.ErrConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("initialise %s from %s: %w", ref, spec.Image, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = ct.Remove(rctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes())
	}()
	fail := func(err error) error {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		lines, _ := ct.LastLogLines(lctx, 20)
		return fmt.Errorf("initialise %s from %s (WithInitdb starts without it): %w\nlast log lines:\n%s", ref, spec.Image, err, strings.Join(lines, "\n"))
	}
	// The setup server listens on no TCP address: TCP answers once the
	// cluster is initialised and the real server runs.
	w := waitfor.Waiter{Timeout: 2 * time.Minute, MaxInterval: 50 * time.Millisecond}
	if err := w.Wait(ctx, ct.ExecSucceeds("pg_isready", "-q", "-h", "127.0.0.1")); err != nil {
		return fail(err)
	}
	if err := ct.Stop(ctx, lifecycle.WithGracePeriod(time.Minute)); err != nil {
		return fail(err)
	}
	if st, err := ct.State(ctx); err != nil {
		return fail(err)
	} else if st.ExitCode != 0 {
		return fail(fmt.Errorf("packing the cluster exited with code %d (not shut down cleanly, or tar failed)", st.ExitCode))
	}
	id, err := ct.Commit(ctx, ref)
	if err != nil {
		return fmt.Errorf("initialise %s from %s: %w", ref, spec.Image, err)
	}
	if committed != nil {
		committed(ref, id)
	}
	return nil
}
