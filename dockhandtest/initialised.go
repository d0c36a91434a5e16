package dockhandtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// initialisedDir is where the data directory lives in an initialised
// image: not the image's VOLUME, so a commit keeps it.
const initialisedDir = "/var/lib/postgresql/initialised"

// WithInitialisedImage starts PostgreSQL from an image whose data
// directory is already initialised, so a first start does not run
// initdb: the image is made once per image and environment (a container
// initialises a cluster, stops, and is committed as
// dockhandtest-initialised/postgres:<hash>) and kept for later runs; it
// carries no ownership, so remove it yourself (docker rmi) when it is no
// longer wanted. At start the cluster is copied to the data directory
// (tmpfs by default).
func WithInitialisedImage() PostgresOption {
	return pgOpt(func(s *pgSettings) error { s.initialised = true; return nil })
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
	out := spec
	out.Image = ref
	out.Env = append(append([]string{}, spec.Env...), "PGDATA=/var/lib/postgresql/data")
	const script = `set -e; mkdir -p "$PGDATA"; cp -a ` + initialisedDir + `/. "$PGDATA"/; chown postgres:postgres "$PGDATA"; chmod 700 "$PGDATA"; exec docker-entrypoint.sh "$@"`
	out.Cmd = append([]string{"bash", "-c", script, "bash"}, spec.Cmd...)
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

// initdbVersion names the settings makeInitialised initialises with.
const initdbVersion = "v2 --wal-segsize=1"

// makeInitialised initialises a cluster in a container of spec.Image,
// stops it cleanly and commits it as ref.
func makeInitialised(ctx context.Context, c *lifecycle.Client, spec Spec, ref string) error {
	env := append(append([]string{}, spec.Env...), "PGDATA="+initialisedDir)
	if !slices.ContainsFunc(spec.Env, func(e string) bool { return strings.HasPrefix(e, "POSTGRES_INITDB_ARGS=") }) {
		// 1 MB WAL segments: the cluster every start copies to tmpfs
		// is 23 MB instead of 39 MB (the 16 MB segment was 40% of it).
		env = append(env, "POSTGRES_INITDB_ARGS=--wal-segsize=1")
	}
	ct, err := c.Run(ctx, spec.Image, lifecycle.WithEnv(env...),
		lifecycle.WithCmd("postgres"))
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
	if err := ct.Stop(ctx); err != nil { // the image's stop signal: a clean shutdown
		return err
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
