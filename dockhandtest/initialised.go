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
// the directory seedDir: a start extracts it into runDir (tmpfs unless
// durable) and runs PostgreSQL on runDir/pgdata. One file because the
// engine's storage can be slow per file (fuse-overlayfs here): extracting
// the 28 MB tar took 54 ms where copying the cluster's 971 files took
// 540 ms, and running PostgreSQL on the cluster in the image's layer made
// every CREATE DATABASE copy files up through it (clones 3–6 times
// slower than on tmpfs).
const (
	seedDir = "/var/lib/postgresql/pgdata"
	seedTar = "/var/lib/postgresql/pgdata.tar"
	runDir  = "/var/lib/postgresql/run"
)

// WithInitdb starts each new PostgreSQL server the way its image's own
// first start does: the entrypoint runs initdb in an empty data
// directory (on tmpfs unless WithDurability), which takes about two
// seconds. The default starts from the initialised image instead (see
// NewPostgres): choose WithInitdb for an image whose entrypoint does more
// at first start than initdb (a /docker-entrypoint-initdb.d script, say),
// or to leave no image behind.
func WithInitdb() PostgresOption {
	return pgOpt(func(s *pgSettings) error { s.initdb = true; return nil })
}

// initialisedSpec returns spec on the initialised image of spec.Image,
// making the image first if no run has.
func initialisedSpec(ctx context.Context, c *lifecycle.Client, spec Spec) (Spec, error) {
	initialised.mu.Lock() // one maker per process; the image once per process
	defer initialised.mu.Unlock()
	id := spec.Image + "\n" + strings.Join(spec.Env, "\n") + "\n" + testhook.InitialisedTag
	ref, ok := initialised.refs[id]
	if !ok {
		var err error
		if ref, err = initialisedImage(ctx, c, spec); err != nil {
			return spec, err
		}
		if initialised.refs == nil {
			initialised.refs = map[string]string{}
		}
		initialised.refs[id] = ref
	}
	// The image's entrypoint is not run: its first-start work is done,
	// and its ownership checks and change of user took most of a start.
	if len(spec.Cmd) == 0 || spec.Cmd[0] != "postgres" {
		return spec, fmt.Errorf("%w: initialised image of %s: command %q: want postgres and its flags", lifecycle.ErrInvalid, spec.Image, spec.Cmd)
	}
	out := spec
	out.Image = ref
	out.Env = append(append([]string{}, spec.Env...), "PGDATA="+runDir+"/pgdata")
	out.User = "postgres"
	// A restart of a durable server (no tmpfs) keeps its cluster: only an
	// empty run directory gets the seed.
	out.Entrypoint = []string{"sh", "-c", `set -e; mkdir -p ` + runDir + `; [ -s ` + runDir + `/pgdata/PG_VERSION ] || tar -xf ` + seedTar + ` -C ` + runDir + `; exec postgres -D ` + runDir + `/pgdata "$@"`, "sh"}
	out.Cmd = append([]string{"-c", "listen_addresses=*"}, spec.Cmd[1:]...)
	if len(spec.Tmpfs) > 0 { // not durable: the cluster in memory
		out.Tmpfs = maps.Clone(spec.Tmpfs)
		out.Tmpfs[runDir] = "rw,mode=1777"
	}
	return out, nil
}

var initialised struct {
	mu   sync.Mutex
	refs map[string]string
}

