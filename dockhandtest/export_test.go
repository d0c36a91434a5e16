package dockhandtest

import (
	"context"
	"testing"

	"github.com/dockhand/dockhand/dockhandtest/internal/testhook"
	"github.com/dockhand/dockhand/lifecycle"
)

// KeyOf returns the key spec's server has (for the tests).
func KeyOf(t testing.TB, c *lifecycle.Client, spec Spec) string {
	t.Helper()
	k, err := makeKey(context.Background(), c, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// InitialisedRef returns the initialised image reference of spec with
// the testhook tag tag.
func InitialisedRef(t testing.TB, c *lifecycle.Client, spec Spec, tag string) string {
	t.Helper()
	saved := testhook.InitialisedTag
	testhook.InitialisedTag = tag
	defer func() { testhook.InitialisedTag = saved }()
	img, err := c.InspectImage(context.Background(), spec.Image)
	if err != nil {
		t.Fatal(err)
	}
	return initialisedRef(img, spec)
}

// StartErr is Start returning its error (for the tests).
func StartErr(ctx context.Context, c *lifecycle.Client, spec Spec) (*Server, error) {
	return start(ctx, c, spec)
}

// MakeInitialised makes the initialised image ref of spec, as a process
// that found no image does (for the tests).
func MakeInitialised(ctx context.Context, c *lifecycle.Client, spec Spec, ref string) error {
	img, err := c.InspectImage(ctx, spec.Image)
	if err != nil {
		return err
	}
	return makeInitialised(ctx, c, spec, img, ref)
}

// OnCommit makes f learn the temporary reference and id of every image
// the initialised image makers commit, until the test ends.
func OnCommit(t testing.TB, f func(tmp, id string)) {
	committed = f
	t.Cleanup(func() { committed = nil })
}

// ServerSpec is the Spec NewPostgres starts for spec: the one on its
// initialised image (made if missing), as without WithInitdb.
func ServerSpec(t testing.TB, c *lifecycle.Client, spec Spec) Spec {
	t.Helper()
	out, err := serverSpec(context.Background(), c, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ServerSpecErr is ServerSpec returning its error, with or without the
// initialised image.
func ServerSpecErr(ctx context.Context, c *lifecycle.Client, spec Spec, initdb bool) (Spec, error) {
	return serverSpec(ctx, c, spec, initdb)
}

// MariaDBTemplate finds or makes the template of version on srv through
// an admin pool of its own, as another process would, and returns its
// name (for the tests).
func MariaDBTemplate(ctx context.Context, srv *Server, version string, migrate func(context.Context, string) error) (string, error) {
	m, err := dialMaria(ctx, srv)
	if err != nil {
		return "", err
	}
	defer m.admin.Close()
	return m.template(ctx, dbSettings{version: version, migrate: migrate, hasMigrate: migrate != nil})
}

// MariaDBCopy copies the template of version on srv (made first if need
// be) to database name, through an admin pool of its own (for the tests).
func MariaDBCopy(ctx context.Context, srv *Server, version string, migrate func(context.Context, string) error, name string) error {
	m, err := dialMaria(ctx, srv)
	if err != nil {
		return err
	}
	defer m.admin.Close()
	tpl, err := m.template(ctx, dbSettings{version: version, migrate: migrate, hasMigrate: migrate != nil})
	if err != nil {
		return err
	}
	return m.clone(ctx, tpl, name)
}