// initialisedImage returns the reference of the initialised image of
// spec.Image, making it if no run has.
func initialisedImage(ctx context.Context, c *lifecycle.Client, spec Spec) (string, error) {
	ref, err := initialisedRef(ctx, c, spec)
	if err != nil {
		return "", err
	}
	if _, err := c.InspectImage(ctx, ref); errors.Is(err, lifecycle.ErrNotFound) {
		if err := makeInitialised(ctx, c, spec, ref); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	return ref, nil
}

// initialisedRef is the reference of the initialised image of spec.Image
// and spec.Env: dockhandtest-initialised/postgres:<hash>.
func initialisedRef(ctx context.Context, c *lifecycle.Client, spec Spec) (string, error) {
	img, err := c.InspectImage(ctx, spec.Image)
	if errors.Is(err, lifecycle.ErrNotFound) {
		if perr := c.Pull(ctx, spec.Image); perr != nil {
			return "", fmt.Errorf("image %s: %w", spec.Image, perr)
		}
		img, err = c.InspectImage(ctx, spec.Image)
	}
	if err != nil {
		return "", err
	}
	// initdbVersion is part of the hash: an image made with other initdb
	// settings by an older version is not reused.
	seed := initdbVersion + "\n" + img.ID + "\n" + strings.Join(spec.Env, "\n")
	if testhook.InitialisedTag != "" {
		seed += "\n" + testhook.InitialisedTag
	}
	sum := sha256.Sum256([]byte(seed))
	return "dockhandtest-initialised/postgres:" + hex.EncodeToString(sum[:6]), nil
}

// initdbVersion names the settings and layout makeInitialised makes
// (v3: the cluster as a tar file).
const initdbVersion = "v3 --wal-segsize=1 tar"

// makeInitialised initialises a cluster in a container of spec.Image
// (the image's entrypoint runs initdb), stops it cleanly, packs the
// cluster into seedTar, and commits the container as ref.
func makeInitialised(ctx context.Context, c *lifecycle.Client, spec Spec, ref string) error {
	env := append(append([]string{}, spec.Env...), "PGDATA="+seedDir)
	if !slices.ContainsFunc(spec.Env, func(e string) bool { return strings.HasPrefix(e, "POSTGRES_INITDB_ARGS=") }) {
		// 1 MB WAL segments: the cluster every start extracts is 23 MB
		// instead of 39 MB (the 16 MB segment was 40% of it).
		env = append(env, "POSTGRES_INITDB_ARGS=--wal-segsize=1")
	}
	// The shell runs the entrypoint (initdb, then the server) as a child;
	// the stop signal (SIGINT for the postgres images, or SIGTERM) makes
	// it shut the server down (fast: SIGINT), and
	// once the server is gone it packs the cluster and removes the
	// directory, so the committed layer holds only the tar.
	script := `trap 'kill -INT "$pid"' INT TERM; docker-entrypoint.sh postgres & pid=$!; ` +
		`wait "$pid"; wait "$pid"; set -e; cd ` + path.Dir(seedDir) + `; tar -cf ` + seedTar + ` ` + path.Base(seedDir) + `; rm -rf ` + seedDir
	ct, err := c.Run(ctx, spec.Image, lifecycle.WithEnv(env...),
		lifecycle.WithEntrypoint("sh", "-c", script, "sh"), lifecycle.WithCmd("postgres"))
	if err != nil {
		return err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = ct.Remove(rctx, lifecycle.WithForce(), lifecycle.WithRemoveVolumes())
	}()
	// The setup server listens on no TCP address: TCP answers once the
	// cluster is initialised and the real server runs.
	w := waitfor.Waiter{Timeout: 2 * time.Minute, MaxInterval: 50 * time.Millisecond}
	if err := w.Wait(ctx, ct.ExecSucceeds("pg_isready", "-q", "-h", "127.0.0.1")); err != nil {
		lines, _ := ct.LastLogLines(ctx, 20)
		return fmt.Errorf("initialise %s: %w\nlast log lines:\n%s", ref, err, strings.Join(lines, "\n"))
	}
	if err := ct.Stop(ctx, lifecycle.WithGracePeriod(time.Minute)); err != nil {
		return err
	}
	if st, err := ct.State(ctx); err != nil {
		return err
	} else if st.ExitCode != 0 {
		lines, _ := ct.LastLogLines(ctx, 20)
		return fmt.Errorf("initialise %s: packing the cluster exited with code %d\nlast log lines:\n%s", ref, st.ExitCode, strings.Join(lines, "\n"))
	}
	// Another process may have made the image while this one
	// initialised: use theirs rather than displace it (a displaced image
	// would stay, untagged and unlabelled, forever).
	if _, err := c.InspectImage(ctx, ref); err == nil {
		return nil
	} else if !errors.Is(err, lifecycle.ErrNotFound) {
		return err
	}
	_, err = ct.Commit(ctx, ref)
	return err
}
